// Package hyperv writes the bundled "hyperv-hang" scenario dump
// (testdata/scenarios/hyperv-hang/vmms.dmp): the user-mode half of the hung
// Windows Server 2012 R2 Hyper-V host in shared/seeds/000_de47b5627e959549,
// as Task Manager's "Create dump file" writes it. vmms.exe (pid c08) has 183
// threads; thread 20 (43d8) holds the cluster manager's VM lock at
// 00000092`cf31fb38 while it waits in ntdll!NtDeviceIoControlFile, and 104
// threads wait for that lock in ntdll!RtlpWaitOnCriticalSection.
//
// The images are the scenario's own (src/, built by build.sh); every stack is
// laid out from their unwind data. The package uses only the standard library
// and testdata/gen/mdw: none of ntdbg's readers.
package hyperv

//go:generate go run ./cmd

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/ntdbg/ntdbg/testdata/gen/mdw"
)

// Addresses of the scenario (the seed's where it shows them).
const (
	PID      = 0xc08
	PEB      = 0x00007ff7765ad000
	VmLock   = 0x00000092cf31fb38 // the critical section 104 threads wait on
	VmDebug  = 0x00000092cfd20960 // its RTL_CRITICAL_SECTION_DEBUG
	OwnerTID = 0x43d8
	OwnerIdx = 20

	heapBase    = 0x00000092cf280000
	paramsAddr  = 0x00000092cf281000
	envAddr     = 0x00000092cf281800
	ldrEntries  = 0x00000092cf282000
	objectsPage = 0x00000092cf283000
	clusterMgr  = 0x00000092cf31fb00

	// The VM lock's neighbours in RtlCriticalSectionList (the seed's dt
	// shows their ProcessLocksList addresses, +0x10).
	rpcDebug   = 0x00000092d31a0e10 // Blink side
	taskDebug  = 0x00000092d2fc0190 // Flink side
	wmiDebug   = 0x00000092d2fc01c0
	rpcLock    = 0x00000092cf2b4a18
	taskLock   = 0x00000092cf33a0a8
	wmiLock    = 0x00000092cf33a0d0
	vmLockSem  = 0x1b48
	nsiHandle  = 0x44
	keyedEvent = 0x40

	// LockCount of the VM lock. Windows 8.1 keeps the lock in bit 0 (0 =
	// locked), "no waiter woken" in bit 1 (1 = none woken) and the
	// ones-complement of the waiter count in the bits above:
	// -1 - 4*104 - 1 = -418 = 0xfffffe5e decodes as LOCKED, WaiterWoken No,
	// ((-1) - (-418)) >> 2 = 104 = 0x68 waiters.
	VmLockCount = -418
)

// lockCount is a locked section's LockCount with n waiters (none woken).
func lockCount(n int) int32 { return int32(-2 - 4*n) }

// Scenario is the generated dump and what a correct debugger must find in it.
type Scenario struct {
	Dump     *mdw.Full
	Threads  []ThreadPlan // in dump order
	Sections []CritSec    // every critical section, list members first, in list order
	Images   map[string]*Image
	Opts     Options
}

// ThreadPlan is one thread: its ids, role and the frames laid on its stack.
type ThreadPlan struct {
	Index     int
	ID        uint32
	Teb       uint64
	StackBase uint64
	Role      string
	Frames    []Frame // innermost first
	// Args are the system call's arguments as the user context holds them
	// (r10, rdx, r8, r9): r10 is the handle a single-object wait waits on.
	Args [4]uint64
}

// CritSec is one RTL_CRITICAL_SECTION of the process.
type CritSec struct {
	Addr, DebugInfo uint64
	Symbol          string // module!name, or "" for heap sections
	LockCount       int32
	Recursion       int32
	Owner           uint32
	LockSemaphore   uint64
	SpinCount       uint64
	Contention      uint32
	InList          bool
}

// Module files, in load order, with the paths the dump records.
var moduleFiles = []struct {
	file, path string
	version    [4]uint16
}{
	{"vmms.exe", `C:\Windows\system32\vmms.exe`, [4]uint16{6, 3, 9600, 17415}},
	{"ntdll.dll", `C:\Windows\SYSTEM32\ntdll.dll`, [4]uint16{6, 3, 9600, 17736}},
	{"kernel32.dll", `C:\Windows\system32\kernel32.dll`, [4]uint16{6, 3, 9600, 17415}},
	{"KERNELBASE.dll", `C:\Windows\system32\KERNELBASE.dll`, [4]uint16{6, 3, 9600, 17415}},
	{"rpcrt4.dll", `C:\Windows\system32\rpcrt4.dll`, [4]uint16{6, 3, 9600, 17415}},
	{"IPHLPAPI.DLL", `C:\Windows\SYSTEM32\IPHLPAPI.DLL`, [4]uint16{6, 3, 9600, 16384}},
	{"nsi.dll", `C:\Windows\SYSTEM32\nsi.dll`, [4]uint16{6, 3, 9600, 16384}},
}

// The timeline both dumps share (kernel.go has the rest): the host booted
// on Jun 9 2015 at 22:26:04.944 UTC; vmms.exe, an automatic service, started
// 66 seconds later; Task Manager wrote vmms.dmp at 14:22:31 the next day,
// and LiveKD the kernel dump two minutes after that.
var (
	dumpTime    = time.Date(2015, 6, 10, 14, 22, 31, 0, time.UTC)
	processTime = time.Date(2015, 6, 9, 22, 27, 11, 406_000_000, time.UTC)
)

// Bytes renders the scenario dump.
func Bytes() []byte { return Build().Dump.Bytes() }

// Options are the scenario's knobs: Default() is the seed's scenario (what
// the committed dumps hold); tests build variants in memory with
// BuildWith and BuildKernelWith, so that a wait chain is computed from the
// structures and not from the scenario's script.
type Options struct {
	// Owner is the index of the thread that owns the VM lock and is stuck
	// in NtDeviceIoControlFile (the seed's 20). Another index moves the
	// owner's role, stack and kernel half (the IRP, the NDIS wait) to that
	// thread; thread 20 takes that thread's role.
	Owner int
	// ResourceHolder, when not 0, is the thread id of a third thread (a
	// System thread such as FooTID, or a vmms thread) holding an ERESOURCE
	// exclusively that the owner waits on in the kernel (WrResource,
	// KernelMode, on the resource's ExclusiveWaiters event) instead of on
	// the NDIS OID request's event.
	ResourceHolder uint64
	// Deadlock makes two threads wait on each other: the owner (A) holds
	// the VM lock and waits in RtlpWaitOnCriticalSection on the task lock
	// (section 2, LockSemaphore TaskLockSem); the task lock is owned by
	// thread Partner (B), one of the VM lock's waiters. No thread is in
	// NDIS then.
	Deadlock bool
	// Partner is B's index for Deadlock; a negative value picks the first
	// thread waiting on the VM lock.
	Partner int
	// ResidentHandleTable makes vmms's HANDLE_TABLE page resident in the
	// kernel dump. The seed's !process shows it paged out ("HandleCount:
	// <Data Not Accessible>"), so the committed dump has only the table's
	// entries (TableCode's pages) resident, not its header.
	ResidentHandleTable bool
}

// Default is the seed's scenario.
func Default() Options { return Options{Owner: OwnerIdx, Partner: -1} }

// TaskLock is the section the deadlock variant's owner waits on, and
// TaskLockSem its LockSemaphore there.
const (
	TaskLock    = taskLock
	TaskLockSem = 0x1b4c
)

// lcg is a small deterministic generator (no math/rand: the bytes must not
// depend on the Go version).
type lcg uint32

func (l *lcg) next() uint32 {
	*l = *l*1103515245 + 12345
	return uint32(*l>>8) & 0xffffff
}

// tebAddress gives thread i's TEB: 2 pages each, allocated downwards from
// below the PEB, with the holes that exited threads left refilled by later
// ones, so that the seed's five TEBs fall where it shows them.
func tebAddress(i int) uint64 {
	switch {
	case i == 0:
		return 0x00007ff7765ae000
	case i == 1:
		return 0x00007ff7765a9000
	case i <= 19:
		return 0x00007ff7765a7000 - uint64(i-2)*0x2000
	case i == 20:
		return 0x00007ff776460000
	case i <= 146:
		return 0x00007ff77645e000 - uint64(i-21)*0x2000
	case i <= 180:
		return 0x00007ff776583000 - uint64(i-147)*0x2000
	case i == 181:
		return 0x00007ff776360000
	default:
		return 0x00007ff77633a000
	}
}

func stackBase(i int) uint64 {
	if i == 0 {
		return 0x00000092cf200000
	}
	return 0x00000092d3600000 + uint64(i)*0x40000
}

const stackReserve = 0x40000

// threadIDs: the seed's where it shows them, unique multiples of 4 elsewhere.
func threadIDs(n int) []uint32 {
	fixed := map[int]uint32{0: 0xc0c, 1: 0xc34, 20: 0x43d8, 181: 0x36a0, 182: 0x4c10}
	used := map[uint32]bool{PID: true}
	for _, v := range fixed {
		used[v] = true
	}
	ids := make([]uint32, n)
	g := lcg(0x9600)
	for i := range ids {
		if v, ok := fixed[i]; ok {
			ids[i] = v
			continue
		}
		for {
			v := 0xc40 + (g.next()%0x1100)*4
			if !used[v] {
				used[v], ids[i] = true, v
				break
			}
		}
	}
	return ids
}

// roles assigns each thread index its job. The seed fixes 0 (main), 1, 20
// (the owner), 181 and 182; threads 2-19 are the service's own, 21-180 the
// RPC and thread-pool workers the hang piled up, in a fixed shuffle.
func roles(o Options) []string {
	r := make([]string, 183)
	r[0], r[1], r[20], r[181], r[182] = "main", "tpwait", "owner", "tpidle", "tpidle"
	early := []string{"events", "timer", "worker", "worker", "iocp", "timer", "worker", "storage", "events",
		"worker", "timer", "iocp", "worker", "events", "storage", "timer", "worker", "iocp"}
	copy(r[2:20], early)
	var late []string
	for _, c := range []struct {
		role string
		n    int
	}{
		{"waitA", 38}, {"waitB", 27}, {"waitC", 18}, {"waitD", 12}, {"waitE", 9},
		{"tpidle", 34}, {"tpwait", 2}, {"worker", 10}, {"events", 3}, {"storage", 3}, {"perf", 3}, {"holder", 1},
	} {
		for range c.n {
			late = append(late, c.role)
		}
	}
	g := lcg(0x2012)
	for i := len(late) - 1; i > 0; i-- {
		j := int(g.next() % uint32(i+1))
		late[i], late[j] = late[j], late[i]
	}
	copy(r[21:181], late)
	if o.Owner != OwnerIdx {
		if o.Owner < 0 || o.Owner >= len(r) {
			panic(fmt.Sprintf("owner index %d: the process has %d threads", o.Owner, len(r)))
		}
		r[OwnerIdx], r[o.Owner] = r[o.Owner], r[OwnerIdx]
	}
	if o.Deadlock {
		r[o.Owner] = "deadlock"
	}
	return r
}

// partner is the deadlock's thread B: Partner, or the first VM lock waiter.
func partner(o Options, role []string) int {
	if !o.Deadlock {
		return -1
	}
	if o.Partner >= 0 {
		if !strings.HasPrefix(role[o.Partner], "wait") {
			panic(fmt.Sprintf("deadlock partner %d is not waiting on the VM lock (%s)", o.Partner, role[o.Partner]))
		}
		return o.Partner
	}
	for i, r := range role {
		if strings.HasPrefix(r, "wait") {
			return i
		}
	}
	panic("no VM lock waiter")
}

// Build lays the seed's scenario out.
func Build() *Scenario { return BuildWith(Default()) }

// BuildWith lays a variant of the scenario out.
func BuildWith(o Options) *Scenario {
	sp := NewSpace()
	sc := &Scenario{Images: map[string]*Image{}, Opts: o}
	f := &mdw.Full{
		Dump: mdw.Dump{
			ProcessID:     PID,
			Time:          dumpTime,
			ProcessCreate: processTime,
			UserSeconds:   1893,
			KernelSeconds: 412,
			Major:         6, Minor: 3, Build: 9600,
			Processors:  32,
			ProductType: 3,     // VER_NT_SERVER
			SuiteMask:   0x190, // DATACENTER | TERMINAL | SINGLEUSERTS
			TZBias:      -60,
			TZName:      "W. Europe Standard Time",
			BuildString: "9600.17736.amd64fre.winblue_r9.150322-1500",
		},
		Flags:             0x2 | 0x4 | 0x20 | 0x800 | 0x1000, // FullMemory HandleData UnloadedModules FullMemoryInfo ThreadInfo
		VersionHigh:       0x2580,
		ProcessorLevel:    6,
		ProcessorRevision: 0x3f02,
		CPUVendor:         "GenuineIntel",
		CPUVersion:        0x306f2,
		CPUFeatures:       0xbfebfbff,
		MaxMhz:            2594,
		IntegrityLevel:    0x4000, // SECURITY_MANDATORY_SYSTEM_RID
		TZStandardName:    "W. Europe Standard Time",
		TZDaylightName:    "W. Europe Daylight Time",
		TZDaylightBias:    -60,
		TZStandardDate:    [8]uint16{0, 10, 0, 5, 3},
		TZDaylightDate:    [8]uint16{0, 3, 0, 5, 2},
		TZID:              2, // TIME_ZONE_ID_DAYLIGHT
		DbgBuildString:    "dbghelp.dll 6.3.9600.17415",
		UnusedStreams:     3,
	}
	d := &f.Dump
	for _, m := range moduleFiles {
		img, err := LoadImage(m.file, m.path)
		if err != nil {
			panic(err)
		}
		sc.Images[strings.ToLower(m.file)] = img
	}
	for _, m := range moduleFiles {
		img := sc.Images[strings.ToLower(m.file)]
		img.ResolveImports(sc.Images)
		sp.MapImage(img)
		ft := uint32(2) // VFT_DLL
		if strings.HasSuffix(m.file, ".exe") {
			ft = 1 // VFT_APP
		}
		f.FileTypes = append(f.FileTypes, ft)
		d.Modules = append(d.Modules, mdw.Module{Base: img.Base, Size: img.Size, Path: m.path, TimeDateStamp: img.Stamp,
			CheckSum: img.CheckSum, FileVersion: m.version, PdbName: img.PdbName, PdbGUID: img.PdbGUID, PdbAge: img.PdbAge})
	}
	d.Unloaded = []mdw.Module{
		{Base: 0x00007fff8e2b0000, Size: 0x22000, Path: "wmiclnt.dll", TimeDateStamp: 0x5215f7c1, CheckSum: 0x2a1b1},
		{Base: 0x00007fff8d5c0000, Size: 0x17000, Path: "netcfgx.dll", TimeDateStamp: 0x5450486b, CheckSum: 0x1e0c4},
	}
	ntdll, k32, kb := sc.Images["ntdll.dll"], sc.Images["kernel32.dll"], sc.Images["kernelbase.dll"]
	vmms, rpc := sc.Images["vmms.exe"], sc.Images["rpcrt4.dll"]
	iphlp, nsi := sc.Images["iphlpapi.dll"], sc.Images["nsi.dll"]

	// ---- process-wide data ----
	ntSym := ntdll.Sym
	sp.U64(ntSym("Kernel32ThreadInitThunkFunction"), k32.Sym("BaseThreadInitThunk"))
	sp.U64(ntSym("RtlpKeyedEventHandle"), keyedEvent)
	sp.Alloc(heapBase, 0x100000, pageReadWrite)
	sp.Alloc(0x00000092cfd00000, 0x100000, pageReadWrite)
	sp.Alloc(0x00000092d2f00000, 0x100000, pageReadWrite)
	sp.Alloc(0x00000092d3100000, 0x100000, pageReadWrite)
	sp.Alloc(PEB, 0x1000, pageReadWrite)
	sp.U32(heapBase+0x10, 0xffeeffee) // HEAP.SegmentSignature
	sp.U32(heapBase+0x14, 2)          // HEAP.SegmentFlags
	sp.U64(heapBase+0x18, heapBase)   // SegmentListEntry

	ids := threadIDs(183)
	role := roles(o)
	ownerIdx, partnerIdx := o.Owner, partner(o, role)
	waiters := 0
	for _, r := range role {
		if strings.HasPrefix(r, "wait") {
			waiters++
		}
	}
	holderIdx := -1
	for i, r := range role {
		if r == "holder" {
			holderIdx = i
		}
	}

	// The critical sections: the list members in RtlCriticalSectionList
	// order, then two that are not in it (no debug block).
	secs := []CritSec{
		{Addr: ntSym("LdrpLoaderLock"), DebugInfo: ntSym("RtlpStaticDebugInfo"), Symbol: "ntdll!LdrpLoaderLock",
			LockCount: -1, LockSemaphore: 0x18, Contention: 0x2, InList: true},
		{Addr: ntSym("FastPebLock"), DebugInfo: ntSym("RtlpStaticDebugInfo") + 0x30, Symbol: "ntdll!FastPebLock",
			LockCount: -1, InList: true},
		{Addr: ntSym("RtlCriticalSectionLock"), DebugInfo: ntSym("RtlpStaticDebugInfo") + 0x60, Symbol: "ntdll!RtlCriticalSectionLock",
			LockCount: -1, SpinCount: 0x20007d0, InList: true},
		{Addr: rpcLock, DebugInfo: rpcDebug, LockCount: -1, LockSemaphore: 0x1a04, SpinCount: 0x20007d0, Contention: 0x3, InList: true},
		{Addr: VmLock, DebugInfo: VmDebug, LockCount: lockCount(waiters), Recursion: 1, Owner: ids[ownerIdx], LockSemaphore: vmLockSem,
			SpinCount: 0x20007d0, Contention: 0xa27, InList: true},
		{Addr: taskLock, DebugInfo: taskDebug, LockCount: -1, SpinCount: 0x20007d0, InList: true},
		{Addr: wmiLock, DebugInfo: wmiDebug, LockCount: -1, LockSemaphore: 0x1c30, SpinCount: 0x20007d0, Contention: 0x5c, InList: true},
		// Initialized with RTL_CRITICAL_SECTION_FLAG_NO_DEBUG_INFO and held (no waiters) by the trace flusher.
		{Addr: vmms.Sym("?g_TraceBufferLock@@3U_RTL_CRITICAL_SECTION@@A"), DebugInfo: ^uint64(0), Symbol: "vmms!g_TraceBufferLock",
			LockCount: -2, Recursion: 1, Owner: ids[holderIdx], SpinCount: 0x20007d0},
		// Statically initialized {NULL, -1, 0, 0, 0, 0} and never entered (vmms.cpp); the image holds it as is.
		{Addr: vmms.Sym("?g_ConfigStoreLock@@3U_RTL_CRITICAL_SECTION@@A"), Symbol: "vmms!g_ConfigStoreLock", LockCount: -1},
	}
	if partnerIdx >= 0 { // B holds the task lock, A waits for it
		for i := range secs {
			if secs[i].Addr == taskLock {
				secs[i].LockCount, secs[i].Recursion, secs[i].Owner = lockCount(1), 1, ids[partnerIdx]
				secs[i].LockSemaphore, secs[i].Contention = TaskLockSem, 1
			}
		}
	}
	head := ntSym("RtlCriticalSectionList")
	var members []CritSec
	for _, s := range secs {
		if s.InList {
			members = append(members, s)
		}
	}
	for i, s := range members {
		links := func(j int) uint64 {
			if j < 0 || j >= len(members) {
				return head
			}
			return members[j].DebugInfo + 0x10
		}
		sp.U16(s.DebugInfo, 0) // Type RTL_CRITSECT_TYPE
		sp.U64(s.DebugInfo+0x08, s.Addr)
		sp.U64(s.DebugInfo+0x10, links(i+1))
		sp.U64(s.DebugInfo+0x18, links(i-1))
		sp.U32(s.DebugInfo+0x24, s.Contention)
	}
	sp.U64(head, members[0].DebugInfo+0x10)
	sp.U64(head+8, members[len(members)-1].DebugInfo+0x10)
	sp.U32(ntSym("RtlpStaticDebugInfoUsed"), 3)
	for _, s := range secs {
		if s.Symbol == "vmms!g_ConfigStoreLock" {
			continue // the image's .data already holds it
		}
		sp.U64(s.Addr, s.DebugInfo)
		sp.U32(s.Addr+0x08, uint32(s.LockCount))
		sp.U32(s.Addr+0x0c, uint32(s.Recursion))
		sp.U64(s.Addr+0x10, uint64(s.Owner))
		sp.U64(s.Addr+0x18, s.LockSemaphore)
		sp.U64(s.Addr+0x20, s.SpinCount)
	}
	sc.Sections = secs

	// vmms's objects: the cluster manager (its VmLock is the section at
	// +0x38), two realized VMs, the VM manager, the lock wrapper they share,
	// and the trace flusher.
	const (
		vm0, vm1        = clusterMgr + 0x100, clusterMgr + 0x140
		vmLockObj       = objectsPage + 0x100
		vmManager       = objectsPage + 0x200
		vmachine0       = objectsPage + 0x300
		vmachine1       = objectsPage + 0x340
		traceFlusher    = objectsPage + 0x400
		processHeapsArr = objectsPage + 0x800
	)
	sp.U32(clusterMgr+0x08, 1)
	sp.U32(clusterMgr+0x0c, 2)
	sp.U64(clusterMgr+0x10, vm0)
	sp.U64(clusterMgr+0x18, vm1)
	sp.U64(clusterMgr+0x30, 7)
	for _, vm := range []uint64{vm0, vm1} {
		sp.U32(vm, 2)
		sp.U64(vm+8, vmLockObj)
	}
	sp.U64(vmLockObj, VmLock)
	sp.U64(vmManager, vmLockObj)
	sp.U32(vmManager+8, 2)
	sp.U64(vmManager+0x10, vmachine0)
	sp.U64(vmManager+0x18, vmachine1)
	for _, m := range []uint64{vmachine0, vmachine1} {
		sp.U64(m, vmLockObj)
		sp.U32(m+8, 0x11)
	}
	sp.U64(traceFlusher, 0x2a4)
	sp.U32(traceFlusher+8, 5)
	sp.U64(vmms.Sym("?g_ClusterManager@@3PEAVVmmsClusterManager@@EA"), clusterMgr)
	sp.U64(vmms.Sym("?g_VmManager@@3PEAVVmmsVirtualMachineManager@@EA"), vmManager)
	sp.U64(vmms.Sym("?g_Service@@3UVmmsService@@A"), 0x2c)
	sp.Commit(rpcLock, 0x28)
	sp.Commit(taskLock, 0x50)

	// ---- PEB, loader data, process parameters ----
	sp.U64(PEB+0x10, vmms.Base)
	sp.U64(PEB+0x18, ntSym("PebLdr"))
	sp.U64(PEB+0x20, paramsAddr)
	sp.U64(PEB+0x30, heapBase)
	sp.U64(PEB+0x38, ntSym("FastPebLock"))
	sp.U32(PEB+0xb8, 32)
	sp.U64(PEB+0xc0, 0xffffe86d079b8000) // CriticalSectionTimeout: 30 days
	sp.U64(PEB+0xc8, 0x100000)
	sp.U64(PEB+0xd0, 0x2000)
	sp.U64(PEB+0xd8, 0x10000)
	sp.U64(PEB+0xe0, 0x1000)
	sp.U32(PEB+0xe8, 4)
	sp.U32(PEB+0xec, 16)
	sp.U64(PEB+0xf0, processHeapsArr)
	sp.U64(PEB+0x110, ntSym("LdrpLoaderLock"))
	sp.U32(PEB+0x118, 6)
	sp.U32(PEB+0x11c, 3)
	sp.U16(PEB+0x120, 9600)
	sp.U32(PEB+0x124, 2)
	sp.U32(PEB+0x128, 3) // IMAGE_SUBSYSTEM_WINDOWS_CUI
	sp.U32(PEB+0x12c, 6)
	sp.U32(PEB+0x130, 3)
	for i, h := range []uint64{heapBase, 0x00000092cfd00000, 0x00000092d2f00000, 0x00000092d3100000} {
		sp.U64(processHeapsArr+uint64(8*i), h)
	}
	ldr := ntSym("PebLdr")
	sp.U32(ldr, 0x58)
	sp.Write(ldr+4, []byte{1})
	loadOrder := []string{"vmms.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll", "rpcrt4.dll", "IPHLPAPI.DLL", "nsi.dll"}
	initOrder := []string{"ntdll.dll", "KERNELBASE.dll", "kernel32.dll", "rpcrt4.dll", "nsi.dll", "IPHLPAPI.DLL"}
	entry := map[string]uint64{}
	for i, name := range loadOrder {
		ent := ldrEntries + uint64(i)*0x200
		entry[name] = ent
		img := sc.Images[strings.ToLower(name)]
		path := moduleFiles[i].path
		sp.U64(ent+0x30, img.Base)
		sp.U32(ent+0x40, img.Size)
		sp.UnicodeString(ent+0x48, ent+0x100, path)
		sp.UnicodeString(ent+0x58, ent+0x180, name)
		sp.U32(ent+0x68, 0x000cc2cc)
		sp.U16(ent+0x6c, 0xffff)
		sp.U32(ent+0x80, img.Stamp)
	}
	linkList := func(headAddr, off uint64, names []string) {
		nodes := []uint64{headAddr}
		for _, n := range names {
			nodes = append(nodes, entry[n]+off)
		}
		for i, n := range nodes {
			sp.U64(n, nodes[(i+1)%len(nodes)])
			sp.U64(n+8, nodes[(i+len(nodes)-1)%len(nodes)])
		}
	}
	linkList(ldr+0x10, 0x00, loadOrder)
	linkList(ldr+0x20, 0x10, loadOrder)
	linkList(ldr+0x30, 0x20, initOrder)
	sp.U32(paramsAddr, 0x800)
	sp.U32(paramsAddr+4, 0x800)
	sp.U32(paramsAddr+8, 0x6001)
	sp.UnicodeString(paramsAddr+0x38, paramsAddr+0x400, `C:\Windows\system32\`)
	sp.U64(paramsAddr+0x48, 0x8)
	sp.UnicodeString(paramsAddr+0x60, paramsAddr+0x500, `C:\Windows\system32\vmms.exe`)
	sp.UnicodeString(paramsAddr+0x70, paramsAddr+0x600, `C:\Windows\system32\vmms.exe`)
	sp.U64(paramsAddr+0x80, envAddr)
	sp.UnicodeString(paramsAddr+0xb0, paramsAddr+0x700, `C:\Windows\system32\vmms.exe`)
	env := []string{`ALLUSERSPROFILE=C:\ProgramData`, `COMPUTERNAME=HV-HOST-07`, `ComSpec=C:\Windows\system32\cmd.exe`,
		`NUMBER_OF_PROCESSORS=32`, `OS=Windows_NT`, `Path=C:\Windows\system32;C:\Windows;C:\Windows\System32\Wbem`,
		`PROCESSOR_ARCHITECTURE=AMD64`, `SystemDrive=C:`, `SystemRoot=C:\Windows`, `TEMP=C:\Windows\TEMP`,
		`USERPROFILE=C:\Windows\system32\config\systemprofile`, `windir=C:\Windows`}
	at := uint64(envAddr)
	for _, e := range env {
		at += uint64(sp.UTF16(at, e)) + 2
	}
	sp.U16(at, 0)

	// ---- threads ----
	base := []Call{{Img: ntdll, Fn: "RtlUserThreadStart"}, {Img: k32, Fn: "BaseThreadInitThunk"}}
	pool := append(append([]Call(nil), base...), Call{Img: ntdll, Fn: "TppWorkerThread"})
	rpcWorker := append(append([]Call(nil), pool...),
		Call{Img: ntdll, Fn: "TppAlpcpExecuteCallback"},
		Call{Img: rpc, Fn: "LrpcIoComplete"},
		Call{Img: rpc, Fn: "?ProcessIO@LRPC_ADDRESS@@QEAAXPEAU_PORT_MESSAGE@@HPEAX@Z"},
		Call{Img: rpc, Fn: "?HandleRequest@LRPC_SCALL@@QEAAXPEAU_PORT_MESSAGE@@0PEAXKHH@Z"},
		Call{Img: rpc, Fn: "?DispatchRequest@LRPC_SCALL@@QEAAJPEAH@Z"},
		Call{Img: rpc, Fn: "?DispatchToStubWorker@RPC_INTERFACE@@QEAAJPEAU_RPC_MESSAGE@@IHPEAJ@Z"},
		Call{Img: rpc, Fn: "?DispatchToStubInCNoAvrf@@YAJP6AXPEAU_RPC_MESSAGE@@@Z0PEAJ@Z"},
		Call{Img: rpc, Fn: "NdrServerCallAll"},
		Call{Img: rpc, Fn: "NdrStubCall3"},
		Call{Img: rpc, Fn: "Ndr64StubWorker"},
		Call{Img: rpc, Fn: "Invoke"})
	peb := uint64(PEB)
	enterSection := func(cs, teb uint64) []Call {
		return []Call{
			{Img: ntdll, Fn: "RtlEnterCriticalSection", Set: map[int]uint64{RSI: cs, RDI: teb}},
			{Img: ntdll, Fn: "RtlpEnterCriticalSectionContended", Set: map[int]uint64{RSI: cs}},
			{Img: ntdll, Fn: "RtlpWaitOnCriticalSection", Set: map[int]uint64{RSI: cs, RBX: 2, RDI: peb + 0xc0}},
			{Img: ntdll, Fn: "NtWaitForSingleObject", At: 0xa},
		}
	}
	enterCS := func(teb uint64) []Call { return enterSection(VmLock, teb) }
	cat := func(parts ...[]Call) []Call {
		var out []Call
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	vm := func(fn string) Call { return Call{Img: vmms, Fn: fn} }
	kbase := func(fn string) Call { return Call{Img: kb, Fn: fn} }
	leaf := func(fn string) Call { return Call{Img: ntdll, Fn: fn, At: 0xa} }
	lockAcquire := vm("?Acquire@VmmsLock@@QEAAXXZ")
	chains := map[string]func(teb uint64) []Call{
		"owner": func(uint64) []Call {
			return cat(rpcWorker, []Call{
				vm("?IsVmHealthy@ComVmmsClusterManager@@SAJPEAX0@Z"),
				vm("?IsVmHealthy@VmmsClusterManager@@QEAAJPEAVVmmsRealizedVirtualMachine@@@Z"),
				vm("?VerifyExternalSwitches@VmmsRealizedVirtualMachine@@QEAAJXZ"),
				vm("?GetSwitchConnectionStatus@VmEthernetConnectionProvider@@QEAAJXZ"),
				vm("?GetSwitchStatus@ExternalConnectionStatusRetriever@@QEAAJXZ"),
				vm("?GetExternalSwitchAdapterStatusInternal@ExternalConnectionStatusRetriever@@QEAAJXZ"),
				vm("?GetExternalSwitchAdapter@ExternalConnectionStatusRetriever@@QEAAJXZ"),
				vm("?GetConnectedLogicalAdapter@VmEthernetSwitchPort@@QEAAJXZ"),
				vm("?GetLogicalAdapterInternal@VmEthernetSwitchPort@@QEAAJXZ"),
				vm("?GetBridgedAdapterId@NvspWmiUtility@@SAJXZ"),
				vm("?GetNetworkBridgeAdapter@NetConfigHelper@@QEAAJXZ"),
				vm("?EnumerateNetworkAdapters@NvspWmiINetCfgHelper@@QEAAJXZ"),
				vm("?Initialize@VmNetworkInterfaceTable@@QEAAJXZ"),
				{Img: iphlp, Fn: "InternalGetIfTable2Ex"},
				{Img: nsi, Fn: "NsiAllocateAndGetTable"},
				leaf("NtDeviceIoControlFile"),
			})
		},
		"waitA": func(teb uint64) []Call {
			return cat(rpcWorker, []Call{
				vm("?IsVmHealthy@ComVmmsClusterManager@@SAJPEAX0@Z"),
				vm("?IsVmHealthy@VmmsClusterManager@@QEAAJPEAVVmmsRealizedVirtualMachine@@@Z"),
			}, enterCS(teb))
		},
		"waitB": func(teb uint64) []Call {
			return cat(rpcWorker, []Call{
				vm("?GetSummaryInformation@ComVmmsVirtualMachine@@SAJPEAX0@Z"),
				vm("?GetSummaryInformation@VmmsVirtualMachine@@QEAAJK@Z"),
				lockAcquire,
			}, enterCS(teb))
		},
		"waitC": func(teb uint64) []Call {
			return cat(rpcWorker, []Call{
				vm("?EnumerateVirtualMachines@ComVmmsVirtualMachineManager@@SAJPEAX0@Z"),
				vm("?EnumerateVirtualMachines@VmmsVirtualMachineManager@@QEAAJPEAK@Z"),
				lockAcquire,
			}, enterCS(teb))
		},
		"waitD": func(teb uint64) []Call {
			return cat(pool, []Call{
				{Img: ntdll, Fn: "TppTimerpExecuteCallback"},
				vm("?TimerCallback@VmmsHeartbeatMonitor@@SAXPEAUTP_CALLBACK_INSTANCE@@PEAX1@Z"),
				vm("?RefreshVmState@VmmsClusterManager@@QEAAJXZ"),
			}, enterCS(teb))
		},
		"waitE": func(teb uint64) []Call {
			return cat(pool, []Call{
				{Img: ntdll, Fn: "TppWorkpExecuteCallback"},
				vm("?WorkCallback@VmmsTaskQueue@@SAXPEAUTP_CALLBACK_INSTANCE@@PEAX1@Z"),
				vm("?HandleStateChange@VmmsRealizedVirtualMachine@@QEAAJK@Z"),
				lockAcquire,
			}, enterCS(teb))
		},
		"holder": func(uint64) []Call {
			return cat(pool, []Call{
				{Img: ntdll, Fn: "TppWorkpExecuteCallback"},
				vm("?WorkCallback@VmmsTraceFlusher@@SAXPEAUTP_CALLBACK_INSTANCE@@PEAX1@Z"),
				vm("?Flush@VmmsTraceFlusher@@QEAAXXZ"),
				kbase("WaitForSingleObjectEx"),
				leaf("NtWaitForSingleObject"),
			})
		},
		// The deadlock's A: holding the VM lock (taken by IsVmHealthy), it
		// waits for the task lock in a VM's summary query.
		"deadlock": func(teb uint64) []Call {
			return cat(rpcWorker, []Call{
				vm("?GetSummaryInformation@ComVmmsVirtualMachine@@SAJPEAX0@Z"),
				vm("?GetSummaryInformation@VmmsVirtualMachine@@QEAAJK@Z"),
				lockAcquire,
			}, enterSection(taskLock, teb))
		},
		"tpidle": func(uint64) []Call { return cat(pool, []Call{leaf("NtWaitForWorkViaWorkerFactory")}) },
		"tpwait": func(uint64) []Call {
			return cat(base, []Call{{Img: ntdll, Fn: "TppWaiterpThread"}, leaf("NtWaitForMultipleObjects")})
		},
		"main": func(uint64) []Call {
			return cat(base, []Call{vm("wmainCRTStartup"), vm("wmain"), vm("?Run@VmmsService@@QEAAKXZ"),
				kbase("WaitForSingleObjectEx"), leaf("NtWaitForSingleObject")})
		},
		"worker": func(uint64) []Call {
			return cat(base, []Call{vm("?ThreadProc@VmmsWorkerQueue@@SAKPEAX@Z"), kbase("WaitForSingleObjectEx"), leaf("NtWaitForSingleObject")})
		},
		"timer": func(uint64) []Call {
			return cat(base, []Call{vm("?TimerThreadProc@VmmsTimerManager@@SAKPEAX@Z"), kbase("WaitForMultipleObjectsEx"),
				leaf("NtWaitForMultipleObjects")})
		},
		"events": func(uint64) []Call {
			return cat(base, []Call{vm("?ThreadProc@VmmsEventMonitor@@SAKPEAX@Z"), kbase("WaitForMultipleObjectsEx"),
				leaf("NtWaitForMultipleObjects")})
		},
		"storage": func(uint64) []Call {
			return cat(base, []Call{vm("?ThreadProc@VmmsStorageQueue@@SAKPEAX@Z"), vm("?WaitForItem@VmmsStorageQueue@@QEAAXXZ"),
				kbase("SleepConditionVariableSRW"), {Img: ntdll, Fn: "RtlSleepConditionVariableSRW"}, leaf("NtWaitForAlertByThreadId")})
		},
		"perf": func(uint64) []Call {
			return cat(base, []Call{vm("?ThreadProc@VmmsPerfCounterProvider@@SAKPEAX@Z"), kbase("SleepEx"), leaf("NtDelayExecution")})
		},
		"iocp": func(uint64) []Call {
			return cat(base, []Call{vm("?ThreadProc@VmmsIoCompletionPort@@SAKPEAX@Z"), kbase("GetQueuedCompletionStatus"),
				leaf("NtRemoveIoCompletion")})
		},
	}
	handleFor := map[string]uint64{"main": 0x2c, "worker": 0x1f4, "holder": 0x2a4, "timer": 0x264, "events": 0x2e0,
		"tpwait": 0x2b8, "iocp": 0x74, "tpidle": 0x88}

	for i := range 183 {
		tid, teb, sb, r := ids[i], tebAddress(i), stackBase(i), role[i]
		sp.Alloc(teb, 0x2000, pageReadWrite)
		sp.Commit(teb, 0x2000)
		chain := chains[r](teb)
		ctx, frames := BuildStack(sp, sb-0x30, chain, uint64(i+1)<<40)
		// The thread is in a system call: the syscall instruction left the
		// return IP in rcx and the flags in r11; r10 and rdx/r8/r9 hold the
		// arguments, eax the service number.
		leafImg, leafFn := chain[len(chain)-1].Img, chain[len(chain)-1].Fn
		ctx.Rax = uint64(binary.LittleEndian.Uint32(leafImg.Mapped[leafImg.Sym(leafFn)-leafImg.Base+4:]))
		ctx.Rcx, ctx.R11 = ctx.Rip, 0x246
		ctx.R10 = handleFor[r]
		switch {
		case strings.HasPrefix(r, "wait"):
			ctx.R10, ctx.Rdx, ctx.R8 = vmLockSem, 0, peb+0xc0
		case r == "deadlock":
			ctx.R10, ctx.Rdx, ctx.R8 = TaskLockSem, 0, peb+0xc0
		case r == "owner":
			ctx.R10, ctx.Rdx, ctx.R8, ctx.R9 = nsiHandle, 0, 0, 0
		}
		limit := (ctx.Rsp - 0x100) &^ 0xfff
		sa := sp.Alloc(sb-stackReserve, stackReserve, pageReadWrite)
		sa.guard[limit-0x1000] = true
		sp.Commit(limit, sb-limit)
		// NT_TIB, CLIENT_ID, PEB and the other TEB fields !teb shows.
		sp.U64(teb+0x08, sb)
		sp.U64(teb+0x10, limit)
		sp.U64(teb+0x20, 0x1e00)
		sp.U64(teb+0x30, teb)
		sp.U64(teb+0x40, PID)
		sp.U64(teb+0x48, uint64(tid))
		sp.U64(teb+0x60, PEB)
		sp.U32(teb+0x108, 0x409)
		sp.U64(teb+0x7d8, PID)
		sp.U64(teb+0x7e0, uint64(tid))
		sp.U16(teb+0x125a, 0x20a)
		sp.U64(teb+0x1260, teb+0x1268)
		sp.U64(teb+0x1478, sb-stackReserve)
		sp.U32(teb+0x1744, uint32(i%32))
		switch {
		case r == "owner" || r == "holder" || r == "deadlock" || i == partnerIdx:
			sp.U32(teb+0x6c, 1) // CountOfOwnedCriticalSections
		case r == "main":
			sp.U16(teb+0x17ee, 0x420) // RanProcessInit | InitialThread
		}
		if strings.HasPrefix(r, "wait") || r == "owner" || r == "deadlock" || strings.HasPrefix(r, "tp") || r == "holder" {
			sp.U32(teb+0x1250, 0xc0000034) // LastStatusValue STATUS_OBJECT_NAME_NOT_FOUND
			sp.U32(teb+0x68, 2)
		}
		d.Threads = append(d.Threads, mdw.Thread{ID: tid, Teb: teb, StackStart: ctx.Rsp, StackSize: uint32(sb - ctx.Rsp), Ctx: ctx})
		sc.Threads = append(sc.Threads, ThreadPlan{Index: i, ID: tid, Teb: teb, StackBase: sb, Role: r, Frames: frames,
			Args: [4]uint64{ctx.R10, ctx.Rdx, ctx.R8, ctx.R9}})
		f.ThreadInfo = append(f.ThreadInfo, threadInfo(i, tid, r, chain))
	}
	f.Handles = handles(o)
	d.Memory = sp.Regions()
	f.MemoryInfo = sp.MemoryInfo()
	sc.Dump = f
	return sc
}

// threadInfo gives each thread its start address and times: the service's
// threads run since process start, the workers the hang piled up were
// created in its last minutes.
func threadInfo(i int, tid uint32, role string, chain []Call) mdw.ThreadInfo {
	start := chain[2].Img.Sym(chain[2].Fn) // the function BaseThreadInitThunk calls
	g := lcg(uint32(tid)*7 + 1)
	ms := func(max uint32) uint64 { return uint64(g.next()%max) * 10000 } // 100 ns units of whole ms
	var created time.Time
	var user, kernel uint64
	switch {
	case i == 0:
		created, user, kernel = processTime, 2_562*10000, 1_203*10000
	case i < 20:
		created = processTime.Add(time.Duration(i) * 731 * time.Millisecond)
		user, kernel = ms(40000)+156_250, ms(9000)+46_875
	case role == "owner":
		created, user, kernel = dumpTime.Add(-4*time.Minute-12*time.Second), 390*10000, 218*10000
	default:
		created = dumpTime.Add(-4*time.Minute + time.Duration(i)*1250*time.Millisecond)
		user, kernel = ms(47), ms(31)
	}
	return mdw.ThreadInfo{ThreadID: tid, CreateTime: mdw.FileTime(created), KernelTime: kernel, UserTime: user,
		StartAddress: start, Affinity: 0xffffffff}
}

func handles(o Options) []mdw.Handle {
	type h struct {
		v         uint64
		typ, name string
		access    uint32
		hc, pc    uint32
	}
	list := []h{
		{0x4, "Directory", `\KnownDlls`, 0x3, 2, 32769},
		{0x8, "Event", "", 0x1f0003, 1, 32768},
		{0xc, "WaitCompletionPacket", "", 0x1, 1, 32766},
		{0x10, "IoCompletion", "", 0x1f0003, 1, 32770},
		{0x14, "TpWorkerFactory", "", 0xf00ff, 1, 32769},
		{0x18, "Event", "", 0x1f0003, 1, 32768},
		{0x2c, "Event", "", 0x1f0003, 1, 32768},
		{keyedEvent, "KeyedEvent", `\KernelObjects\CritSecOutOfMemoryEvent`, 0xf0003, 65, 2176},
		{nsiHandle, "File", `\Device\Nsi`, 0x100003, 1, 32770},
		{0x74, "IoCompletion", "", 0x1f0003, 1, 32769},
		{0x88, "TpWorkerFactory", "", 0xf00ff, 1, 32771},
		{0x1f4, "Event", "", 0x1f0003, 1, 32768},
		{0x264, "Timer", "", 0x1f0003, 1, 32768},
		{0x2a4, "Event", "", 0x1f0003, 1, 32768},
		{0x2b8, "Event", "", 0x1f0003, 1, 32768},
		{0x2e0, "Event", `\BaseNamedObjects\VmmsWmiEventProviderReady`, 0x1f0003, 2, 32770},
		{0x2f8, "ALPC Port", "", 0x1f0001, 1, 32770},
		{0x31c, "Key", `\REGISTRY\MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization`, 0x20019, 1, 32768},
		{0x3a8, "Thread", "", 0x1fffff, 1, 32770},
		{0x1a04, "Event", "", 0x1f0003, 1, 32768},
		{vmLockSem, "Event", "", 0x1f0003, 1, 32768},
		{0x1c30, "Event", "", 0x1f0003, 1, 32768},
	}
	if o.Deadlock { // the task lock's LockSemaphore, between 0x1b48 and 0x1c30
		n := len(list)
		list = append(list[:n-1:n-1], h{TaskLockSem, "Event", "", 0x1f0003, 1, 32768}, list[n-1])
	}
	out := make([]mdw.Handle, len(list))
	for i, x := range list {
		out[i] = mdw.Handle{Handle: x.v, TypeName: x.typ, ObjectName: x.name, GrantedAccess: x.access, HandleCount: x.hc, PointerCount: x.pc}
	}
	return out
}

// Describe returns a one-line summary, for the generator's output.
func (s *Scenario) Describe() string {
	waiters := 0
	for _, t := range s.Threads {
		if strings.HasPrefix(t.Role, "wait") {
			waiters++
		}
	}
	return fmt.Sprintf("%d threads, %d waiting on %#x, %d memory regions", len(s.Threads), waiters, uint64(VmLock), len(s.Dump.Memory))
}
