package hyperv

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The committed dump must be what the writer produces now.
func TestDumpUpToDate(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(ScenarioDir(), "vmms.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	if got := Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("vmms.dmp is stale (%d bytes written, %d committed): run go generate ./testdata/gen/hyperv", len(got), len(want))
	}
}

// The committed images, PDBs, maps and call lists are the ones SHA256SUMS names.
func TestBinHashes(t *testing.T) {
	sums, err := os.ReadFile(filepath.Join(ScenarioDir(), "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		f := strings.Fields(l)
		data, err := os.ReadFile(filepath.Join(ScenarioDir(), "bin", f[1]))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(data)); got != f[0] {
			t.Errorf("bin/%s: sha256 %s, SHA256SUMS says %s", f[1], got, f[0])
		}
	}
}

// rawDump is a small independent decoder of the few structures the checks
// below need (it shares nothing with mdw or with ntdbg's readers).
type rawDump struct {
	b       []byte
	streams map[uint32][2]uint32 // type -> size, rva
	mem     [][3]uint64          // start, size, file offset
}

func decode(t *testing.T, b []byte) *rawDump {
	t.Helper()
	le := binary.LittleEndian
	if le.Uint32(b) != 0x504D444D {
		t.Fatal("no MDMP signature")
	}
	d := &rawDump{b: b, streams: map[uint32][2]uint32{}}
	n, dir := le.Uint32(b[8:]), le.Uint32(b[12:])
	for i := uint32(0); i < n; i++ {
		e := b[dir+12*i:]
		if typ := le.Uint32(e); typ != 0 {
			d.streams[typ] = [2]uint32{le.Uint32(e[4:]), le.Uint32(e[8:])}
		}
	}
	m, ok := d.streams[9]
	if !ok {
		t.Fatal("no Memory64List")
	}
	s := b[m[1]:]
	count, off := le.Uint64(s), le.Uint64(s[8:])
	for i := uint64(0); i < count; i++ {
		start, size := le.Uint64(s[16+16*i:]), le.Uint64(s[24+16*i:])
		d.mem = append(d.mem, [3]uint64{start, size, off})
		off += size
	}
	return d
}

func (d *rawDump) read(t *testing.T, addr uint64, n int) []byte {
	t.Helper()
	for _, r := range d.mem {
		if addr >= r[0] && addr+uint64(n) <= r[0]+r[1] {
			o := r[2] + addr - r[0]
			return d.b[o : o+uint64(n)]
		}
	}
	t.Fatalf("%#x+%#x is not in the dump", addr, n)
	return nil
}

func (d *rawDump) u64(t *testing.T, addr uint64) uint64 {
	return binary.LittleEndian.Uint64(d.read(t, addr, 8))
}

func (d *rawDump) u32(t *testing.T, addr uint64) uint32 {
	return binary.LittleEndian.Uint32(d.read(t, addr, 4))
}

func committed(t *testing.T) *rawDump {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ScenarioDir(), "vmms.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, b)
}

func TestThreadList(t *testing.T) {
	d := committed(t)
	le := binary.LittleEndian
	tl := d.streams[3]
	s := d.b[tl[1]:]
	n := le.Uint32(s)
	if n != 183 || tl[0] != 4+183*0x30 {
		t.Fatalf("%d threads in a %#x-byte stream, want 183", n, tl[0])
	}
	seed := map[int][2]uint64{0: {0xc0c, 0x7ff7765ae000}, 1: {0xc34, 0x7ff7765a9000}, 20: {0x43d8, 0x7ff776460000},
		181: {0x36a0, 0x7ff776360000}, 182: {0x4c10, 0x7ff77633a000}}
	ids, tebs := map[uint32]bool{}, map[uint64]bool{}
	for i := 0; i < int(n); i++ {
		e := s[4+0x30*i:]
		id, suspend, teb := le.Uint32(e), le.Uint32(e[4:]), le.Uint64(e[16:])
		if want, ok := seed[i]; ok && (uint64(id) != want[0] || teb != want[1]) {
			t.Errorf("thread %d: id %x teb %x, the seed shows %x %x", i, id, teb, want[0], want[1])
		}
		if suspend != 0 || ids[id] || tebs[teb] || teb&0xfff != 0 {
			t.Errorf("thread %d: suspend %d, id %x, teb %x (duplicate or unaligned?)", i, suspend, id, teb)
		}
		ids[id], tebs[teb] = true, true
		// The TEB: NT_TIB.Self, ClientId and the PEB pointer.
		if d.u64(t, teb+0x30) != teb || d.u64(t, teb+0x40) != PID || d.u64(t, teb+0x48) != uint64(id) || d.u64(t, teb+0x60) != PEB {
			t.Errorf("thread %d: TEB %x does not describe it", i, teb)
		}
		stackBase, stackLimit := d.u64(t, teb+8), d.u64(t, teb+0x10)
		ctx := d.b[le.Uint32(e[0x2c:]):]
		rsp, rip := le.Uint64(ctx[0x98:]), le.Uint64(ctx[0xf8:])
		if rsp < stackLimit || rsp >= stackBase || le.Uint64(e[0x18:]) != rsp {
			t.Errorf("thread %d: rsp %x outside its stack %x-%x or the stack descriptor", i, rsp, stackLimit, stackBase)
		}
		if i == OwnerIdx {
			if rip != 0x7fff97c3124a || d.read(t, rip, 1)[0] != 0xc3 {
				t.Errorf("owner rip %x, want 00007fff`97c3124a (ret)", rip)
			}
		}
	}
	ti := d.streams[17]
	if s := d.b[ti[1]:]; le.Uint32(s[8:]) != 183 || le.Uint32(s[4:]) != 0x40 {
		t.Error("ThreadInfoList does not hold 183 entries")
	}
	if d.streams[6] != [2]uint32{} {
		t.Error("the dump has an exception stream")
	}
	for _, typ := range []uint32{3, 4, 7, 9, 12, 14, 15, 16, 17} {
		if _, ok := d.streams[typ]; !ok {
			t.Errorf("stream %d missing", typ)
		}
	}
	si := d.b[d.streams[7][1]:]
	if le.Uint16(si) != 9 || si[7] != 3 || le.Uint32(si[8:]) != 6 || le.Uint32(si[12:]) != 3 || le.Uint32(si[16:]) != 9600 {
		t.Error("SystemInfo is not Windows Server 2012 R2 x64")
	}
	if misc := d.b[d.streams[15][1]:]; le.Uint32(misc[8:]) != PID || le.Uint32(misc[4:])&3 != 3 {
		t.Error("MiscInfo lacks the process id or times")
	}
}

func TestCriticalSections(t *testing.T) {
	d := committed(t)
	sc := Build()
	cs := d.read(t, VmLock, 0x28)
	le := binary.LittleEndian
	if le.Uint64(cs) != VmDebug || int32(le.Uint32(cs[8:])) != VmLockCount || le.Uint32(cs[12:]) != 1 ||
		le.Uint64(cs[16:]) != OwnerTID || le.Uint64(cs[24:]) != 0x1b48 || le.Uint64(cs[32:]) != 0x20007d0 {
		t.Errorf("the VM lock is % x", cs)
	}
	lc := int32(le.Uint32(cs[8:]))
	if lc&1 != 0 || lc&2 == 0 || (-1-lc)>>2 != 0x68 {
		t.Errorf("LockCount %d does not decode as locked, no waiter woken, 0x68 waiters", lc)
	}
	dbg := d.read(t, VmDebug, 0x30)
	if le.Uint64(dbg[8:]) != VmLock || le.Uint64(dbg[0x10:]) != 0x92d2fc01a0 || le.Uint64(dbg[0x18:]) != 0x92d31a0e20 ||
		le.Uint32(dbg[0x24:]) != 0xa27 || le.Uint32(dbg[0x20:]) != 0 || le.Uint32(dbg[0x28:]) != 0 {
		t.Errorf("the VM lock's debug block is % x", dbg)
	}
	// Walk RtlCriticalSectionList both ways.
	head := sc.Images["ntdll.dll"].Sym("RtlCriticalSectionList")
	var fwd []uint64
	for e := d.u64(t, head); e != head; e = d.u64(t, e) {
		if d.u64(t, d.u64(t, e+8)) != e {
			t.Fatalf("list entry %x: Blink->Flink does not come back", e)
		}
		fwd = append(fwd, e-0x10)
		if len(fwd) > 100 {
			t.Fatal("list does not end")
		}
	}
	var want []uint64
	for _, s := range sc.Sections {
		if s.InList {
			want = append(want, s.DebugInfo)
		}
		if d.u64(t, s.Addr) != s.DebugInfo || int32(d.u32(t, s.Addr+8)) != s.LockCount || d.u64(t, s.Addr+0x10) != uint64(s.Owner) {
			t.Errorf("section %x: DebugInfo %x LockCount %d owner %x, want %x %d %x", s.Addr, d.u64(t, s.Addr),
				int32(d.u32(t, s.Addr+8)), d.u64(t, s.Addr+0x10), s.DebugInfo, s.LockCount, s.Owner)
		}
	}
	if fmt.Sprint(fwd) != fmt.Sprint(want) {
		t.Errorf("list holds %x, want %x", fwd, want)
	}
	for _, db := range fwd {
		if addr := d.u64(t, db+8); d.u64(t, addr) != db {
			t.Errorf("debug block %x: its section %x does not point back", db, addr)
		}
	}
	locked := 0
	for _, db := range fwd {
		if int32(d.u32(t, d.u64(t, db+8)+8))&1 == 0 {
			locked++
		}
	}
	if locked != 1 {
		t.Errorf("%d listed sections are locked, the seed's !cs shows 1", locked)
	}
}

func TestStacks(t *testing.T) {
	sc := Build()
	d := committed(t)
	waiters, chains := 0, map[string]int{}
	for _, th := range sc.Threads {
		var names []string
		waits := false
		for _, f := range th.Frames {
			names = append(names, f.Module+"!"+f.Function)
			if f.Function == "RtlpWaitOnCriticalSection" {
				waits = true
				if f.Regs[RSI] != VmLock {
					t.Errorf("thread %d: RtlpWaitOnCriticalSection's rsi %x", th.Index, f.Regs[RSI])
				}
			}
		}
		if waits {
			waiters++
			chains[strings.Join(names, " ")]++
		}
		if names[len(names)-1] != "ntdll.dll!RtlUserThreadStart" {
			t.Errorf("thread %d ends in %s", th.Index, names[len(names)-1])
		}
		// Each frame's return address sits just above the frame's callee.
		for k := 0; k+1 < len(th.Frames); k++ {
			inner, outer := th.Frames[k], th.Frames[k+1]
			if inner.Ret != outer.IP {
				t.Errorf("thread %d frame %d: return address %x, caller IP %x", th.Index, k, inner.Ret, outer.IP)
			}
		}
	}
	if waiters != 104 || len(chains) < 4 {
		t.Errorf("%d waiters over %d call chains, want 104 over at least 4", waiters, len(chains))
	}
	owner := sc.Threads[OwnerIdx]
	seed := []string{"NtDeviceIoControlFile", "NsiAllocateAndGetTable", "InternalGetIfTable2Ex", "VmNetworkInterfaceTable",
		"NvspWmiINetCfgHelper", "NetConfigHelper", "NvspWmiUtility", "GetLogicalAdapterInternal@VmEthernetSwitchPort",
		"GetConnectedLogicalAdapter@VmEthernetSwitchPort", "GetExternalSwitchAdapter@", "GetExternalSwitchAdapterStatusInternal",
		"GetSwitchStatus", "VmEthernetConnectionProvider", "VmmsRealizedVirtualMachine", "IsVmHealthy@VmmsClusterManager",
		"IsVmHealthy@ComVmmsClusterManager", "Invoke", "Ndr64StubWorker", "NdrStubCall3"}
	for k, s := range seed {
		if !strings.Contains(owner.Frames[k].Function, s) {
			t.Errorf("owner frame %02x is %s, the seed has %s", k, owner.Frames[k].Function, s)
		}
	}
	// Each return address is in the dump just below its caller's frame.
	for _, th := range sc.Threads {
		for k := 1; k < len(th.Frames); k++ {
			if got := d.u64(t, th.Frames[k].SP-8); got != th.Frames[k-1].Ret {
				t.Errorf("thread %d frame %d: [%x] = %x, want %x", th.Index, k, th.Frames[k].SP-8, got, th.Frames[k-1].Ret)
			}
		}
	}
}

// lldb.txt (lldb 14 on the committed dump) lists the same threads, in the
// same order with the same program counters, and walks thread 20 through
// the frames the writer laid out.
func TestLLDBAgrees(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(ScenarioDir(), "lldb.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sc := Build()
	var tids, pcs, bt []uint64
	inBT := false
	for _, l := range strings.Split(string(data), "\n") {
		var n int
		var tid, pc uint64
		if _, err := fmt.Sscanf(strings.TrimLeft(l, " *"), "thread #%d: tid = 0x%x, 0x%x", &n, &tid, &pc); err == nil {
			tids, pcs = append(tids, tid), append(pcs, pc)
		}
		if strings.HasPrefix(l, "(lldb) bt") {
			inBT = true
		}
		if _, err := fmt.Sscanf(strings.TrimLeft(l, " *"), "frame #%d: 0x%x", &n, &pc); err == nil && inBT {
			bt = append(bt, pc)
		}
	}
	if len(tids) != len(sc.Threads) {
		t.Fatalf("lldb lists %d threads, the dump has %d", len(tids), len(sc.Threads))
	}
	for i, th := range sc.Threads {
		if tids[i] != uint64(th.ID) || pcs[i] != th.Frames[0].IP {
			t.Errorf("lldb thread #%d: tid %x pc %x, want %x %x", i+1, tids[i], pcs[i], th.ID, th.Frames[0].IP)
		}
	}
	owner := sc.Threads[OwnerIdx].Frames
	if len(bt) != len(owner) {
		t.Fatalf("lldb walks %d frames of thread 20, the writer laid %d", len(bt), len(owner))
	}
	for k, f := range owner {
		if bt[k] != f.IP {
			t.Errorf("thread 20 frame %d: lldb %x, laid out %x (%s)", k, bt[k], f.IP, f.Function)
		}
	}
}
