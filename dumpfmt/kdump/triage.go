package kdump

import (
	"slices"
	"unicode/utf16"

	"github.com/ntdbg/ntdbg/dumpfmt/internal/decode"
)

// TriageHeader is TRIAGE_DUMP64 at 0x2000 of a triage dump (DumpType 4;
// formats-spec.md §2.5, after rizin's dmp64_triage). Every *Offset is a file
// offset.
type TriageHeader struct {
	ServicePackBuild      uint32
	SizeOfDump            uint32
	ValidOffset           uint32
	ContextOffset         uint32
	ExceptionOffset       uint32
	MmOffset              uint32
	UnloadedDriversOffset uint32
	PrcbOffset            uint32
	ProcessOffset         uint32
	ThreadOffset          uint32
	CallStackOffset       uint32
	SizeOfCallStack       uint32
	DriverListOffset      uint32
	DriverCount           uint32
	StringPoolOffset      uint32
	StringPoolSize        uint32
	BrokenDriverOffset    uint32
	TriageOptions         uint32
	TopOfStack            uint64
	ArchitectureSpecific  [16]byte // IA-64 backing store; unused on x64 and ARM64
	DataPageAddress       uint64
	DataPageOffset        uint32
	DataPageSize          uint32
	DebuggerDataOffset    uint32
	DebuggerDataSize      uint32
	DataBlocksOffset      uint32
	DataBlocksCount       uint32
}

const triageHeaderSize = 0x80

// Block is virtual memory a triage dump copied: VirtualAddress's bytes at
// file offset Offset.
type Block struct {
	VirtualAddress uint64
	Offset         uint32
	Data           []byte
}

// Copy is a structure a triage dump copied (the KPRCB, EPROCESS, ETHREAD of
// the crash) at file offset Offset. The dump records no size for these:
// Data's length comes from the KDBG copy (SizePrcb, SizeEProcess,
// SizeEThread) when the dump holds one, else Data runs to the next part of
// the dump, so it may include padding.
type Copy struct {
	Offset uint32
	Data   []byte
}

// UnicodeString64 is a UNICODE_STRING64 as copied (the buffer address is a
// pointer in the crashed system).
type UnicodeString64 struct {
	Length, MaximumLength uint16
	Buffer                uint64
}

// Driver is one DUMP_DRIVER_ENTRY64 of a triage dump's driver list: the
// name from the string pool and the KLDR_DATA_TABLE_ENTRY64 copy (rizin's
// layout: DllBase 0x30, SizeOfImage 0x40, names 0x48/0x58, Flags 0x68,
// LoadCount 0x6C, CheckSum 0x78, TimeDateStamp 0x80; 0x88 bytes).
type Driver struct {
	Name             string
	DriverNameOffset uint32
	DllBase          uint64
	EntryPoint       uint64
	SizeOfImage      uint32
	FullDllName      UnicodeString64
	BaseDllName      UnicodeString64
	Flags            uint32
	LoadCount        uint16
	CheckSum         uint32
	TimeDateStamp    uint32
	LdrEntry         []byte // the raw 0x88-byte copy
}

const (
	driverEntrySize = 0x90
	ldrEntrySize    = 0x88
	dataBlockSize   = 0x10
	maxNameChars    = 0x1000
	// maxTriageFile bounds the file Triage loads whole; triage dumps
	// Windows writes are a few hundred KiB to a few MiB.
	maxTriageFile = 1 << 30
)

// Triage is the decoded triage dump. Data slices share one buffer holding the
// file; they are capped, so appending to one does not write into another.
type Triage struct {
	Header    TriageHeader
	Context   []byte             // CONTEXT of the crashing thread (at ContextOffset), nil when absent
	Exception *ExceptionRecord64 // at ExceptionOffset, nil when absent
	Prcb      Copy
	Process   Copy
	Thread    Copy
	Stack     Block // SizeOfCallStack bytes from TopOfStack
	// DebuggerData is the KDDEBUGGER_DATA64 copy; its address is the
	// header's KdDebuggerDataBlock.
	DebuggerData Block
	DataPage     Block
	DataBlocks   []Block
	Drivers      []Driver
	StringPool   []byte
}

// Memory lists the triage dump's virtual memory copies (stack, KDBG, data
// page, data blocks) that hold bytes, sorted by address.
func (t *Triage) Memory() []Block {
	var m []Block
	for _, b := range append([]Block{t.Stack, t.DebuggerData, t.DataPage}, t.DataBlocks...) {
		if len(b.Data) > 0 {
			m = append(m, b)
		}
	}
	slices.SortStableFunc(m, func(a, b Block) int {
		switch {
		case a.VirtualAddress < b.VirtualAddress:
			return -1
		case a.VirtualAddress > b.VirtualAddress:
			return 1
		}
		return 0
	})
	return m
}

func (f *File) openTriage() error {
	b, err := f.read(HeaderSize, triageHeaderSize, "TRIAGE_DUMP64")
	if err != nil {
		return err
	}
	d := decode.New("kdump", "TRIAGE_DUMP64", b, HeaderSize)
	h := &f.tHead
	for _, p := range []*uint32{&h.ServicePackBuild, &h.SizeOfDump, &h.ValidOffset, &h.ContextOffset, &h.ExceptionOffset,
		&h.MmOffset, &h.UnloadedDriversOffset, &h.PrcbOffset, &h.ProcessOffset, &h.ThreadOffset, &h.CallStackOffset,
		&h.SizeOfCallStack, &h.DriverListOffset, &h.DriverCount, &h.StringPoolOffset, &h.StringPoolSize,
		&h.BrokenDriverOffset, &h.TriageOptions} {
		*p = d.U32()
	}
	h.TopOfStack = d.U64()
	copy(h.ArchitectureSpecific[:], d.Bytes(16))
	h.DataPageAddress = d.U64()
	h.DataPageOffset, h.DataPageSize, h.DebuggerDataOffset, h.DebuggerDataSize = d.U32(), d.U32(), d.U32(), d.U32()
	h.DataBlocksOffset, h.DataBlocksCount = d.U32(), d.U32()
	return d.Err()
}

// TriageHeader returns the TRIAGE_DUMP64 of a triage dump (read at open).
func (f *File) TriageHeader() (TriageHeader, bool) {
	return f.tHead, f.Header.DumpType == DumpTriage
}

// Triage decodes the parts of a triage dump (DumpType 4) the first time it is
// called: the context and exception copies, the KPRCB, EPROCESS and ETHREAD
// copies, the stack, the KDBG copy, the data page and data blocks, and the
// driver list with its names. Every offset and count is checked against the
// file before anything is read.
func (f *File) Triage() (*Triage, error) {
	if f.Header.DumpType != DumpTriage {
		return nil, errAt(offDumpType, "TRIAGE_DUMP64", "DumpType %s is not a triage dump", DumpTypeName(f.Header.DumpType))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.triage == nil && f.tErr == nil {
		f.triage, f.tErr = f.decodeTriage()
	}
	return f.triage, f.tErr
}

func (f *File) decodeTriage() (*Triage, error) {
	if f.size > maxTriageFile {
		return nil, errAt(HeaderSize, "TRIAGE_DUMP64", "a 0x%x-byte triage dump is larger than the 1 GiB this reader loads", f.size)
	}
	file, err := f.read(0, f.size, "triage dump")
	if err != nil {
		return nil, err
	}
	h := f.tHead
	t := &Triage{Header: h}
	part := func(off, n uint32, what string) ([]byte, error) {
		if off == 0 && n == 0 {
			return nil, nil
		}
		if uint64(off)+uint64(n) > uint64(len(file)) {
			return nil, errAt(int64(off), what, "0x%x bytes at 0x%x lie past the end of the 0x%x-byte file", n, off, len(file))
		}
		return file[off : off+n : off+n], nil
	}
	if h.ContextOffset != 0 {
		n := uint32(0x4D0)
		switch f.Header.MachineImageType {
		case MachineARM64:
			n = 0x390
		case MachineI386:
			n = 0x2CC
		}
		if t.Context, err = part(h.ContextOffset, n, "triage CONTEXT"); err != nil {
			return nil, err
		}
	}
	if h.ExceptionOffset != 0 {
		b, err := part(h.ExceptionOffset, ExceptionRecordSize, "triage EXCEPTION_RECORD64")
		if err != nil {
			return nil, err
		}
		e := decodeException(decode.New("kdump", "triage EXCEPTION_RECORD64", b, int64(h.ExceptionOffset)))
		t.Exception = &e
	}
	if t.Stack.Data, err = part(h.CallStackOffset, h.SizeOfCallStack, "triage call stack"); err != nil {
		return nil, err
	}
	t.Stack.VirtualAddress, t.Stack.Offset = h.TopOfStack, h.CallStackOffset
	if t.DebuggerData.Data, err = part(h.DebuggerDataOffset, h.DebuggerDataSize, "triage KDDEBUGGER_DATA64"); err != nil {
		return nil, err
	}
	t.DebuggerData.VirtualAddress, t.DebuggerData.Offset = f.Header.KdDebuggerDataBlock, h.DebuggerDataOffset
	if t.DataPage.Data, err = part(h.DataPageOffset, h.DataPageSize, "triage data page"); err != nil {
		return nil, err
	}
	t.DataPage.VirtualAddress, t.DataPage.Offset = h.DataPageAddress, h.DataPageOffset
	if t.StringPool, err = part(h.StringPoolOffset, h.StringPoolSize, "triage string pool"); err != nil {
		return nil, err
	}
	if h.DataBlocksCount > 0 {
		if uint64(h.DataBlocksOffset) > uint64(len(file)) || uint64(h.DataBlocksCount)*dataBlockSize > uint64(len(file))-uint64(h.DataBlocksOffset) {
			return nil, errAt(int64(h.DataBlocksOffset), "triage data blocks", "%d entries of 16 bytes do not fit in the 0x%x-byte file", h.DataBlocksCount, len(file))
		}
		tab := file[h.DataBlocksOffset:]
		t.DataBlocks = make([]Block, h.DataBlocksCount)
		for i := range t.DataBlocks {
			e := tab[i*dataBlockSize:]
			b := Block{VirtualAddress: le64(e, 0), Offset: le32(e, 8)}
			if b.Data, err = part(b.Offset, le32(e, 12), "triage data block"); err != nil {
				return nil, err
			}
			t.DataBlocks[i] = b
		}
	}
	if h.DriverCount > 0 {
		if uint64(h.DriverListOffset) > uint64(len(file)) || uint64(h.DriverCount)*driverEntrySize > uint64(len(file))-uint64(h.DriverListOffset) {
			return nil, errAt(int64(h.DriverListOffset), "triage driver list", "%d entries of 0x%x bytes do not fit in the 0x%x-byte file", h.DriverCount, driverEntrySize, len(file))
		}
		t.Drivers = make([]Driver, h.DriverCount)
		for i := range t.Drivers {
			at := h.DriverListOffset + uint32(i)*driverEntrySize
			if t.Drivers[i], err = driver(file, at); err != nil {
				return nil, err
			}
		}
	}
	t.Prcb, t.Process, t.Thread = Copy{Offset: h.PrcbOffset}, Copy{Offset: h.ProcessOffset}, Copy{Offset: h.ThreadOffset}
	// The sizes' offsets in KDDEBUGGER_DATA64 (formats-spec.md §2.7).
	kdbg := []struct {
		c      *Copy
		sizeAt int
	}{{&t.Prcb, 0x2B0}, {&t.Process, 0x2A8}, {&t.Thread, 0x2C0}}
	ends := []uint32{h.ValidOffset, h.ContextOffset, h.ExceptionOffset, h.MmOffset, h.UnloadedDriversOffset, h.PrcbOffset,
		h.ProcessOffset, h.ThreadOffset, h.CallStackOffset, h.DriverListOffset, h.StringPoolOffset, h.BrokenDriverOffset,
		h.DataPageOffset, h.DebuggerDataOffset, h.DataBlocksOffset, h.SizeOfDump, uint32(min(int64(len(file)), 1<<32-1))}
	for _, k := range kdbg {
		c := k.c
		if c.Offset == 0 {
			continue
		}
		n := uint32(0)
		if dd := t.DebuggerData.Data; len(dd) >= 0x2C2 && le32(dd, 0x10) == 0x4742444B {
			n = uint32(le16(dd, k.sizeAt))
		}
		if n == 0 {
			next := uint32(len(file))
			for _, e := range ends {
				if e > c.Offset && e < next {
					next = e
				}
			}
			if next > c.Offset {
				n = next - c.Offset
			}
		}
		if c.Data, err = part(c.Offset, n, "triage structure copy"); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func driver(file []byte, at uint32) (Driver, error) {
	e := file[at : at+driverEntrySize]
	l := e[8 : 8+ldrEntrySize : 8+ldrEntrySize]
	us := func(o int) UnicodeString64 {
		return UnicodeString64{Length: le16(l, o), MaximumLength: le16(l, o+2), Buffer: le64(l, o+8)}
	}
	d := Driver{DriverNameOffset: le32(e, 0), DllBase: le64(l, 0x30), EntryPoint: le64(l, 0x38), SizeOfImage: le32(l, 0x40),
		FullDllName: us(0x48), BaseDllName: us(0x58), Flags: le32(l, 0x68), LoadCount: le16(l, 0x6C),
		CheckSum: le32(l, 0x78), TimeDateStamp: le32(l, 0x80), LdrEntry: l}
	if d.DriverNameOffset == 0 {
		return d, nil
	}
	o := uint64(d.DriverNameOffset)
	if o+4 > uint64(len(file)) {
		return d, errAt(int64(at), "triage driver name", "the name at 0x%x lies past the end of the 0x%x-byte file", o, len(file))
	}
	n := uint64(le32(file, int(o)))
	if n > maxNameChars || o+4+2*n > uint64(len(file)) {
		return d, errAt(int64(o), "triage driver name", "a name of %d characters does not fit (at most %d, within the 0x%x-byte file)", n, maxNameChars, len(file))
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = le16(file, int(o+4+2*uint64(i)))
	}
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	d.Name = string(utf16.Decode(u))
	return d, nil
}
