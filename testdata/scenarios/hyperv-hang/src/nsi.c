/* ntdbg scenario "hyperv-hang": nsi.dll. NsiAllocateAndGetTable sends its
 * request to \Device\Nsi with NtDeviceIoControlFile; clobbering xmm6/xmm7
 * makes the prolog save them (UWOP_SAVE_XMM128). */
typedef long LONG;
typedef unsigned long ULONG;
typedef void *HANDLE;
__declspec(dllimport) LONG NtDeviceIoControlFile(HANDLE File, HANDLE Event, void *Apc, void *ApcContext, void *IoStatusBlock,
                                                 ULONG IoControlCode, void *InputBuffer, ULONG InputLength, void *OutputBuffer, ULONG OutputLength);
HANDLE NsiDeviceHandle = (HANDLE)0x44;
__declspec(dllexport) __attribute__((noinline)) LONG NsiAllocateAndGetTable(ULONG Store, void *ModuleId, ULONG Object, void **Table)
{
    volatile char request[0x68];
    char iosb[16];
    __asm__ volatile("" ::: "xmm6", "xmm7", "rbx", "rsi", "rdi");
    request[0] = (char)Object;
    LONG status = NtDeviceIoControlFile(NsiDeviceHandle, 0, 0, 0, iosb, 0x12001b, (void *)request, sizeof request, Table, Store);
    return status + request[1];
}
