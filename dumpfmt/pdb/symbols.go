package pdb

import (
	"encoding/binary"
	"sort"
)

// Symbol record kinds.
const (
	S_END        = 0x0006
	S_CONSTANT   = 0x1107
	S_UDT        = 0x1108
	S_LDATA32    = 0x110C
	S_GDATA32    = 0x110D
	S_PUB32      = 0x110E
	S_LPROC32    = 0x110F
	S_GPROC32    = 0x1110
	S_GTHREAD32  = 0x1113
	S_PROCREF    = 0x1125
	S_DATAREF    = 0x1126
	S_LPROCREF   = 0x1127
	S_LPROC32_ID = 0x1146
	S_GPROC32_ID = 0x1147
)

// Public is an S_PUB32 record.
type Public struct {
	Name  string
	Flags uint32 // 1 code, 2 function, 4 managed, 8 MSIL
	Seg   uint16
	Off   uint32
}

// Global is a global or static data symbol (S_GDATA32 / S_LDATA32).
type Global struct {
	Kind uint16
	Name string
	Type uint32
	Seg  uint16
	Off  uint32
}

// walkSymbols calls fn for each record of a symbol stream region.
func walkSymbols(b []byte, fn func(kind uint16, rec []byte, off int)) {
	off := 0
	for off+4 <= len(b) {
		n := int(binary.LittleEndian.Uint16(b[off:]))
		if n < 2 || off+2+n > len(b) {
			return
		}
		fn(binary.LittleEndian.Uint16(b[off+2:]), b[off+4:off+2+n], off)
		off += 2 + n
	}
}

func (f *File) symRecords() ([]byte, error) {
	d, err := f.DBI()
	if err != nil {
		return nil, err
	}
	s, ok := f.m.stream(d.SymRecordStream)
	if !ok {
		return nil, nil
	}
	return s.all("symbol records")
}

// Publics returns every S_PUB32 record.
func (f *File) Publics() ([]Public, error) {
	if f.pubsDone {
		return f.pubs, nil
	}
	b, err := f.symRecords()
	if err != nil {
		return nil, err
	}
	walkSymbols(b, func(kind uint16, rec []byte, _ int) {
		r := &reader{b: rec}
		switch kind {
		case S_PUB32:
			p := Public{Flags: r.u32(), Off: r.u32(), Seg: r.u16()}
			p.Name = r.str()
			if !r.bad {
				f.pubs = append(f.pubs, p)
			}
		case S_GDATA32, S_LDATA32, S_GTHREAD32:
			g := Global{Kind: kind, Type: r.u32(), Off: r.u32(), Seg: r.u16()}
			g.Name = r.str()
			if !r.bad {
				f.globals = append(f.globals, g)
			}
		}
	})
	f.pubsDone = true
	return f.pubs, nil
}

// Globals returns global data symbols from the symbol record stream.
func (f *File) Globals() ([]Global, error) {
	if _, err := f.Publics(); err != nil {
		return nil, err
	}
	return f.globals, nil
}

// Proc is a function from a module's symbols.
type Proc struct {
	Name   string
	Seg    uint16
	Off    uint32
	Len    uint32
	Type   uint32 // TPI type (or IPI id for the _ID kinds)
	IsID   bool   // Type is an IPI LF_FUNC_ID/LF_MFUNC_ID
	Module int
	Global bool
}

// ModuleSymbols returns the raw symbol bytes of module i (after the signature).
func (f *File) moduleStream(i int) ([]byte, error) {
	d, err := f.DBI()
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(d.Modules) {
		return nil, errf(3, 0, "module", "no module %d", i)
	}
	m := d.Modules[i]
	s, ok := f.m.stream(m.Stream)
	if !ok {
		return nil, nil
	}
	if uint64(m.SymBytes)+uint64(m.C11Bytes)+uint64(m.C13Bytes) > uint64(s.size) {
		return nil, errf(m.Stream, 0, "module stream", "symbol and line sizes (%d+%d+%d) exceed the %d-byte stream", m.SymBytes, m.C11Bytes, m.C13Bytes, s.size)
	}
	return s.all("module stream")
}

// Procs returns every S_GPROC32/S_LPROC32 (and _ID) of every module,
// sorted by section and offset.
func (f *File) Procs() ([]Proc, error) {
	d, err := f.DBI()
	if err != nil {
		return nil, err
	}
	var out []Proc
	for i, m := range d.Modules {
		b, err := f.moduleStream(i)
		if err != nil || b == nil || m.SymBytes < 4 {
			continue
		}
		walkSymbols(b[4:m.SymBytes], func(kind uint16, rec []byte, _ int) {
			switch kind {
			case S_GPROC32, S_LPROC32, S_GPROC32_ID, S_LPROC32_ID:
				r := &reader{b: rec}
				r.u32() // parent
				r.u32() // end
				r.u32() // next
				p := Proc{Len: r.u32(), Module: i, Global: kind == S_GPROC32 || kind == S_GPROC32_ID, IsID: kind == S_GPROC32_ID || kind == S_LPROC32_ID}
				r.u32() // debug start
				r.u32() // debug end
				p.Type = r.u32()
				p.Off = r.u32()
				p.Seg = r.u16()
				r.u8() // flags
				p.Name = r.str()
				if !r.bad {
					out = append(out, p)
				}
			}
		})
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Seg != out[b].Seg {
			return out[a].Seg < out[b].Seg
		}
		return out[a].Off < out[b].Off
	})
	return out, nil
}

// names reads a string from the /names stream.
func (f *File) nameAt(off uint32) string {
	idx, ok := f.Names["/names"]
	if !ok {
		return ""
	}
	s, ok := f.m.stream(int(idx))
	if !ok {
		return ""
	}
	hdr, err := s.bytes(0, 12, "/names")
	if err != nil {
		return ""
	}
	bufLen := binary.LittleEndian.Uint32(hdr[8:])
	if off >= bufLen {
		return ""
	}
	var out []byte
	chunk := make([]byte, 64)
	pos := int64(12 + off)
	for len(out) < 4096 {
		n, _ := s.ReadAt(chunk, pos)
		if n == 0 {
			break
		}
		for _, c := range chunk[:n] {
			if c == 0 {
				return string(out)
			}
			out = append(out, c)
		}
		pos += int64(n)
	}
	return string(out)
}

// Line is a source position.
type Line struct {
	File string
	Line uint32
}

// LineAt finds the source line of a section:offset in module i's C13 lines.
func (f *File) LineAt(i int, seg uint16, off uint32) (Line, bool) {
	d, err := f.DBI()
	if err != nil || i < 0 || i >= len(d.Modules) {
		return Line{}, false
	}
	m := d.Modules[i]
	b, err := f.moduleStream(i)
	if err != nil || b == nil {
		return Line{}, false
	}
	c13 := b[uint64(m.SymBytes)+uint64(m.C11Bytes):][:m.C13Bytes]
	le := binary.LittleEndian
	// First pass: the file checksum table.
	var checksums []byte
	for p := 0; p+8 <= len(c13); {
		kind, n := le.Uint32(c13[p:]), int(le.Uint32(c13[p+4:]))
		if n < 0 || p+8+n > len(c13) {
			break
		}
		if kind == 0xF4 {
			checksums = c13[p+8 : p+8+n]
		}
		p += 8 + ((n + 3) &^ 3)
	}
	best := Line{}
	found := false
	bestOff := uint32(0)
	for p := 0; p+8 <= len(c13); {
		kind, n := le.Uint32(c13[p:]), int(le.Uint32(c13[p+4:]))
		if n < 0 || p+8+n > len(c13) {
			break
		}
		sub := c13[p+8 : p+8+n]
		p += 8 + ((n + 3) &^ 3)
		if kind != 0xF2 || len(sub) < 12 {
			continue
		}
		conOff, conSeg, flags, conLen := le.Uint32(sub), le.Uint16(sub[4:]), le.Uint16(sub[6:]), le.Uint32(sub[8:])
		if conSeg != seg || off < conOff || off-conOff >= conLen {
			continue
		}
		q := sub[12:]
		for len(q) >= 12 {
			fileOff, nLines, cb := le.Uint32(q), le.Uint32(q[4:]), le.Uint32(q[8:])
			if cb < 12 || uint64(cb) > uint64(len(q)) || uint64(nLines)*8 > uint64(cb)-12 {
				break
			}
			lines := q[12:]
			for k := uint32(0); k < nLines; k++ {
				lo := le.Uint32(lines[8*k:])
				ln := le.Uint32(lines[8*k+4:]) & 0xFFFFFF
				if conOff+lo <= off && (!found || conOff+lo >= bestOff) && ln != 0xFEEFEE && ln != 0xF00F00 {
					name := ""
					if uint64(fileOff)+4 <= uint64(len(checksums)) {
						name = f.nameAt(le.Uint32(checksums[fileOff:]))
					}
					best, bestOff, found = Line{File: name, Line: ln}, conOff+lo, true
				}
			}
			_ = flags
			q = q[cb:]
		}
	}
	return best, found
}
