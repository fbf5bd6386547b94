// ntdbg scenario "hyperv-hang": a miniature vmms.exe (Hyper-V Virtual
// Machine Management service). An RPC call, ComVmmsClusterManager::IsVmHealthy,
// takes the cluster manager's VM lock and then enumerates the network
// adapters, which never returns (the NIC driver below is stuck in a reset);
// every other path that needs the VM lock waits for it.
#include "nt.h"

typedef long HRESULT;
typedef int BOOL;
typedef unsigned long DWORD;

extern "C" {
__declspec(dllimport) long InternalGetIfTable2Ex(ULONG Level, void **Table);
__declspec(dllimport) NTSTATUS RtlEnterCriticalSection(PRTL_CRITICAL_SECTION CriticalSection);
__declspec(dllimport) NTSTATUS RtlLeaveCriticalSection(PRTL_CRITICAL_SECTION CriticalSection);
__declspec(dllimport) DWORD WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds, BOOL bAlertable);
__declspec(dllimport) DWORD WaitForMultipleObjectsEx(DWORD nCount, HANDLE *lpHandles, BOOL bWaitAll, DWORD dwMilliseconds, BOOL bAlertable);
__declspec(dllimport) DWORD SleepEx(DWORD dwMilliseconds, BOOL bAlertable);
__declspec(dllimport) BOOL SleepConditionVariableSRW(RTL_CONDITION_VARIABLE *ConditionVariable, RTL_SRWLOCK *SRWLock, DWORD dwMilliseconds, ULONG Flags);
__declspec(dllimport) BOOL GetQueuedCompletionStatus(HANDLE CompletionPort, DWORD *lpNumberOfBytesTransferred, ULONG_PTR *lpCompletionKey,
                                                     void **lpOverlapped, DWORD dwMilliseconds);
}

#define NOINLINE __attribute__((noinline))
#define INFINITE 0xffffffff

// ---- locks ----

// A scoped owner of a critical section, as vmms uses them.
class VmmsLock {
public:
    PRTL_CRITICAL_SECTION Section;
    ULONG Depth;
    NOINLINE void Acquire();
    NOINLINE void Release();
};

void VmmsLock::Acquire()
{
    RtlEnterCriticalSection(Section);
    Depth += 1;
}

void VmmsLock::Release()
{
    Depth -= 1;
    RtlLeaveCriticalSection(Section);
}

// ---- the network side (thread 20's path) ----

struct VmNetworkInterfaceTable { void *Table; ULONG Count; NOINLINE HRESULT Initialize(); };
struct NvspWmiINetCfgHelper { VmNetworkInterfaceTable Interfaces; NOINLINE HRESULT EnumerateNetworkAdapters(); };
struct NetConfigHelper { ULONG Flags; NOINLINE HRESULT GetNetworkBridgeAdapter(); };
struct NvspWmiUtility { static NOINLINE HRESULT GetBridgedAdapterId(); };
struct VmEthernetSwitchPort { ULONG PortId; NOINLINE HRESULT GetLogicalAdapterInternal(); NOINLINE HRESULT GetConnectedLogicalAdapter(); };
struct ExternalConnectionStatusRetriever {
    VmEthernetSwitchPort Port;
    NOINLINE HRESULT GetExternalSwitchAdapter();
    NOINLINE HRESULT GetExternalSwitchAdapterStatusInternal();
    NOINLINE HRESULT GetSwitchStatus();
};
struct VmEthernetConnectionProvider { ULONG Switches; NOINLINE HRESULT GetSwitchConnectionStatus(); };

class VmmsRealizedVirtualMachine {
public:
    ULONG State;
    VmmsLock *Lock;
    NOINLINE HRESULT VerifyExternalSwitches();
    NOINLINE HRESULT HandleStateChange(ULONG NewState);
};

// The cluster manager: its VM lock is the critical section everyone waits on.
class VmmsClusterManager {
public:
    void *Vtable;
    ULONG State;
    ULONG VmCount;
    VmmsRealizedVirtualMachine *Vms[4];
    ULONG_PTR Generation;
    RTL_CRITICAL_SECTION VmLock; // +0x38
    NOINLINE HRESULT IsVmHealthy(VmmsRealizedVirtualMachine *Vm);
    NOINLINE HRESULT RefreshVmState();
};
static_assert(__builtin_offsetof(VmmsClusterManager, VmLock) == 0x38, "VmLock");

struct ComVmmsClusterManager { static NOINLINE HRESULT IsVmHealthy(void *Binding, void *Argument); };

NvspWmiINetCfgHelper g_NetCfg;
ExternalConnectionStatusRetriever g_Retriever;
VmmsClusterManager *g_ClusterManager;

HRESULT VmNetworkInterfaceTable::Initialize()
{
    volatile ULONG level = 0x1b;
    HRESULT hr = InternalGetIfTable2Ex(level, &Table);
    Count = level;
    return hr;
}

HRESULT NvspWmiINetCfgHelper::EnumerateNetworkAdapters()
{
    volatile HRESULT hr = Interfaces.Initialize();
    return hr;
}

HRESULT NetConfigHelper::GetNetworkBridgeAdapter()
{
    volatile HRESULT hr = g_NetCfg.EnumerateNetworkAdapters();
    return hr + (HRESULT)Flags;
}

HRESULT NvspWmiUtility::GetBridgedAdapterId()
{
    NetConfigHelper helper = {0};
    volatile HRESULT hr = helper.GetNetworkBridgeAdapter();
    return hr;
}

HRESULT VmEthernetSwitchPort::GetLogicalAdapterInternal()
{
    volatile HRESULT hr = NvspWmiUtility::GetBridgedAdapterId();
    return hr + (HRESULT)PortId;
}

HRESULT VmEthernetSwitchPort::GetConnectedLogicalAdapter()
{
    volatile HRESULT hr = GetLogicalAdapterInternal();
    return hr;
}

HRESULT ExternalConnectionStatusRetriever::GetExternalSwitchAdapter()
{
    volatile HRESULT hr = Port.GetConnectedLogicalAdapter();
    return hr;
}

HRESULT ExternalConnectionStatusRetriever::GetExternalSwitchAdapterStatusInternal()
{
    volatile HRESULT hr = GetExternalSwitchAdapter();
    return hr;
}

HRESULT ExternalConnectionStatusRetriever::GetSwitchStatus()
{
    volatile HRESULT hr = GetExternalSwitchAdapterStatusInternal();
    return hr;
}

HRESULT VmEthernetConnectionProvider::GetSwitchConnectionStatus()
{
    volatile HRESULT hr = g_Retriever.GetSwitchStatus();
    return hr + (HRESULT)Switches;
}

HRESULT VmmsRealizedVirtualMachine::VerifyExternalSwitches()
{
    VmEthernetConnectionProvider provider = {State};
    volatile HRESULT hr = provider.GetSwitchConnectionStatus();
    return hr;
}

HRESULT VmmsRealizedVirtualMachine::HandleStateChange(ULONG NewState)
{
    Lock->Acquire();
    State = NewState;
    Lock->Release();
    return 0;
}

// Takes the VM lock, then checks the VM's switches while holding it.
HRESULT VmmsClusterManager::IsVmHealthy(VmmsRealizedVirtualMachine *Vm)
{
    RtlEnterCriticalSection(&VmLock);
    volatile HRESULT hr = Vm->VerifyExternalSwitches();
    RtlLeaveCriticalSection(&VmLock);
    return hr;
}

HRESULT VmmsClusterManager::RefreshVmState()
{
    RtlEnterCriticalSection(&VmLock);
    for (ULONG i = 0; i < VmCount && i < 4; i++)
        State |= Vms[i]->State;
    RtlLeaveCriticalSection(&VmLock);
    return (HRESULT)State;
}

HRESULT ComVmmsClusterManager::IsVmHealthy(void *Binding, void *Argument)
{
    VmmsRealizedVirtualMachine *vm = g_ClusterManager->Vms[(ULONG_PTR)Argument & 3];
    volatile HRESULT hr = g_ClusterManager->IsVmHealthy(vm);
    return hr + (HRESULT)(ULONG_PTR)Binding;
}

// ---- the other RPC methods that need the VM lock (get-vm, WMI) ----

class VmmsVirtualMachine {
public:
    VmmsLock *Lock;
    ULONG SummaryFlags;
    NOINLINE HRESULT GetSummaryInformation(ULONG Flags);
};

class VmmsVirtualMachineManager {
public:
    VmmsLock *Lock;
    ULONG Count;
    VmmsVirtualMachine *Machines[4];
    NOINLINE HRESULT EnumerateVirtualMachines(ULONG *Count);
};

struct ComVmmsVirtualMachine { static NOINLINE HRESULT GetSummaryInformation(void *Binding, void *Argument); };
struct ComVmmsVirtualMachineManager { static NOINLINE HRESULT EnumerateVirtualMachines(void *Binding, void *Argument); };

VmmsVirtualMachineManager *g_VmManager;

HRESULT VmmsVirtualMachine::GetSummaryInformation(ULONG Flags)
{
    Lock->Acquire();
    volatile ULONG flags = SummaryFlags | Flags;
    Lock->Release();
    return (HRESULT)flags;
}

HRESULT VmmsVirtualMachineManager::EnumerateVirtualMachines(ULONG *Out)
{
    Lock->Acquire();
    volatile ULONG n = Count;
    Lock->Release();
    *Out = n;
    return 0;
}

HRESULT ComVmmsVirtualMachine::GetSummaryInformation(void *Binding, void *Argument)
{
    VmmsVirtualMachine *vm = g_VmManager->Machines[(ULONG_PTR)Binding & 3];
    volatile HRESULT hr = vm->GetSummaryInformation((ULONG)(ULONG_PTR)Argument);
    return hr;
}

HRESULT ComVmmsVirtualMachineManager::EnumerateVirtualMachines(void *Binding, void *Argument)
{
    ULONG count = 0;
    volatile HRESULT hr = g_VmManager->EnumerateVirtualMachines(&count);
    *(ULONG *)Argument = count + (ULONG)(ULONG_PTR)Binding;
    return hr;
}

// The server routines, in the order of the interface's procedure numbers.
typedef HRESULT (*SERVER_ROUTINE)(void *, void *);
extern "C" const SERVER_ROUTINE VmmsServerRoutineTable[] = {
    ComVmmsClusterManager::IsVmHealthy,
    ComVmmsVirtualMachine::GetSummaryInformation,
    ComVmmsVirtualMachineManager::EnumerateVirtualMachines,
};

// ---- thread-pool callbacks ----

struct TP_CALLBACK_INSTANCE;

struct VmmsHeartbeatMonitor {
    static NOINLINE void TimerCallback(TP_CALLBACK_INSTANCE *Instance, void *Context, void *Timer);
};

struct VmmsTaskQueue {
    static NOINLINE void WorkCallback(TP_CALLBACK_INSTANCE *Instance, void *Context, void *Work);
};

void VmmsHeartbeatMonitor::TimerCallback(TP_CALLBACK_INSTANCE *Instance, void *Context, void *Timer)
{
    volatile HRESULT hr = g_ClusterManager->RefreshVmState();
    (void)Instance, (void)Context, (void)Timer;
}

void VmmsTaskQueue::WorkCallback(TP_CALLBACK_INSTANCE *Instance, void *Context, void *Work)
{
    VmmsRealizedVirtualMachine *vm = (VmmsRealizedVirtualMachine *)Context;
    volatile HRESULT hr = vm->HandleStateChange(2);
    (void)Instance, (void)Work;
}

// The trace buffer lock is initialized without debug info
// (RTL_CRITICAL_SECTION_FLAG_NO_DEBUG_INFO): DebugInfo is -1.
RTL_CRITICAL_SECTION g_TraceBufferLock;
// Statically initialized and never entered: DebugInfo is NULL, the
// section is free (LockCount -1).
RTL_CRITICAL_SECTION g_ConfigStoreLock = {0, -1, 0, 0, 0, 0};

struct VmmsTraceFlusher {
    HANDLE FlushEvent;
    ULONG Pending;
    NOINLINE void Flush();
    static NOINLINE void WorkCallback(TP_CALLBACK_INSTANCE *Instance, void *Context, void *Work);
};

void VmmsTraceFlusher::Flush()
{
    RtlEnterCriticalSection(&g_TraceBufferLock);
    WaitForSingleObjectEx(FlushEvent, 30000, 0);
    Pending = 0;
    RtlLeaveCriticalSection(&g_TraceBufferLock);
}

void VmmsTraceFlusher::WorkCallback(TP_CALLBACK_INSTANCE *Instance, void *Context, void *Work)
{
    ((VmmsTraceFlusher *)Context)->Flush();
    (void)Instance, (void)Work;
}

// ---- the service's own threads ----

struct VmmsWorkerQueue {
    HANDLE WorkEvent;
    ULONG Processed;
    static NOINLINE DWORD ThreadProc(void *Parameter);
};

struct VmmsTimerManager {
    HANDLE Timers[4];
    static NOINLINE DWORD TimerThreadProc(void *Parameter);
};

struct VmmsEventMonitor {
    HANDLE Events[3];
    static NOINLINE DWORD ThreadProc(void *Parameter);
};

struct VmmsStorageQueue {
    RTL_SRWLOCK Lock;
    RTL_CONDITION_VARIABLE Ready;
    ULONG Items;
    NOINLINE void WaitForItem();
    static NOINLINE DWORD ThreadProc(void *Parameter);
};

struct VmmsPerfCounterProvider {
    ULONG Interval;
    static NOINLINE DWORD ThreadProc(void *Parameter);
};

struct VmmsIoCompletionPort {
    HANDLE Port;
    static NOINLINE DWORD ThreadProc(void *Parameter);
};

DWORD VmmsWorkerQueue::ThreadProc(void *Parameter)
{
    VmmsWorkerQueue *q = (VmmsWorkerQueue *)Parameter;
    for (;;) {
        if (WaitForSingleObjectEx(q->WorkEvent, INFINITE, 0) != 0)
            return 1;
        q->Processed += 1;
    }
}

DWORD VmmsTimerManager::TimerThreadProc(void *Parameter)
{
    VmmsTimerManager *m = (VmmsTimerManager *)Parameter;
    DWORD fired = 0;
    while (WaitForMultipleObjectsEx(4, m->Timers, 0, INFINITE, 1) < 4)
        fired += 1;
    return fired;
}

DWORD VmmsEventMonitor::ThreadProc(void *Parameter)
{
    VmmsEventMonitor *m = (VmmsEventMonitor *)Parameter;
    DWORD events = 0;
    while (WaitForMultipleObjectsEx(3, m->Events, 0, INFINITE, 0) != 2)
        events += 1;
    return events;
}

void VmmsStorageQueue::WaitForItem()
{
    while (Items == 0)
        SleepConditionVariableSRW(&Ready, &Lock, INFINITE, 0);
    Items -= 1;
}

DWORD VmmsStorageQueue::ThreadProc(void *Parameter)
{
    VmmsStorageQueue *q = (VmmsStorageQueue *)Parameter;
    for (DWORD n = 0;; n++)
        q->WaitForItem();
}

DWORD VmmsPerfCounterProvider::ThreadProc(void *Parameter)
{
    VmmsPerfCounterProvider *p = (VmmsPerfCounterProvider *)Parameter;
    DWORD ticks = 0;
    while (SleepEx(p->Interval, 1) == 0)
        ticks += 1;
    return ticks;
}

DWORD VmmsIoCompletionPort::ThreadProc(void *Parameter)
{
    VmmsIoCompletionPort *p = (VmmsIoCompletionPort *)Parameter;
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    void *overlapped = 0;
    while (GetQueuedCompletionStatus(p->Port, &bytes, &key, &overlapped, INFINITE))
        key += bytes;
    return (DWORD)key;
}

// ---- the service main thread ----

struct VmmsService {
    HANDLE StopEvent;
    NOINLINE DWORD Run();
};

VmmsService g_Service;

DWORD VmmsService::Run()
{
    DWORD r = WaitForSingleObjectEx(StopEvent, INFINITE, 0);
    StopEvent = 0;
    return r;
}

extern "C" NOINLINE int wmain(int argc, WCHAR **argv)
{
    volatile DWORD r = g_Service.Run();
    return (int)r + argc + (argv != 0);
}

extern "C" NOINLINE DWORD wmainCRTStartup(void *Peb)
{
    volatile int r = wmain(1, (WCHAR **)Peb);
    return (DWORD)r;
}
