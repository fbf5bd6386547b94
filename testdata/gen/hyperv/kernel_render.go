package hyperv

import "github.com/ntdbg/ntdbg/testdata/gen/kdw"

// TriageDump is the kernel dump's content as a triage minidump (DumpType
// 4) of its stopped processor: processor 0's KPRCB, its thread (the idle
// thread whose context the header holds) and that thread's process, the
// thread's stack from the context's stack pointer up, the debugger data
// block and the driver list. The other renderings (DumpType 1, 2, 0xA)
// are the same kdw.Dump written as those types.
func (k *KernelScenario) TriageDump() *kdw.Dump {
	nt := k.nt()
	d := *k.Dump
	d.Pages, d.Runs, d.MemoryPages, d.BitmapSignature = nil, nil, 0, ""
	t := k.Idle[0]
	thread := k.ks.Read(t.EThread, int(sizeOf("_ETHREAD")))
	proc := leUint(thread[off("_ETHREAD", "Tcb.ApcState.Process"):][:8])
	prcb := nt.Sym("KiInitialPCR") + off("_KPCR", "Prcb")
	sp := k.Context.Rsp
	var drivers []kdw.Driver
	for _, m := range k.Modules {
		drivers = append(drivers, kdw.Driver{Name: m.File, DllBase: m.Base, SizeOfImage: m.Size, CheckSum: m.CheckSum, TimeDateStamp: m.Stamp})
	}
	d.Triage = &kdw.Triage{
		Context:      d.Context,
		Prcb:         k.ks.Read(prcb, int(sizeOf("_KPRCB"))),
		Thread:       thread,
		Process:      k.ks.Read(proc, int(sizeOf("_EPROCESS"))),
		TopOfStack:   sp,
		Stack:        k.ks.Read(sp, int(t.StackBase-sp)),
		DebuggerData: k.ks.Read(nt.Sym("KdDebuggerDataBlock"), 0x360),
		Drivers:      drivers,
	}
	return &d
}
