package commands

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

// The rarer display forms: dD and df (floating point), dyb and dyd (binary),
// ds and dS (STRING and UNICODE_STRING structures). dD and dS differ from
// dd and ds in case only, so they are told apart by the name as typed
// (msdocs d--da--db--dc--dd--dd--df--...-display-memor.md and
// ds--ds--display-string-.md).

func init() {
	for _, d := range []struct{ name, summary string }{
		{"df", "single-precision floats (4 per line, 16 by default)"},
		{"dyb", "bytes in binary, with their hex values (32 by default)"},
		{"dyd", "double words in binary, with their hex values (8 by default)"},
	} {
		Register(&Command{Name: d.name, Family: "registers and memory", Syntax: d.name + " [Address [L Count | EndAddress]]",
			Summary: "display memory as " + d.summary, Run: cmdDisplayMore})
	}
	Register(&Command{Name: "ds", Family: "registers and memory", Syntax: "ds|dS [Address]",
		Summary: "display a STRING/ANSI_STRING (ds) or UNICODE_STRING (dS) structure's text", Run: cmdDisplayMore})
}

// moreKind says whether a typed d* name is one of these forms.
func moreKind(typed string) bool {
	switch typed {
	case "dD", "df", "dyb", "dyd", "ds", "dS":
		return true
	}
	return false
}

func cmdDisplayMore(c *Ctx, inv *Invocation) error {
	kind := inv.Typed
	switch low := strings.ToLower(kind); {
	case kind == "dD" || kind == "dS":
	case low == "df" || low == "dyb" || low == "dyd" || low == "ds":
		kind = low // only dD and dS differ from another command by case
	case low == "d":
		kind = c.lastKind
	}
	if !moreKind(kind) {
		return fmt.Errorf("%s: not a display form", target.Sanitize(inv.Typed))
	}
	if kind == "ds" || kind == "dS" {
		return c.displayStringStruct(inv, kind)
	}
	elem := map[string]uint64{"dD": 8, "df": 4, "dyb": 1, "dyd": 4}[kind]
	r, err := c.parseRange(inv, elem)
	if err != nil {
		return err
	}
	if !r.hasAddr {
		if c.hasLast {
			r.addr = c.lastAddr
		} else if regs, err := c.S.Registers(); err == nil {
			r.addr = regs.IP
		}
	}
	if !r.hasLen {
		r.count = map[string]uint64{"dD": 15, "df": 16, "dyb": 32, "dyd": 8}[kind]
	}
	perLine := map[string]uint64{"dD": 3, "df": 4, "dyb": 4, "dyd": 1}[kind]
	indent := strings.Repeat(" ", len(c.ptr(r.addr))+2)
	switch kind {
	case "dyb":
		c.Println(indent + "76543210 76543210 76543210 76543210")
		c.Println(indent + "-------- -------- -------- --------")
	case "dyd":
		c.Println(indent + " 3          2          1          0")
		c.Println(indent + "10987654 32109876 54321098 76543210")
		c.Println(indent + "-------- -------- -------- --------")
	}
	buf := make([]byte, perLine*elem)
	for i := uint64(0); i < r.count; i += perLine {
		n := r.count - i
		if n > perLine {
			n = perLine
		}
		a := r.addr + i*elem
		got, _ := c.S.Mem().ReadVirtual(buf[:n*elem], a)
		var b strings.Builder
		b.WriteString(c.ptr(a))
		b.WriteString(" ")
		var tail strings.Builder
		for j := uint64(0); j < n; j++ {
			o := j * elem
			ok := int(o+elem) <= got
			v := uint64(0)
			if ok {
				v = le(buf[o : o+elem])
			}
			switch kind {
			case "dD":
				b.WriteString(" " + fmtFloat(ok, math.Float64frombits(v), 22, 15))
			case "df":
				b.WriteString(" " + fmtFloat(ok, float64(math.Float32frombits(uint32(v))), 15, 7))
			case "dyb":
				if ok {
					fmt.Fprintf(&b, " %08b", v)
					fmt.Fprintf(&tail, " %02x", v)
				} else {
					b.WriteString(" ????????")
					tail.WriteString(" ??")
				}
			case "dyd":
				if ok {
					fmt.Fprintf(&b, " %08b %08b %08b %08b", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
					fmt.Fprintf(&tail, " %08x", v)
				} else {
					b.WriteString(" ???????? ???????? ???????? ????????")
					tail.WriteString(" ????????")
				}
			}
		}
		line := b.String()
		if tail.Len() > 0 {
			pad := 0
			if kind == "dyb" {
				pad = int(perLine-n) * 9
			}
			line += strings.Repeat(" ", pad) + " " + tail.String()
		}
		c.Println(line)
	}
	c.lastKind, c.lastAddr, c.hasLast = kind, r.addr+r.count*elem, true
	return nil
}

// fmtFloat right-aligns a float the way dD and df do (%g with the given
// precision); unreadable memory is question marks.
func fmtFloat(ok bool, f float64, width, prec int) string {
	if !ok {
		return fmt.Sprintf("%*s", width, "????????")
	}
	var s string
	switch {
	case math.IsNaN(f):
		s = "-1.#QNAN"
		if !math.Signbit(f) {
			s = "1.#QNAN"
		}
	case math.IsInf(f, 1):
		s = "1.#INF"
	case math.IsInf(f, -1):
		s = "-1.#INF"
	default:
		s = strconv.FormatFloat(f, 'g', prec, 64)
		// The C runtime prints three exponent digits (1e-045).
		if i := strings.IndexAny(s, "e"); i >= 0 {
			mant, exp := s[:i], s[i+1:]
			sign := exp[:1]
			digits := strings.TrimLeft(exp[1:], "0")
			for len(digits) < 3 {
				digits = "0" + digits
			}
			s = mant + "e" + sign + digits
		}
	}
	return fmt.Sprintf("%*s", width, s)
}

// displayStringStruct is ds/dS: the structure's Length and Buffer, then
// the text at Buffer, quoted.
func (c *Ctx) displayStringStruct(inv *Invocation, kind string) error {
	r, err := c.parseRange(inv, 1)
	if err != nil {
		return err
	}
	if !r.hasAddr {
		r.addr = c.lastAddr
	}
	l := c.S.Layout()
	n, err := c.S.ReadUint(r.addr+l.UsLength, 2)
	if err != nil {
		c.Printf("%s  ????\n", c.ptr(r.addr))
		return nil
	}
	buf, err := c.S.ReadPointer(r.addr + l.UsBuffer)
	if err != nil {
		c.Printf("%s  ????\n", c.ptr(r.addr))
		return nil
	}
	var text string
	if kind == "dS" {
		s, err := types.ReadUTF16(c.S.Mem(), buf, n)
		if err != nil {
			c.Printf("%s  \"????\"\n", c.ptr(buf))
			return nil
		}
		text = s
	} else {
		if n > 0x10000 {
			n = 0x10000
		}
		b := make([]byte, n)
		if err := mem.ReadFull(c.S.Mem(), b, buf); err != nil {
			c.Printf("%s  \"????\"\n", c.ptr(buf))
			return nil
		}
		// A STRING's NULs are not shown; other unprintable bytes are dots, as in da.
		text = strings.Map(func(r rune) rune {
			switch {
			case r == 0:
				return -1
			case r < 0x20 || r >= 0x7f:
				return '.'
			}
			return r
		}, string(b))
	}
	c.Printf("%s  \"%s\"\n", c.ptr(buf), target.Sanitize(text))
	c.lastKind, c.lastAddr, c.hasLast = kind, r.addr+2*uint64(c.S.Target.Arch().PtrSize()), true
	return nil
}
