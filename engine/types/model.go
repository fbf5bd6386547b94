package types

import (
	"fmt"

	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
	"github.com/ntdbg/ntdbg/engine/target"
)

// Kind is what sort of type an Info describes.
type Kind int

const (
	KindUnknown Kind = iota
	KindBasic        // a basic type or a pointer to one (Info.Index < 0x1000)
	KindPointer
	KindStruct
	KindClass
	KindUnion
	KindEnum
	KindArray
	KindBitfield
	KindFunction
)

// IsUDT reports a structure, class or union.
func (k Kind) IsUDT() bool { return k == KindStruct || k == KindClass || k == KindUnion }

// Info describes one type index, with modifiers (const, volatile) and
// aliases followed and forward references resolved to their definition.
type Info struct {
	Kind  Kind
	Index uint32 // the type index described (after modifiers)
	Name  string // structure, class, union or enum name
	// Size is the size in bytes (structures, arrays, basic types).
	Size uint64
	// Elem is the pointee (pointers), element (arrays), base (bitfields),
	// underlying type (enums) or return type (functions).
	Elem uint32
	// PtrSize is a pointer's size; Reference is true for C++ references.
	PtrSize   uint64
	Reference bool
	// BitPos and BitLen place a bitfield in its base type.
	BitPos, BitLen uint8
	// Count is a structure's member count (as the record states it).
	Count int
}

// Member is a data member of a structure, class or union.
type Member struct {
	Name   string
	Offset uint64
	Type   uint32
}

// Enumerator is one named value of an enum.
type Enumerator struct {
	Name  string
	Value uint64
}

// raw returns the record of ti after modifiers and aliases (nil for basic types).
func (r *Ref) raw(ti uint32) *pdb.Type {
	for i := 0; i < 8 && ti >= 0x1000; i++ {
		t, err := r.table.Type(ti)
		if err != nil {
			return nil
		}
		if t.Leaf == pdb.LF_MODIFIER || t.Leaf == pdb.LF_ALIAS {
			ti = t.Elem
			continue
		}
		return t
	}
	return nil
}

// underlying follows modifiers and aliases to the type index they qualify.
func (r *Ref) underlying(ti uint32) uint32 {
	for i := 0; i < 8 && ti >= 0x1000; i++ {
		t, err := r.table.Type(ti)
		if err != nil || (t.Leaf != pdb.LF_MODIFIER && t.Leaf != pdb.LF_ALIAS) {
			return ti
		}
		ti = t.Elem
	}
	return ti
}

// Resolve describes type index ti.
func (r *Ref) Resolve(ti uint32) Info {
	if u := r.underlying(ti); u < 0x1000 {
		return Info{Kind: KindBasic, Index: u, Size: SimpleTypeSize(u)}
	}
	t := r.raw(ti)
	if t == nil {
		return Info{Kind: KindUnknown, Index: ti}
	}
	in := Info{Index: t.Index, Name: target.SanitizeName(t.Name), Elem: t.Elem}
	switch t.Leaf {
	case pdb.LF_POINTER:
		in.Kind, in.PtrSize = KindPointer, t.PointerSize()
		if m := t.PointerMode(); m == 1 || m == 4 {
			in.Reference = true
		}
		in.Size = in.PtrSize
	case pdb.LF_ARRAY:
		in.Kind, in.Size = KindArray, t.Size
	case pdb.LF_BITFIELD:
		in.Kind, in.BitPos, in.BitLen = KindBitfield, t.BitPos, t.BitLen
		in.Size = r.TypeSize(t.Elem)
	case pdb.LF_ENUM:
		in.Kind = KindEnum
		in.Size = r.TypeSize(t.Elem)
	case pdb.LF_PROCEDURE, pdb.LF_MFUNCTION:
		in.Kind = KindFunction
	case pdb.LF_UNION, pdb.LF_UNION2:
		in.Kind = KindUnion
	case pdb.LF_CLASS, pdb.LF_CLASS2:
		in.Kind = KindClass
	case pdb.LF_STRUCTURE, pdb.LF_STRUCTURE2, pdb.LF_INTERFACE, pdb.LF_INTERFACE2:
		in.Kind = KindStruct
	}
	if in.Kind.IsUDT() {
		def := r.table.Resolve(t)
		in.Index, in.Name, in.Size, in.Count = def.Index, target.SanitizeName(def.Name), def.Size, int(def.Count)
	}
	return in
}

// Self describes the type the Ref names.
func (r *Ref) Self() Info {
	if r.typ == nil {
		return Info{}
	}
	return r.Resolve(r.typ.Index)
}

// fieldList is the field list of a structure or enum (definitions resolved).
func (r *Ref) fieldList(ti uint32) ([]pdb.Member, error) {
	t := r.raw(ti)
	if t == nil {
		return nil, nil
	}
	return r.table.Fields(r.table.Resolve(t).FieldList)
}

// Members lists the data members of a structure, class or union, in order.
func (r *Ref) Members(ti uint32) ([]Member, error) {
	ms, err := r.fieldList(ti)
	if err != nil {
		return nil, err
	}
	var out []Member
	for _, m := range ms {
		if m.Leaf == pdb.LF_MEMBER {
			out = append(out, Member{Name: target.SanitizeName(m.Name), Offset: m.Offset, Type: m.Type})
		}
	}
	return out, nil
}

// Enumerators lists an enum's values.
func (r *Ref) Enumerators(ti uint32) []Enumerator {
	ms, err := r.fieldList(ti)
	if err != nil {
		return nil
	}
	var out []Enumerator
	for _, m := range ms {
		out = append(out, Enumerator{Name: target.SanitizeName(m.Name), Value: m.Value})
	}
	return out
}

// Args lists a function type's parameter types (0 marks "..."); ok is
// false when ti is not a function type with an argument list.
func (r *Ref) Args(ti uint32) ([]uint32, bool) {
	t := r.raw(ti)
	if t == nil || (t.Leaf != pdb.LF_PROCEDURE && t.Leaf != pdb.LF_MFUNCTION) || t.IndexType == 0 {
		return nil, false
	}
	al, err := r.table.Type(t.IndexType)
	if err != nil || al.Leaf != pdb.LF_ARGLIST {
		return nil, false
	}
	return al.Args, true
}

// CallConv names a function type's calling convention as x86 kv prints it
// after (CONV: ...): cdecl, stdcall, fastcall, thiscall and the other
// CV_call_e names; ok is false when ti is not a function type.
func (r *Ref) CallConv(ti uint32) (string, bool) {
	t := r.raw(ti)
	if t == nil || (t.Leaf != pdb.LF_PROCEDURE && t.Leaf != pdb.LF_MFUNCTION) {
		return "", false
	}
	return CallConvName(t.CallConv), true
}

// CallConvName is the debugger's name for a CV_call_e value.
func CallConvName(cc uint8) string {
	switch cc {
	case 0x00, 0x01:
		return "cdecl"
	case 0x02, 0x03:
		return "pascal"
	case 0x04, 0x05:
		return "fastcall"
	case 0x07, 0x08:
		return "stdcall"
	case 0x09, 0x0a:
		return "syscall"
	case 0x0b:
		return "thiscall"
	case 0x16:
		return "clrcall"
	case 0x18:
		return "vectorcall"
	}
	return fmt.Sprintf("%d", cc)
}

// ArrayLen is an array's element count and element size; both are zero
// when the element size is unknown.
func (r *Ref) ArrayLen(in Info) (n, elemSize uint64) {
	es := r.TypeSize(in.Elem)
	if es == 0 {
		return 0, 0
	}
	return in.Size / es, es
}
