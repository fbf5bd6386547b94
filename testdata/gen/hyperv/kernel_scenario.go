package hyperv

import "time"

// The kernel side of the scenario: the same host as vmms.dmp, seen through
// a live kernel dump (`livekd -ml`) taken two minutes after the user dump.
// Addresses, ids and counters are the seed's where it shows them.

// Seed addresses and values.
const (
	VmmsEProcess   = 0xffffe0005c21c080
	VmmsDirBase    = 0x3705e000
	VmmsObjTable   = 0xffffc000717c3040 // its page is paged out: HandleCount <Data Not Accessible>
	VmmsDeviceMap  = 0xffffc0006ea0c4e0
	OwnerEThread   = 0xffffe00069cdb880 // vmms thread 43d8
	OwnerEvent     = 0xffffd001b8931ed0 // the NotificationEvent it waits on, on its kernel stack
	OwnerIrp       = 0xffffe801316e7ae0
	FooEThread     = 0xffffe0007510c040 // System thread 1114, in NDIS!NdisMSleep for FooDRV
	FooTID         = 0x1114
	ServicesPID    = 0x554
	SystemDirBase  = 0x1a7000
	SharedUserData = 0xfffff78000000000
	PfnDatabase    = 0xfffffa8000000000

	// Clock: KeMaximumIncrement is 15.625 ms; the tick count is the one at
	// which the owner's wait of 3667296 is 14135 ticks (3:40.859) old.
	TimeIncrement   = 156250
	TickCountNow    = 3667296 + 14135 // 3681431
	OwnerWaitStart  = 3667296
	NumberOfCPUs    = 32
	PhysicalPages   = 0x400000 // 16 GiB
	BugCheckLiveDmp = 0x161    // LIVE_SYSTEM_DUMP
)

// kernelTime is the live dump's SystemTime; bootTime follows from the
// uptime (the tick count's worth of clock interrupts and a bit of the next).
var (
	kernelDumpTime = time.Date(2015, 6, 10, 14, 24, 47, 312_000_000, time.UTC)
	upTime100ns    = int64(TickCountNow)*TimeIncrement + 87_112
	bootTime       = kernelDumpTime.Add(-time.Duration(upTime100ns) * 100)
)

// kernelModules are PsLoadedModuleList's images, in load order, with the
// paths the loader records.
var kernelModules = []struct{ file, path string }{
	{"ntoskrnl.exe", `\SystemRoot\system32\ntoskrnl.exe`},
	{"NDIS.SYS", `\SystemRoot\system32\drivers\NDIS.SYS`},
	{"NETIO.SYS", `\SystemRoot\system32\drivers\NETIO.SYS`},
	{"nsiproxy.sys", `\SystemRoot\system32\drivers\nsiproxy.sys`},
	{"FooDRV.sys", `\SystemRoot\system32\drivers\FooDRV.sys`},
}

// procSpec is one process of PsActiveProcessHead.
type procSpec struct {
	name       string
	pid, ppid  uint64
	eprocess   uint64
	dirBase    uint64
	peb        uint64 // 0 for System
	objTable   uint64
	handles    uint32
	session    bool // in session 0 (System and smss are in none)
	deviceMap  uint64
	created    time.Duration // after boot
	basePrio   int8
	imageBase  uint64
	threads    int // user threads besides the scenario's own
	virtualMiB uint64
}

// Processes, in creation order (the list order).
var kernelProcs = []procSpec{
	{name: "System", pid: 4, eprocess: 0xffffe0004e68b900, dirBase: SystemDirBase, objTable: 0xffffc0004d604000,
		handles: 1436, deviceMap: 0xffffc0004d60f8a0, basePrio: 8, virtualMiB: 3},
	{name: "smss.exe", pid: 0x150, ppid: 4, eprocess: 0xffffe0004f3a6900, dirBase: 0x2a5e9000, peb: 0x7ff6e2b1a000,
		objTable: 0xffffc0004f4d3a40, handles: 52, deviceMap: 0xffffc0004d60f8a0, created: 1810 * time.Millisecond,
		basePrio: 11, imageBase: 0x7ff6e2f80000, threads: 2, virtualMiB: 4},
	{name: "csrss.exe", pid: 0x1f0, ppid: 0x1e8, eprocess: 0xffffe0004fd8b080, dirBase: 0x2e1c4000, peb: 0x7ff7a3c5f000,
		objTable: 0xffffc00050a0e5c0, handles: 421, session: true, deviceMap: 0xffffc0004d60f8a0,
		created: 4417 * time.Millisecond, basePrio: 13, imageBase: 0x7ff7a4420000, threads: 9, virtualMiB: 47},
	{name: "wininit.exe", pid: 0x268, ppid: 0x1e8, eprocess: 0xffffe0004ff14080, dirBase: 0x2f55b000, peb: 0x7ff7bd8e3000,
		objTable: 0xffffc00050b9d900, handles: 83, session: true, deviceMap: 0xffffc0004d60f8a0,
		created: 4873 * time.Millisecond, basePrio: 13, imageBase: 0x7ff7be2a0000, threads: 1, virtualMiB: 45},
	{name: "services.exe", pid: ServicesPID, ppid: 0x268, eprocess: 0xffffe0005016c900, dirBase: 0x30c17000,
		peb: 0x7ff6a8d94000, objTable: 0xffffc00050f27040, handles: 272, session: true, deviceMap: 0xffffc0004d60f8a0,
		created: 5391 * time.Millisecond, basePrio: 9, imageBase: 0x7ff6a9460000, threads: 5, virtualMiB: 24},
	{name: "lsass.exe", pid: 0x560, ppid: 0x268, eprocess: 0xffffe00050175080, dirBase: 0x31a02000, peb: 0x7ff71c2ae000,
		objTable: 0xffffc00050f41780, handles: 1103, session: true, deviceMap: 0xffffc0004d60f8a0,
		created: 5433 * time.Millisecond, basePrio: 9, imageBase: 0x7ff71cbe0000, threads: 8, virtualMiB: 63},
	{name: "svchost.exe", pid: 0x5c8, ppid: ServicesPID, eprocess: 0xffffe00050a31900, dirBase: 0x32b4e000,
		peb: 0x7ff72d6f3000, objTable: 0xffffc00051288c80, handles: 398, session: true, deviceMap: 0xffffc0004d60f8a0,
		created: 6102 * time.Millisecond, basePrio: 8, imageBase: 0x7ff72e0d0000, threads: 7, virtualMiB: 51},
	{name: "svchost.exe", pid: 0x60c, ppid: ServicesPID, eprocess: 0xffffe00050a7d080, dirBase: 0x33d90000,
		peb: 0x7ff61e85b000, objTable: 0xffffc000512c4dc0, handles: 544, session: true, deviceMap: 0xffffc0005136a2f0,
		created: 6388 * time.Millisecond, basePrio: 8, imageBase: 0x7ff61f0d0000, threads: 9, virtualMiB: 38},
	{name: "svchost.exe", pid: 0x6a4, ppid: ServicesPID, eprocess: 0xffffe00050b22900, dirBase: 0x3480d000,
		peb: 0x7ff68bc47000, objTable: 0xffffc000513f0a00, handles: 1830, session: true, deviceMap: 0xffffc0004d60f8a0,
		created: 7015 * time.Millisecond, basePrio: 8, imageBase: 0x7ff68c3d0000, threads: 12, virtualMiB: 112},
	{name: "svchost.exe", pid: 0x72c, ppid: ServicesPID, eprocess: 0xffffe00050bd4080, dirBase: 0x35f21000,
		peb: 0x7ff7e1f5d000, objTable: 0xffffc0005152f340, handles: 617, session: true, deviceMap: 0xffffc00051592b60,
		created: 7642 * time.Millisecond, basePrio: 8, imageBase: 0x7ff7e27e0000, threads: 10, virtualMiB: 64},
	{name: "svchost.exe", pid: 0x7d0, ppid: ServicesPID, eprocess: 0xffffe00050cf8900, dirBase: 0x36a33000,
		peb: 0x7ff7f0e8a000, objTable: 0xffffc000517d6c40, handles: 289, session: true, deviceMap: 0xffffc0004d60f8a0,
		created: 8276 * time.Millisecond, basePrio: 8, imageBase: 0x7ff7f1650000, threads: 4, virtualMiB: 29},
	{name: "vmms.exe", pid: PID, ppid: ServicesPID, eprocess: VmmsEProcess, dirBase: VmmsDirBase, peb: PEB,
		objTable: VmmsObjTable, handles: 2211, session: true, deviceMap: VmmsDeviceMap,
		basePrio: 8, imageBase: 0x7ff776a40000, virtualMiB: 212},
}
