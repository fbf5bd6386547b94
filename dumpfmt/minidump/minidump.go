// Package minidump reads Windows user-mode minidump files (MDMP) through an
// io.ReaderAt. Only the header and the stream directory are read by Open; every
// stream is decoded the first time it is asked for. Every count and size read
// from the file is checked against the stream or file size before anything is
// allocated from it.
package minidump

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"

	"github.com/ntdbg/ntdbg/dumpfmt/internal/decode"
)

// Signature is 'MDMP' read as a little-endian uint32.
const Signature = 0x504D444D

// Stream type numbers (MINIDUMP_STREAM_TYPE).
const (
	StreamUnused             = 0
	StreamThreadList         = 3
	StreamModuleList         = 4
	StreamMemoryList         = 5
	StreamException          = 6
	StreamSystemInfo         = 7
	StreamThreadExList       = 8
	StreamMemory64List       = 9
	StreamCommentA           = 10
	StreamCommentW           = 11
	StreamHandleData         = 12
	StreamFunctionTable      = 13
	StreamUnloadedModuleList = 14
	StreamMiscInfo           = 15
	StreamMemoryInfoList     = 16
	StreamThreadInfoList     = 17
	StreamHandleOperations   = 18
	StreamToken              = 19
	StreamJavaScriptData     = 20
	StreamSystemMemoryInfo   = 21
	StreamProcessVMCounters  = 22
	StreamIptTrace           = 23
	StreamThreadNames        = 24
)

var streamNames = map[uint32]string{
	0: "UnusedStream", 1: "ReservedStream0", 2: "ReservedStream1", 3: "ThreadListStream",
	4: "ModuleListStream", 5: "MemoryListStream", 6: "ExceptionStream", 7: "SystemInfoStream",
	8: "ThreadExListStream", 9: "Memory64ListStream", 10: "CommentStreamA", 11: "CommentStreamW",
	12: "HandleDataStream", 13: "FunctionTableStream", 14: "UnloadedModuleListStream",
	15: "MiscInfoStream", 16: "MemoryInfoListStream", 17: "ThreadInfoListStream",
	18: "HandleOperationListStream", 19: "TokenStream", 20: "JavaScriptDataStream",
	21: "SystemMemoryInfoStream", 22: "ProcessVmCountersStream", 23: "IptTraceStream",
	24: "ThreadNamesStream",
}

// StreamName returns the documented name of a stream type, or a hex label for
// streams this reader does not know (third-party streams are common).
func StreamName(t uint32) string {
	if n, ok := streamNames[t]; ok {
		return n
	}
	return fmt.Sprintf("UnknownStream(0x%x)", t)
}

// Error is a structural problem in the file. Offset is the file offset of the
// structure that could not be read.
// It is the shared dumpfmt decoding error, with Format "minidump"; Err is
// ErrNotMinidump when the file has no minidump signature.
type Error = decode.Error

// ErrNotMinidump is wrapped by the error of a file without the MDMP signature.
var ErrNotMinidump = errors.New("not a minidump")

func errAt(off int64, what, format string, a ...any) error {
	return &Error{Format: "minidump", Offset: off, What: what, Msg: fmt.Sprintf(format, a...)}
}

// MINIDUMP_TYPE flags in Header.Flags.
const WithFullMemory = 0x2

// TypeFlagNames names the MINIDUMP_TYPE bits in Header.Flags, bit 0 first.
var TypeFlagNames = []string{"MiniDumpWithDataSegs", "MiniDumpWithFullMemory", "MiniDumpWithHandleData", "MiniDumpFilterMemory",
	"MiniDumpScanMemory", "MiniDumpWithUnloadedModules", "MiniDumpWithIndirectlyReferencedMemory", "MiniDumpFilterModulePaths",
	"MiniDumpWithProcessThreadData", "MiniDumpWithPrivateReadWriteMemory", "MiniDumpWithoutOptionalData",
	"MiniDumpWithFullMemoryInfo", "MiniDumpWithThreadInfo", "MiniDumpWithCodeSegs", "MiniDumpWithoutAuxiliaryState",
	"MiniDumpWithFullAuxiliaryState", "MiniDumpWithPrivateWriteCopyMemory", "MiniDumpIgnoreInaccessibleMemory",
	"MiniDumpWithTokenInformation", "MiniDumpWithModuleHeaders", "MiniDumpFilterTriage", "MiniDumpWithAvxXStateContext",
	"MiniDumpWithIptTrace", "MiniDumpScanInaccessiblePartialPages", "MiniDumpFilterWriteCombinedMemory"}

// Header is MINIDUMP_HEADER.
type Header struct {
	Signature          uint32
	Version            uint32
	NumberOfStreams    uint32
	StreamDirectoryRva uint32
	CheckSum           uint32
	TimeDateStamp      uint32
	Flags              uint64
}

// Location is a MINIDUMP_LOCATION_DESCRIPTOR widened to 64 bits.
type Location struct {
	DataSize uint64
	Rva      uint64
}

// Directory is one MINIDUMP_DIRECTORY entry.
type Directory struct {
	StreamType uint32
	Location   Location
}

// File is an open minidump. It is not safe for concurrent use.
type File struct {
	decode.Closer // the file Open opened (Close closes it)

	r    io.ReaderAt
	size int64

	Header    Header
	Directory []Directory

	cache map[uint32]any
}

const maxStreams = 1 << 16

// Open opens the named file as a minidump; Close closes it.
func Open(name string) (*File, error) {
	f, c, err := decode.Open(name, NewFile)
	if err != nil {
		return nil, err
	}
	f.Own(c)
	return f, nil
}

// NewFile reads the header and the stream directory. size is the file size; it
// bounds every offset and count read afterwards.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	f := &File{r: r, size: size, cache: map[uint32]any{}}
	b, err := f.read(0, 0x20, "MINIDUMP_HEADER")
	if err != nil {
		if size < 4 {
			return nil, &Error{Format: "minidump", What: "MINIDUMP_HEADER", Msg: fmt.Sprintf("a %d-byte file has no signature", size), Err: ErrNotMinidump}
		}
		var sig [4]byte
		if _, rerr := r.ReadAt(sig[:], 0); rerr == nil && binary.LittleEndian.Uint32(sig[:]) != Signature {
			return nil, &Error{Format: "minidump", What: "MINIDUMP_HEADER", Msg: fmt.Sprintf("bad signature 0x%08x, not a minidump", binary.LittleEndian.Uint32(sig[:])), Err: ErrNotMinidump}
		}
		return nil, err
	}
	d := decode.New("minidump", "MINIDUMP_HEADER", b, 0)
	h := Header{Signature: d.U32(), Version: d.U32(), NumberOfStreams: d.U32(), StreamDirectoryRva: d.U32(),
		CheckSum: d.U32(), TimeDateStamp: d.U32(), Flags: d.U64()}
	if err := d.Err(); err != nil {
		return nil, err
	}
	if h.Signature != Signature {
		return nil, &Error{Format: "minidump", What: "MINIDUMP_HEADER", Msg: fmt.Sprintf("bad signature 0x%08x, not a minidump", h.Signature), Err: ErrNotMinidump}
	}
	if h.NumberOfStreams > maxStreams || int64(h.NumberOfStreams)*12 > size {
		return nil, errAt(8, "MINIDUMP_HEADER", "stream count %d does not fit in a %d-byte file", h.NumberOfStreams, size)
	}
	f.Header = h
	dir, err := f.read(int64(h.StreamDirectoryRva), int64(h.NumberOfStreams)*12, "MINIDUMP_DIRECTORY")
	if err != nil {
		return nil, err
	}
	for i := 0; i < int(h.NumberOfStreams); i++ {
		e := dir[i*12:]
		d := Directory{StreamType: le32(e, 0), Location: Location{DataSize: uint64(le32(e, 4)), Rva: uint64(le32(e, 8))}}
		f.Directory = append(f.Directory, d)
	}
	return f, nil
}

// Size is the size of the underlying file.
func (f *File) Size() int64 { return f.size }

// Stream returns the directory entry of the first stream of type t.
func (f *File) Stream(t uint32) (Directory, bool) {
	for _, d := range f.Directory {
		if d.StreamType == t && t != StreamUnused {
			return d, true
		}
	}
	return Directory{}, false
}

// read reads n bytes at off, checking the range against the file size first so
// that no buffer is sized by an unchecked field.
func (f *File) read(off, n int64, what string) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || n > f.size-off {
		return nil, errAt(off, what, "%d bytes needed, file is %d bytes", n, f.size)
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, off); err != nil && !(err == io.EOF && n == 0) {
		return nil, errAt(off, what, "read failed: %v", err)
	}
	return b, nil
}

// ReadRaw reads a located blob, as stored (for streams this reader does not
// decode, and for callers that want the bytes).
func (f *File) ReadRaw(loc Location, what string) ([]byte, error) {
	if loc.Rva > uint64(f.size) || loc.DataSize > uint64(f.size) {
		return nil, errAt(int64(loc.Rva&0x7fffffffffffffff), what, "%d bytes at 0x%x lie beyond the %d-byte file", loc.DataSize, loc.Rva, f.size)
	}
	return f.read(int64(loc.Rva), int64(loc.DataSize), what)
}

// ReadAt reads file bytes directly; used by memory layers over MemoryList data.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= f.size {
		return 0, io.EOF
	}
	if int64(len(p)) > f.size-off {
		n, err := f.r.ReadAt(p[:f.size-off], off)
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	return f.r.ReadAt(p, off)
}

// stream reads the body of stream t whole. Streams are small (lists of
// descriptors), except memory data, which is never read through here.
func (f *File) stream(t uint32) ([]byte, int64, bool, error) {
	d, ok := f.Stream(t)
	if !ok {
		return nil, 0, false, nil
	}
	b, err := f.ReadRaw(d.Location, StreamName(t))
	return b, int64(d.Location.Rva), true, err
}

// String reads a MINIDUMP_STRING (u32 byte length, then UTF-16LE).
func (f *File) String(rva uint64) (string, error) {
	if rva == 0 {
		return "", nil
	}
	b, err := f.read(int64(rva), 4, "MINIDUMP_STRING")
	if err != nil {
		return "", err
	}
	n := int64(le32(b, 0))
	if n > 0x10000 {
		return "", errAt(int64(rva), "MINIDUMP_STRING", "length %d is implausible", n)
	}
	body, err := f.read(int64(rva)+4, n&^1, "MINIDUMP_STRING")
	if err != nil {
		return "", err
	}
	return decodeUTF16(body), nil
}

func decodeUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[i*2:])
	}
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	return string(utf16.Decode(u))
}

func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// table checks that count entries of entrySize fit inside a stream body of
// len(b) bytes starting at start.
func table(b []byte, base int64, start, count, entrySize uint64, what string) error {
	if entrySize == 0 || start > uint64(len(b)) || count > (uint64(len(b))-start)/entrySize {
		return errAt(base, what, "%d entries of %d bytes do not fit in a %d-byte stream", count, entrySize, len(b))
	}
	return nil
}
