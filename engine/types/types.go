// Package types is the type model: types found by name in a module's type
// information (PDB today, an ISF file later), described without the
// format's records (Info, Members, Enumerators), and values laid over
// memory with fields by name (Value). It holds the one table of basic
// types (basic.go) and the one renderer of type names (names.go).
package types

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
	"github.com/ntdbg/ntdbg/engine/target"
)

// Ref is a type found in one module's PDB: the module, its type table and
// the type itself (nil for a basic type index).
type Ref struct {
	Module *target.Module
	table  Table
	typ    *pdb.Type
}

// NewRef wraps a type of a module's type table (t may be nil).
func NewRef(m *target.Module, tt Table, t *pdb.Type) *Ref {
	return &Ref{Module: m, table: tt, typ: t}
}

// Index is the type index of the type the Ref names (0 when none).
func (r *Ref) Index() uint32 {
	if r.typ == nil {
		return 0
	}
	return r.typ.Index
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
func (r *Ref) Field(path string) (Field, error) {
	t := r.table.Resolve(r.typ)
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
		nt, err := r.table.Type(f.Type)
		if err != nil {
			return Field{}, err
		}
		t = r.table.Resolve(nt)
	}
	return Field{}, fmt.Errorf("empty field path")
}

func (r *Ref) member(t *pdb.Type, name string) (Field, bool) {
	ms, err := r.table.Fields(t.FieldList)
	if err != nil {
		return Field{}, false
	}
	for _, m := range ms {
		if m.Leaf != pdb.LF_MEMBER || m.Name != name {
			continue
		}
		f := Field{Name: m.Name, Offset: m.Offset, Type: m.Type}
		if m.Type >= 0x1000 {
			if bt, err := r.table.Type(m.Type); err == nil && bt.Leaf == pdb.LF_BITFIELD {
				f.Type, f.BitPos, f.BitLen = bt.Elem, bt.BitPos, bt.BitLen
			}
		}
		return f, true
	}
	return Field{}, false
}

// TypeSize is the size in bytes of any type index.
func (r *Ref) TypeSize(ti uint32) uint64 {
	if ti < 0x1000 {
		return SimpleTypeSize(ti)
	}
	t, err := r.table.Type(ti)
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
		return r.table.Resolve(t).Size
	}
	return 0
}
