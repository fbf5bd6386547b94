package types

import (
	"errors"
	"fmt"
	"unicode/utf16"

	"github.com/ntdbg/ntdbg/engine/mem"
)

// Value is a typed object in memory: a type of a module's type information
// laid over an address of an address space.
type Value struct {
	Mem     mem.Memory
	PtrSize int
	Ref     *Ref
	Type    uint32 // type index
	Addr    uint64
}

// ValueOf lays the Ref's own type over addr.
func (r *Ref) ValueOf(m mem.Memory, ptrSize int, addr uint64) Value {
	return Value{Mem: m, PtrSize: ptrSize, Ref: r, Type: r.Index(), Addr: addr}
}

// HasField reports whether the dotted field path exists in the value's type.
func (v Value) HasField(path string) bool {
	_, err := v.Field(path)
	return err == nil
}

// Field is the member at a dotted path ("ClientId.UniqueThread"), found by
// name through nested structures.
func (v Value) Field(path string) (Value, error) {
	ref := &Ref{Module: v.Ref.Module, table: v.Ref.table}
	t := ref.raw(v.Type)
	if t == nil {
		return Value{}, fmt.Errorf("type 0x%x has no fields", v.Type)
	}
	ref.typ = v.Ref.table.Resolve(t)
	f, err := ref.Field(path)
	if err != nil {
		return Value{}, err
	}
	if f.BitLen != 0 {
		return Value{}, fmt.Errorf("field %s is a bitfield", path)
	}
	return Value{Mem: v.Mem, PtrSize: v.PtrSize, Ref: v.Ref, Type: f.Type, Addr: v.Addr + f.Offset}, nil
}

// Size is the size of the value's type.
func (v Value) Size() uint64 { return v.Ref.TypeSize(v.Type) }

// Uint reads the value as an unsigned integer (1, 2, 4 or 8 bytes).
func (v Value) Uint() (uint64, error) {
	n := v.Size()
	if n == 0 || n > 8 {
		return 0, fmt.Errorf("a %d-byte %s is not an integer", n, v.Ref.Name(v.Type))
	}
	return mem.ReadUint(v.Mem, v.Addr, int(n))
}

// Ptr reads the value as a pointer.
func (v Value) Ptr() (uint64, error) { return mem.ReadUint(v.Mem, v.Addr, v.PtrSize) }

// maxString bounds UnicodeString: a UNICODE_STRING's Length is 16 bits.
const maxString = 0xffff

// UnicodeString reads a UNICODE_STRING value (Length, Buffer) as text.
func (v Value) UnicodeString() (string, error) {
	lf, err := v.Field("Length")
	if err != nil {
		return "", err
	}
	bf, err := v.Field("Buffer")
	if err != nil {
		return "", err
	}
	n, err := lf.Uint()
	if err != nil {
		return "", err
	}
	buf, err := bf.Ptr()
	if err != nil {
		return "", err
	}
	return ReadUTF16(v.Mem, buf, n)
}

// ReadUTF16 reads n bytes of UTF-16 text at addr (a UNICODE_STRING's
// Buffer and Length); n is bounded by the 16-bit Length field.
func ReadUTF16(m mem.Memory, addr, n uint64) (string, error) {
	if n > maxString {
		return "", fmt.Errorf("UNICODE_STRING length %d", n)
	}
	b := make([]byte, n&^1)
	if err := mem.ReadFull(m, b, addr); err != nil {
		return "", err
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u)), nil
}

// ErrListCycle ends a list walk that came back to an entry other than its head.
var ErrListCycle = errors.New("the list loops back on itself before reaching its head")

// ErrListTooLong ends a list walk that passed its bound.
var ErrListTooLong = errors.New("the list is longer than the walk's bound")

// ListEntries walks a LIST_ENTRY chain from the head at addr through Flink,
// returning each entry's address (not the head), at most max of them. A
// broken list returns the entries read so far with the reason it stopped:
// an unreadable entry (not returned), a cycle that does not return to the
// head, or the bound.
func ListEntries(m mem.Memory, ptrSize int, head uint64, max int) ([]uint64, error) {
	var out []uint64
	seen := map[uint64]bool{head: true}
	cur := head
	for {
		next, err := mem.ReadUint(m, cur, ptrSize)
		if err != nil {
			if len(out) > 0 && out[len(out)-1] == cur {
				out = out[:len(out)-1] // an entry that cannot be read is not one
			}
			return out, fmt.Errorf("Flink of entry %#x unreadable: %w", cur, err)
		}
		if next == head {
			return out, nil
		}
		if seen[next] {
			return out, fmt.Errorf("%w (entry %#x points back to %#x)", ErrListCycle, cur, next)
		}
		if len(out) >= max {
			return out, ErrListTooLong
		}
		seen[next] = true
		out = append(out, next)
		cur = next
	}
}
