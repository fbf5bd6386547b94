package pdb

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

var realdumps = rd.Root()

// pdbutilFacts is what `llvm-pdbutil dump -summary -publics -types` printed
// for a PDB (testdata/peer/pdbutil, made with Debian's llvm-pdbutil 14).
type pdbutilFacts struct {
	guid    string
	age     uint32
	publics []string // "name seg:off"
	udts    map[uint32]udtFact
	lists   map[uint32]*listFact
	err     string
}

type udtFact struct {
	name  string
	size  uint64
	list  uint32
	fwd   bool
	union bool
}

type listFact struct {
	members []string // "name@offset"
	next    uint32   // LF_INDEX continuation
}

var (
	reGUID    = regexp.MustCompile(`^\s+GUID: \{([0-9A-F-]+)\}`)
	reAge     = regexp.MustCompile(`^\s+Age: (\d+)`)
	rePub     = regexp.MustCompile("^\\s+\\d+ \\| S_PUB32 \\[size = \\d+\\] `(.*)`$")
	reAddr    = regexp.MustCompile(`addr = (\d+):(\d+)`)
	reTypeHdr = regexp.MustCompile("^\\s+0x([0-9A-F]+) \\| (LF_\\w+) \\[size = \\d+\\](?: `(.*)`)?$")
	reFieldL  = regexp.MustCompile(`field list: (0x[0-9A-F]+|<no type>)`)
	reSizeof  = regexp.MustCompile(`sizeof (\d+)`)
	reMember  = regexp.MustCompile("- LF_MEMBER \\[name = `(.*)`, Type = .*, offset = (\\d+), attrs")
	reIndex   = regexp.MustCompile(`- LF_INDEX \[continuation = (0x[0-9A-F]+)\]`)
)

func loadFacts(t *testing.T, path string) *pdbutilFacts {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	f := &pdbutilFacts{udts: map[uint32]udtFact{}, lists: map[uint32]*listFact{}}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var pendingPub string
	var cur uint32
	var curLeaf string
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "llvm-pdbutil:") {
			f.err = l
		}
		if m := reGUID.FindStringSubmatch(l); m != nil {
			f.guid = strings.ReplaceAll(m[1], "-", "")
		}
		if m := reAge.FindStringSubmatch(l); m != nil && f.age == 0 {
			v, _ := strconv.ParseUint(m[1], 10, 32)
			f.age = uint32(v)
		}
		if m := rePub.FindStringSubmatch(l); m != nil {
			pendingPub = m[1]
			continue
		}
		if pendingPub != "" {
			if m := reAddr.FindStringSubmatch(l); m != nil {
				seg, _ := strconv.ParseUint(m[1], 10, 16)
				off, _ := strconv.ParseUint(m[2], 10, 32)
				f.publics = append(f.publics, fmt.Sprintf("%s %d:%d", pendingPub, seg, off))
			}
			pendingPub = ""
		}
		if m := reTypeHdr.FindStringSubmatch(l); m != nil {
			v, _ := strconv.ParseUint(m[1], 16, 32)
			cur, curLeaf = uint32(v), m[2]
			switch curLeaf {
			case "LF_STRUCTURE", "LF_CLASS", "LF_UNION", "LF_INTERFACE":
				f.udts[cur] = udtFact{name: m[3], union: curLeaf == "LF_UNION"}
			case "LF_FIELDLIST":
				f.lists[cur] = &listFact{}
			}
			continue
		}
		switch curLeaf {
		case "LF_STRUCTURE", "LF_CLASS", "LF_UNION", "LF_INTERFACE":
			u := f.udts[cur]
			if m := reFieldL.FindStringSubmatch(l); m != nil && m[1] != "<no type>" {
				v, _ := strconv.ParseUint(m[1][2:], 16, 32)
				u.list = uint32(v)
			}
			if strings.Contains(l, "forward ref") {
				u.fwd = true
			}
			if m := reSizeof.FindStringSubmatch(l); m != nil {
				u.size, _ = strconv.ParseUint(m[1], 10, 64)
			}
			f.udts[cur] = u
		case "LF_FIELDLIST":
			if m := reMember.FindStringSubmatch(l); m != nil {
				f.lists[cur].members = append(f.lists[cur].members, m[1]+"@"+m[2])
			}
			if m := reIndex.FindStringSubmatch(l); m != nil {
				v, _ := strconv.ParseUint(m[1][2:], 16, 32)
				f.lists[cur].next = uint32(v)
			}
		}
	}
	return f
}

func (f *pdbutilFacts) members(list uint32) []string {
	var out []string
	for seen := map[uint32]bool{}; list != 0 && !seen[list]; {
		seen[list] = true
		l := f.lists[list]
		if l == nil {
			break
		}
		out = append(out, l.members...)
		list = l.next
	}
	return out
}

func openPDB(t testing.TB, path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%s not present", path)
	}
	return NewFile(bytes.NewReader(data), int64(len(data)))
}

// TestAgainstLLVMPdbutil checks every PDB in ../shared/realdumps against
// llvm-pdbutil: GUID and age, every public's name and section:offset, and
// the size and member offsets of every structure, class and union.
func TestAgainstLLVMPdbutil(t *testing.T) {
	facts, _ := filepath.Glob("../../testdata/peer/pdbutil/*.txt.gz")
	if len(facts) < 30 {
		t.Fatalf("only %d pdbutil outputs", len(facts))
	}
	for _, fp := range facts {
		base := strings.TrimSuffix(filepath.Base(fp), ".txt.gz")
		dir, name, _ := strings.Cut(base, "__")
		pdbPath := realdumps + strings.ReplaceAll(dir, "_", "/") + "/" + name + ".pdb"
		t.Run(base, func(t *testing.T) {
			want := loadFacts(t, fp)
			f, err := openPDB(t, pdbPath)
			if want.err != "" {
				if err == nil {
					t.Fatalf("llvm-pdbutil says %q, we opened it", want.err)
				}
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("error is not a *pdb.Error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.GUIDString() != want.guid || f.Age != want.age {
				t.Errorf("GUID %s age %d, pdbutil %s %d", f.GUIDString(), f.Age, want.guid, want.age)
			}
			pubs, err := f.Publics()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pubs {
				got = append(got, fmt.Sprintf("%s %d:%d", p.Name, p.Seg, p.Off))
			}
			sort.Strings(got)
			sort.Strings(want.publics)
			if strings.Join(got, "\n") != strings.Join(want.publics, "\n") {
				t.Errorf("publics differ: %d ours, %d pdbutil", len(got), len(want.publics))
			}
			tpi, err := f.TPI()
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for ti, u := range want.udts {
				ty, err := tpi.Type(ti)
				if err != nil {
					t.Fatalf("type 0x%x: %v", ti, err)
				}
				if ty.Name != u.name || ty.IsFwdRef() != u.fwd || ty.Size != u.size || ty.FieldList != u.list {
					t.Errorf("type 0x%x: %q fwd=%v size %d list 0x%x; pdbutil %q fwd=%v size %d list 0x%x", ti, ty.Name, ty.IsFwdRef(), ty.Size, ty.FieldList, u.name, u.fwd, u.size, u.list)
					continue
				}
				if u.fwd || u.list == 0 {
					continue
				}
				ms, err := tpi.Fields(u.list)
				if err != nil {
					t.Fatalf("fields of 0x%x: %v", ti, err)
				}
				var ours []string
				for _, m := range ms {
					if m.Leaf == LF_MEMBER {
						ours = append(ours, fmt.Sprintf("%s@%d", m.Name, m.Offset))
					}
				}
				if strings.Join(ours, ",") != strings.Join(want.members(u.list), ",") {
					t.Errorf("members of %s (0x%x):\n ours    %v\n pdbutil %v", u.name, ti, ours, want.members(u.list))
				}
				checked++
			}
			t.Logf("%d publics, %d structures checked", len(got), checked)
		})
	}
}

func TestFindUDTUsesHash(t *testing.T) {
	f, err := openPDB(t, realdumps+"breakpad/pdb/dump_syms_regtest64.pdb")
	if err != nil {
		t.Fatal(err)
	}
	tpi, _ := f.TPI()
	ty, err := tpi.FindUDT("_RTL_CRITICAL_SECTION")
	if err != nil {
		t.Fatal(err)
	}
	if ty.Size != 0x28 {
		t.Errorf("_RTL_CRITICAL_SECTION size %d", ty.Size)
	}
	ms, _ := tpi.Fields(ty.FieldList)
	if len(ms) != 6 || ms[2].Name != "RecursionCount" || ms[2].Offset != 0xC {
		t.Errorf("members %+v", ms)
	}
	// Only the records of one hash bucket were decoded, not the table.
	begin, end := tpi.Range()
	if n := len(tpi.t.cache); n > 50 {
		t.Errorf("decoded %d of %d records to find one name", n, end-begin)
	}
}

func TestProcsAndLines(t *testing.T) {
	f, err := openPDB(t, realdumps+"lldb/sigsegv.pdb")
	if err != nil {
		t.Fatal(err)
	}
	procs, err := f.Procs()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range procs {
		names = append(names, p.Name)
	}
	joined := strings.Join(names, ",")
	for _, n := range []string{"main", "crash", "foo"} {
		if !strings.Contains(joined, n) {
			t.Errorf("no proc %s in %v", n, names)
		}
	}
	for _, p := range procs {
		if p.Name == "crash" {
			l, ok := f.LineAt(p.Module, p.Seg, p.Off+4)
			if !ok || !strings.HasSuffix(strings.ToLower(l.File), "sigsegv.cpp") || l.Line == 0 {
				t.Errorf("line of crash+4: %+v %v", l, ok)
			}
		}
	}
}

func FuzzOpen(f *testing.F) {
	for _, p := range []string{"llvm-pdb/every-type.pdb", "llvm-pdb/bad-block-size.pdb", "lldb/sigsegv.pdb", "llvm-pdb/FPOTest.pdb", "lldb/test-pdb.pdb"} {
		if b, err := os.ReadFile(realdumps + p); err == nil {
			f.Add(b)
		}
	}
	f.Add(append(append([]byte{}, msfMagic...), make([]byte, 64)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := NewFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		exerciseAccessors(p) // every accessor: DBI, FPO, globals, procedures, parameters, lines, TPI and IPI
	})
}

const manyTypes = "../../testdata/fixtures/bin/manytypes.pdb"

// BenchmarkOpenAndTypeLookup opens a PDB of 13,605 type records, finds one
// structure by name through the TPI hash and lays out its members, as
// `dt mod!Type` does.
func BenchmarkOpenAndTypeLookup(b *testing.B) {
	data, err := os.ReadFile(manyTypes)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f, err := NewFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		tpi, _ := f.TPI()
		ty, err := tpi.FindUDT(fmt.Sprintf("_BENCH_TYPE_%d", 1000+i%2000))
		if err != nil {
			b.Fatal(err)
		}
		if ms, err := tpi.Fields(ty.FieldList); err != nil || len(ms) != 4 {
			b.Fatalf("%d members, %v", len(ms), err)
		}
	}
}

// BenchmarkRecursiveLayout is `dt -r` on the root structure: every nested
// structure resolved (forward references through the hash) and laid out.
func BenchmarkRecursiveLayout(b *testing.B) {
	data, err := os.ReadFile(manyTypes)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f, _ := NewFile(bytes.NewReader(data), int64(len(data)))
		tpi, _ := f.TPI()
		root, err := tpi.FindUDT("_BENCH_ROOT")
		if err != nil {
			b.Fatal(err)
		}
		if n := layout(b, tpi, root, 0); n < 8 {
			b.Fatalf("laid out %d members", n)
		}
	}
}

func layout(b *testing.B, tpi *TypeTable, t *Type, depth int) int {
	ms, err := tpi.Fields(tpi.Resolve(t).FieldList)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		n++
		if m.Type >= 0x1000 && depth < 3 {
			if mt, err := tpi.Type(m.Type); err == nil && mt.IsUDT() {
				n += layout(b, tpi, mt, depth+1)
			}
		}
	}
	return n
}

func TestManyTypesPDB(t *testing.T) {
	f, err := openPDB(t, manyTypes)
	if err != nil {
		t.Fatal(err)
	}
	tpi, _ := f.TPI()
	begin, end := tpi.Range()
	if end-begin < 10000 {
		t.Fatalf("only %d type records", end-begin)
	}
	ty, err := tpi.FindUDT("_BENCH_TYPE_3399")
	if err != nil || ty.Size != 0x20 {
		t.Fatalf("%+v %v", ty, err)
	}
	if n := len(tpi.t.cache); n > 100 {
		t.Errorf("decoded %d records for one lookup", n)
	}
}

// TestFPOAgainstPdbutil compares old and new FPO records (programs
// included) with `llvm-pdbutil dump -fpo` (testdata/peer/pdbutil-fpo).
func TestFPOAgainstPdbutil(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/peer/pdbutil-fpo/*.txt")
	if len(files) < 4 {
		t.Fatalf("%d oracle files", len(files))
	}
	for _, fp := range files {
		base := strings.TrimSuffix(filepath.Base(fp), ".txt")
		t.Run(base, func(t *testing.T) {
			f, err := openPDB(t, realdumps+strings.ReplaceAll(base, "__", "/")+".pdb")
			if err != nil {
				t.Fatal(err)
			}
			oracle, _ := os.ReadFile(fp)
			var want []string
			section := ""
			for _, l := range strings.Split(string(oracle), "\n") {
				if strings.Contains(l, "Old FPO Data") {
					section = "old"
				} else if strings.Contains(l, "New FPO Data") {
					section = "new"
				}
				fields := strings.Split(l, "|")
				if len(fields) < 9 || strings.Contains(l, "RVA") {
					continue
				}
				for i := range fields {
					fields[i] = strings.TrimSpace(fields[i])
				}
				want = append(want, section+" "+strings.Join(fields, "|"))
			}
			var got []string
			old, err := f.OldFPO()
			if err != nil {
				t.Fatal(err)
			}
			frames := map[uint8]string{0: "FPO", 1: "Trap", 2: "TSS", 3: "Non-FPO"}
			for _, r := range old {
				// llvm-pdbutil 14 reads the prolog as Attr&0xF and the SEH/BP flags
				// from bits 9 and 10, unlike the documented FPO_DATA bit fields
				// that we decode; compare against its reading of the same bits.
				llvmProlog, llvmSEH, llvmBP := r.Attr&0xF, (r.Attr>>9)&1 == 1, (r.Attr>>10)&1 == 1
				got = append(got, fmt.Sprintf("old %08X|%d|%d|%d|%d|%d|%v|%v|%s", r.Start, r.Size, r.Locals, r.Params, llvmProlog, r.Regs, llvmBP, llvmSEH, frames[r.Frame]))
			}
			nf, err := f.NewFPO()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range nf {
				got = append(got, fmt.Sprintf("new %08X|%d|%d|%d|%d|%d|%d|%v|%v|%v|%s", r.Start, r.Size, r.Locals, r.Params, r.MaxStack, r.Prolog, r.SavedRegs, r.HasSEH, r.HasEH, r.IsFunctionStart, strings.TrimSpace(r.Program)))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				for i := range want {
					if i >= len(got) || got[i] != want[i] {
						t.Fatalf("record %d:\n ours    %q\n pdbutil %q", i, at(got, i), want[i])
					}
				}
				t.Fatalf("%d records ours, %d pdbutil", len(got), len(want))
			}
		})
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<none>"
}

// Parameters and their locations, as `llvm-pdbutil dump -symbols` shows
// them: MSVC's S_REGREL32 (sigsegv.pdb) and LLVM's S_LOCAL with
// S_DEFRANGE_FRAMEPOINTER_REL under a VFRAME S_FRAMEPROC (fpoapp.pdb).
func TestProcParams(t *testing.T) {
	check := func(path, proc string, want []Param) {
		f, err := openPDB(t, path)
		if err != nil {
			t.Fatal(err)
		}
		procs, _ := f.Procs()
		for _, p := range procs {
			if p.Name != proc {
				continue
			}
			got, err := f.Params(p)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: %+v\n want %+v", proc, got, want)
			}
			return
		}
		t.Errorf("no proc %s", proc)
	}
	// S_REGREL32 `crash_self`: type 0x0030 (bool), register = RSP, offset = 48
	check(realdumps+"lldb/sigsegv.pdb", "crash", []Param{{Name: "crash_self", Type: 0x30, Kind: LocRegRel, Reg: 335, Offset: 48}})
	// S_LOCAL `x` param, offset = 4 (VFRAME), range = [0001:0022,+16);
	// S_LOCAL `locals`, offset = -36, range = [0001:0026,+30)
	check("../../testdata/fixtures/bin/fpoapp.pdb", "fpo_saver", []Param{
		{Name: "x", Type: 0x74, IsParam: true, Kind: LocFrameRel, Offset: 4, FrameReg: 1,
			Locs: []Loc{{Kind: LocFrameRel, Offset: 4, FrameReg: 1, Sect: 1, Start: 22, Len: 16}}},
		{Name: "locals", Type: 0x1003, Kind: LocFrameRel, Offset: -36, FrameReg: 1,
			Locs: []Loc{{Kind: LocFrameRel, Offset: -36, FrameReg: 1, Sect: 1, Start: 26, Len: 30}}}})
	// Two S_DEFRANGE_REGISTER per parameter (llvm-pdbutil prints offsets in
	// decimal): CriticalSection in RCX over [0001:0880,+37) then RSI over
	// [0001:0917,+120); Increment in EDX, then EBX over [0001:0917,+118);
	// peb in RDI over [0001:0924,+27); status in EAX over [0001:0985,+56)
	// with the gap (11,23).
	check("../../testdata/scenarios/hyperv-hang/symbols/ntdll.pdb/6C7676F385C566DF4C4C44205044422E1/ntdll.pdb", "RtlpWaitOnCriticalSection", []Param{
		{Name: "CriticalSection", Type: 0x1043, IsParam: true, Kind: LocRegister, Reg: 330,
			Locs: []Loc{{Kind: LocRegister, Reg: 330, Sect: 1, Start: 880, Len: 37}, {Kind: LocRegister, Reg: 332, Sect: 1, Start: 917, Len: 120}}},
		{Name: "Increment", Type: 0x22, IsParam: true, Kind: LocRegister, Reg: 19,
			Locs: []Loc{{Kind: LocRegister, Reg: 19, Sect: 1, Start: 880, Len: 37}, {Kind: LocRegister, Reg: 20, Sect: 1, Start: 917, Len: 118}}},
		{Name: "trace", Type: 0x1068},
		{Name: "peb", Type: 0x1007, Kind: LocRegister, Reg: 333, Locs: []Loc{{Kind: LocRegister, Reg: 333, Sect: 1, Start: 924, Len: 27}}},
		{Name: "status", Type: 0x12, Kind: LocRegister, Reg: 17, Locs: []Loc{{Kind: LocRegister, Reg: 17, Sect: 1, Start: 985, Len: 56, Gaps: [][2]uint16{{11, 23}}}}}})
}

func TestLocCovers(t *testing.T) {
	l := Loc{Sect: 1, Start: 100, Len: 20, Gaps: [][2]uint16{{5, 3}}}
	for off, want := range map[uint32]bool{99: false, 100: true, 104: true, 105: false, 107: false, 108: true, 119: true, 120: false} {
		if l.Covers(1, off) != want {
			t.Errorf("Covers(1, %d) = %v", off, !want)
		}
	}
	if l.Covers(2, 100) || !(Loc{Whole: true}).Covers(7, 0) {
		t.Error("section or whole-procedure location wrong")
	}
}
