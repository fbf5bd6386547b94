// Package kdw writes 64-bit Windows kernel crash dumps (PAGEDU64) for tests
// and scenario builders, in every DumpType dumpfmt/kdump reads: full (1),
// summary and bitmap (2, 5, 6), triage (4), the RDMP forms (8, 9, 0xA) and
// header-only (3). It is written from formats-spec.md §2 on its own and
// imports nothing from dumpfmt, so a round trip through the reader checks
// both against the spec text rather than against each other's code.
//
// The caller supplies the physical memory: Runs says which page frames the
// dump holds, Pages the content of some of them (the rest are zero). Write
// puts only the header, the run list or bitmap and the pages with content
// into an io.WriterAt, so a dump of 64 GiB of physical memory written to an
// *os.File is sparse: a few MiB on disk.
package kdw

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"unicode/utf16"
)

// PageSize is the size of a physical page.
const PageSize = 0x1000

// DumpType values (formats-spec.md §2.2).
const (
	Full          = 0x1
	Summary       = 0x2
	HeaderOnly    = 0x3
	TriageDump    = 0x4
	BitmapFull    = 0x5
	BitmapKernel  = 0x6
	KernelMemory  = 0x8
	KernelAndUser = 0x9
	Complete      = 0xA
)

// Run is a range of page frames.
type Run struct {
	BasePage  uint64
	PageCount uint64
}

// Exception is the EXCEPTION_RECORD64 written into the header.
type Exception struct {
	Code             uint32
	Flags            uint32
	Record           uint64
	Address          uint64
	NumberParameters uint32
	Information      [15]uint64
}

// Dump is a kernel dump to write. Zero fields are written as zero, except
// where a field says otherwise.
type Dump struct {
	MajorVersion        uint32 // 0 writes 0xF (a free build)
	MinorVersion        uint32 // the build number
	DirectoryTableBase  uint64
	PfnDataBase         uint64
	PsLoadedModuleList  uint64
	PsActiveProcessHead uint64
	MachineImageType    uint32 // 0 writes 0x8664
	NumberProcessors    uint32
	BugCheckCode        uint32
	BugCheckParameters  [4]uint64
	KdDebuggerDataBlock uint64
	Context             []byte // the ContextRecord, at most 3000 bytes
	Exception           Exception
	RequiredDumpSpace   int64 // 0 writes the file size
	SystemTime          int64 // FILETIME
	SystemUpTime        int64 // 100 ns units
	Comment             string
	MiniDumpFields      uint32
	SecondaryDataState  uint32
	ProductType         uint32
	SuiteMask           uint32
	WriterStatus        uint32
	KdSecondaryVersion  uint8
	Attributes          uint32
	BootId              uint32

	// Runs are the page frames the dump holds, sorted and not overlapping.
	// Nil means the frames of Pages, merged into runs.
	Runs []Run
	// Pages holds page contents by page frame number, each at most
	// PageSize bytes (shorter ones are padded with zeros). Every frame must
	// lie in Runs; frames of Runs without an entry are zero.
	Pages map[uint64][]byte
	// MemoryPages is the bit count of the bitmap of DumpType 2, 5 and 6 (the
	// page frames the machine has); 0 means the end of the last run.
	MemoryPages uint64
	// BitmapSignature is "SDMP" or "FDMP"; "" writes FDMP for DumpType 5
	// and SDMP for 2 and 6.
	BitmapSignature string
	// PhysicalMemoryBlock is written into the header of dumps other than
	// full dumps (which list Runs there); nil leaves the block unused, filled
	// with 'PAGE' as Windows leaves unused header bytes.
	PhysicalMemoryBlock []Run

	// Triage is the content of a triage dump (DumpType 4).
	Triage *Triage
}

// Header layout (formats-spec.md §2.1).
const (
	headerSize   = 0x2000
	contextAt    = 0x348
	contextSize  = 3000
	exceptionAt  = 0xF00
	dumpTypeAt   = 0xF98
	commentAt    = 0xFB0
	maxFullRuns  = 42 // runs that fit in the 700-byte PhysicalMemoryBlock
	bitmapBitsAt = headerSize + 0x38
)

// Bytes renders the dump as dumpType in memory (for dumps up to 1 GiB; use
// Write with a file for larger ones).
func (d *Dump) Bytes(dumpType int) ([]byte, error) {
	p, err := d.plan(dumpType)
	if err != nil {
		return nil, err
	}
	if p.size > 1<<30 {
		return nil, fmt.Errorf("kdw: a 0x%x-byte dump is too large for Bytes; use Write with a sparse file", p.size)
	}
	buf := &memFile{b: make([]byte, p.size)}
	if _, err := d.write(buf, p); err != nil {
		return nil, err
	}
	return buf.b, nil
}

// Write writes the dump as dumpType into w and returns its size. Only the
// header, what follows it and the pages with content are written (and one
// zero byte at the end when nothing else lies there, so a file grows to its
// full size); on an *os.File the zero pages are holes.
func (d *Dump) Write(w io.WriterAt, dumpType int) (int64, error) {
	p, err := d.plan(dumpType)
	if err != nil {
		return 0, err
	}
	return d.write(w, p)
}

// plan is where everything goes.
type plan struct {
	dumpType  int
	runs      []Run
	meta      []byte // what follows the header at 0x2000
	firstPage int64  // file offset of the first page (the j-th present page is at firstPage + j·PageSize)
	size      int64
	pmb       []Run // written into PhysicalMemoryBlock; nil for 'PAGE'
}

func (d *Dump) plan(dumpType int) (*plan, error) {
	p := &plan{dumpType: dumpType}
	runs, err := d.runs()
	if err != nil {
		return nil, err
	}
	var pages uint64
	for _, r := range runs {
		pages += r.PageCount
	}
	p.runs = runs
	p.pmb = d.PhysicalMemoryBlock
	switch dumpType {
	case Full:
		if len(runs) > maxFullRuns {
			return nil, fmt.Errorf("kdw: %d runs do not fit in a full dump's header (at most %d)", len(runs), maxFullRuns)
		}
		p.pmb = runs
		if p.pmb == nil {
			p.pmb = []Run{}
		}
		p.firstPage = headerSize
	case Summary, BitmapFull, BitmapKernel:
		bits := d.MemoryPages
		if n := len(runs); n > 0 && runs[n-1].BasePage+runs[n-1].PageCount > bits {
			if bits != 0 {
				return nil, fmt.Errorf("kdw: MemoryPages 0x%x ends before the last run", bits)
			}
			bits = runs[n-1].BasePage + runs[n-1].PageCount
		}
		sig := d.BitmapSignature
		if sig == "" {
			sig = "SDMP"
			if dumpType == BitmapFull {
				sig = "FDMP"
			}
		}
		if sig != "SDMP" && sig != "FDMP" {
			return nil, fmt.Errorf("kdw: bitmap signature %q", sig)
		}
		nbytes := (bits + 7) / 8
		p.firstPage = alignUp(bitmapBitsAt+int64(nbytes), PageSize)
		m := make([]byte, 0x38+nbytes)
		copy(m[0:], sig)
		copy(m[4:], "DUMP")
		put64(m, 0x20, uint64(p.firstPage))
		put64(m, 0x28, pages)
		put64(m, 0x30, bits)
		for _, r := range runs {
			setBits(m[0x38:], r.BasePage, r.PageCount)
		}
		p.meta = m
	case KernelMemory, KernelAndUser, Complete:
		// RDMP (formats-spec.md §2.4): the range list from 0x2030, ended by a
		// zero entry; the metadata starts at 0x2020 and the pages follow it,
		// so MetadataSize = FirstPageOffset - 0x2020.
		for _, r := range runs {
			if r.BasePage == 0 {
				return nil, fmt.Errorf("kdw: an RDMP dump cannot hold PFN 0 (a PFN of 0 ends its range list)")
			}
		}
		p.firstPage = alignUp(headerSize+0x30+16*int64(len(runs)+1), PageSize)
		m := make([]byte, p.firstPage-headerSize)
		put32(m, 0, 0x40)
		copy(m[4:], "RDMP")
		copy(m[8:], "DUMP")
		put64(m, 0x10, uint64(p.firstPage-0x2020))
		put64(m, 0x18, uint64(p.firstPage))
		if dumpType == Complete {
			put32(m, 0x20, uint32(len(runs)))
			put64(m, 0x28, pages)
		}
		for i, r := range runs {
			put64(m, 0x30+16*i, r.BasePage)
			put64(m, 0x38+16*i, r.PageCount)
		}
		p.meta = m
	case TriageDump:
		if d.Triage == nil {
			return nil, fmt.Errorf("kdw: a triage dump needs Dump.Triage")
		}
		if len(runs) > 0 {
			return nil, fmt.Errorf("kdw: a triage dump holds no physical memory; Runs and Pages must be empty")
		}
		m, err := d.Triage.render(d)
		if err != nil {
			return nil, err
		}
		p.meta = m
		p.firstPage = headerSize + int64(len(m))
	case HeaderOnly:
		p.firstPage = headerSize
		if len(runs) > 0 {
			return nil, fmt.Errorf("kdw: a header-only dump holds no physical memory")
		}
	default:
		return nil, fmt.Errorf("kdw: DumpType 0x%x is not one kdw writes", dumpType)
	}
	p.size = p.firstPage + int64(pages)*PageSize
	if p.meta != nil && headerSize+int64(len(p.meta)) > p.size {
		p.size = headerSize + int64(len(p.meta))
	}
	return p, nil
}

// runs validates Runs and Pages, or derives the runs from Pages.
func (d *Dump) runs() ([]Run, error) {
	for pfn, b := range d.Pages {
		if len(b) > PageSize {
			return nil, fmt.Errorf("kdw: page 0x%x has %d bytes", pfn, len(b))
		}
	}
	if d.Runs == nil {
		pfns := make([]uint64, 0, len(d.Pages))
		for pfn := range d.Pages {
			pfns = append(pfns, pfn)
		}
		slices.Sort(pfns)
		var runs []Run
		for _, pfn := range pfns {
			if n := len(runs); n > 0 && runs[n-1].BasePage+runs[n-1].PageCount == pfn {
				runs[n-1].PageCount++
			} else {
				runs = append(runs, Run{pfn, 1})
			}
		}
		return runs, nil
	}
	for i, r := range d.Runs {
		if r.PageCount == 0 || r.BasePage+r.PageCount < r.BasePage || r.BasePage+r.PageCount > 1<<52 {
			return nil, fmt.Errorf("kdw: run %d %+v", i, r)
		}
		if i > 0 && r.BasePage < d.Runs[i-1].BasePage+d.Runs[i-1].PageCount {
			return nil, fmt.Errorf("kdw: run %d %+v is not after run %d", i, r, i-1)
		}
	}
	for pfn := range d.Pages {
		if _, ok := index(d.Runs, pfn); !ok {
			return nil, fmt.Errorf("kdw: page 0x%x lies in no run", pfn)
		}
	}
	return d.Runs, nil
}

// index is the position of pfn among the pages of runs.
func index(runs []Run, pfn uint64) (uint64, bool) {
	n := uint64(0)
	for _, r := range runs {
		if pfn >= r.BasePage && pfn < r.BasePage+r.PageCount {
			return n + pfn - r.BasePage, true
		}
		n += r.PageCount
	}
	return 0, false
}

func (d *Dump) write(w io.WriterAt, p *plan) (int64, error) {
	h := d.header(p)
	if _, err := w.WriteAt(h, 0); err != nil {
		return 0, err
	}
	end := int64(len(h))
	if len(p.meta) > 0 {
		if _, err := w.WriteAt(p.meta, headerSize); err != nil {
			return 0, err
		}
		end = headerSize + int64(len(p.meta))
	}
	// Prefix sums make the page lookups cheap for many runs.
	starts := make([]uint64, len(p.runs))
	n := uint64(0)
	for i, r := range p.runs {
		starts[i] = n
		n += r.PageCount
	}
	pfns := make([]uint64, 0, len(d.Pages))
	for pfn := range d.Pages {
		pfns = append(pfns, pfn)
	}
	slices.Sort(pfns)
	for _, pfn := range pfns {
		i, _ := slices.BinarySearchFunc(p.runs, pfn, func(r Run, x uint64) int {
			if r.BasePage+r.PageCount <= x {
				return -1
			}
			if r.BasePage > x {
				return 1
			}
			return 0
		})
		off := p.firstPage + int64(starts[i]+pfn-p.runs[i].BasePage)*PageSize
		if _, err := w.WriteAt(d.Pages[pfn], off); err != nil {
			return 0, err
		}
		end = max(end, off+int64(len(d.Pages[pfn])))
	}
	if end < p.size {
		if _, err := w.WriteAt([]byte{0}, p.size-1); err != nil {
			return 0, err
		}
	}
	return p.size, nil
}

// header renders DUMP_HEADER64: 'PAGE' everywhere, then the fields.
func (d *Dump) header(p *plan) []byte {
	h := make([]byte, headerSize)
	for i := 0; i < len(h); i += 4 {
		copy(h[i:], "PAGE")
	}
	copy(h[0:], "PAGEDU64")
	major, machine := d.MajorVersion, d.MachineImageType
	if major == 0 {
		major = 0xF
	}
	if machine == 0 {
		machine = 0x8664
	}
	put32(h, 0x08, major)
	put32(h, 0x0C, d.MinorVersion)
	put64(h, 0x10, d.DirectoryTableBase)
	put64(h, 0x18, d.PfnDataBase)
	put64(h, 0x20, d.PsLoadedModuleList)
	put64(h, 0x28, d.PsActiveProcessHead)
	put32(h, 0x30, machine)
	put32(h, 0x34, d.NumberProcessors)
	put32(h, 0x38, d.BugCheckCode)
	put32(h, 0x3C, 0)
	for i, v := range d.BugCheckParameters {
		put64(h, 0x40+8*i, v)
	}
	put64(h, 0x80, d.KdDebuggerDataBlock)
	if p.pmb != nil {
		// PHYSICAL_MEMORY_DESCRIPTOR64: NumberOfRuns u32, pad, NumberOfPages
		// u64, Run[] {BasePage, PageCount} from +0x10 (§2.1, §8.1).
		put32(h, 0x88, uint32(len(p.pmb)))
		put32(h, 0x8C, 0)
		var n uint64
		for i, r := range p.pmb {
			put64(h, 0x98+16*i, r.BasePage)
			put64(h, 0xA0+16*i, r.PageCount)
			n += r.PageCount
		}
		put64(h, 0x90, n)
	}
	clear(h[contextAt : contextAt+contextSize])
	copy(h[contextAt:contextAt+contextSize], d.Context)
	putException(h[exceptionAt:], d.Exception)
	put32(h, dumpTypeAt, uint32(p.dumpType))
	put32(h, dumpTypeAt+4, 0)
	space := d.RequiredDumpSpace
	if space == 0 {
		space = p.size
	}
	put64(h, 0xFA0, uint64(space))
	put64(h, 0xFA8, uint64(d.SystemTime))
	if d.Comment != "" {
		c := h[commentAt : commentAt+128]
		clear(c)
		copy(c[:127], d.Comment)
	}
	put64(h, 0x1030, uint64(d.SystemUpTime))
	put32(h, 0x1038, d.MiniDumpFields)
	put32(h, 0x103C, d.SecondaryDataState)
	put32(h, 0x1040, d.ProductType)
	put32(h, 0x1044, d.SuiteMask)
	put32(h, 0x1048, d.WriterStatus)
	h[0x104C] = 0
	h[0x104D] = d.KdSecondaryVersion
	h[0x104E], h[0x104F] = 0, 0
	put32(h, 0x1050, d.Attributes)
	put32(h, 0x1054, d.BootId)
	return h
}

func putException(b []byte, e Exception) {
	put32(b, 0, e.Code)
	put32(b, 4, e.Flags)
	put64(b, 8, e.Record)
	put64(b, 0x10, e.Address)
	put32(b, 0x18, e.NumberParameters)
	put32(b, 0x1C, 0)
	for i, v := range e.Information {
		put64(b, 0x20+8*i, v)
	}
}

// Triage is the content of a triage dump (TRIAGE_DUMP64, formats-spec.md
// §2.5). Empty parts are left out (their offset is 0).
type Triage struct {
	ServicePackBuild uint32
	TriageOptions    uint32
	// Context is the crashing thread's CONTEXT; nil writes Dump.Context
	// (its first 0x4D0 bytes).
	Context []byte
	// Exception nil writes Dump.Exception.
	Exception       *Exception
	Mm              []byte // raw bytes at MmOffset
	UnloadedDrivers []byte // raw bytes at UnloadedDriversOffset
	Prcb            []byte // the KPRCB copy
	Process         []byte // the EPROCESS copy
	Thread          []byte // the ETHREAD copy
	TopOfStack      uint64
	Stack           []byte
	Drivers         []Driver
	// DebuggerData is the KDDEBUGGER_DATA64 copy (at Dump.KdDebuggerDataBlock).
	DebuggerData []byte
	DataPage     Block
	DataBlocks   []Block
}

// Driver is one entry of the triage driver list.
type Driver struct {
	Name          string
	DllBase       uint64
	EntryPoint    uint64
	SizeOfImage   uint32
	Flags         uint32
	LoadCount     uint16
	CheckSum      uint32
	TimeDateStamp uint32
}

// Block is virtual memory copied into a triage dump.
type Block struct {
	VirtualAddress uint64
	Data           []byte
}

// render lays the triage parts out after the 0x80-byte TRIAGE_DUMP64 at
// 0x2000, each 16-byte aligned, and ends the dump with the 'DUMP' marker
// at ValidOffset. It returns the bytes from 0x2000.
func (t *Triage) render(d *Dump) ([]byte, error) {
	m := make([]byte, 0x80)
	at := func() uint32 { return uint32(headerSize + len(m)) }
	add := func(b []byte) uint32 {
		if len(b) == 0 {
			return 0
		}
		for len(m)%16 != 0 {
			m = append(m, 0)
		}
		off := at()
		m = append(m, b...)
		return off
	}
	ctx := t.Context
	if ctx == nil {
		ctx = d.Context[:min(len(d.Context), 0x4D0)]
	}
	ex := d.Exception
	if t.Exception != nil {
		ex = *t.Exception
	}
	eb := make([]byte, 0x98)
	putException(eb, ex)
	h := make([]byte, 0x80)
	put32(h, 0x00, t.ServicePackBuild)
	put32(h, 0x0C, add(ctx))
	put32(h, 0x10, add(eb))
	put32(h, 0x14, add(t.Mm))
	put32(h, 0x18, add(t.UnloadedDrivers))
	put32(h, 0x1C, add(t.Prcb))
	put32(h, 0x20, add(t.Process))
	put32(h, 0x24, add(t.Thread))
	put32(h, 0x28, add(t.Stack))
	put32(h, 0x2C, uint32(len(t.Stack)))
	put64(h, 0x48, t.TopOfStack)
	put32(h, 0x44, t.TriageOptions)
	// The driver list: DUMP_DRIVER_ENTRY64 {DriverNameOffset u32, pad,
	// KLDR_DATA_TABLE_ENTRY64 (0x88)}; the names follow in the string pool as
	// {count u32, UTF-16[count], NUL}.
	if len(t.Drivers) > 0 {
		list := make([]byte, 0x90*len(t.Drivers))
		listAt := add(list)
		var pool []byte
		for len(m)%16 != 0 {
			m = append(m, 0)
		}
		poolAt := at()
		for i, drv := range t.Drivers {
			u := utf16.Encode([]rune(drv.Name))
			for len(pool)%4 != 0 {
				pool = append(pool, 0)
			}
			nameAt := poolAt + uint32(len(pool))
			pool = binary.LittleEndian.AppendUint32(pool, uint32(len(u)))
			for _, c := range u {
				pool = binary.LittleEndian.AppendUint16(pool, c)
			}
			pool = append(pool, 0, 0)
			e := m[listAt-headerSize+uint32(i)*0x90:]
			put32(e, 0, nameAt)
			l := e[8:]
			put64(l, 0x30, drv.DllBase)
			put64(l, 0x38, drv.EntryPoint)
			put32(l, 0x40, drv.SizeOfImage)
			for _, o := range []int{0x48, 0x58} { // FullDllName, BaseDllName
				put16(l, o, uint16(2*len(u)))
				put16(l, o+2, uint16(2*len(u)+2))
			}
			put32(l, 0x68, drv.Flags)
			put16(l, 0x6C, drv.LoadCount)
			put32(l, 0x78, drv.CheckSum)
			put32(l, 0x80, drv.TimeDateStamp)
		}
		m = append(m, pool...)
		put32(h, 0x30, listAt)
		put32(h, 0x34, uint32(len(t.Drivers)))
		put32(h, 0x38, poolAt)
		put32(h, 0x3C, uint32(len(pool)))
	}
	put32(h, 0x70, add(t.DebuggerData))
	put32(h, 0x74, uint32(len(t.DebuggerData)))
	put64(h, 0x60, t.DataPage.VirtualAddress)
	put32(h, 0x68, add(t.DataPage.Data))
	put32(h, 0x6C, uint32(len(t.DataPage.Data)))
	if len(t.DataBlocks) > 0 {
		tab := make([]byte, 16*len(t.DataBlocks))
		tabAt := add(tab)
		for i, b := range t.DataBlocks {
			off := add(b.Data) // may move m: index the table after it
			e := m[tabAt-headerSize+uint32(16*i):]
			put64(e, 0, b.VirtualAddress)
			put32(e, 8, off)
			put32(e, 12, uint32(len(b.Data)))
		}
		put32(h, 0x78, tabAt)
		put32(h, 0x7C, uint32(len(t.DataBlocks)))
	}
	valid := add([]byte("DUMP"))
	put32(h, 0x08, valid)
	put32(h, 0x04, at())
	if int64(at()) != int64(headerSize+len(m)) || len(m) > 1<<30 {
		return nil, fmt.Errorf("kdw: triage dump too large")
	}
	copy(m, h)
	return m, nil
}

func setBits(bm []byte, start, count uint64) {
	for count > 0 && start%8 != 0 {
		bm[start/8] |= 1 << (start % 8)
		start++
		count--
	}
	for count >= 8 {
		bm[start/8] = 0xFF
		start += 8
		count -= 8
	}
	for ; count > 0; count-- {
		bm[start/8] |= 1 << (start % 8)
		start++
	}
}

func alignUp(v, a int64) int64 { return (v + a - 1) &^ (a - 1) }

func put16(b []byte, off int, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }
func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
func put64(b []byte, off int, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }

// memFile is an io.WriterAt over a fixed buffer.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.b)) {
		return 0, fmt.Errorf("kdw: write of %d bytes at 0x%x outside the 0x%x-byte dump", len(p), off, len(m.b))
	}
	return copy(m.b[off:], p), nil
}
