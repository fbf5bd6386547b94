package commands

import (
	"fmt"

	"ntdbg/dumpfmt/minidump"
	"ntdbg/engine"
)

func init() {
	Register(&Command{Name: ".dumpdebug", Family: "modules and target", Syntax: ".dumpdebug",
		Summary: "show the dump file's header and every stream in it, known or not", Run: cmdDumpDebug})
}

var dumpFlagNames = []string{"MiniDumpWithDataSegs", "MiniDumpWithFullMemory", "MiniDumpWithHandleData", "MiniDumpFilterMemory",
	"MiniDumpScanMemory", "MiniDumpWithUnloadedModules", "MiniDumpWithIndirectlyReferencedMemory", "MiniDumpFilterModulePaths",
	"MiniDumpWithProcessThreadData", "MiniDumpWithPrivateReadWriteMemory", "MiniDumpWithoutOptionalData",
	"MiniDumpWithFullMemoryInfo", "MiniDumpWithThreadInfo", "MiniDumpWithCodeSegs", "MiniDumpWithoutAuxiliaryState",
	"MiniDumpWithFullAuxiliaryState", "MiniDumpWithPrivateWriteCopyMemory", "MiniDumpIgnoreInaccessibleMemory",
	"MiniDumpWithTokenInformation", "MiniDumpWithModuleHeaders", "MiniDumpFilterTriage", "MiniDumpWithAvxXStateContext",
	"MiniDumpWithIptTrace", "MiniDumpScanInaccessiblePartialPages", "MiniDumpFilterWriteCombinedMemory"}

func cmdDumpDebug(c *Ctx, inv *Invocation) error {
	ut, ok := c.S.Target.(*engine.UserTarget)
	if !ok {
		return fmt.Errorf(".dumpdebug needs a user-mode minidump")
	}
	f := ut.File()
	h := f.Header
	c.Println("----- User Mini Dump Analysis")
	c.Println()
	c.Println("MINIDUMP_HEADER:")
	c.Printf("Version         %X (%X)\n", h.Version&0xffff, h.Version>>16)
	c.Printf("NumberOfStreams %d\n", h.NumberOfStreams)
	c.Printf("Flags           %X\n", h.Flags)
	for i, n := range dumpFlagNames {
		if h.Flags&(1<<i) != 0 {
			c.Printf("                %04X %s\n", uint64(1)<<i, n)
		}
	}
	c.Println()
	c.Println("Streams:")
	for i, d := range f.Directory {
		c.Printf("Stream %d: type %s (%d), size %08X, RVA %08X\n", i, minidump.StreamName(d.StreamType), d.StreamType, d.Location.DataSize, d.Location.Rva)
		switch d.StreamType {
		case minidump.StreamThreadList, minidump.StreamThreadExList:
			c.Printf("  %d threads\n", len(ut.Threads()))
		case minidump.StreamModuleList:
			c.Printf("  %d modules\n", len(ut.Modules()))
		case minidump.StreamUnloadedModuleList:
			c.Printf("  %d unloaded modules\n", len(ut.UnloadedModules()))
		case minidump.StreamMemoryList, minidump.StreamMemory64List:
			if r, err := f.MemoryRanges(); err == nil {
				c.Printf("  %d memory ranges in all\n", len(r))
			}
		case minidump.StreamHandleData:
			if hs, err := f.Handles(); err == nil {
				c.Printf("  %d descriptors\n", len(hs))
			}
		case minidump.StreamMemoryInfoList:
			if mi, err := f.MemoryInfos(); err == nil {
				c.Printf("  %d memory regions\n", len(mi))
			}
		}
	}
	return nil
}
