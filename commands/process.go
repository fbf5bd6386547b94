package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

func init() {
	Register(&Command{Name: "!teb", Family: "process structures", Syntax: "!teb [Address]",
		Summary: "show a thread environment block (current thread by default)",
		Help:    "Fields come from the documented TEB layout until PDB type info for ntdll is loaded.", Run: cmdTeb})
	Register(&Command{Name: "!peb", Family: "process structures", Syntax: "!peb [Address]",
		Summary: "show the process environment block, its loader lists and parameters", Run: cmdPeb})
}

// field reads a pointer-sized value and formats it, or question marks.
func (c *Ctx) pfield(addr uint64) string {
	v, err := c.S.ReadPointer(addr)
	if err != nil {
		return strings.Repeat("?", 2*c.S.Target.Arch().PtrSize())
	}
	return c.plainPtr(v)
}

func (c *Ctx) addrArg(inv *Invocation, def func() (uint64, error)) (uint64, error) {
	if strings.TrimSpace(inv.Args) == "" {
		return def()
	}
	v, err := c.Eval(inv.Args)
	return v, shiftErr(err, inv.ArgsOff)
}

func cmdTeb(c *Ctx, inv *Invocation) error {
	teb, err := c.addrArg(inv, func() (uint64, error) {
		th, err := c.S.Thread()
		if err != nil {
			return 0, err
		}
		return th.Teb, nil
	})
	if err != nil {
		return err
	}
	l := c.S.Layout()
	ps := uint64(c.S.Target.Arch().PtrSize())
	c.Printf("TEB at %s\n", c.plainPtr(teb))
	if _, err := c.S.ReadPointer(teb); err != nil {
		c.Printf("error InitTypeRead( TEB )...\n")
		return nil
	}
	names := []string{"ExceptionList", "StackBase", "StackLimit", "SubSystemTib", "FiberData", "ArbitraryUserPointer", "Self"}
	for i, n := range names {
		c.Printf("    %-22s%s\n", n+":", c.pfield(teb+uint64(i)*ps))
	}
	c.Printf("    %-22s%s\n", "EnvironmentPointer:", c.pfield(teb+7*ps))
	c.Printf("    %-22s%s . %s\n", "ClientId:", c.pfield(teb+l.TebClientID), c.pfield(teb+l.TebClientID+ps))
	c.Printf("    %-22s%s\n", "RpcHandle:", c.pfield(teb+l.TebRpc))
	c.Printf("    %-22s%s\n", "Tls Storage:", c.pfield(teb+l.TebTLS))
	c.Printf("    %-22s%s\n", "PEB Address:", c.pfield(teb+l.TebPeb))
	u32 := func(off uint64, hex bool) string {
		v, err := c.S.ReadUint(teb+off, 4)
		if err != nil {
			return "????????"
		}
		if hex {
			return fmt.Sprintf("%x", v)
		}
		return fmt.Sprintf("%d", v)
	}
	c.Printf("    %-22s%s\n", "LastErrorValue:", u32(l.TebLastErr, false))
	c.Printf("    %-22s%s\n", "LastStatusValue:", u32(l.TebLastStatus, true))
	c.Printf("    %-22s%s\n", "Count Owned Locks:", u32(l.TebOwnedLocks, false))
	c.Printf("    %-22s%s\n", "HardErrorMode:", u32(l.TebHardError, false))
	return nil
}

// readUnicodeString reads a UNICODE_STRING at addr; ok is false when either
// the header or the buffer is missing from the dump.
func (c *Ctx) readUnicodeString(addr uint64) (string, bool) {
	l := c.S.Layout()
	n, err := c.S.ReadUint(addr+l.UsLength, 2)
	if err != nil {
		return "", false
	}
	buf, err := c.S.ReadPointer(addr + l.UsBuffer)
	if err != nil {
		return "", false
	}
	s, err := types.ReadUTF16(c.S.Mem(), buf, n)
	if err != nil {
		return "", false
	}
	return target.Sanitize(s), true
}

func yesNo(v uint64) string {
	if v != 0 {
		return "Yes"
	}
	return "No"
}

func cmdPeb(c *Ctx, inv *Invocation) error {
	peb, err := c.addrArg(inv, c.S.PEB)
	if err != nil {
		if _, ok := err.(*mem.Error); ok {
			return fmt.Errorf("PEB address not available: the TEB of this thread is not in the dump")
		}
		return err
	}
	l := c.S.Layout()
	c.Printf("PEB at %s\n", c.plainPtr(peb))
	head := make([]byte, 4)
	if err := mem.ReadFull(c.S.Mem(), head, peb); err != nil {
		c.Printf("error 1 InitTypeRead( nt!_PEB at %s)\n", c.plainPtr(peb))
		return nil
	}
	c.Printf("    InheritedAddressSpace:    %s\n", yesNo(uint64(head[0])))
	c.Printf("    ReadImageFileExecOptions: %s\n", yesNo(uint64(head[1])))
	c.Printf("    BeingDebugged:            %s\n", yesNo(uint64(head[2])))
	c.Printf("    ImageBaseAddress:         %s\n", c.pfield(peb+l.PebImageBase))
	if gf, err := c.S.ReadUint(peb+l.PebGlobalFlag, 4); err == nil {
		c.Printf("    NtGlobalFlag:             %x\n", gf)
	}
	if off, ok := c.pebGlobalFlag2(); ok {
		if gf, err := c.S.ReadUint(peb+off, 4); err == nil {
			c.Printf("    NtGlobalFlag2:            %x\n", gf)
		}
	}
	ldr, err := c.S.ReadPointer(peb + l.PebLdr)
	if err != nil {
		c.Printf("    Ldr                       %s\n", c.pfield(peb+l.PebLdr))
	} else {
		c.Printf("    Ldr                       %s\n", c.plainPtr(ldr))
		if init, err := c.S.ReadUint(ldr+4, 1); err == nil {
			c.Printf("    Ldr.Initialized:          %s\n", yesNo(init))
			ps := uint64(c.S.Target.Arch().PtrSize())
			labels := []string{"Ldr.InInitializationOrderModuleList:", "Ldr.InLoadOrderModuleList:          ", "Ldr.InMemoryOrderModuleList:        "}
			offs := []uint64{l.LdrLists[2], l.LdrLists[0], l.LdrLists[1]}
			for i := range labels {
				c.Printf("    %s %s . %s\n", labels[i], c.pfield(ldr+offs[i]), c.pfield(ldr+offs[i]+ps))
			}
			c.pebModules(ldr + l.LdrLists[1])
		} else {
			c.Printf("    Ldr.Initialized:          <unreadable: PEB_LDR_DATA is not in the dump>\n")
		}
	}
	c.Printf("    SubSystemData:     %s\n", c.pfield(peb+l.PebSubSys))
	c.Printf("    ProcessHeap:       %s\n", c.pfield(peb+l.PebHeap))
	pp, err := c.S.ReadPointer(peb + l.PebParams)
	c.Printf("    ProcessParameters: %s\n", c.pfield(peb+l.PebParams))
	if err != nil {
		return nil
	}
	str := func(off uint64) string {
		s, ok := c.readUnicodeString(pp + off)
		if !ok {
			return "< Name not readable >"
		}
		return s
	}
	c.Printf("    CurrentDirectory:  '%s'\n", str(l.PpCurDir))
	c.Printf("    WindowTitle:  '%s'\n", str(l.PpTitle))
	c.Printf("    ImageFile:    '%s'\n", str(l.PpImage))
	c.Printf("    CommandLine:  '%s'\n", str(l.PpCmdLine))
	c.Printf("    DllPath:      '%s'\n", str(l.PpDllPath))
	c.Printf("    Environment:  %s\n", c.pfield(pp+l.PpEnv))
	return nil
}

// pebGlobalFlag2 is where _PEB.NtGlobalFlag2 is: from ntdll's _PEB when
// its type is loaded, else from the PEB layout of Windows 10 1809 (build
// 17763) and later, which added the field (0x7c4 on x64, 0x478 on x86).
// An older PEB has no such field, and !peb has no such line.
func (c *Ctx) pebGlobalFlag2() (uint64, bool) {
	if ref, err := c.S.Symbols.FindType("ntdll", "_PEB"); err == nil {
		if f, err := ref.Field("NtGlobalFlag2"); err == nil {
			return f.Offset, true
		}
		if _, err := ref.Field("NtGlobalFlag"); err == nil {
			return 0, false // the PEB type is there and has no NtGlobalFlag2
		}
	}
	if c.S.Target.System().Build < 17763 {
		return 0, false
	}
	if c.S.Target.Arch().PtrSize() == 8 {
		return 0x7c4, true
	}
	return 0x478, true
}

// pebModules walks InMemoryOrderModuleList and prints the module table.
func (c *Ctx) pebModules(head uint64) {
	l := c.S.Layout()
	c.Println("                    Base TimeStamp                     Module")
	// The list is walked with a bound and a cycle check; a broken link ends
	// the table after the modules read so far, as WinDbg's does.
	links, _ := types.ListEntries(c.S.Mem(), c.S.Target.Arch().PtrSize(), head, 4096)
	for _, link := range links {
		ent := link - l.EntMemLinks
		base, e1 := c.S.ReadPointer(ent + l.EntBase)
		stamp, e2 := c.S.ReadUint(ent+l.EntStamp, 4)
		name, ok := c.readUnicodeString(ent + l.EntFullName)
		if e1 != nil || e2 != nil || !ok {
			break
		}
		t := c.localTime(time.Unix(int64(stamp), 0)).Format("Jan 02 15:04:05 2006")
		c.Printf("%24x %08x %s %s\n", base, stamp, t, name)
	}
}
