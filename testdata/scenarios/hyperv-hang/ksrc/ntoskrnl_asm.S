# ntdbg scenario "hyperv-hang": the parts of the miniature ntoskrnl.exe whose
# return addresses the seed shows (nt!KiSwapContext+0x76, KiSwapThread+0x14e,
# KiCommitThreadWait+0x129, KeWaitForSingleObject+0x373, IopProcessWorkItem+0x80,
# ExpWorkerThread+0x69f, PspSystemThreadStartup+0x58, KiStartSystemThread+0x16,
# KiSystemServiceCopyEnd+0x13), written in assembly so that each call sits at
# exactly that offset: ".org Function + N" places the call (and fails the
# build if the code before it is longer); the bytes up to it are nops.
#
# Frames, innermost first (each is exactly what its unwind codes describe):
#   SwapContext      push rbp; sub rsp,30h: the 40h-byte KSWITCH_FRAME. A thread
#                    that is not running has KTHREAD.KernelStack = the address of
#                    this frame: +28h ApcBypass (WaitIrql), +30h Rbp, +38h Return
#                    = nt!KiSwapContext+0x76 (formats-spec 6.8).
#   KiSwapContext    sub rsp,138h: a KEXCEPTION_FRAME (140h with its Return):
#                    Xmm6-Xmm15 at +30h..+C0h, Rbp +F8h, Rbx +100h, Rdi +108h,
#                    Rsi +110h, R12-R15 +118h..+130h, Return +138h (into
#                    KiSwapThread+0x14e). So KiSwapContext's Child-SP is
#                    KernelStack+40h and KiSwapThread's is KernelStack+180h.
#   KiSwapThread     saves rbx, rsi in its home area, pushes rbp rdi r12-r15, sub 68h (98h + return)
#   KiCommitThreadWait saves rbx, rsi in its home area, pushes rdi r12-r15, sub 40h (68h + return)
#   KeWaitForSingleObject saves rbx in its home area, pushes rbp rsi rdi r12-r15, sub 50h (88h + return)
#   IopProcessWorkItem push rbx, rsi; sub 28h
#   ExpWorkerThread  pushes rbx rbp rsi rdi r12-r15, sub 0A8h
#   PspSystemThreadStartup saves rbx, rsi in its home area, push rdi, sub 30h
#   KiStartSystemThread sub 28h; its caller's "frame" above the (zero) return
#                    address holds StartRoutine (+30h) and StartContext (+38h)
#   KiSystemCall64   machine frame (user Rip, Cs, EFlags, Rsp, Ss), sub 8
#                    (ErrorCode), push rbp, sub 158h, lea rbp,[rsp+80h]: a
#                    KTRAP_FRAME at rbp-80h whose Rip/Rsp are the user's.
#
# The structure offsets below are checked against nt9600.h in ntoskrnl.c.
    .intel_syntax noprefix
    .set KTHREAD_KernelStack, 0x58
    .set KTHREAD_TrapFrame, 0x90
    .set KTHREAD_WaitStatus, 0xc8
    .set KTHREAD_WaitBlock, 0x140
    .set KTHREAD_State, 0x184
    .set KTHREAD_WaitIrql, 0x186
    .set KTHREAD_WaitMode, 0x187
    .set KTHREAD_WaitReason, 0x283
    .set KPCR_UserRsp, 0x10
    .set KPCR_CurrentPrcb, 0x20
    .set KPCR_Prcb, 0x180
    .set KPRCB_CurrentThread, 0x8
    .set KPRCB_NextThread, 0x10
    .set KPRCB_RspBase, 0x28
    .set KWAIT_BLOCK_WaitType, 0x10
    .set KWAIT_BLOCK_BlockState, 0x11
    .set KWAIT_BLOCK_Thread, 0x18
    .set KWAIT_BLOCK_Object, 0x20
    .set WORK_QUEUE_ITEM_WorkerRoutine, 0x10
    .set WORK_QUEUE_ITEM_Parameter, 0x18
    .set IO_WORKITEM_Routine, 0x20
    .set IO_WORKITEM_IoObject, 0x28
    .set IO_WORKITEM_Context, 0x30
    .set KTRAP_FRAME_Rbp, 0x158

.macro FUNC name
    .globl \name
    .def \name; .scl 2; .type 32; .endef
    .p2align 4, 0xcc
\name:
.endm

.macro EXPORT name
    .section .drectve,"yn"
    .ascii " -export:\name"
    .text
.endm

    .text

# KiSystemCall64: the syscall entry. The CPU left the user's Rip in rcx and
# EFlags in r11; the service number is in eax, the first argument in r10.
FUNC KiSystemCall64
    .seh_proc KiSystemCall64
    swapgs
    mov qword ptr gs:[KPCR_UserRsp], rsp
    mov rsp, qword ptr gs:[KPCR_Prcb + KPRCB_RspBase]
    push 0x2b                          # SegSs
    push qword ptr gs:[KPCR_UserRsp]   # Rsp
    push r11                           # EFlags
    push 0x33                          # SegCs
    push rcx                           # Rip
    .seh_pushframe
    sub rsp, 8                         # ErrorCode
    .seh_stackalloc 8
    push rbp
    .seh_pushreg rbp
    sub rsp, 0x158
    .seh_stackalloc 0x158
    lea rbp, [rsp + 0x80]
    .seh_setframe rbp, 0x80
    .seh_endprologue
    mov [rbp + 0xc0], rbx              # KTRAP_FRAME.Rbx
    mov [rbp + 0xc8], rdi              # KTRAP_FRAME.Rdi
    mov [rbp + 0xd0], rsi              # KTRAP_FRAME.Rsi
    mov rbx, qword ptr gs:[KPCR_Prcb + KPRCB_CurrentThread]
    lea rcx, [rbp - 0x80]
    mov [rbx + KTHREAD_TrapFrame], rcx
    mov rcx, r10
    sti
    .globl KiSystemServiceStart
    .def KiSystemServiceStart; .scl 2; .type 32; .endef
KiSystemServiceStart:
    mov edi, eax
    .globl KiSystemServiceRepeat
    .def KiSystemServiceRepeat; .scl 2; .type 32; .endef
KiSystemServiceRepeat:
    lea r10, [rip + KiServiceTable]
    cmp edi, dword ptr [rip + KiServiceLimit]
    jae KiSystemServiceExit
    mov r10, [r10 + rdi * 8]
    test r10, r10
    je KiSystemServiceExit
    .globl KiSystemServiceCopyStart
    .def KiSystemServiceCopyStart; .scl 2; .type 32; .endef
KiSystemServiceCopyStart:
    # Arguments 5 and up are on the user's stack; this miniature passes
    # none of them through (the stack frames below leave them zero).
    mov rax, [rbp + 0x100]             # KTRAP_FRAME.Rsp
    .globl KiSystemServiceCopyEnd
    .def KiSystemServiceCopyEnd; .scl 2; .type 32; .endef
KiSystemServiceCopyEnd:
    test dword ptr [rip + PerfGlobalGroupMask + 8], 0x40
    jne KiSystemServiceExit
    .org KiSystemServiceCopyEnd + 0x10, 0x90
    call r10
    # KiSystemServiceCopyEnd+0x13
    .globl KiSystemServiceExit
    .def KiSystemServiceExit; .scl 2; .type 32; .endef
KiSystemServiceExit:
    mov rbx, [rbp + 0xc0]
    mov rdi, [rbp + 0xc8]
    mov rsi, [rbp + 0xd0]
    mov rcx, [rbp + 0xe8]              # KTRAP_FRAME.Rip
    mov r11, [rbp + 0xf8]              # KTRAP_FRAME.EFlags
    mov rbp, [rbp + 0xd8]              # KTRAP_FRAME.Rbp
    mov rsp, qword ptr [rsp + 0x180]   # KTRAP_FRAME.Rsp
    swapgs
    sysretq
    .seh_endproc

# SwapContext(rcx = old thread, rdx = new thread): saves the old thread's
# switch frame, takes the new one's.
FUNC SwapContext
    .seh_proc SwapContext
    push rbp
    .seh_pushreg rbp
    sub rsp, 0x30
    .seh_stackalloc 0x30
    .seh_endprologue
    mov al, byte ptr [rcx + KTHREAD_WaitIrql]
    mov byte ptr [rsp + 0x28], al      # KSWITCH_FRAME.ApcBypass
    mov [rcx + KTHREAD_KernelStack], rsp
    mov rsp, [rdx + KTHREAD_KernelStack]
    mov qword ptr gs:[KPCR_Prcb + KPRCB_CurrentThread], rdx
    add rsp, 0x30
    pop rbp
    ret
    .seh_endproc

# KiSwapContext(rcx = old thread, rdx = new thread): saves the non-volatile
# registers in a KEXCEPTION_FRAME and switches.
FUNC KiSwapContext
    .seh_proc KiSwapContext
    sub rsp, 0x138
    .seh_stackalloc 0x138
    lea rax, [rsp + 0x100]
    movaps xmmword ptr [rsp + 0x30], xmm6
    .seh_savexmm xmm6, 0x30
    movaps xmmword ptr [rsp + 0x40], xmm7
    .seh_savexmm xmm7, 0x40
    movaps xmmword ptr [rsp + 0x50], xmm8
    .seh_savexmm xmm8, 0x50
    movaps xmmword ptr [rsp + 0x60], xmm9
    .seh_savexmm xmm9, 0x60
    movaps xmmword ptr [rsp + 0x70], xmm10
    .seh_savexmm xmm10, 0x70
    movaps xmmword ptr [rax - 0x80], xmm11
    .seh_savexmm xmm11, 0x80
    movaps xmmword ptr [rax - 0x70], xmm12
    .seh_savexmm xmm12, 0x90
    movaps xmmword ptr [rax - 0x60], xmm13
    .seh_savexmm xmm13, 0xa0
    movaps xmmword ptr [rax - 0x50], xmm14
    .seh_savexmm xmm14, 0xb0
    movaps xmmword ptr [rax - 0x40], xmm15
    .seh_savexmm xmm15, 0xc0
    mov [rax - 0x8], rbp
    .seh_savereg rbp, 0xf8
    mov [rax], rbx
    .seh_savereg rbx, 0x100
    mov [rax + 0x8], rdi
    .seh_savereg rdi, 0x108
    mov [rax + 0x10], rsi
    .seh_savereg rsi, 0x110
    mov [rax + 0x18], r12
    .seh_savereg r12, 0x118
    mov [rax + 0x20], r13
    .seh_savereg r13, 0x120
    mov [rax + 0x28], r14
    .seh_savereg r14, 0x128
    mov [rax + 0x30], r15
    .seh_savereg r15, 0x130
    .seh_endprologue
    mov rbx, qword ptr gs:[KPCR_CurrentPrcb]
    mov rdi, rcx
    .org KiSwapContext + 0x71, 0x90
    call SwapContext
    # KiSwapContext+0x76: running again
    lea rcx, [rsp + 0x100]
    movaps xmm6, xmmword ptr [rsp + 0x30]
    movaps xmm7, xmmword ptr [rsp + 0x40]
    movaps xmm8, xmmword ptr [rsp + 0x50]
    movaps xmm9, xmmword ptr [rsp + 0x60]
    movaps xmm10, xmmword ptr [rsp + 0x70]
    movaps xmm11, xmmword ptr [rcx - 0x80]
    movaps xmm12, xmmword ptr [rcx - 0x70]
    movaps xmm13, xmmword ptr [rcx - 0x60]
    movaps xmm14, xmmword ptr [rcx - 0x50]
    movaps xmm15, xmmword ptr [rcx - 0x40]
    mov rbp, [rcx - 0x8]
    mov rbx, [rcx]
    mov rdi, [rcx + 0x8]
    mov rsi, [rcx + 0x10]
    mov r12, [rcx + 0x18]
    mov r13, [rcx + 0x20]
    mov r14, [rcx + 0x28]
    mov r15, [rcx + 0x30]
    add rsp, 0x138
    ret
    .seh_endproc

# KiSwapThread(rcx = thread, rdx = its KPRCB): picks the next thread and
# switches to it; returns the wait status when this thread runs again.
FUNC KiSwapThread
    .seh_proc KiSwapThread
    mov [rsp + 0x10], rbx
    .seh_savereg rbx, 0xa8
    mov [rsp + 0x18], rsi
    .seh_savereg rsi, 0xb0
    push rbp
    .seh_pushreg rbp
    push rdi
    .seh_pushreg rdi
    push r12
    .seh_pushreg r12
    push r13
    .seh_pushreg r13
    push r14
    .seh_pushreg r14
    push r15
    .seh_pushreg r15
    sub rsp, 0x68
    .seh_stackalloc 0x68
    .seh_endprologue
    mov rdi, rcx
    mov rsi, rdx
    mov rbx, [rdx + KPRCB_NextThread]
    mov qword ptr [rdx + KPRCB_NextThread], 0
    mov rcx, rdi
    mov rdx, rbx
    .org KiSwapThread + 0x149, 0x90
    call KiSwapContext
    # KiSwapThread+0x14e
    mov rax, [rdi + KTHREAD_WaitStatus]
    mov rbx, [rsp + 0xa8]
    mov rsi, [rsp + 0xb0]
    add rsp, 0x68
    pop r15
    pop r14
    pop r13
    pop r12
    pop rdi
    pop rbp
    ret
    .seh_endproc

# KiCommitThreadWait(rcx = thread, rdx = wait block list, r8d = wait reason,
# r9b = wait mode): puts the thread in its wait and switches away.
FUNC KiCommitThreadWait
    .seh_proc KiCommitThreadWait
    mov [rsp + 0x10], rbx
    .seh_savereg rbx, 0x78
    mov [rsp + 0x18], rsi
    .seh_savereg rsi, 0x80
    push rdi
    .seh_pushreg rdi
    push r12
    .seh_pushreg r12
    push r13
    .seh_pushreg r13
    push r14
    .seh_pushreg r14
    push r15
    .seh_pushreg r15
    sub rsp, 0x40
    .seh_stackalloc 0x40
    .seh_endprologue
    mov rdi, rcx
    mov rsi, rdx
    mov byte ptr [rdi + KTHREAD_WaitReason], r8b
    mov byte ptr [rdi + KTHREAD_WaitMode], r9b
    mov byte ptr [rdi + KTHREAD_State], 5          # Waiting
    mov rdx, qword ptr gs:[KPCR_CurrentPrcb]
    mov rcx, rdi
    .org KiCommitThreadWait + 0x124, 0x90
    call KiSwapThread
    # KiCommitThreadWait+0x129
    mov rbx, [rsp + 0x78]
    mov rsi, [rsp + 0x80]
    add rsp, 0x40
    pop r15
    pop r14
    pop r13
    pop r12
    pop rdi
    ret
    .seh_endproc

# NTSTATUS KeWaitForSingleObject(Object, WaitReason, WaitMode, Alertable, Timeout)
FUNC KeWaitForSingleObject
    EXPORT KeWaitForSingleObject
    .seh_proc KeWaitForSingleObject
    mov [rsp + 0x8], rbx
    .seh_savereg rbx, 0x90
    mov [rsp + 0x20], r9
    push rbp
    .seh_pushreg rbp
    push rsi
    .seh_pushreg rsi
    push rdi
    .seh_pushreg rdi
    push r12
    .seh_pushreg r12
    push r13
    .seh_pushreg r13
    push r14
    .seh_pushreg r14
    push r15
    .seh_pushreg r15
    sub rsp, 0x50
    .seh_stackalloc 0x50
    .seh_endprologue
    mov rbx, qword ptr gs:[KPCR_Prcb + KPRCB_CurrentThread]
    mov rsi, rcx                       # Object
    mov r14d, edx                      # WaitReason
    mov r15d, r8d                      # WaitMode
    lea rdi, [rbx + KTHREAD_WaitBlock] # WaitBlock[0]
    mov [rdi + KWAIT_BLOCK_Object], rsi
    mov [rdi + KWAIT_BLOCK_Thread], rbx
    mov byte ptr [rdi + KWAIT_BLOCK_WaitType], 1   # WaitAny
    mov byte ptr [rdi + KWAIT_BLOCK_BlockState], 2
    mov rcx, rbx
    mov rdx, rdi
    mov r8d, r14d
    mov r9d, r15d
    .org KeWaitForSingleObject + 0x36e, 0x90
    call KiCommitThreadWait
    # KeWaitForSingleObject+0x373
    mov rbx, [rsp + 0x90]
    add rsp, 0x50
    pop r15
    pop r14
    pop r13
    pop r12
    pop rdi
    pop rsi
    pop rbp
    ret
    .seh_endproc

# VOID IopProcessWorkItem(PIO_WORKITEM IoWorkItem): the WORK_QUEUE_ITEM
# routine of every IO_WORKITEM; calls the driver's routine.
FUNC IopProcessWorkItem
    .seh_proc IopProcessWorkItem
    push rbx
    .seh_pushreg rbx
    push rsi
    .seh_pushreg rsi
    sub rsp, 0x28
    .seh_stackalloc 0x28
    .seh_endprologue
    mov rbx, rcx
    mov rsi, [rbx + IO_WORKITEM_Routine]
    mov rcx, [rbx + IO_WORKITEM_IoObject]
    mov rdx, [rbx + IO_WORKITEM_Context]
    mov rax, rsi
    .org IopProcessWorkItem + 0x7e, 0x90
    call rax
    # IopProcessWorkItem+0x80
    mov rcx, [rbx + IO_WORKITEM_IoObject]
    call ObfDereferenceObject
    add rsp, 0x28
    pop rsi
    pop rbx
    ret
    .seh_endproc

# VOID ExpWorkerThread(PVOID StartContext): a system worker thread. It waits
# for a work item (the wait is a direct call to KiCommitThreadWait, as 8.1's
# inlined KeRemovePriQueue makes it) and calls the item's routine.
FUNC ExpWorkerThread
    .seh_proc ExpWorkerThread
    push rbx
    .seh_pushreg rbx
    push rbp
    .seh_pushreg rbp
    push rsi
    .seh_pushreg rsi
    push rdi
    .seh_pushreg rdi
    push r12
    .seh_pushreg r12
    push r13
    .seh_pushreg r13
    push r14
    .seh_pushreg r14
    push r15
    .seh_pushreg r15
    sub rsp, 0xa8
    .seh_stackalloc 0xa8
    .seh_endprologue
    mov r12, rcx                       # the EX_WORK_QUEUE
    mov rbp, qword ptr gs:[KPCR_Prcb + KPRCB_CurrentThread]
.LExpWait:
    mov rcx, rbp
    lea rdx, [rbp + KTHREAD_WaitBlock]
    mov r8d, 15                        # WrQueue
    xor r9d, r9d                       # KernelMode
    .org ExpWorkerThread + 0x17b, 0x90
    call KiCommitThreadWait
    # ExpWorkerThread+0x180: a work item (WORK_QUEUE_ITEM) is in rax
    mov rbx, rax
    test rbx, rbx
    je .LExpWait
    mov rcx, [rbx + WORK_QUEUE_ITEM_Parameter]
    .org ExpWorkerThread + 0x69c, 0x90
    call qword ptr [rbx + WORK_QUEUE_ITEM_WorkerRoutine]
    # ExpWorkerThread+0x69f
    jmp .LExpWait
    .seh_endproc

# VOID PspSystemThreadStartup(StartRoutine, StartContext)
FUNC PspSystemThreadStartup
    .seh_proc PspSystemThreadStartup
    mov [rsp + 0x8], rbx
    .seh_savereg rbx, 0x40
    mov [rsp + 0x10], rsi
    .seh_savereg rsi, 0x48
    push rdi
    .seh_pushreg rdi
    sub rsp, 0x30
    .seh_stackalloc 0x30
    .seh_endprologue
    mov rsi, rcx
    mov rdi, rdx
    mov rbx, qword ptr gs:[KPCR_Prcb + KPRCB_CurrentThread]
    mov rcx, rdi
    .org PspSystemThreadStartup + 0x56, 0x90
    call rsi
    # PspSystemThreadStartup+0x58
    xor ecx, ecx
    call PspTerminateThreadByPointer
    int3
    .seh_endproc

# The first code of a new system thread: SwapContext "returns" here.
FUNC KiStartSystemThread
    .seh_proc KiStartSystemThread
    sub rsp, 0x28
    .seh_stackalloc 0x28
    .seh_endprologue
    mov rcx, [rsp + 0x30]              # StartRoutine
    mov rdx, [rsp + 0x38]              # StartContext
    .org KiStartSystemThread + 0x11, 0x90
    call PspSystemThreadStartup
    # KiStartSystemThread+0x16
    int3
    .seh_endproc

# The system service table of this miniature: 8-byte pointers indexed by the
# service numbers of ntdll_stubs.S (Windows packs 32-bit offsets instead).
# Services the scenario does not model are 0 (STATUS_INVALID_SYSTEM_SERVICE).
    .section .rdata,"dr"
    .p2align 4
    .globl KiServiceTable
KiServiceTable:
    .org KiServiceTable + 0x003 * 8
    .quad NtWaitForSingleObject
    .org KiServiceTable + 0x006 * 8
    .quad NtDeviceIoControlFile
    .org KiServiceTable + 0x008 * 8
    .quad NtRemoveIoCompletion
    .org KiServiceTable + 0x00d * 8
    .quad NtSetEvent
    .org KiServiceTable + 0x033 * 8
    .quad NtDelayExecution
    .org KiServiceTable + 0x05a * 8
    .quad NtWaitForMultipleObjects
    .org KiServiceTable + 0x17c * 8
    .quad NtWaitForAlertByThreadId
    .quad NtWaitForWorkViaWorkerFactory
    .org KiServiceTable + 0x1a2 * 8
    .globl KiServiceLimit
KiServiceLimit:
    .long 0x1a2
