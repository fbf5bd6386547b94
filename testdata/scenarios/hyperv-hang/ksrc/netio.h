/* ntdbg scenario "hyperv-hang", kernel side: NETIO.SYS's NSI interface as
 * nsiproxy.sys and NDIS.SYS use it. The structures are this miniature's own
 * (the real ones are not public); NETIO.SYS calls a provider's function
 * through its dispatch table, as the real NSI does. */
#ifndef NTDBG_NETIO_H
#define NTDBG_NETIO_H
#include "kernel.h"

/* ---- NETIO.SYS ---- */
#ifdef NT_BUILDING_NETIO
#define NETIOAPI EXPORT
#else
#define NETIOAPI IMPORT
#endif
/* An NSI provider: the module that answers for one NPI (NDIS answers for
 * the interface objects). The dispatch table is the provider's own. */
typedef NTSTATUS NSI_GET_ALL_PARAMETERS(PVOID ProviderContext, ULONG ObjectIndex, PVOID Request);
typedef struct _NSI_PROVIDER_DISPATCH {
    ULONG Version;
    ULONG ObjectCount;
    NSI_GET_ALL_PARAMETERS *GetAllParameters;
    NSI_GET_ALL_PARAMETERS *GetParameter;
    NSI_GET_ALL_PARAMETERS *SetParameter;
} NSI_PROVIDER_DISPATCH, *PNSI_PROVIDER_DISPATCH;
typedef struct _NSI_PROVIDER_CHARACTERISTICS {
    USHORT Version;
    USHORT Length;
    ULONG ModuleId;
    PNSI_PROVIDER_DISPATCH Dispatch;
    PVOID ProviderContext;
} NSI_PROVIDER_CHARACTERISTICS, *PNSI_PROVIDER_CHARACTERISTICS;
/* The request nsiproxy builds from the user's NSI_ENUMERATE_OBJECTS ioctl. */
typedef struct _NSI_ENUMERATE_REQUEST {
    ULONG ModuleId;
    ULONG ObjectIndex;
    PVOID KeyStruct;
    ULONG KeyStructLength;
    PVOID RwParameterStruct;
    ULONG RwParameterStructLength;
    PVOID RoDynamicParameterStruct;
    ULONG RoDynamicParameterStructLength;
    PVOID RoStaticParameterStruct;
    ULONG RoStaticParameterStructLength;
    ULONG EntryCount;
} NSI_ENUMERATE_REQUEST, *PNSI_ENUMERATE_REQUEST;
NETIOAPI NTSTATUS NmrRegisterProvider(PNSI_PROVIDER_CHARACTERISTICS Characteristics, PVOID ProviderContext,
                                      PHANDLE NmrProviderHandle);
NETIOAPI NTSTATUS NsiEnumerateObjectsAllParametersEx(PNSI_ENUMERATE_REQUEST Request);

#endif /* NTDBG_NETIO_H */
