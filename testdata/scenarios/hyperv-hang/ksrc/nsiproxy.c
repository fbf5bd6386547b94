/* ntdbg scenario "hyperv-hang": a miniature nsiproxy.sys (PDB nsiproxy.pdb),
 * the driver of \Device\Nsi. nsi.dll's NsiAllocateAndGetTable sends it
 * IOCTL_NSI_ENUMERATE_OBJECTS_ALL_PARAMETERS through NtDeviceIoControlFile;
 * its dispatch routine hands the request to NETIO.SYS. */
#include "netio.h"

#define IOCTL_NSI_ENUMERATE_OBJECTS_ALL_PARAMETERS 0x0012001B
#define IOCTL_NSI_GET_ALL_PARAMETERS 0x00120007

/* The user's request (nsi.dll's layout, pointer-sized fields). */
typedef struct _NSI_ENUMERATE_OBJECTS_ALL_PARAMETERS_EX {
    PVOID Reserved0;
    PVOID Reserved1;
    PVOID ModuleId;
    ULONG ObjectIndex;
    ULONG Flags;
    PVOID KeyStruct;
    ULONG KeyStructLength;
    PVOID RwParameterStruct;
    ULONG RwParameterStructLength;
    PVOID RoDynamicParameterStruct;
    ULONG RoDynamicParameterStructLength;
    PVOID RoStaticParameterStruct;
    ULONG RoStaticParameterStructLength;
    ULONG EntryCount;
} NSI_ENUMERATE_OBJECTS_ALL_PARAMETERS_EX, *PNSI_ENUMERATE_OBJECTS_ALL_PARAMETERS_EX;

PDEVICE_OBJECT NsippDeviceObject;

NOINLINE NTSTATUS NsippEnumerateObjectsAllParameters(PNSI_ENUMERATE_OBJECTS_ALL_PARAMETERS_EX Parameters,
                                                     ULONG InputLength, KPROCESSOR_MODE RequestorMode,
                                                     PULONG_PTR Information)
{
    NSI_ENUMERATE_REQUEST request;
    NTSTATUS status;
    (void)RequestorMode;
    if (InputLength < sizeof(*Parameters))
        return 0xC0000023; /* STATUS_BUFFER_TOO_SMALL */
    request.ModuleId = (ULONG)(ULONG_PTR)Parameters->ModuleId;
    request.ObjectIndex = Parameters->ObjectIndex;
    request.KeyStruct = Parameters->KeyStruct;
    request.KeyStructLength = Parameters->KeyStructLength;
    request.RwParameterStruct = Parameters->RwParameterStruct;
    request.RwParameterStructLength = Parameters->RwParameterStructLength;
    request.RoDynamicParameterStruct = Parameters->RoDynamicParameterStruct;
    request.RoDynamicParameterStructLength = Parameters->RoDynamicParameterStructLength;
    request.RoStaticParameterStruct = Parameters->RoStaticParameterStruct;
    request.RoStaticParameterStructLength = Parameters->RoStaticParameterStructLength;
    request.EntryCount = Parameters->EntryCount;
    status = NsiEnumerateObjectsAllParametersEx(&request);
    Parameters->EntryCount = request.EntryCount;
    *Information = sizeof(*Parameters);
    return status;
}

/* IRP_MJ_DEVICE_CONTROL (and create/close) of \Device\Nsi. */
NOINLINE NTSTATUS NsippDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION irpSp = Irp->Tail.Overlay.CurrentStackLocation;
    NTSTATUS status = STATUS_SUCCESS;
    (void)DeviceObject;
    Irp->IoStatus.Information = 0;
    if (irpSp->MajorFunction == IRP_MJ_DEVICE_CONTROL) {
        switch (irpSp->Parameters.DeviceIoControl.IoControlCode) {
        case IOCTL_NSI_ENUMERATE_OBJECTS_ALL_PARAMETERS:
            status = NsippEnumerateObjectsAllParameters(Irp->AssociatedIrp.SystemBuffer,
                                                        irpSp->Parameters.DeviceIoControl.InputBufferLength,
                                                        Irp->RequestorMode, &Irp->IoStatus.Information);
            break;
        default:
            status = 0xC0000010; /* STATUS_INVALID_DEVICE_REQUEST */
            break;
        }
    }
    if (status != STATUS_PENDING) {
        Irp->IoStatus.Status = status;
        IofCompleteRequest(Irp, 0);
    }
    return status;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    (void)RegistryPath;
    DriverObject->MajorFunction[0x00] = (VOID(*)(void))NsippDispatch;          /* IRP_MJ_CREATE */
    DriverObject->MajorFunction[0x02] = (VOID(*)(void))NsippDispatch;          /* IRP_MJ_CLOSE */
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = (VOID(*)(void))NsippDispatch;
    NsippDeviceObject = DriverObject->DeviceObject;
    return STATUS_SUCCESS;
}

ULONG_PTR __security_cookie = 0x2B992DDFA232ULL;
NTSTATUS GsDriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    if (__security_cookie == 0x2B992DDFA232ULL)
        __security_cookie ^= (ULONG_PTR)DriverObject;
    return DriverEntry(DriverObject, RegistryPath);
}
