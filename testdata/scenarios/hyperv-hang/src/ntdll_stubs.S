# ntdbg scenario "hyperv-hang": ntdll's system-call stubs. Each stub is the
# Windows 8.1 x64 one, 16 bytes long: mov r10,rcx / mov eax,N / syscall /
# ret, padded with a 5-byte nop. They are leaf functions without unwind
# data. The padding in front puts NtDeviceIoControlFile at RVA 0x1240, so that
# with the image base 00007fff`97c30000 its `ret` sits at 00007fff`97c3124a
# as in the seed. Syscall numbers are those of the 8.1 table as far as the
# fixture needs them (the debugger never decodes them).
    .text
    .fill 0x1e0, 1, 0xcc

.macro STUB name, number
    .globl \name
    .def \name; .scl 2; .type 32; .endef
    .p2align 4, 0x90
\name:
    .byte 0x4c, 0x8b, 0xd1          # mov r10, rcx
    mov $\number, %eax
    syscall
    ret
    .byte 0x0f, 0x1f, 0x44, 0x00, 0x00  # nop dword ptr [rax+rax]
    .section .drectve,"yn"
    .ascii " -export:\name"
    .text
.endm

    STUB NtWorkerFactoryWorkerReady, 0x0
    STUB NtAcceptConnectPort, 0x1
    STUB NtMapUserPhysicalPagesScatter, 0x2
    STUB NtWaitForSingleObject, 0x3
    STUB NtCallbackReturn, 0x4
    STUB NtReadFile, 0x5
    STUB NtDeviceIoControlFile, 0x6
    STUB NtWriteFile, 0x7
    STUB NtRemoveIoCompletion, 0x8
    STUB NtReleaseSemaphore, 0x9
    STUB NtReplyWaitReceivePort, 0xa
    STUB NtReplyPort, 0xb
    STUB NtSetInformationThread, 0xc
    STUB NtSetEvent, 0xd
    STUB NtClose, 0xe
    STUB NtQueryObject, 0xf
    STUB NtDelayExecution, 0x33
    STUB NtWaitForMultipleObjects, 0x5a
    STUB NtAlpcSendWaitReceivePort, 0x7f
    STUB NtReleaseKeyedEvent, 0x14d
    STUB NtWaitForKeyedEvent, 0x179
    STUB NtWaitForAlertByThreadId, 0x17c
    STUB NtWaitForWorkViaWorkerFactory, 0x17d
