package commands

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
)

// dv: the current frame's parameters and locals, from the PDB's S_LOCAL
// records and their S_DEFRANGE locations at the frame's address (msdocs
// dv--display-local-variables-.md).

func init() {
	Register(&Command{Name: "dv", Family: "stacks", Syntax: "dv [/i] [/t] [/v] [/V] [/a|/A|/n|/N|/z|/Z] [Pattern]",
		Summary: "display the current frame's parameters and local variables",
		Help: "Names are right-aligned as dv aligns them; /t adds the type, /v the address or register, /V the address relative\n" +
			"to its base register, /i the kind (prv param, prv local). /a /A /n /N /z /Z sort by address, name or size.\n" +
			"Locals need private symbols. The frame is the one .frame chose.",
		Run: cmdDV})
}

var x64RegNames = []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
var x86RegNames = []string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"}

func (c *Ctx) regName(i int) string {
	names := x64RegNames
	if c.S.Target.Arch() == target.ArchX86 {
		names = x86RegNames
	}
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("r%d", i)
}

func cmdDV(c *Ctx, inv *Invocation) error {
	var showKind, showType, showAddr, relAddr bool
	sortBy := ""
	pattern := ""
	for _, tok := range strings.Fields(inv.Args) {
		if strings.HasPrefix(tok, "/") && len(tok) > 1 {
			for _, ch := range tok[1:] {
				switch ch {
				case 'i':
					showKind = true
				case 't':
					showType = true
				case 'v':
					showAddr = true
				case 'V':
					showAddr, relAddr = true, true
				case 'a', 'A', 'n', 'N', 'z', 'Z':
					sortBy = string(ch)
				default:
					return fmt.Errorf("dv: unknown option /%c", ch)
				}
			}
			continue
		}
		pattern = strings.Trim(tok, "\"")
	}
	frames, err := c.frames(0x100)
	if err != nil {
		return err
	}
	n := c.S.Frame
	if n >= len(frames) {
		n = 0
	}
	if len(frames) == 0 {
		return fmt.Errorf("Unable to enumerate locals, HRESULT 0x80004005")
	}
	f := &frames[n]
	vars, ref, ok := c.S.Symbols.Locals(f.LookupIP())
	if !ok {
		c.Println("Unable to enumerate locals, HRESULT 0x80004005")
		c.Println("Private symbols (symbols.pri) are required for locals.")
		c.Println("Type \".hh dbgerr005\" for details.")
		return nil
	}
	type row struct {
		p            symbols.Param
		addr         uint64
		inReg, found bool
	}
	var rows []row
	for _, p := range vars {
		if pattern != "" && !wildMatch(pattern, p.Name) {
			continue
		}
		a, inReg, found := c.varAddr(f, p)
		rows = append(rows, row{p, a, inReg, found})
	}
	switch sortBy {
	case "a", "A":
		sort.SliceStable(rows, func(i, j int) bool { return (rows[i].addr < rows[j].addr) == (sortBy == "a") })
	case "n", "N":
		sort.SliceStable(rows, func(i, j int) bool { return (rows[i].p.Name < rows[j].p.Name) == (sortBy == "n") })
	case "z", "Z":
		sort.SliceStable(rows, func(i, j int) bool {
			return (ref.TypeSize(rows[i].p.Type) < ref.TypeSize(rows[j].p.Type)) == (sortBy == "z")
		})
	}
	width := 15
	ps := c.S.Target.Arch().PtrSize()
	for _, r := range rows {
		var b strings.Builder
		if showKind {
			kind := "prv local "
			if r.p.IsParam {
				kind = "prv param "
			}
			b.WriteString(kind + " ")
		}
		if showAddr {
			col := strings.Repeat(" ", 2*ps+ps/8)
			switch {
			case r.inReg:
				col = fmt.Sprintf("%-*s", 2*ps+ps/8, "@"+c.regName(r.p.Reg))
			case r.found:
				col = c.ptr(r.addr)
			}
			b.WriteString(col + " ")
			if relAddr {
				rel := ""
				switch {
				case !r.found || r.inReg:
				case r.p.Kind == symbols.LocRegRel:
					rel = fmt.Sprintf("@%s%+#x", c.regName(r.p.Reg), r.p.Offset)
				default:
					rel = fmt.Sprintf("@frame%+#x", r.p.Offset)
				}
				b.WriteString(fmt.Sprintf("%-16s ", rel))
			}
		}
		name := target.Sanitize(r.p.Name)
		if showType {
			b.WriteString(target.Sanitize(cTypeName(ref, r.p.Type)) + " " + name)
		} else {
			b.WriteString(fmt.Sprintf("%*s", width, name))
		}
		b.WriteString(" = ")
		b.WriteString(target.Sanitize(c.varValue(f, ref, r.p)))
		c.Println(b.String())
	}
	return nil
}
