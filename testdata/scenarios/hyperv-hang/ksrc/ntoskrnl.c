/* ntdbg scenario "hyperv-hang": a miniature ntoskrnl.exe (PDB ntkrnlmp.pdb,
 * module nt). It holds the kernel data a debugger finds by name (the process
 * and module lists, KdDebuggerDataBlock, the processor blocks, ...), the
 * system services and wait functions of the threads in the scenario's kernel
 * dump, and, through nt9600.h compiled with -fno-eliminate-unused-debug-types,
 * the Windows 8.1 kernel structures in its PDB. The functions whose return
 * addresses the seed shows are in ntoskrnl_asm.S.
 *
 * The images are miniatures: each function has the real name and calls the
 * next one as the real one does, but does not do the real work. The dump
 * writer lays the data out in the dump's memory; most globals here are zero. */
#define NT_BUILDING_NTOSKRNL
#include "kernel.h"

#define offsetof(t, m) __builtin_offsetof(t, m)

/* The offsets ntoskrnl_asm.S uses. */
_Static_assert(offsetof(KTHREAD, KernelStack) == 0x58, "KTHREAD_KernelStack");
_Static_assert(offsetof(KTHREAD, TrapFrame) == 0x90, "KTHREAD_TrapFrame");
_Static_assert(offsetof(KTHREAD, WaitStatus) == 0xc8, "KTHREAD_WaitStatus");
_Static_assert(offsetof(KTHREAD, WaitBlock) == 0x140, "KTHREAD_WaitBlock");
_Static_assert(offsetof(KTHREAD, State) == 0x184, "KTHREAD_State");
_Static_assert(offsetof(KTHREAD, WaitIrql) == 0x186, "KTHREAD_WaitIrql");
_Static_assert(offsetof(KTHREAD, WaitMode) == 0x187, "KTHREAD_WaitMode");
_Static_assert(offsetof(KTHREAD, WaitReason) == 0x283, "KTHREAD_WaitReason");
_Static_assert(offsetof(KPCR, UserRsp) == 0x10, "KPCR_UserRsp");
_Static_assert(offsetof(KPCR, CurrentPrcb) == 0x20, "KPCR_CurrentPrcb");
_Static_assert(offsetof(KPCR, Prcb) == 0x180, "KPCR_Prcb");
_Static_assert(offsetof(KPRCB, CurrentThread) == 0x8, "KPRCB_CurrentThread");
_Static_assert(offsetof(KPRCB, NextThread) == 0x10, "KPRCB_NextThread");
_Static_assert(offsetof(KPRCB, RspBase) == 0x28, "KPRCB_RspBase");
_Static_assert(offsetof(KWAIT_BLOCK, WaitType) == 0x10, "KWAIT_BLOCK_WaitType");
_Static_assert(offsetof(KWAIT_BLOCK, BlockState) == 0x11, "KWAIT_BLOCK_BlockState");
_Static_assert(offsetof(KWAIT_BLOCK, Thread) == 0x18, "KWAIT_BLOCK_Thread");
_Static_assert(offsetof(KWAIT_BLOCK, Object) == 0x20, "KWAIT_BLOCK_Object");
_Static_assert(offsetof(WORK_QUEUE_ITEM, WorkerRoutine) == 0x10, "WORK_QUEUE_ITEM_WorkerRoutine");
_Static_assert(offsetof(WORK_QUEUE_ITEM, Parameter) == 0x18, "WORK_QUEUE_ITEM_Parameter");
_Static_assert(offsetof(IO_WORKITEM, Routine) == 0x20, "IO_WORKITEM_Routine");
_Static_assert(offsetof(IO_WORKITEM, IoObject) == 0x28, "IO_WORKITEM_IoObject");
_Static_assert(offsetof(IO_WORKITEM, Context) == 0x30, "IO_WORKITEM_Context");
_Static_assert(offsetof(KTRAP_FRAME, Rbx) == 0x140 && offsetof(KTRAP_FRAME, Rdi) == 0x148 &&
                   offsetof(KTRAP_FRAME, Rsi) == 0x150 && offsetof(KTRAP_FRAME, Rbp) == 0x158 &&
                   offsetof(KTRAP_FRAME, Rip) == 0x168 && offsetof(KTRAP_FRAME, EFlags) == 0x178 &&
                   offsetof(KTRAP_FRAME, Rsp) == 0x180 && sizeof(KTRAP_FRAME) == 0x190,
               "KiSystemCall64's trap frame");
_Static_assert(offsetof(KEXCEPTION_FRAME, Xmm6) == 0x30 && offsetof(KEXCEPTION_FRAME, Xmm15) == 0xc0 &&
                   offsetof(KEXCEPTION_FRAME, Rbp) == 0xf8 && offsetof(KEXCEPTION_FRAME, Rbx) == 0x100 &&
                   offsetof(KEXCEPTION_FRAME, R15) == 0x130 && offsetof(KEXCEPTION_FRAME, Return) == 0x138,
               "KiSwapContext's frame");

/* ntoskrnl_asm.S */
NTSTATUS KiCommitThreadWait(PKTHREAD Thread, PKWAIT_BLOCK WaitBlockList, ULONG WaitReason, ULONG WaitMode);
VOID KiSwapContext(PKTHREAD OldThread, PKTHREAD NewThread);
VOID KiSystemCall64(void);
VOID KiStartSystemThread(void);
VOID ExpWorkerThread(PVOID StartContext);
VOID IopProcessWorkItem(PVOID Parameter);
VOID PspSystemThreadStartup(KSTART_ROUTINE *StartRoutine, PVOID StartContext);

/* ---- Data a debugger reads: exported, with public symbols ---- */

EXPORT LIST_ENTRY PsActiveProcessHead;           /* EPROCESS.ActiveProcessLinks */
EXPORT LIST_ENTRY PsLoadedModuleList;            /* KLDR_DATA_TABLE_ENTRY.InLoadOrderLinks */
EXPORT ULONG KeNumberProcessors;
EXPORT PKPRCB KiProcessorBlock[640];             /* MAXIMUM_PROCESSORS on 8.1 x64 */
EXPORT ULONG KeMaximumIncrement = 156250;        /* 15.625 ms, in 100 ns units */
EXPORT ULONG KeTimeIncrement = 156250;
EXPORT PHANDLE_TABLE PspCidTable;
EXPORT POBJECT_DIRECTORY ObpRootDirectoryObject;
EXPORT POBJECT_TYPE ObTypeIndexTable[64];
EXPORT struct _MMPFN *MmPfnDatabase;
EXPORT PEPROCESS PsInitialSystemProcess;
EXPORT PEPROCESS PsIdleProcess;
EXPORT PVOID MmHighestUserAddress = (PVOID)0x00007FFFFFFEFFFFULL;
EXPORT PVOID MmSystemRangeStart = (PVOID)0xFFFF800000000000ULL;
EXPORT ULONG_PTR MmUserProbeAddress = 0x00007FFFFFFF0000ULL;
EXPORT ULONG NtBuildNumber = 0xF0002580;         /* free build, 9600 */
EXPORT CHAR NtBuildLab[] = "9600.17736.amd64fre.winblue_r9.150322-1500";
EXPORT UCHAR KdpDataBlockEncoded;                /* 0: KdDebuggerDataBlock is plain */
EXPORT ULONGLONG KiWaitNever;
EXPORT ULONGLONG KiWaitAlways;
EXPORT ULONG_PTR KiBugCheckData[5];
ULONG PerfGlobalGroupMask[8];                    /* KiSystemServiceCopyEnd tests it */

/* Processor 0's PCR (with its PRCB), its idle thread and the Idle process. */
EXPORT __declspec(align(4096)) KPCR KiInitialPCR;
EXPORT ETHREAD KiInitialThread;
EXPORT EPROCESS KiInitialProcess;

/* KUSER_SHARED_DATA lives at KI_USER_SHARED_DATA, outside the image; this
 * one names the type for the PDB (a debugger's dt nt!_KUSER_SHARED_DATA). */
KUSER_SHARED_DATA *const KiUserSharedData = (KUSER_SHARED_DATA *)KI_USER_SHARED_DATA;

extern char __ImageBase; /* the linker's: the image's base address */

/* The debugger data block. Its address fields are addresses of the kernel's
 * variables (a debugger reads the variable through them); the offsets and
 * sizes are nt9600.h's. */
EXPORT KDDEBUGGER_DATA64 KdDebuggerDataBlock = {
    .Header = {.OwnerTag = 0x4742444B /* 'KDBG' */, .Size = sizeof(KDDEBUGGER_DATA64)},
    .KernBase = (ULONGLONG)&__ImageBase,
    .KiCallUserMode = 0,
    .PsLoadedModuleList = (ULONGLONG)&PsLoadedModuleList,
    .PsActiveProcessHead = (ULONGLONG)&PsActiveProcessHead,
    .PspCidTable = (ULONGLONG)&PspCidTable,
    .KeTimeIncrement = (ULONGLONG)&KeTimeIncrement,
    .KiBugcheckData = (ULONGLONG)&KiBugCheckData,
    .ObpRootDirectoryObject = (ULONGLONG)&ObpRootDirectoryObject,
    .MmPfnDatabase = (ULONGLONG)&MmPfnDatabase,
    .MmHighestUserAddress = (ULONGLONG)&MmHighestUserAddress,
    .MmSystemRangeStart = (ULONGLONG)&MmSystemRangeStart,
    .MmUserProbeAddress = (ULONGLONG)&MmUserProbeAddress,
    .NtBuildLab = (ULONGLONG)&NtBuildLab,
    .KiProcessorBlock = (ULONGLONG)&KiProcessorBlock,
    .OffsetKThreadNextProcessor = offsetof(KTHREAD, NextProcessor),
    .OffsetKThreadTeb = offsetof(KTHREAD, Teb),
    .OffsetKThreadKernelStack = offsetof(KTHREAD, KernelStack),
    .OffsetKThreadInitialStack = offsetof(KTHREAD, InitialStack),
    .OffsetKThreadApcProcess = offsetof(KTHREAD, ApcState.Process),
    .OffsetKThreadState = offsetof(KTHREAD, State),
    .SizeEProcess = sizeof(EPROCESS),
    .OffsetEprocessPeb = offsetof(EPROCESS, Peb),
    .OffsetEprocessParentCID = offsetof(EPROCESS, InheritedFromUniqueProcessId),
    .OffsetEprocessDirectoryTableBase = offsetof(EPROCESS, Pcb.DirectoryTableBase),
    .SizePrcb = sizeof(KPRCB),
    .OffsetPrcbDpcRoutine = offsetof(KPRCB, DpcRoutineActive),
    .OffsetPrcbCurrentThread = offsetof(KPRCB, CurrentThread),
    .OffsetPrcbMhz = offsetof(KPRCB, MHz),
    .OffsetPrcbCpuType = offsetof(KPRCB, CpuType),
    .OffsetPrcbVendorString = offsetof(KPRCB, VendorString),
    .OffsetPrcbProcStateContext = offsetof(KPRCB, ProcessorState.ContextFrame),
    .OffsetPrcbNumber = offsetof(KPRCB, Number),
    .SizeEThread = sizeof(ETHREAD),
    .SizePcr = sizeof(KPCR),
    .OffsetPcrSelfPcr = offsetof(KPCR, Self),
    .OffsetPcrCurrentPrcb = offsetof(KPCR, CurrentPrcb),
    .OffsetPcrContainedPrcb = offsetof(KPCR, Prcb),
    .OffsetPrcbProcStateSpecialReg = offsetof(KPRCB, ProcessorState.SpecialRegisters),
    .GdtR0Code = 0x10,
    .GdtR0Data = 0x18,
    .GdtR3Code = 0x33,
    .GdtR3Data = 0x2b,
    .GdtR3Teb = 0x53,
    .GdtTss = 0x40,
    .Gdt64R3CmCode = 0x23,
    .Gdt64R3CmTeb = 0x53,
    .OffsetPrcbContext = offsetof(KPRCB, Context),
    .OffsetKThreadStackLimit = offsetof(KTHREAD, StackLimit),
    .OffsetKThreadStackBase = offsetof(KTHREAD, StackBase),
    .OffsetKThreadQueueListEntry = offsetof(KTHREAD, QueueListEntry),
    .OffsetEThreadIrpList = offsetof(ETHREAD, IrpList),
    .OffsetPrcbIdleThread = offsetof(KPRCB, IdleThread),
    .OffsetPrcbNormalDpcState = offsetof(KPRCB, NormalDpcState),
    .OffsetPrcbDpcStack = offsetof(KPRCB, DpcStack),
    .OffsetKPriQueueThreadListHead = offsetof(KPRIQUEUE, ThreadListHead),
    .OffsetKThreadWaitReason = offsetof(KTHREAD, WaitReason),
};

/* ---- Small kernel services ---- */

static inline PKPRCB KeGetCurrentPrcb(void)
{
    PKPRCB prcb;
    __asm__ volatile("movq %%gs:0x20, %0" : "=r"(prcb));
    return prcb;
}

EXPORT NOINLINE PKTHREAD KeGetCurrentThread(void)
{
    PKTHREAD thread;
    __asm__ volatile("movq %%gs:0x188, %0" : "=r"(thread));
    return thread;
}

EXPORT NOINLINE PVOID memset(PVOID Dest, INT Value, SIZE_T Count)
{
    volatile UCHAR *d = Dest;
    while (Count--)
        *d++ = (UCHAR)Value;
    return Dest;
}

EXPORT NOINLINE PVOID memcpy(PVOID Dest, const VOID *Src, SIZE_T Count)
{
    volatile UCHAR *d = Dest;
    const UCHAR *s = Src;
    while (Count--)
        *d++ = *s++;
    return Dest;
}

EXPORT NOINLINE VOID KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4)
{
    KiBugCheckData[0] = BugCheckCode;
    KiBugCheckData[1] = P1;
    KiBugCheckData[2] = P2;
    KiBugCheckData[3] = P3;
    KiBugCheckData[4] = P4;
    for (;;)
        __asm__ volatile("cli; hlt");
}

EXPORT NOINLINE VOID KeQueryTickCount(PLARGE_INTEGER TickCount)
{
    TickCount->QuadPart = (LONGLONG)SharedUserData->TickCountQuad;
}

EXPORT NOINLINE VOID KeInitializeEvent(PKEVENT Event, ULONG Type, BOOLEAN State)
{
    Event->Header.Type = (UCHAR)Type;
    Event->Header.Size = sizeof(KEVENT) / sizeof(LONG);
    Event->Header.SignalState = State;
    Event->Header.WaitListHead.Flink = Event->Header.WaitListHead.Blink = &Event->Header.WaitListHead;
}

EXPORT NOINLINE LONG KeSetEvent(PKEVENT Event, LONG Increment, BOOLEAN Wait)
{
    LONG old = Event->Header.SignalState;
    (void)Increment;
    (void)Wait;
    Event->Header.SignalState = 1;
    return old;
}

EXPORT NOINLINE VOID KeInitializeTimerEx(PKTIMER Timer, ULONG Type)
{
    Timer->Header.Type = (UCHAR)(8 + Type); /* TimerNotificationObject + Type */
    Timer->Header.Size = sizeof(KTIMER) / sizeof(LONG);
    Timer->Header.SignalState = 0;
    Timer->Header.WaitListHead.Flink = Timer->Header.WaitListHead.Blink = &Timer->Header.WaitListHead;
    Timer->DueTime.QuadPart = 0;
    Timer->Period = 0;
}

EXPORT NOINLINE BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    LARGE_INTEGER now;
    KeQueryTickCount(&now);
    Timer->DueTime.QuadPart = DueTime.QuadPart < 0 ? now.QuadPart * KeMaximumIncrement - DueTime.QuadPart
                                                   : DueTime.QuadPart;
    Timer->Period = (ULONG)Period;
    Timer->Dpc = Dpc;
    Timer->Header.Inserted = 1;
    return FALSE;
}

EXPORT NOINLINE BOOLEAN KeCancelTimer(PKTIMER Timer)
{
    BOOLEAN inserted = Timer->Header.Inserted;
    Timer->Header.Inserted = 0;
    return inserted;
}

/* ---- Waits (KeWaitForSingleObject is in ntoskrnl_asm.S) ---- */

EXPORT NOINLINE NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], ULONG WaitType,
                                                  KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                                                  BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                                  PKWAIT_BLOCK WaitBlockArray)
{
    PKTHREAD thread = KeGetCurrentThread();
    ULONG i;
    (void)Alertable;
    (void)Timeout;
    if (!WaitBlockArray)
        WaitBlockArray = thread->WaitBlock;
    for (i = 0; i < Count; i++) {
        WaitBlockArray[i].Object = Object[i];
        WaitBlockArray[i].Thread = thread;
        WaitBlockArray[i].WaitType = (UCHAR)WaitType;
        WaitBlockArray[i].WaitKey = (USHORT)i;
    }
    return KiCommitThreadWait(thread, WaitBlockArray, WaitReason, (ULONG)WaitMode);
}

EXPORT NOINLINE NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
    PKTHREAD thread = KeGetCurrentThread();
    PKWAIT_BLOCK timerBlock = &thread->WaitBlock[3]; /* TIMER_WAIT_BLOCK */
    (void)Alertable;
    KeSetTimerEx(&thread->Timer, *Interval, 0, NULL);
    timerBlock->Object = &thread->Timer;
    timerBlock->Thread = thread;
    return KiCommitThreadWait(thread, timerBlock, DelayExecution, (ULONG)WaitMode);
}

NOINLINE ULONG KeRemoveQueueEx(PKQUEUE Queue, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                               PLIST_ENTRY *EntryArray, ULONG Count)
{
    PKTHREAD thread = KeGetCurrentThread();
    (void)Alertable;
    (void)Timeout;
    (void)Count;
    thread->Queue = &Queue->Header;
    thread->WaitBlock[0].Object = Queue;
    thread->WaitBlock[0].Thread = thread;
    if (KiCommitThreadWait(thread, thread->WaitBlock, WrQueue, (ULONG)WaitMode) == STATUS_SUCCESS)
        EntryArray[0] = Queue->EntryListHead.Flink;
    return 1;
}

NOINLINE NTSTATUS KeWaitForAlertByThreadId(PVOID Address, PLARGE_INTEGER Timeout)
{
    PKTHREAD thread = KeGetCurrentThread();
    (void)Timeout;
    thread->WaitBlock[0].Object = Address;
    thread->WaitBlock[0].Thread = thread;
    return KiCommitThreadWait(thread, thread->WaitBlock, WrAlertByThreadId, UserMode);
}

/* ---- Objects and handles ---- */

/* A handle's object: this miniature keeps the objects of the scenario's
 * handles in a small table the dump writer may fill. */
static PVOID ObpHandleObjects[64];

EXPORT NOINLINE NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, PVOID ObjectType,
                                                   KPROCESSOR_MODE AccessMode, PVOID *Object, PVOID HandleInformation)
{
    ULONG_PTR index = (ULONG_PTR)Handle / 4;
    (void)DesiredAccess;
    (void)ObjectType;
    (void)AccessMode;
    (void)HandleInformation;
    if (index >= sizeof(ObpHandleObjects) / sizeof(ObpHandleObjects[0]) || !ObpHandleObjects[index])
        return STATUS_INVALID_HANDLE;
    *Object = ObpHandleObjects[index];
    return STATUS_SUCCESS;
}

EXPORT NOINLINE LONG_PTR ObfDereferenceObject(PVOID Object)
{
    POBJECT_HEADER header = (POBJECT_HEADER)((UCHAR *)Object - offsetof(OBJECT_HEADER, Body));
    return --header->PointerCount;
}

NOINLINE NTSTATUS ObWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
    PVOID object;
    NTSTATUS status = ObReferenceObjectByHandle(Handle, 0x100000 /* SYNCHRONIZE */, NULL, UserMode, &object, NULL);
    if (status != STATUS_SUCCESS)
        return status;
    status = KeWaitForSingleObject(object, UserRequest, UserMode, Alertable, Timeout);
    ObfDereferenceObject(object);
    return status;
}

NOINLINE NTSTATUS ObWaitForMultipleObjects(ULONG Count, HANDLE Handles[], ULONG WaitType, BOOLEAN Alertable,
                                           PLARGE_INTEGER Timeout)
{
    PVOID objects[64];
    ULONG i;
    if (Count > 64)
        return 0xC000000D; /* STATUS_INVALID_PARAMETER */
    for (i = 0; i < Count; i++) {
        NTSTATUS status = ObReferenceObjectByHandle(Handles[i], 0x100000, NULL, UserMode, &objects[i], NULL);
        if (status != STATUS_SUCCESS)
            return status;
    }
    return KeWaitForMultipleObjects(Count, objects, WaitType, UserRequest, UserMode, Alertable, Timeout, NULL);
}

/* ---- I/O ---- */

EXPORT NOINLINE NTSTATUS IofCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION irpSp = --Irp->Tail.Overlay.CurrentStackLocation;
    Irp->CurrentLocation--;
    irpSp->DeviceObject = DeviceObject;
    return ((DRIVER_DISPATCH *)DeviceObject->DriverObject->MajorFunction[irpSp->MajorFunction])(DeviceObject, Irp);
}

EXPORT NOINLINE VOID IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    (void)PriorityBoost;
    if (Irp->UserEvent)
        KeSetEvent(Irp->UserEvent, 0, FALSE);
}

/* A small non-paged pool for the miniature's allocations. */
static __declspec(align(16)) UCHAR ExpPool[0x4000];
static SIZE_T ExpPoolUsed;

EXPORT NOINLINE PVOID ExAllocatePoolWithTag(ULONG PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    PPOOL_HEADER header;
    SIZE_T size = (NumberOfBytes + sizeof(POOL_HEADER) + 15) & ~(SIZE_T)15;
    (void)PoolType;
    if (ExpPoolUsed + size > sizeof(ExpPool))
        return NULL;
    header = (PPOOL_HEADER)&ExpPool[ExpPoolUsed];
    ExpPoolUsed += size;
    header->PoolTag = Tag;
    header->BlockSize = (USHORT)(size / 16);
    return header + 1;
}

EXPORT NOINLINE VOID ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    (void)P;
    (void)Tag;
}

NOINLINE PIRP IoAllocateIrp(CCHAR StackSize, BOOLEAN ChargeQuota)
{
    SIZE_T size = sizeof(IRP) + StackSize * sizeof(IO_STACK_LOCATION);
    PIRP irp = ExAllocatePoolWithTag(0 /* NonPagedPool */, size, 0x20707249 /* 'Irp ' */);
    (void)ChargeQuota;
    if (!irp)
        return NULL;
    memset(irp, 0, size);
    irp->Type = 6; /* IO_TYPE_IRP */
    irp->Size = (USHORT)size;
    irp->StackCount = StackSize;
    irp->CurrentLocation = StackSize + 1;
    irp->Tail.Overlay.CurrentStackLocation = (PIO_STACK_LOCATION)(irp + 1) + StackSize;
    return irp;
}

EXPORT NOINLINE PIO_WORKITEM IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject)
{
    PIO_WORKITEM item = ExAllocatePoolWithTag(0, sizeof(IO_WORKITEM), 0x6b576f49 /* 'IoWk' */);
    if (item)
        item->IoObject = DeviceObject;
    return item;
}

/* The system worker queues (the dump writer links the work items). */
EX_WORK_QUEUE ExWorkerQueue[3];

NOINLINE VOID ExQueueWorkItem(PWORK_QUEUE_ITEM WorkItem, ULONG QueueType)
{
    PLIST_ENTRY head = &ExWorkerQueue[QueueType % 3].WorkPriQueue.EntryListHead[0];
    WorkItem->List.Flink = head;
    WorkItem->List.Blink = head->Blink;
    head->Blink->Flink = &WorkItem->List;
    head->Blink = &WorkItem->List;
}

EXPORT NOINLINE VOID IoQueueWorkItem(PIO_WORKITEM IoWorkItem, IO_WORKITEM_ROUTINE *WorkerRoutine, ULONG QueueType,
                                     PVOID Context)
{
    IoWorkItem->Routine = (VOID(*)(void))WorkerRoutine;
    IoWorkItem->Context = Context;
    IoWorkItem->WorkItem.WorkerRoutine = (VOID(*)(void))IopProcessWorkItem;
    IoWorkItem->WorkItem.Parameter = IoWorkItem;
    ExQueueWorkItem(&IoWorkItem->WorkItem, QueueType);
}

/* Sends the IRP to the driver and, for a synchronous handle, waits for it.
 * The dispatch routine is called here (IofCallDriver's work inlined): this
 * is the one call through a pointer in the function. */
NOINLINE NTSTATUS IopSynchronousServiceTail(PDEVICE_OBJECT DeviceObject, PIRP Irp, PFILE_OBJECT FileObject,
                                            BOOLEAN DeferredIoCompletion, KPROCESSOR_MODE RequestorMode,
                                            BOOLEAN SynchronousIo, ULONG TransferType)
{
    PIO_STACK_LOCATION irpSp;
    NTSTATUS status;
    (void)DeferredIoCompletion;
    (void)TransferType;
    Irp->Tail.Overlay.Thread = (PETHREAD)KeGetCurrentThread();
    irpSp = --Irp->Tail.Overlay.CurrentStackLocation;
    Irp->CurrentLocation--;
    irpSp->DeviceObject = DeviceObject;
    status = ((DRIVER_DISPATCH *)DeviceObject->DriverObject->MajorFunction[irpSp->MajorFunction])(DeviceObject, Irp);
    if (status == STATUS_PENDING && SynchronousIo) {
        KeWaitForSingleObject(&FileObject->Event, Executive, RequestorMode, FALSE, NULL);
        status = FileObject->FinalStatus;
    }
    return status;
}

NOINLINE NTSTATUS IopXxxControlFile(HANDLE FileHandle, HANDLE Event, PVOID ApcRoutine, PVOID ApcContext,
                                    PIO_STATUS_BLOCK IoStatusBlock, ULONG IoControlCode, PVOID InputBuffer,
                                    ULONG InputBufferLength, PVOID OutputBuffer, ULONG OutputBufferLength,
                                    BOOLEAN DeviceIoControl)
{
    PFILE_OBJECT fileObject;
    PDEVICE_OBJECT deviceObject;
    PIO_STACK_LOCATION irpSp;
    PIRP irp;
    NTSTATUS status;
    KPROCESSOR_MODE requestorMode = KeGetCurrentThread()->PreviousMode;
    (void)Event;
    (void)ApcRoutine;
    (void)ApcContext;
    status = ObReferenceObjectByHandle(FileHandle, 0, NULL, requestorMode, (PVOID *)&fileObject, NULL);
    if (status != STATUS_SUCCESS)
        return status;
    deviceObject = fileObject->DeviceObject;
    irp = IoAllocateIrp(deviceObject->StackSize, FALSE);
    if (!irp)
        return 0xC000009A; /* STATUS_INSUFFICIENT_RESOURCES */
    irp->Tail.Overlay.OriginalFileObject = fileObject;
    irp->RequestorMode = requestorMode;
    irp->UserIosb = IoStatusBlock;
    irp->AssociatedIrp.SystemBuffer = InputBuffer;
    irp->UserBuffer = OutputBuffer;
    irp->Flags = 0x00060000; /* IRP_DEFER_IO_COMPLETION-era flags the seed's IRP shows */
    irpSp = irp->Tail.Overlay.CurrentStackLocation - 1;
    irpSp->MajorFunction = DeviceIoControl ? IRP_MJ_DEVICE_CONTROL : 0x0d /* IRP_MJ_FILE_SYSTEM_CONTROL */;
    irpSp->FileObject = fileObject;
    irpSp->Parameters.DeviceIoControl.OutputBufferLength = OutputBufferLength;
    irpSp->Parameters.DeviceIoControl.InputBufferLength = InputBufferLength;
    irpSp->Parameters.DeviceIoControl.IoControlCode = IoControlCode;
    irpSp->Parameters.DeviceIoControl.Type3InputBuffer = InputBuffer;
    return IopSynchronousServiceTail(deviceObject, irp, fileObject, TRUE, requestorMode,
                                     (fileObject->Flags & 0x2 /* FO_SYNCHRONOUS_IO */) != 0, 0);
}

/* ---- System services (KiServiceTable in ntoskrnl_asm.S) ---- */

NOINLINE NTSTATUS NtDeviceIoControlFile(HANDLE FileHandle, HANDLE Event, PVOID ApcRoutine, PVOID ApcContext,
                                        PIO_STATUS_BLOCK IoStatusBlock, ULONG IoControlCode, PVOID InputBuffer,
                                        ULONG InputBufferLength, PVOID OutputBuffer, ULONG OutputBufferLength)
{
    return IopXxxControlFile(FileHandle, Event, ApcRoutine, ApcContext, IoStatusBlock, IoControlCode, InputBuffer,
                             InputBufferLength, OutputBuffer, OutputBufferLength, TRUE);
}

NOINLINE NTSTATUS NtWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
    return ObWaitForSingleObject(Handle, Alertable, Timeout);
}

NOINLINE NTSTATUS NtWaitForMultipleObjects(ULONG Count, HANDLE Handles[], ULONG WaitType, BOOLEAN Alertable,
                                           PLARGE_INTEGER Timeout)
{
    return ObWaitForMultipleObjects(Count, Handles, WaitType, Alertable, Timeout);
}

NOINLINE NTSTATUS NtDelayExecution(BOOLEAN Alertable, PLARGE_INTEGER DelayInterval)
{
    LARGE_INTEGER interval = *DelayInterval;
    return KeDelayExecutionThread(UserMode, Alertable, &interval);
}

NOINLINE NTSTATUS NtWaitForAlertByThreadId(PVOID Address, PLARGE_INTEGER Timeout)
{
    return KeWaitForAlertByThreadId(Address, Timeout);
}

NOINLINE NTSTATUS NtRemoveIoCompletion(HANDLE IoCompletionHandle, PVOID *KeyContext, PVOID *ApcContext,
                                       PIO_STATUS_BLOCK IoStatusBlock, PLARGE_INTEGER Timeout)
{
    PKQUEUE queue;
    PLIST_ENTRY entry = NULL;
    NTSTATUS status = ObReferenceObjectByHandle(IoCompletionHandle, 0x2, NULL, UserMode, (PVOID *)&queue, NULL);
    (void)KeyContext;
    (void)ApcContext;
    (void)IoStatusBlock;
    if (status != STATUS_SUCCESS)
        return status;
    KeRemoveQueueEx(queue, UserMode, FALSE, Timeout, &entry, 1);
    return entry ? STATUS_SUCCESS : STATUS_TIMEOUT;
}

NOINLINE NTSTATUS NtWaitForWorkViaWorkerFactory(HANDLE WorkerFactoryHandle, PVOID MiniPackets, ULONG Count,
                                                PULONG PacketsReturned, PVOID DeferredWork)
{
    PKQUEUE queue;
    PLIST_ENTRY entry = NULL;
    NTSTATUS status = ObReferenceObjectByHandle(WorkerFactoryHandle, 0x8, NULL, UserMode, (PVOID *)&queue, NULL);
    (void)MiniPackets;
    (void)DeferredWork;
    if (status != STATUS_SUCCESS)
        return status;
    *PacketsReturned = KeRemoveQueueEx(queue, UserMode, TRUE, NULL, &entry, Count);
    return STATUS_SUCCESS;
}

NOINLINE NTSTATUS NtSetEvent(HANDLE EventHandle, PLONG PreviousState)
{
    PKEVENT event;
    LONG old;
    NTSTATUS status = ObReferenceObjectByHandle(EventHandle, 0x2, NULL, UserMode, (PVOID *)&event, NULL);
    if (status != STATUS_SUCCESS)
        return status;
    old = KeSetEvent(event, 0, FALSE);
    if (PreviousState)
        *PreviousState = old;
    return STATUS_SUCCESS;
}

/* ---- Threads, idle loop, start-up ---- */

NOINLINE VOID PspTerminateThreadByPointer(NTSTATUS ExitStatus)
{
    KeBugCheckEx(0x5 /* INVALID_PROCESS_ATTACH_ATTEMPT: a system thread returned */, (ULONG_PTR)ExitStatus, 0, 0, 0);
}

/* The processor's idle state: halts until an interrupt. */
NOINLINE VOID PpmIdleExecuteTransition(PKPRCB Prcb)
{
    Prcb->IdleHalt = 1;
    __asm__ volatile("sti; hlt");
    Prcb->IdleHalt = 0;
}

NOINLINE VOID PoIdle(PKPRCB Prcb)
{
    PpmIdleExecuteTransition(Prcb);
}

/* The idle thread of every processor. */
NOINLINE VOID KiIdleLoop(void)
{
    for (;;) {
        PKPRCB prcb = KeGetCurrentPrcb();
        if (prcb->NextThread) {
            PKTHREAD next = prcb->NextThread;
            prcb->NextThread = NULL;
            KiSwapContext(prcb->IdleThread, next);
        }
        PoIdle(prcb);
    }
}

/* Lays out a new system thread's first kernel stack: a switch frame whose
 * return address is KiStartSystemThread, above it KiStartSystemThread's
 * frame with a zero return address and, in its caller's place, the start
 * routine and its context (see ntoskrnl_asm.S). */
NOINLINE VOID KiInitializeContextThread(PKTHREAD Thread, KSTART_ROUTINE *StartRoutine, PVOID StartContext)
{
    ULONG_PTR *sp = (ULONG_PTR *)Thread->InitialStack;
    PKSWITCH_FRAME frame;
    sp -= 2;
    sp[0] = (ULONG_PTR)StartRoutine; /* [KiStartSystemThread's rsp + 30h] */
    sp[1] = (ULONG_PTR)StartContext; /* [+38h] */
    *--sp = 0;                       /* the return address that ends the stack */
    sp -= 5;                         /* KiStartSystemThread's sub rsp, 28h */
    frame = (PKSWITCH_FRAME)sp - 1;
    memset(frame, 0, sizeof(*frame));
    frame->Return = (ULONGLONG)KiStartSystemThread;
    Thread->KernelStack = frame;
    Thread->State = 1; /* Ready */
}

/* The system worker queues and their threads. */
NOINLINE VOID ExpInitializeWorker(PKTHREAD Threads[], ULONG Count)
{
    ULONG i;
    for (i = 0; i < 3; i++) {
        ExWorkerQueue[i].WorkPriQueue.Header.Type = 0x15; /* PriQueueObject */
        ExWorkerQueue[i].WorkPriQueue.EntryListHead[0].Flink = &ExWorkerQueue[i].WorkPriQueue.EntryListHead[0];
        ExWorkerQueue[i].WorkPriQueue.EntryListHead[0].Blink = &ExWorkerQueue[i].WorkPriQueue.EntryListHead[0];
    }
    for (i = 0; i < Count; i++)
        KiInitializeContextThread(Threads[i], ExpWorkerThread, &ExWorkerQueue[i % 3]);
}

/* The kernel's entry point. */
NOINLINE VOID KiSystemStartup(PVOID LoaderBlock)
{
    PKPRCB prcb = &KiInitialPCR.Prcb;
    ULONG_PTR syscall = (ULONG_PTR)KiSystemCall64;
    (void)LoaderBlock;
    KiInitialPCR.Self = &KiInitialPCR;
    KiInitialPCR.CurrentPrcb = prcb;
    prcb->CurrentThread = prcb->IdleThread = &KiInitialThread.Tcb;
    KiProcessorBlock[0] = prcb;
    KeNumberProcessors = 1;
    PsIdleProcess = &KiInitialProcess;
    PsActiveProcessHead.Flink = PsActiveProcessHead.Blink = &PsActiveProcessHead;
    PsLoadedModuleList.Flink = PsLoadedModuleList.Blink = &PsLoadedModuleList;
    /* MSR_LSTAR: the syscall instruction enters KiSystemCall64. */
    __asm__ volatile("wrmsr" ::"c"(0xC0000082), "a"((ULONG)syscall), "d"((ULONG)(syscall >> 32)));
    ExpInitializeWorker(NULL, 0);
    KiIdleLoop();
}
