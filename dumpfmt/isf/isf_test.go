package isf

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

func TestParseTiny(t *testing.T) {
	data, err := os.ReadFile("testdata/tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if f.PDB.GUID != "00112233445566778899AABBCCDDEEFF" || f.PDB.Age != 2 || f.PDB.Database != "tiny.pdb" {
		t.Errorf("pdb %+v", f.PDB)
	}
	th := f.UserTypes["_THING"]
	if th.Size != 48 || th.Fields["Flags"].Offset != 16 || th.Fields["Name"].Type.Count != 15 || th.Fields["Name"].Type.Subtype.Name != "unsigned char" {
		t.Errorf("_THING %+v", th)
	}
	if a := th.Fields["Alertable"].Type; a.Kind != "bitfield" || a.BitPos != 5 || a.BitLen != 1 || a.Subtype.Name != "unsigned long" {
		t.Errorf("bitfield %+v", a)
	}
	if f.Enums["_MODE"].Constants["UserMode"] != 1 || f.Symbols["PsActiveProcessHead"].Address != 4096 {
		t.Error("enum or symbol")
	}
	for _, bad := range []string{"", "{}", `{"metadata": {}}`, `{"metadata": {"format": "6"}, "user_types": {"A": {"fields": {"x": {"offset": 0}}}}}`,
		`{"metadata": {"format": "6"}, "user_types": {"A": {"fields": {"x": {"offset": 0, "type": {"kind": "pointer"}}}}}}`} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// The two real ISF files (Windows 8.1 9600.19913 and 10 19041.804), read
// through xz(1) here so the test does not use the engine's decompressor;
// the expected offsets are MANIFEST.md's.
func TestParseReal(t *testing.T) {
	xz, err := exec.LookPath("xz")
	if err != nil {
		t.Skip("xz not installed")
	}
	cases := []struct {
		file                  string
		eprocSize, pid, image uint64
	}{
		{"22597D0B40394E23936F6A24C6C52D5B-1.json.xz", 0x700, 0x2e0, 0x438},
		{"5278AFF86C341677D7D7835C85B7B844-1.json.xz", 0xa40, 0x440, 0x5a8},
	}
	for _, tc := range cases {
		p := filepath.Join(rd.Root(), "isf/symbols/windows/ntkrnlmp.pdb", tc.file)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s not present", p)
		}
		out, err := exec.Command(xz, "-dc", p).Output()
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		e := f.UserTypes["_EPROCESS"]
		if e.Size != tc.eprocSize || e.Fields["UniqueProcessId"].Offset != tc.pid || e.Fields["ImageFileName"].Offset != tc.image {
			t.Errorf("%s: _EPROCESS size %#x pid %#x image %#x", tc.file, e.Size, e.Fields["UniqueProcessId"].Offset, e.Fields["ImageFileName"].Offset)
		}
		if !strings.HasPrefix(tc.file, f.PDB.GUID) || f.PDB.Age != 1 || f.PDB.Database != "ntkrnlmp.pdb" {
			t.Errorf("%s: metadata %+v", tc.file, f.PDB)
		}
		if _, ok := f.Symbols["PsActiveProcessHead"]; !ok {
			t.Errorf("%s: no PsActiveProcessHead", tc.file)
		}
	}
}

func FuzzParse(f *testing.F) {
	data, _ := os.ReadFile("testdata/tiny.json")
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) {
		Parse(bytes.NewReader(b))
	})
}
