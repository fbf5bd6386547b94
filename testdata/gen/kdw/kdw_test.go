package kdw

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func sample() *Dump {
	return &Dump{
		MinorVersion: 9600, NumberProcessors: 4, BugCheckCode: 0x161, Comment: "kdw",
		Runs:  []Run{{1, 2}, {0x10, 3}},
		Pages: map[uint64][]byte{1: []byte("one"), 0x12: bytes.Repeat([]byte{0xAB}, PageSize)},
	}
}

func u32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func u64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// The layouts, checked field by field against formats-spec.md §2.
func TestLayouts(t *testing.T) {
	d := sample()
	b, err := d.Bytes(Full)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 0x2000+5*PageSize || string(b[:8]) != "PAGEDU64" || u32(b, 0xF98) != Full || u32(b, 0x88) != 2 || u64(b, 0x90) != 5 ||
		u64(b, 0x98) != 1 || u64(b, 0xA0) != 2 || u64(b, 0xA8) != 0x10 || u64(b, 0xB0) != 3 || u64(b, 0xFA0) != uint64(len(b)) ||
		u32(b, 0x30) != 0x8664 || u32(b, 0x08) != 0xF || string(b[0xFB0:0xFB4]) != "kdw\x00" || string(b[0x60:0x64]) != "PAGE" {
		t.Errorf("full dump header")
	}
	// PFN 0x12 is the 5th page (index 4): 0x2000 + 4·0x1000.
	if b[0x2000] != 'o' || b[0x2000+4*PageSize] != 0xAB || b[0x2000+PageSize] != 0 {
		t.Error("full dump pages")
	}
	b, _ = d.Bytes(BitmapKernel)
	first := u64(b, 0x2020)
	if string(b[0x2000:0x2008]) != "SDMPDUMP" || first != 0x3000 || u64(b, 0x2028) != 5 || u64(b, 0x2030) != 0x13 ||
		b[0x2038] != 0b110 || b[0x2039] != 0 || b[0x203A] != 0b111 || len(b) != int(first)+5*PageSize || b[first+4*PageSize] != 0xAB ||
		string(b[0x88:0x8C]) != "PAGE" {
		t.Errorf("bitmap dump: % x first 0x%x", b[0x2038:0x203B], first)
	}
	b, _ = d.Bytes(BitmapFull)
	if string(b[0x2000:0x2004]) != "FDMP" {
		t.Error("type 5 signature")
	}
	for _, typ := range []int{KernelMemory, Complete} {
		b, _ = d.Bytes(typ)
		meta, first := u64(b, 0x2010), u64(b, 0x2018)
		if u32(b, 0x2000) != 0x40 || string(b[0x2004:0x200C]) != "RDMPDUMP" || meta-0x20 != first-0x2040 || first%PageSize != 0 ||
			u64(b, 0x2030) != 1 || u64(b, 0x2038) != 2 || u64(b, 0x2040) != 0x10 || u64(b, 0x2048) != 3 || u64(b, 0x2050) != 0 ||
			b[first] != 'o' || b[first+4*PageSize] != 0xAB {
			t.Errorf("RDMP type %d: meta 0x%x first 0x%x", typ, meta, first)
		}
		if typ == Complete && (u32(b, 0x2020) != 2 || u64(b, 0x2028) != 5) {
			t.Error("FULL_RDMP counts")
		}
	}
	d.Runs, d.Pages = nil, nil
	d.Triage = &Triage{Stack: []byte("stack"), TopOfStack: 0x1000, Drivers: []Driver{{Name: "nt", DllBase: 0x5000}}}
	b, err = d.Bytes(TriageDump)
	if err != nil {
		t.Fatal(err)
	}
	h := b[0x2000:]
	if int(u32(h, 4)) != len(b) || string(b[u32(h, 8):u32(h, 8)+4]) != "DUMP" || string(b[u32(h, 0x28):u32(h, 0x28)+5]) != "stack" ||
		u32(h, 0x34) != 1 || u64(b, int(u32(h, 0x30))+8+0x30) != 0x5000 {
		t.Error("triage layout")
	}
	name := u32(b, int(u32(h, 0x30)))
	if u32(b, int(name)) != 2 || string(b[name+4:name+8]) != "n\x00t\x00" || name < u32(h, 0x38) || name >= u32(h, 0x38)+u32(h, 0x3C) {
		t.Error("triage driver name")
	}
}

// countingWriter records how many bytes were written and the highest end.
type countingWriter struct{ n, end int64 }

func (c *countingWriter) WriteAt(p []byte, off int64) (int, error) {
	c.n += int64(len(p))
	c.end = max(c.end, off+int64(len(p)))
	return len(p), nil
}

// Write puts down the header, the bitmap and the pages with content only.
func TestWriteIsSparse(t *testing.T) {
	d := &Dump{Runs: []Run{{0, 1 << 24}}, Pages: map[uint64][]byte{5: []byte("x"), 1<<24 - 1: make([]byte, PageSize)}}
	hole := &Dump{Runs: d.Runs, Pages: map[uint64][]byte{5: []byte("x")}} // the last page is a hole
	for _, typ := range []int{Full, BitmapFull, -Full} {
		d := d
		if typ < 0 {
			d, typ = hole, -typ
		}
		w := &countingWriter{}
		size, err := d.Write(w, typ)
		if err != nil {
			t.Fatal(err)
		}
		if size < 64<<30 || w.end != size || w.n > 0x2000+(1<<24)/8+0x2000+2*PageSize {
			t.Errorf("type %d: size 0x%x, wrote %d bytes up to 0x%x", typ, size, w.n, w.end)
		}
	}
}

func TestErrors(t *testing.T) {
	many := &Dump{}
	for i := uint64(0); i < 43; i++ {
		many.Runs = append(many.Runs, Run{2 * i, 1})
	}
	cases := []struct {
		d   *Dump
		typ int
		msg string
	}{
		{many, Full, "do not fit"},
		{&Dump{Runs: []Run{{0, 1}}}, Complete, "PFN 0"},
		{&Dump{Runs: []Run{{1, 1}}, Pages: map[uint64][]byte{3: nil}}, Full, "no run"},
		{&Dump{Runs: []Run{{4, 2}, {5, 1}}}, Full, "not after"},
		{&Dump{}, TriageDump, "needs Dump.Triage"},
		{&Dump{Pages: map[uint64][]byte{1: make([]byte, PageSize+1)}}, Full, "bytes"},
		{&Dump{Runs: []Run{{1, 9}}, MemoryPages: 4}, BitmapFull, "MemoryPages"},
		{&Dump{}, 7, "not one kdw writes"},
	}
	for _, c := range cases {
		if _, err := c.d.Bytes(c.typ); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v type %d: %v, want %q", c.d.Runs, c.typ, err, c.msg)
		}
	}
}
