package types

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/engine/target"
)

// The one renderer of type names, in the two spellings WinDbg uses.

// Name spells a type as dt's type column does: "Ptr64 _LIST_ENTRY",
// "[4] Uint2B", "Pos 3, 2 Bits".
func (r *Ref) Name(ti uint32) string {
	if ti < 0x1000 {
		return BasicName(ti)
	}
	t, err := r.table.Type(ti)
	if err != nil {
		return "<unknown type>"
	}
	in := r.Resolve(ti)
	switch in.Kind {
	case KindPointer:
		pre := "Ptr64 "
		if in.PtrSize == 4 {
			pre = "Ptr32 "
		}
		return pre + r.Name(in.Elem)
	case KindArray:
		n, _ := r.ArrayLen(in)
		return fmt.Sprintf("[%d] %s", n, r.Name(in.Elem))
	case KindBitfield:
		bits := "Bit"
		if in.BitLen != 1 {
			bits = "Bits"
		}
		return fmt.Sprintf("Pos %d, %d %s", in.BitPos, in.BitLen, bits)
	case KindFunction:
		return "Void"
	case KindBasic:
		return BasicName(in.Index)
	}
	if in.Name != "" {
		return in.Name
	}
	if t.Name != "" {
		return target.SanitizeName(t.Name)
	}
	return "<anonymous-tag>"
}

// CName spells a type in C++ style, as `x` and `kp` show parameter types:
// "unsigned long", "struct _TEB *", "int (char *, ...)".
func (r *Ref) CName(ti uint32) string {
	if ti < 0x1000 {
		return BasicCName(ti)
	}
	if _, err := r.table.Type(ti); err != nil {
		return "<unknown>"
	}
	in := r.Resolve(ti)
	switch in.Kind {
	case KindBasic:
		return BasicCName(in.Index)
	case KindPointer:
		op := " *"
		if in.Reference {
			op = " &"
		}
		inner := r.CName(in.Elem)
		if strings.HasSuffix(inner, "*") || strings.HasSuffix(inner, "&") {
			return inner + strings.TrimSpace(op)
		}
		return inner + op
	case KindArray:
		n, _ := r.ArrayLen(in)
		return fmt.Sprintf("%s [%d]", r.CName(in.Elem), n)
	case KindEnum:
		return "enum " + in.Name
	case KindUnion:
		return "union " + in.Name
	case KindClass:
		return "class " + in.Name
	case KindStruct:
		return "struct " + in.Name
	case KindFunction:
		return r.CName(in.Elem) + " (" + r.CArgs(ti) + ")"
	}
	return "<unknown>"
}

// CArgs lists a function type's parameters: "int, char *" or "void".
func (r *Ref) CArgs(ti uint32) string {
	args, ok := r.Args(ti)
	if !ok || len(args) == 0 {
		return "void"
	}
	var parts []string
	for _, a := range args {
		if a == 0 {
			parts = append(parts, "...")
			continue
		}
		parts = append(parts, r.CName(a))
	}
	return strings.Join(parts, ", ")
}
