package pdb

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"github.com/ntdbg/ntdbg/dumpfmt/internal/decode"
)

// File is an open PDB.
type File struct {
	decode.Closer // the file Open opened (Close closes it)

	m *msf

	Version   uint32
	Signature uint32
	Age       uint32
	GUID      [16]byte
	Names     map[string]uint32 // named streams (/names, /LinkInfo, ...)

	tpi, ipi *typeStream
	dbi      *DBI
	dbiErr   error
	dbiDone  bool
	pubs     []Public
	pubsDone bool
	globals  []Global
}

// Open opens the named PDB; Close closes it.
func Open(name string) (*File, error) {
	f, c, err := decode.Open(name, NewFile)
	if err != nil {
		return nil, err
	}
	f.Own(c)
	return f, nil
}

// NewFile reads the MSF directory and the info stream.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	m, err := openMSF(r, size)
	if err != nil {
		return nil, err
	}
	f := &File{m: m, Names: map[string]uint32{}}
	s, ok := m.stream(1)
	if !ok {
		return nil, errf(1, 0, "PDB info stream", "absent")
	}
	b, err := s.all("PDB info stream")
	if err != nil {
		return nil, err
	}
	if len(b) < 28 {
		return nil, errf(1, 0, "PDB info stream", "%d bytes, need 28", len(b))
	}
	f.Version = binary.LittleEndian.Uint32(b)
	f.Signature = binary.LittleEndian.Uint32(b[4:])
	f.Age = binary.LittleEndian.Uint32(b[8:])
	copy(f.GUID[:], b[12:28])
	f.parseNames(b[28:])
	return f, nil
}

// parseNames reads the named-stream map; a damaged map only loses names.
func (f *File) parseNames(b []byte) {
	if len(b) < 4 {
		return
	}
	strLen := binary.LittleEndian.Uint32(b)
	if uint64(strLen)+4 > uint64(len(b)) {
		return
	}
	strs := b[4 : 4+strLen]
	p := b[4+strLen:]
	if len(p) < 8 {
		return
	}
	count := binary.LittleEndian.Uint32(p)
	p = p[8:]
	for k := 0; k < 2; k++ { // present and deleted bit vectors
		if len(p) < 4 {
			return
		}
		words := binary.LittleEndian.Uint32(p)
		if uint64(words)*4+4 > uint64(len(p)) {
			return
		}
		p = p[4+4*words:]
	}
	if uint64(count)*8 > uint64(len(p)) {
		return
	}
	for i := uint32(0); i < count; i++ {
		off := binary.LittleEndian.Uint32(p[8*i:])
		idx := binary.LittleEndian.Uint32(p[8*i+4:])
		if off < uint32(len(strs)) {
			end := off
			for end < uint32(len(strs)) && strs[end] != 0 {
				end++
			}
			f.Names[string(strs[off:end])] = idx
		}
	}
}

// GUIDString is the GUID as the symbol store writes it (32 upper-case hex digits).
func (f *File) GUIDString() string {
	g := f.GUID
	return fmt.Sprintf("%08X%04X%04X%X", binary.LittleEndian.Uint32(g[0:]), binary.LittleEndian.Uint16(g[4:]), binary.LittleEndian.Uint16(g[6:]), g[8:16])
}

// NumStreams is the number of MSF streams.
func (f *File) NumStreams() int { return len(f.m.sizes) }

// SectionHeader is an IMAGE_SECTION_HEADER as the PDB stores it.
type SectionHeader struct {
	Name            string
	VirtualSize     uint32
	VirtualAddress  uint32
	SizeOfRawData   uint32
	Characteristics uint32
}

// Module is one DBI module (an object file or import library).
type Module struct {
	Name                  string
	ObjName               string
	Stream                int // module symbol stream, -1 when absent
	SymBytes              uint32
	C11Bytes              uint32
	C13Bytes              uint32
	SectionContribSection uint16
}

// DBI is the decoded DBI stream.
type DBI struct {
	Age             uint32
	GlobalStream    int
	PublicStream    int
	SymRecordStream int
	Machine         uint16
	Modules         []Module
	Sections        []SectionHeader
	OmapFromSrc     []omapEntry
	FPOStream       int
	NewFPOStream    int
}

type omapEntry struct{ from, to uint32 }

func streamIdx(v uint16) int {
	if v == 0xFFFF {
		return -1
	}
	return int(v)
}

// DBI decodes the DBI stream (once).
func (f *File) DBI() (*DBI, error) {
	if f.dbiDone {
		return f.dbi, f.dbiErr
	}
	f.dbiDone = true
	f.dbi, f.dbiErr = f.readDBI()
	return f.dbi, f.dbiErr
}

func (f *File) readDBI() (*DBI, error) {
	s, ok := f.m.stream(3)
	if !ok {
		return nil, errf(3, 0, "DBI stream", "absent")
	}
	b, err := s.all("DBI stream")
	if err != nil {
		return nil, err
	}
	if len(b) == 0 { // a type-server PDB has types only
		return &DBI{GlobalStream: -1, PublicStream: -1, SymRecordStream: -1, FPOStream: -1, NewFPOStream: -1}, nil
	}
	if len(b) < 0x40 {
		return nil, errf(3, 0, "DBI header", "stream is %d bytes", len(b))
	}
	le := binary.LittleEndian
	d := &DBI{
		Age:             le.Uint32(b[8:]),
		GlobalStream:    streamIdx(le.Uint16(b[0xC:])),
		PublicStream:    streamIdx(le.Uint16(b[0x10:])),
		SymRecordStream: streamIdx(le.Uint16(b[0x14:])),
		Machine:         le.Uint16(b[0x3A:]),
		FPOStream:       -1, NewFPOStream: -1,
	}
	sizes := []uint32{le.Uint32(b[0x18:]), le.Uint32(b[0x1C:]), le.Uint32(b[0x20:]), le.Uint32(b[0x24:]), le.Uint32(b[0x28:]), le.Uint32(b[0x34:]), le.Uint32(b[0x30:])}
	var subs [7][]byte
	pos := uint64(0x40)
	for i, sz := range sizes {
		if pos+uint64(sz) > uint64(len(b)) {
			return d, errf(3, int64(pos), "DBI substream", "substream %d of %d bytes runs past the %d-byte stream", i, sz, len(b))
		}
		subs[i] = b[pos : pos+uint64(sz)]
		pos += uint64(sz)
	}
	d.Modules = parseModInfo(subs[0])
	dbg := subs[6]
	opt := func(i int) int {
		if 2*i+2 > len(dbg) {
			return -1
		}
		return streamIdx(le.Uint16(dbg[2*i:]))
	}
	d.FPOStream, d.NewFPOStream = opt(0), opt(9)
	if si := opt(5); si >= 0 {
		if hs, ok := f.m.stream(si); ok {
			if hb, err := hs.all("section headers"); err == nil {
				for i := 0; i+40 <= len(hb); i += 40 {
					name := hb[i : i+8]
					n := 0
					for n < 8 && name[n] != 0 {
						n++
					}
					d.Sections = append(d.Sections, SectionHeader{Name: string(name[:n]), VirtualSize: le.Uint32(hb[i+8:]),
						VirtualAddress: le.Uint32(hb[i+12:]), SizeOfRawData: le.Uint32(hb[i+16:]), Characteristics: le.Uint32(hb[i+36:])})
				}
			}
		}
	}
	if si := opt(4); si >= 0 {
		if os, ok := f.m.stream(si); ok {
			if ob, err := os.all("OMAP from source"); err == nil {
				for i := 0; i+8 <= len(ob); i += 8 {
					d.OmapFromSrc = append(d.OmapFromSrc, omapEntry{le.Uint32(ob[i:]), le.Uint32(ob[i+4:])})
				}
			}
		}
	}
	return d, nil
}

func cstr(b []byte) (string, []byte) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), b[i+1:]
		}
	}
	return string(b), nil
}

func parseModInfo(b []byte) []Module {
	le := binary.LittleEndian
	var out []Module
	for len(b) >= 64 {
		m := Module{
			SectionContribSection: le.Uint16(b[4:]),
			Stream:                streamIdx(le.Uint16(b[0x22:])),
			SymBytes:              le.Uint32(b[0x24:]),
			C11Bytes:              le.Uint32(b[0x28:]),
			C13Bytes:              le.Uint32(b[0x2C:]),
		}
		rest := b[64:]
		m.Name, rest = cstr(rest)
		m.ObjName, rest = cstr(rest)
		used := len(b) - len(rest)
		used = (used + 3) &^ 3
		out = append(out, m)
		if used > len(b) {
			break
		}
		b = b[used:]
	}
	return out
}

// RVA converts a section:offset address to an RVA, through OMAP when the
// image was rearranged after linking. ok is false for invalid addresses.
func (d *DBI) RVA(seg uint16, off uint32) (uint32, bool) {
	if seg == 0 || int(seg) > len(d.Sections) {
		return 0, false
	}
	rva := d.Sections[seg-1].VirtualAddress + off
	if len(d.OmapFromSrc) == 0 {
		return rva, true
	}
	om := d.OmapFromSrc
	i := sort.Search(len(om), func(i int) bool { return om[i].from > rva }) - 1
	if i < 0 || om[i].to == 0 {
		return 0, false
	}
	return om[i].to + (rva - om[i].from), true
}
