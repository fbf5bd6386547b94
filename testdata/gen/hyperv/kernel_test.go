package hyperv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The committed kernel dump must be what the writer produces now.
func TestKernelDumpUpToDate(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(ScenarioDir(), "kernel.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	if got := KernelBytes(); !bytes.Equal(got, want) {
		t.Fatalf("kernel.dmp is stale (%d bytes written, %d committed): run go generate ./testdata/gen/hyperv", len(got), len(want))
	}
	if len(want) > 4<<20 {
		t.Errorf("kernel.dmp is %d bytes; keep it under 4 MiB", len(want))
	}
}

// rawKernel is a minimal reader of the committed kernel dump written for
// these checks from formats-spec.md §2.1/§2.3/§3.1 alone: the header, the
// bitmap, and a 4-level page walk. It shares nothing with kdw, with the
// writer's page tables or with ntdbg's readers (engine/mem, dumpfmt/kdump).
type rawKernel struct {
	b     []byte
	first uint64         // file offset of the first page
	index map[uint64]int // PFN -> position among the present pages
	dtb   uint64
}

func openRawKernel(t *testing.T) *rawKernel {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ScenarioDir(), "kernel.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	return rawKernelOf(t, b)
}

// rawKernelOf reads a kernel dump's bytes.
func rawKernelOf(t *testing.T, b []byte) *rawKernel {
	t.Helper()
	le := binary.LittleEndian
	if string(b[:8]) != "PAGEDU64" {
		t.Fatalf("signature %q", b[:8])
	}
	if dt := le.Uint32(b[0xf98:]); dt != 5 {
		t.Fatalf("DumpType %d, want 5", dt)
	}
	bm := b[0x2000:]
	if string(bm[:8]) != "SDMPDUMP" {
		t.Fatalf("bitmap header %q", bm[:8])
	}
	k := &rawKernel{b: b, first: le.Uint64(bm[0x20:]), index: map[uint64]int{}, dtb: le.Uint64(b[0x10:]) &^ 0xfff}
	bits := le.Uint64(bm[0x30:])
	n := 0
	for pfn := uint64(0); pfn < bits; pfn++ {
		if bm[0x38+pfn/8]>>(pfn%8)&1 != 0 {
			k.index[pfn] = n
			n++
		}
	}
	if uint64(n) != le.Uint64(bm[0x28:]) {
		t.Fatalf("bitmap has %d bits set, header says %d", n, le.Uint64(bm[0x28:]))
	}
	if want := int(k.first) + n*0x1000; len(b) != want {
		t.Fatalf("file is %d bytes, bitmap says %d", len(b), want)
	}
	return k
}

func (k *rawKernel) phys(pa uint64, n int) ([]byte, bool) {
	i, ok := k.index[pa>>12]
	if !ok || int(pa&0xfff)+n > 0x1000 {
		return nil, false
	}
	off := int(k.first) + i*0x1000 + int(pa&0xfff)
	return k.b[off : off+n], true
}

// pte walks dtb's tables for va: the physical address and, when the page
// is not present, the entry that says why (0 when a table is missing).
func (k *rawKernel) walk(dtb, va uint64) (pa uint64, entry uint64, ok bool) {
	table := dtb &^ 0xfff
	for level := 3; level >= 0; level-- {
		idx := va >> (12 + 9*uint(level)) & 0x1ff
		b, present := k.phys(table+8*idx, 8)
		if !present {
			return 0, 0, false
		}
		e := binary.LittleEndian.Uint64(b)
		if e&1 == 0 {
			return 0, e, false
		}
		if level == 1 && e&0x80 != 0 {
			return e&0x000f_ffff_ffe0_0000 | va&0x1fffff, e, true
		}
		table = e & 0x000f_ffff_ffff_f000
	}
	return table | va&0xfff, 0, true
}

func (k *rawKernel) read(t *testing.T, dtb, va uint64, n int) []byte {
	t.Helper()
	out := make([]byte, 0, n)
	for len(out) < n {
		pa, _, ok := k.walk(dtb, va)
		if !ok {
			t.Fatalf("%#x does not translate", va)
		}
		m := min(n-len(out), int(0x1000-va&0xfff))
		b, ok := k.phys(pa, m)
		if !ok {
			t.Fatalf("%#x (physical %#x) is not in the dump", va, pa)
		}
		out = append(out, b...)
		va += uint64(m)
	}
	return out
}

func (k *rawKernel) u64(t *testing.T, va uint64) uint64 {
	return binary.LittleEndian.Uint64(k.read(t, k.dtb, va, 8))
}
func (k *rawKernel) u32(t *testing.T, va uint64) uint32 {
	return binary.LittleEndian.Uint32(k.read(t, k.dtb, va, 4))
}
func (k *rawKernel) u8(t *testing.T, va uint64) uint8 { return k.read(t, k.dtb, va, 1)[0] }

// list walks a LIST_ENTRY list from head (Flink at +0), checking each Blink.
func (k *rawKernel) list(t *testing.T, head uint64) []uint64 {
	t.Helper()
	var out []uint64
	prev := head
	for e := k.u64(t, head); e != head; e = k.u64(t, e) {
		if k.u64(t, e+8) != prev {
			t.Fatalf("list %#x: entry %#x's Blink is not %#x", head, e, prev)
		}
		out = append(out, e)
		prev = e
		if len(out) > 10000 {
			t.Fatalf("list %#x does not end", head)
		}
	}
	if k.u64(t, head+8) != prev {
		t.Fatalf("list %#x: the head's Blink is not the last entry", head)
	}
	return out
}

// Offsets from formats-spec.md §6 (Windows 8.1 column), independent of
// kernel_layout.json.
const (
	epDirBase       = 0x028
	epTcbThreads    = 0x030
	epPid           = 0x2e0
	epLinks         = 0x2e8
	epParent        = 0x3d0
	epPeb           = 0x3e8
	epObjectTable   = 0x408
	epImageName     = 0x438
	epThreadList    = 0x470
	ktKernelStack   = 0x058
	ktWaitBlockList = 0x0d0
	ktTeb           = 0x0f0
	ktState         = 0x184
	ktWaitMode      = 0x187
	ktWaitTime      = 0x1b4
	ktProcess       = 0x220
	ktWaitReason    = 0x283
	ktUserTime      = 0x2dc
	ktThreadEntry   = 0x2f8
	etCid           = 0x620
	etIrpList       = 0x658
	etThreadEntry   = 0x688
	wbObject        = 0x20
)

// TestKernelSeedObjects finds the seed's objects at their addresses by
// walking the dump's own lists and page tables.
func TestKernelSeedObjects(t *testing.T) {
	k := openRawKernel(t)
	le := binary.LittleEndian
	h := k.b
	nt, err := LoadImage("ntoskrnl.exe", "")
	if err != nil {
		t.Fatal(err)
	}
	if le.Uint32(h[0x38:]) != 0x161 || le.Uint32(h[0x34:]) != 32 || le.Uint32(h[0x0c:]) != 9600 {
		t.Fatalf("bugcheck %#x, %d processors, build %d", le.Uint32(h[0x38:]), le.Uint32(h[0x34:]), le.Uint32(h[0x0c:]))
	}
	if k.dtb != SystemDirBase {
		t.Errorf("DirectoryTableBase %#x", k.dtb)
	}
	active, modules, kdbg := le.Uint64(h[0x28:]), le.Uint64(h[0x20:]), le.Uint64(h[0x80:])
	if active != nt.Sym("PsActiveProcessHead") || modules != nt.Sym("PsLoadedModuleList") || kdbg != nt.Sym("KdDebuggerDataBlock") {
		t.Fatalf("header list heads %#x %#x %#x are not nt's symbols", active, modules, kdbg)
	}
	// nt is mapped with a 2 MiB page.
	if _, e, ok := k.walk(k.dtb, nt.Base); !ok || e&0x80 == 0 {
		t.Errorf("ntoskrnl.exe's base is not in a large page (entry %#x)", e)
	}
	// KDBG (formats-spec.md §2.7), not encoded.
	if tag := k.u32(t, kdbg+0x10); tag != 0x4742444b {
		t.Errorf("KDBG OwnerTag %#x", tag)
	}
	for _, c := range []struct {
		off  uint64
		want uint64
	}{{0x18, nt.Base}, {0x48, modules}, {0x50, active}, {0x218, nt.Sym("KiProcessorBlock")}} {
		if got := k.u64(t, kdbg+c.off); got != c.want {
			t.Errorf("KDBG+%#x = %#x, want %#x", c.off, got, c.want)
		}
	}
	// The clock: KUSER_SHARED_DATA.TickCount (0x320) and KeMaximumIncrement.
	if tc := k.u32(t, SharedUserData+0x320); tc != TickCountNow {
		t.Errorf("TickCount %d", tc)
	}
	if inc := k.u32(t, nt.Sym("KeMaximumIncrement")); inc != 156250 {
		t.Errorf("KeMaximumIncrement %d", inc)
	}
	// Modules, in load order.
	var names []string
	for _, e := range k.list(t, modules) {
		b := k.read(t, k.dtb, k.u64(t, e+0x60), int(le.Uint16(k.read(t, k.dtb, e+0x58, 2))))
		var s []rune
		for i := 0; i+1 < len(b); i += 2 {
			s = append(s, rune(le.Uint16(b[i:])))
		}
		names = append(names, string(s))
		base := k.u64(t, e+0x30)
		if k.read(t, k.dtb, base, 2)[0] != 'M' {
			t.Errorf("%s: no MZ at its base %#x", string(s), base)
		}
	}
	if got := strings.Join(names, " "); got != "ntoskrnl.exe NDIS.SYS NETIO.SYS nsiproxy.sys FooDRV.sys" {
		t.Errorf("modules: %s", got)
	}
	if b := k.u64(t, k.list(t, modules)[4]+0x30); b != 0xfffff800326d6000 {
		t.Errorf("FooDRV.sys at %#x, the seed's handlers put it at fffff800`326d6000", b)
	}
	// Processes.
	var vmms uint64
	procs := map[string]uint64{}
	for _, e := range k.list(t, active) {
		ep := e - epLinks
		name := string(bytes.TrimRight(k.read(t, k.dtb, ep+epImageName, 15), "\x00"))
		procs[fmt.Sprintf("%s.%x", name, k.u64(t, ep+epPid))] = ep
		if name == "vmms.exe" {
			vmms = ep
		}
		// The kernel half of every process's top-level table is System's.
		dtb := k.u64(t, ep+epDirBase)
		for _, va := range []uint64{nt.Base, VmmsEProcess, OwnerEvent, SharedUserData} {
			pa1, _, ok1 := k.walk(k.dtb, va)
			pa2, _, ok2 := k.walk(dtb, va)
			if !ok1 || !ok2 || pa1 != pa2 {
				t.Errorf("%s: %#x translates differently through its DirBase %#x", name, va, dtb)
			}
		}
	}
	for _, want := range []string{"System.4", "smss.exe.150", "csrss.exe.1f0", "wininit.exe.268", "services.exe.554",
		"lsass.exe.560", "vmms.exe.c08"} {
		if procs[want] == 0 {
			t.Errorf("no process %s", want)
		}
	}
	if vmms != VmmsEProcess {
		t.Fatalf("vmms.exe's EPROCESS is %#x", vmms)
	}
	if v := k.u64(t, vmms+epParent); v != 0x554 {
		t.Errorf("vmms ParentCid %#x", v)
	}
	if v := k.u64(t, vmms+epPeb); v != PEB {
		t.Errorf("vmms Peb %#x", v)
	}
	if v := k.u64(t, vmms+epDirBase); v != VmmsDirBase {
		t.Errorf("vmms DirBase %#x", v)
	}
	if v := k.u64(t, vmms+epObjectTable); v != VmmsObjTable {
		t.Errorf("vmms ObjectTable %#x", v)
	}
	// Its handle table's page is paged out, its PEB too (pagefile PTEs).
	if _, e, ok := k.walk(k.dtb, VmmsObjTable); ok || e == 0 || e&0xc00 != 0 {
		t.Errorf("vmms's handle table page: entry %#x, present %v; want a pagefile PTE", e, ok)
	}
	if _, e, ok := k.walk(VmmsDirBase, PEB); ok || e == 0 {
		t.Errorf("vmms's PEB page: entry %#x, present %v; want a pagefile PTE", e, ok)
	}
	// The owner thread, on both thread lists.
	found := 0
	for _, e := range k.list(t, vmms+epTcbThreads) {
		if e-ktThreadEntry == OwnerEThread {
			found++
		}
	}
	var tids []uint64
	for _, e := range k.list(t, vmms+epThreadList) {
		et := e - etThreadEntry
		tids = append(tids, k.u64(t, et+etCid+8))
		if et == OwnerEThread {
			found++
		}
		if k.u64(t, et+ktProcess) != vmms {
			t.Errorf("thread %#x: Tcb.Process is not vmms", et)
		}
	}
	if found != 2 || len(tids) != 183 {
		t.Fatalf("43d8 on %d of vmms's two thread lists; %d threads", found, len(tids))
	}
	for i, th := range Build().Threads {
		if tids[i] != uint64(th.ID) {
			t.Fatalf("vmms thread %d is %x in the kernel dump, %x in vmms.dmp", i, tids[i], th.ID)
		}
	}
	o := uint64(OwnerEThread)
	if pid, tid := k.u64(t, o+etCid), k.u64(t, o+etCid+8); pid != 0xc08 || tid != 0x43d8 {
		t.Errorf("Cid %x.%x", pid, tid)
	}
	if teb := k.u64(t, o+ktTeb); teb != 0x00007ff776460000 {
		t.Errorf("Teb %#x", teb)
	}
	if s, r, m := k.u8(t, o+ktState), k.u8(t, o+ktWaitReason), k.u8(t, o+ktWaitMode); s != 5 || r != 0 || m != 0 {
		t.Errorf("State %d WaitReason %d WaitMode %d, want Waiting Executive KernelMode", s, r, m)
	}
	if w, u := k.u32(t, o+ktWaitTime), k.u32(t, o+ktUserTime); w != 3667296 || u != 25 {
		t.Errorf("WaitTime %d UserTime %d", w, u)
	}
	wb := k.u64(t, o+ktWaitBlockList)
	if obj := k.u64(t, wb+wbObject); obj != OwnerEvent || k.u8(t, obj) != 0 {
		t.Errorf("waits on %#x (type %d)", obj, k.u8(t, obj))
	}
	irps := k.list(t, o+etIrpList)
	if len(irps) != 1 || irps[0]-0x20 != OwnerIrp {
		t.Fatalf("IrpList %x", irps)
	}
	if typ, size, fl := le.Uint16(k.read(t, k.dtb, OwnerIrp, 2)), le.Uint16(k.read(t, k.dtb, OwnerIrp+2, 2)), k.u32(t, OwnerIrp+0x10); typ != 6 || size != 0x118 || fl != 0x60000 {
		t.Errorf("IRP (%04x,%04x) Flags %08x", typ, size, fl)
	}
	// The owner's user side is not in the dump: its TEB page is mapped
	// (resident) but a kernel dump holds no user pages.
	if pa, _, ok := k.walk(VmmsDirBase, 0x00007ff776460000); !ok {
		t.Error("43d8's TEB is not mapped")
	} else if _, in := k.phys(pa, 8); in {
		t.Error("43d8's TEB page is in a kernel dump")
	}
	// System's thread 1114.
	sys := procs["System.4"]
	ok := false
	for _, e := range k.list(t, sys+epThreadList) {
		if e-etThreadEntry == FooEThread && k.u64(t, FooEThread+etCid+8) == 0x1114 {
			ok = true
		}
	}
	if !ok {
		t.Error("no System thread 1114 at ffffe000`7510c040")
	}
}

// TestKernelStacks unwinds the seed's two kernel stacks from the dump's
// memory, from the switch frame at KernelStack, with the images' unwind
// data, and names each frame as the seed does.
func TestKernelStacks(t *testing.T) {
	k := openRawKernel(t)
	_, list := loadKernelImages()
	// Frames are named by the symbol holding the call (the byte before a
	// return address), with the offset of the return address: a label
	// right after a call (nt's KiSystemServiceExit follows the service
	// call) names the code after it, not the caller.
	name := func(ip uint64) string {
		look := ip - 1
		for _, img := range list {
			if ip < img.Base || ip >= img.Base+uint64(img.Size) {
				continue
			}
			mod := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(img.File, ".exe"), ".SYS"), ".sys")
			if mod == "ntoskrnl" {
				mod = "nt"
			}
			if mod == "FooDRV" { // no symbols
				return fmt.Sprintf("FooDRV+0x%x", ip-img.Base)
			}
			best, bestName := uint64(0), ""
			for _, s := range img.byAddr {
				if s.addr <= look && s.addr > best {
					best, bestName = s.addr, s.name
				}
			}
			return fmt.Sprintf("%s!%s+0x%x", mod, bestName, ip-best)
		}
		return fmt.Sprintf("0x%x", ip)
	}
	unwind := func(ethread uint64) []string {
		ks := k.u64(t, ethread+ktKernelStack)
		ip, sp := k.u64(t, ks+0x38), ks+0x40
		var out []string
		for len(out) < 40 && ip >= 0xffff800000000000 {
			out = append(out, name(ip))
			var img *Image
			for _, m := range list {
				if ip >= m.Base && ip < m.Base+uint64(m.Size) {
					img = m
				}
			}
			u := img.unwindAt(ip)
			if u == nil {
				t.Fatalf("no unwind data at %#x", ip)
			}
			// Every IP here is past its function's prolog, and no frame
			// allocates below its fixed part: the codes, applied from the
			// stack pointer, give the caller's (a frame register, where set,
			// equals what the allocations give).
			codes := append([]uwCode(nil), u.codes...)
			for ch := u.chained; ch != nil; {
				p := img.decode(*ch)
				codes = append(codes, p.codes...)
				ch = p.chained
			}
			regs := map[int]uint64{}
			mach := false
			for _, c := range codes {
				switch c.op {
				case 0:
					regs[int(c.info)] = k.u64(t, sp)
					sp += 8
				case 1, 2:
					sp += uint64(c.operand)
				case 10:
					ip, sp = k.u64(t, sp), k.u64(t, sp+0x18)
					mach = true
				}
			}
			if mach {
				out = append(out, fmt.Sprintf("user %#x", ip))
				break
			}
			ip = k.u64(t, sp)
			sp += 8
		}
		return out
	}
	owner := unwind(OwnerEThread)
	seed := []string{"nt!KiSwapContext", "nt!KiSwapThread", "nt!KiCommitThreadWait", "nt!KeWaitForSingleObject",
		"NDIS!ndisQuerySetMiniportEx", "NDIS!ndisQuerySetMiniport", "NDIS!ndisIfGetMiniportStatistics",
		"NDIS!ndisIfQueryFilterObject", "NDIS!ndisIfQueryObject", "NDIS!ndisNsiGetInterfaceRodInformation",
		"NDIS!ndisNsiGetAllInterfaceInformation", "NETIO!NsiEnumerateObjectsAllParametersEx",
		"nsiproxy!NsippEnumerateObjectsAllParameters", "nsiproxy!NsippDispatch", "nt!IopSynchronousServiceTail",
		"nt!IopXxxControlFile", "nt!NtDeviceIoControlFile", "nt!KiSystemServiceCopyEnd"}
	if len(owner) != len(seed)+1 {
		t.Fatalf("43d8's stack:\n%s", strings.Join(owner, "\n"))
	}
	for i, s := range seed {
		if !strings.HasPrefix(owner[i], s+"+") {
			t.Errorf("43d8 frame %d is %s, the seed's is %s", i, owner[i], s)
		}
	}
	if owner[len(seed)] != "user 0x7fff97c3124a" {
		t.Errorf("43d8's trap frame returns to %s, vmms.dmp's thread 20 is at 00007fff`97c3124a", owner[len(seed)])
	}
	foo := unwind(FooEThread)
	want := []string{"nt!KiSwapContext+0x76", "nt!KiSwapThread+0x14e", "nt!KiCommitThreadWait+0x129",
		"nt!KeWaitForSingleObject+0x373", "NDIS!NdisMSleep+0x59", "FooDRV+0x8ccbb", "FooDRV+0x8bc8b", "FooDRV+0x70d79",
		"FooDRV+0x14696", "nt!IopProcessWorkItem+0x80", "nt!ExpWorkerThread+0x69f", "nt!PspSystemThreadStartup+0x58",
		"nt!KiStartSystemThread+0x16"}
	if got := strings.Join(foo, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("1114's stack:\n%s\nthe seed's !stacks:\n%s", got, strings.Join(want, "\n"))
	}
}

// TestKernelOwnerStackGap reports what 43d8's stack needs: the seed puts its
// event at ffffd001`b8931ed0, ndisQuerySetMiniportEx keeps it at its
// Child-SP+0x28, and with the frames of the images as built that leaves
// more than the XSAVE area every other thread has between InitialStack and
// StackBase.
func TestKernelOwnerStackGap(t *testing.T) {
	ndis, err := LoadImage("NDIS.SYS", "")
	if err != nil {
		t.Fatal(err)
	}
	k := BuildKernel()
	for _, p := range k.Procs {
		for _, th := range p.Threads {
			for _, f := range th.Frames {
				if f.SP&0xf != 0 {
					t.Errorf("thread %x: %s's Child-SP %#x is not 16-byte aligned", th.TID, f.Function, f.SP)
				}
			}
			if th.TID != OwnerTID {
				continue
			}
			for _, f := range th.Frames {
				if f.Function == "ndisQuerySetMiniportEx" {
					if d := waitObjectDisp(ndis, f.Function, f.IP); d&0xf != 0 {
						t.Logf("43d8: ndisQuerySetMiniportEx keeps request.Event at Child-SP+%#x, which cannot be the "+
							"16-aligned ffffd001`b8931ed0 with an aligned stack; the writer puts it at +%#x", d, ownerEventDisp(ndis, f.Function, f.IP))
					}
				}
			}
		}
	}
	for _, p := range k.Procs {
		for _, th := range p.Threads {
			gap := th.StackBase - th.InitialStack
			if th.TID == OwnerTID && gap != xsaveSize {
				t.Logf("43d8: StackBase-InitialStack is %#x, not %#x: the frames between its trap frame and "+
					"ndisQuerySetMiniportEx are %#x bytes short of putting the event at the seed's address below a "+
					"page-aligned StackBase", gap, xsaveSize, gap-xsaveSize)
			} else if th.TID != OwnerTID && gap != xsaveSize {
				t.Errorf("thread %x: StackBase-InitialStack %#x", th.TID, gap)
			}
			if th.StackBase&0xfff != 0 {
				t.Errorf("thread %x: StackBase %#x", th.TID, th.StackBase)
			}
		}
	}
}
