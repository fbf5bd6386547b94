package commands

import (
	"fmt"
	"math"
	"strings"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

func init() {
	Register(&Command{Name: "dt", Family: "types", Syntax: "dt [-r[N]] [-v] [-a] [module!]Type [Field[.]...] [Address]",
		Summary: "display a type from PDB type information, laid over memory when an address is given",
		Help: "Offsets, names and types come from the module's PDB. `-r` expands nested structures (to depth N),\n" +
			"`Field.` expands one field. Signed integers print in decimal, unsigned in hex, pointers with their pointee type.",
		Run: cmdDT})
}

type dtOpts struct {
	// outer holds the structures being expanded around this one.
	outer   []uint32
	depth   int
	verbose bool
	arrays  bool // -a: one line per array element
	fields  []string
}

// typeName renders a type the way dt's type column does.
func (c *Ctx) typeName(r *types.Ref, ti uint32) string { return r.Name(ti) }

func cmdDT(c *Ctx, inv *Invocation) error {
	o := dtOpts{}
	var name string
	var addr uint64
	hasAddr := false
	for _, tok := range strings.Fields(inv.Args) {
		switch {
		case strings.HasPrefix(tok, "-r"):
			o.depth = 9
			if len(tok) == 3 && tok[2] >= '1' && tok[2] <= '9' {
				o.depth = int(tok[2] - '0')
			}
		case tok == "-v":
			o.verbose = true
		case strings.HasPrefix(tok, "-a"):
			o.arrays = true
		case tok == "-b":
			o.depth = 9
		case strings.HasPrefix(tok, "-"):
		case name == "":
			name = tok
		default:
			if v, err := c.Eval(tok); err == nil && !hasAddr && !looksLikeField(tok) {
				addr, hasAddr = v, true
			} else {
				o.fields = append(o.fields, tok)
			}
		}
	}
	if name == "" {
		return &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff + len(inv.Args)}
	}
	modName, typName, hasMod := strings.Cut(name, "!")
	if !hasMod {
		typName, modName = name, ""
	}
	if strings.ContainsAny(typName, "*?") {
		return c.listTypes(modName, typName)
	}
	ref, err := c.S.Symbols.FindType(modName, typName)
	if err != nil {
		// A global variable: its type laid over its own address.
		if g, ok := c.findGlobal(modName, typName); ok {
			r, err := c.S.Symbols.TypeRefFor(g.Module, g.Type)
			if err == nil {
				if t := r.Resolve(g.Type); t.Kind.IsUDT() {
					return c.dumpUDT(r, t, g.Addr, true, 1, o, o.fields)
				}
				c.Printf("%s\n", c.memberValue(r, g.Type, g.Addr))
				return nil
			}
		}
		return fmt.Errorf("Symbol %s not found.", name)
	}
	t := ref.Self()
	if !hasMod {
		c.Printf("%s!%s\n", ref.Module.Name, t.Name)
	}
	if o.verbose {
		kind := "struct"
		switch t.Kind {
		case types.KindUnion:
			kind = "union"
		case types.KindClass:
			kind = "class"
		case types.KindEnum:
			kind = "enum"
		}
		c.Printf("%s %s, %d elements, 0x%x bytes\n", kind, t.Name, t.Count, t.Size)
	}
	if t.Kind == types.KindEnum {
		for _, m := range ref.Enumerators(t.Index) {
			c.Printf("   %s = 0n%d\n", m.Name, int64(m.Value))
		}
		return nil
	}
	return c.dumpUDT(ref, t, addr, hasAddr, 1, o, o.fields)
}

// findGlobal finds a typed global data symbol by exact name.
func (c *Ctx) findGlobal(modName, name string) (symbols.SymbolInfo, bool) {
	for _, m := range c.S.Target.Modules() {
		if modName != "" && !strings.EqualFold(m.Name, modName) {
			continue
		}
		for _, s := range c.S.Symbols.Match(m, func(n string) bool { return strings.EqualFold(n, name) }) {
			if s.Data && s.Type != 0 {
				return s, true
			}
		}
	}
	return symbols.SymbolInfo{}, false
}

func looksLikeField(tok string) bool {
	return strings.HasSuffix(tok, ".") || (len(tok) > 0 && (tok[0] == '_' || (tok[0] >= 'A' && tok[0] <= 'Z' && !isHexWord(tok))))
}

func isHexWord(s string) bool {
	_, ok := ParseNumber(s)
	return ok
}

// dumpUDT prints the members of a structure, class or union.
func (c *Ctx) dumpUDT(r *types.Ref, t types.Info, base uint64, hasAddr bool, level int, o dtOpts, only []string) error {
	ms, err := r.Members(t.Index)
	if err != nil {
		return err
	}
	indent := strings.Repeat("   ", level)
	for _, m := range ms {
		expand := false
		var sub []string
		if len(only) > 0 {
			match := false
			for _, f := range only {
				head, rest, dotted := strings.Cut(f, ".")
				if head == m.Name {
					match = true
					if dotted {
						expand = true
						if rest != "" {
							sub = append(sub, rest)
						}
					}
				}
			}
			if !match {
				continue
			}
		}
		typ := c.typeName(r, m.Type)
		line := fmt.Sprintf("%s+0x%03x %-16s : ", indent, m.Offset, m.Name)
		mt := r.Resolve(m.Type)
		var val *string
		switch {
		case hasAddr:
			val = strp(c.memberValue(r, m.Type, base+m.Offset))
			line += *val
		case o.verbose:
			line += c.verboseType(r, m.Type)
		default:
			line += typ
		}
		c.Println(line)
		if c.Recording() {
			c.Record("type_member", typeMemberRecord(t.Name, base, hasAddr, level, m.Offset, m.Name, typ, val))
		}
		if o.arrays && hasAddr && mt.Kind == types.KindArray {
			if n, es := r.ArrayLen(mt); es > 0 {
				for i := uint64(0); i < n && i < 0x1000; i++ {
					c.Printf("%s    [%02d] %s\n", indent, i, c.memberValue(r, mt.Elem, base+m.Offset+i*es))
				}
			}
		}
		if mt.Kind.IsUDT() && (expand || level <= o.depth) {
			// A type that holds itself (only a hostile PDB can say so) would
			// expand without end: the member is shown, not entered.
			if mt.Index == t.Index || containsIndex(o.outer, mt.Index) {
				c.Printf("%s   <recursive type %s: not expanded>\n", indent, mt.Name)
				continue
			}
			inner := o
			inner.outer = append(append([]uint32(nil), o.outer...), t.Index)
			if err := c.dumpUDT(r, mt, base+m.Offset, hasAddr, level+1, inner, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Ctx) readBytes(addr uint64, n uint64) ([]byte, bool) {
	if n > 1<<20 {
		return nil, false
	}
	b := make([]byte, n)
	return b, mem.ReadFull(c.S.Mem(), b, addr) == nil
}

// memberValue renders a member's value at addr as dt does.
func (c *Ctx) memberValue(r *types.Ref, ti uint32, addr uint64) string {
	if ti < 0x1000 {
		return c.simpleValue(ti, addr)
	}
	t := r.Resolve(ti)
	switch t.Kind {
	case types.KindUnknown, types.KindFunction:
		return "??"
	case types.KindBasic:
		// A const or volatile basic type: dt has always printed ?? here and
		// the golden transcripts hold that; WinDbg prints the value.
		return "??"
	case types.KindPointer:
		size := t.PtrSize
		if size == 0 {
			size = uint64(c.S.Target.Arch().PtrSize())
		}
		b, ok := c.readBytes(addr, size)
		if !ok {
			return "????"
		}
		v := le(b)
		if v == 0 {
			return "(null) "
		}
		pointee := c.typeName(r, t.Elem)
		pt := r.Resolve(t.Elem)
		if pt.Kind == types.KindBasic && pt.Index < 0x100 {
			return c.pointerText(v, pt.Index)
		}
		if !(pt.Kind.IsUDT() || pt.Kind == types.KindEnum) {
			return "0x" + c.ptr(v)
		}
		return "0x" + c.ptr(v) + " " + pointee
	case types.KindBitfield:
		size := types.SimpleTypeSize(t.Elem)
		if size == 0 {
			size = r.TypeSize(t.Elem)
		}
		b, ok := c.readBytes(addr, size)
		if !ok {
			return "??"
		}
		v := (le(b) >> t.BitPos) & ((1 << t.BitLen) - 1)
		bits := fmt.Sprintf("0y%0*b", int(t.BitLen), v)
		if t.BitLen == 1 {
			return bits
		}
		return fmt.Sprintf("%s (0x%x)", bits, v)
	case types.KindEnum:
		b, ok := c.readBytes(addr, t.Size)
		if !ok {
			return "??"
		}
		v := le(b)
		for _, m := range r.Enumerators(t.Index) {
			if m.Value == v {
				return fmt.Sprintf("%d ( %s )", v, m.Name)
			}
		}
		return fmt.Sprintf("%d", v)
	case types.KindArray:
		if t.Elem < 0x1000 && types.IsChar(types.BasicKind(t.Elem)) && !types.IsBasicPointer(t.Elem) {
			b, ok := c.readBytes(addr, t.Size)
			if !ok {
				return c.typeName(r, ti) + " ??"
			}
			if i := strings.IndexByte(string(b), 0); i >= 0 {
				b = b[:i]
			}
			return fmt.Sprintf("[%d]  \"%s\"", t.Size, target.Sanitize(string(b)))
		}
		// Other arrays show their length and the first element, as dt does.
		n, es := r.ArrayLen(t)
		if es == 0 {
			return c.typeName(r, ti)
		}
		return fmt.Sprintf("[%d] %s", n, c.memberValue(r, t.Elem, addr))
	}
	if t.Name == "_LIST_ENTRY" || t.Name == "LIST_ENTRY" {
		ps := uint64(c.S.Target.Arch().PtrSize())
		f, e1 := c.S.ReadPointer(addr)
		b, e2 := c.S.ReadPointer(addr + ps)
		if e1 == nil && e2 == nil {
			return fmt.Sprintf("%s [ 0x%s - 0x%s ]", t.Name, c.ptr(f), c.ptr(b))
		}
	}
	return t.Name
}

func (c *Ctx) simpleValue(ti uint32, addr uint64) string {
	if (ti>>8)&7 != 0 {
		size := types.SimpleTypeSize(ti)
		b, ok := c.readBytes(addr, size)
		if !ok {
			return "????"
		}
		return c.pointerText(le(b), ti&0xff)
	}
	kind := ti & 0xff
	size := types.SimpleTypeSize(ti)
	if size == 0 {
		return ""
	}
	b, ok := c.readBytes(addr, size)
	if !ok {
		return strings.Repeat("?", int(size*2))
	}
	v := le(b)
	switch {
	case kind == 0x40:
		return fmt.Sprintf("%g", math.Float32frombits(uint32(v)))
	case kind == 0x41:
		return fmt.Sprintf("%g", math.Float64frombits(v))
	case types.IsChar(kind):
		ch := ""
		if v >= 0x20 && v < 0x7f {
			ch = string(rune(v))
		}
		if v == 0 {
			return "0 ''"
		}
		return fmt.Sprintf("0x%x '%s'", v, ch)
	case kind == 0x30:
		if v != 0 {
			return "0x1"
		}
		return "0"
	case types.IsSigned(kind):
		shift := 64 - 8*size
		return fmt.Sprintf("0n%d", int64(v<<shift)>>shift)
	}
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("0x%x", v)
}

// cTypeName spells a type the way `x` shows parameter types (C++ style).
func cTypeName(r *types.Ref, ti uint32) string { return r.CName(ti) }

// signatureSuffix is what `x` prints after a name: ` (args)` for functions
// with type information, ` = value` for typed data.
func (c *Ctx) signatureSuffix(s symbols.SymbolInfo) string {
	if s.Type == 0 {
		if s.Data {
			return " = <no type information>"
		}
		return " (<no parameter info>)"
	}
	r, err := c.S.Symbols.TypeRefFor(s.Module, s.Type)
	if err != nil {
		return " (<no parameter info>)"
	}
	if !s.Data {
		if r.Self().Kind == types.KindFunction {
			return " (" + r.CArgs(r.Index()) + ")"
		}
		return " (<no parameter info>)"
	}
	if t := r.Resolve(s.Type); t.Kind.IsUDT() || t.Kind == types.KindArray {
		return " = " + cTypeName(r, s.Type)
	}
	return " = " + c.memberValue(r, s.Type, s.Addr)
}

// pointerText is a pointer to a basic type (kind is the pointee's basic
// kind) as dt shows it: (null), Void after an untyped pointer, the string
// after a char or wchar_t pointer.
func (c *Ctx) pointerText(v uint64, kind uint32) string {
	if v == 0 {
		return "(null) "
	}
	p := "0x" + c.ptr(v)
	switch {
	case kind == 0x03:
		return p + " Void"
	case kind == 0x10 || kind == 0x20 || kind == 0x70 || kind == 0x7c:
		return p + "  \"" + c.previewString(v, false) + "\""
	case kind == 0x71 || kind == 0x7a:
		return p + "  \"" + c.previewString(v, true) + "\""
	}
	return p
}

// previewString reads a NUL-terminated string (at most 256 characters) for
// a pointer's preview; unreadable memory says so as WinDbg does.
func (c *Ctx) previewString(addr uint64, wide bool) string {
	const max = 256
	unit := uint64(1)
	if wide {
		unit = 2
	}
	var out []rune
	for i := uint64(0); i < max; i++ {
		v, err := c.S.ReadUint(addr+i*unit, int(unit))
		if err != nil {
			if i == 0 {
				return "--- memory read error at address 0x" + c.ptr(addr) + " ---"
			}
			break
		}
		if v == 0 {
			break
		}
		out = append(out, rune(v))
	}
	return target.Sanitize(string(out))
}

// verboseType is dt -v's type column: pointers spelled out to their
// target, structures with their member count and size, bitfields with
// their position and width.
func (c *Ctx) verboseType(r *types.Ref, ti uint32) string {
	return c.verboseTypeDepth(r, ti, 0)
}

func (c *Ctx) verboseTypeDepth(r *types.Ref, ti uint32, depth int) string {
	if depth > 8 {
		return c.typeName(r, ti)
	}
	ptrWord := "Ptr64"
	if c.S.Target.Arch().PtrSize() == 4 {
		ptrWord = "Ptr32"
	}
	if ti < 0x1000 && (ti>>8)&7 != 0 {
		if ti&0xff == 0x03 {
			return ptrWord + " to Void"
		}
		return ptrWord + " to " + c.typeName(r, ti&0xff)
	}
	t := r.Resolve(ti)
	switch t.Kind {
	case types.KindPointer:
		return ptrWord + " to " + c.verboseTypeDepth(r, t.Elem, depth+1)
	case types.KindStruct, types.KindClass, types.KindUnion:
		kind := map[types.Kind]string{types.KindStruct: "struct", types.KindClass: "class", types.KindUnion: "union"}[t.Kind]
		return fmt.Sprintf("%s %s, %d elements, 0x%x bytes", kind, t.Name, t.Count, t.Size)
	case types.KindEnum:
		return fmt.Sprintf("Enum %s,  %d total enums", t.Name, len(r.Enumerators(t.Index)))
	case types.KindBitfield:
		unit := "Bits"
		if t.BitLen == 1 {
			unit = "Bit"
		}
		return fmt.Sprintf("Bitfield Pos %d, %d %s", t.BitPos, t.BitLen, unit)
	case types.KindArray:
		n, _ := r.ArrayLen(t)
		return fmt.Sprintf("[%d] %s", n, c.verboseTypeDepth(r, t.Elem, depth+1))
	case types.KindBasic:
		if t.Index == 0x03 {
			return "Void"
		}
	}
	return c.typeName(r, ti)
}

// listTypes is `dt module!pattern`: every matching type name, one a line.
func (c *Ctx) listTypes(modName, pattern string) error {
	match := func(n string) bool { return wildMatch(pattern, n) }
	found := false
	for _, m := range c.S.Target.Modules() {
		if modName != "" && !strings.EqualFold(m.Name, modName) {
			continue
		}
		names, err := c.S.Symbols.TypeNames(m, match)
		if err != nil && len(names) == 0 {
			continue
		}
		for _, n := range names {
			found = true
			c.Printf("          %s!%s\n", m.Name, target.Sanitize(n))
		}
	}
	if !found {
		return fmt.Errorf("Symbol %s!%s not found.", modName, pattern)
	}
	return nil
}

func containsIndex(xs []uint32, x uint32) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
