package commands

import (
	"fmt"
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
