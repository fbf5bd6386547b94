package engine

import (
	"fmt"
	"strings"

	"ntdbg/dumpfmt/pdb"
)

// TypeRef is a type found in one module's PDB.
type TypeRef struct {
	Module *Module
	Table  *pdb.TypeTable
	Type   *pdb.Type
}

// FindType finds a UDT or enum by name, in the named module or in every
// module in load order (loading deferred symbols as WinDbg does).
func (s *Symbols) FindType(moduleName, name string) (*TypeRef, error) {
	for _, m := range s.target.Modules() {
		if moduleName != "" && !strings.EqualFold(m.Name, moduleName) {
			continue
		}
		tt, err := s.Types(m)
		if err != nil {
			continue
		}
		if t, err := tt.FindUDT(name); err == nil {
			return &TypeRef{Module: m, Table: tt, Type: t}, nil
		}
	}
	return nil, fmt.Errorf("Symbol %s not found.", name)
}

// Field is a member found by name, with its absolute offset in the outer type.
type Field struct {
	Name   string
	Offset uint64
	Type   uint32
	BitPos uint8
	BitLen uint8 // 0 when not a bitfield
}

// Field finds a member by dotted path (`ClientId.UniqueThread`), through
// nested structures and anonymous unions, by name in the type records.
func (r *TypeRef) Field(path string) (Field, error) {
	t := r.Table.Resolve(r.Type)
	var off uint64
	parts := strings.Split(path, ".")
	for i, p := range parts {
		f, ok := r.member(t, p)
		if !ok {
			return Field{}, fmt.Errorf("%s has no field %s", t.Name, p)
		}
		off += f.Offset
		if i == len(parts)-1 {
			f.Offset = off
			return f, nil
		}
		nt, err := r.Table.Type(f.Type)
		if err != nil {
			return Field{}, err
		}
		t = r.Table.Resolve(nt)
	}
	return Field{}, fmt.Errorf("empty field path")
}

func (r *TypeRef) member(t *pdb.Type, name string) (Field, bool) {
	ms, err := r.Table.Fields(t.FieldList)
	if err != nil {
		return Field{}, false
	}
	for _, m := range ms {
		if m.Leaf != pdb.LF_MEMBER || m.Name != name {
			continue
		}
		f := Field{Name: m.Name, Offset: m.Offset, Type: m.Type}
		if m.Type >= 0x1000 {
			if bt, err := r.Table.Type(m.Type); err == nil && bt.Leaf == pdb.LF_BITFIELD {
				f.Type, f.BitPos, f.BitLen = bt.Elem, bt.BitPos, bt.BitLen
			}
		}
		return f, true
	}
	return Field{}, false
}

// SimpleTypeSize is the size of a basic (index < 0x1000) type.
func SimpleTypeSize(ti uint32) uint64 {
	if mode := (ti >> 8) & 7; mode != 0 {
		switch mode {
		case 4, 5:
			return 4
		case 6:
			return 8
		case 7:
			return 16
		}
		return 2
	}
	switch ti & 0xff {
	case 0x03:
		return 0
	case 0x10, 0x20, 0x68, 0x69, 0x70, 0x30, 0x7C:
		return 1
	case 0x11, 0x21, 0x72, 0x73, 0x71, 0x7A, 0x31:
		return 2
	case 0x12, 0x22, 0x74, 0x75, 0x08, 0x40, 0x7B, 0x32:
		return 4
	case 0x13, 0x23, 0x76, 0x77, 0x41, 0x33:
		return 8
	case 0x42:
		return 10
	case 0x14, 0x24, 0x78, 0x79, 0x34:
		return 16
	}
	return 0
}

// TypeSize is the size in bytes of any type index.
func (r *TypeRef) TypeSize(ti uint32) uint64 {
	if ti < 0x1000 {
		return SimpleTypeSize(ti)
	}
	t, err := r.Table.Type(ti)
	if err != nil {
		return 0
	}
	switch t.Leaf {
	case pdb.LF_POINTER:
		if n := t.PointerSize(); n != 0 {
			return n
		}
		return 8
	case pdb.LF_MODIFIER, pdb.LF_BITFIELD, pdb.LF_ALIAS:
		return r.TypeSize(t.Elem)
	case pdb.LF_ENUM:
		return r.TypeSize(t.Elem)
	case pdb.LF_ARRAY:
		return t.Size
	}
	if t.IsUDT() {
		return r.Table.Resolve(t).Size
	}
	return 0
}

// TypeRefFor wraps a type index of a module's PDB.
func (s *Symbols) TypeRefFor(m *Module, ti uint32) (*TypeRef, error) {
	tt, err := s.Types(m)
	if err != nil {
		return nil, err
	}
	ref := &TypeRef{Module: m, Table: tt}
	if ti >= 0x1000 {
		t, err := tt.Type(ti)
		if err != nil {
			return nil, err
		}
		ref.Type = t
	}
	return ref, nil
}
