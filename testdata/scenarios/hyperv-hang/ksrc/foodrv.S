# ntdbg scenario "hyperv-hang": a miniature FooDRV.sys, the third-party NDIS
# miniport driver of the FooBar adapters. It ships without a PDB (the build
# links it without /debug), so a debugger names its code FooDRV+offset; the
# names below exist only in the linker's map, for the dump writer.
#
# The seed's worker thread 4.1114 runs its reset work item:
#   nt!IopProcessWorkItem -> FooDRV+0x14696 -> FooDRV+0x70d79 -> FooDRV+0x8bc8b
#   -> FooDRV+0x8ccbb -> NDIS!NdisMSleep
# and !ndiskd.minidriver shows InitializeHandlerEx at FooDRV+0x3cfc0 and
# SetOptionsHandler at FooDRV+0x75b10. To put code at those offsets without
# a 580 KB file, each piece of code is in its own section, and the space
# between them is taken by uninitialized sections (.fdNbss: no bytes in the
# file). lld places .text, .rdata, .data and .pdata first (one page each),
# then these sections in name order, each at the next page; build-kernel.sh
# checks every address.
#
# Frames: FooResetWorkItem push rbx, sub 20h; FooHwResetAdapter push rbx, rsi,
# sub 28h; FooHwRestoreReceiveFilters push rbx, rbp, rsi, sub 20h;
# FooHwWaitForIdle push rbx, rsi, sub 28h.
    .intel_syntax noprefix

.macro FUNC name
    .globl \name
    .def \name; .scl 2; .type 32; .endef
\name:
.endm

    .set ADAPTER_DeviceObject, 0x08
    .set ADAPTER_WorkItem, 0x10
    .set ADAPTER_Flags, 0x18
    .set ADAPTER_ResetInProgress, 0x1

# ---- .text: the entry point ----
    .text
    .p2align 4, 0xcc
FUNC GsDriverEntry
    .seh_proc GsDriverEntry
    sub rsp, 0x28
    .seh_stackalloc 0x28
    .seh_endprologue
    call DriverEntry
    add rsp, 0x28
    ret
    .seh_endproc

    .p2align 4, 0xcc
# NTSTATUS DriverEntry(PDRIVER_OBJECT, PUNICODE_STRING)
FUNC DriverEntry
    .seh_proc DriverEntry
    sub rsp, 0x38
    .seh_stackalloc 0x38
    .seh_endprologue
    lea r9, [rip + FooMiniportCharacteristics]
    lea rax, [rip + FooDriverHandle]
    mov [rsp + 0x20], rax
    xor r8d, r8d
    call qword ptr [rip + __imp_NdisMRegisterMiniportDriver]
    add rsp, 0x38
    ret
    .seh_endproc

    .data
    .p2align 3
FooDriverHandle:
    .quad 0
    .globl FooAdapters
FooAdapters:
    .zero 8 * 8

    .section .rdata,"dr"
    .p2align 3
# NDIS_MINIPORT_DRIVER_CHARACTERISTICS (abridged): the handlers NDIS calls.
FooMiniportCharacteristics:
    .quad FooMiniportSetOptions
    .quad FooMiniportInitializeEx
    .quad FooMiniportOidRequest

# ---- RVA 0x14000 ----
    .section .fd1bss,"bw"
    .zero 0xf000
    .section .fd1txt,"xr"
    .p2align 4, 0xcc
# VOID FooScheduleReset(FOO_ADAPTER *Adapter): queues the reset work item.
FUNC FooScheduleReset
    .seh_proc FooScheduleReset
    push rbx
    .seh_pushreg rbx
    sub rsp, 0x20
    .seh_stackalloc 0x20
    .seh_endprologue
    mov rbx, rcx
    or dword ptr [rbx + ADAPTER_Flags], ADAPTER_ResetInProgress
    mov rcx, [rbx + ADAPTER_DeviceObject]
    call qword ptr [rip + __imp_IoAllocateWorkItem]
    mov [rbx + ADAPTER_WorkItem], rax
    mov rcx, rax
    lea rdx, [rip + FooResetWorkItem]
    mov r8d, 1                          # DelayedWorkQueue
    mov r9, rbx
    call qword ptr [rip + __imp_IoQueueWorkItem]
    add rsp, 0x20
    pop rbx
    ret
    .seh_endproc

    .org 0x620, 0xcc
# VOID FooResetWorkItem(PDEVICE_OBJECT DeviceObject, PVOID Context): FooDRV+0x14620
FUNC FooResetWorkItem
    .seh_proc FooResetWorkItem
    push rbx
    .seh_pushreg rbx
    sub rsp, 0x20
    .seh_stackalloc 0x20
    .seh_endprologue
    mov rbx, rdx
    mov rcx, rbx
    .org FooResetWorkItem + 0x71, 0x90
    call FooHwResetAdapter
    # FooDRV+0x14696
    and dword ptr [rbx + ADAPTER_Flags], ~ADAPTER_ResetInProgress
    add rsp, 0x20
    pop rbx
    ret
    .seh_endproc

# ---- RVA 0x3c000 ----
    .section .fd2bss,"bw"
    .zero 0x27000
    .section .fd2txt,"xr"
    .org 0xfc0, 0xcc
# NDIS_STATUS FooMiniportInitializeEx(NdisMiniportHandle, MiniportDriverContext, InitParameters): FooDRV+0x3cfc0
FUNC FooMiniportInitializeEx
    .seh_proc FooMiniportInitializeEx
    sub rsp, 0x28
    .seh_stackalloc 0x28
    .seh_endprologue
    xor eax, eax
    add rsp, 0x28
    ret
    .seh_endproc

# ---- RVA 0x70000 ----
    .section .fd3bss,"bw"
    .zero 0x33000
    .section .fd3txt,"xr"
    .p2align 4, 0xcc
# NDIS_STATUS FooMiniportOidRequest(MiniportAdapterContext, OidRequest): pends
# every request while the adapter resets.
FUNC FooMiniportOidRequest
    .seh_proc FooMiniportOidRequest
    sub rsp, 0x28
    .seh_stackalloc 0x28
    .seh_endprologue
    mov eax, 0x103                      # NDIS_STATUS_PENDING
    test dword ptr [rcx + ADAPTER_Flags], ADAPTER_ResetInProgress
    jne 1f
    call FooScheduleReset
    mov eax, 0x103
1:  add rsp, 0x28
    ret
    .seh_endproc

    .org 0xd00, 0xcc
# VOID FooHwResetAdapter(FOO_ADAPTER *Adapter): FooDRV+0x70d00
FUNC FooHwResetAdapter
    .seh_proc FooHwResetAdapter
    push rbx
    .seh_pushreg rbx
    push rsi
    .seh_pushreg rsi
    sub rsp, 0x28
    .seh_stackalloc 0x28
    .seh_endprologue
    mov rbx, rcx
    xor esi, esi
    mov rcx, rbx
    .org FooHwResetAdapter + 0x74, 0x90
    call FooHwRestoreReceiveFilters
    # FooDRV+0x70d79
    add rsp, 0x28
    pop rsi
    pop rbx
    ret
    .seh_endproc

# ---- RVA 0x75000 ----
    .section .fd4bss,"bw"
    .zero 0x4000
    .section .fd4txt,"xr"
    .org 0xb10, 0xcc
# NDIS_STATUS FooMiniportSetOptions(NdisDriverHandle, DriverContext): FooDRV+0x75b10
FUNC FooMiniportSetOptions
    .seh_proc FooMiniportSetOptions
    sub rsp, 0x28
    .seh_stackalloc 0x28
    .seh_endprologue
    xor eax, eax
    add rsp, 0x28
    ret
    .seh_endproc

# ---- RVA 0x8b000 ----
    .section .fd5bss,"bw"
    .zero 0x15000
    .section .fd5txt,"xr"
    .org 0xc00, 0xcc
# VOID FooHwRestoreReceiveFilters(FOO_ADAPTER *Adapter): FooDRV+0x8bc00
FUNC FooHwRestoreReceiveFilters
    .seh_proc FooHwRestoreReceiveFilters
    push rbx
    .seh_pushreg rbx
    push rbp
    .seh_pushreg rbp
    push rsi
    .seh_pushreg rsi
    sub rsp, 0x20
    .seh_stackalloc 0x20
    .seh_endprologue
    mov rbx, rcx
    mov ebp, 8                          # receive filters to restore
    mov rcx, rbx
    .org FooHwRestoreReceiveFilters + 0x86, 0x90
    call FooHwWaitForIdle
    # FooDRV+0x8bc8b
    add rsp, 0x20
    pop rsi
    pop rbp
    pop rbx
    ret
    .seh_endproc

    .org 0x1c50, 0xcc
# VOID FooHwWaitForIdle(FOO_ADAPTER *Adapter): polls the hardware, sleeping
# 100 microseconds between reads, until it is idle (it never is). FooDRV+0x8cc50
FUNC FooHwWaitForIdle
    .seh_proc FooHwWaitForIdle
    push rbx
    .seh_pushreg rbx
    push rsi
    .seh_pushreg rsi
    sub rsp, 0x28
    .seh_stackalloc 0x28
    .seh_endprologue
    mov rbx, rcx
    xor esi, esi
.LFooPoll:
    inc esi
    mov ecx, 100
    .org FooHwWaitForIdle + 0x65, 0x90
    call qword ptr [rip + __imp_NdisMSleep]
    # FooDRV+0x8ccbb
    test dword ptr [rbx + ADAPTER_Flags], ADAPTER_ResetInProgress
    jne .LFooPoll
    add rsp, 0x28
    pop rsi
    pop rbx
    ret
    .seh_endproc
