package commands

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/engine/disasm"
	"github.com/ntdbg/ntdbg/engine/target"
	"golang.org/x/arch/x86/x86asm"
)

func init() {
	Register(&Command{Name: "~", Family: "threads", Syntax: "~[Thread] [s | command]",
		Summary: "list threads; `~Ns` switches thread; `~*cmd` runs a command on every thread",
		Help: "Thread specifiers: ~N (index, decimal), ~. (current), ~# (event thread), ~* (all), ~~[tid] (OS thread id).\n" +
			"`~` lists threads with `.` marking the current one and `#` the event thread.\n" +
			"`~Ne cmd; cmd` runs the rest of the line in thread N's context (`~*e`: in every thread's); the current thread stays.",
		Run: func(c *Ctx, inv *Invocation) error { return nil }})
	Register(&Command{Name: "|", Family: "threads", Syntax: "|", Summary: "show the debugged process",
		Run: func(c *Ctx, inv *Invocation) error {
			c.Printf(".  0\tid: %x\texamine\tname: %s\n", c.pid(), c.processName())
			return nil
		}})
	Register(&Command{Name: "||", Family: "threads", Syntax: "|| [N] | ||N s",
		Summary: "list the session's systems (one per dump), or make system N current",
		Run:     cmdSystems})
}

// threadLine prints one `~` line: marker, index (%3d), two spaces, Id, Suspend, Teb.
func (c *Ctx) threadLine(i int) {
	th := c.S.Target.Threads()[i]
	marker := ' '
	switch {
	case i == c.S.CurThread:
		marker = '.'
	case i == c.S.EventThread:
		marker = '#'
	}
	name := ""
	if th.Name != "" {
		name = " \"" + th.Name + "\""
	}
	c.Printf("%c%3d  Id: %x.%x Suspend: %d Teb: %s Unfrozen%s\n", marker, i, c.pid(), th.ID, th.Suspend, c.ptr(th.Teb), name)
	if c.Recording() {
		c.Record("thread", c.threadRecord(i))
	}
}

// threadDetail prints the two lines an explicit thread specifier (~., ~#,
// ~*, ~N, ~~[tid]) adds under a thread's line when the dump has a
// ThreadInfoList: the start address, then priority, class and affinity.
func (c *Ctx) threadDetail(i int) {
	th := c.S.Target.Threads()[i]
	if th.Info == nil {
		return
	}
	start := c.ptr(th.Info.StartAddress)
	if sym := c.symbolize(th.Info.StartAddress); sym != "" {
		start = fmt.Sprintf("%s (%s)", sym, start)
	}
	c.Printf("      Start: %s\n", start)
	c.Printf("      Priority: %d  Priority class: %d  Affinity: %x\n", int32(th.Priority), th.PrioCls, th.Info.Affinity)
}

// showLocation prints the current location as after an event or `~Ns`: on x86
// the register block first, then `symbol:` and the disassembly line.
func (c *Ctx) showLocation() error {
	regs, err := c.S.Registers()
	if err != nil {
		return err
	}
	if regs.Arch == target.ArchX86 {
		c.printRegisters(regs)
		return nil
	}
	c.printLocation(regs)
	return nil
}

// printLocation prints `symbol:` (when known, with ` [file @ line]` when
// source lines are on) and the instruction at the registers' IP, followed
// for a memory operand by its effective address and value as WinDbg
// appends them (`ds:000001b7`28884000=????????`).
func (c *Ctx) printLocation(regs *target.Registers) {
	ip := regs.IP
	if sym := c.symbolize(ip); sym != "" {
		if l, ok := c.S.Symbols.Line(ip); ok && l.File != "" {
			sym += fmt.Sprintf(" [%s @ %d]", target.Sanitize(l.File), l.Line)
		}
		c.Printf("%s:\n", sym)
	}
	line, _ := c.disasmLine(ip)
	if ea := c.effectiveAddress(regs); ea != "" {
		line += " " + ea
	}
	c.Println(line)
}

// effectiveAddress is the `seg:address=value` note for the instruction at
// regs.IP when it reads or writes memory through an explicit operand: the
// address from the operand's base, index, scale and displacement (RIP
// relative: from the next instruction), the segment ss for a stack base and
// ds otherwise (x86 adds the selector: `ds:0023:00000000`), and the value
// of the operand's size, or ?s when the dump does not hold it. Segment
// overrides to fs or gs, lea and nop, and operands wider than 8 bytes get
// no note.
func (c *Ctx) effectiveAddress(regs *target.Registers) string {
	buf := make([]byte, 16)
	n, _ := c.S.Mem().ReadVirtual(buf, regs.IP)
	buf = buf[:n]
	x86 := regs.Arch == target.ArchX86
	mode := 64
	if x86 {
		mode = 32
	} else if _, err := disasm.Decode(buf); err == nil {
		return "" // VEX and EVEX: engine/disasm's operands
	}
	inst, err := x86asm.Decode(buf, mode)
	if err != nil || inst.Len == 0 {
		return ""
	}
	switch inst.Op {
	case x86asm.LEA, x86asm.NOP, x86asm.PREFETCHNTA, x86asm.PREFETCHT0, x86asm.PREFETCHT1, x86asm.PREFETCHT2, x86asm.PREFETCHW, x86asm.CLFLUSH:
		return ""
	}
	var mem x86asm.Mem
	found := false
	for _, a := range inst.Args {
		if m, ok := a.(x86asm.Mem); ok {
			mem, found = m, true
			break
		}
	}
	size := inst.MemBytes
	if !found || size <= 0 || size > 8 || size&(size-1) != 0 {
		return ""
	}
	reg := func(r x86asm.Reg) (uint64, bool) {
		switch {
		case r == 0:
			return 0, true
		case r == x86asm.RIP:
			return regs.IP + uint64(inst.Len), true
		case r == x86asm.EIP:
			return uint64(uint32(regs.IP + uint64(inst.Len))), true
		case r >= x86asm.RAX && r <= x86asm.R15:
			return regs.GPR[r-x86asm.RAX], true
		case r >= x86asm.EAX && r <= x86asm.R15L:
			return uint64(uint32(regs.GPR[r-x86asm.EAX])), true
		case r >= x86asm.AX && r <= x86asm.R15W:
			return uint64(uint16(regs.GPR[r-x86asm.AX])), true
		}
		return 0, false
	}
	base, ok1 := reg(mem.Base)
	index, ok2 := reg(mem.Index)
	if !ok1 || !ok2 {
		return ""
	}
	addr := base + index*uint64(mem.Scale) + uint64(mem.Disp)
	if inst.AddrSize == 32 {
		addr = uint64(uint32(addr))
	}
	seg, sel := "ds", regs.Ds
	switch mem.Segment {
	case x86asm.FS, x86asm.GS:
		return ""
	case x86asm.ES:
		seg, sel = "es", regs.Es
	case x86asm.CS:
		seg, sel = "cs", regs.Cs
	case x86asm.SS:
		seg, sel = "ss", regs.Ss
	case x86asm.DS:
	default:
		switch mem.Base {
		case x86asm.RSP, x86asm.RBP, x86asm.ESP, x86asm.EBP:
			seg, sel = "ss", regs.Ss
		}
	}
	val := strings.Repeat("?", 2*size)
	if b, ok := c.readBytes(addr, uint64(size)); ok {
		val = fmt.Sprintf("%0*x", 2*size, le(b))
	}
	if x86 {
		return fmt.Sprintf("%s:%04x:%08x=%s", seg, sel, uint32(addr), val)
	}
	return fmt.Sprintf("%s:%s=%s", seg, c.ptr(addr), val)
}
