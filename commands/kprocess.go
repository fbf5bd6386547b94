package commands

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/nt"
	"github.com/ntdbg/ntdbg/engine/target"
)

func init() {
	Register(&Command{Name: "!process", Family: "kernel", Needs: Needs{Kernel: true},
		Syntax:  "!process [Process [Flags [ImageName]]] | !process 0 Flags ImageName",
		Summary: "display a process (EPROCESS address or id), or every process with 0",
		Help: "Flags: 0x1 statistics, 0x2 threads with their waits, 0x4 with 0x2: each thread's stack (0x6), 0x8 stacks\n" +
			"without arguments. Default 3 for the current or every process, 0xF for a given one. ImageName matches the\n" +
			"15-character EPROCESS image name. Fields are read by name from the kernel's types (ntkrnlmp.pdb).",
		Run: cmdProcess})
	Register(&Command{Name: ".process", Family: "kernel", Needs: Needs{Kernel: true},
		Syntax: ".process [/p] [/r] [Process]", Summary: "set (or, with no argument, reset) the implicit process: its address space and user symbols",
		Run: cmdDotProcess})
	Register(&Command{Name: ".thread", Family: "kernel", Needs: Needs{Kernel: true},
		Syntax: ".thread [/p] [/r] [Thread]", Summary: "set (or reset) the register context to a kernel thread's saved context",
		Run: cmdDotThread})
	Register(&Command{Name: "!thread", Family: "kernel", Needs: Needs{Kernel: true},
		Syntax: "!thread [Address [Flags]]", Summary: "display a kernel thread: state, waits, IRPs, times and stack (flags 0x6 by default)",
		Run: cmdThread})
	Register(&Command{Name: "!stacks", Family: "kernel", Needs: Needs{Kernel: true},
		Syntax: "!stacks [Detail [FilterString]]", Summary: "one line (2: the whole stack) per kernel thread, by process; FilterString keeps threads with a frame containing it",
		Run: cmdStacks})
}

// kctx is the kernel walker with the session's symbols.
type kctx struct {
	c *Ctx
	k *nt.Kernel
}

func (c *Ctx) kernel() kctx { return kctx{c: c, k: c.S.Kernel()} }

// p16 is a plain 16-digit pointer (kdexts print no backtick).
func p16(v uint64) string { return fmt.Sprintf("%016x", v) }

var waitReasons = []string{"Executive", "FreePage", "PageIn", "PoolAllocation", "DelayExecution", "Suspended", "UserRequest",
	"WrExecutive", "WrFreePage", "WrPageIn", "WrPoolAllocation", "WrDelayExecution", "WrSuspended", "WrUserRequest",
	"WrSpare0", "WrQueue", "WrLpcReceive", "WrLpcReply", "WrVirtualMemory", "WrPageOut", "WrRendezvous", "WrKeyedEvent",
	"WrTerminated", "WrProcessInSwap", "WrCpuRateControl", "WrCalloutStack", "WrKernel", "WrResource", "WrPushLock",
	"WrMutex", "WrQuantumEnd", "WrDispatchInt", "WrPreempted", "WrYieldExecution", "WrFastMutex", "WrGuardedMutex",
	"WrRundown", "WrAlertByThreadId", "WrDeferredPreempt", "WrPhysicalFault", "WrIoRing", "WrMdlCache", "WrRcu"}

var objectTypes = map[uint64]string{0: "NotificationEvent", 1: "SynchronizationEvent", 2: "Mutant", 3: "ProcessObject",
	4: "QueueObject", 5: "SemaphoreObject", 6: "ThreadObject", 7: "GateObject", 8: "NotificationTimer", 9: "SynchronizationTimer", 0x15: "PriQueueObject"}

// stateText is the tail of a THREAD line.
func stateText(t *nt.Thread) string {
	switch t.State {
	case 5:
		reason := fmt.Sprintf("%d", t.WaitReason)
		if int(t.WaitReason) < len(waitReasons) {
			reason = waitReasons[t.WaitReason]
		}
		mode := "KernelMode"
		if t.Mode == 1 {
			mode = "UserMode"
		}
		alert := "Non-Alertable"
		if t.Alertable {
			alert = "Alertable"
		}
		return fmt.Sprintf("WAIT: (%s) %s %s", reason, mode, alert)
	case 2:
		return fmt.Sprintf("RUNNING on processor %d", t.IdealProcessor)
	case 1:
		return "READY"
	case 0:
		return "INITIALIZED"
	case 3:
		return "STANDBY"
	case 4:
		return "TERMINATED"
	case 6:
		return "TRANSITION"
	case 7:
		return "DEFERREDREADY"
	case 8:
		return "GATEWAIT"
	}
	return fmt.Sprintf("State %d", t.State)
}

// threadLine is `THREAD <ethread>  Cid pppp.tttt  Teb: ... Win32Thread: ... <state>`.
func threadLine(t *nt.Thread) string {
	return fmt.Sprintf("THREAD %s  Cid %04x.%04x  Teb: %s Win32Thread: %s %s", p16(t.Addr), t.Pid, t.Tid, p16(t.Teb), p16(t.Win32Thread), stateText(t))
}

// waitObjects are the objects a waiting thread waits on, from its wait
// blocks (WaitBlockList, WaitBlockCount of them).
func (kc kctx) waitObjects(t *nt.Thread) []string {
	var out []string
	for _, o := range kc.waitedObjects(t) {
		out = append(out, fmt.Sprintf("%s  %s", p16(o.addr), o.typ))
	}
	return out
}

// findProcess resolves `!process`'s first argument: an EPROCESS address or
// a process id.
func (kc kctx) findProcess(procs []*nt.Process, v uint64) *nt.Process {
	for _, p := range procs {
		if p.Addr == v || p.Cid == v {
			return p
		}
	}
	return nil
}

func (kc kctx) processes() ([]*nt.Process, error) {
	procs, err := kc.c.S.KernelProcesses()
	if err != nil && errors.Is(err, nt.ErrBadNTSymbols) && len(procs) == 0 {
		return nil, err
	}
	if err != nil {
		kc.c.Errorf("%v", err)
	}
	return procs, nil
}

func cmdProcess(c *Ctx, inv *Invocation) error {
	kc := c.kernel()
	args := strings.Fields(inv.Args)
	var vals []uint64
	image := ""
	for i, a := range args {
		if i == 2 {
			image = a
			break
		}
		v, err := c.Eval(a)
		if err != nil {
			return err
		}
		vals = append(vals, v)
	}
	procs, err := kc.processes()
	if err != nil {
		return err
	}
	flags := uint64(3)
	if len(vals) > 1 {
		flags = vals[1]
	} else if len(vals) == 1 && vals[0] != 0 && vals[0] != ^uint64(0) {
		flags = 0xf
	}
	var list []*nt.Process
	switch {
	case len(vals) == 0 || vals[0] == ^uint64(0):
		if p := kc.current(procs); p != nil {
			list = []*nt.Process{p}
		}
	case vals[0] == 0:
		c.Println("**** NT ACTIVE PROCESS DUMP ****")
		for _, p := range procs {
			if image == "" || strings.EqualFold(p.Image, image) {
				list = append(list, p)
			}
		}
	default:
		p := kc.findProcess(procs, vals[0])
		if p == nil {
			p, err = kc.k.ReadProcess(vals[0])
			if err != nil {
				return typeMismatch(err, "process", vals[0])
			}
		}
		list = []*nt.Process{p}
	}
	for _, p := range list {
		kc.processBlock(p, flags)
	}
	return nil
}

// current is the implicit process (.process), else the one holding the
// dump's current thread; System when nothing else is known.
func (kc kctx) current(procs []*nt.Process) *nt.Process {
	if cur := kc.c.S.Process; cur != nil {
		for _, p := range procs {
			if p.Addr == cur.Addr {
				return p
			}
		}
	}
	// The process of the current processor's (or the implicit) thread.
	ta := kc.c.S.KThread
	if ta == 0 {
		if th, err := kc.c.S.Thread(); err == nil {
			ta = th.Addr
		}
	}
	if ta != 0 {
		if t, err := kc.k.ReadThread(ta); err == nil {
			for _, p := range procs {
				if p.Addr == t.Process {
					return p
				}
			}
			if p, err := kc.k.ReadProcess(t.Process); err == nil {
				return p
			}
		}
	}
	if len(procs) > 0 {
		return procs[0]
	}
	return nil
}

func (kc kctx) sessionID(p *nt.Process) string {
	if p.Session == 0 {
		return "none"
	}
	if o, err := kc.k.At("_MM_SESSION_SPACE", p.Session); err == nil {
		if v, err := o.Uint("SessionId"); err == nil {
			return fmt.Sprintf("%d", v)
		}
	}
	return "none"
}

func (kc kctx) handleCount(p *nt.Process) string {
	if p.ObjectTable == 0 {
		return "<Data Not Accessible>"
	}
	o, err := kc.k.At("_HANDLE_TABLE", p.ObjectTable)
	if err != nil {
		return "<Data Not Accessible>"
	}
	if v, err := o.Uint("HandleCount"); err == nil {
		return fmt.Sprintf("%4d.", v)
	}
	// Windows 8.1 counts handles in the table's free lists.
	if off, err := kc.k.Offset("_HANDLE_TABLE", "FreeLists"); err == nil {
		if fo, err := kc.k.At("_HANDLE_TABLE_FREE_LIST", p.ObjectTable+off); err == nil {
			if v, err := fo.Uint("HandleCount"); err == nil {
				return fmt.Sprintf("%4d.", v)
			}
		}
	}
	return "<Data Not Accessible>"
}

func (kc kctx) processBlock(p *nt.Process, flags uint64) {
	c := kc.c
	c.Printf("PROCESS %s\n", p16(p.Addr))
	c.Printf("    SessionId: %s  Cid: %04x    Peb: %08x  ParentCid: %04x\n", kc.sessionID(p), p.Cid, p.Peb, p.ParentCid)
	c.Printf("    DirBase: %08x  ObjectTable: %s  HandleCount: %s\n", p.DirBase, p16(p.ObjectTable), kc.handleCount(p))
	c.Printf("    Image: %s\n", target.Sanitize(p.Image))
	if c.Recording() {
		c.Record("kprocess", KProcessRecord{Address: Hex(p.Addr), SessionID: kc.sessionID(p), Cid: p.Cid, Peb: Hex(p.Peb),
			ParentCid: p.ParentCid, DirBase: Hex(p.DirBase), ObjectTable: Hex(p.ObjectTable), Image: p.Image})
	}
	if flags&1 != 0 {
		kc.processStats(p)
	}
	c.Println()
	if flags&6 == 0 {
		return
	}
	threads, err := kc.k.Threads(p)
	if flags&0x10 != 0 { // switch to the process for accurate user stacks
		old := c.S.Process
		c.S.Process = engine.ProcessOf(p)
		defer func() { c.S.Process = old }()
	}
	for _, t := range threads {
		if flags&4 != 0 && flags&2 != 0 {
			kc.threadBody(t, flags, "        ")
		} else {
			c.Printf("        %s\n", threadLine(t))
			for _, w := range kc.waitObjects(t) {
				c.Printf("            %s\n", w)
			}
			if c.Recording() {
				rec := kthreadRecord(t)
				rec.WaitObjects = append(rec.WaitObjects, kc.waitObjects(t)...)
				c.Record("kthread", *rec)
			}
		}
		c.Println()
	}
	if err != nil {
		c.Errorf("%v", err)
	}
}

// processStats is flag 0x1's block: labels in a 34-column field, times
// as kdexts prints them. Fields the kernel's types lack are left out.
func (kc kctx) processStats(p *nt.Process) {
	c := kc.c
	o, err := kc.k.At("_EPROCESS", p.Addr)
	if err != nil {
		return
	}
	if dm, err := o.Ptr("DeviceMap"); err == nil {
		c.Printf("    DeviceMap %s\n", p16(dm))
	}
	row := func(label, value string) { c.Printf("    %-34s%s\n", label, value) }
	if tok, err := o.Uint("Token.Value"); err == nil {
		row("Token", p16(tok&^0xf)) // EX_FAST_REF: the low bits are a reference count
	}
	_, incr, _ := kc.tickInfo()
	if ct, err := o.Uint("CreateTime.QuadPart"); err == nil && ct != 0 {
		if now := c.S.Target.System().SessionTime; !now.IsZero() {
			const epoch = 116444736000000000 // 1601 to 1970 in 100 ns
			elapsed := time.Duration(now.UnixNano()/100-int64(ct-epoch)) * 100
			if elapsed >= 0 {
				row("ElapsedTime", kdTime(elapsed))
			} else {
				row("ElapsedTime", "<Invalid>")
			}
		}
	}
	if ut, err := o.Uint("Pcb.UserTime"); err == nil {
		row("UserTime", kdTime(time.Duration(ut*incr*100)))
	}
	if kt, err := o.Uint("Pcb.KernelTime"); err == nil {
		row("KernelTime", kdTime(time.Duration(kt*incr*100)))
	}
	if v, err := o.Uint("VirtualSize"); err == nil {
		row("VirtualSize", fmt.Sprintf("%d Mb", v>>20))
	}
	if v, err := o.Uint("PeakVirtualSize"); err == nil {
		row("PeakVirtualSize", fmt.Sprintf("%d Mb", v>>20))
	}
	if v, err := o.Uint("Pcb.BasePriority"); err == nil {
		row("BasePriority", fmt.Sprintf("%d", int8(v)))
	}
	if v, err := o.Uint("CommitCharge"); err == nil {
		row("CommitCharge", fmt.Sprintf("%d", v))
	}
}

func cmdDotProcess(c *Ctx, inv *Invocation) error {
	kc := c.kernel()
	reload := false
	var rest []string
	for _, a := range strings.Fields(inv.Args) {
		switch strings.ToLower(a) {
		case "/p":
		case "/r":
			reload = true
		case "/i", "/P":
			return fmt.Errorf("%s needs a live target", a)
		default:
			rest = append(rest, a)
		}
	}
	if len(rest) == 0 {
		c.S.SetProcess(nil)
		c.S.KThread = 0
		c.Println("Implicit process is now the default process")
		return nil
	}
	v, err := c.Eval(strings.Join(rest, " "))
	if err != nil {
		return err
	}
	if v == 0 {
		c.S.SetProcess(nil)
		c.Println("Implicit process is now the default process")
		return nil
	}
	p, err := kc.k.ReadProcess(v)
	if err != nil {
		return typeMismatch(err, "process", v)
	}
	c.S.SetProcess(engine.ProcessOf(p))
	c.Printf("Implicit process is now %s\n", c.ptr(p.Addr))
	if reload {
		kc.loadUserSymbols(p)
	}
	return nil
}

// loadUserSymbols is `/r`: the process's user modules come from its PEB's
// loader data, which a kernel dump often lacks.
func (kc kctx) loadUserSymbols(p *nt.Process) {
	c := kc.c
	c.Println("Loading User Symbols")
	if p.Peb == 0 {
		return
	}
	l := c.S.Layout()
	ldr := p.Peb + l.PebLdr
	if _, err := mem.ReadUint(c.S.Mem(), ldr, 8); err != nil {
		c.Warnf("PEB is paged out (Peb.Ldr = %s).  Type \".hh dbgerr001\" for details", c.ptr(ldr))
	}
}

func cmdDotThread(c *Ctx, inv *Invocation) error {
	kc := c.kernel()
	var rest []string
	reload, switchProc := false, false
	for _, a := range strings.Fields(inv.Args) {
		switch strings.ToLower(a) {
		case "/p":
			switchProc = true
		case "/r":
			reload = true
		case "/w":
			return fmt.Errorf("/w: WOW64 contexts are not supported")
		default:
			rest = append(rest, a)
		}
	}
	if len(rest) == 0 {
		c.S.SetContext(nil)
		c.S.KThread = 0
		c.Println("Implicit thread is now the default thread")
		return nil
	}
	v, err := c.Eval(strings.Join(rest, " "))
	if err != nil {
		return err
	}
	if v == 0 {
		c.S.SetContext(nil)
		c.S.KThread = 0
		c.Println("Implicit thread is now the default thread")
		return nil
	}
	t, err := kc.k.ReadThread(v)
	if err != nil {
		return typeMismatch(err, "thread", v)
	}
	regs, err := c.S.ThreadRegisters(t)
	if err != nil {
		return err
	}
	if switchProc {
		if p, err := kc.k.ReadProcess(t.Process); err == nil {
			c.S.SetProcess(engine.ProcessOf(p))
			c.Printf("Implicit process is now %s\n", c.ptr(p.Addr))
			if reload {
				kc.loadUserSymbols(p)
			}
		}
	}
	c.S.SetContext(regs)
	c.S.KThread = t.Addr
	c.Printf("Implicit thread is now %s\n", c.ptr(t.Addr))
	return nil
}

// tickInfo is the tick count now and the time per tick (100 ns units).
func (kc kctx) tickInfo() (uint64, uint64, bool) {
	incr := uint64(156250) // 15.625 ms, the usual clock interval, when the kernel's symbol is missing
	if a, ok := kc.c.S.Symbols.Lookup("nt!KeMaximumIncrement"); ok {
		if v, err := mem.ReadUint(kc.k.Mem, a, 4); err == nil && v != 0 {
			incr = v
		}
	}
	const sharedData = 0xfffff780_00000000
	if o, err := kc.k.At("_KUSER_SHARED_DATA", sharedData); err == nil {
		if v, err := o.Uint("TickCount.LowPart"); err == nil {
			return v, incr, true
		}
	}
	if a, ok := kc.c.S.Symbols.Lookup("nt!KeTickCount"); ok {
		if v, err := mem.ReadUint(kc.k.Mem, a, 4); err == nil {
			return v, incr, true
		}
	}
	return 0, incr, false
}

// kdTime is `HH:MM:SS.mmm` with `N Day(s) ` before it past a day.
func kdTime(d time.Duration) string {
	ms := d.Milliseconds()
	s := fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000%24, ms/60000%60, ms/1000%60, ms%1000)
	if days := ms / 86400000; days == 1 {
		s = "1 Day " + s
	} else if days > 1 {
		s = fmt.Sprintf("%d Days %s", days, s)
	}
	return s
}

// ticksText is `d:hh:mm:ss.mmm` of a tick count.
func ticksText(ticks, incr uint64) string {
	ms := int64(ticks * incr / 10000)
	return fmt.Sprintf("%d:%02d:%02d:%02d.%03d", ms/86400000, ms/3600000%24, ms/60000%60, ms/1000%60, ms%1000)
}

func cmdThread(c *Ctx, inv *Invocation) error {
	kc := c.kernel()
	args := strings.Fields(inv.Args)
	addr := c.S.KThread
	flags := uint64(6)
	if len(args) > 0 {
		v, err := c.Eval(args[0])
		if err != nil {
			return err
		}
		if v != ^uint64(0) {
			addr = v
		}
	}
	if len(args) > 1 {
		v, err := c.Eval(args[1])
		if err != nil {
			return err
		}
		flags = v
	}
	if addr == 0 {
		if th, err := c.S.Thread(); err == nil {
			addr = th.Addr // the current processor's thread
		}
	}
	if addr == 0 {
		return fmt.Errorf("no current thread: give an ETHREAD address (.thread sets one)")
	}
	t, err := kc.k.ReadThread(addr)
	if err != nil {
		return typeMismatch(err, "thread", addr)
	}
	kc.threadBody(t, flags, "")
	return nil
}

// threadBody is !thread's display, each line after prefix.
func (kc kctx) threadBody(t *nt.Thread, flags uint64, prefix string) {
	c := kc.c
	pr := func(format string, a ...any) { c.Printf(prefix+format, a...) }
	pr("%s\n", threadLine(t))
	var rec *KThreadRecord
	if c.Recording() {
		rec = kthreadRecord(t)
		defer func() { c.Record("kthread", *rec) }()
	}
	if flags&2 != 0 {
		for _, w := range kc.waitObjects(t) {
			pr("    %s\n", w)
			if rec != nil {
				rec.WaitObjects = append(rec.WaitObjects, w)
			}
		}
	}
	if irps := kc.irps(t); len(irps) > 0 {
		if rec != nil {
			rec.Irps = irps
		}
		pr("IRP List:\n")
		for _, l := range irps {
			pr("    %s\n", l)
		}
	}
	pr("Not impersonating\n")
	owner, _ := kc.k.ReadProcess(t.Process)
	if owner != nil {
		if o, err := kc.k.At("_EPROCESS", owner.Addr); err == nil {
			if dm, err := o.Ptr("DeviceMap"); err == nil && dm != 0 {
				pr("%-26s%s\n", "DeviceMap", p16(dm))
			}
		}
		pr("%-26s%s       Image:         %s\n", "Owning Process", p16(owner.Addr), target.Sanitize(owner.Image))
	}
	if t.ApcProcess != 0 && t.ApcProcess != t.Process {
		if ap, err := kc.k.ReadProcess(t.ApcProcess); err == nil {
			pr("%-26s%s       Image:         %s\n", "Attached Process", p16(ap.Addr), target.Sanitize(ap.Image))
		}
	} else {
		pr("%-26s%-15sImage:         N/A\n", "Attached Process", "N/A")
	}
	now, incr, ok := kc.tickInfo()
	if ok && now >= t.WaitTime {
		ticks := now - t.WaitTime
		if rec != nil {
			rec.WaitTicks = &ticks
		}
		if ticks == 0 {
			pr("%-26s%-15dTicks: 0\n", "Wait Start TickCount", t.WaitTime)
		} else {
			pr("%-26s%-15dTicks: %d (%s)\n", "Wait Start TickCount", t.WaitTime, ticks, ticksText(ticks, incr))
		}
	} else {
		pr("%-26s%d\n", "Wait Start TickCount", t.WaitTime)
	}
	pr("%-26s%-15dIdealProcessor: %d             \n", "Context Switch Count", t.ContextSwitches, t.IdealProcessor)
	pr("%-26s%s\n", "UserTime", kdTime(time.Duration(t.UserTime*incr*100)))
	pr("%-26s%s\n", "KernelTime", kdTime(time.Duration(t.KernelTime*incr*100)))
	if t.Win32StartAddress != 0 {
		if s := c.symbolize(t.Win32StartAddress); s != "" {
			pr("Win32 Start Address %s (0x%s)\n", s, p16(t.Win32StartAddress))
		} else {
			pr("Win32 Start Address 0x%s\n", p16(t.Win32StartAddress))
		}
	} else if t.StartAddress != 0 {
		pr("Start Address %s (0x%s)\n", c.symbolize(t.StartAddress), p16(t.StartAddress))
	}
	pr("Stack Init %x Current %x\n", t.InitialStack, t.KernelStack)
	pr("Base %x Limit %x Call 0000000000000000\n", t.StackBase, t.StackLimit)
	pr("Priority %d BasePriority %d PriorityDecrement 0 IoPriority 2 PagePriority 5\n", t.Priority, t.BasePriority)
	if flags&4 == 0 {
		return
	}
	regs, err := c.S.ThreadRegisters(t)
	if err != nil {
		pr("%v\n", err)
		return
	}
	frames := c.S.Unwind(regs, 0x100)
	pr("Child-SP          RetAddr           : Args to Child                                                           : Call Site\n")
	for i := range frames {
		f := &frames[i]
		var args []string
		for k := uint64(1); k <= 4; k++ {
			v, err := c.S.ReadPointer(f.SP + 8*k)
			if err != nil {
				args = append(args, "????????`????????")
			} else {
				args = append(args, c.ptr(v))
			}
		}
		pr("%s %s : %s : %s\n", c.ptr(f.SP), c.ptr(f.RetAddr), strings.Join(args, " "), c.callSite(f, false))
		if rec != nil {
			rec.Frames = append(rec.Frames, c.frameRecord(-1, frames, i, false))
		}
	}
}

// irps lists a thread's IRPs: `addr: (Type,Size) Flags: ........  Mdl: ........`.
func (kc kctx) irps(t *nt.Thread) []string {
	if t.IrpHead == 0 {
		return nil
	}
	if fl, err := mem.ReadUint(kc.k.Mem, t.IrpHead, 8); err != nil || fl == 0 {
		return nil // an unreadable or zeroed (triage copy) list head
	}
	addrs, _ := kc.k.Containers(t.IrpHead, "_IRP", "ThreadListEntry", 1024)
	var out []string
	for _, a := range addrs {
		o, err := kc.k.At("_IRP", a)
		if err != nil {
			break
		}
		ty, _ := o.Uint("Type")
		size, _ := o.Uint("Size")
		fl, _ := o.Uint("Flags")
		mdl, _ := o.Ptr("MdlAddress")
		out = append(out, fmt.Sprintf("%s: (%04x,%04x) Flags: %08x  Mdl: %08x", p16(a), ty, size, fl, mdl))
	}
	return out
}

func cmdStacks(c *Ctx, inv *Invocation) error {
	kc := c.kernel()
	args := strings.Fields(inv.Args)
	detail := uint64(0)
	filter := ""
	if len(args) > 0 {
		v, err := c.Eval(args[0])
		if err != nil {
			return err
		}
		detail = v
	}
	if len(args) > 1 {
		filter = strings.ToLower(strings.Join(args[1:], " "))
	}
	procs, err := kc.processes()
	if err != nil {
		return err
	}
	now, _, _ := kc.tickInfo()
	c.Println("Proc.Thread  .Thread  Ticks   ThreadState Blocker")
	count := 0
	for _, p := range procs {
		c.Printf("%28s[%s %s]\n", "", p16(p.Addr), target.Sanitize(p.Image))
		threads, err := kc.k.Threads(p)
		for _, t := range threads {
			count++
			var sites []string
			regs, rerr := c.S.ThreadRegisters(t)
			if rerr == nil {
				// The process's own space, for frames past the trap frame.
				old := c.S.Process
				c.S.Process = engine.ProcessOf(p)
				frames := c.S.Unwind(regs, 0x100)
				for i := range frames {
					sites = append(sites, c.callSite(&frames[i], false))
				}
				c.S.Process = old
			}
			if filter != "" {
				hit := false
				for _, s := range sites {
					if strings.Contains(strings.ToLower(s), filter) {
						hit = true
					}
				}
				if !hit {
					continue
				}
			}
			state := "Blocked"
			switch t.State {
			case 2:
				state = "RUNNING"
			case 1, 7:
				state = "READY"
			case 3:
				state = "STANDBY"
			case 4:
				state = "TERMINATED"
			case 6:
				state = "TRANSITION"
			case 0:
				state = "INITIALIZED"
			}
			top := "Stack paged out"
			if len(sites) > 0 {
				top = sites[0]
			} else if detail == 0 {
				continue
			}
			// Ticks is WaitTime - TickCount as kdexts prints it (the seed's
			// ffc7d369, the reference's fffffee1: negative, 32 bits).
			c.Printf("%s  %s %08x %-10s %s\n", fmt.Sprintf("%4x.%06x", t.Pid, t.Tid), p16(t.Addr), uint32(t.WaitTime-now), state, top)
			if c.Recording() {
				c.Record("kstack", KStackRecord{Process: Hex(p.Addr), Image: p.Image, Pid: t.Pid, Tid: t.Tid, Thread: Hex(t.Addr),
					Ticks: int64(int32(uint32(t.WaitTime - now))), State: state, Frames: append([]string{}, sites...)})
			}
			if detail >= 2 {
				for _, s := range sites[min(1, len(sites)):] {
					c.Printf("%40s%s\n", "", s)
				}
			}
		}
		if err != nil {
			c.Errorf("%v", err)
		}
	}
	c.Println()
	c.Printf("Threads Processed: %d\n", count)
	return nil
}

// typeMismatch is kdexts' answer for an address that is not the object
// asked for, unless the kernel's types are what is missing.
func typeMismatch(err error, what string, addr uint64) error {
	if errors.Is(err, nt.ErrBadNTSymbols) {
		return err
	}
	return fmt.Errorf("TYPE mismatch for %s object at %s", what, p16(addr))
}
