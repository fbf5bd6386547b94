// Package pe reads PE32 and PE32+ images from a file or straight from dump
// memory. An image read from memory is laid out by RVA (each section at its
// VirtualAddress); one read from a file is laid out by PointerToRawData.
package pe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/ntdbg/ntdbg/dumpfmt/codeview"
	"github.com/ntdbg/ntdbg/dumpfmt/internal/decode"
)

// Error is a structural problem, with the offset (file offset or RVA) where
// it was found.
type Error struct {
	Offset uint64
	What   string
	Msg    string
	// Err is ErrNotPE when the file has no MZ/PE signature.
	Err error
}

// Unwrap lets errors.Is find ErrNotPE.
func (e *Error) Unwrap() error { return e.Err }

// ErrNotPE is wrapped by the error of a file without the MZ or PE signature.
var ErrNotPE = errors.New("not a PE image")

func (e *Error) Error() string {
	return fmt.Sprintf("pe: %s at 0x%x: %s", e.What, e.Offset, e.Msg)
}

func errf(off uint64, what, format string, a ...any) error {
	return &Error{Offset: off, What: what, Msg: fmt.Sprintf(format, a...)}
}

// Machine types.
const (
	MachineAMD64 = 0x8664
	MachineI386  = 0x14C
)

// Data directory indexes.
const (
	DirExport    = 0
	DirImport    = 1
	DirResource  = 2
	DirException = 3
	DirDebug     = 6
)

// Section is an IMAGE_SECTION_HEADER.
type Section struct {
	Name            string
	VirtualSize     uint32
	VirtualAddress  uint32
	SizeOfRawData   uint32
	PointerToRaw    uint32
	Characteristics uint32
}

// DataDir is an IMAGE_DATA_DIRECTORY.
type DataDir struct{ RVA, Size uint32 }

// File is an open image.
type File struct {
	decode.Closer // the file Open opened (Close closes it)

	r      io.ReaderAt
	size   int64 // bytes available in r (file size, or SizeOfImage when mapped)
	Mapped bool

	Machine       uint16
	TimeDateStamp uint32
	Is64          bool
	ImageBase     uint64
	EntryPoint    uint32
	SizeOfImage   uint32
	SizeOfHeaders uint32
	CheckSum      uint32
	Sections      []Section
	Dirs          [16]DataDir

	funcs     []RuntimeFunction
	funcsDone bool
	funcsErr  error
}

// Open opens the named image file (file layout); Close closes it.
func Open(name string) (*File, error) {
	f, c, err := decode.Open(name, func(r io.ReaderAt, n int64) (*File, error) { return NewFile(r, n, false) })
	if err != nil {
		return nil, err
	}
	f.Own(c)
	return f, nil
}

// NewFile reads the headers. mapped says whether r is laid out by RVA (an image
// in memory) or as a file. size bounds every read.
func NewFile(r io.ReaderAt, size int64, mapped bool) (*File, error) {
	f := &File{r: r, size: size, Mapped: mapped}
	dos := make([]byte, 0x40)
	if err := f.readAt(dos, 0, "IMAGE_DOS_HEADER"); err != nil {
		return nil, err
	}
	if dos[0] != 'M' || dos[1] != 'Z' {
		return nil, &Error{What: "IMAGE_DOS_HEADER", Msg: "no MZ signature", Err: ErrNotPE}
	}
	lfanew := binary.LittleEndian.Uint32(dos[0x3C:])
	if lfanew > 0x10000 {
		return nil, errf(0x3C, "IMAGE_DOS_HEADER", "e_lfanew 0x%x is implausible", lfanew)
	}
	nt := make([]byte, 0x18)
	if err := f.readAt(nt, int64(lfanew), "IMAGE_NT_HEADERS"); err != nil {
		return nil, err
	}
	if binary.LittleEndian.Uint32(nt) != 0x4550 {
		return nil, errf(uint64(lfanew), "IMAGE_NT_HEADERS", "no PE signature")
	}
	le := binary.LittleEndian
	f.Machine = le.Uint16(nt[4:])
	nsec := int(le.Uint16(nt[6:]))
	f.TimeDateStamp = le.Uint32(nt[8:])
	optSize := int(le.Uint16(nt[0x14:]))
	if optSize < 0x60 || optSize > 0x1000 {
		return nil, errf(uint64(lfanew)+0x14, "IMAGE_FILE_HEADER", "optional header size 0x%x", optSize)
	}
	opt := make([]byte, optSize)
	if err := f.readAt(opt, int64(lfanew)+0x18, "IMAGE_OPTIONAL_HEADER"); err != nil {
		return nil, err
	}
	magic := le.Uint16(opt)
	var ndirs uint32
	var dirOff int
	switch magic {
	case 0x20B:
		if optSize < 0x70 {
			return nil, errf(uint64(lfanew)+0x14, "IMAGE_FILE_HEADER", "optional header size 0x%x is too small for PE32+", optSize)
		}
		f.Is64 = true
		f.ImageBase = le.Uint64(opt[0x18:])
		ndirs, dirOff = le.Uint32(opt[0x6C:]), 0x70
	case 0x10B:
		f.ImageBase = uint64(le.Uint32(opt[0x1C:]))
		ndirs, dirOff = le.Uint32(opt[0x5C:]), 0x60
	default:
		return nil, errf(uint64(lfanew)+0x18, "IMAGE_OPTIONAL_HEADER", "magic 0x%x is neither PE32 nor PE32+", magic)
	}
	f.EntryPoint = le.Uint32(opt[0x10:])
	f.SizeOfImage = le.Uint32(opt[0x38:])
	f.SizeOfHeaders = le.Uint32(opt[0x3C:])
	f.CheckSum = le.Uint32(opt[0x40:])
	if ndirs > 16 {
		ndirs = 16
	}
	for i := 0; i < int(ndirs) && dirOff+8*i+8 <= len(opt); i++ {
		f.Dirs[i] = DataDir{le.Uint32(opt[dirOff+8*i:]), le.Uint32(opt[dirOff+8*i+4:])}
	}
	if nsec > 96 {
		return nil, errf(uint64(lfanew)+6, "IMAGE_FILE_HEADER", "%d sections (the loader allows 96)", nsec)
	}
	sh := make([]byte, 40*nsec)
	if err := f.readAt(sh, int64(lfanew)+0x18+int64(optSize), "IMAGE_SECTION_HEADER"); err != nil {
		return nil, err
	}
	for i := 0; i < nsec; i++ {
		s := sh[40*i:]
		n := 0
		for n < 8 && s[n] != 0 {
			n++
		}
		f.Sections = append(f.Sections, Section{Name: string(s[:n]), VirtualSize: le.Uint32(s[8:]), VirtualAddress: le.Uint32(s[12:]),
			SizeOfRawData: le.Uint32(s[16:]), PointerToRaw: le.Uint32(s[20:]), Characteristics: le.Uint32(s[36:])})
	}
	return f, nil
}

func (f *File) readAt(p []byte, off int64, what string) error {
	if off < 0 || off+int64(len(p)) > f.size {
		return errf(uint64(off), what, "%d bytes needed, only 0x%x available", len(p), f.size)
	}
	if _, err := f.r.ReadAt(p, off); err != nil {
		return errf(uint64(off), what, "%v", err)
	}
	return nil
}

// ReadRVA reads image bytes at an RVA, whichever way the image is laid out.
// Bytes past a section's raw data (file layout) read as zeros, as the loader
// would map them.
func (f *File) ReadRVA(p []byte, rva uint32, what string) error {
	if f.Mapped || rva < f.SizeOfHeaders && len(f.Sections) == 0 {
		return f.readAt(p, int64(rva), what)
	}
	if rva < f.SizeOfHeaders && uint64(rva)+uint64(len(p)) <= uint64(f.SizeOfHeaders) {
		return f.readAt(p, int64(rva), what)
	}
	for _, s := range f.Sections {
		vsize := s.VirtualSize
		if vsize == 0 {
			vsize = s.SizeOfRawData
		}
		if rva >= s.VirtualAddress && uint64(rva)+uint64(len(p)) <= uint64(s.VirtualAddress)+uint64(vsize) {
			rel := rva - s.VirtualAddress
			for i := range p {
				p[i] = 0
			}
			if rel >= s.SizeOfRawData {
				return nil
			}
			n := uint32(len(p))
			if rel+n > s.SizeOfRawData {
				n = s.SizeOfRawData - rel
			}
			return f.readAt(p[:n], int64(s.PointerToRaw)+int64(rel), what)
		}
	}
	return errf(uint64(rva), what, "RVA range of %d bytes is not inside any section", len(p))
}

func (f *File) rvaBytes(rva, n uint32, what string) ([]byte, error) {
	if uint64(n) > uint64(f.size)+0x100000 || n > 64<<20 {
		return nil, errf(uint64(rva), what, "%d bytes is more than the image holds", n)
	}
	b := make([]byte, n)
	return b, f.ReadRVA(b, rva, what)
}

// cstringAt reads a NUL-terminated string at an RVA (up to 1 KB).
func (f *File) cstringAt(rva uint32) string {
	var out []byte
	buf := make([]byte, 64)
	for len(out) < 1024 {
		if err := f.ReadRVA(buf, rva+uint32(len(out)), "string"); err != nil {
			// Near the end of a section read byte by byte.
			if err := f.ReadRVA(buf[:1], rva+uint32(len(out)), "string"); err != nil {
				break
			}
			if buf[0] == 0 {
				break
			}
			out = append(out, buf[0])
			continue
		}
		for _, c := range buf {
			if c == 0 {
				return string(out)
			}
			out = append(out, c)
		}
	}
	return string(out)
}

// Export is one exported function.
type Export struct {
	Name      string // empty for ordinal-only exports
	Ordinal   uint32
	RVA       uint32
	Forwarder string // "DLL.Func" when the export forwards elsewhere
}

// Exports decodes the export directory, sorted by RVA.
func (f *File) Exports() ([]Export, error) {
	d := f.Dirs[DirExport]
	if d.RVA == 0 || d.Size == 0 {
		return nil, nil
	}
	hdr, err := f.rvaBytes(d.RVA, 0x28, "IMAGE_EXPORT_DIRECTORY")
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	base, nf, nn := le.Uint32(hdr[0x10:]), le.Uint32(hdr[0x14:]), le.Uint32(hdr[0x18:])
	if nf > 0x100000 || nn > nf+0x10000 {
		return nil, errf(uint64(d.RVA), "IMAGE_EXPORT_DIRECTORY", "%d functions and %d names are implausible", nf, nn)
	}
	funcs, err := f.rvaBytes(le.Uint32(hdr[0x1C:]), 4*nf, "export address table")
	if err != nil {
		return nil, err
	}
	names, err := f.rvaBytes(le.Uint32(hdr[0x20:]), 4*nn, "export name table")
	if err != nil {
		return nil, err
	}
	ords, err := f.rvaBytes(le.Uint32(hdr[0x24:]), 2*nn, "export ordinal table")
	if err != nil {
		return nil, err
	}
	named := make(map[uint32]string, nn)
	for i := uint32(0); i < nn; i++ {
		idx := uint32(le.Uint16(ords[2*i:]))
		named[idx] = f.cstringAt(le.Uint32(names[4*i:]))
	}
	var out []Export
	for i := uint32(0); i < nf; i++ {
		rva := le.Uint32(funcs[4*i:])
		if rva == 0 {
			continue
		}
		e := Export{Name: named[i], Ordinal: base + i, RVA: rva}
		if rva >= d.RVA && rva < d.RVA+d.Size {
			e.Forwarder = f.cstringAt(rva)
		}
		out = append(out, e)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].RVA < out[b].RVA })
	return out, nil
}

// CodeView returns the image's CodeView (RSDS/NB10) debug record.
func (f *File) CodeView() (*codeview.Record, error) {
	d := f.Dirs[DirDebug]
	if d.RVA == 0 || d.Size < 0x1C {
		return nil, errf(0, "debug directory", "absent")
	}
	n := d.Size / 0x1C
	if n > 64 {
		n = 64
	}
	dir, err := f.rvaBytes(d.RVA, n*0x1C, "IMAGE_DEBUG_DIRECTORY")
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	for i := uint32(0); i < n; i++ {
		e := dir[i*0x1C:]
		if le.Uint32(e[0xC:]) != 2 {
			continue
		}
		size, rva, ptr := le.Uint32(e[0x10:]), le.Uint32(e[0x14:]), le.Uint32(e[0x18:])
		if size > 0x10000 {
			return nil, errf(uint64(d.RVA+i*0x1C), "IMAGE_DEBUG_DIRECTORY", "CodeView record of %d bytes", size)
		}
		b := make([]byte, size)
		if f.Mapped || rva != 0 {
			err = f.ReadRVA(b, rva, "CodeView record")
		} else {
			err = f.readAt(b, int64(ptr), "CodeView record")
		}
		if err != nil {
			return nil, err
		}
		return codeview.Parse(b, int64(ptr))
	}
	return nil, errf(uint64(d.RVA), "debug directory", "no CodeView entry")
}

// Reproducible reports an IMAGE_DEBUG_TYPE_REPRO entry (/Brepro builds,
// whose time stamp is a hash).
func (f *File) Reproducible() bool {
	d := f.Dirs[DirDebug]
	n := d.Size / 0x1C
	if d.RVA == 0 || n == 0 || n > 64 {
		return false
	}
	dir, err := f.rvaBytes(d.RVA, n*0x1C, "IMAGE_DEBUG_DIRECTORY")
	if err != nil {
		return false
	}
	for i := uint32(0); i < n; i++ {
		if binary.LittleEndian.Uint32(dir[i*0x1C+0xC:]) == 16 {
			return true
		}
	}
	return false
}
