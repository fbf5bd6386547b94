package undname

import (
	"bufio"
	"bytes"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

// loadUndname reads testdata/peer/undname.tsv: every decorated public of the
// PDBs in ../shared/realdumps with what llvm-undname-14 printed for it.
func loadUndname(t *testing.T) map[string]string {
	f, err := os.Open("../../../testdata/peer/undname.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "\t")
		if ok {
			out[k] = v
		}
	}
	return out
}

func TestDemangleAgreesWithLLVMUndname(t *testing.T) {
	want := loadUndname(t)
	if len(want) < 1000 {
		t.Fatalf("only %d names", len(want))
	}
	var bad []string
	for m, w := range want {
		got, ok := Demangle(m)
		if w == "<error>" {
			continue
		}
		if !ok || got != w {
			bad = append(bad, m+"\n    ours:  "+got+"\n    llvm:  "+w)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		n := len(bad)
		if n > 25 {
			bad = bad[:25]
		}
		t.Errorf("%d of %d names differ from llvm-undname:\n%s", n, len(want), strings.Join(bad, "\n"))
	}
}

// The oracle covers every decorated public in the shared PDBs.
func TestUndnameOracleCoversSharedPDBs(t *testing.T) {
	want := loadUndname(t)
	paths := rd.Glob("*/*.pdb")
	more := rd.Glob("*/*/*.pdb")
	paths = append(paths, more...)
	if len(paths) == 0 {
		t.Skip("realdumps not present")
	}
	missing := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f, err := pdb.NewFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			continue
		}
		pubs, _ := f.Publics()
		for _, pub := range pubs {
			if strings.HasPrefix(pub.Name, "?") {
				if _, ok := want[pub.Name]; !ok {
					missing++
				}
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d decorated publics are not in the oracle", missing)
	}
}

func TestUndecorateForStacks(t *testing.T) {
	cases := map[string]string{
		"?Initialize@VmNetworkInterfaceTable@@QEAAJXZ": "VmNetworkInterfaceTable::Initialize",
		"??0Foo@@QEAA@XZ":        "Foo::Foo",
		"??1Base1@@UAE@XZ":       "Base1::~Base1",
		"?get@Class@NS@@QEBAHXZ": "NS::Class::get",
		"??$f@PEAH@@YAXPEAH@Z":   "f<int *>",
		"__imp_?foo@@YAXXZ":      "_imp_foo",
		"main":                   "main",
		"?broken":                "?broken",
	}
	for in, want := range cases {
		if got := Undecorate(in); got != want {
			t.Errorf("Undecorate(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzDemangle(f *testing.F) {
	for _, s := range []string{"?Initialize@VmNetworkInterfaceTable@@QEAAJXZ", "??_C@_0BN@DEGPLNFK@?$GAvector?5deleting?5destructor?8?$AA@", "??$f@P8Foo@@EAAHXZ@@YAXP8Foo@@EAAHXZ@Z", "??_R1A@?0A@EA@C@@8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		Demangle(s)
		Undecorate(s)
	})
}
