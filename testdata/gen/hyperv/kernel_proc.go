package hyperv

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Processes and threads: EPROCESS and ETHREAD with the fields the kernel
// commands show, both thread lists linked as Windows links them
// (KPROCESS.ThreadListHead / KTHREAD.ThreadListEntry and EPROCESS.ThreadListHead
// / ETHREAD.ThreadListEntry), wait blocks on their objects' wait lists, IRPs
// on IrpList, and a kernel stack for every thread laid out from the images'
// unwind data with the switch frame at KernelStack.

// ticksOf is a duration in clock ticks, rounded.
func ticksOf(d100ns uint64) uint32 { return uint32((d100ns + TimeIncrement/2) / TimeIncrement) }

// tickAt is the tick count at a time.
func tickAt(t time.Time) uint32 {
	d := t.Sub(bootTime)
	if d < 0 {
		return 0
	}
	return uint32(uint64(d/100) / TimeIncrement)
}

// fixedObject reserves [addr, addr+size) in every VA region.
func (k *KernelScenario) fixedObject(addr, size uint64) {
	for _, r := range k.vas {
		r.reserve(addr, size)
	}
}

// dispatcherObject writes a DISPATCHER_HEADER (type, size in LONGs, signal
// state, empty wait list) at addr.
func (k *KernelScenario) dispatcherObject(addr uint64, typ, sizeLongs uint64) {
	o := kobj{k.ks, "_DISPATCHER_HEADER", addr}
	o.set("Type", typ)
	o.set("Size", sizeLongs)
	o.set("SignalState", 0)
	o.emptyList("WaitListHead")
}

// poolObject allocates an object's pool block: POOL_HEADER (0x10) and
// OBJECT_HEADER (0x30, its Body at +0x30) before the body, which it returns.
func (k *KernelScenario) poolObject(body uint64) uint64 {
	return k.poolAlloc("npp2", (0x40+body+0xf)&^0xf) + 0x40
}

// event allocates a KEVENT (an event object's body) in nonpaged pool.
func (k *KernelScenario) event(typ uint64) uint64 {
	a := k.poolObject(sizeOf("_KEVENT"))
	k.dispatcherObject(a, typ, sizeOf("_KEVENT")/4)
	return a
}

// queue allocates a KQUEUE (a completion port's, a worker factory's).
func (k *KernelScenario) queue() uint64 {
	a := k.poolObject(0x40)
	k.dispatcherObject(a, typeQueue, 0x40/4)
	return a
}

// processes writes PsActiveProcessHead's processes and their threads.
func (k *KernelScenario) processes() {
	nt := k.nt()
	var session uint64
	for _, spec := range kernelProcs {
		k.fixedObject(spec.eprocess-0x80, 0x780)
	}
	k.fixedObject(OwnerEThread-0x80, 0x800)
	k.fixedObject(FooEThread-0x40, 0x800)
	k.fixedObject(OwnerIrp&^0xfff, 0x1000)
	session = k.poolAlloc("stacks", 0x2000)
	so := kobj{k.ks, "_MM_SESSION_SPACE", session}
	so.set("SessionId", 0)
	var sessionLinks, activeLinks []uint64
	deviceMaps := map[uint64]int{}
	for _, spec := range kernelProcs {
		p := &KProcess{Spec: spec, Created: bootTime.Add(spec.created)}
		if spec.name == "vmms.exe" {
			p.Created = processTime
		}
		if spec.dirBase == SystemDirBase {
			p.space = k.sys
		} else {
			p.space = newAddrSpace(k.phys, spec.dirBase>>12, spec.name, "ptu")
		}
		k.Procs = append(k.Procs, p)
		o := kobj{k.ks, "_EPROCESS", spec.eprocess}
		activeLinks = append(activeLinks, o.at("ActiveProcessLinks"))
		if spec.session {
			sessionLinks = append(sessionLinks, o.at("SessionProcessLinks"))
		} else {
			o.emptyList("SessionProcessLinks")
		}
		deviceMaps[spec.deviceMap]++
	}
	k.linkList(nt.Sym("PsActiveProcessHead"), activeLinks)
	k.linkList(so.at("ProcessList"), sessionLinks)
	so.set("ReferenceCount", uint64(len(sessionLinks)))
	if a := k.optSym("PsInitialSystemProcess"); a != 0 {
		k.ks.U64(a, kernelProcs[0].eprocess)
	}
	var maps []uint64
	for m := range deviceMaps {
		maps = append(maps, m)
	}
	sort.Slice(maps, func(i, j int) bool { return maps[i] < maps[j] })
	for _, m := range maps {
		d := kobj{k.ks, "_DEVICE_MAP", m}
		d.set("ReferenceCount", uint64(deviceMaps[m]))
		d.set("DriveMap", 0x4|0x8) // C: and D:
	}
	k.threads()
	var tables []uint64
	for _, p := range k.Procs {
		k.writeProcess(p, session)
		if p.Spec.objTable != VmmsObjTable {
			tables = append(tables, p.Spec.objTable+off("_HANDLE_TABLE", "HandleTableList"))
		}
	}
	// HandleTableList rings the handle tables that are resident; vmms's is
	// paged out (its page is a pagefile PTE, and the links of its neighbours
	// that would point at it are what the pagefile holds).
	head := k.poolAlloc("npp", 0x10)
	k.linkList(head, tables)
	// vmms's PEB and handle table are paged out; every other user page the
	// threads touch is resident, but a kernel dump does not hold user pages.
	for _, p := range k.Procs {
		k.userPages(p)
	}
}

// pagefilePTE is a software PTE for a page in the paging file (9600's
// MMPTE_SOFTWARE: Protection bits 5-9, PageFileLow 12-15, PageFileHigh 32-63).
func pagefilePTE(offsetPages uint64) uint64 {
	const mmReadWrite = 4
	return offsetPages<<32 | mmReadWrite<<5
}

// userPages maps the user pages the kernel structures point at: TEBs and
// the pages of the user stacks the trap frames point into. They are
// resident (valid PTEs) but the dump, a kernel one, does not hold them;
// vmms's PEB is paged out.
func (k *KernelScenario) userPages(p *KProcess) {
	if p.Spec.peb == 0 {
		return
	}
	mapped := map[uint64]bool{}
	resident := func(va uint64) {
		va &^= 0xfff
		if mapped[va] {
			return
		}
		mapped[va] = true
		p.space.map4K(va, k.phys.alloc("user", 1, 1, p.Spec.name+" user page"), uData)
	}
	if p.Spec.name == "vmms.exe" {
		p.space.setPTE(p.Spec.peb, pagefilePTE(0x1a3c5))
		mapped[p.Spec.peb] = true
	} else {
		resident(p.Spec.peb)
	}
	for _, t := range p.Threads {
		if t.Teb != 0 {
			resident(t.Teb)
			resident(t.Teb + 0x1000)
		}
		if t.UserRsp != 0 {
			resident(t.UserRsp)
		}
	}
	// The image's first page (its headers).
	if p.Spec.imageBase != 0 {
		resident(p.Spec.imageBase)
	}
}

// writeProcess writes an EPROCESS and its handle table.
func (k *KernelScenario) writeProcess(p *KProcess, session uint64) {
	s := p.Spec
	o := kobj{k.ks, "_EPROCESS", s.eprocess}
	o.set("Pcb.Header.Type", typeProcess)
	o.set("Pcb.Header.Size", sizeOf("_KPROCESS")/4)
	o.emptyList("Pcb.Header.WaitListHead")
	o.emptyList("Pcb.ProfileListHead")
	o.set("Pcb.DirectoryTableBase", s.dirBase)
	o.emptyList("Pcb.ReadyListHead")
	o.emptyList("Pcb.ProcessListEntry")
	o.set("Pcb.BasePriority", uint64(s.basePrio))
	o.set("Pcb.QuantumReset", 0x12)
	var kt, ut, cs uint64
	var tcbLinks, ethLinks []uint64
	for _, t := range p.Threads {
		kt += uint64(t.KernelTicks)
		ut += uint64(t.UserTicks)
		cs += uint64(t.ContextSwitches)
		to := kobj{k.ks, "_ETHREAD", t.EThread}
		tcbLinks = append(tcbLinks, to.at("Tcb.ThreadListEntry"))
		ethLinks = append(ethLinks, to.at("ThreadListEntry"))
	}
	k.linkList(o.at("Pcb.ThreadListHead"), tcbLinks)
	k.linkList(o.at("ThreadListHead"), ethLinks)
	o.set("Pcb.KernelTime", kt)
	o.set("Pcb.UserTime", ut)
	o.set("Pcb.ContextSwitches", cs)
	o.set("CreateTime", filetime(p.Created))
	o.set("UniqueProcessId", s.pid)
	o.set("VirtualSize", s.virtualMiB<<20)
	o.set("PeakVirtualSize", s.virtualMiB<<20+0x2c0000)
	o.set("InheritedFromUniqueProcessId", s.ppid)
	o.set("Peb", s.peb)
	if s.session {
		o.set("Session", session)
	}
	o.set("ObjectTable", s.objTable)
	o.set("DeviceMap", s.deviceMap)
	name := []byte(s.name)
	if len(name) > 14 {
		name = name[:14]
	}
	o.bytes("ImageFileName", append(name, 0))
	o.set("PriorityClass", 2) // PROCESS_PRIORITY_CLASS_NORMAL
	o.set("CreateReported", 1)
	o.set("HasAddressSpace", 1)
	o.set("AddressSpaceInitialized", 2)
	o.set("ProcessInserted", 1)
	if s.session {
		o.set("ProcessInSession", 1)
	}
	o.set("ActiveThreads", uint64(len(p.Threads)))
	o.set("CommitCharge", s.virtualMiB<<6)
	o.set("SectionBaseAddress", s.imageBase)
	if s.objTable == VmmsObjTable {
		k.writeHandleTable(p)
		return
	}
	h := kobj{k.ks, "_HANDLE_TABLE", s.objTable}
	h.set("NextHandleNeedingPool", uint64(s.handles+0x3ff)&^0x3ff*4)
	h.set("QuotaProcess", s.eprocess)
	if s.pid == 4 {
		h.set("QuotaProcess", 0)
	}
	h.set("UniqueProcessId", s.pid)
	h.set("FreeLists[0].HandleCount", uint64(s.handles))
	h.set("FreeLists[0].HighWaterMark", uint64(s.handles+17))
}

// ---- threads ----

// userWait is how a user thread's system service waits.
type userWait struct {
	service string // the nt system service under KiSystemServiceCopyEnd
	via     string // the Ob/Ke function between it and the wait, "" if none
	wait    string // KeWaitForSingleObject, ...
	reason  uint8
	alert   bool
}

var userWaits = map[string]userWait{
	"NtWaitForSingleObject":         {"NtWaitForSingleObject", "ObWaitForSingleObject", "KeWaitForSingleObject", wrUserRequest, false},
	"NtWaitForMultipleObjects":      {"NtWaitForMultipleObjects", "ObWaitForMultipleObjects", "KeWaitForMultipleObjects", wrUserRequest, false},
	"NtDelayExecution":              {"NtDelayExecution", "", "KeDelayExecutionThread", wrDelayExecution, true},
	"NtWaitForAlertByThreadId":      {"NtWaitForAlertByThreadId", "", "KeWaitForAlertByThreadId", wrAlertByThreadID, false},
	"NtRemoveIoCompletion":          {"NtRemoveIoCompletion", "", "KeRemoveQueueEx", wrQueue, false},
	"NtWaitForWorkViaWorkerFactory": {"NtWaitForWorkViaWorkerFactory", "", "KeRemoveQueueEx", wrQueue, true},
}

// waitChain is the kernel chain (outermost first) of a thread waiting in a
// system service, down to KiSwapContext.
func (k *KernelScenario) waitChain(w userWait, set map[string]map[int]uint64) []Call {
	nt := k.nt()
	c := func(fn string) Call { return Call{Img: nt, Fn: fn, Set: set[fn]} }
	chain := []Call{c("KiSystemServiceCopyEnd"), c(w.service)}
	if w.via != "" {
		chain = append(chain, c(w.via))
	}
	return append(chain, c(w.wait), c("KiCommitThreadWait"), c("KiSwapThread"), swapContext(nt))
}

// swapContext is the innermost frame of every thread that is not running:
// KiSwapContext at the return address of its call of SwapContext.
func swapContext(nt *Image) Call {
	fn := nt.Sym("KiSwapContext")
	for _, s := range nt.callSitesIn(fn) {
		if s.target == nt.Sym("SwapContext") {
			return Call{Img: nt, Fn: "KiSwapContext", At: s.ret - fn}
		}
	}
	panic("KiSwapContext does not call SwapContext")
}

// newCID is the first client id from pref (a multiple of 4) that no process
// or thread has: process and thread ids share one table.
func (k *KernelScenario) newCID(pref uint64) uint64 {
	for k.cids[pref] {
		pref += 4
	}
	k.cids[pref] = true
	return pref
}

// reserveCIDs takes the ids the scenario fixes: every process's, vmms's
// threads' (vmms.dmp's) and System's.
func (k *KernelScenario) reserveCIDs() {
	k.cids = map[uint64]bool{}
	take := func(id uint64) {
		if k.cids[id] {
			panic(fmt.Sprintf("client id %#x is used twice", id))
		}
		k.cids[id] = true
	}
	for _, p := range kernelProcs {
		take(p.pid)
	}
	for _, t := range k.User.Threads {
		take(uint64(t.ID))
	}
	for _, id := range systemTIDs {
		take(id)
	}
	take(FooTID)
}

// systemTIDs are System's worker threads (FooTID besides).
var systemTIDs = []uint64{0x4c, 0x50, 0x54, 0x58, 0x5c, 0x60, 0x64, 0x68}

// threads creates every process's threads (their objects are written by
// writeThread once all are known).
func (k *KernelScenario) threads() {
	k.reserveCIDs()
	for _, p := range k.Procs {
		switch p.Spec.name {
		case "System":
			k.systemThreads(p)
		case "vmms.exe":
			k.vmmsThreads(p)
		default:
			k.serviceThreads(p)
		}
	}
	if k.Opts.ResourceHolder != 0 {
		k.ownerResource()
	}
	for _, p := range k.Procs {
		for _, t := range p.Threads {
			k.layStack(t)
			k.writeThread(t)
		}
	}
}

// thread is the thread with a client id, nil if none.
func (k *KernelScenario) thread(tid uint64) *KThread {
	for _, p := range k.Procs {
		for _, t := range p.Threads {
			if t.TID == tid {
				return t
			}
		}
	}
	return nil
}

// ownerThreadObject is the vmms thread stuck in NDIS (the owner role), nil
// in the deadlock variant.
func (k *KernelScenario) ownerThreadObject() *KThread {
	for _, p := range k.Procs {
		for _, t := range p.Threads {
			if t.role == "owner" {
				return t
			}
		}
	}
	return nil
}

// ownerResource: the owner waits in the kernel on an ERESOURCE that
// ResourceHolder holds exclusively: on the resource's ExclusiveWaiters
// event (a SynchronizationEvent), as ExAcquireResourceExclusiveLite waits,
// WrResource in KernelMode.
func (k *KernelScenario) ownerResource() {
	owner, holder := k.ownerThreadObject(), k.thread(k.Opts.ResourceHolder)
	if owner == nil || holder == nil || holder == owner {
		panic(fmt.Sprintf("ResourceHolder %#x: needs an owner in NDIS and another existing thread", k.Opts.ResourceHolder))
	}
	r := k.poolAlloc("npp2", sizeOf("_ERESOURCE"))
	ev := k.event(typeSynchronizaton)
	o := kobj{k.ks, "_ERESOURCE", r}
	o.emptyList("SystemResourcesList")
	o.set("ActiveCount", 1)
	o.set("Flag", 0x80) // ResourceOwnedExclusive
	o.set("ExclusiveWaiters", ev)
	o.set("OwnerEntry.OwnerThread", holder.EThread)
	o.set("OwnerEntry.OwnerCount", 1)
	o.set("ActiveEntries", 1)
	o.set("ContentionCount", 1)
	o.set("NumberOfExclusiveWaiters", 1)
	owner.WaitObjects = []uint64{ev}
	owner.WaitReason, owner.WaitMode = wrResource, modeKernel
	owner.keepWait = true
	k.Resource = r
}

// newThread allocates an ETHREAD and a kernel stack.
func (k *KernelScenario) newThread(p *KProcess, tid uint64, objRegion, stackRegion string) *KThread {
	t := &KThread{PID: p.Spec.pid, TID: tid, Process: p, State: stateWaiting, Priority: p.Spec.basePrio,
		BasePriority: p.Spec.basePrio}
	switch {
	case tid == OwnerTID:
		t.EThread = OwnerEThread
	case tid == FooTID:
		t.EThread = FooEThread
	case objRegion == "threads":
		t.EThread = k.vas[objRegion].takeShuffled(0x800, &k.slotGen) + 0x80
	default:
		t.EThread = k.vas[objRegion].take(0x800, 0x800) + 0x80
	}
	if tid != OwnerTID {
		base := k.vas[stackRegion].take(kstackSize+pageSize, pageSize) + pageSize + kstackSize
		t.setStack(base)
	}
	p.Threads = append(p.Threads, t)
	return t
}

func (t *KThread) setStack(base uint64) {
	t.StackBase = base
	t.StackLimit = base - kstackSize
	gap := uint64(xsaveSize)
	if t.xsaveGap != 0 {
		gap = t.xsaveGap
	}
	t.InitialStack = base - gap
}

// systemThreads: System's worker threads, one of them FooDRV's.
func (k *KernelScenario) systemThreads(p *KProcess) {
	nt := k.nt()
	queues := nt.Sym("ExWorkerQueue")
	qsize := sizeOfWorkQueue(nt)
	for q := range uint64(3) { // Critical, Delayed, HyperCritical: KPRIQUEUEs (PriQueueObject)
		a := queues + q*qsize
		k.dispatcherObject(a, 0x15, sizeOf("_KPRIQUEUE")/4)
		o := kobj{k.ks, "_KPRIQUEUE", a}
		for i := range uint64(32) {
			k.linkList(o.at("EntryListHead")+0x10*i, nil)
		}
		o.emptyList("ThreadListHead")
		o.set("MaximumCount", NumberOfCPUs)
	}
	g := lcg(0x4)
	for i, tid := range systemTIDs {
		t := k.newThread(p, tid, "npp", "stacks")
		t.System = true
		queue := queues + uint64(i%3)*qsize
		t.WaitReason, t.WaitMode = wrQueue, modeKernel
		t.WaitObjects = []uint64{queue}
		t.Priority, t.BasePriority = 13, 12
		t.StartAddress, t.Win32Start = nt.Sym("ExpWorkerThread"), nt.Sym("ExpWorkerThread")
		t.Created = bootTime.Add(time.Duration(1400+i*3) * time.Millisecond)
		t.WaitTime = TickCountNow - g.next()%4000
		t.ContextSwitches = 2000 + g.next()%90000
		t.KernelTicks = g.next() % 900
		t.IdealProcessor = uint32(i)
		t.chain = []Call{
			{Img: nt, Fn: "KiStartSystemThread"},
			{Img: nt, Fn: "PspSystemThreadStartup", Set: map[int]uint64{RSI: nt.Sym("ExpWorkerThread"), RDI: queue, RBX: t.EThread}},
			{Img: nt, Fn: "ExpWorkerThread", Set: map[int]uint64{R12: queue, RBP: t.EThread}},
			{Img: nt, Fn: "KiCommitThreadWait", Set: map[int]uint64{RDI: t.EThread, RSI: t.EThread + off("_ETHREAD", "Tcb.WaitBlock")}},
			{Img: nt, Fn: "KiSwapThread", Set: map[int]uint64{RDI: t.EThread}},
			swapContext(nt),
		}
		t.startFrame = [2]uint64{nt.Sym("ExpWorkerThread"), queue}
	}
	k.fooThread(p)
}

// sizeOfWorkQueue is the size of an EX_WORK_QUEUE (nt's ExWorkerQueue[3]).
func sizeOfWorkQueue(*Image) uint64 { return sizeOf("_EX_WORK_QUEUE") }

// fooThread is System thread 1114: a dynamic worker thread running FooDRV's
// work item, which sleeps in NDIS!NdisMSleep.
func (k *KernelScenario) fooThread(p *KProcess) {
	nt, ndis, foo := k.nt(), k.Images["ndis.sys"], k.Images["foodrv.sys"]
	t := k.newThread(p, FooTID, "npp2", "stacks")
	t.System = true
	queue := nt.Sym("ExWorkerQueue") + sizeOfWorkQueue(nt) // the delayed queue
	item := k.poolAlloc("npp2", sizeOf("_IO_WORKITEM"))
	routine := foo.Sym(fooChain[0])
	wi := kobj{k.ks, "_IO_WORKITEM", item}
	wi.emptyList("WorkItem.List")
	wi.set("WorkItem.WorkerRoutine", nt.Sym("IopProcessWorkItem"))
	wi.set("WorkItem.Parameter", item)
	wi.set("Routine", routine)
	wi.set("IoObject", fooDeviceObject)
	wi.set("Context", fooAdapterContext)
	wi.set("Type", 1)
	timer := uint64(0) // set by layStack: NdisMSleep's KTIMER on the stack
	_ = timer
	t.WaitReason, t.WaitMode = wrExecutive, modeKernel
	t.Priority, t.BasePriority = 13, 12
	t.StartAddress, t.Win32Start = nt.Sym("ExpWorkerThread"), nt.Sym("ExpWorkerThread")
	t.Created = bootTime.Add(41*time.Minute + 7*time.Second)
	// The seed's !stacks shows this thread's Ticks as ffc7d369: !stacks
	// prints WaitTime - TickCount as a 32-bit value (the reference sample's
	// fffffee1 is a wait 287 ticks old), so its WaitTime is 0.
	t.WaitTime = 0
	t.ContextSwitches = 1483022
	t.KernelTicks = 16877
	t.IdealProcessor = 3
	chain := []Call{
		{Img: nt, Fn: "KiStartSystemThread"},
		{Img: nt, Fn: "PspSystemThreadStartup", Set: map[int]uint64{RSI: nt.Sym("ExpWorkerThread"), RDI: queue, RBX: t.EThread}},
		{Img: nt, Fn: "ExpWorkerThread", Set: map[int]uint64{RBX: item, R12: queue, RBP: t.EThread}},
		{Img: nt, Fn: "IopProcessWorkItem", Set: map[int]uint64{RBX: item, RSI: routine}},
	}
	for _, fn := range fooChain {
		chain = append(chain, Call{Img: foo, Fn: fn})
	}
	chain = append(chain,
		Call{Img: ndis, Fn: "NdisMSleep"},
		Call{Img: nt, Fn: "KeWaitForSingleObject"},
		Call{Img: nt, Fn: "KiCommitThreadWait", Set: map[int]uint64{RDI: t.EThread, RSI: t.EThread + off("_ETHREAD", "Tcb.WaitBlock")}},
		Call{Img: nt, Fn: "KiSwapThread", Set: map[int]uint64{RDI: t.EThread}},
		swapContext(nt))
	t.chain = chain
	t.startFrame = [2]uint64{nt.Sym("ExpWorkerThread"), queue}
	t.stackObject = "NdisMSleep"
}

// FooDRV's objects (the NDIS miniport state of the next issue names them).
const (
	fooDeviceObject   = 0xffffe0004f5f7050 // the seed's "Device object" of FooBar Network Adapter #2
	fooAdapterContext = 0xffffe00051a00000 // its "Adapter context"
)

// fooChain is FooDRV's part of thread 1114's stack, outermost first: the
// work item routine IopProcessWorkItem calls, down to the call of
// NdisMSleep (FooDRV has no symbols: the seed shows FooDRV+0x14696,
// +0x70d79, +0x8bc8b, +0x8ccbb).
var fooChain = []string{"FooResetWorkItem", "FooHwResetAdapter", "FooHwRestoreReceiveFilters", "FooHwWaitForIdle"}

// serviceThreads: every other process's threads, waiting in user mode.
func (k *KernelScenario) serviceThreads(p *KProcess) {
	nt := k.nt()
	ntdll := k.User.Images["ntdll.dll"]
	g := lcg(uint32(p.Spec.pid))
	stackBase := uint64(0x000000a0_00000000) | uint64(p.Spec.pid)<<28
	for i := 0; i < p.Spec.threads; i++ {
		t := k.newThread(p, k.newCID(p.Spec.pid+4+uint64(i)*8), "npp", "stacks")
		t.Teb = p.Spec.peb + 0x1000 // the first TEB is above the PEB, the others below
		if i > 0 {
			t.Teb = p.Spec.peb - 0x2000*uint64(i+1)
		}
		t.Created = k.procCreated(p).Add(time.Duration(uint32(i*211)+g.next()%150) * time.Millisecond)
		svc := "NtWaitForSingleObject"
		switch i % 4 {
		case 1:
			svc = "NtWaitForMultipleObjects"
		case 2:
			svc = "NtWaitForWorkViaWorkerFactory"
		case 3:
			svc = "NtRemoveIoCompletion"
		}
		w := userWaits[svc]
		t.WaitReason, t.WaitMode, t.Alertable = w.reason, modeUser, w.alert
		switch svc {
		case "NtWaitForSingleObject":
			t.WaitObjects = []uint64{k.event(typeSynchronizaton)}
		case "NtWaitForMultipleObjects":
			t.WaitObjects = []uint64{k.event(typeNotification), k.event(typeSynchronizaton)}
		default:
			t.WaitObjects = []uint64{k.queue()}
		}
		t.WaitTime = TickCountNow - g.next()%30000
		t.ContextSwitches = 20 + g.next()%20000
		t.KernelTicks, t.UserTicks = g.next()%200, g.next()%300
		t.IdealProcessor = (uint32(p.Spec.pid)/4 + uint32(i)) % NumberOfCPUs
		t.StartAddress = ntdll.Sym("RtlUserThreadStart")
		t.Win32Start = ntdll.Sym("TppWorkerThread")
		if i == 0 {
			t.Win32Start = p.Spec.imageBase + 0x1a40 // the image's entry point
		}
		leaf := ntdll.Sym(svc) + 0xa
		t.UserRip = leaf
		t.UserRsp = stackBase + uint64(i+1)*0x20000 - 0x1000 + 0x6b8 - uint64(g.next()%0x40)*8
		t.mf = &machineFrame{Rip: leaf, Rsp: t.UserRsp, SegCs: 0x33, SegSs: 0x2b, EFlags: 0x246}
		t.chain = k.waitChain(w, map[string]map[int]uint64{
			"KiCommitThreadWait": {RDI: t.EThread},
			"KiSwapThread":       {RDI: t.EThread},
		})
		_ = nt
	}
}

func (k *KernelScenario) procCreated(p *KProcess) time.Time {
	if p.Spec.name == "vmms.exe" {
		return processTime
	}
	return bootTime.Add(p.Spec.created)
}

// vmmsThreads: vmms.exe's 183 threads, as vmms.dmp has them.
func (k *KernelScenario) vmmsThreads(p *KProcess) {
	u := k.User
	nt := k.nt()
	ntdll := u.Images["ntdll.dll"]
	shared := map[string]uint64{}
	obj := func(key string, mk func() uint64) uint64 {
		if v, ok := shared[key]; ok {
			return v
		}
		v := mk()
		shared[key] = v
		return v
	}
	g := lcg(0xc08)
	infos := u.Dump.ThreadInfo
	k.vmmsHandleObjects()
	// The owner's kernel stack is where the seed's event falls (see
	// ownerStackBase), whichever thread the owner is: reserve it first.
	pre := &KThread{EThread: OwnerEThread, mf: &machineFrame{SegCs: 0x33, SegSs: 0x2b, EFlags: 0x246}}
	pre.chain, pre.stackObject = k.ownerChain(pre), "ndisQuerySetMiniportEx"
	pre.setStack(k.ownerStackBase(pre))
	k.vas["vstacks"].reserve(pre.StackLimit-pageSize, kstackSize+pageSize)
	handleObject := func(h uint64) uint64 {
		v, ok := k.HandleObjects[h]
		if !ok {
			panic(fmt.Sprintf("vmms waits on handle %#x, which is not in its handle table", h))
		}
		return v
	}
	for i, plan := range u.Threads {
		t := k.newThread(p, uint64(plan.ID), "threads", "vstacks")
		t.role = plan.Role
		t.Teb = plan.Teb
		info := infos[i]
		t.Created = fileTimeToTime(info.CreateTime)
		t.KernelTicks, t.UserTicks = ticksOf(info.KernelTime), ticksOf(info.UserTime)
		t.StartAddress = ntdll.Sym("RtlUserThreadStart")
		t.Win32Start = info.StartAddress
		t.IdealProcessor = uint32(i) % NumberOfCPUs
		top := plan.Frames[0]
		t.UserRip, t.UserRsp = top.IP, top.SP
		t.mf = &machineFrame{Rip: top.IP, Rsp: top.SP, SegCs: 0x33, SegSs: 0x2b, EFlags: 0x246}
		t.userRegs = top.Regs
		t.userRegs[R10], t.userRegs[RDX], t.userRegs[R8], t.userRegs[R9] = plan.Args[0], plan.Args[1], plan.Args[2], plan.Args[3]
		t.ContextSwitches = 3 + g.next()%900
		// Waits began after the thread was created, within the last minutes
		// for the workers the hang piled up.
		created := tickAt(t.Created)
		t.WaitTime = max(created+1+g.next()%40, TickCountNow-g.next()%12000)
		leafFn := plan.Frames[0].Function
		if plan.Role == "owner" {
			k.ownerThread(t)
			continue
		}
		w, ok := userWaits[leafFn]
		if !ok {
			panic("vmms thread in " + leafFn)
		}
		t.WaitReason, t.WaitMode, t.Alertable = w.reason, modeUser, w.alert
		switch {
		case leafFn == "NtWaitForSingleObject":
			// The critical section waiters on their section's
			// LockSemaphore, the others on their own handle's object.
			t.WaitObjects = []uint64{handleObject(plan.Args[0])}
		case leafFn == "NtWaitForMultipleObjects":
			t.WaitObjects = []uint64{handleObject(plan.Args[0]), k.event(typeSynchronizaton)}
		case plan.Role == "iocp":
			t.WaitObjects = []uint64{handleObject(plan.Args[0])}
		case leafFn == "NtDelayExecution":
			t.WaitObjects = []uint64{t.EThread + off("_ETHREAD", "Tcb") + tcbTimer}
		case leafFn == "NtWaitForAlertByThreadId":
			t.WaitObjects = nil
		default:
			t.WaitObjects = []uint64{obj(plan.Role, k.queue)}
		}
		t.chain = k.waitChain(w, map[string]map[int]uint64{
			"KiCommitThreadWait": {RDI: t.EThread},
			"KiSwapThread":       {RDI: t.EThread},
		})
		_ = nt
	}
}

// tcbTimer is KTHREAD.Timer's offset (the thread's own timer, which
// KeDelayExecutionThread waits on).
const tcbTimer = 0x100

func fileTimeToTime(ft uint64) time.Time {
	return time.Unix(0, int64(ft-116444736000000000)*100).UTC()
}

// ownerThread is vmms thread 43d8: in NtDeviceIoControlFile on \Device\Nsi,
// the IRP at nsiproxy, NDIS waiting for the miniport's OID request.
func (k *KernelScenario) ownerThread(t *KThread) {
	t.WaitReason, t.WaitMode, t.Alertable = wrExecutive, modeKernel, false
	t.WaitObjects = []uint64{OwnerEvent}
	t.WaitTime = OwnerWaitStart
	t.ContextSwitches = 3149
	t.IdealProcessor = 14
	t.Priority, t.BasePriority = 9, 8
	t.Irps = []uint64{OwnerIrp}
	t.stackObject = "ndisQuerySetMiniportEx"
	t.chain = k.ownerChain(t)
	// Its stack is where the seed's event falls inside
	// ndisQuerySetMiniportEx's frame.
	base := k.ownerStackBase(t)
	t.setStack(base)
	k.irp(t)
}

// ownerChain is the owner's kernel stack, outermost first.
func (k *KernelScenario) ownerChain(t *KThread) []Call {
	nt, ndis, netio, nsip := k.nt(), k.Images["ndis.sys"], k.Images["netio.sys"], k.Images["nsiproxy.sys"]
	return []Call{
		{Img: nt, Fn: "KiSystemServiceCopyEnd"},
		{Img: nt, Fn: "NtDeviceIoControlFile"},
		{Img: nt, Fn: "IopXxxControlFile"},
		{Img: nt, Fn: "IopSynchronousServiceTail"},
		{Img: nsip, Fn: "NsippDispatch"},
		{Img: nsip, Fn: "NsippEnumerateObjectsAllParameters"},
		{Img: netio, Fn: "NsiEnumerateObjectsAllParametersEx"},
		{Img: ndis, Fn: "ndisNsiGetAllInterfaceInformation"},
		{Img: ndis, Fn: "ndisNsiGetInterfaceRodInformation"},
		{Img: ndis, Fn: "ndisIfQueryObject"},
		{Img: ndis, Fn: "ndisIfQueryFilterObject"},
		{Img: ndis, Fn: "ndisIfGetMiniportStatistics"},
		{Img: ndis, Fn: "ndisQuerySetMiniport"},
		{Img: ndis, Fn: "ndisQuerySetMiniportEx"},
		{Img: nt, Fn: "KeWaitForSingleObject"},
		{Img: nt, Fn: "KiCommitThreadWait", Set: map[int]uint64{RDI: t.EThread}},
		{Img: nt, Fn: "KiSwapThread", Set: map[int]uint64{RDI: t.EThread}},
		swapContext(nt),
	}
}

// irp writes the owner's IRP: IRP_MJ_DEVICE_CONTROL for \Device\Nsi with
// one stack location, queued on the thread's IrpList.
func (k *KernelScenario) irp(t *KThread) {
	o := kobj{k.ks, "_IRP", OwnerIrp}
	size := sizeOf("_IRP") + sizeOf("_IO_STACK_LOCATION")
	o.set("Type", 6) // IO_TYPE_IRP
	o.set("Size", size)
	o.set("MdlAddress", 0)
	o.set("Flags", 0x00060000)
	o.set("RequestorMode", modeUser)
	o.set("StackCount", 1)
	o.set("CurrentLocation", 1)
	o.set("UserIosb", t.UserRsp+0x60)
	o.set("UserBuffer", 0x00000092d36f2a10)
	o.set("Tail.Overlay.Thread", t.EThread)
	o.set("Tail.Overlay.CurrentStackLocation", OwnerIrp+sizeOf("_IRP"))
	o.set("Tail.Overlay.OriginalFileObject", nsiFileObject)
	s := kobj{k.ks, "_IO_STACK_LOCATION", OwnerIrp + sizeOf("_IRP")}
	s.set("MajorFunction", 0x0e) // IRP_MJ_DEVICE_CONTROL
	s.set("Parameters.DeviceIoControl.OutputBufferLength", 0x3c8)
	s.set("Parameters.DeviceIoControl.InputBufferLength", 0x70)
	s.set("Parameters.DeviceIoControl.IoControlCode", 0x0012001b) // IOCTL_NSI_ENUMERATE_OBJECTS_ALL_PARAMETERS
	s.set("Parameters.DeviceIoControl.Type3InputBuffer", 0x00000092d36f29a0)
	s.set("DeviceObject", nsiDeviceObject)
	s.set("FileObject", nsiFileObject)
}

// \Device\Nsi and the handle vmms opened on it (not written: the scenario's
// I/O objects are the next issue's).
const (
	nsiDeviceObject = 0xffffe0004f0b1c70
	nsiFileObject   = 0xffffe0005b8e4f20
)

// ownerEventDisp is where, from ndisQuerySetMiniportEx's stack pointer,
// 43d8's event is: the code's request.Event, rounded up to 16 bytes when it
// is not (the seed's event is 16-aligned and so is every Child-SP, so an
// event at an odd multiple of 8 cannot be the seed's; TestKernelOwnerStackGap
// reports it).
func ownerEventDisp(img *Image, fn string, ret uint64) uint64 {
	return (waitObjectDisp(img, fn, ret) + 0xf) &^ 0xf
}

// ownerStackBase places 43d8's kernel stack so that the seed's event is
// ndisQuerySetMiniportEx's request.Event: the chain is laid out on a scratch
// space below a trial base, and the base moved by the distance the event
// is off. With the XSAVE area of every other thread (0x370 between
// InitialStack and StackBase) the base must come out page aligned; where
// the images' frames are too small for that, the owner's gap is widened to
// the next page-aligned base (ownerXsaveGap; the test reports it).
func (k *KernelScenario) ownerStackBase(t *KThread) uint64 {
	const trial = 0xffffd001b8940000
	t.setStack(trial)
	res := buildKernelStack(NewSpace(), t.InitialStack, t.chain, 0, t.mf)
	for i, f := range res.Frames {
		if f.Function == t.stackObject && i > 0 {
			img := k.Images[strings.ToLower(f.Module)]
			at := f.SP + ownerEventDisp(img, f.Function, f.IP)
			base := trial + (OwnerEvent - at)
			if extra := base & 0xfff; extra != 0 {
				base = base&^0xfff + pageSize
				t.xsaveGap = xsaveSize + (pageSize - extra)
			}
			return base
		}
	}
	panic("no frame for " + t.stackObject)
}
