package commands

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/engine/target"
)

func init() {
	Register(&Command{Name: ".dumpdebug", Family: "modules and target", Syntax: ".dumpdebug",
		Summary: "show the dump file's header and every stream in it, known or not", Run: cmdDumpDebug})
}

func cmdDumpDebug(c *Ctx, inv *Invocation) error {
	l := c.S.Target.Layout()
	if l == nil {
		return fmt.Errorf(".dumpdebug needs a user-mode minidump")
	}
	c.Println("----- " + l.Title)
	c.Println()
	if l.Kernel {
		c.Println(l.HeaderName + ":")
		for _, f := range l.Header {
			if f.Bit > 0xffffffff || strings.Contains(f.Name, "Parameter") || strings.HasPrefix(f.Name, "Ps") || strings.HasSuffix(f.Name, "Base") || f.Name == "KdDebuggerDataBlock" || f.Name == "RequiredDumpSpace" {
				c.Printf("%-20s%s\n", f.Name, c.ptr(f.Bit))
			} else {
				c.Printf("%-20s%08x\n", f.Name, f.Bit)
			}
		}
		c.Println()
		c.Println("Physical Memory Description:")
		c.Printf("Number of runs: %d\n", len(l.Runs))
		c.Println("          FileOffset           Start Address           Length")
		for _, r := range l.Runs {
			c.Printf("    %016x        %016x        %016x\n", r[0], r[1], r[2])
		}
		if l.RunsErr != "" {
			c.Errorf("%s", target.Sanitize(l.RunsErr))
		}
		return nil
	}
	c.Println("MINIDUMP_HEADER:")
	c.Printf("Version         %X (%X)\n", l.Version&0xffff, l.Version>>16)
	c.Printf("NumberOfStreams %d\n", l.Streams)
	c.Printf("Flags           %X\n", l.Flags)
	for _, f := range l.FlagNames {
		c.Printf("                %04X %s\n", f.Bit, f.Name)
	}
	c.Println()
	c.Println("Streams:")
	for i, d := range l.StreamsTable {
		c.Printf("Stream %d: type %s (%d), size %08X, RVA %08X\n", i, d.Name, d.Type, d.Size, d.RVA)
		if d.Summary != "" {
			c.Printf("  %s\n", d.Summary)
		}
	}
	return nil
}
