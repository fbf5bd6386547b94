package commands

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/ntdbg/ntdbg/engine/target"
)

func init() {
	Register(&Command{Name: "r", Family: "registers and memory", Syntax: "r [Reg[, Reg...]] | r $tN = Expr",
		Summary: "show registers of the current thread or frame",
		Help:    "With no argument prints the full register block and the current instruction. Names are plain (`r rax`), not `@rax`.",
		Run:     cmdR})
	type dspec struct {
		name, summary string
	}
	for _, d := range []dspec{
		{"db", "bytes and ASCII"}, {"dw", "words"}, {"dd", "double words"}, {"dq", "quad words"},
		{"dp", "pointer-sized values"}, {"dc", "double words and ASCII"}, {"da", "an ASCII string"},
		{"du", "a UTF-16 string"}, {"dps", "pointers with symbols"}, {"dqs", "quad words with symbols"},
		{"dds", "double words with symbols"},
	} {
		Register(&Command{Name: d.name, Family: "registers and memory", Syntax: d.name + " [Address [L Count | EndAddress]]",
			Summary: "display memory as " + d.summary,
			Help:    "Counts are elements, read in the default radix (16): `dq @rsp L4`. `L?n` lifts the size check. Without an address, continues after the last display.",
			Run:     cmdDisplay})
	}
	Register(&Command{Name: "d", Family: "registers and memory", Syntax: "d [Range]", Summary: "repeat the last d* kind",
		Run: cmdDisplay})
}

func cmdR(c *Ctx, inv *Invocation) error {
	args := strings.TrimSpace(inv.Args)
	if args == "" {
		regs, err := c.S.Registers()
		if err != nil {
			return err
		}
		c.printRegisters(regs)
		if c.Recording() {
			c.Record("registers", regRecord(c.S.CurThread, regs))
		}
		return nil
	}
	argOff := inv.ArgsOff + strings.Index(inv.Args, args)
	// r $tN = value
	if name, val, ok := strings.Cut(args, "="); ok && strings.HasPrefix(strings.TrimSpace(name), "$t") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(name), "$t%d", &n); err != nil || n < 0 || n >= len(c.S.Temp) {
			return &SyntaxError{Kind: "Bad register", Pos: argOff + len(strings.TrimRight(name, " "))}
		}
		v, err := c.Eval(val)
		if err != nil {
			return err
		}
		c.S.Temp[n] = v
		return nil
	}
	regs, err := c.S.Registers()
	if err != nil {
		return err
	}
	var out []string
	rec := map[string]string{}
	pos := 0
	for pos < len(args) {
		for pos < len(args) && (args[pos] == ' ' || args[pos] == ',') {
			pos++
		}
		start := pos
		for pos < len(args) && (isAlnum(args[pos]) || args[pos] == '$') {
			pos++
		}
		name := strings.ToLower(args[start:pos])
		if name == "" || (pos < len(args) && args[pos] != ' ' && args[pos] != ',') {
			if name == "" {
				pos++
			}
			return &SyntaxError{Kind: "Syntax", Pos: argOff + pos}
		}
		if strings.HasPrefix(name, "$") {
			v, err := c.S.Pseudo(name[1:])
			if err != nil {
				return &SyntaxError{Kind: "Bad register", Pos: argOff + pos}
			}
			out = append(out, fmt.Sprintf("%s=%s", name, c.plainPtr(v)))
			rec[name] = Hex(v)
			continue
		}
		v, ok := regs.Get(name)
		if !ok {
			return &SyntaxError{Kind: "Bad register", Pos: argOff + pos}
		}
		out = append(out, fmt.Sprintf("%s=%s", name, regValue(regs.Arch, name, v)))
		rec[name] = Hex(v)
	}
	c.Println(strings.Join(out, " "))
	if c.Recording() {
		c.Record("registers", RegistersRecord{Thread: c.S.CurThread, Registers: rec})
	}
	return nil
}

// regValue formats a register value with the width of the register.
func regValue(a target.Arch, name string, v uint64) string {
	switch {
	case name == "efl" || name == "mxcsr":
		return fmt.Sprintf("%08x", v)
	case len(name) == 2 && strings.HasSuffix(name, "s"):
		return fmt.Sprintf("%04x", v)
	case strings.HasPrefix(name, "r") && a == target.ArchAMD64 && !strings.HasSuffix(name, "d") && !strings.HasSuffix(name, "w") && !strings.HasSuffix(name, "b"),
		strings.HasPrefix(name, "dr") && a == target.ArchAMD64:
		return fmt.Sprintf("%016x", v)
	case strings.HasPrefix(name, "e") || strings.HasSuffix(name, "d") || strings.HasPrefix(name, "dr"):
		return fmt.Sprintf("%08x", v)
	case strings.HasSuffix(name, "l") || strings.HasSuffix(name, "h") || strings.HasSuffix(name, "b") || len(name) == 2 && strings.HasSuffix(name, "f"):
		if len(name) == 2 && strings.HasSuffix(name, "f") {
			return fmt.Sprintf("%x", v)
		}
		return fmt.Sprintf("%02x", v)
	}
	return fmt.Sprintf("%04x", v)
}

// flagsText renders EFLAGS as WinDbg's mnemonics: nv up ei pl nz na po nc.
func flagsText(f uint64) string {
	pick := func(bit uint, clear, set string) string {
		if f&(1<<bit) != 0 {
			return set
		}
		return clear
	}
	return strings.Join([]string{pick(11, "nv", "ov"), pick(10, "up", "dn"), pick(9, "di", "ei"), pick(7, "pl", "ng"),
		pick(6, "nz", "zr"), pick(4, "na", "ac"), pick(2, "po", "pe"), pick(0, "nc", "cy")}, " ")
}

// printRegisters prints the full register block followed by the location.
func (c *Ctx) printRegisters(r *target.Registers) {
	iopl := fmt.Sprintf("iopl=%-9d %s", (r.Flags>>12)&3, flagsText(r.Flags))
	seg := fmt.Sprintf("cs=%04x  ss=%04x  ds=%04x  es=%04x  fs=%04x  gs=%04x             efl=%08x", r.Cs, r.Ss, r.Ds, r.Es, r.Fs, r.Gs, r.Flags)
	g := r.GPR
	if r.Arch == target.ArchAMD64 {
		c.Printf("rax=%016x rbx=%016x rcx=%016x\n", g[target.RegAX], g[target.RegBX], g[target.RegCX])
		c.Printf("rdx=%016x rsi=%016x rdi=%016x\n", g[target.RegDX], g[target.RegSI], g[target.RegDI])
		c.Printf("rip=%016x rsp=%016x rbp=%016x\n", r.IP, g[target.RegSP], g[target.RegBP])
		c.Printf(" r8=%016x  r9=%016x r10=%016x\n", g[target.RegR8], g[target.RegR9], g[target.RegR10])
		c.Printf("r11=%016x r12=%016x r13=%016x\n", g[target.RegR11], g[target.RegR12], g[target.RegR13])
		c.Printf("r14=%016x r15=%016x\n", g[target.RegR14], g[target.RegR15])
		c.Println(iopl)
	} else {
		c.Printf("eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x\n", g[target.RegAX], g[target.RegBX], g[target.RegCX], g[target.RegDX], g[target.RegSI], g[target.RegDI])
		c.Printf("eip=%08x esp=%08x ebp=%08x %s\n", r.IP, g[target.RegSP], g[target.RegBP], iopl)
	}
	c.Println(seg)
	c.printLocation(r)
}

// rangeSpec is the parsed `Address [L Count | EndAddress]` of a memory command.
type rangeSpec struct {
	addr    uint64
	count   uint64 // elements
	hasAddr bool
	hasLen  bool
}

const maxRangeBytes = 256 << 20

// parseRange reads a WinDbg range from the command's arguments.
func (c *Ctx) parseRange(inv *Invocation, elem uint64) (rangeSpec, error) {
	var r rangeSpec
	args := inv.Args
	text := strings.TrimLeft(args, " \t")
	base := inv.ArgsOff + len(args) - len(text)
	if strings.TrimSpace(text) == "" {
		return r, nil
	}
	if !isLenWord(text) {
		v, n, err := c.EvalPrefix(text)
		if err != nil {
			return r, shiftErr(err, base)
		}
		r.addr, r.hasAddr = v, true
		rest := strings.TrimLeft(text[n:], " \t")
		base += len(text) - len(rest)
		text = rest
	}
	if strings.TrimSpace(text) == "" {
		return r, nil
	}
	if isLenWord(text) {
		check := true
		t := text[1:]
		base++
		if strings.HasPrefix(t, "?") {
			check, t, base = false, t[1:], base+1
		}
		neg := false
		if strings.HasPrefix(t, "-") {
			neg, t, base = true, t[1:], base+1
		}
		v, err := c.Eval(t)
		if err != nil {
			return r, shiftErr(err, base)
		}
		if check && v*elem > maxRangeBytes || v > maxRangeBytes*8 {
			return r, &SyntaxError{Kind: "Range", Pos: base + len(strings.TrimRight(t, " "))}
		}
		if neg {
			r.addr -= v * elem
		}
		r.count, r.hasLen = v, true
		return r, nil
	}
	end, err := c.Eval(text)
	if err != nil {
		return r, shiftErr(err, base)
	}
	if end < r.addr || end-r.addr > maxRangeBytes {
		return r, &SyntaxError{Kind: "Range", Pos: base + len(strings.TrimRight(text, " "))}
	}
	r.count, r.hasLen = (end-r.addr)/elem+1, true
	return r, nil
}

func isLenWord(s string) bool {
	return len(s) > 1 && (s[0] == 'L' || s[0] == 'l') && (s[1] == '?' || s[1] == '-' || isAlnum(s[1]) || s[1] == ' ' || s[1] == '@' || s[1] == '(' || s[1] == '$')
}

// shiftErr moves a syntax error's position from expression-relative to line-relative.
func shiftErr(err error, base int) error {
	if se, ok := err.(*SyntaxError); ok {
		return &SyntaxError{Kind: se.Kind, Pos: se.Pos + base, Text: se.Text}
	}
	return err
}

func cmdDisplay(c *Ctx, inv *Invocation) error {
	kind := inv.Name
	if moreKind(inv.Typed) || kind == "d" && moreKind(c.lastKind) {
		return cmdDisplayMore(c, inv)
	}
	if inv.Typed == "dW" {
		kind = "dW" // words with an ASCII column (the names differ in case only)
	}
	if kind == "d" {
		kind = c.lastKind
		if kind == "" {
			kind = "db"
		}
	}
	ps := uint64(c.S.Target.Arch().PtrSize())
	elem := map[string]uint64{"db": 1, "dw": 2, "dW": 2, "dd": 4, "dc": 4, "dq": 8, "dp": ps, "da": 1, "du": 2, "dps": ps, "dqs": 8, "dds": 4}[kind]
	if elem == 0 { // a bare d after a kind it cannot repeat
		kind, elem = "db", 1
	}
	r, err := c.parseRange(inv, elem)
	if err != nil {
		return err
	}
	if !r.hasAddr {
		if c.hasLast { // any d* continues where the last one stopped
			r.addr = c.lastAddr
		} else if regs, err := c.S.Registers(); err == nil {
			r.addr = regs.IP
		}
	}
	switch kind {
	case "da", "du":
		return c.displayString(kind, r)
	}
	if !r.hasLen {
		r.count = 128 / elem
		if kind == "dw" || kind == "dW" {
			r.count = 64
		}
	}
	perLine := map[string]uint64{"db": 16, "dw": 8, "dW": 8, "dd": 4, "dc": 4, "dq": 2, "dp": 16 / ps, "dps": 1, "dqs": 1, "dds": 1}[kind]
	total := r.count * elem
	// Read a line at a time, so an `L?` count never sizes one big buffer.
	lineBuf := make([]byte, perLine*elem)
	for off := uint64(0); off < total; off += perLine * elem {
		lineElems := perLine
		if rem := (total - off) / elem; rem < lineElems {
			lineElems = rem
		}
		buf := lineBuf[:lineElems*elem]
		got, _ := c.S.Mem().ReadVirtual(buf, r.addr+off)
		n := off + uint64(got)
		var b strings.Builder
		b.WriteString(c.ptr(r.addr + off))
		b.WriteString("  ")
		var ascii strings.Builder
		for i := uint64(0); i < lineElems; i++ {
			o := i * elem
			ok := off+o+elem <= n
			if i > 0 {
				if kind == "db" && i == 8 {
					b.WriteByte('-')
				} else {
					b.WriteByte(' ')
				}
			}
			b.WriteString(c.formatElem(buf[o:o+elem], elem, ok))
			if kind == "db" || kind == "dc" || kind == "dW" {
				for j := uint64(0); j < elem; j++ {
					ascii.WriteByte(asciiChar(buf[o+j], off+o+j < n))
				}
			}
			if (kind == "dps" || kind == "dqs" || kind == "dds") && ok {
				v := le(buf[o : o+elem])
				if sym := c.symbolize(v); sym != "" {
					b.WriteString(" " + sym)
					if l, ok := c.S.Symbols.Line(v); ok && l.File != "" {
						fmt.Fprintf(&b, " [%s @ %d]", target.Sanitize(l.File), l.Line)
					}
				}
			}
		}
		if kind == "db" || kind == "dc" || kind == "dW" {
			pad := int(perLine-lineElems) * int(elem*2+1)
			if kind == "db" {
				pad = int(perLine-lineElems) * 3
			}
			b.WriteString(strings.Repeat(" ", pad))
			b.WriteString("  ")
			b.WriteString(ascii.String())
		}
		c.Println(b.String())
		if c.Recording() {
			c.Record("memory", c.memoryRecord(kind, r.addr+off, buf, elem, uint64(got)))
		}
	}
	c.lastKind, c.lastAddr, c.hasLast = kind, r.addr+total, true
	return nil
}

func le(b []byte) uint64 {
	var x [8]byte
	copy(x[:], b)
	return binary.LittleEndian.Uint64(x[:])
}

func (c *Ctx) formatElem(b []byte, elem uint64, ok bool) string {
	if !ok {
		if elem == 8 {
			return "????????`????????"
		}
		return strings.Repeat("??", int(elem))
	}
	v := le(b)
	switch elem {
	case 1:
		return fmt.Sprintf("%02x", v)
	case 2:
		return fmt.Sprintf("%04x", v)
	case 4:
		return fmt.Sprintf("%08x", v)
	}
	return fmt.Sprintf("%08x`%08x", v>>32, v&0xffffffff)
}

func asciiChar(b byte, ok bool) byte {
	if !ok {
		return '?'
	}
	if b < 0x20 || b > 0x7e {
		return '.'
	}
	return b
}

// displayString implements da and du: lines of up to 48 characters, ending
// at the terminating NUL or the given length.
func (c *Ctx) displayString(kind string, r rangeSpec) error {
	max := uint64(256)
	if r.hasLen {
		max = r.count
	}
	if max > 1<<20 {
		max = 1 << 20 // strings longer than a megabyte are not shown whole
	}
	elem := uint64(1)
	if kind == "du" {
		elem = 2
	}
	addr := r.addr
	var chars []rune
	lineStart := addr
	flush := func(end bool) {
		text := target.Sanitize(string(chars))
		if kind == "da" {
			// da shows an unprintable byte as `.`, as WinDbg does.
			text = strings.Map(func(r rune) rune {
				if r < 0x20 || r >= 0x7f {
					return '.'
				}
				return r
			}, string(chars))
		}
		c.Printf("%s  \"%s\"\n", c.ptr(lineStart), text)
		chars = chars[:0]
	}
	buf := make([]byte, max*elem)
	n, _ := c.S.Mem().ReadVirtual(buf, addr)
	if n < int(elem) {
		c.Printf("%s  ", c.ptr(addr))
		c.Println(strings.Repeat("?", 8))
		c.lastKind, c.lastAddr, c.hasLast = kind, addr, true
		return nil
	}
	var i uint64
	for i = 0; i < max && (i+1)*elem <= uint64(n); i++ {
		var ch rune
		if elem == 1 {
			ch = rune(buf[i])
		} else {
			ch = rune(binary.LittleEndian.Uint16(buf[i*2:]))
		}
		if ch == 0 {
			break
		}
		if elem == 2 && utf16.IsSurrogate(ch) && (i+2)*2 <= uint64(n) {
			ch2 := rune(binary.LittleEndian.Uint16(buf[i*2+2:]))
			ch = utf16.DecodeRune(ch, ch2)
			i++
		}
		chars = append(chars, ch)
		if len(chars) == 48 {
			flush(false)
			lineStart = addr + (i+1)*elem
		}
	}
	if len(chars) > 0 || lineStart == addr {
		flush(true)
	}
	c.lastKind, c.lastAddr, c.hasLast = kind, addr+(i+1)*elem, true
	return nil
}
