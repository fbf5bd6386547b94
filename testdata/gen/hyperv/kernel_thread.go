package hyperv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// layStack lays a waiting thread's kernel stack out: its chain from the top
// of the stack (the trap frame of a system call, or the start frame of a
// system thread) down to KiSwapContext, then the switch frame below
// KiSwapContext's frame, at KernelStack.
func (k *KernelScenario) layStack(t *KThread) {
	top := t.InitialStack
	if t.startFrame[0] != 0 {
		// KiInitializeContextThread's layout: StartRoutine and StartContext
		// above KiStartSystemThread's (zero) return address.
		top -= 0x10
		k.ks.U64(top, t.startFrame[0])
		k.ks.U64(top+8, t.startFrame[1])
	}
	if t.mf != nil && t.mf.Regs == nil && t.userRegs != ([16]uint64{}) {
		regs := t.userRegs
		t.mf.Regs = &regs
	}
	seed := uint64(t.TID)<<32 | 0xffff0000_00000000
	res := buildKernelStack(k.ks, top, t.chain, seed, t.mf)
	t.Frames = res.Frames
	x := res.Top.SP - 0x40 // the KSWITCH_FRAME SwapContext made
	k.ks.U64(x+0x38, res.Top.IP)
	k.ks.U64(x+0x30, res.Regs[RBP])
	k.ks.Write(x+0x28, []byte{0}) // ApcBypass: the wait IRQL, PASSIVE_LEVEL
	t.KernelStack = x
	if t.mf != nil {
		t.TrapFrame = res.MachAt - off("_KTRAP_FRAME", "Rip")
		if t.TrapFrame+sizeOf("_KTRAP_FRAME") != t.InitialStack {
			panic(fmt.Sprintf("thread %x: the trap frame at %#x does not end at InitialStack %#x", t.TID, t.TrapFrame, t.InitialStack))
		}
		k.trapFrame(t)
	}
	if t.stackObject != "" {
		k.stackObject(t, res)
	}
}

// trapFrame fills the KTRAP_FRAME of a thread in a system call: what
// KiSystemCall64 saved (the machine frame and rbp are on the stack already).
func (k *KernelScenario) trapFrame(t *KThread) {
	o := kobj{k.ks, "_KTRAP_FRAME", t.TrapFrame}
	r := t.userRegs
	o.set("PreviousMode", modeUser)
	o.set("PreviousIrql", 0)
	o.set("MxCsr", 0x1f80)
	o.set("Rax", uint64(t.serviceNumber(k)))
	o.set("Rcx", t.UserRip)
	o.set("Rdx", r[RDX])
	o.set("R8", r[R8])
	o.set("R9", r[R9])
	o.set("R10", r[R10])
	o.set("R11", 0x246)
	o.set("Rbx", r[RBX])
	o.set("Rdi", r[RDI])
	o.set("Rsi", r[RSI])
	for _, s := range []string{"SegDs", "SegEs", "SegGs"} {
		o.set(s, 0x2b)
	}
	o.set("SegFs", 0x53)
}

// serviceNumber is the system-service number in the user stub's mov eax
// (ntdll's stubs: 4c 8b d1 b8 <number>).
func (t *KThread) serviceNumber(k *KernelScenario) uint32 {
	ntdll := k.User.Images["ntdll.dll"]
	at := t.UserRip - 0xa - ntdll.Base
	return binary.LittleEndian.Uint32(ntdll.Mapped[at+4:])
}

// stackObject writes the dispatcher object a thread waits on where the
// waiting function keeps it, in its own frame: the seed's event in
// ndisQuerySetMiniportEx's (its request.Event) for 43d8, NdisMSleep's timer
// for 1114. The offset is the function's: the lea rcx, [rsp+disp] that
// gives the object to its wait call.
func (k *KernelScenario) stackObject(t *KThread, res kstackResult) {
	for i, f := range res.Frames {
		if f.Function != t.stackObject || i == 0 {
			continue
		}
		img := k.Images[strings.ToLower(f.Module)]
		addr := f.SP + waitObjectDisp(img, f.Function, f.IP)
		if t.role == "owner" {
			addr = f.SP + ownerEventDisp(img, f.Function, f.IP)
			if addr != OwnerEvent {
				panic(fmt.Sprintf("the owner's event lands at %#x, not %#x", addr, uint64(OwnerEvent)))
			}
			k.dispatcherObject(addr, typeNotification, sizeOf("_KEVENT")/4)
		} else {
			k.dispatcherObject(addr, typeTimerNotif, sizeOf("_KTIMER")/4)
			o := kobj{k.ks, "_KTIMER", addr}
			o.set("DueTime", uint64(upTime100ns)+100*10) // NdisMSleep(100): 100 microseconds from now
			o.emptyList("TimerListEntry")
			o.set("Processor", uint64(t.IdealProcessor))
		}
		if !t.keepWait {
			t.WaitObjects = []uint64{addr}
		}
		return
	}
	panic(fmt.Sprintf("thread %x has no %s frame", t.TID, t.stackObject))
}

// waitObjectDisp is the stack offset of the object fn passes to the call
// that returns to ret: the displacement of the last lea rcx, [rsp+disp8]
// (48 8d 4c 24 disp) before that call.
func waitObjectDisp(img *Image, fn string, ret uint64) uint64 {
	start, _ := img.funcBounds(img.Sym(fn))
	var at uint64
	for _, c := range img.callSitesIn(img.Sym(fn)) {
		if c.ret == ret {
			at = c.at
		}
	}
	if at == 0 {
		panic(fmt.Sprintf("%s has no call returning to %#x", fn, ret))
	}
	code := img.Mapped[start-img.Base : at-img.Base]
	i := bytes.LastIndex(code, []byte{0x48, 0x8d, 0x4c, 0x24})
	if i < 0 || i+4 >= len(code) {
		panic(fmt.Sprintf("%s: no lea rcx, [rsp+disp8] before its call at %#x", fn, at))
	}
	return uint64(code[i+4])
}

// writeThread writes the ETHREAD, its wait blocks (each on its object's
// wait list) and its IRP list.
func (k *KernelScenario) writeThread(t *KThread) {
	o := kobj{k.ks, "_ETHREAD", t.EThread}
	p := t.Process
	o.set("Tcb.Header.Type", typeThread)
	o.emptyList("Tcb.Header.WaitListHead")
	o.set("Tcb.InitialStack", t.InitialStack)
	o.set("Tcb.StackLimit", t.StackLimit)
	o.set("Tcb.StackBase", t.StackBase)
	o.set("Tcb.KernelStack", t.KernelStack)
	if t.Alertable {
		o.set("Tcb.Alertable", 1)
	}
	if t.System {
		o.set("Tcb.SystemThread", 1)
	}
	o.set("Tcb.KernelStackResident", 1)
	o.set("Tcb.TrapFrame", t.TrapFrame)
	if t.mf != nil {
		o.set("Tcb.SystemCallNumber", uint64(t.serviceNumber(k)))
	}
	apc := o.at("Tcb.ApcState.ApcListHead")
	for i := range uint64(2) {
		k.linkList(apc+0x10*i, nil)
	}
	o.set("Tcb.ApcState.Process", p.Spec.eprocess)
	o.set("Tcb.ApcStatePointer[0]", o.at("Tcb.ApcState"))
	o.set("Tcb.ApcStatePointer[1]", o.at("Tcb.SavedApcState"))
	o.set("Tcb.Process", p.Spec.eprocess)
	o.set("Tcb.Priority", uint64(uint8(t.Priority)))
	o.set("Tcb.BasePriority", uint64(uint8(t.BasePriority)))
	o.set("Tcb.Teb", t.Teb)
	o.set("Tcb.ContextSwitches", uint64(t.ContextSwitches))
	o.set("Tcb.State", uint64(t.State))
	o.set("Tcb.WaitIrql", 0)
	o.set("Tcb.WaitMode", uint64(t.WaitMode))
	o.set("Tcb.WaitTime", uint64(t.WaitTime))
	o.set("Tcb.NextProcessor", uint64(t.IdealProcessor))
	if t.System || t.mf == nil {
		o.set("Tcb.PreviousMode", modeKernel)
	} else {
		o.set("Tcb.PreviousMode", modeUser)
	}
	o.set("Tcb.IdealProcessor", uint64(t.IdealProcessor))
	o.set("Tcb.WaitReason", uint64(t.WaitReason))
	o.set("Tcb.KernelTime", uint64(t.KernelTicks))
	o.set("Tcb.UserTime", uint64(t.UserTicks))
	o.emptyList("Tcb.MutantListHead")
	o.set("CreateTime", filetime(t.Created))
	o.set("StartAddress", t.StartAddress)
	o.set("Cid.UniqueProcess", t.PID)
	o.set("Cid.UniqueThread", t.TID)
	o.set("Win32StartAddress", t.Win32Start)
	if t.State == stateWaiting {
		k.waitBlocks(t)
	}
	var irpLinks []uint64
	for _, irp := range t.Irps {
		irpLinks = append(irpLinks, irp+off("_IRP", "ThreadListEntry"))
	}
	k.linkList(o.at("IrpList"), irpLinks)
}

// waitBlocks writes a waiting thread's wait blocks: WaitBlock[0..] for its
// objects (WaitBlock[3], the timer block, for a delay), each queued on its
// object's wait list behind the waiters before it.
func (k *KernelScenario) waitBlocks(t *KThread) {
	o := kobj{k.ks, "_ETHREAD", t.EThread}
	wbSize := sizeOf("_KWAIT_BLOCK")
	first := o.at("Tcb.WaitBlock")
	if t.WaitReason == wrDelayExecution && len(t.WaitObjects) == 1 && t.WaitObjects[0] == t.EThread+tcbTimer {
		first += 3 * wbSize // TIMER_WAIT_BLOCK
		timer := t.WaitObjects[0]
		k.dispatcherObject(timer, typeTimerNotif, sizeOf("_KTIMER")/4)
		to := kobj{k.ks, "_KTIMER", timer}
		to.set("DueTime", uint64(upTime100ns)+250*10000)
		to.emptyList("TimerListEntry")
	}
	o.set("Tcb.WaitBlockList", first)
	o.set("Tcb.WaitBlockCount", uint64(len(t.WaitObjects)))
	for i, obj := range t.WaitObjects {
		wb := kobj{k.ks, "_KWAIT_BLOCK", first + uint64(i)*wbSize}
		wb.set("WaitType", waitAny)
		wb.set("BlockState", waitBlockActive)
		wb.set("WaitKey", uint64(i))
		wb.set("Thread", t.EThread)
		wb.set("Object", obj)
		k.enqueueWait(obj, wb.at("WaitListEntry"))
	}
}

// enqueueWait appends a wait block's entry to an object's wait list.
func (k *KernelScenario) enqueueWait(obj, entry uint64) {
	head := obj + off("_DISPATCHER_HEADER", "WaitListHead")
	fl, bl := off("_LIST_ENTRY", "Flink"), off("_LIST_ENTRY", "Blink")
	last := leUint(k.ks.Read(head+bl, 8))
	if last == 0 { // the object's header was never written
		panic(fmt.Sprintf("wait on %#x, which is not a dispatcher object the writer made", obj))
	}
	k.ks.U64(entry+fl, head)
	k.ks.U64(entry+bl, last)
	k.ks.U64(last+fl, entry)
	k.ks.U64(head+bl, entry)
}
