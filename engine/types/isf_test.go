package types

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ulikunitz/xz"

	"github.com/ntdbg/ntdbg/dumpfmt/isf"
	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

func isfTable(t *testing.T, path string) *ISFTable {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Skipf("%s not present", path)
	}
	defer fh.Close()
	var f *isf.File
	if filepath.Ext(path) == ".xz" {
		x, err := xz.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		f, err = isf.Parse(x)
		if err != nil {
			t.Fatal(err)
		}
	} else if f, err = isf.Parse(fh); err != nil {
		t.Fatal(err)
	}
	return NewISFTable(f)
}

// ISF types read through the model as a PDB's do: fields by dotted path,
// bitfields, arrays, enums, pointer sizes, dt's type names.
func TestISFTypes(t *testing.T) {
	tt := isfTable(t, "../../dumpfmt/isf/testdata/tiny.json")
	ty, err := tt.FindUDT("_THING")
	if err != nil {
		t.Fatal(err)
	}
	r := NewRef(nil, tt, ty)
	if r.TypeSize(r.Index()) != 48 {
		t.Errorf("size %d", r.TypeSize(r.Index()))
	}
	for path, off := range map[string]uint64{"Links.Blink": 8, "Flags": 16, "Name": 24, "Mode": 40} {
		if f, err := r.Field(path); err != nil || f.Offset != off {
			t.Errorf("%s: %+v %v", path, f, err)
		}
	}
	if f, err := r.Field("Alertable"); err != nil || f.BitLen != 1 || f.BitPos != 5 || f.Offset != 20 {
		t.Errorf("Alertable: %+v %v", f, err)
	}
	f, _ := r.Field("Name")
	if r.TypeSize(f.Type) != 15 || r.Name(f.Type) != "[15] UChar" {
		t.Errorf("Name: size %d name %q", r.TypeSize(f.Type), r.Name(f.Type))
	}
	f, _ = r.Field("Links.Flink")
	if r.TypeSize(f.Type) != 8 || r.Name(f.Type) != "Ptr64 _LIST_ENTRY" {
		t.Errorf("Flink: size %d name %q", r.TypeSize(f.Type), r.Name(f.Type))
	}
	if es := r.Enumerators(mustField(t, r, "Mode").Type); len(es) != 2 {
		t.Errorf("enumerators %v", es)
	}
}

func mustField(t *testing.T, r *Ref, p string) Field {
	f, err := r.Field(p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The real Windows 8.1 kernel's layouts (formats-spec.md §6.2-6.4).
func TestISFRealKernel(t *testing.T) {
	tt := isfTable(t, filepath.Join(rd.Root(), "isf/symbols/windows/ntkrnlmp.pdb/22597D0B40394E23936F6A24C6C52D5B-1.json.xz"))
	want := map[string]map[string]uint64{
		"_EPROCESS": {"Pcb.DirectoryTableBase": 0x28, "UniqueProcessId": 0x2e0, "ActiveProcessLinks": 0x2e8, "Peb": 0x3e8, "ImageFileName": 0x438, "ThreadListHead": 0x470},
		"_ETHREAD":  {"Tcb.KernelStack": 0x58, "Tcb.Teb": 0xf0, "Tcb.State": 0x184, "Cid.UniqueThread": 0x628, "IrpList": 0x658},
	}
	for typ, fields := range want {
		ty, err := tt.FindUDT(typ)
		if err != nil {
			t.Fatal(err)
		}
		r := NewRef(nil, tt, ty)
		for p, off := range fields {
			if f, err := r.Field(p); err != nil || f.Offset != off {
				t.Errorf("%s.%s: %#x %v, want %#x", typ, p, f.Offset, err, off)
			}
		}
	}
}
