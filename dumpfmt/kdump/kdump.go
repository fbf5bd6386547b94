// Package kdump reads 64-bit Windows kernel crash dumps (PAGEDU64) through an
// io.ReaderAt: the DUMP_HEADER64, the context and exception records, and the
// dump's physical memory for every DumpType Windows writes (formats-spec.md
// §2): full dumps (1) with their run list, summary and bitmap dumps (2, 5, 6)
// with their page bitmap, the RDMP forms (8, 9, 0xA), triage dumps (4) with
// their TRIAGE_DUMP64 parts, and header-only dumps (3).
//
// NewFile reads the 0x2000-byte header and the few bytes of the structure
// that follows it (the bitmap header, or the RDMP range list), nothing in
// proportion to the dump's size. A bitmap is indexed the first time physical
// memory is asked for, in one pass over its words that keeps one popcount per
// 4096 pages (32 KiB for 64 GiB of memory); the bitmap itself is read again
// in 512-byte blocks as lookups need it. Every count and offset read from
// the file is checked before anything is allocated from it.
//
// 32-bit kernel dumps (PAGEDUMP) are recognised and refused.
//
// What each path was checked against:
//   - DUMP_HEADER64, the run list of type 1, the context and exception: the
//     first 16 KiB of a real Windows 10 19045 full dump
//     (../shared/realdumps/kernel, values from its MANIFEST), and round trips.
//   - Types 2, 5, 6 (bitmap) and 4 (triage): round trips through
//     testdata/gen/kdw, a writer written separately from the same spec, and
//     a second decoder in the tests; no real dump of these types was at
//     hand. Type 2 is read with the bitmap header of types 5 and 6: the spec
//     marks its layout UNCERTAIN, and this is the summary dump's layout as
//     volatility's _SUMMARY_DUMP has it. The triage layout is rizin's.
//   - Types 8, 9, 0xA (RDMP): UNCERTAIN in the spec (kdmp-parser only);
//     round trips only. See the comment above rdmpRuns for the exact reading.
package kdump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ntdbg/ntdbg/dumpfmt/internal/decode"
)

// Signatures and sizes (formats-spec.md §2.1).
const (
	Signature   = 0x45474150 // 'PAGE', DUMP_HEADER64.Signature
	ValidDump64 = 0x34365544 // 'DU64', DUMP_HEADER64.ValidDump
	ValidDump32 = 0x504D5544 // 'DUMP', DUMP_HEADER32.ValidDump (and the BMP, RDMP ValidDump)

	PageSize   = 0x1000
	HeaderSize = 0x2000 // DUMP_HEADER64; what follows the header starts here

	// ContextRecordSize is the size of the header's ContextRecord buffer.
	ContextRecordSize = 3000
	// ExceptionRecordSize is the size of EXCEPTION_RECORD64.
	ExceptionRecordSize = 0x98
)

// DumpType values (formats-spec.md §2.2).
const (
	DumpFull          = 0x1 // run list in the header, pages from 0x2000
	DumpSummary       = 0x2 // kernel summary: read with the bitmap header at 0x2000
	DumpHeaderOnly    = 0x3 // no memory
	DumpTriage        = 0x4 // TRIAGE_DUMP64 at 0x2000, the Minidump\*.dmp kind
	DumpBitmapFull    = 0x5 // BMP header ('SDMP' or 'FDMP') at 0x2000
	DumpBitmapKernel  = 0x6 // BMP header; Task Manager's live kernel dumps
	DumpKernelMemory  = 0x8 // RDMP, .dump /k
	DumpKernelAndUser = 0x9 // RDMP, .dump /ka
	DumpComplete      = 0xA // FULL_RDMP, .dump /f
)

var dumpTypeNames = map[uint32]string{
	DumpFull: "Full", DumpSummary: "Summary", DumpHeaderOnly: "Header", DumpTriage: "Triage",
	DumpBitmapFull: "BitmapFull", DumpBitmapKernel: "BitmapKernel", 7: "Automatic",
	DumpKernelMemory: "KernelMemory", DumpKernelAndUser: "KernelAndUserMemory", DumpComplete: "CompleteMemory",
}

// DumpTypeName names a DumpType value, or gives it in hex.
func DumpTypeName(t uint32) string {
	if n, ok := dumpTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("DumpType(0x%x)", t)
}

// MachineImageType values.
const (
	MachineI386  = 0x14C
	MachineAMD64 = 0x8664
	MachineARM64 = 0xAA64
)

// Error is a structural problem in the file, with Format "kdump": What names
// the structure, Offset its file offset. Err is ErrNotKernelDump or
// ErrUnsupported when that is the reason.
type Error = decode.Error

var (
	// ErrNotKernelDump is wrapped by the error of a file without a kernel
	// dump signature.
	ErrNotKernelDump = errors.New("not a kernel dump")
	// ErrUnsupported is wrapped by the error of a kernel dump this reader
	// recognises but does not read (32-bit dumps, unknown DumpTypes).
	ErrUnsupported = errors.New("unsupported kernel dump")
	// ErrPageNotInDump is matched (errors.Is) by every *PageError.
	ErrPageNotInDump = errors.New("page not in the dump")
	// ErrTruncated is matched by a *PageError whose page the dump lists but
	// whose file offset lies past the end of the file.
	ErrTruncated = errors.New("page lies past the end of the file")
)

func errAt(off int64, what, format string, a ...any) *Error {
	return &Error{Format: "kdump", What: what, Offset: off, Msg: fmt.Sprintf(format, a...)}
}

// PageError is a physical address whose page cannot be read from the dump.
// Offset is zero when the dump does not hold the page; otherwise it is the
// file offset where the page should be, which lies at or past the end of the
// Size-byte file (a truncated dump).
type PageError struct {
	PA     uint64
	Offset int64
	Size   int64
}

func (e *PageError) Error() string {
	if e.Offset != 0 {
		return fmt.Sprintf("kdump: physical address 0x%x: its page at file offset 0x%x lies past the end of the 0x%x-byte file", e.PA, e.Offset, e.Size)
	}
	return fmt.Sprintf("kdump: physical address 0x%x is not in the dump", e.PA)
}

// Is matches ErrPageNotInDump, and ErrTruncated for a page past the end of
// the file.
func (e *PageError) Is(target error) bool {
	return target == ErrPageNotInDump || (target == ErrTruncated && e.Offset != 0)
}

// PhysicalMemoryRun is one PHYSICAL_MEMORY_RUN64 of the header.
type PhysicalMemoryRun struct {
	BasePage  uint64
	PageCount uint64
}

// PhysicalMemoryDescriptor is the header's PHYSICAL_MEMORY_DESCRIPTOR64.
// Unused is set when NumberOfRuns reads 'PAGE' (the block was not filled);
// Run is nil then, and also when NumberOfRuns does not fit in the 700-byte
// buffer of a dump that is not a full dump (for a full dump that is an error).
type PhysicalMemoryDescriptor struct {
	NumberOfRuns  uint32
	NumberOfPages uint64
	Run           []PhysicalMemoryRun
	Unused        bool
}

// ExceptionRecord64 is EXCEPTION_RECORD64.
type ExceptionRecord64 struct {
	ExceptionCode        uint32
	ExceptionFlags       uint32
	ExceptionRecord      uint64
	ExceptionAddress     uint64
	NumberParameters     uint32
	ExceptionInformation [15]uint64
}

// Header is DUMP_HEADER64 (formats-spec.md §2.1). Comment is the raw bytes of
// the 128-byte field up to the first NUL (callers sanitise it for display).
type Header struct {
	Signature           uint32
	ValidDump           uint32
	MajorVersion        uint32 // 0xF for a free build, 0xC for checked
	MinorVersion        uint32 // the NT build number
	DirectoryTableBase  uint64 // CR3; the low 12 bits may hold a PCID
	PfnDataBase         uint64
	PsLoadedModuleList  uint64
	PsActiveProcessHead uint64
	MachineImageType    uint32
	NumberProcessors    uint32
	BugCheckCode        uint32
	BugCheckParameters  [4]uint64
	VersionUser         [32]byte
	KdDebuggerDataBlock uint64
	PhysicalMemoryBlock PhysicalMemoryDescriptor
	Exception           ExceptionRecord64
	DumpType            uint32
	RequiredDumpSpace   int64
	SystemTime          int64 // FILETIME
	Comment             string
	SystemUpTime        int64 // 100 ns units
	MiniDumpFields      uint32
	SecondaryDataState  uint32
	ProductType         uint32
	SuiteMask           uint32
	WriterStatus        uint32
	KdSecondaryVersion  uint8
	Attributes          uint32
	BootId              uint32
}

// Header field offsets used by the reader and in error messages.
const (
	offPhysicalMemoryBlock = 0x88
	offRuns                = 0x98
	offContextRecord       = 0x348
	offException           = 0xF00
	offDumpType            = 0xF98
	offComment             = 0xFB0
	// maxRuns is what fits in the 700-byte PhysicalMemoryBlock buffer
	// after its 16-byte head.
	maxRuns = (700 - 16) / 16
)

// BitmapHeader is the BMP_DUMP_HEADER64 at 0x2000 of a summary or bitmap
// dump (DumpType 2, 5, 6; formats-spec.md §2.3). The bitmap of Pages bits
// follows it at 0x2038; the j-th set bit's page is at FirstPage + 0x1000·j.
type BitmapHeader struct {
	Signature         uint32 // 'SDMP' (kernel/summary) or 'FDMP' (full)
	ValidDump         uint32 // 'DUMP'
	DumpOptions       uint32
	FirstPage         uint64 // file offset of the first stored page
	TotalPresentPages uint64 // bits set
	Pages             uint64 // bits in the bitmap: the page frames covered
}

// Bitmap signatures.
const (
	SignatureSDMP = 0x504D4453 // 'SDMP'
	SignatureFDMP = 0x504D4446 // 'FDMP'
	SignatureRDMP = 0x504D4452 // 'RDMP'
	bitmapOffset  = HeaderSize + 0x38
)

// RDMPHeader is the RDMP_HEADER64 at 0x2000 of DumpType 8, 9 and 0xA, with
// the fields of KERNEL_RDMP_HEADER64 or FULL_RDMP_HEADER64 after it
// (formats-spec.md §2.4, UNCERTAIN: reverse-engineered by kdmp-parser only).
type RDMPHeader struct {
	Marker          uint32 // 0x40
	Signature       uint32 // 'RDMP'
	ValidDump       uint32 // 'DUMP'
	MetadataSize    uint64
	FirstPageOffset uint64
	// KERNEL_RDMP_HEADER64 (types 8, 9): two fields of unknown meaning.
	Unknown1, Unknown2 uint64
	// FULL_RDMP_HEADER64 (type 0xA).
	NumberOfRanges     uint32
	TotalNumberOfPages uint64
	// RangePages is the sum of the ranges' page counts as read.
	RangePages uint64
}

// File is an open kernel dump. Its methods are safe for concurrent use.
type File struct {
	decode.Closer // the file Open opened (Close closes it)

	r    io.ReaderAt
	size int64

	Header Header
	// Bitmap is the bitmap header of DumpType 2, 5 and 6, else nil.
	Bitmap *BitmapHeader
	// RDMP is the RDMP header of DumpType 8, 9 and 0xA, else nil.
	RDMP *RDMPHeader

	context []byte
	runs    []Run // sorted by BasePage; nil for bitmap dumps

	mu     sync.Mutex
	bm     *bitmapIndex
	triage *Triage
	tErr   error
	tHead  TriageHeader
}

// Open opens the named file as a kernel dump; Close closes it.
func Open(name string) (*File, error) {
	f, c, err := decode.Open(name, NewFile)
	if err != nil {
		return nil, err
	}
	f.Own(c)
	return f, nil
}

// NewFile reads the header and what describes the physical memory (the run
// list, the bitmap header, or the RDMP range list). size is the file size; it
// bounds every offset and count read afterwards.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	var sig [8]byte
	n, _ := r.ReadAt(sig[:], 0)
	if size < 8 || n < 8 {
		return nil, &Error{Format: "kdump", What: "DUMP_HEADER64", Msg: fmt.Sprintf("a %d-byte file has no signature", size), Err: ErrNotKernelDump}
	}
	switch string(sig[:]) {
	case "PAGEDU64":
	case "PAGEDUMP":
		return nil, &Error{Format: "kdump", What: "DUMP_HEADER32", Msg: "a 32-bit kernel dump (PAGEDUMP): 32-bit kernel dumps are not supported", Err: ErrUnsupported}
	default:
		return nil, &Error{Format: "kdump", What: "DUMP_HEADER64", Msg: fmt.Sprintf("signature %q, not a kernel dump (PAGEDU64)", printable(sig[:])), Err: ErrNotKernelDump}
	}
	f := &File{r: r, size: size}
	b, err := f.read(0, HeaderSize, "DUMP_HEADER64")
	if err != nil {
		return nil, err
	}
	if err := f.decodeHeader(b); err != nil {
		return nil, err
	}
	switch f.Header.DumpType {
	case DumpFull:
		err = f.fullRuns()
	case DumpSummary, DumpBitmapFull, DumpBitmapKernel:
		err = f.openBitmap()
	case DumpKernelMemory, DumpKernelAndUser, DumpComplete:
		err = f.rdmpRuns()
	case DumpTriage:
		err = f.openTriage()
	case DumpHeaderOnly:
	default:
		err = &Error{Format: "kdump", What: "DUMP_HEADER64", Offset: offDumpType,
			Msg: fmt.Sprintf("DumpType 0x%x (%s) is not one this reader knows", f.Header.DumpType, DumpTypeName(f.Header.DumpType)), Err: ErrUnsupported}
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) decodeHeader(b []byte) error {
	d := decode.New("kdump", "DUMP_HEADER64", b, 0)
	h := &f.Header
	h.Signature, h.ValidDump, h.MajorVersion, h.MinorVersion = d.U32(), d.U32(), d.U32(), d.U32()
	h.DirectoryTableBase, h.PfnDataBase, h.PsLoadedModuleList, h.PsActiveProcessHead = d.U64(), d.U64(), d.U64(), d.U64()
	h.MachineImageType, h.NumberProcessors, h.BugCheckCode = d.U32(), d.U32(), d.U32()
	d.Skip(4)
	for i := range h.BugCheckParameters {
		h.BugCheckParameters[i] = d.U64()
	}
	copy(h.VersionUser[:], d.Bytes(32))
	h.KdDebuggerDataBlock = d.U64()
	if h.Signature != Signature || h.ValidDump != ValidDump64 {
		return &Error{Format: "kdump", What: "DUMP_HEADER64", Msg: fmt.Sprintf("signature 0x%08x/0x%08x, not PAGEDU64", h.Signature, h.ValidDump), Err: ErrNotKernelDump}
	}
	pm := &h.PhysicalMemoryBlock
	d.Seek(offPhysicalMemoryBlock)
	pm.NumberOfRuns = d.U32()
	d.Skip(4)
	pm.NumberOfPages = d.U64()
	f.context = append([]byte(nil), b[offContextRecord:offContextRecord+ContextRecordSize]...)
	d.Seek(offException)
	h.Exception = decodeException(d)
	d.Seek(offDumpType)
	h.DumpType = d.U32()
	d.Skip(4)
	h.RequiredDumpSpace, h.SystemTime = int64(d.U64()), int64(d.U64())
	h.Comment = cstring(d.Bytes(128))
	h.SystemUpTime = int64(d.U64())
	h.MiniDumpFields, h.SecondaryDataState, h.ProductType, h.SuiteMask, h.WriterStatus = d.U32(), d.U32(), d.U32(), d.U32(), d.U32()
	d.Skip(1)
	h.KdSecondaryVersion = d.U8()
	d.Skip(2)
	h.Attributes, h.BootId = d.U32(), d.U32()
	if err := d.Err(); err != nil {
		return err
	}
	switch {
	case pm.NumberOfRuns == Signature:
		pm.Unused = true
	case pm.NumberOfRuns <= maxRuns:
		pm.Run = make([]PhysicalMemoryRun, pm.NumberOfRuns)
		d.Seek(offRuns)
		for i := range pm.Run {
			pm.Run[i] = PhysicalMemoryRun{BasePage: d.U64(), PageCount: d.U64()}
		}
	}
	return d.Err()
}

func decodeException(d *decode.Decoder) ExceptionRecord64 {
	e := ExceptionRecord64{ExceptionCode: d.U32(), ExceptionFlags: d.U32(), ExceptionRecord: d.U64(), ExceptionAddress: d.U64(), NumberParameters: d.U32()}
	d.Skip(4)
	for i := range e.ExceptionInformation {
		e.ExceptionInformation[i] = d.U64()
	}
	return e
}

// Size is the size of the underlying file.
func (f *File) Size() int64 { return f.size }

// Machine is the header's MachineImageType (MachineAMD64, MachineARM64).
// Only the header, the records and the triage parts of an ARM64 dump are
// decoded; callers that translate addresses or unwind check this first.
func (f *File) Machine() uint32 { return f.Header.MachineImageType }

// DumpType is the header's DumpType.
func (f *File) DumpType() uint32 { return f.Header.DumpType }

// Context returns the raw ContextRecord buffer of the header (3000 bytes at
// file offset ContextOffset), for dumpfmt/winctx to decode. The CONTEXT of
// an x64 dump fills its first 0x4D0 bytes. The slice is the caller's.
func (f *File) Context() []byte { return append([]byte(nil), f.context...) }

// ContextOffset is the file offset of the header's ContextRecord.
const ContextOffset = offContextRecord

// Exception returns the header's EXCEPTION_RECORD64.
func (f *File) Exception() ExceptionRecord64 { return f.Header.Exception }

// read reads n bytes at off, checking the range against the file size first so
// that no buffer is sized by an unchecked field.
func (f *File) read(off, n int64, what string) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || n > f.size-off {
		return nil, errAt(off, what, "0x%x bytes needed, the file is 0x%x bytes", n, f.size)
	}
	b := make([]byte, n)
	if m, err := f.r.ReadAt(b, off); m < len(b) {
		return nil, errAt(off, what, "read failed after 0x%x of 0x%x bytes: %v", m, n, err)
	}
	return b, nil
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
