package kdump_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"unicode/utf16"

	"github.com/ntdbg/ntdbg/dumpfmt/kdump"
	"github.com/ntdbg/ntdbg/dumpfmt/winctx"
	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

// checkHeader compares the header the reader decoded with what was written.
func checkHeader(t *testing.T, f *kdump.File, d *kdw.Dump, typ int) {
	t.Helper()
	h := f.Header
	if h.DumpType != uint32(typ) || f.DumpType() != uint32(typ) || h.MajorVersion != 0xF || h.MinorVersion != d.MinorVersion ||
		h.DirectoryTableBase != d.DirectoryTableBase || h.PfnDataBase != d.PfnDataBase ||
		h.PsLoadedModuleList != d.PsLoadedModuleList || h.PsActiveProcessHead != d.PsActiveProcessHead ||
		h.NumberProcessors != d.NumberProcessors || h.BugCheckCode != d.BugCheckCode || h.BugCheckParameters != d.BugCheckParameters ||
		h.KdDebuggerDataBlock != d.KdDebuggerDataBlock || h.SystemTime != d.SystemTime || h.SystemUpTime != d.SystemUpTime ||
		h.Comment != d.Comment || h.ProductType != d.ProductType || h.SuiteMask != d.SuiteMask || h.BootId != d.BootId ||
		h.Attributes != d.Attributes || h.KdSecondaryVersion != d.KdSecondaryVersion || h.RequiredDumpSpace != f.Size() {
		t.Errorf("header %+v", h)
	}
	want := d.MachineImageType
	if want == 0 {
		want = kdump.MachineAMD64
	}
	if f.Machine() != want {
		t.Errorf("machine 0x%x, want 0x%x", f.Machine(), want)
	}
	e := f.Exception()
	if e.ExceptionCode != d.Exception.Code || e.ExceptionFlags != d.Exception.Flags || e.ExceptionAddress != d.Exception.Address ||
		e.NumberParameters != d.Exception.NumberParameters || e.ExceptionInformation != d.Exception.Information {
		t.Errorf("exception %+v", e)
	}
	c := f.Context()
	if len(c) != kdump.ContextRecordSize || !bytes.HasPrefix(c, d.Context) {
		t.Errorf("context: %d bytes", len(c))
	}
	if want == kdump.MachineAMD64 {
		x, err := winctx.ParseAMD64(c, kdump.ContextOffset)
		if err != nil || x.Rip != binary.LittleEndian.Uint64(d.Context[0xF8:]) {
			t.Errorf("context: %+v %v", x, err)
		}
	}
}

// checkPages reads every page of d's runs through ReadPhysical, in one read
// per page and in reads that straddle page boundaries, and checks that the
// page frames around the runs are not in the dump.
func checkPages(t *testing.T, f *kdump.File, d *kdw.Dump) {
	t.Helper()
	got, err := f.Runs()
	if err != nil {
		t.Fatal(err)
	}
	var want []kdw.Run
	for _, r := range got {
		want = append(want, kdw.Run{BasePage: r.BasePage, PageCount: r.PageCount})
	}
	if !slices.Equal(want, d.Runs) {
		t.Errorf("runs %v, want %v", got, d.Runs)
	}
	n := uint64(0)
	for _, r := range d.Runs {
		n += r.PageCount
	}
	if f.PageCount() != n {
		t.Errorf("PageCount %d, want %d", f.PageCount(), n)
	}
	buf := make([]byte, kdw.PageSize)
	for _, r := range d.Runs {
		for p := r.BasePage; p < r.BasePage+r.PageCount; p++ {
			if m, err := f.ReadPhysical(buf, p<<12); err != nil || m != len(buf) || !bytes.Equal(buf, d.Pages[p]) {
				t.Fatalf("page 0x%x: %d %v, content equal %v", p, m, err, bytes.Equal(buf, d.Pages[p]))
			}
		}
		// A read across every page of the run at an odd offset.
		whole := make([]byte, r.PageCount*kdw.PageSize-0x123)
		if m, err := f.ReadPhysical(whole, r.BasePage<<12+0x123); err != nil || m != len(whole) {
			t.Fatalf("run %+v: %d %v", r, m, err)
		}
		for i := uint64(0); i < uint64(len(whole)); i += 0x800 {
			pa := r.BasePage<<12 + 0x123 + i
			if whole[i] != d.Pages[pa>>12][pa&0xfff] {
				t.Fatalf("run %+v: byte at pa 0x%x differs", r, pa)
			}
		}
		for _, p := range []uint64{r.BasePage - 1, r.BasePage + r.PageCount} {
			if _, ok := d.Pages[p]; ok {
				continue
			}
			var pe *kdump.PageError
			if m, err := f.ReadPhysical(buf[:8], p<<12|8); m != 0 || !errors.As(err, &pe) || pe.PA != p<<12|8 || pe.Offset != 0 ||
				!errors.Is(err, kdump.ErrPageNotInDump) || errors.Is(err, kdump.ErrTruncated) {
				t.Errorf("pfn 0x%x outside the runs: %d %v", p, m, err)
			}
		}
		// A read running off the end of the run stops there.
		end := (r.BasePage + r.PageCount) << 12
		if _, ok := d.Pages[r.BasePage+r.PageCount]; !ok {
			if m, err := f.ReadPhysical(buf[:0x20], end-0x10); m != 0x10 || !errors.Is(err, kdump.ErrPageNotInDump) {
				t.Errorf("read off the end of run %+v: %d %v", r, m, err)
			}
		}
	}
}

// Every DumpType with physical memory round-trips through kdw and the reader,
// page for page.
func TestRoundTrip(t *testing.T) {
	for _, typ := range memTypes {
		t.Run(kdump.DumpTypeName(uint32(typ)), func(t *testing.T) {
			d := sample()
			b := render(t, d, typ)
			f := open(t, b)
			checkHeader(t, f, d, typ)
			checkPages(t, f, d)
			switch typ {
			case kdw.Full:
				pm := f.Header.PhysicalMemoryBlock
				if pm.Unused || int(pm.NumberOfRuns) != len(d.Runs) || pm.NumberOfPages != f.PageCount() {
					t.Errorf("PhysicalMemoryBlock %+v", pm)
				}
			case kdw.Summary, kdw.BitmapFull, kdw.BitmapKernel:
				sig := uint32(kdump.SignatureSDMP)
				if typ == kdw.BitmapFull {
					sig = kdump.SignatureFDMP
				}
				if f.Bitmap == nil || f.Bitmap.Signature != sig || f.Bitmap.Pages != d.MemoryPages || f.Bitmap.TotalPresentPages != f.PageCount() {
					t.Errorf("bitmap %+v", f.Bitmap)
				}
				if !f.Header.PhysicalMemoryBlock.Unused {
					t.Errorf("PhysicalMemoryBlock %+v, want unused", f.Header.PhysicalMemoryBlock)
				}
			default:
				if f.RDMP == nil || f.RDMP.RangePages != f.PageCount() || (typ == kdw.Complete) != (f.RDMP.TotalNumberOfPages == f.PageCount()) {
					t.Errorf("RDMP %+v", f.RDMP)
				}
			}
			if _, err := f.Triage(); err == nil {
				t.Error("Triage on a dump that is not a triage dump")
			}
		})
	}
}

// The bitmap index across many blocks: every other run of a 3-block
// bitmap, with runs that end and start on block boundaries.
func TestBitmapBlocks(t *testing.T) {
	d := &kdw.Dump{Pages: map[uint64][]byte{}, MemoryPages: 3*4096 + 5}
	for _, r := range []kdw.Run{{BasePage: 0, PageCount: 1}, {BasePage: 4095, PageCount: 2}, {BasePage: 5000, PageCount: 3}, {BasePage: 8191, PageCount: 1}, {BasePage: 8192, PageCount: 4096}, {BasePage: 3*4096 + 4, PageCount: 1}} {
		d.Runs = append(d.Runs, r)
		for p := r.BasePage; p < r.BasePage+r.PageCount; p++ {
			d.Pages[p] = page(p)[:64] // the rest of each page is zero
		}
	}
	for _, typ := range []int{kdw.BitmapKernel, kdw.Full} {
		f := open(t, render(t, d, typ))
		runs, err := f.Runs()
		want := 6 // a full dump lists the runs as written
		if typ == kdw.BitmapKernel {
			want = 5 // {8191,1} and {8192,4096} are one stretch of bits
		}
		if err != nil || len(runs) != want {
			t.Fatalf("%d runs %v %v", len(runs), runs, err)
		}
		buf := make([]byte, 64)
		for p, want := range d.Pages {
			if _, err := f.ReadPhysical(buf, p<<12); err != nil || !bytes.Equal(buf, want) {
				t.Fatalf("type %d page 0x%x: %v", typ, p, err)
			}
		}
		if _, err := f.PageOffset(3*4096 + 5); !errors.Is(err, kdump.ErrPageNotInDump) {
			t.Errorf("page past the bitmap: %v", err)
		}
	}
}

func TestHeaderOnly(t *testing.T) {
	d := sample()
	d.Runs, d.Pages = nil, nil
	f := open(t, render(t, d, kdw.HeaderOnly))
	checkHeader(t, f, d, kdw.HeaderOnly)
	if runs, err := f.Runs(); len(runs) != 0 || err != nil || f.PageCount() != 0 {
		t.Errorf("runs %v %v", runs, err)
	}
	if _, err := f.ReadPhysical(make([]byte, 8), 0x1000); !errors.Is(err, kdump.ErrPageNotInDump) {
		t.Error(err)
	}
}

// triageSample is a triage dump with every part. Its KDBG copy records the
// sizes of the KPRCB, EPROCESS and ETHREAD copies.
func triageSample(machine uint32) *kdw.Dump {
	d := sample()
	d.Runs, d.Pages, d.MachineImageType = nil, nil, machine
	kdbg := make([]byte, 0x340)
	binary.LittleEndian.PutUint32(kdbg[0x10:], 0x4742444B) // 'KDBG'
	binary.LittleEndian.PutUint32(kdbg[0x14:], uint32(len(kdbg)))
	binary.LittleEndian.PutUint16(kdbg[0x2A8:], 0x33) // SizeEProcess
	binary.LittleEndian.PutUint16(kdbg[0x2B0:], 0x41) // SizePrcb
	binary.LittleEndian.PutUint16(kdbg[0x2C0:], 0x55) // SizeEThread
	fill := func(n int, c byte) []byte { return bytes.Repeat([]byte{c}, n) }
	d.Triage = &kdw.Triage{
		ServicePackBuild: 0x4000, TriageOptions: 0x1f,
		Prcb: fill(0x41, 'p'), Process: fill(0x33, 'e'), Thread: fill(0x55, 't'),
		TopOfStack: 0xffffd00012345000, Stack: fill(0x3000, 's'),
		Mm: fill(0x20, 'm'), UnloadedDrivers: fill(0x10, 'u'),
		Drivers: []kdw.Driver{
			{Name: `\SystemRoot\system32\ntoskrnl.exe`, DllBase: 0xfffff80012000000, EntryPoint: 0xfffff80012400000, SizeOfImage: 0x800000, Flags: 0x8804000, LoadCount: 1, CheckSum: 0x7a1234, TimeDateStamp: 0x5e8c1234},
			{Name: "FooDRV.sys", DllBase: 0xfffff80100000000, SizeOfImage: 0x9000, TimeDateStamp: 0x11223344},
			{Name: "Ünïcode.sys", DllBase: 0xfffff80100010000, SizeOfImage: 0x1000},
		},
		DebuggerData: kdbg,
		DataPage:     kdw.Block{VirtualAddress: 0xfffff80012600000, Data: fill(0x1000, 'd')},
		DataBlocks: []kdw.Block{
			{VirtualAddress: 0xffffe00000100000, Data: fill(0x200, 'a')},
			{VirtualAddress: 0xffffe00000000000, Data: fill(0x10, 'b')},
		},
	}
	return d
}

func TestTriage(t *testing.T) {
	for _, machine := range []uint32{kdump.MachineAMD64, kdump.MachineARM64} {
		d := triageSample(machine)
		if machine == kdump.MachineARM64 {
			d.Context = bytes.Repeat([]byte{0xA6}, 0x390) // an ARM64 CONTEXT is 0x390 bytes
		}
		b := render(t, d, kdw.TriageDump)
		f := open(t, b)
		checkHeader(t, f, d, kdw.TriageDump)
		tr, err := f.Triage()
		if err != nil {
			t.Fatal(err)
		}
		w := d.Triage
		h := tr.Header
		if h.ServicePackBuild != w.ServicePackBuild || h.TriageOptions != w.TriageOptions || int(h.SizeOfDump) != len(b) ||
			string(b[h.ValidOffset:h.ValidOffset+4]) != "DUMP" || h.TopOfStack != w.TopOfStack {
			t.Errorf("triage header %+v", h)
		}
		if th, ok := f.TriageHeader(); !ok || th != h {
			t.Errorf("TriageHeader %+v %v", th, ok)
		}
		if !bytes.Equal(tr.Context, d.Context) {
			t.Errorf("context: %d bytes", len(tr.Context))
		}
		if tr.Exception == nil || tr.Exception.ExceptionCode != d.Exception.Code || tr.Exception.ExceptionAddress != d.Exception.Address {
			t.Errorf("exception %+v", tr.Exception)
		}
		for _, c := range []struct {
			got  kdump.Copy
			want []byte
		}{{tr.Prcb, w.Prcb}, {tr.Process, w.Process}, {tr.Thread, w.Thread}} {
			if !bytes.Equal(c.got.Data, c.want) || c.got.Offset == 0 {
				t.Errorf("copy at 0x%x: %q, want %q", c.got.Offset, c.got.Data, c.want)
			}
		}
		if tr.Stack.VirtualAddress != w.TopOfStack || !bytes.Equal(tr.Stack.Data, w.Stack) {
			t.Errorf("stack %x %d bytes", tr.Stack.VirtualAddress, len(tr.Stack.Data))
		}
		if tr.DebuggerData.VirtualAddress != d.KdDebuggerDataBlock || !bytes.Equal(tr.DebuggerData.Data, w.DebuggerData) {
			t.Error("KDBG copy")
		}
		if tr.DataPage.VirtualAddress != w.DataPage.VirtualAddress || !bytes.Equal(tr.DataPage.Data, w.DataPage.Data) {
			t.Error("data page")
		}
		if len(tr.DataBlocks) != len(w.DataBlocks) {
			t.Fatalf("%d data blocks", len(tr.DataBlocks))
		}
		for i, blk := range tr.DataBlocks {
			if blk.VirtualAddress != w.DataBlocks[i].VirtualAddress || !bytes.Equal(blk.Data, w.DataBlocks[i].Data) {
				t.Errorf("data block %d: %x", i, blk.VirtualAddress)
			}
		}
		mem := tr.Memory()
		if len(mem) != 5 || !slices.IsSortedFunc(mem, func(a, b kdump.Block) int { return int(a.VirtualAddress>>1) - int(b.VirtualAddress>>1) }) {
			t.Errorf("memory: %d blocks", len(mem))
		}
		if len(tr.Drivers) != len(w.Drivers) {
			t.Fatalf("%d drivers", len(tr.Drivers))
		}
		for i, drv := range tr.Drivers {
			wd := w.Drivers[i]
			n := uint16(2 * len(utf16.Encode([]rune(wd.Name))))
			if drv.Name != wd.Name || drv.DllBase != wd.DllBase || drv.EntryPoint != wd.EntryPoint || drv.SizeOfImage != wd.SizeOfImage ||
				drv.Flags != wd.Flags || drv.LoadCount != wd.LoadCount || drv.CheckSum != wd.CheckSum || drv.TimeDateStamp != wd.TimeDateStamp ||
				drv.BaseDllName.Length != n || len(drv.LdrEntry) != 0x88 {
				t.Errorf("driver %d: %+v, want %+v", i, drv, wd)
			}
			if drv.DriverNameOffset < h.StringPoolOffset || drv.DriverNameOffset >= h.StringPoolOffset+h.StringPoolSize {
				t.Errorf("driver %d's name at 0x%x lies outside the string pool", i, drv.DriverNameOffset)
			}
		}
		if len(tr.StringPool) != int(h.StringPoolSize) {
			t.Errorf("string pool %d bytes", len(tr.StringPool))
		}
		if runs, _ := f.Runs(); len(runs) != 0 {
			t.Errorf("a triage dump with runs %v", runs)
		}
		// Without a KDBG copy, the structure copies run to the next part.
		d.Triage.DebuggerData = nil
		tr2, err := open(t, render(t, d, kdw.TriageDump)).Triage()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(tr2.Thread.Data, w.Thread) || len(tr2.Thread.Data) > len(w.Thread)+15 {
			t.Errorf("thread copy without KDBG: %d bytes", len(tr2.Thread.Data))
		}
	}
}
