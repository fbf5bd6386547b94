package commands

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"github.com/ntdbg/ntdbg/engine/disasm"
	"github.com/ntdbg/ntdbg/engine/target"
)

// ptr formats an address as WinDbg's address columns do: 16 digits split by
// a backtick on 64-bit targets, 8 digits on 32-bit ones.
func (c *Ctx) ptr(v uint64) string {
	if c.S.Target.Arch().PtrSize() == 8 {
		return fmt.Sprintf("%08x`%08x", v>>32, v&0xffffffff)
	}
	return fmt.Sprintf("%08x", v&0xffffffff)
}

// plainPtr formats a pointer without the backtick (extension output, `r`).
func (c *Ctx) plainPtr(v uint64) string {
	if c.S.Target.Arch().PtrSize() == 8 {
		return fmt.Sprintf("%016x", v)
	}
	return fmt.Sprintf("%08x", v&0xffffffff)
}

// Symbolize names an address as WinDbg does (module!symbol+0xoff,
// module+0xoff), or "" when no module holds it. For extensions.
func (c *Ctx) Symbolize(addr uint64) string { return c.symbolize(addr) }

// symbolize names an address: module!symbol+0xoff, module+0xoff, or "".
func (c *Ctx) symbolize(addr uint64) string {
	if m, sym, disp, ok := c.S.Symbols.Nearest(addr); ok {
		name := m.Name
		if sym != "" {
			name += "!" + sym
		}
		if disp != 0 {
			name += fmt.Sprintf("+0x%x", disp)
		}
		return name
	}
	if m := c.S.ModuleAt(addr); m != nil {
		if addr == m.Base {
			return m.Name
		}
		return fmt.Sprintf("%s+0x%x", m.Name, addr-m.Base)
	}
	return ""
}

// disasmLine disassembles one instruction at addr in WinDbg's layout:
// address, bytes padded to 16, mnemonic padded to 7, operands.
func (c *Ctx) disasmLine(addr uint64) (string, int) {
	buf := make([]byte, 16)
	n, _ := c.S.Mem().ReadVirtual(buf, addr)
	return c.disasmBytes(buf[:n], addr)
}

// disasmBytes is disasmLine on bytes already read from addr.
func (c *Ctx) disasmBytes(buf []byte, addr uint64) (string, int) {
	text, length := c.decodeText(buf, addr)
	if length == 0 {
		if len(buf) == 0 {
			return fmt.Sprintf("%s %-16s%s", c.ptr(addr), "??", "???"), 1
		}
		return fmt.Sprintf("%s %-16s%s", c.ptr(addr), fmt.Sprintf("%02x", buf[0]), "???"), 1
	}
	var hexb strings.Builder
	for _, b := range buf[:length] {
		fmt.Fprintf(&hexb, "%02x", b)
	}
	mn, ops, _ := strings.Cut(text, " ")
	bytesCol := fmt.Sprintf("%-16s", hexb.String())
	if hexb.Len() >= 16 {
		bytesCol += " " // long encodings push the mnemonic right, one space apart
	}
	if ops == "" {
		return fmt.Sprintf("%s %s%s", c.ptr(addr), bytesCol, mn), length
	}
	return fmt.Sprintf("%s %s%-7s %s", c.ptr(addr), bytesCol, mn, ops), length
}

// decodeText decodes one instruction: its text and length, or length 0
// when the bytes do not decode. On 64-bit targets VEX and EVEX encodings go
// to engine/disasm first (x86asm misdecodes some and knows no EVEX); one it
// does not know keeps its length and prints as x86asm has it when x86asm
// agrees on the length, else as ???.
func (c *Ctx) decodeText(buf []byte, addr uint64) (string, int) {
	mode := 64
	if c.S.Target.Arch() == target.ArchX86 {
		mode = 32
	}
	known := 0
	if mode == 64 {
		vi, err := disasm.Decode(buf)
		if err == nil {
			return c.formatVEX(vi, addr), vi.Len
		}
		if err == disasm.ErrUnknown {
			known = vi.Len
		}
	}
	inst, err := x86asm.Decode(buf, mode)
	if err != nil || inst.Len == 0 || known != 0 && inst.Len != known {
		return "???", known
	}
	return c.formatInst(inst, addr), inst.Len
}

// instLen is the length of the instruction at the start of buf (0 when it
// does not decode) and, for x86asm's decodings, the instruction.
func (c *Ctx) instLen(buf []byte, mode int) (int, *x86asm.Inst) {
	if mode == 64 {
		vi, err := disasm.Decode(buf)
		if err == nil || err == disasm.ErrUnknown && vi.Len > 0 {
			return vi.Len, nil
		}
	}
	inst, err := x86asm.Decode(buf, mode)
	if err != nil {
		return 0, nil
	}
	return inst.Len, &inst
}

var vexMemSize = map[int]string{1: "byte", 2: "word", 4: "dword", 8: "qword", 10: "tbyte", 16: "xmmword", 32: "ymmword", 64: "zmmword"}

// formatVEX prints a VEX or EVEX instruction as formatInst prints the rest:
// no space after commas, `h` numbers, RIP-relative operands as absolute
// addresses, EVEX masks as {k1}{z} on the first operand, broadcasts {1to16}.
func (c *Ctx) formatVEX(in disasm.Inst, pc uint64) string {
	var ops []string
	for i, a := range in.Args {
		var s string
		switch a := a.(type) {
		case disasm.Reg:
			s = string(a)
		case disasm.Imm:
			s = masmHex(uint64(a))
		case disasm.Mem:
			s = c.vexMem(a, pc+uint64(in.Len))
		}
		if i == 0 && in.Mask != 0 {
			s += fmt.Sprintf("{k%d}", in.Mask)
		}
		if i == 0 && in.Zero {
			s += "{z}"
		}
		ops = append(ops, s)
	}
	if in.Rounding != "" { // before an immediate, as Intel writes it
		if _, ok := in.Args[len(in.Args)-1].(disasm.Imm); ok && len(ops) > 1 {
			ops = append(ops[:len(ops)-1], in.Rounding, ops[len(ops)-1])
		} else {
			ops = append(ops, in.Rounding)
		}
	}
	if len(ops) == 0 {
		return in.Op
	}
	return in.Op + " " + strings.Join(ops, ",")
}

// vexMem prints a memory operand: `ymmword ptr [rax+rcx*4+20h]`, with a
// RIP-relative one as its target `[module!sym (00007fff`97c01234)]`.
func (c *Ctx) vexMem(m disasm.Mem, next uint64) string {
	var b strings.Builder
	if sz, ok := vexMemSize[m.Size]; ok {
		b.WriteString(sz + " ptr ")
	}
	if m.Seg != "" {
		b.WriteString(m.Seg + ":")
	}
	b.WriteString("[")
	switch {
	case m.Base == "rip":
		dest := next + uint64(m.Disp)
		where := c.ptr(dest)
		if sym := c.symbolize(dest); sym != "" {
			where = sym + " (" + where + ")"
		}
		b.WriteString(where)
	default:
		sep := ""
		if m.Base != "" {
			b.WriteString(m.Base)
			sep = "+"
		}
		if m.Index != "" {
			fmt.Fprintf(&b, "%s%s*%d", sep, m.Index, m.Scale)
			sep = "+"
		}
		switch {
		case m.Disp < 0 && sep != "":
			b.WriteString("-" + masmHex(uint64(-m.Disp)))
		case m.Disp != 0 || sep == "":
			if sep == "" {
				b.WriteString(masmHex(uint64(m.Disp) & 0xffffffff))
			} else {
				b.WriteString(sep + masmHex(uint64(m.Disp)))
			}
		}
	}
	b.WriteString("]")
	if m.Bcst != 0 {
		fmt.Fprintf(&b, "{1to%d}", m.Bcst)
	}
	return b.String()
}

var hexNum = regexp.MustCompile(`0x[0-9a-f]+`)
var barePtr = regexp.MustCompile(`(^|,)ptr \[`)
var ripRel = regexp.MustCompile(`\[rip[+-]0x[0-9a-f]+\]`)

// formatInst turns x86asm's Intel syntax into WinDbg's flavour: no space
// after commas, `28h` numbers, branch targets as `symbol (address)`.
func (c *Ctx) formatInst(inst x86asm.Inst, pc uint64) string {
	if rel, ok := inst.Args[0].(x86asm.Rel); ok && inst.Args[1] == nil {
		dest := pc + uint64(inst.Len) + uint64(int64(rel))
		if c.S.Target.Arch() == target.ArchX86 {
			dest &= 0xffffffff
		}
		mn := strings.ToLower(inst.Op.String())
		if sym := c.symbolize(dest); sym != "" {
			return fmt.Sprintf("%s %s (%s)", mn, sym, c.ptr(dest))
		}
		return fmt.Sprintf("%s %s", mn, c.ptr(dest))
	}
	if inst.Op == x86asm.INT && inst.Args[0] == x86asm.Imm(3) || inst.Op.String() == "INT3" {
		return "int 3"
	}
	s := x86asm.IntelSyntax(inst, pc, nil)
	// Negative immediates print as the operand-sized value: 0FFFFFFFFh for -1.
	for _, a := range inst.Args {
		if imm, ok := a.(x86asm.Imm); ok && imm < 0 {
			bits := inst.DataSize
			if bits == 0 || bits > 64 {
				bits = 64
			}
			v := uint64(imm)
			if bits < 64 {
				v &= 1<<uint(bits) - 1
			}
			lit := fmt.Sprintf("-%#x", -int64(imm))
			if i := strings.LastIndex(s, lit); i >= 0 {
				s = s[:i] + masmHex(v) + s[i+len(lit):]
			}
		}
	}
	s = strings.ReplaceAll(s, ", ", ",")
	s = strings.ReplaceAll(s, " {", "{")   // EVEX masks: zmm1{k1}{z}
	s = barePtr.ReplaceAllString(s, "$1[") // lea has no operand size
	for _, a := range inst.Args {
		if mem, ok := a.(x86asm.Mem); ok && mem.Base == x86asm.RIP && mem.Index == 0 {
			dest := pc + uint64(inst.Len) + uint64(mem.Disp)
			where := c.ptr(dest)
			if sym := c.symbolize(dest); sym != "" {
				where = sym + " (" + where + ")"
			}
			s = ripRel.ReplaceAllString(s, "["+where+"]")
		}
	}
	s = strings.ReplaceAll(s, "[]", "[0]") // an absolute address of 0
	s = hexNum.ReplaceAllStringFunc(s, func(h string) string {
		v, err := strconv.ParseUint(h[2:], 16, 64)
		if err != nil {
			return h
		}
		return masmHex(v)
	})
	return s
}

// masmHex writes a number as the disassembler does: decimal digits below 10,
// otherwise hex with an `h` suffix and a leading 0 before a letter.
func masmHex(v uint64) string {
	if v < 10 {
		return strconv.FormatUint(v, 10)
	}
	h := strings.ToUpper(strconv.FormatUint(v, 16))
	if h[0] >= 'A' {
		h = "0" + h
	}
	return h + "h"
}
