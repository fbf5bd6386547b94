/* ntdbg scenario "hyperv-hang", kernel side: what the miniature kernel
 * modules share. The structures come from nt9600.h (generated from the real
 * 9600 kernel's types); this file adds the scalar types, the few constants
 * the code uses and the functions each module exports to the others.
 *
 * ntoskrnl.c defines NT_BUILDING_NTOSKRNL before including it, so that the
 * kernel's functions are dllexport there and dllimport in the drivers (whose
 * calls then go through the import address table, as Windows drivers' do).
 * netio.h and ndis.h do the same for NETIO.SYS and NDIS.SYS. */
#ifndef NTDBG_KERNEL_H
#define NTDBG_KERNEL_H
#include "nt9600.h"

typedef void *PVOID, *HANDLE, **PHANDLE;
typedef UCHAR BOOLEAN, KIRQL;
typedef CHAR CCHAR, KPROCESSOR_MODE;
typedef LONG NTSTATUS;
typedef ULONG ACCESS_MASK;
typedef ULONGLONG ULONG_PTR, SIZE_T, KAFFINITY;
typedef LONGLONG LONG_PTR;
typedef ULONG *PULONG;
typedef ULONG_PTR *PULONG_PTR;
typedef LONG *PLONG;
typedef UCHAR *PUCHAR;

#define NOINLINE __attribute__((noinline))
#define EXPORT __declspec(dllexport)
#define IMPORT __declspec(dllimport)
#define FALSE 0
#define TRUE 1
#define NULL ((void *)0)

#define STATUS_SUCCESS ((NTSTATUS)0x00000000)
#define STATUS_PENDING ((NTSTATUS)0x00000103)
#define STATUS_TIMEOUT ((NTSTATUS)0x00000102)
#define STATUS_INVALID_HANDLE ((NTSTATUS)0xC0000008)
#define STATUS_INVALID_SYSTEM_SERVICE ((NTSTATUS)0xC000001C)

/* KOBJECTS and EVENT_TYPE (formats-spec §6.5; wdm.h). */
#define NotificationEvent 0
#define SynchronizationEvent 1
#define NotificationTimer 0
#define IRP_MJ_DEVICE_CONTROL 0x0e
#define IRP_MJ_INTERNAL_DEVICE_CONTROL 0x0f

/* KUSER_SHARED_DATA is mapped at this address in every process. */
#define KI_USER_SHARED_DATA 0xFFFFF78000000000ULL
#define SharedUserData ((volatile KUSER_SHARED_DATA *)KI_USER_SHARED_DATA)

typedef VOID DRIVER_INITIALIZE_ROUTINE(void);
typedef NTSTATUS DRIVER_DISPATCH(PDEVICE_OBJECT DeviceObject, PIRP Irp);
typedef VOID IO_WORKITEM_ROUTINE(PDEVICE_OBJECT DeviceObject, PVOID Context);
typedef VOID KSTART_ROUTINE(PVOID StartContext);
typedef VOID WORKER_THREAD_ROUTINE(PVOID Parameter);

/* ---- ntoskrnl.exe ---- */
#ifdef NT_BUILDING_NTOSKRNL
#define NTKERNELAPI EXPORT
#else
#define NTKERNELAPI IMPORT
#endif
NTKERNELAPI NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                                           BOOLEAN Alertable, PLARGE_INTEGER Timeout);
NTKERNELAPI NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], ULONG WaitType, KWAIT_REASON WaitReason,
                                              KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                              PKWAIT_BLOCK WaitBlockArray);
NTKERNELAPI NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval);
NTKERNELAPI VOID KeInitializeEvent(PKEVENT Event, ULONG Type, BOOLEAN State);
NTKERNELAPI LONG KeSetEvent(PKEVENT Event, LONG Increment, BOOLEAN Wait);
NTKERNELAPI VOID KeInitializeTimerEx(PKTIMER Timer, ULONG Type);
NTKERNELAPI BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc);
NTKERNELAPI BOOLEAN KeCancelTimer(PKTIMER Timer);
NTKERNELAPI PKTHREAD KeGetCurrentThread(void);
NTKERNELAPI VOID KeQueryTickCount(PLARGE_INTEGER TickCount);
NTKERNELAPI VOID KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4);
NTKERNELAPI NTSTATUS IofCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp);
NTKERNELAPI VOID IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost);
NTKERNELAPI PIO_WORKITEM IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject);
NTKERNELAPI VOID IoQueueWorkItem(PIO_WORKITEM IoWorkItem, IO_WORKITEM_ROUTINE *WorkerRoutine, ULONG QueueType,
                                 PVOID Context);
NTKERNELAPI PVOID ExAllocatePoolWithTag(ULONG PoolType, SIZE_T NumberOfBytes, ULONG Tag);
NTKERNELAPI VOID ExFreePoolWithTag(PVOID P, ULONG Tag);
NTKERNELAPI NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, PVOID ObjectType,
                                               KPROCESSOR_MODE AccessMode, PVOID *Object, PVOID HandleInformation);
NTKERNELAPI LONG_PTR ObfDereferenceObject(PVOID Object);
NTKERNELAPI PVOID memset(PVOID Dest, INT Value, SIZE_T Count);
NTKERNELAPI PVOID memcpy(PVOID Dest, const VOID *Src, SIZE_T Count);

#endif /* NTDBG_KERNEL_H */
