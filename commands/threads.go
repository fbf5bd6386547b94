package commands

import (
	"fmt"

	"github.com/ntdbg/ntdbg/engine/target"
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
	Register(&Command{Name: "||", Family: "threads", Syntax: "||", Summary: "show the debugged system (the dump)",
		Run: func(c *Ctx, inv *Invocation) error {
			c.Printf(".  0 %s: %s\n", systemKind(c.S.Target), c.S.Target.Path())
			return nil
		}})
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
	c.printLocation(regs.IP)
	return nil
}

// printLocation prints `symbol:` (when known) and the instruction at ip.
func (c *Ctx) printLocation(ip uint64) {
	if sym := c.symbolize(ip); sym != "" {
		c.Printf("%s:\n", sym)
	}
	line, _ := c.disasmLine(ip)
	c.Println(line)
}
