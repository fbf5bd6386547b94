/* ntdbg scenario "hyperv-hang": a miniature NETIO.SYS (PDB netio.pdb). Its
 * part in the seed's stack is the Network Store Interface: nsiproxy.sys
 * hands it the enumeration request of nsi.dll's ioctl, and it calls the
 * provider that registered for the object's module (NDIS.SYS for the
 * interfaces) through the provider's dispatch table. */
#define NT_BUILDING_NETIO
#include "netio.h"

/* The registered NSI providers (NmrRegisterProvider). The dump writer lays
 * out NDIS's registration here. */
PNSI_PROVIDER_CHARACTERISTICS NsipProviders[16];
ULONG NsipProviderCount;

EXPORT NOINLINE NTSTATUS NmrRegisterProvider(PNSI_PROVIDER_CHARACTERISTICS Characteristics, PVOID ProviderContext,
                                             PHANDLE NmrProviderHandle)
{
    if (NsipProviderCount >= sizeof(NsipProviders) / sizeof(NsipProviders[0]))
        return 0xC000009A; /* STATUS_INSUFFICIENT_RESOURCES */
    Characteristics->ProviderContext = ProviderContext;
    NsipProviders[NsipProviderCount++] = Characteristics;
    *NmrProviderHandle = Characteristics;
    return STATUS_SUCCESS;
}

NOINLINE PNSI_PROVIDER_CHARACTERISTICS NsipFindProvider(ULONG ModuleId)
{
    ULONG i;
    for (i = 0; i < NsipProviderCount; i++)
        if (NsipProviders[i]->ModuleId == ModuleId)
            return NsipProviders[i];
    return NULL;
}

/* Enumerates every object of one NSI object type with all its parameters:
 * the provider fills the caller's key and parameter arrays. */
EXPORT NOINLINE NTSTATUS NsiEnumerateObjectsAllParametersEx(PNSI_ENUMERATE_REQUEST Request)
{
    PNSI_PROVIDER_CHARACTERISTICS provider = NsipFindProvider(Request->ModuleId);
    NTSTATUS status;
    if (!provider || Request->ObjectIndex >= provider->Dispatch->ObjectCount)
        return 0xC0000225; /* STATUS_NOT_FOUND */
    status = provider->Dispatch->GetAllParameters(provider->ProviderContext, Request->ObjectIndex, Request);
    return status;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    (void)DriverObject;
    (void)RegistryPath;
    NsipProviderCount = 0;
    return STATUS_SUCCESS;
}

/* The image's entry point, as the WDK's GsDriverEntry: sets the security
 * cookie, then calls DriverEntry. */
ULONG_PTR __security_cookie = 0x2B992DDFA232ULL;
NTSTATUS GsDriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    if (__security_cookie == 0x2B992DDFA232ULL)
        __security_cookie ^= (ULONG_PTR)DriverObject;
    return DriverEntry(DriverObject, RegistryPath);
}
