/* ntdbg scenario "hyperv-hang": kernel32's thread entry thunk. ntdll's
 * RtlUserThreadStart calls it through Kernel32ThreadInitThunkFunction. */
typedef unsigned long ULONG;
typedef ULONG (*PTHREAD_START_ROUTINE)(void *);
__declspec(dllexport) __attribute__((noinline)) ULONG BaseThreadInitThunk(ULONG LdrReserved, PTHREAD_START_ROUTINE StartAddress, void *Parameter)
{
    volatile ULONG exitCode = StartAddress(Parameter);
    return exitCode + LdrReserved;
}
