package kdump_test

import (
	"errors"
	"os"
	"testing"

	"github.com/ntdbg/ntdbg/dumpfmt/kdump"
	"github.com/ntdbg/ntdbg/dumpfmt/winctx"
	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

// The first 16 KiB of a real full kernel dump (Windows 10 19045, written by a
// memory-acquisition tool). The expected values are the MANIFEST's, read off
// the header independently of this reader.
func TestRealFullHeader19045(t *testing.T) {
	path := rd.Root() + "kernel/full-header-19045.dmp"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not present", path)
	}
	f, err := kdump.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := f.Header
	if h.DumpType != kdump.DumpFull || h.MinorVersion != 19045 || h.MajorVersion != 0xF || h.NumberProcessors != 4 ||
		h.DirectoryTableBase != 0x1ad002 || h.MachineImageType != kdump.MachineAMD64 || f.Machine() != kdump.MachineAMD64 {
		t.Errorf("header %+v", h)
	}
	if h.BugCheckCode != 0x5454414d || string(le(h.BugCheckParameters[0])) != "MOON" || string(le(h.BugCheckParameters[1])) != "SOLS" {
		t.Errorf("bugcheck 0x%x %x", h.BugCheckCode, h.BugCheckParameters)
	}
	if h.RequiredDumpSpace != 0x7fe88000 || h.PhysicalMemoryBlock.NumberOfPages != 0x7fe86 {
		t.Errorf("RequiredDumpSpace 0x%x, NumberOfPages 0x%x", h.RequiredDumpSpace, h.PhysicalMemoryBlock.NumberOfPages)
	}
	if e := f.Exception(); e.ExceptionCode != 0x80000003 || e.ExceptionAddress != 0xfffff8072aa9136d {
		t.Errorf("exception %+v", e)
	}
	c, err := winctx.ParseAMD64(f.Context(), kdump.ContextOffset)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rip != 0xfffff8072aa9136d || c.Gpr[winctx.RSP] != 0xffffc10f7507f190 {
		t.Errorf("rip %x rsp %x", c.Rip, c.Gpr[winctx.RSP])
	}
	want := []kdump.Run{{BasePage: 0x2, PageCount: 0x9e}, {BasePage: 0x100, PageCount: 0x251}, {BasePage: 0x3d8, PageCount: 0xd7df},
		{BasePage: 0xdbb8, PageCount: 0x1fb7}, {BasePage: 0xfbff, PageCount: 0x70401}}
	runs, err := f.Runs()
	if err != nil || len(runs) != len(want) {
		t.Fatalf("runs %v %v", runs, err)
	}
	off, total := int64(0x2000), uint64(0)
	for i, r := range runs {
		if r.BasePage != want[i].BasePage || r.PageCount != want[i].PageCount || r.Offset != off {
			t.Errorf("run %d = %+v, want %+v at 0x%x", i, r, want[i], off)
		}
		off += int64(r.PageCount) * 0x1000
		total += r.PageCount
	}
	if total != 0x7fe86 || f.PageCount() != total {
		t.Errorf("pages 0x%x", total)
	}
	// The two pages that survive the cut: PFN 2 and 3 at 0x2000 and 0x3000.
	b := make([]byte, 0x2000)
	if n, err := f.ReadPhysical(b, 0x2000); err != nil || n != len(b) {
		t.Fatalf("read of the surviving pages: %d %v", n, err)
	}
	if string(b[:8]) != "\x03\x00\x00\x00\x00\x00\x00\x00" || string(b[0x1000:0x1008]) != "\x63\x28\xc0\x00\x00\x00\x00\x8a" {
		t.Errorf("page 2 starts % x, page 3 % x (xxd: 03 00.., 63 28 c0 00 00 00 00 8a)", b[:8], b[0x1000:0x1008])
	}
	// Every page past them is a clean error naming its file offset.
	for _, pa := range []uint64{0x4000, 0x100000, 0x3d8000 + 0x5000, 0xfbff000, 0x70400000} {
		pfn := pa >> 12
		wantOff := int64(-1)
		for _, r := range runs {
			if pfn >= r.BasePage && pfn < r.BasePage+r.PageCount {
				wantOff = r.Offset + int64(pfn-r.BasePage)*0x1000
			}
		}
		n, err := f.ReadPhysical(b[:8], pa)
		var pe *kdump.PageError
		if n != 0 || !errors.As(err, &pe) || !errors.Is(err, kdump.ErrPageNotInDump) || !errors.Is(err, kdump.ErrTruncated) ||
			pe.PA != pa || pe.Offset != wantOff || pe.Size != 0x4000 {
			t.Errorf("read at 0x%x: %d %v, want the page at 0x%x past the end", pa, n, err, wantOff)
		}
	}
	// A read that starts in the last surviving page stops at its end.
	if n, err := f.ReadPhysical(b[:0x20], 0x3ff0); n != 0x10 || !errors.Is(err, kdump.ErrTruncated) {
		t.Errorf("straddling read: %d %v", n, err)
	}
	// Page 0 and 1 are not in any run.
	if _, err := f.ReadPhysical(b[:8], 0x1000); !errors.Is(err, kdump.ErrPageNotInDump) || errors.Is(err, kdump.ErrTruncated) {
		t.Errorf("read of PFN 1: %v", err)
	}
}

func le(v uint64) []byte {
	var b []byte
	for ; v != 0; v >>= 8 {
		b = append(b, byte(v))
	}
	return b
}
