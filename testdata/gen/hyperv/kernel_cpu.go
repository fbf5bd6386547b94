package hyperv

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/ntdbg/ntdbg/testdata/gen/mdw"
)

// The processors: a KPCR with its KPRCB for each of the 32, KiProcessorBlock
// pointing at the PRCBs, and an idle thread running on each (the live dump
// froze them all in the idle loop's halt). Processor 0's PCR, idle thread
// and the Idle process are nt's KiInitialPCR, KiInitialThread and
// KiInitialProcess; the others are in nonpaged memory. Each PRCB's Context
// points at its ProcessorState.ContextFrame, which holds the context of the
// processor's idle thread; processor 0's is also the dump header's.

func (k *KernelScenario) processors(nt *Image) {
	idleProc := nt.Sym("KiInitialProcess")
	k.idleProcess(idleProc)
	k.ks.U64(nt.Sym("PsIdleProcess"), idleProc)
	hlt := afterHalt(nt, "PpmIdleExecuteTransition")
	for i := range NumberOfCPUs {
		pcr, idle := nt.Sym("KiInitialPCR"), nt.Sym("KiInitialThread")
		if i > 0 {
			pcr = k.vas["pcr"].take(0x9000, pageSize)
			idle = k.vas["npp"].take(0x800, 0x800) + 0x80
		}
		prcb := pcr + off("_KPCR", "Prcb")
		t := &KThread{EThread: idle, PID: 0, TID: 0, State: stateRunning, IdealProcessor: uint32(i), System: true,
			StartAddress: nt.Sym("KiIdleLoop"), Created: bootTime}
		base := k.vas["stacks"].take(kstackSize+pageSize, pageSize) + pageSize + kstackSize
		t.setStack(base)
		t.KernelTicks = ticksOf(uint64(upTime100ns)) - uint32(1800+i*37)
		k.Idle = append(k.Idle, t)
		chain := []Call{
			{Img: nt, Fn: "KiSystemStartup"},
			{Img: nt, Fn: "KiIdleLoop", Set: map[int]uint64{}},
			{Img: nt, Fn: "PoIdle"},
			{Img: nt, Fn: "PpmIdleExecuteTransition", At: hlt},
		}
		res := buildKernelStack(k.ks, t.InitialStack, chain, uint64(i)<<32|0xfffff800_00000000, nil)
		t.Frames = res.Frames
		t.KernelStack = res.Top.SP
		r := res.Regs
		ctx := mdw.Context{Rip: res.Top.IP, Rsp: res.Top.SP, Rbx: r[RBX], Rbp: r[RBP], Rsi: r[RSI], Rdi: r[RDI],
			R12: r[R12], R13: r[R13], R14: r[R14], R15: r[R15], Rcx: prcb, EFlags: 0x246}
		if i == 0 {
			k.Context = ctx
		}
		cb := kernelContextBytes(&ctx)
		ctxAt := prcb + off("_KPRCB", "ProcessorState.ContextFrame")
		k.ks.Write(ctxAt, cb)
		o := kobj{k.ks, "_KPCR", pcr}
		o.set("Self", pcr)
		o.set("CurrentPrcb", prcb)
		o.set("Irql", 0)
		o.set("MajorVersion", 1)
		o.set("MinorVersion", 1)
		p := kobj{k.ks, "_KPRCB", prcb}
		p.set("CurrentThread", idle)
		p.set("IdleThread", idle)
		p.set("Number", uint64(i))
		p.set("GroupSetMember", 1<<uint(i))
		p.set("Group", 0)
		p.set("GroupIndex", uint64(i))
		p.set("Context", ctxAt)
		k.ks.U64(nt.Sym("KiProcessorBlock")+8*uint64(i), prcb)
		k.writeIdleThread(t, idleProc)
	}
}

// idleProcess writes the Idle process (not on PsActiveProcessHead).
func (k *KernelScenario) idleProcess(addr uint64) {
	o := kobj{k.ks, "_EPROCESS", addr}
	o.set("Pcb.Header.Type", typeProcess)
	o.set("Pcb.Header.Size", sizeOf("_KPROCESS")/4)
	o.emptyList("Pcb.Header.WaitListHead")
	o.set("Pcb.DirectoryTableBase", SystemDirBase)
	o.emptyList("Pcb.ThreadListHead")
	o.emptyList("ThreadListHead")
	o.emptyList("ActiveProcessLinks")
	o.bytes("ImageFileName", []byte("Idle\x00"))
}

// writeIdleThread writes a processor's idle thread: running, in the Idle
// process (whose thread lists stay empty, as on Windows).
func (k *KernelScenario) writeIdleThread(t *KThread, idleProc uint64) {
	o := kobj{k.ks, "_ETHREAD", t.EThread}
	o.set("Tcb.Header.Type", typeThread)
	o.emptyList("Tcb.Header.WaitListHead")
	o.set("Tcb.InitialStack", t.InitialStack)
	o.set("Tcb.StackLimit", t.StackLimit)
	o.set("Tcb.StackBase", t.StackBase)
	o.set("Tcb.KernelStack", t.KernelStack)
	o.set("Tcb.SystemThread", 1)
	o.set("Tcb.KernelStackResident", 1)
	o.set("Tcb.ApcState.Process", idleProc)
	o.set("Tcb.Process", idleProc)
	o.set("Tcb.State", stateRunning)
	o.set("Tcb.NextProcessor", uint64(t.IdealProcessor))
	o.set("Tcb.IdealProcessor", uint64(t.IdealProcessor))
	o.set("Tcb.KernelTime", uint64(t.KernelTicks))
	o.set("Tcb.WaitBlockList", o.at("Tcb.WaitBlock"))
	o.emptyList("Tcb.MutantListHead")
	o.emptyList("IrpList")
	o.set("StartAddress", t.StartAddress)
	o.set("Win32StartAddress", t.StartAddress)
	o.set("CreateTime", filetime(t.Created))
}

// afterHalt is the offset in fn just after its hlt instruction: where a
// halted processor resumes (and where the live dump's IPI found it).
func afterHalt(img *Image, fn string) uint64 {
	start, end := img.funcBounds(img.Sym(fn))
	code := img.Mapped[start-img.Base : end-img.Base]
	i := bytes.Index(code, []byte{0xfb, 0xf4}) // sti; hlt
	if i < 0 {
		panic(fmt.Sprintf("%s has no sti; hlt", fn))
	}
	return uint64(i + 2)
}

// ---- KDDEBUGGER_DATA64 ----

// KDDEBUGGER_DATA64 offsets (formats-spec.md §2.7: not a PDB type, so not in
// the ISF). The image's initialized data holds the block; the writer checks
// it and links its List as KdpDebuggerDataListHead would (to itself here).
const (
	kdbgOwnerTag            = 0x10
	kdbgSize                = 0x14
	kdbgKernBase            = 0x18
	kdbgPsLoadedModuleList  = 0x48
	kdbgPsActiveProcessHead = 0x50
	kdbgMmPfnDatabase       = 0xc0
	kdbgKiProcessorBlock    = 0x218
	kdbgOffsetPrcbContext   = 0x338
	kdbgOffsetKThreadWaitRn = 0x35c
)

func (k *KernelScenario) kdbg(nt *Image) {
	a := nt.Sym("KdDebuggerDataBlock")
	b := k.ks.Read(a, 0x360)
	le := binary.LittleEndian
	check := func(what string, at int, want uint64, size int) {
		var got uint64
		switch size {
		case 2:
			got = uint64(le.Uint16(b[at:]))
		case 4:
			got = uint64(le.Uint32(b[at:]))
		default:
			got = le.Uint64(b[at:])
		}
		if got != want {
			panic(fmt.Sprintf("ntoskrnl.exe's KdDebuggerDataBlock.%s is %#x, want %#x", what, got, want))
		}
	}
	check("OwnerTag", kdbgOwnerTag, 0x4742444b, 4)
	check("KernBase", kdbgKernBase, nt.Base, 8)
	check("PsLoadedModuleList", kdbgPsLoadedModuleList, nt.Sym("PsLoadedModuleList"), 8)
	check("PsActiveProcessHead", kdbgPsActiveProcessHead, nt.Sym("PsActiveProcessHead"), 8)
	check("MmPfnDatabase", kdbgMmPfnDatabase, nt.Sym("MmPfnDatabase"), 8)
	check("KiProcessorBlock", kdbgKiProcessorBlock, nt.Sym("KiProcessorBlock"), 8)
	check("OffsetPrcbContext", kdbgOffsetPrcbContext, off("_KPRCB", "Context"), 2)
	check("OffsetKThreadWaitReason", kdbgOffsetKThreadWaitRn, off("_ETHREAD", "Tcb.WaitReason"), 2)
	if size := le.Uint32(b[kdbgSize:]); size < 0x35e || size > 0x400 {
		panic(fmt.Sprintf("KdDebuggerDataBlock.Size %#x", size))
	}
	k.linkList(a, nil) // Header.List
}

// ndisState writes NDIS's miniport state behind the seed's !ndiskd
// commands (kernel_ndis.go): the NDIS_M_DRIVER_BLOCKs on ndisMiniDriverList,
// the NDIS_MINIPORT_BLOCKs on ndisMiniportList, FooBar Network Adapter #2
// (ffffe0004f5f71a0) resetting with OID_RECEIVE_FILTER_SET_FILTER pending
// at ffffe8012c504090 and thread 43d8's statistics query queued behind it.
func (k *KernelScenario) ndisState() { k.writeNdis() }
