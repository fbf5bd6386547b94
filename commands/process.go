package commands

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"ntdbg/engine"
)

func init() {
	Register(&Command{Name: "!teb", Family: "process structures", Syntax: "!teb [Address]",
		Summary: "show a thread environment block (current thread by default)",
		Help:    "Fields come from the documented TEB layout until PDB type info for ntdll is loaded.", Run: cmdTeb})
	Register(&Command{Name: "!peb", Family: "process structures", Syntax: "!peb [Address]",
		Summary: "show the process environment block, its loader lists and parameters", Run: cmdPeb})
}

// layout holds the offsets of the TEB/PEB fields we print, per pointer size:
// the public NT_TIB/TEB/PEB layouts (formats-spec §6.7), overridden by
// ntdll's type information whenever its PDB is found.
type layout struct {
	tebClientID, tebRpc, tebTLS, tebPeb, tebLastErr, tebOwnedLocks, tebLastStatus, tebHardError uint64
	pebImageBase, pebLdr, pebParams, pebSubSys, pebHeap, pebGlobalFlag                          uint64
	ldrLists                                                                                    [3]uint64 // load, memory, init order
	ppCurDir, ppDllPath, ppImage, ppCmdLine, ppEnv, ppTitle                                     uint64
	entBase, entFullName, entStamp, entMemLinks                                                 uint64
}

var layout64 = layout{
	tebClientID: 0x40, tebRpc: 0x50, tebTLS: 0x58, tebPeb: 0x60, tebLastErr: 0x68, tebOwnedLocks: 0x6C, tebLastStatus: 0x1250, tebHardError: 0x16B0,
	pebImageBase: 0x10, pebLdr: 0x18, pebParams: 0x20, pebSubSys: 0x28, pebHeap: 0x30, pebGlobalFlag: 0xBC,
	ldrLists: [3]uint64{0x10, 0x20, 0x30},
	ppCurDir: 0x38, ppDllPath: 0x50, ppImage: 0x60, ppCmdLine: 0x70, ppEnv: 0x80, ppTitle: 0xB0,
	entBase: 0x30, entFullName: 0x48, entStamp: 0x80, entMemLinks: 0x10,
}

var layout32 = layout{
	tebClientID: 0x20, tebRpc: 0x28, tebTLS: 0x2C, tebPeb: 0x30, tebLastErr: 0x34, tebOwnedLocks: 0x38, tebLastStatus: 0xBF4, tebHardError: 0xF28,
	pebImageBase: 0x8, pebLdr: 0xC, pebParams: 0x10, pebSubSys: 0x14, pebHeap: 0x18, pebGlobalFlag: 0x68,
	ldrLists: [3]uint64{0xC, 0x14, 0x1C},
	ppCurDir: 0x24, ppDllPath: 0x30, ppImage: 0x38, ppCmdLine: 0x40, ppEnv: 0x48, ppTitle: 0x70,
	entBase: 0x18, entFullName: 0x24, entStamp: 0x44, entMemLinks: 0x8,
}

// layout starts from the documented offsets and replaces each one that
// ntdll's PDB defines, found by field name in its type records.
func (c *Ctx) layout() *layout {
	l := layout32
	if c.S.Target.Arch() == engine.ArchAMD64 {
		l = layout64
	}
	if c.Symbols == nil {
		return &l
	}
	overlay := func(typ string, fields map[string]*uint64) {
		ref, err := c.Symbols.FindType("ntdll", typ)
		if err != nil {
			return
		}
		for path, dst := range fields {
			if f, err := ref.Field(path); err == nil {
				*dst = f.Offset
			}
		}
	}
	overlay("_TEB", map[string]*uint64{"ClientId": &l.tebClientID, "ActiveRpcHandle": &l.tebRpc,
		"ThreadLocalStoragePointer": &l.tebTLS, "ProcessEnvironmentBlock": &l.tebPeb, "LastErrorValue": &l.tebLastErr,
		"CountOfOwnedCriticalSections": &l.tebOwnedLocks, "LastStatusValue": &l.tebLastStatus, "HardErrorMode": &l.tebHardError})
	overlay("_PEB", map[string]*uint64{"ImageBaseAddress": &l.pebImageBase, "Ldr": &l.pebLdr, "ProcessParameters": &l.pebParams,
		"SubSystemData": &l.pebSubSys, "ProcessHeap": &l.pebHeap, "NtGlobalFlag": &l.pebGlobalFlag})
	overlay("_PEB_LDR_DATA", map[string]*uint64{"InLoadOrderModuleList": &l.ldrLists[0], "InMemoryOrderModuleList": &l.ldrLists[1],
		"InInitializationOrderModuleList": &l.ldrLists[2]})
	overlay("_RTL_USER_PROCESS_PARAMETERS", map[string]*uint64{"CurrentDirectory": &l.ppCurDir, "DllPath": &l.ppDllPath,
		"ImagePathName": &l.ppImage, "CommandLine": &l.ppCmdLine, "Environment": &l.ppEnv, "WindowTitle": &l.ppTitle})
	overlay("_LDR_DATA_TABLE_ENTRY", map[string]*uint64{"DllBase": &l.entBase, "FullDllName": &l.entFullName,
		"TimeDateStamp": &l.entStamp, "InMemoryOrderLinks": &l.entMemLinks})
	return &l
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
	l := c.layout()
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
	c.Printf("    %-22s%s . %s\n", "ClientId:", c.pfield(teb+l.tebClientID), c.pfield(teb+l.tebClientID+ps))
	c.Printf("    %-22s%s\n", "RpcHandle:", c.pfield(teb+l.tebRpc))
	c.Printf("    %-22s%s\n", "Tls Storage:", c.pfield(teb+l.tebTLS))
	c.Printf("    %-22s%s\n", "PEB Address:", c.pfield(teb+l.tebPeb))
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
	c.Printf("    %-22s%s\n", "LastErrorValue:", u32(l.tebLastErr, false))
	c.Printf("    %-22s%s\n", "LastStatusValue:", u32(l.tebLastStatus, true))
	c.Printf("    %-22s%s\n", "Count Owned Locks:", u32(l.tebOwnedLocks, false))
	c.Printf("    %-22s%s\n", "HardErrorMode:", u32(l.tebHardError, false))
	return nil
}

// readUnicodeString reads a UNICODE_STRING at addr; ok is false when either
// the header or the buffer is missing from the dump.
func (c *Ctx) readUnicodeString(addr uint64) (string, bool) {
	n, err := c.S.ReadUint(addr, 2)
	if err != nil {
		return "", false
	}
	bufOff := uint64(4)
	if c.S.Target.Arch() == engine.ArchAMD64 {
		bufOff = 8
	}
	buf, err := c.S.ReadPointer(addr + bufOff)
	if err != nil {
		return "", false
	}
	raw := make([]byte, n&^1)
	if err := engine.ReadFull(c.S.Target.Memory(), raw, buf); err != nil {
		return "", false
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	return engine.Sanitize(string(utf16.Decode(u))), true
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
		if _, ok := err.(*engine.MemoryError); ok {
			return fmt.Errorf("PEB address not available: the TEB of this thread is not in the dump")
		}
		return err
	}
	l := c.layout()
	c.Printf("PEB at %s\n", c.plainPtr(peb))
	head := make([]byte, 4)
	if err := engine.ReadFull(c.S.Target.Memory(), head, peb); err != nil {
		c.Printf("error 1 InitTypeRead( nt!_PEB at %s)\n", c.plainPtr(peb))
		return nil
	}
	c.Printf("    InheritedAddressSpace:    %s\n", yesNo(uint64(head[0])))
	c.Printf("    ReadImageFileExecOptions: %s\n", yesNo(uint64(head[1])))
	c.Printf("    BeingDebugged:            %s\n", yesNo(uint64(head[2])))
	c.Printf("    ImageBaseAddress:         %s\n", c.pfield(peb+l.pebImageBase))
	if gf, err := c.S.ReadUint(peb+l.pebGlobalFlag, 4); err == nil {
		c.Printf("    NtGlobalFlag:             %x\n", gf)
	}
	ldr, err := c.S.ReadPointer(peb + l.pebLdr)
	if err != nil {
		c.Printf("    Ldr                       %s\n", c.pfield(peb+l.pebLdr))
	} else {
		c.Printf("    Ldr                       %s\n", c.plainPtr(ldr))
		if init, err := c.S.ReadUint(ldr+4, 1); err == nil {
			c.Printf("    Ldr.Initialized:          %s\n", yesNo(init))
			ps := uint64(c.S.Target.Arch().PtrSize())
			labels := []string{"Ldr.InInitializationOrderModuleList:", "Ldr.InLoadOrderModuleList:          ", "Ldr.InMemoryOrderModuleList:        "}
			offs := []uint64{l.ldrLists[2], l.ldrLists[0], l.ldrLists[1]}
			for i := range labels {
				c.Printf("    %s %s . %s\n", labels[i], c.pfield(ldr+offs[i]), c.pfield(ldr+offs[i]+ps))
			}
			c.pebModules(ldr + l.ldrLists[1])
		} else {
			c.Printf("    Ldr.Initialized:          <unreadable: PEB_LDR_DATA is not in the dump>\n")
		}
	}
	c.Printf("    SubSystemData:     %s\n", c.pfield(peb+l.pebSubSys))
	c.Printf("    ProcessHeap:       %s\n", c.pfield(peb+l.pebHeap))
	pp, err := c.S.ReadPointer(peb + l.pebParams)
	c.Printf("    ProcessParameters: %s\n", c.pfield(peb+l.pebParams))
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
	c.Printf("    CurrentDirectory:  '%s'\n", str(l.ppCurDir))
	c.Printf("    WindowTitle:  '%s'\n", str(l.ppTitle))
	c.Printf("    ImageFile:    '%s'\n", str(l.ppImage))
	c.Printf("    CommandLine:  '%s'\n", str(l.ppCmdLine))
	c.Printf("    DllPath:      '%s'\n", str(l.ppDllPath))
	c.Printf("    Environment:  %s\n", c.pfield(pp+l.ppEnv))
	return nil
}

// pebModules walks InMemoryOrderModuleList and prints the module table.
func (c *Ctx) pebModules(head uint64) {
	l := c.layout()
	c.Println("                    Base TimeStamp                     Module")
	link, err := c.S.ReadPointer(head)
	for i := 0; err == nil && link != head && link != 0 && i < 4096; i++ {
		ent := link - l.entMemLinks
		base, e1 := c.S.ReadPointer(ent + l.entBase)
		stamp, e2 := c.S.ReadUint(ent+l.entStamp, 4)
		name, ok := c.readUnicodeString(ent + l.entFullName)
		if e1 != nil || e2 != nil || !ok {
			break
		}
		t := c.localTime(time.Unix(int64(stamp), 0)).Format("Jan 02 15:04:05 2006")
		c.Printf("%24x %08x %s %s\n", base, stamp, t, name)
		link, err = c.S.ReadPointer(link)
	}
}
