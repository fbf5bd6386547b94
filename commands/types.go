package commands

import (
	"fmt"
	"math"
	"strings"

	"ntdbg/dumpfmt/pdb"
	"ntdbg/engine"
)

func init() {
	Register(&Command{Name: "dt", Family: "types", Syntax: "dt [-r[N]] [-v] [-a] [module!]Type [Field[.]...] [Address]",
		Summary: "display a type from PDB type information, laid over memory when an address is given",
		Help: "Offsets, names and types come from the module's PDB. `-r` expands nested structures (to depth N),\n" +
			"`Field.` expands one field. Signed integers print in decimal, unsigned in hex, pointers with their pointee type.",
		Run: cmdDT})
}

type dtOpts struct {
	depth   int
	verbose bool
	arrays  bool // -a: one line per array element
	fields  []string
}

var simpleNames = map[uint32]string{
	0x03: "Void", 0x08: "Int4B", 0x10: "Char", 0x20: "UChar", 0x70: "Char", 0x71: "Wchar", 0x7A: "Wchar", 0x7B: "Uint4B", 0x7C: "UChar",
	0x11: "Int2B", 0x21: "Uint2B", 0x72: "Int2B", 0x73: "Uint2B", 0x12: "Int4B", 0x22: "Uint4B", 0x74: "Int4B", 0x75: "Uint4B",
	0x13: "Int8B", 0x23: "Uint8B", 0x76: "Int8B", 0x77: "Uint8B", 0x68: "Char", 0x69: "UChar",
	0x30: "Bool", 0x31: "Bool", 0x32: "Bool", 0x33: "Bool", 0x40: "Float", 0x41: "Float", 0x42: "Float",
	0x14: "Int16B", 0x24: "Uint16B", 0x78: "Int16B", 0x79: "Uint16B",
}

func isSigned(kind uint32) bool {
	switch kind {
	case 0x10, 0x11, 0x12, 0x13, 0x14, 0x68, 0x70, 0x72, 0x74, 0x76, 0x78, 0x08:
		return true
	}
	return false
}

func isCharKind(kind uint32) bool {
	switch kind {
	case 0x10, 0x20, 0x70, 0x68, 0x69, 0x7C:
		return true
	}
	return false
}

func (c *Ctx) ptrPrefix() string {
	if c.S.Target.Arch() == engine.ArchAMD64 {
		return "Ptr64 "
	}
	return "Ptr32 "
}

// typeName renders a type the way dt's type column does.
func (c *Ctx) typeName(r *engine.TypeRef, ti uint32) string {
	if ti < 0x1000 {
		mode := (ti >> 8) & 7
		base := simpleNames[ti&0xff]
		if base == "" {
			base = fmt.Sprintf("<type 0x%x>", ti&0xff)
		}
		switch mode {
		case 0:
			return base
		case 6:
			return "Ptr64 " + base
		default:
			return "Ptr32 " + base
		}
	}
	t, err := r.Table.Type(ti)
	if err != nil {
		return "<unknown type>"
	}
	switch t.Leaf {
	case pdb.LF_POINTER:
		pre := "Ptr64 "
		if t.PointerSize() == 4 {
			pre = "Ptr32 "
		}
		return pre + c.typeName(r, t.Elem)
	case pdb.LF_MODIFIER, pdb.LF_ALIAS:
		return c.typeName(r, t.Elem)
	case pdb.LF_ARRAY:
		n, _ := arrayLen(r, t)
		return fmt.Sprintf("[%d] %s", n, c.typeName(r, t.Elem))
	case pdb.LF_BITFIELD:
		bits := "Bit"
		if t.BitLen != 1 {
			bits = "Bits"
		}
		return fmt.Sprintf("Pos %d, %d %s", t.BitPos, t.BitLen, bits)
	case pdb.LF_PROCEDURE, pdb.LF_MFUNCTION:
		return "Void"
	}
	if t.Name != "" {
		return t.Name
	}
	return "<anonymous-tag>"
}

func cmdDT(c *Ctx, inv *Invocation) error {
	if c.Symbols == nil {
		return fmt.Errorf("no symbols")
	}
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
	ref, err := c.Symbols.FindType(modName, typName)
	if err != nil {
		// A global variable: its type laid over its own address.
		if g, ok := c.findGlobal(modName, typName); ok {
			r, err := c.Symbols.TypeRefFor(g.Module, g.Type)
			if err == nil {
				if t := resolveType(r, g.Type); t != nil && t.IsUDT() {
					return c.dumpUDT(r, r.Table.Resolve(t), g.Addr, true, 1, o, o.fields)
				}
				c.Printf("%s\n", c.memberValue(r, g.Type, g.Addr))
				return nil
			}
		}
		return fmt.Errorf("Symbol %s not found.", name)
	}
	t := ref.Table.Resolve(ref.Type)
	if !hasMod {
		c.Printf("%s!%s\n", ref.Module.Name, t.Name)
	}
	if o.verbose {
		kind := "struct"
		switch t.Leaf {
		case pdb.LF_UNION, pdb.LF_UNION2:
			kind = "union"
		case pdb.LF_CLASS, pdb.LF_CLASS2:
			kind = "class"
		case pdb.LF_ENUM:
			kind = "enum"
		}
		c.Printf("%s %s, %d elements, 0x%x bytes\n", kind, t.Name, t.Count, t.Size)
	}
	if t.Leaf == pdb.LF_ENUM {
		ms, _ := ref.Table.Fields(t.FieldList)
		for _, m := range ms {
			c.Printf("   %s = 0n%d\n", m.Name, int64(m.Value))
		}
		return nil
	}
	return c.dumpUDT(ref, t, addr, hasAddr, 1, o, o.fields)
}

// findGlobal finds a typed global data symbol by exact name.
func (c *Ctx) findGlobal(modName, name string) (engine.SymbolInfo, bool) {
	for _, m := range c.S.Target.Modules() {
		if modName != "" && !strings.EqualFold(m.Name, modName) {
			continue
		}
		for _, s := range c.Symbols.Match(m, func(n string) bool { return strings.EqualFold(n, name) }) {
			if s.Data && s.Type != 0 {
				return s, true
			}
		}
	}
	return engine.SymbolInfo{}, false
}

func looksLikeField(tok string) bool {
	return strings.HasSuffix(tok, ".") || (len(tok) > 0 && (tok[0] == '_' || (tok[0] >= 'A' && tok[0] <= 'Z' && !isHexWord(tok))))
}

func isHexWord(s string) bool {
	_, ok := ParseNumber(s)
	return ok
}

// dumpUDT prints the members of a structure, class or union.
func (c *Ctx) dumpUDT(r *engine.TypeRef, t *pdb.Type, base uint64, hasAddr bool, level int, o dtOpts, only []string) error {
	ms, err := r.Table.Fields(t.FieldList)
	if err != nil {
		return err
	}
	indent := strings.Repeat("   ", level)
	for _, m := range ms {
		if m.Leaf != pdb.LF_MEMBER {
			continue
		}
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
		mt := resolveType(r, m.Type)
		if hasAddr {
			line += c.memberValue(r, m.Type, base+m.Offset)
		} else {
			line += typ
		}
		c.Println(line)
		if o.arrays && hasAddr && mt != nil && mt.Leaf == pdb.LF_ARRAY {
			if n, es := arrayLen(r, mt); es > 0 {
				for i := uint64(0); i < n && i < 0x1000; i++ {
					c.Printf("%s    [%02d] %s\n", indent, i, c.memberValue(r, mt.Elem, base+m.Offset+i*es))
				}
			}
		}
		if mt != nil && mt.IsUDT() && (expand || level <= o.depth) {
			def := r.Table.Resolve(mt)
			if err := c.dumpUDT(r, def, base+m.Offset, hasAddr, level+1, o, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolveType follows modifiers to the underlying record (nil for basic types).
func resolveType(r *engine.TypeRef, ti uint32) *pdb.Type {
	for i := 0; i < 8 && ti >= 0x1000; i++ {
		t, err := r.Table.Type(ti)
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

func (c *Ctx) readBytes(addr uint64, n uint64) ([]byte, bool) {
	if n > 1<<20 {
		return nil, false
	}
	b := make([]byte, n)
	return b, engine.ReadFull(c.S.Target.Memory(), b, addr) == nil
}

// memberValue renders a member's value at addr as dt does.
func (c *Ctx) memberValue(r *engine.TypeRef, ti uint32, addr uint64) string {
	if ti < 0x1000 {
		return c.simpleValue(ti, addr)
	}
	t := resolveType(r, ti)
	if t == nil {
		return "??"
	}
	switch t.Leaf {
	case pdb.LF_POINTER:
		size := t.PointerSize()
		if size == 0 {
			size = uint64(c.S.Target.Arch().PtrSize())
		}
		b, ok := c.readBytes(addr, size)
		if !ok {
			return "????"
		}
		v := le(b)
		if v == 0 {
			return "(null)"
		}
		pointee := c.typeName(r, t.Elem)
		if pt := resolveType(r, t.Elem); pt == nil || !(pt.IsUDT() || pt.Leaf == pdb.LF_ENUM) {
			return "0x" + c.ptr(v)
		}
		return "0x" + c.ptr(v) + " " + pointee
	case pdb.LF_BITFIELD:
		size := engine.SimpleTypeSize(t.Elem)
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
	case pdb.LF_ENUM:
		size := r.TypeSize(t.Elem)
		b, ok := c.readBytes(addr, size)
		if !ok {
			return "??"
		}
		v := le(b)
		if ms, err := r.Table.Fields(t.FieldList); err == nil {
			for _, m := range ms {
				if m.Value == v {
					return fmt.Sprintf("%d ( %s )", v, m.Name)
				}
			}
		}
		return fmt.Sprintf("%d", v)
	case pdb.LF_ARRAY:
		elem := resolveType(r, t.Elem)
		ek := t.Elem & 0xff
		if elem == nil && t.Elem < 0x1000 && isCharKind(ek) {
			b, ok := c.readBytes(addr, t.Size)
			if !ok {
				return c.typeName(r, ti) + " ??"
			}
			if i := strings.IndexByte(string(b), 0); i >= 0 {
				b = b[:i]
			}
			return fmt.Sprintf("[%d] \"%s\"", t.Size, engine.Sanitize(string(b)))
		}
		// Other arrays show their length and the first element, as dt does.
		n, es := arrayLen(r, t)
		if es == 0 {
			return c.typeName(r, ti)
		}
		return fmt.Sprintf("[%d] %s", n, c.memberValue(r, t.Elem, addr))
	}
	if t.IsUDT() {
		def := r.Table.Resolve(t)
		if def.Name == "_LIST_ENTRY" || def.Name == "LIST_ENTRY" {
			ps := uint64(c.S.Target.Arch().PtrSize())
			f, e1 := c.S.ReadPointer(addr)
			b, e2 := c.S.ReadPointer(addr + ps)
			if e1 == nil && e2 == nil {
				return fmt.Sprintf("%s [ 0x%s - 0x%s ]", def.Name, c.ptr(f), c.ptr(b))
			}
		}
		return def.Name
	}
	return "??"
}

func (c *Ctx) simpleValue(ti uint32, addr uint64) string {
	if (ti>>8)&7 != 0 {
		size := engine.SimpleTypeSize(ti)
		b, ok := c.readBytes(addr, size)
		if !ok {
			return "????"
		}
		v := le(b)
		if v == 0 {
			return "(null)"
		}
		return "0x" + c.ptr(v)
	}
	kind := ti & 0xff
	size := engine.SimpleTypeSize(ti)
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
	case isCharKind(kind):
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
	case isSigned(kind):
		shift := 64 - 8*size
		return fmt.Sprintf("%d", int64(v<<shift)>>shift)
	}
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("0x%x", v)
}

var cSimpleNames = map[uint32]string{
	0x03: "void", 0x08: "HRESULT", 0x10: "signed char", 0x20: "unsigned char", 0x70: "char", 0x71: "wchar_t",
	0x7A: "char16_t", 0x7B: "char32_t", 0x7C: "char8_t", 0x11: "short", 0x72: "short", 0x21: "unsigned short", 0x73: "unsigned short",
	0x12: "long", 0x22: "unsigned long", 0x74: "int", 0x75: "unsigned int", 0x13: "int64", 0x76: "int64",
	0x23: "unsigned int64", 0x77: "unsigned int64", 0x30: "bool", 0x40: "float", 0x41: "double", 0x42: "long double",
	0x68: "char", 0x69: "unsigned char",
}

// cTypeName spells a type the way `x` shows parameter types (C++ style).
func cTypeName(r *engine.TypeRef, ti uint32) string {
	if ti < 0x1000 {
		base := cSimpleNames[ti&0xff]
		if base == "" {
			base = "<unknown>"
		}
		if (ti>>8)&7 != 0 {
			return base + " *"
		}
		return base
	}
	t, err := r.Table.Type(ti)
	if err != nil {
		return "<unknown>"
	}
	switch t.Leaf {
	case pdb.LF_POINTER:
		op := " *"
		if m := t.PointerMode(); m == 1 || m == 4 {
			op = " &"
		}
		inner := cTypeName(r, t.Elem)
		if strings.HasSuffix(inner, "*") || strings.HasSuffix(inner, "&") {
			return inner + strings.TrimSpace(op)
		}
		return inner + op
	case pdb.LF_MODIFIER, pdb.LF_ALIAS:
		return cTypeName(r, t.Elem)
	case pdb.LF_ARRAY:
		n, _ := arrayLen(r, t)
		return fmt.Sprintf("%s [%d]", cTypeName(r, t.Elem), n)
	case pdb.LF_ENUM:
		return "enum " + t.Name
	case pdb.LF_UNION, pdb.LF_UNION2:
		return "union " + t.Name
	case pdb.LF_CLASS, pdb.LF_CLASS2:
		return "class " + t.Name
	case pdb.LF_STRUCTURE, pdb.LF_STRUCTURE2, pdb.LF_INTERFACE, pdb.LF_INTERFACE2:
		return "struct " + t.Name
	case pdb.LF_PROCEDURE, pdb.LF_MFUNCTION:
		return cTypeName(r, t.Elem) + " (" + cArgs(r, t) + ")"
	}
	return "<unknown>"
}

// cArgs lists a function type's parameters: "int, char *" or "void".
func cArgs(r *engine.TypeRef, fn *pdb.Type) string {
	if fn.IndexType == 0 {
		return "void"
	}
	al, err := r.Table.Type(fn.IndexType)
	if err != nil || al.Leaf != pdb.LF_ARGLIST || len(al.Args) == 0 {
		return "void"
	}
	var parts []string
	for _, a := range al.Args {
		if a == 0 {
			parts = append(parts, "...")
			continue
		}
		parts = append(parts, cTypeName(r, a))
	}
	return strings.Join(parts, ", ")
}

// signatureSuffix is what `x` prints after a name: ` (args)` for functions
// with type information, ` = value` for typed data.
func (c *Ctx) signatureSuffix(s engine.SymbolInfo) string {
	if s.Type == 0 {
		if s.Data {
			return " = <no type information>"
		}
		return " (<no parameter info>)"
	}
	r, err := c.Symbols.TypeRefFor(s.Module, s.Type)
	if err != nil {
		return " (<no parameter info>)"
	}
	if !s.Data {
		if r.Type != nil && (r.Type.Leaf == pdb.LF_PROCEDURE || r.Type.Leaf == pdb.LF_MFUNCTION) {
			return " (" + cArgs(r, r.Type) + ")"
		}
		return " (<no parameter info>)"
	}
	if t := resolveType(r, s.Type); t != nil && (t.IsUDT() || t.Leaf == pdb.LF_ARRAY) {
		return " = " + cTypeName(r, s.Type)
	}
	return " = " + c.memberValue(r, s.Type, s.Addr)
}

// arrayLen returns an array type's element count and element size; both are
// zero when the element size is unknown.
func arrayLen(r *engine.TypeRef, t *pdb.Type) (n, elemSize uint64) {
	es := r.TypeSize(t.Elem)
	if es == 0 {
		return 0, 0
	}
	return t.Size / es, es
}
