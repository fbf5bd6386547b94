package hyperv

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
	"github.com/ntdbg/ntdbg/testdata/gen/mdw"
)

// The kernel dump (testdata/scenarios/hyperv-hang/kernel.dmp): a live
// kernel dump of the host vmms.dmp comes from, as `livekd -ml` writes one
// on Windows Server 2012 R2 (DumpType 5, an SDMP bitmap of the kernel's
// pages, bugcheck 0x161 LIVE_SYSTEM_DUMP). It is written from the scenario's
// kernel images (ksrc/, built by build-kernel.sh) with kdw; the structures
// have the real 9600 layouts (kernel_layout.json), every kernel stack is laid
// out from the images' unwind data, and physical memory is reached through
// real 4-level page tables: a PML4 per process with the kernel half shared,
// 2 MiB pages for ntoskrnl.exe, 4 KiB pages elsewhere. Nothing of ntdbg's
// readers is used.

// KernelScenario is the generated kernel dump and what a correct debugger
// must find in it.
type KernelScenario struct {
	Dump    *kdw.Dump
	User    *Scenario         // the user side (vmms.dmp)
	Images  map[string]*Image // by lower-case file name
	Modules []*Image          // PsLoadedModuleList order
	Procs   []*KProcess
	Idle    []*KThread // the idle thread of each processor
	Context mdw.Context

	ks   *Space // the kernel half's content, by virtual address
	phys *physMem
	sys  *addrSpace
	vas  map[string]*vaRegion
	cids map[uint64]bool
	// slotGen shuffles pool slots.
	slotGen lcg

	Opts Options
	// Handles is vmms's handle table as the kernel holds it: TableCode (a
	// level-1 table: TableCode&^3 is the page of pointers to the 256-entry
	// pages of HANDLE_TABLE_ENTRY) and each handle's object (its body).
	HandleTableCode uint64
	HandleObjects   map[uint64]uint64
	// Resource is the ERESOURCE the owner waits on (ResourceHolder), 0 if none.
	Resource uint64
}

// KProcess is one EPROCESS.
type KProcess struct {
	Spec    procSpec
	Threads []*KThread
	Created time.Time
	space   *addrSpace
}

// KThread is one ETHREAD: where it is, what it waits on, its stack.
type KThread struct {
	EThread         uint64
	PID, TID        uint64
	Teb             uint64
	Process         *KProcess
	State           uint8 // KTHREAD_STATE
	WaitReason      uint8
	WaitMode        uint8 // 0 KernelMode, 1 UserMode
	Alertable       bool
	WaitObjects     []uint64
	WaitTime        uint32
	ContextSwitches uint32
	KernelTicks     uint32
	UserTicks       uint32
	Priority        int8
	BasePriority    int8
	IdealProcessor  uint32
	StartAddress    uint64
	Win32Start      uint64
	Created         time.Time
	Irps            []uint64
	System          bool

	StackBase, StackLimit, InitialStack uint64
	KernelStack                         uint64
	TrapFrame                           uint64
	Frames                              []Frame // kernel frames, innermost first
	UserRip, UserRsp                    uint64

	role        string // the user-dump role, for vmms's threads
	chain       []Call
	mf          *machineFrame
	userRegs    [16]uint64 // the user registers at the system call
	startFrame  [2]uint64  // a system thread's StartRoutine and StartContext above KiStartSystemThread
	stackObject string     // the function whose frame holds the object the thread waits on
	keepWait    bool       // WaitObjects are not the stack object (the owner waiting on an ERESOURCE)
	xsaveGap    uint64     // StackBase - InitialStack when not xsaveSize (see ownerStackBase)
}

// Thread states and wait reasons the scenario uses (formats-spec.md §6.6).
const (
	stateRunning = 2
	stateWaiting = 5

	wrExecutive        = 0
	wrDelayExecution   = 4
	wrUserRequest      = 6
	wrResource         = 9
	wrQueue            = 15
	wrAlertByThreadID  = 37
	modeKernel         = 0
	modeUser           = 1
	waitAny            = 1
	waitBlockActive    = 4 // _KWAIT_BLOCK_STATE.WaitBlockActive
	typeNotification   = 0 // EventNotificationObject
	typeSynchronizaton = 1
	typeProcess        = 3
	typeQueue          = 4
	typeThread         = 6
	typeTimerNotif     = 8

	kstackSize = 0x6000 // KERNEL_STACK_SIZE
	xsaveSize  = 0x370  // StackBase - InitialStack: the thread's XSAVE area
)

// vaRegion hands out kernel virtual addresses in a range, around the
// objects placed at fixed addresses.
type vaRegion struct {
	next, end uint64
	fixed     []span
	slots     []uint64 // takeShuffled's free slots, in hand-out order
}

type span struct{ lo, hi uint64 }

func (r *vaRegion) reserve(addr, size uint64) { r.fixed = append(r.fixed, span{addr, addr + size}) }

// take returns size bytes aligned to align, clear of the fixed spans.
func (r *vaRegion) take(size, align uint64) uint64 {
	for {
		a := (r.next + align - 1) &^ (align - 1)
		if a+size > r.end {
			panic("kernel VA region is full")
		}
		clash := false
		for _, f := range r.fixed {
			if a < f.hi && f.lo < a+size {
				r.next, clash = f.hi, true
				break
			}
		}
		if !clash {
			r.next = a + size
			return a
		}
	}
}

// takeShuffled returns a slot of size bytes (aligned to its size) at a
// pseudo-random place in the region, clear of the fixed spans: pool blocks
// of one size are not handed out in address order.
func (r *vaRegion) takeShuffled(size uint64, g *lcg) uint64 {
	if r.slots == nil {
		for a := (r.next + size - 1) &^ (size - 1); a+size <= r.end; a += size {
			r.slots = append(r.slots, a)
		}
		for i := len(r.slots) - 1; i > 0; i-- {
			j := int(g.next() % uint32(i+1))
			r.slots[i], r.slots[j] = r.slots[j], r.slots[i]
		}
	}
	for len(r.slots) > 0 {
		a := r.slots[0]
		r.slots = r.slots[1:]
		clash := false
		for _, f := range r.fixed {
			if a < f.hi && f.lo < a+size {
				clash = true
			}
		}
		if !clash {
			r.fixed = append(r.fixed, span{a, a + size})
			return a
		}
	}
	panic("kernel VA region is full")
}

// Kernel VA regions: nonpaged pool (small objects, processes, threads),
// paged pool, kernel stacks, per-processor blocks.
func newRegions() map[string]*vaRegion {
	return map[string]*vaRegion{
		"npp":     {next: 0xffffe0004e600000, end: 0xffffe0004ec00000}, // boot-time nonpaged pool
		"npp2":    {next: 0xffffe00052400000, end: 0xffffe00052c00000}, // later nonpaged pool
		"threads": {next: 0xffffe00069c80000, end: 0xffffe00069d00000}, // vmms's thread objects, around 43d8's
		"pp":      {next: 0xffffc0004d600000, end: 0xffffc0004dc00000}, // paged pool
		"stacks":  {next: 0xffffd00020400000, end: 0xffffd00021000000}, // kernel stacks of boot-time threads
		"vstacks": {next: 0xffffd001b8800000, end: 0xffffd001b8e00000}, // vmms's kernel stacks, around 43d8's
		"pcr":     {next: 0xffffd0002a400000, end: 0xffffd0002a800000}, // KPCRs of processors 1-31
		"pph":     {next: 0xffffc0004dc00000, end: 0xffffc0004de00000}, // handle table pages (paged pool)
	}
}

// KernelBytes renders kernel.dmp.
func KernelBytes() []byte {
	b, err := BuildKernel().Dump.Bytes(kdw.BitmapFull)
	if err != nil {
		panic(err)
	}
	return b
}

// loadKernelImages maps bin/'s kernel images and resolves their imports.
func loadKernelImages() (map[string]*Image, []*Image) {
	imgs := map[string]*Image{}
	var list []*Image
	for _, m := range kernelModules {
		img, err := LoadImage(m.file, m.path)
		if err != nil {
			panic(err)
		}
		imgs[strings.ToLower(m.file)] = img
		list = append(list, img)
	}
	for _, img := range list {
		img.ResolveImports(imgs)
	}
	return imgs, list
}

// BuildKernel lays the seed's kernel dump out.
func BuildKernel() *KernelScenario { return BuildKernelWith(Default()) }

// BuildKernelWith lays out the kernel dump of a variant (its User is the
// same variant's vmms.dmp).
func BuildKernelWith(o Options) *KernelScenario {
	k := &KernelScenario{User: BuildWith(o), ks: NewSpace(), vas: newRegions(), slotGen: lcg(0x1cdb), Opts: o}
	k.Images, k.Modules = loadKernelImages()
	k.phys = newPhysMem(PhysicalPages)
	k.phys.addZone("ptk", 0x1a8, 0x400)         // the kernel half's page tables, after System's PML4
	k.phys.addZone("ntlarge", 0x200, 0x400)     // 2 MiB frames for ntoskrnl.exe (2-4 MiB physical and on)
	k.phys.addZone("drivers", 0x6400, 0x800)    // driver images
	k.phys.addZone("ptu", 0x2a000, 0xe000)      // process page tables, around their directory bases
	k.phys.addZone("npp", 0x101000, 0x10000)    // nonpaged pool
	k.phys.addZone("pp", 0x180400, 0x10000)     // paged pool
	k.phys.addZone("stacks", 0x1c2000, 0x10000) // kernel stacks
	k.phys.addZone("user", 0x250000, 0x100000)  // user pages (resident, not in a kernel dump)
	k.phys.addZone("shared", 0x3ffc00, 0x100)   // KUSER_SHARED_DATA and the processor blocks
	for _, p := range kernelProcs {
		k.phys.reserve(p.dirBase>>12, p.name+" PML4")
	}
	k.sys = newAddrSpace(k.phys, SystemDirBase>>12, "System", "ptk")
	nt := k.Images["ntoskrnl.exe"]
	k.mapImages()
	k.sharedData()
	k.kernelGlobals(nt)
	k.moduleList(nt)
	k.processes()
	k.processors(nt)
	k.kdbg(nt)
	k.ndisState() // the next issue's hook
	k.place()
	k.Dump = k.header(nt)
	return k
}

func (k *KernelScenario) nt() *Image { return k.Images["ntoskrnl.exe"] }

// optSym is an nt symbol the images may not define (0 then).
func (k *KernelScenario) optSym(name string) uint64 { return k.nt().Symbols[name] }

// ---- images ----

// mapImages maps each image at its base: ntoskrnl.exe in 2 MiB pages, the
// drivers in 4 KiB ones. Only pages with content are written (the dump holds
// nothing else).
func (k *KernelScenario) mapImages() {
	for _, img := range k.Modules {
		if img.File == "ntoskrnl.exe" {
			for va := img.Base &^ 0x1fffff; va < img.Base+uint64(img.Size); va += 0x200000 {
				k.sys.map2M(va, k.phys.alloc("ntlarge", 512, 512, "ntoskrnl.exe large page"))
			}
		}
		for off := uint64(0); off < uint64(img.Size); off += pageSize {
			pg := img.Mapped[off:min(off+pageSize, uint64(len(img.Mapped)))]
			if !allZero(pg) {
				k.ks.Write(img.Base+off, pg)
			}
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// imageAt is the image holding va.
func (k *KernelScenario) imageAt(va uint64) *Image {
	for _, img := range k.Modules {
		if va >= img.Base && va < img.Base+uint64(img.Size) {
			return img
		}
	}
	return nil
}

// ---- KUSER_SHARED_DATA and nt's variables ----

func filetime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100 + 116444736000000000)
}

// ksystemTime writes a KSYSTEM_TIME (LowPart, High1Time, High2Time).
func ksystemTime(o kobj, path string, v uint64) {
	o.set(path+".LowPart", v&0xffffffff)
	o.set(path+".High1Time", v>>32)
	o.set(path+".High2Time", v>>32)
}

func (k *KernelScenario) sharedData() {
	o := kobj{k.ks, "_KUSER_SHARED_DATA", SharedUserData}
	o.set("TickCountMultiplier", uint64(TimeIncrement)<<24/10000)
	ksystemTime(o, "InterruptTime", uint64(upTime100ns))
	ksystemTime(o, "SystemTime", filetime(kernelDumpTime))
	bias := -int64(2 * time.Hour / 100) // W. Europe Daylight Time, UTC+2
	ksystemTime(o, "TimeZoneBias", uint64(bias))
	ksystemTime(o, "TickCount", TickCountNow)
	o.bytes("NtSystemRoot", utf16le(`C:\Windows`))
	o.set("TimeZoneId", 2) // TIME_ZONE_ID_DAYLIGHT
	o.set("NtProductType", 3)
	o.set("ProductTypeIsValid", 1)
	o.set("NativeProcessorArchitecture", 9) // PROCESSOR_ARCHITECTURE_AMD64
	o.set("NtMajorVersion", 6)
	o.set("NtMinorVersion", 3)
	o.set("SuiteMask", 0x190)
	o.set("ActiveConsoleId", 1)
	o.set("NumberOfPhysicalPages", PhysicalPages-0x6a3d)
	o.set("ActiveProcessorCount", NumberOfCPUs)
	o.set("ActiveGroupCount", 1)
}

func utf16le(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// kernelGlobals sets the nt variables the debugger reads.
func (k *KernelScenario) kernelGlobals(nt *Image) {
	k.ks.U32(nt.Sym("KeMaximumIncrement"), TimeIncrement)
	k.ks.U32(nt.Sym("KeNumberProcessors"), NumberOfCPUs)
	if a := k.optSym("KeTimeIncrement"); a != 0 {
		k.ks.U32(a, TimeIncrement)
	}
	if a := k.optSym("KeTickCount"); a != 0 {
		k.ks.U64(a, TickCountNow)
	}
	if a := k.optSym("MmPfnDatabase"); a != 0 {
		k.ks.U64(a, PfnDatabase)
	}
	if a := k.optSym("MmHighestUserAddress"); a != 0 {
		k.ks.U64(a, 0x7fffffeffff)
	}
	if a := k.optSym("MmSystemRangeStart"); a != 0 {
		k.ks.U64(a, 0xffff080000000000)
	}
	if a := k.optSym("MmUserProbeAddress"); a != 0 {
		k.ks.U64(a, 0x7ffffff0000)
	}
	if a := k.optSym("NtBuildLab"); a != 0 && allZero(k.ks.Read(a, 8)) {
		k.ks.Write(a, []byte("9600.17736.amd64fre.winblue_r9.150322-1500\x00"))
	}
}

// ---- small kernel objects ----

// poolAlloc takes n bytes of a region, 16-byte aligned.
func (k *KernelScenario) poolAlloc(region string, n uint64) uint64 { return k.vas[region].take(n, 16) }

// unicodeString writes a UNICODE_STRING at addr with its buffer in pool.
func (k *KernelScenario) unicodeString(addr uint64, s, region string) {
	buf := k.poolAlloc(region, uint64(2*len(utf16.Encode([]rune(s)))+2))
	n := k.ks.UTF16(buf, s)
	o := kobj{k.ks, "_UNICODE_STRING", addr}
	o.set("Length", uint64(n))
	o.set("MaximumLength", uint64(n+2))
	o.set("Buffer", buf)
}

// linkList links entries (LIST_ENTRY addresses) after head, in order.
func (k *KernelScenario) linkList(head uint64, entries []uint64) {
	nodes := append([]uint64{head}, entries...)
	fl, bl := off("_LIST_ENTRY", "Flink"), off("_LIST_ENTRY", "Blink")
	for i, n := range nodes {
		k.ks.U64(n+fl, nodes[(i+1)%len(nodes)])
		k.ks.U64(n+bl, nodes[(i+len(nodes)-1)%len(nodes)])
	}
}

// ---- the loaded-module list ----

func (k *KernelScenario) moduleList(nt *Image) {
	head := nt.Sym("PsLoadedModuleList")
	var links []uint64
	for i, img := range k.Modules {
		ent := k.poolAlloc("npp", 0xa0)
		o := kobj{k.ks, "_LDR_DATA_TABLE_ENTRY", ent}
		links = append(links, o.at("InLoadOrderLinks"))
		// KLDR_DATA_TABLE_ENTRY's ExceptionTable and ExceptionTableSize
		// (formats-spec.md §6.7; the ISF has no KLDR type, and its
		// LDR_DATA_TABLE_ENTRY agrees with KLDR from DllBase to LoadCount).
		exc := peDataDirectory(img, 3)
		k.ks.U64(ent+0x10, img.Base+uint64(exc[0]))
		k.ks.U32(ent+0x18, exc[1])
		o.set("DllBase", img.Base)
		o.set("EntryPoint", img.Base+uint64(peEntryPoint(img)))
		o.set("SizeOfImage", uint64(img.Size))
		k.unicodeString(o.at("FullDllName"), kernelModules[i].path, "npp")
		k.unicodeString(o.at("BaseDllName"), kernelModules[i].file, "npp")
		flags := uint64(0x49104000) // LDRP_IMAGE_DLL | ENTRY_PROCESSED | ... as drivers have
		if i == 0 {
			flags = 0x08004000
		}
		o.set("Flags", flags)
		o.set("ObsoleteLoadCount", 1)
		o.set("TimeDateStamp", uint64(img.Stamp))
	}
	k.linkList(head, links)
}

// peDataDirectory is an image's data directory entry i {RVA, Size}.
func peDataDirectory(img *Image, i int) [2]uint32 {
	le := binary.LittleEndian
	pe := le.Uint32(img.Mapped[0x3c:])
	dd := pe + 24 + 112 + uint32(8*i)
	return [2]uint32{le.Uint32(img.Mapped[dd:]), le.Uint32(img.Mapped[dd+4:])}
}

func peEntryPoint(img *Image) uint32 {
	pe := binary.LittleEndian.Uint32(img.Mapped[0x3c:])
	return binary.LittleEndian.Uint32(img.Mapped[pe+24+16:])
}

// ---- placement ----

// zoneFor is the physical zone of a kernel virtual page.
func (k *KernelScenario) zoneFor(va uint64) string {
	switch {
	case k.imageAt(va) != nil:
		return "drivers"
	case va >= 0xffffd00000000000 && va < 0xffffd00100000000 && va >= 0xffffd0002a000000:
		return "shared"
	case va >= 0xffffd00000000000 && va < 0xffffe00000000000:
		return "stacks"
	case va >= 0xffffc00000000000 && va < 0xffffd00000000000:
		return "pp"
	case va == SharedUserData:
		return "shared"
	}
	return "npp"
}

// kindFor is how a kernel page is mapped: image code read-only and
// executable, the rest read-write, no-execute.
func (k *KernelScenario) kindFor(va uint64) uint64 {
	if img := k.imageAt(va); img != nil {
		rva := uint32(va - img.Base)
		for _, s := range img.Sections {
			if rva >= s.RVA && rva < s.RVA+(s.Size+0xfff)&^0xfff && s.Characteristics&0x20000000 != 0 {
				return kCode
			}
		}
	}
	return kData
}

// place gives every kernel page written a frame and builds each process's
// top-level table (its own user half, the shared kernel half).
func (k *KernelScenario) place() {
	pages := k.ks.PageAddrs()
	byZone := map[string][]uint64{}
	for _, va := range pages {
		z := k.zoneFor(va)
		byZone[z] = append(byZone[z], va)
	}
	zones := make([]string, 0, len(byZone))
	for z := range byZone {
		zones = append(zones, z)
	}
	sort.Strings(zones)
	for _, z := range zones {
		for _, va := range byZone[z] {
			pa, ok := k.sys.translate(va)
			if !ok {
				pfn := k.phys.alloc(z, 1, 1, fmt.Sprintf("kernel page %#x", va))
				k.sys.map4K(va, pfn, k.kindFor(va))
				pa = pfn << 12
			}
			copy(k.phys.frame(pa>>12), k.ks.Read(va, pageSize))
		}
	}
	// KUSER_SHARED_DATA is also every process's 0x7ffe0000, read-only.
	shared, _ := k.sys.translate(SharedUserData)
	for _, p := range k.Procs {
		if p.space != k.sys {
			p.space.map4K(0x7ffe0000, shared>>12, pteNX|pteValid|pteOwner|pteAccessed)
			p.space.shareKernelHalf(k.sys)
		}
	}
}

// ---- header ----

func (k *KernelScenario) header(nt *Image) *kdw.Dump {
	ctx := kernelContextBytes(&k.Context)
	return &kdw.Dump{
		MajorVersion:        0xF,
		MinorVersion:        9600,
		DirectoryTableBase:  SystemDirBase,
		PfnDataBase:         PfnDatabase,
		PsLoadedModuleList:  nt.Sym("PsLoadedModuleList"),
		PsActiveProcessHead: nt.Sym("PsActiveProcessHead"),
		NumberProcessors:    NumberOfCPUs,
		BugCheckCode:        BugCheckLiveDmp,
		KdDebuggerDataBlock: nt.Sym("KdDebuggerDataBlock"),
		Context:             ctx,
		SystemTime:          int64(filetime(kernelDumpTime)),
		SystemUpTime:        upTime100ns,
		ProductType:         3,     // VER_NT_SERVER, as vmms.dmp's SystemInfo
		SuiteMask:           0x190, // DATACENTER | TERMINAL | SINGLEUSERTS
		Pages:               k.phys.frames,
		MemoryPages:         PhysicalPages,
		BitmapSignature:     "SDMP",
	}
}

// kernelContextBytes is a CONTEXT with the kernel's segments.
func kernelContextBytes(c *mdw.Context) []byte {
	b := mdw.ContextBytes(c)
	le := binary.LittleEndian
	le.PutUint16(b[0x38:], 0x10) // SegCs: KGDT64_R0_CODE
	le.PutUint16(b[0x42:], 0x18) // SegSs: KGDT64_R0_DATA
	return b
}

// Describe is a one-line summary for the generator.
func (k *KernelScenario) Describe() string {
	threads := 0
	for _, p := range k.Procs {
		threads += len(p.Threads)
	}
	return fmt.Sprintf("%d processes, %d threads, %d modules, %d physical pages", len(k.Procs), threads, len(k.Modules), len(k.phys.frames))
}
