/* ntdbg scenario "hyperv-hang", kernel side: the NDIS.SYS functions other
 * modules import. NDIS's own structures (miniport and driver blocks, OID
 * requests) and the NDIS_STATUS and NDIS_HANDLE types are in ndis_types.h. */
#ifndef NTDBG_NDIS_H
#define NTDBG_NDIS_H
#include "kernel.h"
#include "ndis_types.h"

/* ---- NDIS.SYS ---- */
#ifdef NT_BUILDING_NDIS
#define NDISAPI EXPORT
#else
#define NDISAPI IMPORT
#endif
NDISAPI VOID NdisMSleep(ULONG MicrosecondsToSleep);
NDISAPI NDIS_STATUS NdisMRegisterMiniportDriver(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath,
                                                NDIS_HANDLE MiniportDriverContext, PVOID MiniportDriverCharacteristics,
                                                NDIS_HANDLE *NdisMiniportDriverHandle);
NDISAPI VOID NdisMIndicateStatusEx(NDIS_HANDLE MiniportAdapterHandle, PVOID StatusIndication);

#endif /* NTDBG_NDIS_H */
