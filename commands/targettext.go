package commands

import "github.com/ntdbg/ntdbg/engine/target"

// The words WinDbg uses for a target, built from what the target says of
// itself (the engine keeps no banner text).

// pid is the current process's id (0 when unknown).
func (c *Ctx) pid() uint32 {
	if c.S.Process == nil {
		return 0
	}
	return c.S.Process.ID
}

// processName is the current process's main image path.
func (c *Ctx) processName() string {
	if c.S.Process == nil {
		return ""
	}
	return c.S.Process.Image
}

// dumpKindLine is the banner's description of the dump.
func dumpKindLine(t target.Target) string {
	if k, ok := t.(kernelTarget); ok {
		return k.Kernel().DumpKind
	}
	if t.Kind() == target.UserFull {
		return "User Mini Dump File with Full Memory: Only application data is available"
	}
	return "User Mini Dump File: Only registers, stack and portions of memory are available"
}

// systemKind is the `||` description.
func systemKind(t target.Target) string {
	if k, ok := t.(kernelTarget); ok {
		return k.Kernel().SystemKind
	}
	full := t.Kind() == target.UserFull
	k := "User mini dump"
	if full {
		k = "Full memory user mini dump"
	}
	if t.Arch() == target.ArchAMD64 && !full {
		k = "64-bit " + k
	}
	return k
}
