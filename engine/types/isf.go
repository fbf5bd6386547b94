package types

import (
	"fmt"
	"sort"

	"github.com/ntdbg/ntdbg/dumpfmt/isf"
	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
)

// Table is a module's type information as the model reads it: CodeView
// type records by index. A PDB's TPI stream is one; an ISF file is turned
// into one (NewISFTable).
type Table interface {
	Type(ti uint32) (*pdb.Type, error)
	Fields(ti uint32) ([]pdb.Member, error)
	FindUDT(name string) (*pdb.Type, error)
	Resolve(t *pdb.Type) *pdb.Type
}

// ISFTable is a Volatility ISF file's types as CodeView records: each user
// type a structure or union with its field list, each enumeration an
// LF_ENUM, pointers, arrays and bitfields made as members need them, base
// types mapped to CodeView's basic indices. The model then reads ISF types
// exactly as it reads a PDB's.
type ISFTable struct {
	types  map[uint32]*pdb.Type
	fields map[uint32][]pdb.Member
	byName map[string]uint32
	made   map[string]uint32 // pointer/array/bitfield records by shape
	next   uint32
}

// maxISFArray bounds an array's byte size from an ISF file.
const maxISFArray = 1 << 32

// NewISFTable converts an ISF file.
func NewISFTable(f *isf.File) *ISFTable {
	t := &ISFTable{types: map[uint32]*pdb.Type{}, fields: map[uint32][]pdb.Member{}, byName: map[string]uint32{},
		made: map[string]uint32{}, next: 0x1000}
	// Indexes for every named type first, in name order (deterministic),
	// so that members can refer to any of them.
	var users, enums []string
	for n := range f.UserTypes {
		users = append(users, n)
	}
	for n := range f.Enums {
		enums = append(enums, n)
	}
	sort.Strings(users)
	sort.Strings(enums)
	for _, n := range users {
		t.byName[n] = t.alloc()
	}
	for _, n := range enums {
		if _, dup := t.byName[n]; !dup {
			t.byName[n] = t.alloc()
		}
	}
	for _, n := range enums {
		e := f.Enums[n]
		fl := t.alloc()
		var ms []pdb.Member
		var cs []string
		for c := range e.Constants {
			cs = append(cs, c)
		}
		sort.Slice(cs, func(i, j int) bool { return e.Constants[cs[i]] < e.Constants[cs[j]] })
		for _, c := range cs {
			ms = append(ms, pdb.Member{Leaf: pdb.LF_ENUMERATE, Value: uint64(e.Constants[c]), Name: c})
		}
		t.fields[fl] = ms
		t.types[fl] = &pdb.Type{Index: fl, Leaf: pdb.LF_FIELDLIST}
		ti := t.byName[n]
		t.types[ti] = &pdb.Type{Index: ti, Leaf: pdb.LF_ENUM, Name: n, Count: uint16(min(len(ms), 0xffff)), FieldList: fl,
			Elem: basicIndex(f, e.Base, e.Size)}
	}
	for _, n := range users {
		u := f.UserTypes[n]
		fl := t.alloc()
		var names []string
		for fn := range u.Fields {
			names = append(names, fn)
		}
		// Members in offset order, as a PDB lists them (bitfields by bit).
		sort.Slice(names, func(i, j int) bool {
			a, b := u.Fields[names[i]], u.Fields[names[j]]
			if a.Offset != b.Offset {
				return a.Offset < b.Offset
			}
			if a.Type.BitPos != b.Type.BitPos {
				return a.Type.BitPos < b.Type.BitPos
			}
			return names[i] < names[j]
		})
		var ms []pdb.Member
		for _, fn := range names {
			fd := u.Fields[fn]
			ms = append(ms, pdb.Member{Leaf: pdb.LF_MEMBER, Type: t.typeOf(f, fd.Type), Offset: fd.Offset, Name: fn})
		}
		t.fields[fl] = ms
		t.types[fl] = &pdb.Type{Index: fl, Leaf: pdb.LF_FIELDLIST}
		leaf := uint16(pdb.LF_STRUCTURE)
		if u.Kind == "union" {
			leaf = pdb.LF_UNION
		}
		ti := t.byName[n]
		t.types[ti] = &pdb.Type{Index: ti, Leaf: leaf, Name: n, Size: u.Size, Count: uint16(min(len(ms), 0xffff)), FieldList: fl}
	}
	return t
}

func (t *ISFTable) alloc() uint32 {
	ti := t.next
	t.next++
	return ti
}

// basicIndex maps an ISF base type to a CodeView basic index.
func basicIndex(f *isf.File, name string, size uint64) uint32 {
	switch name {
	case "void":
		return 0x03
	case "char":
		return 0x70
	case "unsigned char":
		return 0x20
	case "short":
		return 0x11
	case "unsigned short":
		return 0x21
	case "wchar":
		return 0x71
	case "int":
		return 0x74
	case "unsigned int":
		return 0x75
	case "long":
		return 0x12
	case "unsigned long":
		return 0x22
	case "long long":
		return 0x13
	case "unsigned long long":
		return 0x23
	case "bool":
		return 0x30
	case "float":
		return 0x40
	case "double":
		return 0x41
	case "pointer":
		return 0x603
	}
	b, ok := f.BaseTypes[name]
	if ok {
		size = b.Size
	}
	switch {
	case b.Kind == "float" && size == 4:
		return 0x40
	case b.Kind == "float":
		return 0x41
	case size == 1 && b.Signed:
		return 0x10
	case size == 1:
		return 0x20
	case size == 2 && b.Signed:
		return 0x11
	case size == 2:
		return 0x21
	case size == 4 && b.Signed:
		return 0x12
	case size == 4:
		return 0x22
	case size == 8 && b.Signed:
		return 0x13
	case size == 8:
		return 0x23
	}
	return 0x03
}

// typeOf is the index of an ISF member type, making pointer, array,
// bitfield and procedure records as needed (one per shape).
func (t *ISFTable) typeOf(f *isf.File, ty *isf.Type) uint32 {
	if ty == nil {
		return 0x03
	}
	switch ty.Kind {
	case "base":
		return basicIndex(f, ty.Name, 0)
	case "struct", "union", "class", "enum":
		if ti, ok := t.byName[ty.Name]; ok {
			return ti
		}
		return 0x03
	case "pointer":
		elem := t.typeOf(f, ty.Subtype)
		if elem < 0x1000 && elem&0xff00 == 0 {
			return 0x600 | elem // a 64-bit pointer to a basic type
		}
		return t.make(fmt.Sprintf("p%x", elem), func(ti uint32) *pdb.Type {
			return &pdb.Type{Index: ti, Leaf: pdb.LF_POINTER, Elem: elem, PtrAttr: 8<<13 | 0x0c}
		})
	case "array":
		elem := t.typeOf(f, ty.Subtype)
		size := t.size(elem) * ty.Count
		if ty.Count != 0 && size/ty.Count != t.size(elem) || size > maxISFArray {
			size = 0
		}
		return t.make(fmt.Sprintf("a%x*%d", elem, ty.Count), func(ti uint32) *pdb.Type {
			return &pdb.Type{Index: ti, Leaf: pdb.LF_ARRAY, Elem: elem, IndexType: 0x23, Size: size}
		})
	case "bitfield":
		elem := t.typeOf(f, ty.Subtype)
		return t.make(fmt.Sprintf("b%x:%d:%d", elem, ty.BitPos, ty.BitLen), func(ti uint32) *pdb.Type {
			return &pdb.Type{Index: ti, Leaf: pdb.LF_BITFIELD, Elem: elem, BitPos: ty.BitPos, BitLen: ty.BitLen}
		})
	case "function":
		return t.make("f", func(ti uint32) *pdb.Type {
			return &pdb.Type{Index: ti, Leaf: pdb.LF_PROCEDURE, Elem: 0x03}
		})
	}
	return 0x03
}

func (t *ISFTable) make(key string, build func(uint32) *pdb.Type) uint32 {
	if ti, ok := t.made[key]; ok {
		return ti
	}
	ti := t.alloc()
	t.types[ti] = build(ti)
	t.made[key] = ti
	return ti
}

// size is the byte size of a type index of this table.
func (t *ISFTable) size(ti uint32) uint64 {
	if ti < 0x1000 {
		if ti&0xff00 != 0 {
			return 8
		}
		return basics[ti&0xff].size
	}
	ty := t.types[ti]
	switch {
	case ty == nil:
		return 0
	case ty.Leaf == pdb.LF_POINTER:
		return 8
	case ty.Leaf == pdb.LF_ENUM:
		return t.size(ty.Elem)
	}
	return ty.Size
}

// Type returns the record of a type index.
func (t *ISFTable) Type(ti uint32) (*pdb.Type, error) {
	if ty, ok := t.types[ti]; ok {
		return ty, nil
	}
	return nil, fmt.Errorf("type index 0x%x is not in the ISF table", ti)
}

// Fields returns a field list.
func (t *ISFTable) Fields(ti uint32) ([]pdb.Member, error) {
	if ms, ok := t.fields[ti]; ok {
		return ms, nil
	}
	return nil, fmt.Errorf("type index 0x%x is not a field list", ti)
}

// FindUDT finds a structure, union or enumeration by name.
func (t *ISFTable) FindUDT(name string) (*pdb.Type, error) {
	if ti, ok := t.byName[name]; ok {
		return t.types[ti], nil
	}
	return nil, fmt.Errorf("type %s not found", name)
}

// Resolve returns the type itself: ISF has no forward references.
func (t *ISFTable) Resolve(ty *pdb.Type) *pdb.Type { return ty }

// UDTNames lists the ISF file's user types and enumerations by name.
func (t *ISFTable) UDTNames() ([]string, error) {
	out := make([]string, 0, len(t.byName))
	for n := range t.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}
