package kdump_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/dumpfmt/kdump"
	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
func put64(b []byte, off int, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }

// errAt checks that err is a *kdump.Error at file offset off.
func errAt(t *testing.T, err error, off int64, what string) {
	t.Helper()
	var e *kdump.Error
	if !errors.As(err, &e) || e.Offset != off || e.Format != "kdump" {
		t.Errorf("%s: error %v, want a kdump error at offset 0x%x", what, err, off)
		return
	}
	if !strings.Contains(err.Error(), "0x") {
		t.Errorf("%s: %q does not name the offset", what, err)
	}
}

func newFile(b []byte) (*kdump.File, error) { return kdump.NewFile(bytes.NewReader(b), int64(len(b))) }

func TestNotAKernelDump(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("PAGE"), []byte("MDMP\x93\xa7\x00\x00 and more bytes"), []byte("PAGEDU32xxxxxxxx")} {
		if _, err := newFile(b); !errors.Is(err, kdump.ErrNotKernelDump) {
			t.Errorf("%q: %v", b, err)
		}
	}
	b := bytes.Repeat([]byte("PAGE"), 0x400)
	copy(b[4:], "DUMP")
	_, err := newFile(b)
	if !errors.Is(err, kdump.ErrUnsupported) || errors.Is(err, kdump.ErrNotKernelDump) || !strings.Contains(err.Error(), "32-bit kernel dumps are not supported") {
		t.Errorf("PAGEDUMP: %v", err)
	}
}

func TestCorruptHeader(t *testing.T) {
	full := render(t, sample(), kdw.Full)
	// Cut inside the header.
	for _, n := range []int{8, 0x100, 0x1fff} {
		_, err := newFile(full[:n])
		errAt(t, err, 0, "header cut")
		if errors.Is(err, kdump.ErrNotKernelDump) {
			t.Errorf("a cut header is still a kernel dump: %v", err)
		}
	}
	// An unknown DumpType.
	b := bytes.Clone(full)
	put32(b, 0xF98, 7)
	_, err := newFile(b)
	errAt(t, err, 0xF98, "DumpType 7")
	if !errors.Is(err, kdump.ErrUnsupported) {
		t.Errorf("DumpType 7: %v", err)
	}
	// A full dump whose run list is unused, or holds more runs than fit.
	b = bytes.Clone(full)
	copy(b[0x88:], "PAGE")
	_, err = newFile(b)
	errAt(t, err, 0x88, "unused run list")
	put32(b, 0x88, 0xFFFFFFF0)
	_, err = newFile(b)
	errAt(t, err, 0x88, "huge NumberOfRuns")
}

func TestCorruptRuns(t *testing.T) {
	full := render(t, sample(), kdw.Full)
	// A run past a 64-bit physical address space.
	b := bytes.Clone(full)
	put64(b, 0x98+16*2+8, 1<<60)
	_, err := newFile(b)
	errAt(t, err, 0x98+16*2, "huge PageCount")
	b = bytes.Clone(full)
	put64(b, 0x98+16*1, 1<<60)
	_, err = newFile(b)
	errAt(t, err, 0x98+16, "huge BasePage")
	// Runs whose pages add up to more than any file.
	b = bytes.Clone(full)
	for i := 0; i < 4; i++ {
		put64(b, 0x98+16*i, uint64(i)<<50)
		put64(b, 0xA0+16*i, 1<<50-1)
	}
	_, err = newFile(b)
	errAt(t, err, 0x98+16, "pages overflowing file offsets")
	// Overlapping runs: the third starts inside the second.
	b = bytes.Clone(full)
	put64(b, 0x98+16*2, 0x20)
	_, err = newFile(b)
	errAt(t, err, 0x98+16*2, "overlap")
	// Runs listed out of order: pages follow the list's order in the file,
	// the reader's runs are sorted.
	b = bytes.Clone(full)
	copy(b[0x98:0xA8], full[0xA8:0xB8])
	copy(b[0xA8:0xB8], full[0x98:0xA8])
	f0, err := newFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if runs, _ := f0.Runs(); runs[0].BasePage != 1 || runs[0].Offset != 0x2000+0x20*0x1000 || runs[1].Offset != 0x2000 {
		t.Errorf("unsorted runs: %+v", runs)
	}
	if off, err := f0.PageOffset(0x10); err != nil || off != 0x2000 {
		t.Errorf("PFN 0x10 of the first listed run at 0x%x %v", off, err)
	}
	// Runs past the end of the file: a run of 2^40 pages opens, and its pages
	// past the file are errors naming their offsets.
	b = bytes.Clone(full)
	put64(b, 0xA0+16*3, 1<<40)
	f, err := newFile(b)
	if err != nil {
		t.Fatal(err)
	}
	last := uint64(0x2000 + 1<<40 - 1)
	var pe *kdump.PageError
	_, err = f.ReadPhysical(make([]byte, 8), last<<12)
	wantOff := int64(0x2000 + (3+0x20+0x20+1<<40-1)*0x1000)
	if !errors.As(err, &pe) || pe.Offset != wantOff || !errors.Is(err, kdump.ErrTruncated) || !strings.Contains(err.Error(), "0x") {
		t.Errorf("page past the file: %v, want offset 0x%x", err, wantOff)
	}
	// A truncated file: pages before the cut read, the page the cut splits
	// and every one after it are errors naming their offsets.
	cut := full[:0x2000+3*0x1000+0x800]
	f, err = newFile(cut)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0x1000)
	if _, err := f.ReadPhysical(buf, 3<<12); err != nil || !bytes.Equal(buf, page(3)) {
		t.Errorf("page before the cut: %v", err)
	}
	for i, pfn := range []uint64{0x10, 0x11, 0x2000} {
		_, err := f.ReadPhysical(buf[:1], pfn<<12)
		want := int64(0x5000 + 0x1000*i)
		if pfn == 0x2000 {
			want = int64(0x2000 + (3+0x20+0x20)*0x1000)
		}
		if !errors.As(err, &pe) || pe.Offset != want || pe.Size != int64(len(cut)) {
			t.Errorf("pfn 0x%x after the cut: %v, want offset 0x%x", pfn, err, want)
		}
	}
}

func TestCorruptBitmap(t *testing.T) {
	d := sample()
	bm := render(t, d, kdw.BitmapFull)
	// The bitmap count disagrees with the bitmap: the open succeeds (it reads
	// no bitmap), the first use names the offset of TotalPresentPages.
	b := bytes.Clone(bm)
	put64(b, 0x2028, 77)
	f, err := newFile(b)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.ReadPhysical(make([]byte, 8), 0x1000)
	errAt(t, err, 0x2028, "TotalPresentPages")
	_, err = f.Runs()
	errAt(t, err, 0x2028, "Runs with a bad count")
	_, err = f.PageOffset(2)
	errAt(t, err, 0x2028, "PageOffset with a bad count")
	// Bits past Pages in the bitmap's last byte are not pages (MemoryPages
	// is 0x2003, so bits 3-7 of byte 0x400 are padding).
	b = bytes.Clone(bm)
	b[0x2038+0x400] |= 0xF8
	f = open(t, b)
	if _, err := f.ReadPhysical(make([]byte, 8), 0x2000<<12); err != nil {
		t.Errorf("last page with padding bits set: %v", err)
	}
	if runs, err := f.Runs(); err != nil || len(runs) != len(d.Runs) {
		t.Errorf("padding bits: runs %v %v", runs, err)
	}
	if _, err := f.PageOffset(0x2004); !errors.Is(err, kdump.ErrPageNotInDump) || errors.Is(err, kdump.ErrTruncated) {
		t.Errorf("a padding bit is a page: %v", err)
	}
	// More present pages than bits.
	put64(b, 0x2028, d.MemoryPages+1)
	_, err = newFile(b)
	errAt(t, err, 0x2028, "TotalPresentPages > Pages")
	// A bitmap larger than the file.
	b = bytes.Clone(bm)
	put64(b, 0x2030, uint64(len(b))*8)
	_, err = newFile(b)
	errAt(t, err, 0x2038, "bitmap past the end")
	b = bytes.Clone(bm)
	put64(b, 0x2030, 1<<62)
	_, err = newFile(b)
	errAt(t, err, 0x2030, "huge Pages")
	// FirstPage inside the bitmap.
	b = bytes.Clone(bm)
	put64(b, 0x2020, 0x2040)
	_, err = newFile(b)
	errAt(t, err, 0x2020, "FirstPage in the bitmap")
	// Not a bitmap header (a type 2 dump must have one).
	b = render(t, d, kdw.Summary)
	copy(b[0x2000:], "XDMP")
	_, err = newFile(b)
	errAt(t, err, 0x2000, "signature")
	// A truncated bitmap dump: the bitmap survives, the pages after the cut
	// are errors naming their offsets.
	b = bm[:0x3000+0x1000*3]
	f, err = newFile(b)
	if err != nil {
		t.Fatal(err)
	}
	var pe *kdump.PageError
	if _, err := f.ReadPhysical(make([]byte, 8), 3<<12); err != nil {
		t.Errorf("page before the cut: %v", err)
	}
	if _, err := f.ReadPhysical(make([]byte, 8), 0x10<<12); !errors.As(err, &pe) || pe.Offset != 0x6000 {
		t.Errorf("page after the cut: %v", err)
	}
}

func TestCorruptRDMP(t *testing.T) {
	d := sample()
	for _, typ := range []int{kdw.KernelMemory, kdw.Complete} {
		good := render(t, d, typ)
		b := bytes.Clone(good)
		put32(b, 0x2000, 0x41)
		_, err := newFile(b)
		errAt(t, err, 0x2000, "marker")
		b = bytes.Clone(good)
		put64(b, 0x2010, u64(b, 0x2010)+0x10)
		_, err = newFile(b)
		errAt(t, err, 0x2010, "MetadataSize")
		b = bytes.Clone(good)
		put64(b, 0x2018, 0x10)
		_, err = newFile(b)
		errAt(t, err, 0x2010, "FirstPageOffset")
		// A range list with no end, running into the end of the file.
		b = bytes.Clone(good[:0x2800])
		put64(b, 0x2010, 1<<40-0x2020)
		put64(b, 0x2018, 1<<40)
		put64(b, 0x2028, 1<<50) // TotalNumberOfPages (type 0xA)
		for at := 0x2030; at < len(b); at += 16 {
			put64(b, at, uint64(at)<<8)
			put64(b, at+8, 1)
		}
		_, err = newFile(b)
		errAt(t, err, 0x2800, "range list past the end")
		// A huge range.
		b = bytes.Clone(good)
		put64(b, 0x2038, 1<<60)
		_, err = newFile(b)
		errAt(t, err, 0x2030, "huge range")
		if typ == kdw.Complete {
			// Without the zero entry that ends the list, type 0xA stops
			// once TotalNumberOfPages are counted.
			b = bytes.Clone(good)
			n := len(d.Runs)
			put64(b, 0x2030+16*n, 0x7000)
			put64(b, 0x2038+16*n, 5)
			f, err := newFile(b)
			if err != nil || f.PageCount() != good64(good, 0x2028) {
				t.Errorf("no terminator: %v", err)
			}
			// More pages in the ranges than TotalNumberOfPages.
			b = bytes.Clone(good)
			put64(b, 0x2028, 2)
			_, err = newFile(b)
			errAt(t, err, 0x2030, "TotalNumberOfPages")
		}
	}
}

func TestCorruptTriage(t *testing.T) {
	d := triageSample(kdump.MachineAMD64)
	good := render(t, d, kdw.TriageDump)
	f := open(t, good)
	th, _ := f.TriageHeader()
	cases := []struct {
		name string
		at   int // field offset from 0x2000
		v    uint32
		off  int64 // offset the error names
	}{
		{"DriverCount", 0x34, 0xFFFFFFFF, int64(th.DriverListOffset)},
		{"DriverListOffset", 0x30, 0xFFFFFF00, 0xFFFFFF00},
		{"DataBlocksCount", 0x7C, 0x10000000, int64(th.DataBlocksOffset)},
		{"SizeOfCallStack", 0x2C, 0xFFFFFFF0, int64(th.CallStackOffset)},
		{"ContextOffset", 0x0C, uint32(len(good)) - 0x10, int64(len(good)) - 0x10},
		{"StringPoolSize", 0x3C, 0x7FFFFFFF, int64(th.StringPoolOffset)},
		{"DebuggerDataOffset", 0x70, uint32(len(good)), int64(len(good))},
	}
	for _, c := range cases {
		b := bytes.Clone(good)
		put32(b, 0x2000+c.at, c.v)
		f := open(t, b)
		_, err := f.Triage()
		errAt(t, err, c.off, c.name)
		if _, err2 := f.Triage(); err2 != err {
			t.Errorf("%s: the second call gives %v", c.name, err2)
		}
	}
	// A driver name longer than the file.
	b := bytes.Clone(good)
	tr, err := open(t, good).Triage()
	if err != nil {
		t.Fatal(err)
	}
	put32(b, int(tr.Drivers[1].DriverNameOffset), 0x7FFFFFFF)
	_, err = open(t, b).Triage()
	errAt(t, err, int64(tr.Drivers[1].DriverNameOffset), "driver name length")
	// A data block whose bytes lie past the file.
	b = bytes.Clone(good)
	put32(b, int(th.DataBlocksOffset)+16+12, 0x7FFFFFFF)
	_, err = open(t, b).Triage()
	errAt(t, err, int64(tr.DataBlocks[1].Offset), "data block size")
	// The triage header itself cut off.
	_, err = newFile(good[:0x2040])
	errAt(t, err, 0x2000, "TRIAGE_DUMP64 cut")
}

// Huge counts and sizes are refused before anything is allocated from them.
func TestHugeCountsAllocateLittle(t *testing.T) {
	full := render(t, sample(), kdw.Full)
	bm := render(t, sample(), kdw.BitmapKernel)
	tri := render(t, triageSample(kdump.MachineAMD64), kdw.TriageDump)
	patch := func(b []byte, at int, v uint64, size int) []byte {
		b = bytes.Clone(b)
		if size == 4 {
			put32(b, at, uint32(v))
		} else {
			put64(b, at, v)
		}
		return b
	}
	inputs := [][]byte{
		patch(full, 0x88, 0xFFFFFFFF, 4),
		patch(full, 0xA0, 1<<51, 8),
		patch(bm, 0x2030, 1<<51, 8),
		patch(bm, 0x2028, 1<<51, 8),
		patch(tri, 0x2034, 0xFFFFFFFF, 4),
		patch(tri, 0x207C, 0xFFFFFFFF, 4),
		patch(tri, 0x203C, 0xFFFFFFFF, 4),
	}
	for i, b := range inputs {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		if f, err := newFile(b); err == nil {
			f.Triage()
			f.Runs()
			f.ReadPhysical(make([]byte, 16), 0x1ff8)
		}
		runtime.ReadMemStats(&m1)
		// The triage decoder loads the file once (it is ~40 KiB here).
		if n := m1.TotalAlloc - m0.TotalAlloc; n > 4*uint64(len(b))+1<<16 {
			t.Errorf("input %d: %d bytes allocated for a %d-byte file", i, n, len(b))
		}
	}
}

func good64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
