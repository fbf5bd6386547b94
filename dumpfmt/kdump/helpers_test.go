package kdump_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/ntdbg/ntdbg/dumpfmt/kdump"
	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

// allTypes are the DumpTypes with physical memory, in the order tests run them.
var memTypes = []int{kdw.Full, kdw.Summary, kdw.BitmapFull, kdw.BitmapKernel, kdw.KernelMemory, kdw.KernelAndUser, kdw.Complete}

// amd64Context is an x64 CONTEXT with CONTROL|INTEGER flags, rip and rsp.
func amd64Context(rip, rsp uint64) []byte {
	c := make([]byte, 0x4D0)
	binary.LittleEndian.PutUint32(c[0x30:], 0x10000B)
	binary.LittleEndian.PutUint16(c[0x38:], 0x10) // SegCs
	binary.LittleEndian.PutUint64(c[0x98:], rsp)
	binary.LittleEndian.PutUint64(c[0xF8:], rip)
	return c
}

// page is the content written for pfn: its number, then a pattern that
// differs from page to page and from byte to byte.
func page(pfn uint64) []byte {
	b := make([]byte, kdw.PageSize)
	for i := range b {
		b[i] = byte(uint64(i)*7 + pfn*13 + uint64(i>>8))
	}
	binary.LittleEndian.PutUint64(b, pfn)
	copy(b[8:], fmt.Sprintf("pfn %#x", pfn))
	return b
}

// sample is a small dump: runs with gaps (one starting at PFN 1, one
// crossing a bitmap block boundary) and content for every page.
func sample() *kdw.Dump {
	d := &kdw.Dump{
		MinorVersion: 9600, DirectoryTableBase: 0x1aa000 | 2, PfnDataBase: 0xfffffa8000000000,
		PsLoadedModuleList: 0xfffff80012345670, PsActiveProcessHead: 0xfffff80012345000,
		NumberProcessors: 2, BugCheckCode: 0x161, BugCheckParameters: [4]uint64{1, 2, 3, 4},
		KdDebuggerDataBlock: 0xfffff80012300000, Context: amd64Context(0xfffff80012001234, 0xffffd00012345678),
		Exception:  kdw.Exception{Code: 0x80000003, Flags: 1, Address: 0xfffff80012001234, NumberParameters: 1, Information: [15]uint64{7}},
		SystemTime: 0x1d9000000000000, SystemUpTime: 123456789, Comment: "LiveKD -ml: a test dump",
		ProductType: 3, SuiteMask: 0x110, BootId: 42, Attributes: 1, KdSecondaryVersion: 2,
		Runs:        []kdw.Run{{BasePage: 1, PageCount: 3}, {BasePage: 0x10, PageCount: 0x20}, {BasePage: 0xFF0, PageCount: 0x20}, {BasePage: 0x2000, PageCount: 1}},
		MemoryPages: 0x2003,
		Pages:       map[uint64][]byte{},
	}
	for _, r := range d.Runs {
		for p := r.BasePage; p < r.BasePage+r.PageCount; p++ {
			d.Pages[p] = page(p)
		}
	}
	return d
}

func open(t testing.TB, b []byte) *kdump.File {
	t.Helper()
	f, err := kdump.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func render(t testing.TB, d *kdw.Dump, typ int) []byte {
	t.Helper()
	b, err := d.Bytes(typ)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
