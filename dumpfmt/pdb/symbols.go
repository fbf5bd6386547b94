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
	// SymStart and SymEnd delimit the procedure's records in its module
	// stream (for its parameters and locals).
	SymStart, SymEnd uint32
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
		walkSymbols(b[4:m.SymBytes], func(kind uint16, rec []byte, off int) {
			switch kind {
			case S_GPROC32, S_LPROC32, S_GPROC32_ID, S_LPROC32_ID:
				r := &reader{b: rec}
				r.u32() // parent
				end := r.u32()
				r.u32() // next
				p := Proc{Len: r.u32(), Module: i, Global: kind == S_GPROC32 || kind == S_GPROC32_ID, IsID: kind == S_GPROC32_ID || kind == S_LPROC32_ID,
					SymStart: uint32(off + 4), SymEnd: end}
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
				if uint64(conOff)+uint64(lo) <= uint64(off) && (!found || conOff+lo >= bestOff) && ln != 0xFEEFEE && ln != 0xF00F00 {
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

// Parameter and local location kinds.
const (
	LocNone     = iota // no location recorded (optimized away)
	LocRegRel          // [Reg + Offset]
	LocFrameRel        // [frame pointer + Offset]; FrameReg says which
	LocRegister        // in Reg
)

// Param is a parameter or local of a procedure, with where it lives.
type Param struct {
	Name     string
	Type     uint32
	IsParam  bool
	Kind     int
	Reg      uint16 // CodeView register number
	Offset   int32
	FrameReg uint8 // for LocFrameRel: S_FRAMEPROC's encoded parameter base (1 VFRAME/RSP, 2 EBP/RBP, 3 EBX/R13)
	// Locs are all the locations the records give, each over its address
	// range; the fields above repeat the first one.
	Locs []Loc
}

// Loc is where a variable lives over a range of code (one S_DEFRANGE_*
// record, or S_REGREL32 for the whole procedure).
type Loc struct {
	Kind     int
	Reg      uint16
	Offset   int32
	FrameReg uint8
	Whole    bool   // valid in the whole procedure (no range recorded)
	Sect     uint16 // the range: section, start offset, length
	Start    uint32
	Len      uint16
	Gaps     [][2]uint16 // offset from Start and length of each hole
}

// Covers reports whether the location holds at section:offset.
func (l Loc) Covers(sect uint16, off uint32) bool {
	if l.Whole {
		return true
	}
	if sect != l.Sect || off < l.Start || off-l.Start >= uint32(l.Len) {
		return false
	}
	for _, g := range l.Gaps {
		if d := off - l.Start; d >= uint32(g[0]) && d-uint32(g[0]) < uint32(g[1]) {
			return false
		}
	}
	return true
}

// readRange reads a CV_LVAR_ADDR_RANGE and the gaps after it into l.
func (r *reader) readRange(l *Loc) {
	l.Start = r.u32()
	l.Sect = r.u16()
	l.Len = r.u16()
	for n := 0; len(r.b) >= 4 && n < 1024; n++ {
		l.Gaps = append(l.Gaps, [2]uint16{r.u16(), r.u16()})
	}
}

// Symbol kinds inside procedures.
const (
	S_FRAMEPROC                      = 0x1012
	S_BLOCK32                        = 0x1103
	S_REGREL32                       = 0x1111
	S_LOCAL                          = 0x113E
	S_DEFRANGE_REGISTER              = 0x1141
	S_DEFRANGE_FRAMEPOINTER_REL      = 0x1142
	S_DEFRANGE_FRAMEPOINTER_REL_FULL = 0x1144
	S_DEFRANGE_REGISTER_REL          = 0x1145
	S_INLINESITE                     = 0x114D
	S_INLINESITE_END                 = 0x114E
)

// Params returns the variables declared directly in a procedure's scope,
// parameters first as the compiler emitted them. S_REGREL32 records (MSVC)
// carry no parameter flag: the caller matches them to the argument list.
func (f *File) Params(p Proc) ([]Param, error) {
	b, err := f.moduleStream(p.Module)
	if err != nil || b == nil {
		return nil, err
	}
	if p.SymEnd > uint32(len(b)) || p.SymStart >= p.SymEnd {
		return nil, errf(-1, int64(p.SymStart), "procedure", "records 0x%x-0x%x lie outside the module stream", p.SymStart, p.SymEnd)
	}
	var out []Param
	depth := 0
	frameReg := uint8(0)
	pending := -1 // index of an S_LOCAL waiting for its location
	walkSymbols(b[p.SymStart:p.SymEnd], func(kind uint16, rec []byte, off int) {
		if off == 0 {
			return // the S_GPROC32 itself
		}
		r := &reader{b: rec}
		switch kind {
		case S_BLOCK32, S_INLINESITE:
			depth++
		case S_END, S_INLINESITE_END:
			depth--
		case S_FRAMEPROC:
			if len(rec) >= 26 {
				frameReg = uint8((binary.LittleEndian.Uint32(rec[22:]) >> 16) & 3)
			}
		case S_REGREL32:
			if depth == 0 {
				off := int32(r.u32())
				typ := r.u32()
				reg := r.u16()
				out = append(out, Param{Name: r.str(), Type: typ, Kind: LocRegRel, Reg: reg, Offset: off})
			}
			pending = -1
		case S_LOCAL:
			pending = -1
			if depth == 0 {
				typ := r.u32()
				flags := r.u16()
				out = append(out, Param{Name: r.str(), Type: typ, IsParam: flags&1 != 0})
				pending = len(out) - 1
			}
		case S_DEFRANGE_FRAMEPOINTER_REL, S_DEFRANGE_FRAMEPOINTER_REL_FULL, S_DEFRANGE_REGISTER_REL, S_DEFRANGE_REGISTER:
			if pending < 0 {
				return
			}
			var l Loc
			switch kind {
			case S_DEFRANGE_FRAMEPOINTER_REL:
				l = Loc{Kind: LocFrameRel, Offset: int32(r.u32()), FrameReg: frameReg}
				r.readRange(&l)
			case S_DEFRANGE_FRAMEPOINTER_REL_FULL:
				l = Loc{Kind: LocFrameRel, Offset: int32(r.u32()), FrameReg: frameReg, Whole: true}
			case S_DEFRANGE_REGISTER_REL:
				reg := r.u16()
				r.u16()
				l = Loc{Kind: LocRegRel, Reg: reg, Offset: int32(r.u32())}
				r.readRange(&l)
			case S_DEFRANGE_REGISTER:
				l = Loc{Kind: LocRegister, Reg: r.u16()}
				r.u16()
				r.readRange(&l)
			}
			p := &out[pending]
			if p.Kind == LocNone {
				p.Kind, p.Reg, p.Offset, p.FrameReg = l.Kind, l.Reg, l.Offset, l.FrameReg
			}
			if len(p.Locs) < 256 {
				p.Locs = append(p.Locs, l)
			}
		}
	})
	return out, nil
}
