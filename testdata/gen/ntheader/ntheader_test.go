package main

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
	"github.com/ntdbg/ntdbg/engine/types"
	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

const isfRel = "isf/symbols/windows/ntkrnlmp.pdb/22597D0B40394E23936F6A24C6C52D5B-1.json.xz"

func scenarioDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scenarios", "hyperv-hang")
}

func loadISF(t *testing.T) *isfFile {
	t.Helper()
	path := filepath.Join(rd.Root(), isfRel)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not present (../shared/realdumps is not checked in)", isfRel)
	}
	f, err := readISF(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The committed header is what the generator writes from the ISF.
func TestHeaderUpToDate(t *testing.T) {
	f := loadISF(t)
	got, err := Generate(f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(scenarioDir(), "ksrc", "nt9600.h"))
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatal("ksrc/nt9600.h is stale: run go run ./testdata/gen/ntheader")
	}
}

// pdbMember is one member as the PDB describes it.
type pdbMember struct {
	off            uint64
	size           uint64 // bytes of the member's type (a bit field's: its unit)
	bitPos, bitLen int64  // -1 unless a bit field
}

func pdbTypeSize(tt *pdb.TypeTable, ti uint32) uint64 {
	if ti < 0x1000 {
		return types.SimpleTypeSize(ti)
	}
	ty, err := tt.Type(ti)
	if err != nil {
		return 0
	}
	switch ty.Leaf {
	case pdb.LF_POINTER:
		if n := ty.PointerSize(); n != 0 {
			return n
		}
		return 8
	case pdb.LF_MODIFIER, pdb.LF_BITFIELD, pdb.LF_ENUM:
		return pdbTypeSize(tt, ty.Elem)
	case pdb.LF_ARRAY:
		return ty.Size
	}
	if ty.IsUDT() {
		return tt.Resolve(ty).Size
	}
	return 0
}

func pdbMembers(t *testing.T, tt *pdb.TypeTable, name string) (map[string]pdbMember, uint64) {
	t.Helper()
	ty, err := tt.FindUDT(name)
	if err != nil {
		t.Fatalf("ntkrnlmp.pdb: %v", err)
	}
	ms, err := tt.Fields(ty.FieldList)
	if err != nil {
		t.Fatalf("ntkrnlmp.pdb %s: %v", name, err)
	}
	out := map[string]pdbMember{}
	for _, m := range ms {
		if m.Leaf != pdb.LF_MEMBER {
			continue
		}
		pm := pdbMember{off: m.Offset, size: pdbTypeSize(tt, m.Type), bitPos: -1, bitLen: -1}
		if m.Type >= 0x1000 {
			if bt, err := tt.Type(m.Type); err == nil && bt.Leaf == pdb.LF_BITFIELD {
				pm.bitPos, pm.bitLen = int64(bt.BitPos), int64(bt.BitLen)
			}
		}
		if _, dup := out[m.Name]; dup {
			t.Errorf("%s: member %s twice", name, m.Name)
		}
		out[m.Name] = pm
	}
	return out, ty.Size
}

// compare checks the PDB's members of pdbName against the ISF's fields of
// isfName: the same names, offsets and sizes (bit fields: position and
// length too), the same size, and no other members.
func compare(t *testing.T, f *isfFile, tt *pdb.TypeTable, pdbName, isfName string) int {
	t.Helper()
	u := f.UserTypes[isfName]
	if u == nil {
		t.Fatalf("the ISF has no %s", isfName)
	}
	got, size := pdbMembers(t, tt, pdbName)
	if int64(size) != u.Size {
		t.Errorf("%s: sizeof 0x%x, the ISF says 0x%x", pdbName, size, u.Size)
	}
	names := sortedKeys(u.Fields)
	n := 0
	for _, name := range names {
		fl := u.Fields[name]
		m, ok := got[name]
		if !ok {
			t.Errorf("%s.%s (+0x%x) is not in the PDB", pdbName, name, fl.Offset)
			continue
		}
		n++
		want := pdbMember{off: uint64(fl.Offset), size: uint64(f.sizeOf(fl.Type)), bitPos: -1, bitLen: -1}
		if fl.Type.Kind == "bitfield" {
			want.bitPos, want.bitLen = fl.Type.BitPosition, fl.Type.BitLength
		}
		if m != want {
			t.Errorf("%s.%s: PDB {off 0x%x size %d bits %d:%d}, ISF {off 0x%x size %d bits %d:%d}", pdbName, name,
				m.off, m.size, m.bitPos, m.bitLen, want.off, want.size, want.bitPos, want.bitLen)
		}
	}
	for name := range got {
		if _, ok := u.Fields[name]; !ok {
			t.Errorf("%s.%s is in the PDB, not in the ISF", pdbName, name)
		}
	}
	return n
}

func openKernelPDB(t *testing.T) *pdb.TypeTable {
	t.Helper()
	p, err := pdb.Open(filepath.Join(scenarioDir(), "bin", "ntkrnlmp.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	tt, err := p.TPI()
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// Every field the kernel walkers read has the real 9600 kernel's name,
// offset and size in the scenario's ntkrnlmp.pdb; so has every other
// structure the header takes from the ISF.
func TestKernelPDBMatchesISF(t *testing.T) {
	f := loadISF(t)
	tt := openKernelPDB(t)
	for _, name := range []string{"_EPROCESS", "_KPROCESS", "_ETHREAD", "_KTHREAD", "_KWAIT_BLOCK",
		"_DISPATCHER_HEADER", "_IRP", "_LDR_DATA_TABLE_ENTRY"} {
		if n := compare(t, f, tt, name, name); n < 3 {
			t.Errorf("%s: only %d fields compared", name, n)
		}
	}
	// The 9600 ISF has no _KLDR_DATA_TABLE_ENTRY. Up to Flags it is laid out
	// as _LDR_DATA_TABLE_ENTRY (formats-spec 6.7): those fields must agree.
	kldr, _ := pdbMembers(t, tt, "_KLDR_DATA_TABLE_ENTRY")
	ldr := f.UserTypes["_LDR_DATA_TABLE_ENTRY"]
	for _, name := range []string{"InLoadOrderLinks", "DllBase", "EntryPoint", "SizeOfImage", "FullDllName",
		"BaseDllName", "Flags"} {
		fl, m := ldr.Fields[name], kldr[name]
		if fl == nil || m.off != uint64(fl.Offset) || m.size != uint64(f.sizeOf(fl.Type)) {
			t.Errorf("_KLDR_DATA_TABLE_ENTRY.%s: PDB %+v, _LDR_DATA_TABLE_ENTRY's %+v", name, m, fl)
		}
	}
	g, err := Generate(f) // for the list of types the header defines
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, line := range strings.Split(g, "\n") {
		var name string
		if s, ok := strings.CutPrefix(line, "struct "); ok && strings.HasSuffix(s, " {") {
			name = strings.TrimSuffix(s, " {")
		} else if s, ok := strings.CutPrefix(line, "union "); ok && strings.HasSuffix(s, " {") {
			name = strings.TrimSuffix(s, " {")
		}
		if name == "" || f.UserTypes[name] == nil || isUnnamed(name) {
			continue
		}
		compare(t, f, tt, name, name)
		checked++
	}
	if checked < 100 {
		t.Errorf("only %d structures of the header checked", checked)
	}
}

// The seed's kernel call chains, from the committed maps and call lists:
// each function calls the next and returns where the seed says.
func TestKernelCallChains(t *testing.T) {
	bin := filepath.Join(scenarioDir(), "bin")
	type image struct {
		base  uint64
		syms  map[string]uint64
		imps  map[uint64]string
		calls [][3]string
		addrs []uint64
	}
	load := func(file string) *image {
		img := &image{syms: map[string]uint64{}, imps: map[uint64]string{}}
		fh, err := os.Open(filepath.Join(bin, strings.TrimSuffix(file, filepath.Ext(file))+".map"))
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			l := sc.Text()
			if s, ok := strings.CutPrefix(strings.TrimSpace(l), "Preferred load address is "); ok {
				img.base, _ = strconv.ParseUint(s, 16, 64)
			}
			fs := strings.Fields(l)
			if len(fs) < 4 || !strings.Contains(fs[0], ":") || len(fs[2]) != 16 {
				continue
			}
			va, err := strconv.ParseUint(fs[2], 16, 64)
			if err != nil {
				continue
			}
			if lib, _, imported := strings.Cut(fs[3], ":"); imported && lib != "" {
				if n, ok := strings.CutPrefix(fs[1], "__imp_"); ok {
					img.imps[va] = n
				}
				continue
			}
			img.syms[fs[1]] = va
			img.addrs = append(img.addrs, va)
		}
		sort.Slice(img.addrs, func(i, j int) bool { return img.addrs[i] < img.addrs[j] })
		data, err := os.ReadFile(filepath.Join(bin, file+".calls"))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			fs := strings.Fields(l)
			if len(fs) != 3 {
				t.Fatalf("%s.calls: bad line %q", file, l)
			}
			img.calls = append(img.calls, [3]string{fs[0], fs[1], fs[2]})
		}
		return img
	}
	mods := map[string]*image{"nt": load("ntoskrnl.exe"), "NETIO": load("NETIO.SYS"), "NDIS": load("NDIS.SYS"),
		"nsiproxy": load("nsiproxy.sys"), "FooDRV": load("FooDRV.sys")}
	hex := func(s string) uint64 { v, _ := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64); return v }
	// ret: the return address as an offset from the caller (or, for
	// FooDRV, an offset from the image base); 0 when the seed shows none.
	check := func(cm, cf string, ret uint64, tm, tf, kind string) {
		c, callee := mods[cm], mods[tm]
		start, ok := c.syms[cf]
		if !ok {
			t.Fatalf("%s has no %s", cm, cf)
		}
		end := start + 0x10000
		for _, a := range c.addrs {
			if a > start {
				end = a
				break
			}
		}
		var rets []uint64
		for _, cl := range c.calls {
			at, target := hex(cl[0]), cl[2]
			if at < start || at >= end {
				continue
			}
			var hit bool
			switch kind {
			case "direct":
				hit = strings.HasPrefix(target, "0x") && hex(target) == callee.syms[tf]
			case "import":
				hit = strings.HasPrefix(target, "*0x") && c.imps[hex(target[1:])] == tf
			default:
				hit = !strings.HasPrefix(target, "0x") && (!strings.HasPrefix(target, "*0x") || c.imps[hex(target[1:])] == "")
			}
			if hit {
				rets = append(rets, hex(cl[1]))
			}
		}
		if len(rets) == 0 || (kind == "indirect" && len(rets) != 1) {
			t.Errorf("%s!%s: %d %s calls to %s!%s", cm, cf, len(rets), kind, tm, tf)
			return
		}
		if ret == 0 {
			return
		}
		from := start
		if cm == "FooDRV" {
			from = c.base
		}
		for _, r := range rets {
			if r-from == ret {
				return
			}
		}
		t.Errorf("%s!%s calls %s!%s returning to %#x, want +%#x", cm, cf, tm, tf, rets[0], ret)
	}
	check("nt", "KiSwapContext", 0x76, "nt", "SwapContext", "direct")
	check("nt", "KiSwapThread", 0x14e, "nt", "KiSwapContext", "direct")
	check("nt", "KiCommitThreadWait", 0x129, "nt", "KiSwapThread", "direct")
	check("nt", "KeWaitForSingleObject", 0x373, "nt", "KiCommitThreadWait", "direct")
	check("NDIS", "ndisQuerySetMiniportEx", 0, "nt", "KeWaitForSingleObject", "import")
	check("NDIS", "ndisQuerySetMiniport", 0, "NDIS", "ndisQuerySetMiniportEx", "direct")
	check("NDIS", "ndisIfGetMiniportStatistics", 0, "NDIS", "ndisQuerySetMiniport", "direct")
	check("NDIS", "ndisIfQueryFilterObject", 0, "NDIS", "ndisIfGetMiniportStatistics", "direct")
	check("NDIS", "ndisIfQueryObject", 0, "NDIS", "ndisIfQueryFilterObject", "direct")
	check("NDIS", "ndisNsiGetInterfaceRodInformation", 0, "NDIS", "ndisIfQueryObject", "direct")
	check("NDIS", "ndisNsiGetAllInterfaceInformation", 0, "NDIS", "ndisNsiGetInterfaceRodInformation", "direct")
	check("NETIO", "NsiEnumerateObjectsAllParametersEx", 0, "NDIS", "ndisNsiGetAllInterfaceInformation", "indirect")
	check("nsiproxy", "NsippEnumerateObjectsAllParameters", 0, "NETIO", "NsiEnumerateObjectsAllParametersEx", "import")
	check("nsiproxy", "NsippDispatch", 0, "nsiproxy", "NsippEnumerateObjectsAllParameters", "direct")
	check("nt", "IopSynchronousServiceTail", 0, "nsiproxy", "NsippDispatch", "indirect")
	check("nt", "IopXxxControlFile", 0, "nt", "IopSynchronousServiceTail", "direct")
	check("nt", "NtDeviceIoControlFile", 0, "nt", "IopXxxControlFile", "direct")
	check("nt", "KiSystemServiceCopyEnd", 0x13, "nt", "NtDeviceIoControlFile", "indirect")
	check("NDIS", "NdisMSleep", 0x59, "nt", "KeWaitForSingleObject", "import")
	check("FooDRV", "FooHwWaitForIdle", 0x8ccbb, "NDIS", "NdisMSleep", "import")
	check("FooDRV", "FooHwRestoreReceiveFilters", 0x8bc8b, "FooDRV", "FooHwWaitForIdle", "direct")
	check("FooDRV", "FooHwResetAdapter", 0x70d79, "FooDRV", "FooHwRestoreReceiveFilters", "direct")
	check("FooDRV", "FooResetWorkItem", 0x14696, "FooDRV", "FooHwResetAdapter", "direct")
	check("nt", "IopProcessWorkItem", 0x80, "FooDRV", "FooResetWorkItem", "indirect")
	check("nt", "ExpWorkerThread", 0x69f, "nt", "IopProcessWorkItem", "indirect")
	check("nt", "PspSystemThreadStartup", 0x58, "nt", "ExpWorkerThread", "indirect")
	check("nt", "KiStartSystemThread", 0x16, "nt", "PspSystemThreadStartup", "direct")
	foo := mods["FooDRV"]
	for fn, rva := range map[string]uint64{"FooMiniportInitializeEx": 0x3cfc0, "FooMiniportSetOptions": 0x75b10} {
		if got := foo.syms[fn] - foo.base; got != rva {
			t.Errorf("FooDRV!%s at +%#x, want +%#x", fn, got, rva)
		}
	}
}
