/* ntdbg scenario "hyperv-hang": a miniature NDIS.SYS (PDB ndis.pdb). The
 * seed's thread 43d8 is here: NETIO.SYS calls the interface provider's
 * GetAllParameters (ndisNsiGetAllInterfaceInformation), which queries each
 * interface's statistics from its miniport with an OID request, and waits
 * in ndisQuerySetMiniportEx for the miniport to complete it, which the
 * resetting FooBar adapter never does. NdisMSleep, which FooDRV.sys's
 * worker thread is in, is in ndis_asm.S. */
#define NT_BUILDING_NDIS
#include "ndis.h"
#include "netio.h"

#define NDIS_STATUS_SUCCESS 0
#define NDIS_STATUS_PENDING 0x00000103
#define OID_GEN_STATISTICS 0x00020106
#define NSI_INTERFACE_MODULE 0x0000000B /* this miniature's id of NPI_MS_NDIS_MODULEID */

/* The global miniport and miniport driver lists (formats-spec 6.9):
 * ndisMiniportList chained by _NDIS_MINIPORT_BLOCK.NextGlobalMiniport,
 * ndisMiniDriverList by _NDIS_M_DRIVER_BLOCK.NextDriver (each driver's
 * miniports from its MiniportQueue by NextMiniport), with their locks. */
PNDIS_MINIPORT_BLOCK ndisMiniportList;
PNDIS_M_DRIVER_BLOCK ndisMiniDriverList;
KSPIN_LOCK ndisMiniportListLock;
KSPIN_LOCK ndisMiniDriverListLock;
ULONG ndisMiniportCount; /* the interfaces in ndisNsiMiniports */

/* Puts the enums of bit and value names and NDIS_OID_REQUEST_RESERVED
 * (ndis_types.h) into ndis.pdb: the code never reads it. */
NDIS_KD_TYPES ndisKdTypes;

/* The miniature's OID request: what ndisQuerySetMiniportEx hands the
 * miniport and waits on. The NDIS_OID_REQUEST of the next issue replaces it. */
typedef struct _NDIS_REQUEST_WAIT {
    KEVENT Event;        /* a NotificationEvent, set when the request completes */
    NDIS_STATUS Status;
    ULONG Oid;
    PVOID InformationBuffer;
    ULONG InformationBufferLength;
    ULONG BytesWritten;
} NDIS_REQUEST_WAIT, *PNDIS_REQUEST_WAIT;

/* The miniport's request handler (in FooDRV.sys for the FooBar adapters). */
typedef NDIS_STATUS MINIPORT_OID_REQUEST(PVOID MiniportAdapterContext, PNDIS_REQUEST_WAIT Request);
typedef struct _NDIS_MINIPORT_STUB {
    PVOID MiniportAdapterContext;
    MINIPORT_OID_REQUEST *OidRequestHandler;
    ULONG IfIndex;
    PNDIS_MINIPORT_BLOCK Miniport; /* the interface's miniport (the code does not read it) */
} NDIS_MINIPORT_STUB, *PNDIS_MINIPORT_STUB;

/* Sends one OID request to the miniport and waits for it to complete. The
 * event is on this function's stack (request.Event). */
NOINLINE NDIS_STATUS ndisQuerySetMiniportEx(PNDIS_MINIPORT_STUB Miniport, ULONG Oid, PVOID Buffer, ULONG Length,
                                            PULONG BytesWritten)
{
    NDIS_REQUEST_WAIT request;
    NDIS_STATUS status;
    KeInitializeEvent(&request.Event, NotificationEvent, FALSE);
    request.Status = NDIS_STATUS_PENDING;
    request.Oid = Oid;
    request.InformationBuffer = Buffer;
    request.InformationBufferLength = Length;
    request.BytesWritten = 0;
    status = Miniport->OidRequestHandler(Miniport->MiniportAdapterContext, &request);
    if (status == NDIS_STATUS_PENDING) {
        KeWaitForSingleObject(&request.Event, Executive, KernelMode, FALSE, NULL);
        status = request.Status;
    }
    *BytesWritten = request.BytesWritten;
    return status;
}

NOINLINE NDIS_STATUS ndisQuerySetMiniport(PNDIS_MINIPORT_STUB Miniport, ULONG Oid, PVOID Buffer, ULONG Length)
{
    ULONG written;
    return ndisQuerySetMiniportEx(Miniport, Oid, Buffer, Length, &written);
}

NOINLINE NTSTATUS ndisIfGetMiniportStatistics(PNDIS_MINIPORT_STUB Miniport, PVOID Statistics, ULONG Length)
{
    NDIS_STATUS status = ndisQuerySetMiniport(Miniport, OID_GEN_STATISTICS, Statistics, Length);
    return status == NDIS_STATUS_SUCCESS ? STATUS_SUCCESS : 0xC0000001;
}

NOINLINE NTSTATUS ndisIfQueryFilterObject(PNDIS_MINIPORT_STUB Miniport, ULONG Object, PVOID Buffer, ULONG Length)
{
    (void)Object;
    return ndisIfGetMiniportStatistics(Miniport, Buffer, Length);
}

NOINLINE NTSTATUS ndisIfQueryObject(PNDIS_MINIPORT_STUB Miniport, ULONG Object, PVOID Buffer, ULONG Length)
{
    return ndisIfQueryFilterObject(Miniport, Object, Buffer, Length);
}

/* The read-only dynamic parameters (the statistics) of one interface. */
NOINLINE NTSTATUS ndisNsiGetInterfaceRodInformation(PNDIS_MINIPORT_STUB Miniport, PNSI_ENUMERATE_REQUEST Request,
                                                    ULONG Index)
{
    PUCHAR rod = (PUCHAR)Request->RoDynamicParameterStruct + (SIZE_T)Index * Request->RoDynamicParameterStructLength;
    return ndisIfQueryObject(Miniport, 0x2 /* IF_OBJECT_STATISTICS */, rod, Request->RoDynamicParameterStructLength);
}

/* The interface provider's GetAllParameters: every interface, each with its
 * read-only dynamic parameters. */
NOINLINE NTSTATUS ndisNsiGetAllInterfaceInformation(PVOID ProviderContext, ULONG ObjectIndex, PVOID Request)
{
    PNSI_ENUMERATE_REQUEST request = Request;
    PNDIS_MINIPORT_STUB *miniports = ProviderContext;
    NTSTATUS status = STATUS_SUCCESS;
    ULONG i;
    (void)ObjectIndex;
    for (i = 0; i < ndisMiniportCount && i < request->EntryCount; i++) {
        status = ndisNsiGetInterfaceRodInformation(miniports[i], request, i);
        if (status != STATUS_SUCCESS)
            break;
    }
    request->EntryCount = i;
    return status;
}

NSI_PROVIDER_DISPATCH ndisNsiInterfaceDispatch = {
    .Version = 1,
    .ObjectCount = 8,
    .GetAllParameters = ndisNsiGetAllInterfaceInformation,
};
NSI_PROVIDER_CHARACTERISTICS ndisNsiProvider = {
    .Version = 1,
    .Length = sizeof(NSI_PROVIDER_CHARACTERISTICS),
    .ModuleId = NSI_INTERFACE_MODULE,
    .Dispatch = &ndisNsiInterfaceDispatch,
};
PNDIS_MINIPORT_STUB ndisNsiMiniports[32];
HANDLE ndisNsiProviderHandle;

/* NdisMRegisterMiniportDriver: records the driver (the next issue builds
 * the real NDIS_M_DRIVER_BLOCK). */
EXPORT NOINLINE NDIS_STATUS NdisMRegisterMiniportDriver(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath,
                                                        NDIS_HANDLE MiniportDriverContext,
                                                        PVOID MiniportDriverCharacteristics,
                                                        NDIS_HANDLE *NdisMiniportDriverHandle)
{
    (void)RegistryPath;
    (void)MiniportDriverContext;
    (void)MiniportDriverCharacteristics;
    ndisMiniDriverList = (PNDIS_M_DRIVER_BLOCK)DriverObject;
    *NdisMiniportDriverHandle = DriverObject;
    return NDIS_STATUS_SUCCESS;
}

EXPORT NOINLINE VOID NdisMIndicateStatusEx(NDIS_HANDLE MiniportAdapterHandle, PVOID StatusIndication)
{
    (void)MiniportAdapterHandle;
    (void)StatusIndication;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    (void)DriverObject;
    (void)RegistryPath;
    return NmrRegisterProvider(&ndisNsiProvider, ndisNsiMiniports, &ndisNsiProviderHandle);
}

/* The global protocol, filter driver and interface lists: ndisProtocolList
 * chained by _NDIS_PROTOCOL_BLOCK.NextProtocol, ndisFilterDriverList by
 * _NDIS_FILTER_DRIVER_BLOCK.NextFilterDriver, ndisIfList by
 * _NDIS_IF_BLOCK.NextIf. The code never reads them (the dump writer sets
 * them); they are defined last so that the code's globals keep their
 * addresses. */
PNDIS_PROTOCOL_BLOCK ndisProtocolList;
PNDIS_FILTER_DRIVER_BLOCK ndisFilterDriverList;
PNDIS_IF_BLOCK ndisIfList;

ULONG_PTR __security_cookie = 0x2B992DDFA232ULL;
NTSTATUS GsDriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    if (__security_cookie == 0x2B992DDFA232ULL)
        __security_cookie ^= (ULONG_PTR)DriverObject;
    return DriverEntry(DriverObject, RegistryPath);
}
