package commands

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/nt"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/unwind"
)

// !waitchain follows a blocked thread to what it waits for, across the
// session's user and kernel dumps: critical sections and their owners,
// kernel waits and the objects waited on, and what extensions know of
// those objects (the NDIS extension: an OID request on a miniport, the miniport's
// state and driver). Each edge says what it rests on and whether it was
// read from the dumps' structures (proved) or from a stack (inferred).

func init() {
	Register(&Command{Name: "!waitchain", Family: "process structures", Syntax: "!waitchain [-all]",
		Summary: "the chain of waits from the current thread (or every blocked thread, grouped) to its end (ntdbg's addition)",
		Help: "Edges: user thread -> critical section (the waiter's frame: inferred; its kernel wait on the section's\n" +
			"LockSemaphore event through the handle table: proved) -> owning thread (OwningThread: proved) -> its kernel\n" +
			"wait (the correlated ETHREAD's wait blocks: proved) -> the object waited on (a mutant's owner; an ERESOURCE's\n" +
			"owner; extensions name what they know, such as NDIS requests and miniports) -> the driver -> the kernel threads that\n" +
			"have that driver on their stacks (inferred). A cycle is reported as a deadlock. Use ~N !waitchain for thread N.",
		Run: cmdWaitChain})
}

// WaitEdge is one step of a wait chain.
type WaitEdge struct {
	Text     string // what the step reaches: "critical section 00000092`cf31fb38"
	Short    string // the same in a few words, for !waitchain -all's summary ("" : Text)
	Evidence string // what it rests on
	Proved   bool   // read from structures (false: from a stack or a heuristic)
	// Object is a kernel object to follow further (0: none); Driver a
	// module whose threads end the chain.
	Object uint64
	Driver string
}

// WaitResolver names what an extension knows of a kernel object a thread
// waits on (the NDIS extension: the request whose event it is). It runs on the
// kernel system's context.
type WaitResolver func(c *Ctx, object uint64) []WaitEdge

// AddWaitResolver registers an extension's resolver.
func (r *Registry) AddWaitResolver(fn WaitResolver) { r.resolvers = append(r.resolvers, fn) }

// waitChain is one thread's chain.
type waitChain struct {
	start   string
	edges   []WaitEdge
	cycle   bool
	members []string // the threads of the cycle
	end     string   // why the chain stops
}

type chainer struct {
	c    *Ctx
	corr *correlation
	user *Ctx
	kern *Ctx
	// drivers caches driverThreads by driver (-all reaches the same driver
	// from every waiter).
	drivers map[string]driverEnd
}

type driverEnd struct {
	edges []WaitEdge
	end   string
}

func cmdWaitChain(c *Ctx, inv *Invocation) error {
	args := strings.TrimSpace(inv.Args)
	ch := chainer{c: c, drivers: map[string]driverEnd{}}
	if corr, err := c.correlate(); err == nil {
		ch.corr, ch.user, ch.kern = corr, corr.user, corr.kern
	} else if c.S.Target.Kind().IsUser() {
		ch.user = c
		c.Printf("(%v: the chain stays in the user dump)\n", err)
	} else {
		return fmt.Errorf("!waitchain follows a user thread: %v", err)
	}
	if ch.user != c && !c.S.Target.Kind().IsUser() {
		// On the kernel system: start from the correlated user thread of
		// the same id as the current kernel thread, when there is one.
		ch.user = ch.corr.user
	}
	switch args {
	case "-all":
		return ch.all()
	case "":
	default:
		return fmt.Errorf("!waitchain: unknown argument %s (use -all, or ~N !waitchain)", target.Sanitize(args))
	}
	idx := ch.user.S.CurThread
	if ch.user == c {
		idx = c.S.CurThread
	}
	w := ch.follow(idx)
	c.print(w)
	return nil
}

func (c *Ctx) print(w waitChain) {
	if c.Recording() {
		c.Record("wait_chain", waitChainRecord(w, nil))
	}
	c.Printf("%s\n", w.start)
	for _, e := range w.edges {
		mark := "inferred"
		if e.Proved {
			mark = "proved"
		}
		c.Printf("  -> %s\n       [%s: %s]\n", e.Text, mark, e.Evidence)
	}
	if w.cycle {
		c.Printf("  DEADLOCK: the chain returns to a thread already in it; the cycle: %s\n", strings.Join(w.members, " -> "))
	}
	if w.end != "" {
		c.Printf("  (end: %s)\n", w.end)
	}
}

// userThreadName is `~20 (tid 43d8)`.
func (ch chainer) userThreadName(i int) string {
	th := ch.user.S.Target.Threads()[i]
	return fmt.Sprintf("thread ~%d (tid %x)", i, th.ID)
}

// frames of user thread i, unwound in the user system.
func (ch chainer) userFrames(i int) []unwind.Frame {
	u := ch.user
	th := u.S.Target.Threads()[i]
	regs, err := th.Registers()
	if err != nil {
		return nil
	}
	return u.S.Unwind(regs, 0x40)
}

// waitedSection is the critical section user thread i waits for, from its
// RtlpWaitOnCriticalSection / RtlEnterCriticalSection frame's parameter.
func (ch chainer) waitedSection(i int) (uint64, string, bool) {
	u := ch.user
	frames := ch.userFrames(i)
	for n := range frames {
		f := &frames[n]
		site := u.callSite(f, true)
		if !strings.HasSuffix(site, "!RtlpWaitOnCriticalSection") && !strings.HasSuffix(site, "!RtlEnterCriticalSection") {
			continue
		}
		ps, ref, ok := u.S.Symbols.Params(f.LookupIP())
		if !ok {
			continue
		}
		for _, p := range ps {
			if !strings.EqualFold(p.Name, "CriticalSection") && !strings.EqualFold(p.Name, "cs") {
				continue
			}
			addr, inReg, found := u.varAddr(f, p)
			var v uint64
			var err error
			switch {
			case !found:
				continue
			case inReg:
				v, _ = u.paramReg(f, p)
			default:
				v, err = u.S.ReadPointer(addr)
				if err != nil {
					continue
				}
			}
			_ = ref
			return v, fmt.Sprintf("frame %02x %s, its CriticalSection parameter", n, site), true
		}
	}
	return 0, "", false
}

func (ch chainer) follow(start int) waitChain {
	w := waitChain{start: ch.userThreadName(start) + " of the user dump"}
	seen := map[int]bool{start: true}
	visited := []int{start}
	cur := start
	for steps := 0; steps < 64; steps++ {
		cs, evidence, ok := ch.waitedSection(cur)
		if !ok {
			break
		}
		edge := WaitEdge{Text: "critical section " + ch.user.ptr(cs), Evidence: evidence}
		if proof := ch.sectionProof(cur, cs); proof != "" {
			edge.Proved, edge.Evidence = true, proof
		}
		w.edges = append(w.edges, edge)
		sec, err := nt.ReadCritSec(ch.user.S.Mem(), ch.user.S.Layout(), ch.user.S.Target.Arch().PtrSize(), cs)
		if err != nil {
			w.end = fmt.Sprintf("the section cannot be read (%v)", err)
			return w
		}
		owner := -1
		for i, th := range ch.user.S.Target.Threads() {
			if uint64(th.ID) == sec.Owner {
				owner = i
			}
		}
		if owner < 0 {
			w.end = fmt.Sprintf("OwningThread %x is not a thread of the dump (it ended, or the section is free)", sec.Owner)
			return w
		}
		w.edges = append(w.edges, WaitEdge{Text: "owned by " + ch.userThreadName(owner), Short: fmt.Sprintf("thread ~%d", owner), Proved: true,
			Evidence: fmt.Sprintf("the section's OwningThread is %x, a thread of the user dump", sec.Owner)})
		if seen[owner] {
			w.cycle = true
			for k, v := range visited {
				if v == owner {
					for _, m := range visited[k:] {
						w.members = append(w.members, fmt.Sprintf("~%d", m))
					}
				}
			}
			return w
		}
		seen[owner] = true
		visited = append(visited, owner)
		cur = owner
	}
	ch.kernelPart(&w, cur)
	return w
}

// sectionProof says how the kernel dump proves that thread i waits for
// section cs: its wait block names the event its LockSemaphore handle
// opens, in the process's handle table.
func (ch chainer) sectionProof(i int, cs uint64) string {
	if ch.corr == nil {
		return ""
	}
	sec, err := nt.ReadCritSec(ch.user.S.Mem(), ch.user.S.Layout(), ch.user.S.Target.Arch().PtrSize(), cs)
	if err != nil || sec.Semaphore == 0 {
		return ""
	}
	kt := ch.corr.threads[uint64(ch.user.S.Target.Threads()[i].ID)]
	if kt == nil {
		return ""
	}
	kc := ch.kern.kernel()
	obj, err := kc.handleObject(ch.corr.proc, sec.Semaphore)
	if err != nil {
		// The handle table's header may be paged out (the seed's
		// HandleCount <Data Not Accessible>): the system call's handle
		// argument in the thread's trap frame still names the semaphore.
		if h, ok := kc.syscallHandle(kt); ok && h == sec.Semaphore && len(kc.waitedObjects(kt)) > 0 {
			return fmt.Sprintf("THREAD %s entered the kernel waiting on handle %x (its trap frame's r10), the section's LockSemaphore",
				p16(kt.Addr), sec.Semaphore)
		}
		return ""
	}
	for _, o := range kc.waitedObjects(kt) {
		if o.addr == obj {
			return fmt.Sprintf("THREAD %s waits on %s %s, the object handle %x (the section's LockSemaphore) opens in %s's handle table",
				p16(kt.Addr), o.typ, p16(obj), sec.Semaphore, target.Sanitize(ch.corr.proc.Image))
		}
	}
	return ""
}

// kernelPart follows user thread i into the kernel dump.
func (ch chainer) kernelPart(w *waitChain, i int) {
	if ch.corr == nil {
		w.end = "no kernel dump of the same machine in the session: its kernel part is unknown"
		return
	}
	th := ch.user.S.Target.Threads()[i]
	kt := ch.corr.threads[uint64(th.ID)]
	if kt == nil {
		w.end = "the thread has no ETHREAD in the kernel dump"
		return
	}
	ch.kernelThread(w, kt, map[uint64]bool{kt.Addr: true})
}

func (ch chainer) kernelThread(w *waitChain, kt *nt.Thread, seen map[uint64]bool) {
	kc := ch.kern.kernel()
	for steps := 0; steps < 32; steps++ {
		if kt.State != 5 {
			w.edges = append(w.edges, WaitEdge{Text: fmt.Sprintf("THREAD %s is not waiting (%s)", p16(kt.Addr), stateText(kt)), Proved: true,
				Evidence: "its KTHREAD.State"})
			return
		}
		objs := kc.waitedObjects(kt)
		if len(objs) == 0 {
			w.end = fmt.Sprintf("THREAD %s waits, but its wait blocks cannot be read", p16(kt.Addr))
			return
		}
		reason := "?"
		if int(kt.WaitReason) < len(waitReasons) {
			reason = waitReasons[kt.WaitReason]
		}
		mode := "KernelMode"
		if kt.Mode != 0 {
			mode = "UserMode"
		}
		dur := ""
		if now, incr, ok := kc.tickInfo(); ok && now >= kt.WaitTime {
			dur = " for " + ticksText(now-kt.WaitTime, incr)
		}
		o := objs[0]
		w.edges = append(w.edges, WaitEdge{Text: fmt.Sprintf("kernel wait: THREAD %s waits on %s %s (%s, %s)%s", p16(kt.Addr), o.typ, p16(o.addr), reason, mode, dur),
			Short:  fmt.Sprintf("kernel wait on %s %s", o.typ, p16(o.addr)),
			Proved: true, Evidence: "the thread's KWAIT_BLOCK list, WaitReason, WaitMode and WaitTime against the tick count", Object: o.addr})
		next := ch.resolveObject(w, o)
		if next == nil {
			return
		}
		if seen[next.Addr] {
			w.cycle = true
			return
		}
		seen[next.Addr] = true
		kt = next
	}
}

// resolveObject adds what is known of a waited object; it returns the
// thread that holds it when the chain goes on through a thread.
func (ch chainer) resolveObject(w *waitChain, o waitObj) *nt.Thread {
	kc := ch.kern.kernel()
	switch o.typ {
	case "Mutant":
		if m, err := kc.k.At("_KMUTANT", o.addr); err == nil {
			if owner, err := m.Ptr("OwnerThread"); err == nil && owner != 0 {
				if t, err := kc.k.ReadThread(owner); err == nil {
					w.edges = append(w.edges, WaitEdge{Text: fmt.Sprintf("the mutant is owned by THREAD %s (Cid %x.%x)", p16(owner), t.Pid, t.Tid),
						Proved: true, Evidence: "KMUTANT.OwnerThread"})
					return t
				}
			}
		}
	}
	if res, owner := ch.resourceOwner(o.addr); res != 0 {
		if t, err := kc.k.ReadThread(owner); err == nil {
			w.edges = append(w.edges, WaitEdge{Text: fmt.Sprintf("ERESOURCE %s, held exclusively by THREAD %s (Cid %x.%x)", p16(res), p16(owner), t.Pid, t.Tid),
				Proved: true, Evidence: "the object is the ERESOURCE's waiters' event (nt!ExpSystemResourcesList), OwnerEntry.OwnerThread"})
			return t
		}
	}
	for _, r := range ch.c.reg().resolvers {
		edges := r(ch.kern, o.addr)
		if len(edges) == 0 {
			continue
		}
		w.edges = append(w.edges, edges...)
		last := edges[len(edges)-1]
		if last.Driver != "" {
			ch.driverThreads(w, last.Driver)
		}
		return nil
	}
	w.end = fmt.Sprintf("nothing in the dumps says who signals %s %s", o.typ, p16(o.addr))
	return nil
}

// resourceOwner finds the ERESOURCE whose waiters wait on object, and its
// exclusive owner.
func (ch chainer) resourceOwner(object uint64) (uint64, uint64) {
	kc := ch.kern.kernel()
	head, ok := ch.kern.S.Symbols.Lookup("nt!ExpSystemResourcesList")
	if !ok {
		return 0, 0
	}
	list, _ := kc.k.Containers(head, "_ERESOURCE", "SystemResourcesList", 4096)
	for _, a := range list {
		r, err := kc.k.At("_ERESOURCE", a)
		if err != nil {
			continue
		}
		ex, _ := r.Ptr("ExclusiveWaiters")
		sh, _ := r.Ptr("SharedWaiters")
		if ex != object && sh != object {
			continue
		}
		if owner, err := r.Uint("OwnerEntry.OwnerThread"); err == nil && owner != 0 {
			return a, owner &^ 3
		}
	}
	return 0, 0
}

// driverThreads ends a chain at a driver: the kernel threads that have it
// on their stacks.
func (ch chainer) driverThreads(w *waitChain, driver string) {
	if d, ok := ch.drivers[driver]; ok {
		w.edges = append(w.edges, d.edges...)
		if d.end != "" {
			w.end = d.end
		}
		return
	}
	var one waitChain
	ch.scanDriverThreads(&one, driver)
	if ch.drivers != nil {
		ch.drivers[driver] = driverEnd{one.edges, one.end}
	}
	w.edges = append(w.edges, one.edges...)
	if one.end != "" {
		w.end = one.end
	}
}

func (ch chainer) scanDriverThreads(w *waitChain, driver string) {
	kc := ch.kern.kernel()
	procs, _ := kc.processes()
	found := 0
	for _, p := range procs {
		threads, _ := kc.k.Threads(p)
		for _, t := range threads {
			regs, err := ch.kern.S.ThreadRegisters(t)
			if err != nil {
				continue
			}
			frames := ch.kern.S.Unwind(regs, 0x40)
			for n := range frames {
				site := ch.kern.callSite(&frames[n], false)
				if !strings.HasPrefix(strings.ToLower(site), strings.ToLower(driver)+"!") && !strings.HasPrefix(strings.ToLower(site), strings.ToLower(driver)+"+") {
					continue
				}
				top := ch.kern.callSite(&frames[0], false)
				for k := range frames {
					s := ch.kern.callSite(&frames[k], false)
					if !strings.HasPrefix(s, "nt!Ki") && !strings.HasPrefix(s, "nt!KeWait") && !strings.HasPrefix(s, "nt!KeDelay") {
						top = s
						break
					}
				}
				w.edges = append(w.edges, WaitEdge{Text: fmt.Sprintf("%s is on the stack of THREAD %s (%s, Cid %x.%x), in %s", driver, p16(t.Addr), target.Sanitize(p.Image), t.Pid, t.Tid, top),
					Short:    fmt.Sprintf("%s thread %x in %s", target.Sanitize(p.Image), t.Tid, top),
					Evidence: fmt.Sprintf("frame %02x of its stack is %s", n, site)})
				found++
				break
			}
			if found >= 8 {
				return
			}
		}
	}
	if found == 0 {
		w.end = fmt.Sprintf("no kernel thread has %s on its stack", driver)
	}
}

// all groups every blocked user thread by the chain it shares.
func (ch chainer) all() error {
	threads := ch.user.S.Target.Threads()
	type group struct {
		key     string
		members []int
		chain   waitChain
	}
	groups := map[string]*group{}
	var order []*group
	for i := range threads {
		w := ch.follow(i)
		if len(w.edges) == 0 {
			continue
		}
		var parts []string
		for _, e := range w.edges {
			parts = append(parts, e.Text)
		}
		key := strings.Join(parts, " | ")
		g := groups[key]
		if g == nil {
			g = &group{key: key, chain: w}
			groups[key] = g
			order = append(order, g)
		}
		g.members = append(g.members, i)
	}
	sort.SliceStable(order, func(i, j int) bool { return len(order[i].members) > len(order[j].members) })
	mo := order
	var idle []int
	for _, m := range mo {
		if ch.c.Recording() {
			ch.c.Record("wait_chain", waitChainRecord(m.chain, m.members))
		}
		if len(m.chain.edges) == 1 && m.chain.edges[0].Object != 0 && !m.chain.cycle {
			idle = append(idle, m.members...) // a wait on its own object that nothing more is known of
			continue
		}
		var path []string
		for _, e := range m.chain.edges {
			if e.Short != "" {
				path = append(path, e.Short)
			} else {
				path = append(path, short(e.Text))
			}
		}
		c := ch.c
		c.Printf("%d thread(s) -> %s\n", len(m.members), strings.Join(path, " -> "))
		var ids []string
		for k, i := range m.members {
			if k == 24 {
				ids = append(ids, fmt.Sprintf("... %d more", len(m.members)-k))
				break
			}
			ids = append(ids, fmt.Sprintf("~%d", i))
		}
		c.Printf("    threads: %s\n", strings.Join(ids, " "))
		if m.chain.cycle {
			c.Printf("    DEADLOCK among %s\n", strings.Join(m.chain.members, ", "))
		}
		if m.chain.end != "" {
			c.Printf("    (end: %s)\n", m.chain.end)
		}
	}
	if len(idle) > 0 {
		sort.Ints(idle)
		var ids []string
		for _, i := range idle {
			ids = append(ids, fmt.Sprintf("~%d", i))
		}
		ch.c.Printf("%d thread(s) wait in the kernel on objects of their own that nothing in the dumps ties to another thread:\n    %s\n", len(idle), strings.Join(ids, " "))
	}
	return nil
}

// short is an edge's text for the one-line group summary.
func short(s string) string {
	if i := strings.Index(s, " ("); i > 0 && !strings.HasPrefix(s, "owned by") {
		s = s[:i]
	}
	s = strings.TrimPrefix(s, "owned by ")
	return s
}

// waitObj is one object a thread waits on.
type waitObj struct {
	addr uint64
	typ  string
}

// waitedObjects reads a waiting thread's wait blocks.
func (kc kctx) waitedObjects(t *nt.Thread) []waitObj {
	if t.State != 5 || t.WaitBlockList == 0 {
		return nil
	}
	n := uint64(1)
	if o, err := kc.k.At("_ETHREAD", t.Addr); err == nil {
		if v, err := o.Uint("Tcb.WaitBlockCount"); err == nil && v > 0 && v <= 64 {
			n = v
		}
	}
	size := uint64(0x30)
	if r, err := kc.k.Types.FindType("nt", "_KWAIT_BLOCK"); err == nil && r.TypeSize(r.Index()) > 0 {
		size = r.TypeSize(r.Index())
	}
	var out []waitObj
	for i := range n {
		wb, err := kc.k.At("_KWAIT_BLOCK", t.WaitBlockList+i*size)
		if err != nil {
			break
		}
		obj, err := wb.Ptr("Object")
		if err != nil || obj == 0 {
			break
		}
		name := "Unknown"
		if h, err := kc.k.At("_DISPATCHER_HEADER", obj); err == nil {
			if ty, err := h.Uint("Type"); err == nil {
				if s, ok := objectTypes[ty&0x7f]; ok {
					name = s
				}
			}
		}
		out = append(out, waitObj{obj, name})
	}
	return out
}

// handleObject looks a handle up in a process's handle table (one or two
// levels, as Windows 8.1 x64 keeps it) and returns the object's body.
func (kc kctx) handleObject(p *nt.Process, h uint64) (uint64, error) {
	if p.ObjectTable == 0 {
		return 0, fmt.Errorf("no handle table")
	}
	ht, err := kc.k.At("_HANDLE_TABLE", p.ObjectTable)
	if err != nil {
		return 0, err
	}
	code, err := ht.Uint("TableCode")
	if err != nil {
		return 0, err
	}
	const entrySize, perPage = 16, 256
	idx := h / 4
	base := code &^ 3
	switch code & 3 {
	case 0:
	case 1:
		page, err := mem.ReadUint(kc.k.Mem, base+(idx/perPage)*8, 8)
		if err != nil {
			return 0, err
		}
		base, idx = page, idx%perPage
	default:
		return 0, fmt.Errorf("a three-level handle table is not read")
	}
	if idx >= 1<<20 {
		return 0, fmt.Errorf("handle %x is out of range", h)
	}
	e := base + idx*entrySize
	ref, err := kc.k.Types.FindType("nt", "_HANDLE_TABLE_ENTRY")
	if err != nil {
		return 0, err
	}
	f, err := ref.Field("ObjectPointerBits")
	if err != nil || f.BitLen == 0 {
		return 0, fmt.Errorf("_HANDLE_TABLE_ENTRY has no ObjectPointerBits bitfield")
	}
	raw, err := mem.ReadUint(kc.k.Mem, e+f.Offset, 8)
	if err != nil {
		return 0, err
	}
	bits := raw >> f.BitPos & (1<<f.BitLen - 1)
	if bits == 0 {
		return 0, fmt.Errorf("handle %x is free", h)
	}
	header := bits<<4 | 0xffff000000000000
	body, err := kc.k.Offset("_OBJECT_HEADER", "Body")
	if err != nil {
		body = 0x30
	}
	return header + body, nil
}

// syscallHandle is the first argument of the system call a thread is in
// (the trap frame's R10: NtWaitForSingleObject's handle).
func (kc kctx) syscallHandle(t *nt.Thread) (uint64, bool) {
	o, err := kc.k.At("_ETHREAD", t.Addr)
	if err != nil {
		return 0, false
	}
	tf, err := o.Ptr("Tcb.TrapFrame")
	if err != nil || tf == 0 {
		return 0, false
	}
	f, err := kc.k.At("_KTRAP_FRAME", tf)
	if err != nil {
		return 0, false
	}
	v, err := f.Uint("R10")
	return v, err == nil
}
