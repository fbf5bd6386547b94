package commands

import (
	"fmt"
	"math"
	"strings"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

// The C++ expression evaluator behind `??` and `dx`: typed values over the
// module type information. It knows members (. and ->), pointers (* and
// &, pointer arithmetic), arrays ([i]), casts to basic, Windows and PDB
// types, sizeof, locals and globals, registers and @$teb/@$peb. Numbers are
// decimal unless they start with 0x, as in C.

// ctype is a type: a type index of a module's type information (ref nil:
// a basic type index), with ptrs pointer levels added on top (for & and
// the pseudo-registers).
type ctype struct {
	ref  *types.Ref
	ti   uint32
	ptrs int
}

// cval is a value: an object in memory (lval) or a computed scalar.
type cval struct {
	t      ctype
	lval   bool
	addr   uint64
	bits   uint64 // the scalar's bits (rvalues; bitfields after extraction)
	bitfld bool
}

type cxxError struct{ msg string }

func (e *cxxError) Error() string { return e.msg }

const (
	tiInt    = 0x74
	tiUint   = 0x75
	tiInt64  = 0x76
	tiUint64 = 0x77
	tiBool   = 0x30
	tiDouble = 0x41
	tiVoid   = 0x03
)

// builtinTypes are the basic and common Windows type names a cast may use.
var builtinTypes = map[string]uint32{
	"int": 0x74, "signed int": 0x74, "unsigned int": 0x75, "unsigned": 0x75, "long": 0x12, "unsigned long": 0x22,
	"short": 0x11, "unsigned short": 0x21, "char": 0x70, "signed char": 0x10, "unsigned char": 0x20,
	"__int64": 0x76, "int64": 0x76, "long long": 0x76, "unsigned __int64": 0x77, "unsigned int64": 0x77,
	"unsigned long long": 0x77, "bool": 0x30, "float": 0x40, "double": 0x41, "void": 0x03, "wchar_t": 0x71,
	"ULONG": 0x22, "LONG": 0x12, "USHORT": 0x21, "SHORT": 0x11, "UCHAR": 0x20, "CHAR": 0x70, "WCHAR": 0x71,
	"ULONG64": 0x23, "ULONGLONG": 0x23, "LONG64": 0x13, "LONGLONG": 0x13, "DWORD": 0x22, "WORD": 0x21,
	"BYTE": 0x20, "BOOLEAN": 0x20, "BOOL": 0x12, "ULONG_PTR": 0x23, "SIZE_T": 0x23, "NTSTATUS": 0x12,
	"PVOID": 0x603, "HANDLE": 0x603,
}

// cxx evaluates one C++ expression.
type cxx struct {
	c    *Ctx
	toks []ctok
	pos  int
	text string
}

type ctok struct {
	kind byte // 'i' identifier, 'n' number, 'r' register, 'p' punctuation
	s    string
	at   int
	num  uint64
}

func (c *Ctx) evalCxx(text string) (cval, error) {
	toks, err := lexCxx(text)
	if err != nil {
		return cval{}, err
	}
	e := &cxx{c: c, toks: toks, text: text}
	v, err := e.expr(0)
	if err != nil {
		return cval{}, err
	}
	if e.pos < len(e.toks) {
		return cval{}, e.errAt("Syntax error")
	}
	return v, nil
}

func lexCxx(s string) ([]ctok, error) {
	var out []ctok
	i := 0
	isID := func(b byte) bool {
		return b == '_' || b == '$' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
	}
	for i < len(s) {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t':
			i++
		case ch == '@':
			j := i + 1
			for j < len(s) && isID(s[j]) {
				j++
			}
			out = append(out, ctok{kind: 'r', s: s[i:j], at: i})
			i = j
		case ch >= '0' && ch <= '9':
			j := i
			for j < len(s) && (isID(s[j]) || s[j] == '`') {
				j++
			}
			w := strings.ToLower(strings.ReplaceAll(s[i:j], "`", ""))
			w = strings.TrimRight(w, "ul")
			w = strings.TrimSuffix(w, "i64")
			var v uint64
			var ok bool
			switch {
			case strings.HasPrefix(w, "0x"):
				v, ok = parseNumberIn(w, 16)
			case strings.HasPrefix(w, "0n"):
				v, ok = parseNumberIn(w, 16)
			default:
				v, ok = parseNumberIn("0n"+w, 10)
			}
			if !ok {
				return nil, &cxxError{fmt.Sprintf("Numeric expression missing from '%s'", s[i:])}
			}
			out = append(out, ctok{kind: 'n', s: s[i:j], at: i, num: v})
			i = j
		case isID(ch):
			j := i
			for j < len(s) && (isID(s[j]) || s[j] == '!' || s[j] == ':' && j+1 < len(s) && s[j+1] == ':' || s[j] == ':' && j > 0 && s[j-1] == ':') {
				j++
			}
			out = append(out, ctok{kind: 'i', s: s[i:j], at: i})
			i = j
		default:
			for _, op := range []string{"->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||"} {
				if strings.HasPrefix(s[i:], op) {
					out = append(out, ctok{kind: 'p', s: op, at: i})
					i += 2
					goto next
				}
			}
			if strings.ContainsRune(".[]()*&+-~!/%<>^|,?:", rune(ch)) {
				out = append(out, ctok{kind: 'p', s: string(ch), at: i})
				i++
				continue
			}
			return nil, &cxxError{fmt.Sprintf("Syntax error at '%s'", s[i:])}
		next:
		}
	}
	return out, nil
}

func (e *cxx) peek() *ctok {
	if e.pos < len(e.toks) {
		return &e.toks[e.pos]
	}
	return nil
}

func (e *cxx) is(s string) bool {
	t := e.peek()
	return t != nil && t.kind == 'p' && t.s == s
}

func (e *cxx) errAt(kind string) error {
	rest := ""
	if t := e.peek(); t != nil {
		rest = e.text[t.at:]
	}
	return &cxxError{fmt.Sprintf("%s at '%s'", kind, rest)}
}

var cxxPrec = map[string]int{"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7, "<=": 7, ">=": 7,
	"<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10}

func (e *cxx) expr(min int) (cval, error) {
	l, err := e.unary()
	if err != nil {
		return l, err
	}
	for {
		t := e.peek()
		if t == nil || t.kind != 'p' {
			return l, nil
		}
		p, ok := cxxPrec[t.s]
		if !ok || p <= min {
			return l, nil
		}
		e.pos++
		r, err := e.expr(p)
		if err != nil {
			return r, err
		}
		if l, err = e.binary(t.s, l, r); err != nil {
			return l, err
		}
	}
}

func (e *cxx) unary() (cval, error) {
	t := e.peek()
	if t == nil {
		return cval{}, &cxxError{"Syntax error at ''"}
	}
	if t.kind == 'i' && t.s == "sizeof" {
		e.pos++
		if !e.is("(") {
			return cval{}, e.errAt("Syntax error")
		}
		save := e.pos
		e.pos++
		if ty, ok := e.typeName(); ok && e.is(")") {
			e.pos++
			return e.scalar(tiUint64, e.size(ty)), nil
		}
		e.pos = save
		v, err := e.unary()
		if err != nil {
			return v, err
		}
		return e.scalar(tiUint64, e.size(v.t)), nil
	}
	if t.kind == 'p' {
		switch t.s {
		case "(":
			save := e.pos
			e.pos++
			if ty, ok := e.typeName(); ok && e.is(")") {
				e.pos++
				v, err := e.unary()
				if err != nil {
					return v, err
				}
				return e.cast(v, ty)
			}
			e.pos = save
		case "-", "+", "~", "!":
			e.pos++
			v, err := e.unary()
			if err != nil {
				return v, err
			}
			x, err := e.load(v)
			if err != nil {
				return v, err
			}
			switch t.s {
			case "-":
				return cval{t: e.arith(v.t), bits: -x}, nil
			case "~":
				return cval{t: e.arith(v.t), bits: ^x}, nil
			case "!":
				return e.boolean(x == 0), nil
			}
			return cval{t: e.arith(v.t), bits: x}, nil
		case "*":
			e.pos++
			v, err := e.unary()
			if err != nil {
				return v, err
			}
			return e.deref(v)
		case "&":
			e.pos++
			v, err := e.unary()
			if err != nil {
				return v, err
			}
			if !v.lval || v.bitfld {
				return v, &cxxError{"Cannot take the address of a value that is not in memory"}
			}
			nt := v.t
			nt.ptrs++
			return cval{t: nt, bits: v.addr}, nil
		}
	}
	return e.postfix()
}

func (e *cxx) postfix() (cval, error) {
	v, err := e.primary()
	if err != nil {
		return v, err
	}
	for {
		switch {
		case e.is("->"):
			e.pos++
			if v, err = e.deref(v); err != nil {
				return v, err
			}
			if v, err = e.member(v); err != nil {
				return v, err
			}
		case e.is("."):
			e.pos++
			if v, err = e.member(v); err != nil {
				return v, err
			}
		case e.is("["):
			e.pos++
			idx, err := e.expr(0)
			if err != nil {
				return idx, err
			}
			if !e.is("]") {
				return idx, e.errAt("Syntax error")
			}
			e.pos++
			i, err := e.load(idx)
			if err != nil {
				return idx, err
			}
			p, err := e.decay(v)
			if err != nil {
				return v, err
			}
			elem := e.pointee(p.t)
			v = cval{t: elem, lval: true, addr: p.bits + i*e.size(elem)}
		default:
			return v, nil
		}
	}
}

func (e *cxx) primary() (cval, error) {
	t := e.peek()
	if t == nil {
		return cval{}, &cxxError{"Syntax error at ''"}
	}
	switch t.kind {
	case 'n':
		e.pos++
		ti := uint32(tiInt)
		if t.num > math.MaxInt32 {
			ti = tiUint64
		}
		return e.scalar(ti, t.num), nil
	case 'r':
		e.pos++
		return e.register(t)
	case 'i':
		e.pos++
		// A function-style cast: int(x), ULONG64(p).
		if ti, ok := builtinTypes[t.s]; ok && e.is("(") {
			e.pos++
			v, err := e.expr(0)
			if err != nil {
				return v, err
			}
			if !e.is(")") {
				return v, e.errAt("Syntax error")
			}
			e.pos++
			return e.cast(v, ctype{ti: ti})
		}
		return e.identifier(t)
	case 'p':
		if t.s == "(" {
			e.pos++
			v, err := e.expr(0)
			if err != nil {
				return v, err
			}
			if !e.is(")") {
				return v, e.errAt("Syntax error")
			}
			e.pos++
			return v, nil
		}
	}
	return cval{}, e.errAt("Syntax error")
}

func (e *cxx) scalar(ti uint32, v uint64) cval { return cval{t: ctype{ti: ti}, bits: v} }

func (e *cxx) boolean(b bool) cval {
	if b {
		return e.scalar(tiBool, 1)
	}
	return e.scalar(tiBool, 0)
}

// register reads @reg and the pseudo-registers; @$teb and @$peb are typed
// pointers to ntdll's _TEB and _PEB when its type information has them.
func (e *cxx) register(t *ctok) (cval, error) {
	name := strings.ToLower(t.s)
	v, err := e.c.Eval(t.s)
	if err != nil {
		return cval{}, &cxxError{fmt.Sprintf("Couldn't resolve error at '%s'", e.text[t.at:])}
	}
	typ := map[string]string{"@$teb": "_TEB", "@$peb": "_PEB"}[name]
	if typ != "" {
		if ref, err := e.c.S.Symbols.FindType("", typ); err == nil {
			return cval{t: ctype{ref: ref, ti: ref.Index(), ptrs: 1}, bits: v}, nil
		}
	}
	return e.scalar(tiUint64, v), nil
}

// identifier is a local or parameter of the current frame, then a global.
func (e *cxx) identifier(t *ctok) (cval, error) {
	name := t.s
	if name == "true" || name == "false" {
		return e.boolean(name == "true"), nil
	}
	if !strings.Contains(name, "!") {
		if frames, err := e.c.frames(0x100); err == nil && len(frames) > 0 {
			n := e.c.S.Frame
			if n >= len(frames) {
				n = 0
			}
			f := &frames[n]
			if vars, ref, ok := e.c.S.Symbols.Locals(f.LookupIP()); ok {
				for _, p := range vars {
					if p.Name != name {
						continue
					}
					addr, inReg, found := e.c.varAddr(f, p)
					if !found {
						return cval{}, &cxxError{fmt.Sprintf("%s: the value is not available in this frame", name)}
					}
					if inReg {
						r, _ := e.c.paramReg(f, p)
						return cval{t: ctype{ref: ref, ti: p.Type}, bits: r}, nil
					}
					return cval{t: ctype{ref: ref, ti: p.Type}, lval: true, addr: addr}, nil
				}
			}
		}
	}
	mod, sym, ok := strings.Cut(name, "!")
	if !ok {
		mod, sym = "", name
	}
	if g, ok := e.c.findGlobal(mod, sym); ok {
		if ref, err := e.c.S.Symbols.TypeRefFor(g.Module, g.Type); err == nil {
			return cval{t: ctype{ref: ref, ti: g.Type}, lval: true, addr: g.Addr}, nil
		}
	}
	return cval{}, &cxxError{fmt.Sprintf("Couldn't resolve error at '%s'", e.text[t.at:])}
}

// typeName parses a type in a cast or sizeof: basic and Windows names,
// [module!]UDT (with an optional struct/class/union keyword), then *s.
func (e *cxx) typeName() (ctype, bool) {
	save := e.pos
	var words []string
	for {
		t := e.peek()
		if t == nil || t.kind != 'i' {
			break
		}
		words = append(words, t.s)
		e.pos++
	}
	if len(words) == 0 {
		e.pos = save
		return ctype{}, false
	}
	for len(words) > 1 && (words[0] == "struct" || words[0] == "class" || words[0] == "union" || words[0] == "enum" || words[0] == "const") {
		words = words[1:]
	}
	full := strings.Join(words, " ")
	var ty ctype
	if ti, ok := builtinTypes[full]; ok {
		ty = ctype{ti: ti}
	} else if len(words) == 1 {
		mod, name, hasMod := strings.Cut(words[0], "!")
		if !hasMod {
			mod, name = "", words[0]
		}
		ref, err := e.c.S.Symbols.FindType(mod, name)
		if err != nil {
			e.pos = save
			return ctype{}, false
		}
		ty = ctype{ref: ref, ti: ref.Index()}
	} else {
		e.pos = save
		return ctype{}, false
	}
	for e.is("*") {
		e.pos++
		ty.ptrs++
	}
	return ty, true
}

// info describes a type, with the added pointer levels.
func (e *cxx) info(t ctype) types.Info {
	if t.ptrs > 0 {
		return types.Info{Kind: types.KindPointer, PtrSize: uint64(e.c.S.Target.Arch().PtrSize()), Size: uint64(e.c.S.Target.Arch().PtrSize())}
	}
	if t.ref == nil || t.ti < 0x1000 {
		if types.IsBasicPointer(t.ti) {
			return types.Info{Kind: types.KindPointer, Index: t.ti, Elem: t.ti & 0xff, PtrSize: types.SimpleTypeSize(t.ti), Size: types.SimpleTypeSize(t.ti)}
		}
		return types.Info{Kind: types.KindBasic, Index: t.ti, Size: types.SimpleTypeSize(t.ti)}
	}
	return t.ref.Resolve(t.ti)
}

func (e *cxx) size(t ctype) uint64 {
	in := e.info(t)
	if in.Kind == types.KindPointer && in.Size == 0 {
		return uint64(e.c.S.Target.Arch().PtrSize())
	}
	return in.Size
}

// pointee is what a pointer or array type points to.
func (e *cxx) pointee(t ctype) ctype {
	if t.ptrs > 0 {
		t.ptrs--
		return t
	}
	if t.ti < 0x1000 {
		return ctype{ref: t.ref, ti: t.ti & 0xff}
	}
	return ctype{ref: t.ref, ti: e.info(t).Elem}
}

// load reads a value's scalar bits (integers, pointers, enums, bools).
func (e *cxx) load(v cval) (uint64, error) {
	if !v.lval {
		return v.bits, nil
	}
	in := e.info(v.t)
	if in.Kind.IsUDT() || in.Kind == types.KindArray {
		return v.addr, nil
	}
	n := e.size(v.t)
	if in.Kind == types.KindBitfield {
		n = e.size(ctype{ref: v.t.ref, ti: in.Elem})
	}
	if n == 0 || n > 8 {
		return 0, &cxxError{fmt.Sprintf("a %d-byte value is not a scalar", n)}
	}
	x, err := mem.ReadUint(e.c.S.Mem(), v.addr, int(n))
	if err != nil {
		return 0, &cxxError{fmt.Sprintf("Memory access error at '%s'", strings.TrimSpace(e.text))}
	}
	if in.Kind == types.KindBitfield {
		x = x >> in.BitPos & (1<<in.BitLen - 1)
	}
	return x, nil
}

// decay turns an array into a pointer to its first element.
func (e *cxx) decay(v cval) (cval, error) {
	in := e.info(v.t)
	switch in.Kind {
	case types.KindArray:
		if !v.lval {
			return v, &cxxError{"an array value that is not in memory"}
		}
		return cval{t: v.t, bits: v.addr}, nil
	case types.KindPointer:
		x, err := e.load(v)
		return cval{t: v.t, bits: x}, err
	}
	return v, &cxxError{fmt.Sprintf("Type %s is not a pointer or an array", e.typeText(v.t, true))}
}

func (e *cxx) deref(v cval) (cval, error) {
	p, err := e.decay(v)
	if err != nil {
		return p, err
	}
	elem := e.pointee(v.t)
	if elem.ptrs == 0 && elem.ti == tiVoid {
		return p, &cxxError{"Cannot dereference a void pointer"}
	}
	return cval{t: elem, lval: true, addr: p.bits}, nil
}

func (e *cxx) member(v cval) (cval, error) {
	t := e.peek()
	if t == nil || t.kind != 'i' {
		return v, e.errAt("Syntax error")
	}
	e.pos++
	in := e.info(v.t)
	if !in.Kind.IsUDT() || v.t.ref == nil {
		return v, &cxxError{fmt.Sprintf("Type %s has no member %s", e.typeText(v.t, true), t.s)}
	}
	ms, err := v.t.ref.Members(in.Index)
	if err != nil {
		return v, &cxxError{err.Error()}
	}
	for _, m := range ms {
		if m.Name == t.s {
			nv := cval{t: ctype{ref: v.t.ref, ti: m.Type}, lval: v.lval, addr: v.addr + m.Offset}
			if !v.lval {
				return v, &cxxError{"a member of a value that is not in memory"}
			}
			if e.info(nv.t).Kind == types.KindBitfield {
				bits, err := e.load(nv)
				if err != nil {
					return nv, err
				}
				base := e.info(nv.t).Elem
				return cval{t: ctype{ref: v.t.ref, ti: base}, bits: bits, bitfld: true}, nil
			}
			return nv, nil
		}
	}
	return v, &cxxError{fmt.Sprintf("Couldn't resolve error at '%s'", e.text[t.at:])}
}

func (e *cxx) cast(v cval, to ctype) (cval, error) {
	x, err := e.load(v)
	if err != nil {
		return v, err
	}
	if in := e.info(to); in.Kind.IsUDT() {
		return cval{t: to, lval: true, addr: x}, nil
	}
	return cval{t: to, bits: e.truncate(to, x)}, nil
}

func (e *cxx) truncate(t ctype, x uint64) uint64 {
	if n := e.size(t); n > 0 && n < 8 {
		return x & (1<<(8*n) - 1)
	}
	return x
}

// signed reports whether a scalar type is a signed integer.
func (e *cxx) signed(t ctype) bool {
	in := e.info(t)
	if in.Kind == types.KindEnum {
		return true
	}
	return in.Kind == types.KindBasic && in.Index < 0x100 && types.IsSigned(in.Index)
}

// arith is the type of an arithmetic result: int64 or unsigned int64 for
// 8-byte operands, int otherwise (the usual promotions, simplified).
func (e *cxx) arith(t ctype) ctype {
	if e.info(t).Kind == types.KindPointer {
		return t
	}
	if e.size(t) == 8 {
		if e.signed(t) {
			return ctype{ti: tiInt64}
		}
		return ctype{ti: tiUint64}
	}
	if !e.signed(t) && e.size(t) == 4 {
		return ctype{ti: tiUint}
	}
	return ctype{ti: tiInt}
}

func (e *cxx) binary(op string, l, r cval) (cval, error) {
	lp, rp := e.info(l.t).Kind, e.info(r.t).Kind
	if lp == types.KindArray {
		l, _ = e.decay(l)
		lp = types.KindPointer
	}
	x, err := e.load(l)
	if err != nil {
		return l, err
	}
	y, err := e.load(r)
	if err != nil {
		return r, err
	}
	// Pointer arithmetic scales by the pointee's size.
	if lp == types.KindPointer && rp != types.KindPointer && (op == "+" || op == "-") {
		n := e.size(e.pointee(l.t))
		if n == 0 {
			n = 1
		}
		if op == "+" {
			return cval{t: l.t, bits: x + y*n}, nil
		}
		return cval{t: l.t, bits: x - y*n}, nil
	}
	if lp == types.KindPointer && rp == types.KindPointer && op == "-" {
		n := e.size(e.pointee(l.t))
		if n == 0 {
			n = 1
		}
		return e.scalar(tiInt64, uint64(int64(x-y)/int64(n))), nil
	}
	rt := e.arith(l.t)
	if e.size(r.t) > e.size(l.t) || e.size(r.t) == e.size(l.t) && !e.signed(r.t) {
		rt = e.arith(r.t)
	}
	sx, sy := int64(x), int64(y)
	if e.signed(l.t) && e.size(l.t) < 8 {
		sh := 64 - 8*e.size(l.t)
		sx = int64(x<<sh) >> sh
	}
	if e.signed(r.t) && e.size(r.t) < 8 {
		sh := 64 - 8*e.size(r.t)
		sy = int64(y<<sh) >> sh
	}
	signed := e.signed(rt)
	var out uint64
	switch op {
	case "+":
		out = x + y
	case "-":
		out = x - y
	case "*":
		out = x * y
	case "/", "%":
		if y == 0 {
			return l, &cxxError{"Divide by zero error"}
		}
		switch {
		case signed && op == "/":
			out = uint64(sx / sy)
		case signed:
			out = uint64(sx % sy)
		case op == "/":
			out = x / y
		default:
			out = x % y
		}
	case "<<":
		out = x << (y & 63)
	case ">>":
		if signed {
			out = uint64(sx >> (y & 63))
		} else {
			out = x >> (y & 63)
		}
	case "&":
		out = x & y
	case "|":
		out = x | y
	case "^":
		out = x ^ y
	case "&&":
		return e.boolean(x != 0 && y != 0), nil
	case "||":
		return e.boolean(x != 0 || y != 0), nil
	case "==":
		return e.boolean(x == y), nil
	case "!=":
		return e.boolean(x != y), nil
	case "<", ">", "<=", ">=":
		less, eq := x < y, x == y
		if signed {
			less = sx < sy
		}
		switch op {
		case "<":
			return e.boolean(less), nil
		case ">":
			return e.boolean(!less && !eq), nil
		case "<=":
			return e.boolean(less || eq), nil
		}
		return e.boolean(!less), nil
	}
	return cval{t: rt, bits: e.truncate(rt, out)}, nil
}

// typeText spells a type as ?? does ("struct _TEB *", "unsigned int64");
// bare drops the struct keyword, as dx's [Type: ...] does.
func (e *cxx) typeText(t ctype, bare bool) string {
	var s string
	if t.ref == nil || t.ti < 0x1000 {
		s = types.BasicCName(t.ti)
	} else {
		s = t.ref.CName(t.ti)
	}
	if bare {
		for _, k := range []string{"struct ", "class ", "union ", "enum "} {
			s = strings.ReplaceAll(s, k, "")
		}
	}
	for i := 0; i < t.ptrs; i++ {
		if strings.HasSuffix(s, "*") {
			s += "*"
		} else {
			s += " *"
		}
	}
	return target.Sanitize(s)
}

// scalarBits is the value's bits for display, with its basic kind.
func (e *cxx) valueText(v cval, dx bool) (string, error) {
	in := e.info(v.t)
	x, err := e.load(v)
	if err != nil {
		return "", err
	}
	switch in.Kind {
	case types.KindPointer:
		p := "0x" + e.c.ptr(x)
		if dx {
			p = fmt.Sprintf("0x%x", x)
		}
		elem := e.pointee(v.t)
		if ei := e.info(elem); ei.Kind == types.KindBasic && elem.ti < 0x100 {
			sep := " "
			if dx {
				sep = " : " // dx separates the pointer from its string
			}
			switch elem.ti {
			case 0x10, 0x20, 0x70, 0x7c:
				return p + sep + "\"" + e.c.previewString(x, false) + "\"", nil
			case 0x71, 0x7a:
				return p + sep + "\"" + e.c.previewString(x, true) + "\"", nil
			}
		}
		return p, nil
	case types.KindEnum:
		for _, m := range v.t.ref.Enumerators(in.Index) {
			if m.Value == x {
				if dx {
					return fmt.Sprintf("%s (%d)", m.Name, int64(x)), nil
				}
				return fmt.Sprintf("%s (0n%d)", m.Name, int64(x)), nil
			}
		}
		return fmt.Sprintf("0n%d", int64(x)), nil
	case types.KindBasic:
		k := in.Index & 0xff
		switch {
		case types.IsBool(k):
			if x != 0 {
				return "true", nil
			}
			return "false", nil
		case k == 0x40:
			return strings.TrimSuffix(fmt.Sprintf("%g", math.Float32frombits(uint32(x))), ".0"), nil
		case k == 0x41:
			return fmt.Sprintf("%g", math.Float64frombits(x)), nil
		case types.IsChar(k) && in.Size == 1 && dx && !types.IsSigned(k):
			return fmt.Sprintf("0x%x", x), nil // dx shows unsigned char as a number
		case types.IsChar(k) && in.Size == 1:
			ch := ""
			if x >= 0x20 && x < 0x7f {
				ch = string(rune(x))
			}
			if dx {
				return fmt.Sprintf("%d '%s'", x, ch), nil
			}
			return fmt.Sprintf("0n%d '%s'", int8(x), ch), nil
		case types.IsSigned(k):
			sh := 64 - 8*in.Size
			if in.Size == 0 || in.Size > 8 {
				sh = 0
			}
			if dx {
				return fmt.Sprintf("%d", int64(x<<sh)>>sh), nil
			}
			return fmt.Sprintf("0n%d", int64(x<<sh)>>sh), nil
		}
		return fmt.Sprintf("0x%x", x), nil
	}
	return fmt.Sprintf("0x%x", x), nil
}
