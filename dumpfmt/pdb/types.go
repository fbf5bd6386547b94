package pdb

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// Leaf kinds used by the type reader.
const (
	LF_MODIFIER     = 0x1001
	LF_POINTER      = 0x1002
	LF_PROCEDURE    = 0x1008
	LF_MFUNCTION    = 0x1009
	LF_ARGLIST      = 0x1201
	LF_FIELDLIST    = 0x1203
	LF_BITFIELD     = 0x1205
	LF_BCLASS       = 0x1400
	LF_VBCLASS      = 0x1401
	LF_IVBCLASS     = 0x1402
	LF_INDEX        = 0x1404
	LF_VFUNCTAB     = 0x1409
	LF_ENUMERATE    = 0x1502
	LF_ARRAY        = 0x1503
	LF_CLASS        = 0x1504
	LF_STRUCTURE    = 0x1505
	LF_UNION        = 0x1506
	LF_ENUM         = 0x1507
	LF_ALIAS        = 0x150A
	LF_MEMBER       = 0x150D
	LF_STMEMBER     = 0x150E
	LF_METHOD       = 0x150F
	LF_NESTTYPE     = 0x1510
	LF_ONEMETHOD    = 0x1511
	LF_INTERFACE    = 0x1519
	LF_CLASS2       = 0x1608
	LF_STRUCTURE2   = 0x1609
	LF_UNION2       = 0x160A
	LF_INTERFACE2   = 0x160B
	LF_FUNC_ID      = 0x1601
	LF_MFUNC_ID     = 0x1602
	LF_STRING_ID    = 0x1605
	LF_UDT_SRC_LINE = 0x1606
)

// Class property bits (CV_prop_t).
const (
	PropFwdRef        = 0x80
	PropScoped        = 0x100
	PropHasUniqueName = 0x200
)

// Type is one decoded type record. Which fields are set depends on Leaf.
type Type struct {
	Index      uint32
	Leaf       uint16
	Name       string
	UniqueName string
	Size       uint64 // UDTs and arrays: bytes
	Props      uint16
	Count      uint16 // UDT member count, procedure parameter count
	FieldList  uint32
	Derived    uint32
	Elem       uint32 // pointer referent, array element, modifier/bitfield/enum underlying type, procedure return
	IndexType  uint32 // array index type; procedure argument list
	PtrAttr    uint32
	Modifier   uint16
	BitPos     uint8
	BitLen     uint8
	ClassType  uint32 // member functions
	Args       []uint32
	// CallConv is a procedure's or member function's calling convention
	// (CV_call_e: 0 near C, 4 near fast, 7 near std, 0xb thiscall, ...).
	CallConv uint8
}

// IsUDT reports whether the record is a class, structure, union or interface.
func (t *Type) IsUDT() bool {
	switch t.Leaf {
	case LF_CLASS, LF_STRUCTURE, LF_UNION, LF_INTERFACE, LF_CLASS2, LF_STRUCTURE2, LF_UNION2, LF_INTERFACE2:
		return true
	}
	return false
}

// IsFwdRef reports a forward declaration (no field list).
func (t *Type) IsFwdRef() bool { return t.Props&PropFwdRef != 0 }

// PointerSize is the size of a pointer record (bits 13–18 of its attributes).
func (t *Type) PointerSize() uint64 { return uint64(t.PtrAttr>>13) & 0x3f }

// PointerMode is 0 pointer, 1 lvalue ref, 2 data member, 3 method, 4 rvalue ref.
func (t *Type) PointerMode() uint32 { return (t.PtrAttr >> 5) & 7 }

// Member is one entry of a field list.
type Member struct {
	Leaf   uint16 // LF_MEMBER, LF_BCLASS, LF_ENUMERATE, LF_STMEMBER, LF_NESTTYPE, ...
	Attr   uint16
	Type   uint32
	Offset uint64 // LF_MEMBER / LF_BCLASS: byte offset
	Value  uint64 // LF_ENUMERATE
	Name   string
}

// typeStream is a TPI or IPI stream with a lazily built record index.
type typeStream struct {
	f        *File
	s        *Stream
	idx      int
	begin    uint32
	end      uint32
	hdrSize  uint32
	recBytes uint32
	hashStr  int
	buckets  uint32
	hashOff  uint32
	hashLen  uint32
	ioff     []indexOffset // from the hash stream, sorted by type index
	offsets  map[uint32]uint32
	cache    map[uint32]*Type
	fields   map[uint32][]Member // decoded field lists, bounded by maxFieldCache
	hashVals []uint32
}

// maxFieldCache bounds the decoded field lists kept per type stream.
const maxFieldCache = 4096

type indexOffset struct{ ti, off uint32 }

func (f *File) typeStream(i int) (*typeStream, error) {
	s, ok := f.m.stream(i)
	if !ok {
		return nil, errf(i, 0, "type stream", "absent")
	}
	if s.size == 0 {
		return &typeStream{f: f, s: s, idx: i, begin: 0x1000, end: 0x1000}, nil
	}
	b, err := s.bytes(0, 0x38, "TPI header")
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	t := &typeStream{f: f, s: s, idx: i,
		hdrSize: le.Uint32(b[4:]), begin: le.Uint32(b[8:]), end: le.Uint32(b[0xC:]), recBytes: le.Uint32(b[0x10:]),
		hashStr: streamIdx(le.Uint16(b[0x14:])), buckets: le.Uint32(b[0x1C:]),
		hashOff: le.Uint32(b[0x20:]), hashLen: le.Uint32(b[0x24:]),
		offsets: map[uint32]uint32{}, cache: map[uint32]*Type{}}
	if t.hdrSize < 0x38 || uint64(t.hdrSize)+uint64(t.recBytes) > uint64(s.size) || t.end < t.begin || t.begin < 0x1000 {
		return nil, errf(i, 0, "TPI header", "header size %d, %d record bytes, type indices 0x%x-0x%x do not fit a %d-byte stream", t.hdrSize, t.recBytes, t.begin, t.end, s.size)
	}
	if uint64(t.end-t.begin)*4 > uint64(t.recBytes)+4 {
		return nil, errf(i, 0xC, "TPI header", "%d type records cannot fit in %d bytes", t.end-t.begin, t.recBytes)
	}
	// Index offsets from the hash stream let a lookup start near its record.
	if hs, ok := f.m.stream(t.hashStr); ok {
		ioOff, ioLen := le.Uint32(b[0x28:]), le.Uint32(b[0x2C:])
		if uint64(ioOff)+uint64(ioLen) <= uint64(hs.size) && ioLen%8 == 0 {
			if ib, err := hs.bytes(int64(ioOff), int64(ioLen), "TPI index offsets"); err == nil {
				for k := 0; k+8 <= len(ib); k += 8 {
					e := indexOffset{le.Uint32(ib[k:]), le.Uint32(ib[k+4:])}
					if e.ti >= t.begin && e.ti < t.end && e.off < t.recBytes {
						t.ioff = append(t.ioff, e)
					}
				}
				sort.Slice(t.ioff, func(a, b int) bool { return t.ioff[a].ti < t.ioff[b].ti })
			}
		}
	}
	return t, nil
}

// TPI returns the type stream (stream 2).
func (f *File) TPI() (*TypeTable, error) {
	if f.tpi == nil {
		t, err := f.typeStream(2)
		if err != nil {
			return nil, err
		}
		f.tpi = t
	}
	return &TypeTable{f.tpi}, nil
}

// IPI returns the id stream (stream 4).
func (f *File) IPI() (*TypeTable, error) {
	if f.ipi == nil {
		t, err := f.typeStream(4)
		if err != nil {
			return nil, err
		}
		f.ipi = t
	}
	return &TypeTable{f.ipi}, nil
}

// TypeTable gives access to type records by index and by name.
type TypeTable struct{ t *typeStream }

// Range is the first type index and one past the last.
func (tt *TypeTable) Range() (uint32, uint32) { return tt.t.begin, tt.t.end }

// offset finds the stream offset of record ti, walking record lengths from
// the nearest known index offset.
func (t *typeStream) offset(ti uint32) (uint32, error) {
	if ti < t.begin || ti >= t.end {
		return 0, errf(t.idx, 0, "type index", "0x%x is outside 0x%x-0x%x", ti, t.begin, t.end)
	}
	if o, ok := t.offsets[ti]; ok {
		return o, nil
	}
	start, off := t.begin, uint32(0)
	k := sort.Search(len(t.ioff), func(k int) bool { return t.ioff[k].ti > ti }) - 1
	if k >= 0 {
		start, off = t.ioff[k].ti, t.ioff[k].off
	}
	// Continue from a closer index we already walked to.
	for probe := ti; probe > start && ti-probe < 64; probe-- {
		if o, ok := t.offsets[probe]; ok {
			start, off = probe, o
			break
		}
	}
	var hdr [2]byte
	for cur := start; ; cur++ {
		t.offsets[cur] = off
		if cur == ti {
			return off, nil
		}
		if _, err := t.s.ReadAt(hdr[:], int64(t.hdrSize)+int64(off)); err != nil {
			return 0, errf(t.idx, int64(t.hdrSize)+int64(off), "type record", "cannot read length of record 0x%x", cur)
		}
		n := uint32(binary.LittleEndian.Uint16(hdr[:]))
		if n < 2 {
			return 0, errf(t.idx, int64(t.hdrSize)+int64(off), "type record", "record 0x%x has length %d", cur, n)
		}
		if uint64(off)+uint64(n)+2 >= uint64(t.recBytes) { // in 64 bits: off + n + 2 may wrap
			return 0, errf(t.idx, int64(t.hdrSize)+int64(off), "type record", "records end before type 0x%x", ti)
		}
		off += n + 2
	}
}

// raw returns a record's leaf and payload.
func (t *typeStream) raw(ti uint32) (uint16, []byte, error) {
	off, err := t.offset(ti)
	if err != nil {
		return 0, nil, err
	}
	var hdr [4]byte
	if _, err := t.s.ReadAt(hdr[:], int64(t.hdrSize)+int64(off)); err != nil {
		return 0, nil, errf(t.idx, int64(t.hdrSize)+int64(off), "type record", "%v", err)
	}
	n := uint32(binary.LittleEndian.Uint16(hdr[:]))
	if n < 2 || uint64(off)+2+uint64(n) > uint64(t.recBytes) {
		return 0, nil, errf(t.idx, int64(t.hdrSize)+int64(off), "type record", "record 0x%x of %d bytes runs past the records", ti, n)
	}
	body, err := t.s.bytes(int64(t.hdrSize)+int64(off)+4, int64(n-2), "type record")
	if err != nil {
		return 0, nil, err
	}
	return binary.LittleEndian.Uint16(hdr[2:]), body, nil
}

// reader decodes little-endian fields from a record, remembering a short read.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}
func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.bad = true
		r.b = nil
		return 0
	}
	v := binary.LittleEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}
func (r *reader) u32() uint32 {
	if len(r.b) < 4 {
		r.bad = true
		r.b = nil
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}
func (r *reader) str() string {
	s, rest := cstr(r.b)
	r.b = rest
	return s
}

// numeric reads a CodeView numeric leaf.
func (r *reader) numeric() uint64 {
	v := r.u16()
	if v < 0x8000 {
		return uint64(v)
	}
	switch v {
	case 0x8000:
		return uint64(int64(int8(r.u8())))
	case 0x8001:
		return uint64(int64(int16(r.u16())))
	case 0x8002:
		return uint64(r.u16())
	case 0x8003:
		return uint64(int64(int32(r.u32())))
	case 0x8004:
		return uint64(r.u32())
	case 0x8009, 0x800A:
		lo := uint64(r.u32())
		return lo | uint64(r.u32())<<32
	case 0x8005:
		r.u32()
	case 0x8006:
		r.u32()
		r.u32()
	case 0x8017, 0x8018:
		lo := uint64(r.u32())
		v := lo | uint64(r.u32())<<32
		r.u32()
		r.u32()
		return v
	default:
		r.bad = true
	}
	return 0
}

// Type decodes record ti.
func (tt *TypeTable) Type(ti uint32) (*Type, error) {
	t := tt.t
	if c, ok := t.cache[ti]; ok {
		return c, nil
	}
	leaf, body, err := t.raw(ti)
	if err != nil {
		return nil, err
	}
	ty := &Type{Index: ti, Leaf: leaf}
	r := &reader{b: body}
	switch leaf {
	case LF_CLASS, LF_STRUCTURE, LF_INTERFACE:
		ty.Count = r.u16()
		ty.Props = r.u16()
		ty.FieldList = r.u32()
		ty.Derived = r.u32()
		r.u32() // vshape
		ty.Size = r.numeric()
		ty.Name = r.str()
		if ty.Props&PropHasUniqueName != 0 {
			ty.UniqueName = r.str()
		}
	case LF_CLASS2, LF_STRUCTURE2, LF_INTERFACE2:
		ty.Props = uint16(r.u32())
		ty.FieldList = r.u32()
		ty.Derived = r.u32()
		r.u32()
		ty.Count = r.u16()
		ty.Size = r.numeric()
		ty.Name = r.str()
		if ty.Props&PropHasUniqueName != 0 {
			ty.UniqueName = r.str()
		}
	case LF_UNION:
		ty.Count = r.u16()
		ty.Props = r.u16()
		ty.FieldList = r.u32()
		ty.Size = r.numeric()
		ty.Name = r.str()
		if ty.Props&PropHasUniqueName != 0 {
			ty.UniqueName = r.str()
		}
	case LF_UNION2:
		ty.Props = uint16(r.u32())
		ty.FieldList = r.u32()
		ty.Count = r.u16()
		ty.Size = r.numeric()
		ty.Name = r.str()
		if ty.Props&PropHasUniqueName != 0 {
			ty.UniqueName = r.str()
		}
	case LF_ENUM:
		ty.Count = r.u16()
		ty.Props = r.u16()
		ty.Elem = r.u32()
		ty.FieldList = r.u32()
		ty.Name = r.str()
		if ty.Props&PropHasUniqueName != 0 {
			ty.UniqueName = r.str()
		}
	case LF_POINTER:
		ty.Elem = r.u32()
		ty.PtrAttr = r.u32()
		if ty.PointerMode() == 2 || ty.PointerMode() == 3 {
			ty.ClassType = r.u32()
		}
	case LF_MODIFIER:
		ty.Elem = r.u32()
		ty.Modifier = r.u16()
	case LF_ARRAY:
		ty.Elem = r.u32()
		ty.IndexType = r.u32()
		ty.Size = r.numeric()
		ty.Name = r.str()
	case LF_BITFIELD:
		ty.Elem = r.u32()
		ty.BitLen = r.u8()
		ty.BitPos = r.u8()
	case LF_PROCEDURE:
		ty.Elem = r.u32()
		ty.CallConv = r.u8()
		r.u8()
		ty.Count = r.u16()
		ty.IndexType = r.u32()
	case LF_MFUNCTION:
		ty.Elem = r.u32()
		ty.ClassType = r.u32()
		r.u32() // this type
		ty.CallConv = r.u8()
		r.u8()
		ty.Count = r.u16()
		ty.IndexType = r.u32()
	case LF_ARGLIST:
		n := r.u32()
		if uint64(n)*4 > uint64(len(r.b)) {
			return nil, errf(t.idx, 0, "LF_ARGLIST", "type 0x%x claims %d arguments in %d bytes", ti, n, len(r.b))
		}
		for i := uint32(0); i < n; i++ {
			ty.Args = append(ty.Args, r.u32())
		}
	case LF_ALIAS:
		ty.Elem = r.u32()
		ty.Name = r.str()
	case LF_FUNC_ID:
		r.u32() // scope
		ty.Elem = r.u32()
		ty.Name = r.str()
	case LF_MFUNC_ID:
		ty.ClassType = r.u32()
		ty.Elem = r.u32()
		ty.Name = r.str()
	case LF_STRING_ID:
		r.u32()
		ty.Name = r.str()
	}
	if r.bad {
		return nil, errf(t.idx, 0, "type record", "record 0x%x (leaf 0x%x) is truncated", ti, leaf)
	}
	t.cache[ti] = ty
	return ty, nil
}

// Fields decodes a field list, following LF_INDEX continuations. Lists are
// cached: the slice is shared, callers must not change it.
func (tt *TypeTable) Fields(ti uint32) ([]Member, error) {
	if ms, ok := tt.t.fields[ti]; ok {
		return ms, nil
	}
	ms, err := tt.decodeFields(ti)
	if err == nil {
		if tt.t.fields == nil || len(tt.t.fields) >= maxFieldCache {
			tt.t.fields = map[uint32][]Member{}
		}
		tt.t.fields[ti] = ms
	}
	return ms, err
}

func (tt *TypeTable) decodeFields(ti uint32) ([]Member, error) {
	var out []Member
	seen := map[uint32]bool{}
	for ti != 0 && !seen[ti] {
		seen[ti] = true
		leaf, body, err := tt.t.raw(ti)
		if err != nil {
			return out, err
		}
		if leaf != LF_FIELDLIST {
			return out, errf(tt.t.idx, 0, "field list", "type 0x%x is leaf 0x%x, not LF_FIELDLIST", ti, leaf)
		}
		ti = 0
		r := &reader{b: body}
		for len(r.b) >= 2 && !r.bad {
			sub := r.u16()
			m := Member{Leaf: sub}
			switch sub {
			case LF_MEMBER:
				m.Attr = r.u16()
				m.Type = r.u32()
				m.Offset = r.numeric()
				m.Name = r.str()
			case LF_STMEMBER:
				m.Attr = r.u16()
				m.Type = r.u32()
				m.Name = r.str()
			case LF_BCLASS:
				m.Attr = r.u16()
				m.Type = r.u32()
				m.Offset = r.numeric()
			case LF_VBCLASS, LF_IVBCLASS:
				m.Attr = r.u16()
				m.Type = r.u32()
				r.u32()
				r.numeric()
				r.numeric()
			case LF_ENUMERATE:
				m.Attr = r.u16()
				m.Value = r.numeric()
				m.Name = r.str()
			case LF_INDEX:
				r.u16()
				ti = r.u32()
				continue
			case LF_VFUNCTAB:
				r.u16()
				m.Type = r.u32()
			case LF_NESTTYPE:
				r.u16()
				m.Type = r.u32()
				m.Name = r.str()
			case LF_METHOD:
				r.u16()
				m.Type = r.u32()
				m.Name = r.str()
			case LF_ONEMETHOD:
				m.Attr = r.u16()
				m.Type = r.u32()
				if kind := (m.Attr >> 2) & 7; kind == 4 || kind == 6 { // intro virtual: vtable offset
					r.u32()
				}
				m.Name = r.str()
			default:
				return out, errf(tt.t.idx, 0, "field list", "type 0x%x has unknown member leaf 0x%x", ti, sub)
			}
			out = append(out, m)
			// Skip LF_PADn bytes.
			for len(r.b) > 0 && r.b[0] >= 0xF0 {
				n := int(r.b[0] & 0x0F)
				if n == 0 || n > len(r.b) {
					n = 1
				}
				r.b = r.b[n:]
			}
		}
		if r.bad {
			return out, errf(tt.t.idx, 0, "field list", "truncated member")
		}
	}
	return out, nil
}

// hashStringV1 is the PDB name hash used by the TPI hash stream for UDTs.
func hashStringV1(s string) uint32 {
	b := []byte(s)
	var h uint32
	for len(b) >= 4 {
		h ^= binary.LittleEndian.Uint32(b)
		b = b[4:]
	}
	if len(b) >= 2 {
		h ^= uint32(binary.LittleEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		h ^= uint32(b[0])
	}
	h |= 0x20202020
	h ^= h >> 11
	return h ^ (h >> 16)
}

func (t *typeStream) loadHashValues() []uint32 {
	if t.hashVals != nil || t.buckets == 0 {
		return t.hashVals
	}
	hs, ok := t.f.m.stream(t.hashStr)
	n := t.end - t.begin
	if !ok || uint64(t.hashLen) != uint64(n)*4 {
		return nil
	}
	b, err := hs.bytes(int64(t.hashOff), int64(t.hashLen), "TPI hash values")
	if err != nil {
		return nil
	}
	vals := make([]uint32, n)
	for i := range vals {
		vals[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	t.hashVals = vals
	return vals
}

// FindUDT finds the defining (non-forward) record of a class, structure,
// union or enum by name. It uses the TPI hash to visit only the records in
// the name's bucket, and falls back to a scan when the PDB has no hash.
func (tt *TypeTable) FindUDT(name string) (*Type, error) {
	t := tt.t
	match := func(ti uint32) *Type {
		ty, err := tt.Type(ti)
		if err != nil || ty.IsFwdRef() || (!ty.IsUDT() && ty.Leaf != LF_ENUM) {
			return nil
		}
		if ty.Name == name || ty.UniqueName == name {
			return ty
		}
		return nil
	}
	if vals := t.loadHashValues(); vals != nil {
		want := hashStringV1(name) % t.buckets
		for i, v := range vals {
			if v == want {
				if ty := match(t.begin + uint32(i)); ty != nil {
					return ty, nil
				}
			}
		}
	}
	for ti := t.begin; ti < t.end; ti++ {
		leaf, _, err := t.raw(ti)
		if err != nil {
			return nil, err
		}
		switch leaf {
		case LF_CLASS, LF_STRUCTURE, LF_INTERFACE, LF_UNION, LF_ENUM, LF_CLASS2, LF_STRUCTURE2, LF_UNION2, LF_INTERFACE2:
			if ty := match(ti); ty != nil {
				return ty, nil
			}
		}
	}
	return nil, fmt.Errorf("type %s not found", name)
}

// Resolve returns the definition of a forward-declared UDT (itself otherwise).
func (tt *TypeTable) Resolve(ty *Type) *Type {
	if !ty.IsFwdRef() {
		return ty
	}
	// The name hash finds the definition fast; the unique name settles
	// between same-named types of different scopes.
	if def, err := tt.FindUDT(ty.Name); err == nil && (ty.UniqueName == "" || def.UniqueName == ty.UniqueName) {
		return def
	}
	if ty.UniqueName != "" {
		if def, err := tt.FindUDT(ty.UniqueName); err == nil {
			return def
		}
	}
	return ty
}

// UDTNames lists the names of every defined (non-forward) class, structure,
// union and enum, each once, in type-index order.
func (tt *TypeTable) UDTNames() ([]string, error) {
	t := tt.t
	seen := map[string]bool{}
	var out []string
	for ti := t.begin; ti < t.end; ti++ {
		leaf, _, err := t.raw(ti)
		if err != nil {
			return out, err
		}
		switch leaf {
		case LF_CLASS, LF_STRUCTURE, LF_INTERFACE, LF_UNION, LF_ENUM, LF_CLASS2, LF_STRUCTURE2, LF_UNION2, LF_INTERFACE2:
			ty, err := tt.Type(ti)
			if err != nil || ty.IsFwdRef() || ty.Name == "" || seen[ty.Name] {
				continue
			}
			seen[ty.Name] = true
			out = append(out, ty.Name)
		}
	}
	return out, nil
}
