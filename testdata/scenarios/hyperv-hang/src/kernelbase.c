/* ntdbg scenario "hyperv-hang": the KERNELBASE.dll wait functions the
 * service's threads sleep in, each a thin layer over an ntdll system call. */
typedef long NTSTATUS;
typedef unsigned long ULONG, DWORD;
typedef int BOOL;
typedef unsigned char BOOLEAN;
typedef long long LONGLONG;
typedef unsigned long long ULONG_PTR;
typedef void *HANDLE, *PVOID;
typedef union _LARGE_INTEGER { struct { ULONG LowPart; long HighPart; } u; LONGLONG QuadPart; } LARGE_INTEGER;
typedef struct _RTL_SRWLOCK { PVOID Ptr; } RTL_SRWLOCK;
typedef struct _RTL_CONDITION_VARIABLE { PVOID Ptr; } RTL_CONDITION_VARIABLE;
typedef struct _OVERLAPPED { ULONG_PTR Internal, InternalHigh; ULONG Offset, OffsetHigh; HANDLE hEvent; } OVERLAPPED;
typedef struct _IO_STATUS_BLOCK { union { NTSTATUS Status; PVOID Pointer; }; ULONG_PTR Information; } IO_STATUS_BLOCK;

#define IMPORT __declspec(dllimport)
#define EXPORT __declspec(dllexport)
#define NOINLINE __attribute__((noinline))

IMPORT NTSTATUS NtWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, LARGE_INTEGER *Timeout);
IMPORT NTSTATUS NtWaitForMultipleObjects(ULONG Count, HANDLE *Handles, ULONG WaitType, BOOLEAN Alertable, LARGE_INTEGER *Timeout);
IMPORT NTSTATUS NtDelayExecution(BOOLEAN Alertable, LARGE_INTEGER *Interval);
IMPORT NTSTATUS NtRemoveIoCompletion(HANDLE Port, PVOID *Key, PVOID *ApcContext, IO_STATUS_BLOCK *Iosb, LARGE_INTEGER *Timeout);
IMPORT NTSTATUS RtlSleepConditionVariableSRW(RTL_CONDITION_VARIABLE *ConditionVariable, RTL_SRWLOCK *SRWLock, LARGE_INTEGER *Timeout, ULONG Flags);

DWORD BaseLastError;

static LARGE_INTEGER *BaseFormatTimeOut(LARGE_INTEGER *Timeout, DWORD Milliseconds)
{
    if (Milliseconds == 0xffffffff)
        return 0;
    Timeout->QuadPart = -10000LL * Milliseconds;
    return Timeout;
}

EXPORT NOINLINE DWORD WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds, BOOL bAlertable)
{
    LARGE_INTEGER timeout;
    NTSTATUS status = NtWaitForSingleObject(hHandle, (BOOLEAN)bAlertable, BaseFormatTimeOut(&timeout, dwMilliseconds));
    if (status < 0) {
        BaseLastError = (DWORD)status;
        return 0xffffffff;
    }
    return (DWORD)status;
}

EXPORT NOINLINE DWORD WaitForMultipleObjectsEx(DWORD nCount, HANDLE *lpHandles, BOOL bWaitAll, DWORD dwMilliseconds, BOOL bAlertable)
{
    LARGE_INTEGER timeout;
    HANDLE handles[64];
    for (DWORD i = 0; i < nCount && i < 64; i++)
        handles[i] = lpHandles[i];
    NTSTATUS status = NtWaitForMultipleObjects(nCount, handles, bWaitAll ? 0 : 1, (BOOLEAN)bAlertable,
                                               BaseFormatTimeOut(&timeout, dwMilliseconds));
    if (status < 0) {
        BaseLastError = (DWORD)status;
        return 0xffffffff;
    }
    return (DWORD)status;
}

EXPORT NOINLINE DWORD SleepEx(DWORD dwMilliseconds, BOOL bAlertable)
{
    LARGE_INTEGER interval;
    LARGE_INTEGER *p = BaseFormatTimeOut(&interval, dwMilliseconds);
    NTSTATUS status;
    do
        status = NtDelayExecution((BOOLEAN)bAlertable, p);
    while (bAlertable && status == 0x101);
    return status == 0xc0 ? 0xc0 : 0;
}

EXPORT NOINLINE BOOL SleepConditionVariableSRW(RTL_CONDITION_VARIABLE *ConditionVariable, RTL_SRWLOCK *SRWLock, DWORD dwMilliseconds, ULONG Flags)
{
    LARGE_INTEGER timeout;
    NTSTATUS status = RtlSleepConditionVariableSRW(ConditionVariable, SRWLock, BaseFormatTimeOut(&timeout, dwMilliseconds), Flags);
    if (status != 0) {
        BaseLastError = (DWORD)status;
        return 0;
    }
    return 1;
}

EXPORT NOINLINE BOOL GetQueuedCompletionStatus(HANDLE CompletionPort, DWORD *lpNumberOfBytesTransferred, ULONG_PTR *lpCompletionKey,
                                              OVERLAPPED **lpOverlapped, DWORD dwMilliseconds)
{
    LARGE_INTEGER timeout;
    IO_STATUS_BLOCK iosb;
    NTSTATUS status = NtRemoveIoCompletion(CompletionPort, (PVOID *)lpCompletionKey, (PVOID *)lpOverlapped, &iosb,
                                           BaseFormatTimeOut(&timeout, dwMilliseconds));
    *lpNumberOfBytesTransferred = (DWORD)iosb.Information;
    return status == 0;
}
