package commands

import (
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"github.com/ntdbg/ntdbg/engine/target"
)

func init() {
	Register(&Command{Name: "u", Family: "disassembly", Syntax: "u [Address [L Count | EndAddress]]",
		Summary: "disassemble forward (8 instructions by default)", Run: cmdU})
	Register(&Command{Name: "ub", Family: "disassembly", Syntax: "ub [Address [L Count]]",
		Summary: "disassemble the instructions before an address", Run: cmdUB})
	Register(&Command{Name: "uf", Family: "disassembly", Syntax: "uf Address",
		Summary: "disassemble a whole function (its .pdata extent, or its symbol's size)", Run: cmdUF})
}

// disasm prints count instructions from addr (or up to end), with a
// `symbol:` label before the first one and whenever the symbol changes.
func (c *Ctx) disasm(addr uint64, count int, end uint64) uint64 {
	lastFn := ""
	for i := 0; (count > 0 && i < count) || (end != 0 && addr < end); i++ {
		label := c.symbolize(addr)
		fn := label
		if j := strings.LastIndex(fn, "+0x"); j >= 0 {
			fn = fn[:j]
		}
		if i == 0 || (fn != lastFn && !strings.Contains(label, "+0x")) {
			if label != "" {
				c.Printf("%s:\n", label)
			}
		}
		lastFn = fn
		line, n := c.disasmLine(addr)
		c.Println(line)
		if !c.codeReadable(addr) {
			break // WinDbg's u stops at the first unreadable byte: one `??  ???` line
		}
		addr += uint64(n) // a huge count ends at the output budget or Ctrl-C, which say so
	}
	return addr
}

func (c *Ctx) startAddr(r rangeSpec) uint64 {
	if r.hasAddr {
		return r.addr
	}
	if c.hasLastU {
		return c.lastU
	}
	regs, err := c.S.Registers()
	if err != nil {
		return 0
	}
	return regs.IP
}

func cmdU(c *Ctx, inv *Invocation) error {
	r, err := c.parseRange(inv, 1)
	if err != nil {
		return err
	}
	start := c.startAddr(r)
	count, end := 8, uint64(0)
	if r.hasLen {
		if strings.Contains(strings.ToLower(inv.Args), "l") {
			count = int(r.count)
		} else {
			count, end = 0, start+r.count
		}
	}
	next := c.disasm(start, count, end)
	c.lastU, c.hasLastU = next, true
	return nil
}

// cmdUB finds a start before the address from which decoding lands exactly
// on it, preferring the containing function's start when symbols know it.
func cmdUB(c *Ctx, inv *Invocation) error {
	r, err := c.parseRange(inv, 1)
	if err != nil {
		return err
	}
	start := c.startAddr(r)
	count := 8
	if r.hasLen {
		count = int(r.count)
	}
	var best []uint64
	for back := uint64(1); back <= uint64(count)*15 && back <= start; back++ {
		var starts []uint64
		a := start - back
		for a < start && c.codeReadable(a) {
			starts = append(starts, a)
			_, n := c.disasmLine(a)
			a += uint64(n)
		}
		if a == start && len(starts) >= count {
			best = starts[len(starts)-count:]
			break
		}
		if a == start && len(starts) > len(best) {
			best = starts
		}
	}
	if len(best) == 0 {
		return fmt.Errorf("Memory access error at '%s'", c.ptr(start))
	}
	c.disasm(best[0], len(best), 0)
	return nil
}

func cmdUF(c *Ctx, inv *Invocation) error {
	addr, err := c.Eval(inv.Args)
	if err != nil {
		return shiftErr(err, inv.ArgsOff)
	}
	m := c.S.ModuleAt(addr)
	if m == nil {
		return fmt.Errorf("No code found, aborting")
	}
	start, end := uint64(0), uint64(0)
	if s, e, ok := c.S.Symbols.FunctionExtent(m, addr); ok {
		start, end = s, e
	}
	if start == 0 {
		for _, s := range c.S.Symbols.Match(m, func(string) bool { return true }) {
			if s.Addr <= addr && addr < s.Addr+uint64(s.Size) {
				start, end = s.Addr, s.Addr+uint64(s.Size)
			}
		}
	}
	if start == 0 {
		return fmt.Errorf("No code found, aborting")
	}
	return c.basicBlocks(start, end)
}

// codeReadable says whether the byte at addr can be read.
func (c *Ctx) codeReadable(addr uint64) bool {
	var b [1]byte
	n, _ := c.S.Mem().ReadVirtual(b[:], addr)
	return n == 1
}

// basicBlocks prints a function as uf does: its basic blocks, each after a
// blank line and a `symbol+offset:` label, in address order. Code that
// cannot be read ends the walk with one `??  ???` line, as u does; when the
// first byte cannot be read there is no function: No code found, aborting.
func (c *Ctx) basicBlocks(start, end uint64) error {
	if !c.codeReadable(start) {
		return fmt.Errorf("No code found, aborting")
	}
	mode := 64
	if c.S.Target.Arch() == target.ArchX86 {
		mode = 32
	}
	leaders := map[uint64]bool{start: true}
	branch := map[uint64]bool{} // conditional jumps: uf marks them `Branch`
	var addrs []uint64
	for a := start; a < end && len(addrs) < 0x10000; {
		if !c.codeReadable(a) {
			addrs = append(addrs, a)
			break
		}
		buf := make([]byte, 16)
		n, _ := c.S.Mem().ReadVirtual(buf, a)
		length, inst := c.instLen(buf[:n], mode)
		addrs = append(addrs, a)
		if length == 0 {
			a++
			continue
		}
		next := a + uint64(length)
		if inst == nil { // VEX and EVEX instructions do not branch
			a = next
			continue
		}
		switch inst.Op {
		case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JNE, x86asm.JG, x86asm.JGE,
			x86asm.JL, x86asm.JLE, x86asm.JO, x86asm.JNO, x86asm.JS, x86asm.JNS, x86asm.JP, x86asm.JNP, x86asm.JECXZ, x86asm.JRCXZ, x86asm.JCXZ,
			x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE:
			branch[a] = true
		}
		switch inst.Op {
		case x86asm.RET, x86asm.JMP, x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JNE, x86asm.JG, x86asm.JGE,
			x86asm.JL, x86asm.JLE, x86asm.JO, x86asm.JNO, x86asm.JS, x86asm.JNS, x86asm.JP, x86asm.JNP, x86asm.JECXZ, x86asm.JRCXZ, x86asm.JCXZ:
			leaders[next] = true
			if rel, ok := inst.Args[0].(x86asm.Rel); ok {
				if t := next + uint64(int64(rel)); t >= start && t < end {
					leaders[t] = true
				}
			}
		}
		a = next
	}
	for i, a := range addrs {
		if leaders[a] && i > 0 {
			c.Println()
		}
		src, hasSrc := c.S.Symbols.Line(a)
		if leaders[a] {
			if label := c.symbolize(a); label != "" {
				if hasSrc && src.File != "" {
					label += fmt.Sprintf(" [%s @ %d]", target.Sanitize(src.File), src.Line)
				}
				c.Printf("%s:\n", label)
			}
		}
		line, _ := c.disasmLine(a)
		if branch[a] {
			line += "  Branch"
		}
		if hasSrc {
			// With source lines loaded, uf leads each line with its line number.
			line = fmt.Sprintf("%5d %s", src.Line, line)
		}
		c.Println(line)
	}
	return nil
}
