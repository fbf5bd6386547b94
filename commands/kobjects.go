package commands

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
)

func init() {
	Register(&Command{Name: "!irp", Family: "kernel", Needs: Needs{Kernel: true}, Syntax: "!irp Address [Detail]",
		Summary: "display an IRP and its stack locations (the current one marked >)", Run: cmdIrp})
	Register(&Command{Name: "!prcb", Family: "kernel", Needs: Needs{Kernel: true}, Syntax: "!prcb [Processor]",
		Summary: "display a processor's KPRCB: its current, next and idle threads", Run: cmdPrcb})
	Register(&Command{Name: "!pcr", Family: "kernel", Needs: Needs{Kernel: true}, Syntax: "!pcr [Processor]",
		Summary: "display a processor's KPCR (basic form)", Run: cmdPcr})
	Register(&Command{Name: "!object", Family: "kernel", Needs: Needs{Kernel: true}, Syntax: "!object Address",
		Summary: "display an object's header: type, handle and pointer counts (basic form)", Run: cmdObject})
}

var irpMajor = []string{"IRP_MJ_CREATE", "IRP_MJ_CREATE_NAMED_PIPE", "IRP_MJ_CLOSE", "IRP_MJ_READ", "IRP_MJ_WRITE",
	"IRP_MJ_QUERY_INFORMATION", "IRP_MJ_SET_INFORMATION", "IRP_MJ_QUERY_EA", "IRP_MJ_SET_EA", "IRP_MJ_FLUSH_BUFFERS",
	"IRP_MJ_QUERY_VOLUME_INFORMATION", "IRP_MJ_SET_VOLUME_INFORMATION", "IRP_MJ_DIRECTORY_CONTROL",
	"IRP_MJ_FILE_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CONTROL", "IRP_MJ_INTERNAL_DEVICE_CONTROL", "IRP_MJ_SHUTDOWN",
	"IRP_MJ_LOCK_CONTROL", "IRP_MJ_CLEANUP", "IRP_MJ_CREATE_MAILSLOT", "IRP_MJ_QUERY_SECURITY", "IRP_MJ_SET_SECURITY",
	"IRP_MJ_POWER", "IRP_MJ_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CHANGE", "IRP_MJ_QUERY_QUOTA", "IRP_MJ_SET_QUOTA", "IRP_MJ_PNP"}

// maxIrpStacks bounds an IRP's stack count (a CHAR).
const maxIrpStacks = 64

func cmdIrp(c *Ctx, inv *Invocation) error {
	kc := c.kernel()
	args := strings.Fields(inv.Args)
	if len(args) == 0 {
		return fmt.Errorf("Usage: !irp Address [Detail]")
	}
	addr, err := c.Eval(args[0])
	if err != nil {
		return err
	}
	irp, err := kc.k.At("_IRP", addr)
	if err != nil {
		return err
	}
	ty, err := irp.Uint("Type")
	if err != nil {
		return fmt.Errorf("Unable to read the IRP at %s: %v", p16(addr), err)
	}
	if ty != 6 {
		return fmt.Errorf("IRP signature does not match, probably not an IRP (Type %d at %s)", ty, p16(addr))
	}
	count, _ := irp.Uint("StackCount")
	cur, _ := irp.Uint("CurrentLocation")
	curLoc, _ := irp.Ptr("Tail.Overlay.CurrentStackLocation")
	mdl, _ := irp.Ptr("MdlAddress")
	sysbuf, _ := irp.Ptr("AssociatedIrp.SystemBuffer")
	thread, _ := irp.Ptr("Tail.Overlay.Thread")
	count = min(count&0xff, maxIrpStacks)
	c.Printf("Irp is active with %d stacks %d is current (= 0x%s)\n", count, int8(cur), p16(curLoc))
	mdlText, bufText := " No Mdl:", " No System Buffer:"
	if mdl != 0 {
		mdlText = " Mdl=" + p16(mdl) + ":"
	}
	if sysbuf != 0 {
		bufText = " System buffer=" + p16(sysbuf) + ":"
	}
	c.Printf("%s%s Thread %s:  Irp stack trace.  \n", mdlText, bufText, p16(thread))
	c.Println("     cmd  flg cl Device   File     Completion-Context")
	irpRef, _ := kc.k.Types.FindType("nt", "_IRP")
	locRef, err := kc.k.Types.FindType("nt", "_IO_STACK_LOCATION")
	if err != nil || irpRef == nil {
		return err
	}
	first := addr + irpRef.TypeSize(irpRef.Index())
	size := locRef.TypeSize(locRef.Index())
	for i := uint64(1); i <= count; i++ {
		loc := locRef.ValueOf(kc.k.Mem, 8, first+(i-1)*size)
		u := func(p string) uint64 {
			f, err := loc.Field(p)
			if err != nil {
				return 0
			}
			v, _ := f.Uint()
			return v
		}
		major, minor, flags, ctl := u("MajorFunction"), u("MinorFunction"), u("Flags"), u("Control")
		name := fmt.Sprintf("%d", major)
		if major < uint64(len(irpMajor)) {
			name = irpMajor[major]
		}
		mark := " "
		if i == cur {
			mark = ">"
		}
		c.Printf("%s[%s(%x), N/A(%x)]\n", mark, name, major, minor)
		dev, file, routine, ctx := u("DeviceObject"), u("FileObject"), u("CompletionRoutine"), u("Context")
		var when []string
		for _, b := range []struct {
			bit  uint64
			text string
		}{{0x40, "Success"}, {0x80, "Error"}, {0x20, "Cancel"}, {0x01, "pending"}} {
			if ctl&b.bit != 0 {
				when = append(when, b.text)
			}
		}
		c.Printf("%13x %2x %s %s %s-%s    %s\n", flags, ctl, p16(dev), p16(file), p16(routine), p16(ctx), strings.Join(when, " "))
		driver := kc.driverName(dev)
		if routine != 0 {
			driver += " " + c.symbolize(routine)
		}
		c.Printf("           %s\n", driver)
		c.Printf("            Args: %s %s %s %s\n", p16(u("Parameters.Others.Argument1")), p16(u("Parameters.Others.Argument2")),
			p16(u("Parameters.Others.Argument3")), p16(u("Parameters.Others.Argument4")))
	}
	return nil
}

// driverName is a device's driver object name (\Driver\nsiproxy).
func (kc kctx) driverName(dev uint64) string {
	if dev == 0 {
		return ""
	}
	d, err := kc.k.At("_DEVICE_OBJECT", dev)
	if err != nil {
		return ""
	}
	drv, err := d.Ptr("DriverObject")
	if err != nil || drv == 0 {
		return ""
	}
	o, err := kc.k.At("_DRIVER_OBJECT", drv)
	if err != nil {
		return ""
	}
	f, err := o.Field("DriverName")
	if err != nil {
		return ""
	}
	s, err := f.UnicodeString()
	if err != nil {
		return ""
	}
	return target.Sanitize(s)
}

// prcbOf is processor n's KPRCB address, from nt!KiProcessorBlock.
func (kc kctx) prcbOf(n uint64) (uint64, error) {
	blk, ok := kc.c.S.Symbols.Lookup("nt!KiProcessorBlock")
	if !ok {
		return 0, fmt.Errorf("Unable to get KiProcessorBlock: NT symbols are incorrect, please fix symbols")
	}
	if n > 4096 {
		return 0, fmt.Errorf("Cannot get PRCB address for processor %d", n)
	}
	prcb, err := mem.ReadUint(kc.k.Mem, blk+8*n, 8)
	if err != nil || prcb == 0 {
		return 0, fmt.Errorf("Cannot get PRCB address for processor %d", n)
	}
	return prcb, nil
}

func (c *Ctx) processorArg(inv *Invocation) (uint64, error) {
	n := uint64(c.S.CurThread)
	if a := strings.TrimSpace(inv.Args); a != "" {
		v, err := c.Eval(a)
		if err != nil {
			return 0, err
		}
		n = v
	}
	return n, nil
}

func cmdPcr(c *Ctx, inv *Invocation) error {
	kc := c.kernel()
	n, err := c.processorArg(inv)
	if err != nil {
		return err
	}
	prcb, err := kc.prcbOf(n)
	if err != nil {
		return err
	}
	off, err := kc.k.Offset("_KPCR", "Prcb")
	if err != nil {
		return err
	}
	pcr, err := kc.k.At("_KPCR", prcb-off)
	if err != nil {
		return err
	}
	major, _ := pcr.Uint("MajorVersion")
	minor, _ := pcr.Uint("MinorVersion")
	c.Printf("KPCR for Processor %d at %s:\n", n, p16(prcb-off))
	c.Printf("    Major %d Minor %d\n", major, minor)
	row := func(label string, v uint64) { c.Printf("\t%19s: %s\n", label, p16(v)) }
	for _, f := range []struct{ label, path string }{{"NtTib.ExceptionList", "NtTib.ExceptionList"}, {"NtTib.StackBase", "NtTib.StackBase"},
		{"NtTib.StackLimit", "NtTib.StackLimit"}, {"NtTib.SubSystemTib", "NtTib.SubSystemTib"}, {"NtTib.Version", "NtTib.Version"},
		{"NtTib.UserPointer", "NtTib.ArbitraryUserPointer"}, {"NtTib.SelfTib", "NtTib.Self"}, {"SelfPcr", "Self"}} {
		if v, err := pcr.Uint(f.path); err == nil {
			row(f.label, v)
		}
	}
	row("Prcb", prcb)
	if v, err := pcr.Uint("Irql"); err == nil {
		row("Irql", v)
	}
	if o, err := kc.k.At("_KPRCB", prcb); err == nil {
		for _, f := range []string{"CurrentThread", "NextThread", "IdleThread"} {
			if v, err := o.Ptr(f); err == nil {
				row(f, v)
			}
		}
	}
	return nil
}

func cmdPrcb(c *Ctx, inv *Invocation) error {
	kc := c.kernel()
	n, err := c.processorArg(inv)
	if err != nil {
		return err
	}
	prcb, err := kc.prcbOf(n)
	if err != nil {
		return err
	}
	o, err := kc.k.At("_KPRCB", prcb)
	if err != nil {
		return err
	}
	cur, _ := o.Ptr("CurrentThread")
	next, _ := o.Ptr("NextThread")
	idle, _ := o.Ptr("IdleThread")
	num, _ := o.Uint("Number")
	c.Printf("PRCB for Processor %d at %s:\n", n, p16(prcb))
	c.Printf("Threads--  Current %s Next %s Idle %s\n", p16(cur), p16(next), p16(idle))
	c.Printf("Processor Index %d Number (0, %d) GroupSetMember %x\n", num, num, uint64(1)<<(num&63))
	return nil
}

func cmdObject(c *Ctx, inv *Invocation) error {
	kc := c.kernel()
	a := strings.TrimSpace(inv.Args)
	if a == "" || strings.HasPrefix(a, "\\") {
		return fmt.Errorf("!object: only the address form is supported (the object directory is not walked yet)")
	}
	addr, err := c.Eval(strings.Fields(a)[0])
	if err != nil {
		return err
	}
	body, err := kc.k.Offset("_OBJECT_HEADER", "Body")
	if err != nil {
		return err
	}
	hdr, err := kc.k.At("_OBJECT_HEADER", addr-body)
	if err != nil {
		return err
	}
	hc, err1 := hdr.Uint("HandleCount")
	pc, err2 := hdr.Uint("PointerCount")
	idx, err3 := hdr.Uint("TypeIndex")
	if err1 != nil || err2 != nil || err3 != nil {
		return fmt.Errorf("Could not read the object header at %s", p16(addr-body))
	}
	// Windows 10 scrambles TypeIndex with nt!ObHeaderCookie and the header's address.
	if ck, ok := c.S.Symbols.Lookup("nt!ObHeaderCookie"); ok {
		if cookie, err := mem.ReadUint(kc.k.Mem, ck, 1); err == nil {
			idx = (idx ^ cookie ^ ((addr-body)>>8)&0xff) & 0xff
		}
	}
	typeAddr, typeName := uint64(0), "Unknown"
	if tbl, ok := c.S.Symbols.Lookup("nt!ObTypeIndexTable"); ok {
		if ta, err := mem.ReadUint(kc.k.Mem, tbl+8*idx, 8); err == nil && ta != 0 {
			typeAddr = ta
			if to, err := kc.k.At("_OBJECT_TYPE", ta); err == nil {
				if f, err := to.Field("Name"); err == nil {
					if s, err := f.UnicodeString(); err == nil {
						typeName = target.Sanitize(s)
					}
				}
			}
		}
	}
	c.Printf("Object: %s  Type: (%s) %s\n", p16(addr), p16(typeAddr), typeName)
	c.Printf("    ObjectHeader: %s (new version)\n", p16(addr-body))
	c.Printf("    HandleCount: %d  PointerCount: %d\n", hc, int64(pc))
	return nil
}
