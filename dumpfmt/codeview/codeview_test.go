package codeview

import (
	"encoding/binary"
	"testing"
)

func TestRSDS(t *testing.T) {
	b := []byte("RSDS")
	b = append(b, 0x9f, 0x7a, 0xd4, 0x7d, 0xe8, 0xc2, 0x9a, 0x49, 0xa7, 0x8e, 0xc1, 0x4a, 0xe2, 0xc9, 0x65, 0xa2)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = append(b, "vmms.pdb\x00"...)
	r, err := Parse(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.GUIDString() != "7DD47A9FC2E8499AA78EC14AE2C965A2" || r.Age != 1 || r.PdbName != "vmms.pdb" {
		t.Fatalf("%+v %s", r, r.GUIDString())
	}
	if _, err := Parse(b[:10], 0x300); err == nil || err.Error() != "CodeView: CodeView record at offset 0x304: 16 bytes needed, 6 left" {
		t.Fatalf("short: %v", err)
	}
	if _, err := Parse([]byte("XXXX...."), 0x10); err == nil || err.Error() != "CodeView: CodeView record at offset 0x10: unknown signature 0x58585858" {
		t.Fatalf("bad signature: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("RSDS0123456789abcdef\x01\x00\x00\x00a.pdb\x00"))
	f.Add([]byte("NB10\x00\x00\x00\x00\x01\x02\x03\x04\x01\x00\x00\x00b.pdb"))
	f.Fuzz(func(t *testing.T, b []byte) { Parse(b, 0) })
}
