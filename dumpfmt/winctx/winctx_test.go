package winctx

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/ntdbg/ntdbg/dumpfmt/internal/decode"
)

// amd64Blob lays out an x64 CONTEXT by the winnt.h offsets, written here
// field by field rather than through the decoder.
func amd64Blob() []byte {
	b := make([]byte, SizeAMD64)
	le := binary.LittleEndian
	le.PutUint32(b[0x30:], FlagAMD64|FlagControl|FlagInteger)
	le.PutUint16(b[0x38:], 0x33) // SegCs
	le.PutUint16(b[0x42:], 0x2b) // SegSs
	le.PutUint32(b[0x44:], 0x246)
	for i := 0; i < 16; i++ {
		le.PutUint64(b[0x78+8*i:], 0x1000+uint64(i))
	}
	le.PutUint64(b[0xF8:], 0x00007fff97c3124a) // Rip
	b[0x1A0+16*6] = 0x66                       // Xmm6
	return b
}

func TestAMD64Offsets(t *testing.T) {
	c, err := ParseAMD64(amd64Blob(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rip != 0x00007fff97c3124a || c.Gpr[RSP] != 0x1004 || c.Gpr[R15] != 0x100f || c.SegCs != 0x33 || c.SegSs != 0x2b || c.EFlags != 0x246 {
		t.Fatalf("%+v", c)
	}
	if c.Xmm[6][0] != 0x66 {
		t.Fatalf("xmm6 %x", c.Xmm[6])
	}
}

func TestXStateOutsideIsAnError(t *testing.T) {
	b := amd64Blob()
	binary.LittleEndian.PutUint32(b[0x30:], FlagAMD64|FlagXState)
	c, err := ParseAMD64(b, 0x400)
	if c == nil {
		t.Fatal("the base context should survive a missing CONTEXT_EX")
	}
	var e *decode.Error
	if !errors.As(err, &e) || e.What != "CONTEXT_EX" || e.Offset != 0x400+SizeAMD64 {
		t.Fatalf("err %v", err)
	}
}

func TestShortContexts(t *testing.T) {
	if _, err := ParseAMD64(make([]byte, 0x100), 0x2000); err == nil || err.Error() != "CONTEXT: x64 CONTEXT at offset 0x2000: 256 bytes, need 0x4d0" {
		t.Fatalf("x64: %v", err)
	}
	b := make([]byte, MinSizeX86)
	binary.LittleEndian.PutUint32(b[0xB8:], 0x401000) // Eip
	binary.LittleEndian.PutUint32(b[0xC4:], 0x12ff00) // Esp
	c, err := ParseX86(b, 0)
	if err != nil || c.Eip != 0x401000 || c.Esp != 0x12ff00 {
		t.Fatalf("x86 %+v %v", c, err)
	}
	if _, err := ParseX86(b[:0x40], 0); err == nil {
		t.Fatal("a 0x40-byte x86 context decoded")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(amd64Blob())
	x := amd64Blob()
	binary.LittleEndian.PutUint32(x[0x30:], FlagAMD64|FlagXState)
	f.Add(append(x, make([]byte, 0x400)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseAMD64(b, 0)
		ParseX86(b, 0)
	})
}
