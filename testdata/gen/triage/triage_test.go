package triage

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

var update = flag.Bool("update", false, "rewrite layout.json from the ISF")

const isf19041 = "isf/symbols/windows/ntkrnlmp.pdb/5278AFF86C341677D7D7835C85B7B844-1.json.xz"

// The fields and symbols the writer uses.
var (
	fieldPaths = []string{"_ETHREAD.Cid.UniqueProcess", "_ETHREAD.Cid.UniqueThread", "_ETHREAD.Tcb.State", "_ETHREAD.Tcb.Process",
		"_ETHREAD.Tcb.ApcState.Process", "_ETHREAD.Tcb.KernelStack", "_ETHREAD.Tcb.StackBase", "_ETHREAD.Tcb.StackLimit",
		"_ETHREAD.Tcb.InitialStack", "_ETHREAD.StartAddress", "_EPROCESS.UniqueProcessId", "_EPROCESS.Pcb.DirectoryTableBase",
		"_EPROCESS.ObjectTable", "_EPROCESS.ImageFileName", "_KPRCB.CurrentThread"}
	symbolNames = []string{"PsLoadedModuleList", "PsActiveProcessHead", "KdDebuggerDataBlock", "KiProcessorBlock", "KeBugCheckEx",
		"ExpWorkerThread", "PspSystemThreadStartup", "KiStartSystemThread"}
)

// isfJSON is the part of an ISF file this test reads (its own decoder,
// not dumpfmt/isf).
type isfJSON struct {
	Metadata struct {
		Windows struct {
			PDB struct {
				GUID string `json:"GUID"`
				Age  uint32 `json:"age"`
			} `json:"pdb"`
		} `json:"windows"`
	} `json:"metadata"`
	UserTypes map[string]struct {
		Size   uint64 `json:"size"`
		Fields map[string]struct {
			Offset uint64 `json:"offset"`
			Type   struct {
				Kind string `json:"kind"`
				Name string `json:"name"`
			} `json:"type"`
		} `json:"fields"`
	} `json:"user_types"`
	Symbols map[string]struct {
		Address uint64 `json:"address"`
	} `json:"symbols"`
}

func fromISF(t *testing.T) *Layout {
	fh, err := os.Open(filepath.Join(rd.Root(), isf19041))
	if err != nil {
		t.Skipf("the 19041 ISF is not present: %v", err)
	}
	defer fh.Close()
	x, err := xz.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	var f isfJSON
	if err := json.NewDecoder(x).Decode(&f); err != nil {
		t.Fatal(err)
	}
	l := &Layout{GUID: f.Metadata.Windows.PDB.GUID, Age: f.Metadata.Windows.PDB.Age, Sizes: map[string]uint64{}, Fields: map[string]uint64{}, Symbols: map[string]uint64{}}
	for _, n := range []string{"_ETHREAD", "_EPROCESS", "_KPRCB"} {
		l.Sizes[n] = f.UserTypes[n].Size
	}
	for _, p := range fieldPaths {
		parts := strings.Split(p, ".")
		typ, off := parts[0], uint64(0)
		for _, name := range parts[1:] {
			fd, ok := f.UserTypes[typ].Fields[name]
			if !ok {
				t.Fatalf("%s: %s has no %s", p, typ, name)
			}
			off += fd.Offset
			typ = fd.Type.Name
		}
		l.Fields[p] = off
	}
	for _, n := range symbolNames {
		s, ok := f.Symbols[n]
		if !ok {
			t.Fatalf("no symbol %s", n)
		}
		l.Symbols[n] = s.Address
	}
	return l
}

func TestLayoutIsTheISFs(t *testing.T) {
	want := fromISF(t)
	if *update {
		b, _ := json.MarshalIndent(want, "", "  ")
		if err := os.WriteFile("layout.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := LoadLayout()
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if string(wb) != string(gb) {
		t.Errorf("layout.json differs from the ISF (go test -update rewrites it):\n%s\n%s", gb, wb)
	}
}

func TestBuilds(t *testing.T) {
	b, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:8]) != "PAGEDU64" {
		t.Fatalf("header %q", b[:8])
	}
}
