/* ntdbg scenario "hyperv-hang": a miniature ntdll.dll. It holds the
 * critical-section code the 104 waiters are in, the thread pool's worker
 * loop, the thread start routine and the globals a debugger reads by name
 * (RtlCriticalSectionList, the static debug blocks, the loader lock, PebLdr). */
#include "nt.h"

#define EXPORT __declspec(dllexport)
#define NOINLINE __attribute__((noinline))

/* System calls (ntdll_stubs.S). */
EXPORT NTSTATUS NtWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, LARGE_INTEGER *Timeout);
EXPORT NTSTATUS NtWaitForMultipleObjects(ULONG Count, HANDLE *Handles, ULONG WaitType, BOOLEAN Alertable, LARGE_INTEGER *Timeout);
EXPORT NTSTATUS NtWaitForKeyedEvent(HANDLE KeyedEvent, PVOID Key, BOOLEAN Alertable, LARGE_INTEGER *Timeout);
EXPORT NTSTATUS NtReleaseKeyedEvent(HANDLE KeyedEvent, PVOID Key, BOOLEAN Alertable, LARGE_INTEGER *Timeout);
EXPORT NTSTATUS NtWaitForAlertByThreadId(PVOID Address, LARGE_INTEGER *Timeout);
EXPORT NTSTATUS NtWaitForWorkViaWorkerFactory(HANDLE WorkerFactory, PVOID MiniPackets, ULONG Count, ULONG *Returned, PVOID DeferredWork);
EXPORT NTSTATUS NtSetEvent(HANDLE Event, LONG *PreviousState);

/* The process's list of critical sections: every RTL_CRITICAL_SECTION_DEBUG
 * is linked into it through its ProcessLocksList. */
EXPORT LIST_ENTRY RtlCriticalSectionList;
/* Protects RtlCriticalSectionList. */
EXPORT RTL_CRITICAL_SECTION RtlCriticalSectionLock;
/* The first debug blocks come from this array, the rest from the heap. */
RTL_CRITICAL_SECTION_DEBUG RtlpStaticDebugInfo[16];
ULONG RtlpStaticDebugInfoUsed;
EXPORT RTL_CRITICAL_SECTION LdrpLoaderLock;
EXPORT RTL_CRITICAL_SECTION FastPebLock;
EXPORT PEB_LDR_DATA PebLdr;
HANDLE RtlpKeyedEventHandle;
ULONG RtlpCriticalSectionSpinLimit = 0x7d0;

static inline TEB *NtCurrentTeb(void)
{
    TEB *teb;
    __asm__("movq %%gs:0x30, %0" : "=r"(teb));
    return teb;
}

EXPORT NOINLINE PEB *RtlGetCurrentPeb(void)
{
    return NtCurrentTeb()->ProcessEnvironmentBlock;
}

EXPORT NOINLINE ULONG RtlGetCurrentThreadId(void)
{
    TEB *teb = NtCurrentTeb();
    return (ULONG)(ULONG_PTR)teb->ClientId.UniqueThread;
}

/* Waits for the owner to release the section: on its event when it has one
 * (LockSemaphore), otherwise on the process's keyed event. An RBP frame: the
 * dynamic allocation forces a frame pointer (UWOP_SET_FPREG). */
EXPORT NOINLINE NTSTATUS RtlpWaitOnCriticalSection(PRTL_CRITICAL_SECTION CriticalSection, ULONG Increment)
{
    volatile UCHAR *trace = __builtin_alloca(0x40 + (Increment & 0x30));
    PEB *peb = RtlGetCurrentPeb();
    NTSTATUS status;
    trace[0] = (UCHAR)Increment;
    if (CriticalSection->DebugInfo != (PRTL_CRITICAL_SECTION_DEBUG)-1 && CriticalSection->DebugInfo)
        CriticalSection->DebugInfo->ContentionCount += 1;
    for (;;) {
        if (CriticalSection->LockSemaphore)
            status = NtWaitForSingleObject(CriticalSection->LockSemaphore, 0, &peb->CriticalSectionTimeout);
        else
            status = NtWaitForKeyedEvent(RtlpKeyedEventHandle, CriticalSection, 0, &peb->CriticalSectionTimeout);
        if (status != 0x102) /* STATUS_TIMEOUT */
            break;
    }
    CriticalSection->DebugInfo->EntryCount += trace[0];
    return status;
}

/* The slow path: spin, then wait, then take ownership. */
EXPORT NOINLINE NTSTATUS RtlpEnterCriticalSectionContended(PRTL_CRITICAL_SECTION CriticalSection)
{
    ULONG spins = (ULONG)(CriticalSection->SpinCount & 0x00ffffff);
    while (spins-- && CriticalSection->LockCount != -1)
        __asm__ volatile("pause");
    if (__atomic_fetch_sub(&CriticalSection->LockCount, 4, __ATOMIC_SEQ_CST) & 1)
        return 0;
    NTSTATUS status = RtlpWaitOnCriticalSection(CriticalSection, 2);
    CriticalSection->OwningThread = NtCurrentTeb()->ClientId.UniqueThread;
    CriticalSection->RecursionCount = 1;
    return status;
}

EXPORT NOINLINE NTSTATUS RtlEnterCriticalSection(PRTL_CRITICAL_SECTION CriticalSection)
{
    TEB *teb = NtCurrentTeb();
    if (__atomic_fetch_and(&CriticalSection->LockCount, ~1, __ATOMIC_SEQ_CST) & 1) {
        CriticalSection->OwningThread = teb->ClientId.UniqueThread;
        CriticalSection->RecursionCount = 1;
        return 0;
    }
    if (CriticalSection->OwningThread == teb->ClientId.UniqueThread) {
        CriticalSection->RecursionCount += 1;
        return 0;
    }
    NTSTATUS status = RtlpEnterCriticalSectionContended(CriticalSection);
    teb->CountOfOwnedCriticalSections += 1;
    CriticalSection->RecursionCount += status == 0 ? 0 : 1;
    return status;
}

EXPORT NOINLINE NTSTATUS RtlLeaveCriticalSection(PRTL_CRITICAL_SECTION CriticalSection)
{
    if (--CriticalSection->RecursionCount != 0)
        return 0;
    CriticalSection->OwningThread = 0;
    if (__atomic_fetch_add(&CriticalSection->LockCount, 1, __ATOMIC_SEQ_CST) != -2)
        return NtSetEvent(CriticalSection->LockSemaphore, 0);
    return 0;
}

/* Links a new debug block into RtlCriticalSectionList, as
 * RtlInitializeCriticalSectionEx does. */
EXPORT NOINLINE NTSTATUS RtlInitializeCriticalSectionEx(PRTL_CRITICAL_SECTION CriticalSection, ULONG SpinCount, ULONG Flags)
{
    CriticalSection->LockCount = -1;
    CriticalSection->RecursionCount = 0;
    CriticalSection->OwningThread = 0;
    CriticalSection->LockSemaphore = 0;
    CriticalSection->SpinCount = SpinCount | RTL_CRITICAL_SECTION_FLAG_DYNAMIC_SPIN;
    if (Flags & RTL_CRITICAL_SECTION_FLAG_NO_DEBUG_INFO || RtlpStaticDebugInfoUsed >= 16) {
        CriticalSection->DebugInfo = (PRTL_CRITICAL_SECTION_DEBUG)-1;
        return 0;
    }
    PRTL_CRITICAL_SECTION_DEBUG d = &RtlpStaticDebugInfo[RtlpStaticDebugInfoUsed++];
    d->Type = 0;
    d->CriticalSection = CriticalSection;
    d->ProcessLocksList.Flink = &RtlCriticalSectionList;
    d->ProcessLocksList.Blink = RtlCriticalSectionList.Blink;
    RtlCriticalSectionList.Blink->Flink = &d->ProcessLocksList;
    RtlCriticalSectionList.Blink = &d->ProcessLocksList;
    CriticalSection->DebugInfo = d;
    return 0;
}

EXPORT NOINLINE NTSTATUS RtlSleepConditionVariableSRW(RTL_CONDITION_VARIABLE *ConditionVariable, RTL_SRWLOCK *SRWLock,
                                                     LARGE_INTEGER *Timeout, ULONG Flags)
{
    volatile PVOID waitBlock[4];
    waitBlock[0] = ConditionVariable->Ptr;
    waitBlock[1] = SRWLock;
    NTSTATUS status = NtWaitForAlertByThreadId((PVOID)waitBlock, Timeout);
    SRWLock->Ptr = (PVOID)(ULONG_PTR)Flags;
    return status + (NTSTATUS)(ULONG_PTR)waitBlock[2];
}

/* ---- the thread pool ---- */

typedef struct _TP_CALLBACK_INSTANCE TP_CALLBACK_INSTANCE;
typedef void (*PTP_SIMPLE_CALLBACK)(TP_CALLBACK_INSTANCE *Instance, PVOID Context, PVOID Item);
typedef void (*PTP_ALPC_CALLBACK)(TP_CALLBACK_INSTANCE *Instance, PVOID Context, PVOID Alpc, PVOID Message);

typedef struct _TP_TASK {
    PTP_SIMPLE_CALLBACK Callback;
    PVOID Context;
    ULONG Kind; /* 1 work, 2 timer, 3 alpc */
    ULONG Flags;
    LIST_ENTRY Links;
} TP_TASK;

typedef struct _TP_ALPC {
    TP_TASK Task;
    HANDLE Port;
    PVOID Message;
} TP_ALPC;

struct _TP_CALLBACK_INSTANCE {
    TP_TASK *Task;
    ULONG Flags;
    PRTL_CRITICAL_SECTION CriticalSection;
};

typedef struct _TP_POOL {
    HANDLE WorkerFactory;
    ULONG Threads;
    TP_TASK *Packets[8];
} TP_POOL;

EXPORT NOINLINE void TppWorkpExecuteCallback(TP_CALLBACK_INSTANCE *Instance, TP_TASK *Work)
{
    volatile ULONG flags = Work->Flags;
    Work->Callback(Instance, Work->Context, Work);
    Instance->Flags = flags;
}

EXPORT NOINLINE void TppTimerpExecuteCallback(TP_CALLBACK_INSTANCE *Instance, TP_TASK *Timer)
{
    volatile ULONG flags = Timer->Flags | 2;
    Timer->Callback(Instance, Timer->Context, Timer);
    Instance->Flags = flags;
}

EXPORT NOINLINE void TppAlpcpExecuteCallback(TP_CALLBACK_INSTANCE *Instance, TP_ALPC *Alpc)
{
    volatile PVOID message = Alpc->Message;
    ((PTP_ALPC_CALLBACK)Alpc->Task.Callback)(Instance, Alpc->Task.Context, Alpc, (PVOID)message);
    Instance->Flags = Alpc->Task.Flags;
}

/* The worker threads of every thread pool: wait on the worker factory for
 * work, then run it. */
EXPORT NOINLINE ULONG TppWorkerThread(TP_POOL *Pool)
{
    TP_CALLBACK_INSTANCE instance = {0};
    ULONG returned = 0;
    for (;;) {
        NTSTATUS status = NtWaitForWorkViaWorkerFactory(Pool->WorkerFactory, Pool->Packets, 8, &returned, 0);
        if (status < 0)
            return (ULONG)status;
        for (ULONG i = 0; i < returned; i++) {
            TP_TASK *task = Pool->Packets[i];
            instance.Task = task;
            if (task->Kind == 3)
                TppAlpcpExecuteCallback(&instance, (TP_ALPC *)task);
            else if (task->Kind == 2)
                TppTimerpExecuteCallback(&instance, task);
            else
                TppWorkpExecuteCallback(&instance, task);
        }
    }
}

/* The thread pool's wait threads. */
EXPORT NOINLINE ULONG TppWaiterpThread(TP_POOL *Pool)
{
    HANDLE handles[64];
    LARGE_INTEGER timeout;
    timeout.QuadPart = -10000000LL * 60;
    for (ULONG i = 0; i < 64; i++)
        handles[i] = Pool->Packets[i & 7];
    NTSTATUS status = NtWaitForMultipleObjects(Pool->Threads & 63, handles, 1, 1, &timeout);
    return (ULONG)status + (ULONG)(ULONG_PTR)handles[1];
}

typedef ULONG (*PTHREAD_START)(PVOID);
typedef ULONG (*PBASE_THREAD_INIT_THUNK)(ULONG, PTHREAD_START, PVOID);
EXPORT PBASE_THREAD_INIT_THUNK Kernel32ThreadInitThunkFunction;

/* Every thread starts here; kernel32!BaseThreadInitThunk is called through
 * the pointer kernel32 registered at process start. */
EXPORT NOINLINE void RtlUserThreadStart(PTHREAD_START StartAddress, PVOID Argument)
{
    volatile ULONG exitCode = Kernel32ThreadInitThunkFunction(0, StartAddress, Argument);
    (void)exitCode;
}

/* What the loader looks at when a thread starts: the PEB's loader data. */
EXPORT NOINLINE ULONG LdrpCountModules(void)
{
    PEB *peb = RtlGetCurrentPeb();
    ULONG n = 0;
    RtlEnterCriticalSection(peb->LoaderLock);
    for (LIST_ENTRY *e = peb->Ldr->InLoadOrderModuleList.Flink; e != &peb->Ldr->InLoadOrderModuleList; e = e->Flink) {
        LDR_DATA_TABLE_ENTRY *entry = (LDR_DATA_TABLE_ENTRY *)e;
        n += entry->SizeOfImage != 0;
    }
    RtlLeaveCriticalSection(peb->LoaderLock);
    return n + peb->ProcessParameters->Flags;
}
