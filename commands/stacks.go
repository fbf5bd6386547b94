package commands

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/unwind"
)

func init() {
	Register(&Command{Name: "k", Family: "stacks", Glued: true,
		Syntax:  "k[b|v|p|P][c][n][f][L] [= BasePtr|StackPtr ...] [FrameCount] | kd [WordCount]",
		Summary: "display the stack of the current thread",
		Help: "Letters combine: `kcn` (call sites only), `kb`/`kv` (four arguments on x64, three on x86), `kf` (frame sizes),\n" +
			"`L` hides source lines. The count is read in radix 16 (`k 20` = 32 frames; .kframes sets the default).\n" +
			"`k = StackPtr InstructionPtr FrameCount` (x64) and `k = BasePtr StackPtr InstructionPtr` (x86) walk from those\n" +
			"registers; `kd` dumps the raw stack from the stack pointer as dds does. x64 stacks unwind with the\n" +
			"images' .pdata/UNWIND_INFO (from dump memory, -i, or the symbol path); without it the stack is scanned.",
		Run: cmdK})
	Register(&Command{Name: ".frame", Family: "stacks", Syntax: ".frame [/c] [/r] [FrameNumber]",
		Summary: "show or set the current frame; /r also shows its registers, /c makes them the register context", Run: cmdFrame})
	Register(&Command{Name: ".kframes", Family: "stacks", Syntax: ".kframes [FrameCountDefault]",
		Summary: "show or set the default frame count of k (and the word count of kd)", Run: cmdKframes})
}

type kOpts struct {
	args, verbose, clean, mem, noLines bool
	params, paramLines                 bool
	count                              int
	// start holds the registers of `k = ...` (nil: the current context).
	start *target.Registers
}

// defaultFrames is k's frame count when none is typed (.kframes).
func (c *Ctx) defaultFrames() int {
	if c.kframes > 0 {
		return c.kframes
	}
	return 0x100
}

func cmdKframes(c *Ctx, inv *Invocation) error {
	if a := strings.TrimSpace(inv.Args); a != "" {
		v, err := c.Eval(a)
		if err != nil {
			return shiftErr(err, inv.ArgsOff)
		}
		if v == 0 || v > unwind.MaxFrames {
			return &SyntaxError{Kind: "Range", Pos: inv.ArgsOff + len(inv.Args)}
		}
		c.kframes = int(v)
	}
	c.Printf("Default stack trace depth is 0n%d frames\n", c.defaultFrames())
	return nil
}

// parseKStart reads the registers after `k =`: x86 `= BasePtr [FrameCount]`
// and `= BasePtr StackPtr InstructionPtr [FrameCount]`; x64 `= StackPtr
// [FrameCount]` and `= StackPtr InstructionPtr FrameCount`. Registers not
// given keep the current context's values.
func parseKStart(c *Ctx, inv *Invocation, text string, off int, o *kOpts) error {
	regs, err := c.S.Registers()
	if err != nil {
		return err
	}
	r := *regs
	words := strings.Fields(text)
	var vals []uint64
	for _, w := range words {
		v, err := c.Eval(w)
		if err != nil {
			return shiftErr(err, off)
		}
		vals = append(vals, v)
	}
	count := func(v uint64) error {
		if v == 0 || v > 0xffff {
			return &SyntaxError{Kind: "Range", Pos: inv.ArgsOff + len(inv.Args)}
		}
		o.count = int(v)
		return nil
	}
	if c.S.Target.Arch() == target.ArchX86 {
		switch len(vals) {
		case 1, 2:
			r.GPR[target.RegBP] = vals[0]
			if len(vals) == 2 {
				if err := count(vals[1]); err != nil {
					return err
				}
			}
		case 3, 4:
			r.GPR[target.RegBP], r.GPR[target.RegSP], r.IP = vals[0], vals[1], vals[2]
			if len(vals) == 4 {
				if err := count(vals[3]); err != nil {
					return err
				}
			}
		default:
			return &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff + len(inv.Args)}
		}
	} else {
		switch len(vals) {
		case 1, 2:
			r.GPR[target.RegSP] = vals[0]
			if len(vals) == 2 {
				if err := count(vals[1]); err != nil {
					return err
				}
			}
		case 3:
			r.GPR[target.RegSP], r.IP = vals[0], vals[1]
			if err := count(vals[2]); err != nil {
				return err
			}
		default:
			return &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff + len(inv.Args)}
		}
	}
	o.start = &r
	return nil
}

func parseK(c *Ctx, inv *Invocation) (kOpts, error) {
	o := kOpts{count: c.defaultFrames()}
	for _, ch := range inv.options() {
		switch ch {
		case 'b':
			o.args = true
		case 'v':
			o.args, o.verbose = true, true
		case 'p':
			o.params = true
		case 'P':
			o.params, o.paramLines = true, true
		case 'c':
			o.clean = true
		case 'n', 'M':
		case 'f':
			o.mem = true
		case 'L':
			o.noLines = true
		default:
			return o, &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff}
		}
	}
	if a := strings.TrimSpace(inv.Args); strings.HasPrefix(a, "=") {
		off := inv.ArgsOff + strings.Index(inv.Args, "=") + 1
		return o, parseKStart(c, inv, a[1:], off, &o)
	} else if a != "" {
		v, err := c.Eval(a)
		if err != nil {
			return o, shiftErr(err, inv.ArgsOff)
		}
		if v == 0 || v > 0xffff {
			return o, &SyntaxError{Kind: "Range", Pos: inv.ArgsOff + len(inv.Args)}
		}
		o.count = int(v)
	}
	return o, nil
}

// frames unwinds the current context.
func (c *Ctx) frames(max int) ([]unwind.Frame, error) {
	regs, err := c.S.Registers()
	if err != nil {
		return nil, err
	}
	return c.S.Unwind(regs, max), nil
}

// callSite names a frame: module!function+0xoff, module+0xoff, or the bare
// address. With clean, offsets are dropped (kc).
func (c *Ctx) callSite(f *unwind.Frame, clean bool) string {
	look := f.LookupIP()
	if m, sym, disp, ok := c.S.Symbols.Nearest(look); ok {
		disp += f.IP - look // displayed from the function to the return address itself
		name := m.Name
		if sym != "" {
			name += "!" + sym
		} else if !clean {
			return fmt.Sprintf("%s+0x%x", m.Name, f.IP-m.Base)
		}
		if !clean && disp != 0 {
			name += fmt.Sprintf("+0x%x", disp)
		}
		return name
	}
	if m := c.S.ModuleAt(look); m != nil {
		if clean {
			return m.Name
		}
		return fmt.Sprintf("%s+0x%x", m.Name, f.IP-m.Base)
	}
	return fmt.Sprintf("0x%s", c.ptr(f.IP))
}

// withParams inserts a frame's parameters after its function name:
// `mod!func(int x = 0n1)+0x1c`.
func (c *Ctx) withParams(f *unwind.Frame, site string, perLine bool) string {
	list, ok := c.paramList(f, perLine)
	if !ok {
		return site
	}
	name, off := site, ""
	if i := strings.LastIndex(site, "+0x"); i > 0 && strings.Contains(site, "!") {
		name, off = site[:i], site[i:]
	}
	return name + list + off
}

// sourceSuffix is ` [file @ line] ` when private symbols have the line.
func (c *Ctx) sourceSuffix(f *unwind.Frame) string {
	if l, ok := c.S.Symbols.Line(f.LookupIP()); ok && l.File != "" {
		return fmt.Sprintf(" [%s @ %d] ", target.Sanitize(l.File), l.Line)
	}
	return ""
}

// cmdKd is `kd [WordCount]`: the raw stack from the stack pointer, one
// DWORD a line with symbols, as dds shows it (the .kframes page's kd
// example steps by four bytes on x64 too).
func cmdKd(c *Ctx, inv *Invocation) error {
	n := uint64(c.defaultFrames())
	if a := strings.TrimSpace(inv.Args); a != "" {
		v, err := c.Eval(a)
		if err != nil {
			return shiftErr(err, inv.ArgsOff)
		}
		if v == 0 || v > maxRangeBytes/4 {
			return &SyntaxError{Kind: "Range", Pos: inv.ArgsOff + len(inv.Args)}
		}
		n = v
	}
	regs, err := c.S.Registers()
	if err != nil {
		return err
	}
	// kd is not a d* command: a bare `d` afterwards goes on from the last d*.
	kind, addr, has := c.lastKind, c.lastAddr, c.hasLast
	defer func() { c.lastKind, c.lastAddr, c.hasLast = kind, addr, has }()
	text := fmt.Sprintf("dds %x L%x", regs.SP(), n)
	return cmdDisplay(c, &Invocation{Name: "dds", Typed: "dds", Args: text[3:], ArgsOff: inv.ArgsOff, Line: inv.Line, Text: inv.Text})
}

func cmdK(c *Ctx, inv *Invocation) error {
	if inv.options() == "d" {
		return cmdKd(c, inv)
	}
	o, err := parseK(c, inv)
	if err != nil {
		return err
	}
	var frames []unwind.Frame
	if o.start != nil {
		frames = c.S.Unwind(o.start, o.count)
	} else if frames, err = c.frames(o.count); err != nil {
		return err
	}
	if c.S.ContextOverridden() {
		c.Println("  *** Stack trace for last set context - .thread/.cxr resets it")
	}
	x64 := c.S.Target.Arch() == target.ArchAMD64
	switch {
	case o.clean:
		c.Println(" # Call Site")
	case x64 && o.verbose:
		c.Println(" # Child-SP          RetAddr               : Args to Child                                                           : Call Site")
	case x64 && o.args:
		// Current engines drop Child-SP from kb; kv keeps it (windbg-reference.md §3.6).
		c.Println(" # RetAddr               : Args to Child                                                           : Call Site")
	case x64 && o.mem:
		c.Println(" #   Memory  Child-SP          RetAddr               Call Site")
	case x64:
		c.Println(" # Child-SP          RetAddr               Call Site")
	case o.args:
		c.Println(" # ChildEBP RetAddr  Args to Child              ")
	case o.mem:
		c.Println(" #   Memory  ChildEBP RetAddr  ")
	default:
		c.Println(" # ChildEBP RetAddr  ")
	}
	warned := false
	for i := range frames {
		f := &frames[i]
		if f.How == unwind.Scan && !warned {
			c.Warnf("WARNING: Stack unwind information not available. Following frames may be wrong.")
			warned = true
		}
		site := c.callSite(f, o.clean)
		if o.params {
			site = c.withParams(f, site, o.paramLines)
		}
		if o.verbose && !x64 {
			// x86 kv: the FPO text follows the call site, before the source
			// line; frames without a symbol get none.
			if _, sym, _, ok := c.S.Symbols.Nearest(f.LookupIP()); ok && sym != "" {
				site += " " + fpoText(f)
				if conv, ok := c.callConv(f); ok {
					site += " (CONV: " + conv + ")"
				}
			}
		}
		if !o.noLines {
			site += c.sourceSuffix(f)
		}
		c.Println(c.frameLine(frames, i, o, site))
		if c.Recording() {
			c.Record("frame", c.frameRecord(c.S.CurThread, frames, i, o.clean))
		}
	}
	return nil
}

// fpoText is kv's x86 annotation: the frame's parameter, local and
// saved-register dwords from its FPO data, or Non-Fpo for EBP frames.
func fpoText(f *unwind.Frame) string {
	if f.FPO == nil {
		return "(FPO: [Non-Fpo])"
	}
	return fmt.Sprintf("(FPO: [%d,%d,%d])", f.FPO.Params/4, f.FPO.Locals/4, f.FPO.SavedRegs/4)
}

// callConv is the calling convention of a frame's function, from the
// procedure type of its private symbols (x86 kv's (CONV: ...)).
func (c *Ctx) callConv(f *unwind.Frame) (string, bool) {
	_, ref, ok := c.S.Symbols.Params(f.LookupIP())
	if !ok || ref == nil {
		return "", false
	}
	return ref.CallConv(ref.Index())
}

// frameLine renders one k row.
func (c *Ctx) frameLine(frames []unwind.Frame, i int, o kOpts, site string) string {
	f := &frames[i]
	x64 := c.S.Target.Arch() == target.ArchAMD64
	if o.clean {
		return fmt.Sprintf("%02x %s", i, site)
	}
	if x64 {
		row := fmt.Sprintf("%02x %s %s     ", i, c.ptr(f.SP), c.ptr(f.RetAddr))
		if o.args && !o.verbose {
			row = fmt.Sprintf("%02x %s     ", i, c.ptr(f.RetAddr))
		}
		if o.mem {
			mem := ""
			if i > 0 {
				mem = fmt.Sprintf("%x", f.SP-frames[i-1].SP)
			}
			row = fmt.Sprintf("%02x %9s %s %s     ", i, mem, c.ptr(f.SP), c.ptr(f.RetAddr))
		}
		if o.args {
			var args []string
			for k := uint64(1); k <= 4; k++ {
				v, err := c.S.ReadPointer(f.SP + 8*k)
				if err != nil {
					args = append(args, "????????`????????")
				} else {
					args = append(args, c.ptr(v))
				}
			}
			row += ": " + strings.Join(args, " ") + " : "
		}
		return row + site
	}
	row := fmt.Sprintf("%02x %08x %08x ", i, uint32(f.FP), uint32(f.RetAddr))
	if o.mem && !o.args {
		// kf: the bytes between this frame's ChildEBP and the previous one's.
		mem := ""
		if i > 0 {
			mem = fmt.Sprintf("%x", uint32(f.FP-frames[i-1].FP))
		}
		row = fmt.Sprintf("%02x %9s %08x %08x ", i, mem, uint32(f.FP), uint32(f.RetAddr))
	}
	if o.args {
		var args []string
		for k := uint64(2); k <= 4; k++ {
			v, err := c.S.ReadUint(f.FP+4*k, 4)
			if err != nil {
				args = append(args, "????????")
			} else {
				args = append(args, fmt.Sprintf("%08x", v))
			}
		}
		row += strings.Join(args, " ") + " "
	}
	return row + site
}

func cmdFrame(c *Ctx, inv *Invocation) error {
	args := strings.Fields(inv.Args)
	showRegs, setCtx := false, false
	for len(args) > 0 {
		if strings.EqualFold(args[0], "/r") {
			showRegs = true
		} else if strings.EqualFold(args[0], "/c") {
			setCtx = true
		} else {
			break
		}
		args = args[1:]
	}
	frames, err := c.frames(0x100)
	if err != nil {
		return err
	}
	n := c.S.Frame
	if len(args) > 0 {
		v, err := c.Eval(strings.Join(args, " "))
		if err != nil {
			return err
		}
		if v >= uint64(len(frames)) {
			c.Printf("Cannot find frame 0x%x, previous scope unchanged\n", v)
		} else {
			n = int(v)
			c.S.Frame = n
		}
	}
	if n >= len(frames) {
		n = 0
	}
	f := &frames[n]
	site := c.callSite(f, false) + c.sourceSuffix(f)
	c.Println(c.frameLine(frames, n, kOpts{}, site))
	if setCtx {
		// /c: the frame's registers become the register context (its
		// nonvolatile registers as the unwind restored them), shown as
		// /r shows them; k then walks from there.
		regs := *f.Regs
		c.S.SetContext(&regs)
		showRegs = true
	}
	if showRegs {
		c.printRegisters(f.Regs)
	}
	return nil
}
