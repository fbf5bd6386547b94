package commands

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ntdbg/ntdbg/engine/target"
)

func init() {
	Register(&Command{Name: "?", Family: "expressions and events", Syntax: "? Expression",
		Summary: "evaluate a MASM expression; `?` alone lists the commands",
		Help: "Numbers are hex unless prefixed (0x 0n 0t 0y); 64-bit numbers may be split by a backtick.\n" +
			"Operators: + - * / % & | ^ << >> >>> == != < > <= >=, unary - ~, parentheses;\n" +
			"functions poi() hi() low() by() wo() dwo() qwo(); @register, $pseudo, module names as their base.",
		Run: cmdEval})
	Register(&Command{Name: ".formats", Family: "expressions and events", Syntax: ".formats Expression",
		Summary: "show a number in every format", Run: cmdFormats})
	Register(&Command{Name: ".lastevent", Family: "expressions and events", Syntax: ".lastevent",
		Summary: "show the event stored in the dump", Run: cmdLastEvent})
	Register(&Command{Name: ".ecxr", Aliases: []string{".excr"}, Family: "expressions and events", Syntax: ".ecxr",
		Summary: "switch to the exception context record and show it", Run: cmdEcxr})
	Register(&Command{Name: ".exr", Family: "expressions and events", Syntax: ".exr -1 | .exr Address",
		Summary: "show the exception record (-1: the stored event)", Run: cmdExr})
	Register(&Command{Name: ".cxr", Family: "expressions and events", Syntax: ".cxr [Address]",
		Summary: "use the CONTEXT record at an address as the register context (no address: back to the thread's)", Run: cmdCxr})
}

func cmdEval(c *Ctx, inv *Invocation) error {
	args := strings.TrimSpace(inv.Args)
	if args == "" {
		c.printHelpPage()
		return nil
	}
	v, err := c.Eval(inv.Args)
	if err != nil {
		return shiftErr(err, inv.ArgsOff)
	}
	if c.S.Target.Arch() == target.ArchX86 {
		c.Printf("Evaluate expression: %d = %08x\n", int32(v), uint32(v))
		return nil
	}
	c.Printf("Evaluate expression: %d = %s\n", int64(v), c.ptr(v))
	return nil
}

// crtFloat formats like the Windows CRT's %g: six significant digits and a
// three-digit exponent.
func crtFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', 6, 64)
	if i := strings.IndexAny(s, "e"); i >= 0 {
		mant, exp := s[:i], s[i+1:]
		sign := exp[0]
		digits := exp[1:]
		for len(digits) < 3 {
			digits = "0" + digits
		}
		s = mant + "e" + string(sign) + digits
	}
	switch s {
	case "+Inf", "Inf":
		return "1.#INF"
	case "-Inf":
		return "-1.#INF"
	case "NaN":
		return "-1.#IND"
	}
	return s
}

func cmdFormats(c *Ctx, inv *Invocation) error {
	v, err := c.Eval(inv.Args)
	if err != nil {
		return shiftErr(err, inv.ArgsOff)
	}
	wide := c.S.Target.Arch().PtrSize() == 8
	nbytes := 4
	if wide {
		nbytes = 8
	}
	c.Println("Evaluate expression:")
	if wide {
		c.Printf("  Hex:     %s\n", c.ptr(v))
		c.Printf("  Decimal: %d\n", int64(v))
		c.Printf("  Decimal (unsigned) : %d\n", v)
		c.Printf("  Octal:   %022o\n", v)
	} else {
		v &= 0xffffffff
		c.Printf("  Hex:     %08x\n", v)
		c.Printf("  Decimal: %d\n", int32(v))
		c.Printf("  Decimal (unsigned) : %d\n", v)
		c.Printf("  Octal:   %011o\n", v)
	}
	var groups, chars []string
	for i := nbytes - 1; i >= 0; i-- {
		b := byte(v >> (8 * i))
		groups = append(groups, fmt.Sprintf("%08b", b))
		chars = append(chars, string(asciiChar(b, true)))
	}
	c.Printf("  Binary:  %s\n", strings.Join(groups, " "))
	c.Printf("  Chars:   %s\n", strings.Join(chars, ""))
	c.Printf("  Time:    %s\n", c.timeFormat(v))
	c.Printf("  Float:   low %s high %s\n", crtFloat(float64(math.Float32frombits(uint32(v)))), crtFloat(float64(math.Float32frombits(uint32(v>>32)))))
	c.Printf("  Double:  %s\n", crtFloat(math.Float64frombits(v)))
	return nil
}

// timeFormat reads a value as a time_t when it fits in 32 bits, else as a FILETIME.
func (c *Ctx) timeFormat(v uint64) string {
	if v <= 0xffffffff {
		if v == 0 {
			return "Thu Jan  1 00:00:00 1970"
		}
		return c.localTime(time.Unix(int64(v), 0)).Format("Mon Jan _2 15:04:05 2006")
	}
	const epochDiff = 116444736000000000 // 1601 → 1970 in 100 ns units
	if v < epochDiff || v > 0x7fffffffffffffff {
		return "***** Invalid FILETIME"
	}
	// Seconds, not a Duration: a Duration overflows past 2262.
	d := v - epochDiff
	t := time.Unix(int64(d/10_000_000), int64(d%10_000_000)*100)
	if t.Year() > 30827 {
		return "***** Invalid FILETIME"
	}
	return c.localTime(t).Format("Mon Jan _2 15:04:05.000 2006") + c.tzSuffix()
}

func (c *Ctx) tzSuffix() string {
	off := -int(c.S.Target.System().TZBias)
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf(" (UTC %s %d:%02d)", sign, off/60, off%60)
}

var exceptionNames = map[uint32]string{
	0x80000003: "Break instruction exception",
	0x80000004: "Single step exception",
	0xc0000005: "Access violation",
	0xc0000006: "In-page I/O error",
	0xc000001d: "Illegal instruction",
	0xc0000025: "Cannot continue",
	0xc000008c: "Array bounds exceeded",
	0xc000008e: "Floating-point division-by-zero",
	0xc0000094: "Integer divide-by-zero",
	0xc0000095: "Integer overflow",
	0xc0000096: "Privileged instruction",
	0xc00000fd: "Stack overflow",
	0xc0000374: "Heap corruption",
	0xc0000409: "Security check failure or stack buffer overrun",
	0xc0000420: "Assertion failure",
	0xe06d7363: "C++ EH exception",
	0x80000002: "Data misaligned",
	0x40010005: "Control-C exception",
	0x406d1388: "Visual C++ thread naming exception",
}

func exceptionName(code uint32) string {
	if n, ok := exceptionNames[code]; ok {
		return n
	}
	return "Unknown exception"
}

func cmdLastEvent(c *Ctx, inv *Invocation) error {
	ev := c.S.Target.Event()
	if ev == nil {
		c.Println("Last event: <no event>")
		return nil
	}
	c.Printf("Last event: %x.%x: %s - code %08x (first/second chance not available)\n", c.pid(), ev.ThreadID, exceptionName(ev.Code), ev.Code)
	c.Printf("  debugger time: %s\n", c.sessionTime())
	return nil
}

func cmdEcxr(c *Ctx, inv *Invocation) error {
	ev := c.S.Target.Event()
	if ev == nil || ev.Context == nil {
		c.Println("Minidump doesn't have an exception context")
		return fmt.Errorf("Unable to get exception context, HRESULT 0x80004002")
	}
	regs, err := ev.Context()
	if err != nil {
		return fmt.Errorf("Unable to get exception context, HRESULT 0x80004005 (%v)", err)
	}
	if c.S.EventThread >= 0 {
		c.S.SetThread(c.S.EventThread)
	}
	c.S.SetContext(regs)
	c.printRegisters(regs)
	return nil
}

// readExceptionRecord reads a native EXCEPTION_RECORD at addr.
func (c *Ctx) readExceptionRecord(addr uint64) (*target.Event, error) {
	ps := uint64(c.S.Target.Arch().PtrSize())
	// Code, Flags, Record*, Address*, NumberParameters, [pad], Information[15]
	infoOff := 4 + 4 + 2*ps + 4
	if ps == 8 {
		infoOff += 4
	}
	b, ok := c.readBytes(addr, infoOff+15*ps)
	if !ok {
		return nil, fmt.Errorf("Cannot read Exception record @ %s", c.ptr(addr))
	}
	rd := func(off, size uint64) uint64 { return le(b[off : off+size]) }
	ev := &target.Event{Code: uint32(rd(0, 4)), Flags: uint32(rd(4, 4)), Record: rd(8, ps), Address: rd(8+ps, ps)}
	n := rd(8+2*ps, 4)
	if n > 15 {
		n = 15
	}
	for i := uint64(0); i < n; i++ {
		ev.Params = append(ev.Params, rd(infoOff+i*ps, ps))
	}
	return ev, nil
}

func cmdExr(c *Ctx, inv *Invocation) error {
	arg := strings.TrimSpace(inv.Args)
	ev := c.S.Target.Event()
	if arg != "-1" {
		addr, err := c.Eval(inv.Args)
		if err != nil {
			return shiftErr(err, inv.ArgsOff)
		}
		if ev, err = c.readExceptionRecord(addr); err != nil {
			return err
		}
	}
	if ev == nil {
		return fmt.Errorf("Unable to get exception record, no exception stored in the dump")
	}
	wide := c.S.Target.Arch().PtrSize() == 8
	val := func(v uint64) string {
		if wide {
			return fmt.Sprintf("%016x", v)
		}
		return fmt.Sprintf("%08x", uint32(v))
	}
	where := ""
	if sym := c.symbolize(ev.Address); sym != "" {
		// The offset in this line is zero-padded to the pointer width.
		if i := strings.LastIndex(sym, "+0x"); i >= 0 {
			off, _ := strconv.ParseUint(sym[i+3:], 16, 64)
			if wide {
				sym = fmt.Sprintf("%s+0x%016x", sym[:i], off)
			} else {
				sym = fmt.Sprintf("%s+0x%08x", sym[:i], off)
			}
		}
		where = " (" + sym + ")"
	}
	c.Printf("ExceptionAddress: %s%s\n", val(ev.Address), where)
	c.Printf("   ExceptionCode: %08x (%s)\n", ev.Code, exceptionName(ev.Code))
	c.Printf("  ExceptionFlags: %08x\n", ev.Flags)
	c.Printf("NumberParameters: %d\n", len(ev.Params))
	for i, p := range ev.Params {
		c.Printf("   Parameter[%d]: %s\n", i, val(p))
	}
	if ev.Code == 0xc0000005 && len(ev.Params) >= 2 {
		switch ev.Params[0] {
		case 0:
			c.Printf("Attempt to read from address %s\n", val(ev.Params[1]))
		case 1:
			c.Printf("Attempt to write to address %s\n", val(ev.Params[1]))
		case 8:
			c.Printf("Attempt to execute non-executable address %s\n", val(ev.Params[1]))
		}
	}
	return nil
}

func cmdCxr(c *Ctx, inv *Invocation) error {
	if strings.TrimSpace(inv.Args) == "" {
		c.S.SetThread(c.S.CurThread)
		return nil
	}
	addr, err := c.Eval(inv.Args)
	if err != nil {
		return shiftErr(err, inv.ArgsOff)
	}
	arch := c.S.Target.Arch()
	b, ok := c.readBytes(addr, uint64(target.ContextSize(arch)))
	if !ok {
		return fmt.Errorf("Unable to read context, Win32 error 0n30")
	}
	regs, err := target.DecodeContext(arch, b)
	if err != nil {
		return err
	}
	c.S.SetContext(regs)
	c.printRegisters(regs)
	return nil
}
