package commands

import (
	"fmt"

	"github.com/ntdbg/ntdbg/engine/target"
)

// kernelTarget is a target that is a kernel dump.
type kernelTarget interface {
	Kernel() *target.KernelDesc
}

// kernelDesc is the kernel dump's header description, nil for user dumps.
func kernelDesc(c *Ctx) *target.KernelDesc {
	if k, ok := c.S.Target.(kernelTarget); ok {
		return k.Kernel()
	}
	return nil
}

func init() {
	Register(&Command{Name: ".bugcheck", Family: "kernel", Syntax: ".bugcheck", Needs: Needs{Kernel: true},
		Summary: "show the bugcheck code and its four arguments", Run: cmdBugcheck})
}

func cmdBugcheck(c *Ctx, inv *Invocation) error {
	kd := kernelDesc(c)
	c.Printf("Bugcheck code %08X\n", kd.BugCheck)
	p := kd.BugCheckParams
	c.Printf("Arguments %s %s %s %s\n", c.ptr(p[0]), c.ptr(p[1]), c.ptr(p[2]), c.ptr(p[3]))
	return nil
}

// kernelBanner is what WinDbg prints on opening a kernel dump
// (docs/windbg-reference.md §1.2), up to the bugcheck analysis and the
// current location.
func (c *Ctx) kernelBanner(symPath, imagePath string) {
	t := c.S.Target
	kd := kernelDesc(c)
	c.Println(kd.DumpKind)
	if cm := t.System().Comment; cm != "" {
		c.Printf("Comment: '%s'\n", cm)
	}
	c.Println()
	c.symbolPathLine(symPath)
	c.Printf("Executable search path is: %s\n", imagePath)
	for _, l := range c.versionLines(true) {
		c.Println(l)
	}
	c.Println("Loading Kernel Symbols")
	c.Println(loadDots(len(t.Modules())))
	c.Println("Loading User Symbols")
	if len(t.UnloadedModules()) > 0 {
		c.Println("Loading unloaded module list")
		c.Println(loadDots(len(t.UnloadedModules())))
	}
	c.Println("*******************************************************************************")
	c.Println("*                                                                             *")
	c.Println("*                        Bugcheck Analysis                                    *")
	c.Println("*                                                                             *")
	c.Println("*******************************************************************************")
	c.Println()
	c.Println("Use !analyze -v to get detailed debugging information.")
	c.Println()
	p := kd.BugCheckParams
	c.Printf("BugCheck %X, {%x, %x, %x, %x}\n", kd.BugCheck, p[0], p[1], p[2], p[3])
	c.Println()
	// The short analysis WinDbg prints here: the followup frame's image.
	if regs, err := c.S.Registers(); err == nil {
		c.Println(c.probablyCausedBy(c.kernelFollowup(c.analysisFrames(regs))))
		c.Println()
		c.Println("Followup:     MachineOwner")
		c.Println("---------")
		c.Println()
	}
	if len(t.Threads()) > 0 {
		if err := c.showLocation(); err != nil {
			c.Println(err.Error())
		}
	}
}

// PromptText is WinDbg's prompt: `0:020> ` (process, thread) in user mode,
// `0: kd> ` (processor) in kernel mode.
func (c *Ctx) PromptText() string {
	if kernelDesc(c) != nil {
		return fmt.Sprintf("%s%d: kd> ", c.systemPrefix(), c.S.CurThread)
	}
	return fmt.Sprintf("%s0:%03d> ", c.systemPrefix(), c.S.CurThread)
}
