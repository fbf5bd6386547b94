# ntdbg scenario "hyperv-hang": NDIS!NdisMSleep, in assembly so that its call
# to KeWaitForSingleObject returns to NdisMSleep+0x59 as in the seed.
#
# VOID NdisMSleep(ULONG MicrosecondsToSleep): waits on a KTIMER on its own
# stack. Frame: push rbx; sub rsp,70h. The timer is at [rsp+30h] (so the
# sleeping thread's wait block points there: Child-SP of NdisMSleep + 30h),
# the fifth argument of KeWaitForSingleObject (Timeout, NULL) at [rsp+20h].
    .intel_syntax noprefix
    .text
    .globl NdisMSleep
    .def NdisMSleep; .scl 2; .type 32; .endef
    .section .drectve,"yn"
    .ascii " -export:NdisMSleep"
    .text
    .p2align 4, 0xcc
    .seh_proc NdisMSleep
NdisMSleep:
    push rbx
    .seh_pushreg rbx
    sub rsp, 0x70
    .seh_stackalloc 0x70
    .seh_endprologue
    mov ebx, ecx
    lea rcx, [rsp + 0x30]
    xor edx, edx                                   # NotificationTimer
    call qword ptr [rip + __imp_KeInitializeTimerEx]
    imul rdx, rbx, -10                             # relative due time, 100 ns units
    lea rcx, [rsp + 0x30]
    xor r8d, r8d
    xor r9d, r9d
    call qword ptr [rip + __imp_KeSetTimerEx]
    lea rcx, [rsp + 0x30]
    xor edx, edx                                   # Executive
    xor r8d, r8d                                   # KernelMode
    xor r9d, r9d                                   # not alertable
    mov qword ptr [rsp + 0x20], 0                  # no timeout
    .org NdisMSleep + 0x53, 0x90
    call qword ptr [rip + __imp_KeWaitForSingleObject]
    # NdisMSleep+0x59
    add rsp, 0x70
    pop rbx
    ret
    .seh_endproc
