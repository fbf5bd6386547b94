package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

// ?? and dx: the C++ evaluator's results, in the two layouts WinDbg uses
// (msdocs ----evaluate-c---expression-.md and dx--display-visualizer-variables-.md).

func init() {
	Register(&Command{Name: "??", Family: "expressions and events", Syntax: "?? Expression",
		Summary: "evaluate a C++ expression over the type information and show its type and value",
		Help: "Members (. ->), pointers (* & and pointer arithmetic), arrays ([i]), casts to basic, Windows and PDB types,\n" +
			"sizeof, locals and parameters of the current frame, globals (module!name), registers, @$teb and @$peb.\n" +
			"Numbers are decimal unless they start with 0x. A structure, or a pointer to one, is followed by its members.",
		Run: cmdCxx})
	Register(&Command{Name: "dx", Family: "types", Syntax: "dx [-r[N]] Expression",
		Summary: "display a C++ expression as the data model shows it, children expanded to depth N (default 1)",
		Help: "ntdbg's dx evaluates the same C++ expressions as ??: typed values, members, pointers, arrays and casts.\n" +
			"The debugger data model (@$curprocess, @$cursession, LINQ queries such as .Where and .Select, natvis) is\n" +
			"out of scope and says so.",
		Run: cmdDX})
}

func cmdCxx(c *Ctx, inv *Invocation) error {
	text := strings.TrimSpace(inv.Args)
	if text == "" {
		return &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff}
	}
	v, err := c.evalCxx(text)
	if err != nil {
		return err
	}
	e := &cxx{c: c, text: text}
	in := e.info(v.t)
	switch {
	case in.Kind.IsUDT():
		c.Println(e.typeText(v.t, false))
		return c.dumpUDT(v.t.ref, in, v.addr, true, 1, dtOpts{}, nil)
	case in.Kind == types.KindArray:
		s := ""
		if ei := e.info(e.pointee(v.t)); ei.Kind == types.KindBasic && ei.Size == 1 && types.IsChar(ei.Index) {
			s = " \"" + c.previewString(v.addr, false) + "\""
		}
		c.Printf("%s 0x%s%s\n", e.typeText(v.t, false), c.ptr(v.addr), s)
		return nil
	}
	val, err := e.valueText(v, false)
	if err != nil {
		return err
	}
	c.Printf("%s %s\n", e.typeText(v.t, false), val)
	if in.Kind == types.KindPointer {
		p := e.pointee(v.t)
		if pi := e.info(p); pi.Kind.IsUDT() && p.ref != nil {
			x, _ := e.load(v)
			if _, err := c.S.ReadUint(x, 1); err == nil {
				return c.dumpUDT(p.ref, pi, x, true, 1, dtOpts{}, nil)
			}
		}
	}
	return nil
}

func cmdDX(c *Ctx, inv *Invocation) error {
	args := strings.TrimSpace(inv.Args)
	depth := 1
	for strings.HasPrefix(args, "-") {
		opt, rest, _ := strings.Cut(args, " ")
		switch {
		case strings.HasPrefix(opt, "-r"):
			n, err := strconv.Atoi(opt[2:])
			if err != nil || n < 0 {
				return fmt.Errorf("dx: bad recursion depth %s", opt)
			}
			depth = n
		default:
			return fmt.Errorf("dx: option %s is not supported", opt)
		}
		args = strings.TrimSpace(rest)
	}
	if args == "" {
		return &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff}
	}
	if strings.Contains(args, "@$cur") || strings.Contains(args, "Debugger.") || strings.Contains(args, "=>") {
		return fmt.Errorf("Error: the debugger data model (@$cur..., Debugger.*, LINQ) is not supported by ntdbg's dx; use typed C++ expressions")
	}
	v, err := c.evalCxx(args)
	if err != nil {
		return fmt.Errorf("Error: %v", err)
	}
	e := &cxx{c: c, text: args}
	c.dxNode(e, v, target.Sanitize(args), "", 0, depth, true)
	return nil
}

// dxNode prints one dx line and, below depth, its children: a structure's
// members, a pointer's pointee members, an array's elements (first 100).
func (c *Ctx) dxNode(e *cxx, v cval, label, indent string, level, depth int, root bool) {
	in := e.info(v.t)
	typ := e.typeText(v.t, true)
	name := label
	if !root && !strings.HasPrefix(label, "[+") {
		name = fmt.Sprintf("%-16s", label)
	}
	switch {
	case in.Kind.IsUDT() || in.Kind == types.KindArray:
		if root {
			c.Printf("%s%s                 [Type: %s]\n", indent, name, typ)
		} else {
			c.Printf("%s%s [Type: %s]\n", indent, name, typ)
		}
	default:
		val, err := e.valueText(v, true)
		if err != nil {
			val = "<Unable to read memory>"
		}
		c.Printf("%s%s : %s [Type: %s]\n", indent, name, val, typ)
	}
	if level >= depth {
		return
	}
	child := indent + "    "
	switch in.Kind {
	case types.KindStruct, types.KindClass, types.KindUnion:
		c.dxMembers(e, v, child, level, depth)
	case types.KindArray:
		n, es := v.t.ref.ArrayLen(in)
		elem := e.pointee(v.t)
		for i := uint64(0); i < n && i < 100; i++ {
			c.dxNode(e, cval{t: elem, lval: true, addr: v.addr + i*es}, fmt.Sprintf("[%d]", i), child, level+1, depth, false)
		}
		if n > 100 {
			c.Printf("%s[...]\n", child)
		}
	case types.KindPointer:
		p := e.pointee(v.t)
		if pi := e.info(p); pi.Kind.IsUDT() && p.ref != nil {
			x, err := e.load(v)
			if err != nil || x == 0 {
				return
			}
			if _, err := c.S.ReadUint(x, 1); err != nil {
				return
			}
			c.dxMembers(e, cval{t: p, lval: true, addr: x}, child, level, depth)
		}
	}
}

func (c *Ctx) dxMembers(e *cxx, v cval, indent string, level, depth int) {
	in := e.info(v.t)
	ms, err := v.t.ref.Members(in.Index)
	if err != nil {
		c.Printf("%s<Unable to read the members: %v>\n", indent, err)
		return
	}
	for _, m := range ms {
		mv := cval{t: ctype{ref: v.t.ref, ti: m.Type}, lval: true, addr: v.addr + m.Offset}
		label := fmt.Sprintf("[+0x%03x] %-16s", m.Offset, target.Sanitize(m.Name))
		if mi := e.info(mv.t); mi.Kind == types.KindBitfield {
			bits, err := e.load(mv)
			label = fmt.Sprintf("[+0x%03x (%2d:%2d)] %-16s", m.Offset, int(mi.BitPos)+int(mi.BitLen)-1, mi.BitPos, target.Sanitize(m.Name))
			if err != nil {
				c.Printf("%s%-16s : <Unable to read memory>\n", indent, label)
				continue
			}
			mv = cval{t: ctype{ref: v.t.ref, ti: mi.Elem}, bits: bits, bitfld: true}
		}
		c.dxNode(e, mv, label, indent, level+1, depth, false)
	}
}
