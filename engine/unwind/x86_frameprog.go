package unwind

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
)

// cvRegs names CodeView x86 register numbers used as $NN in programs.
var cvRegs = target.CodeViewX86Names

// frameTokens splits a frame program as dbghelp does: at white space, and
// an `=` glued to the next token (MSVC writes `=$eip $T0 4 + ^ =$ebp`) is a
// token of its own.
func frameTokens(prog string) []string {
	var out []string
	for _, f := range strings.Fields(prog) {
		for len(f) > 1 && f[0] == '=' {
			out = append(out, "=")
			f = f[1:]
		}
		if len(f) > 1 && f[len(f)-1] == '=' {
			out = append(out, f[:len(f)-1], "=")
			continue
		}
		out = append(out, f)
	}
	return out
}

// runFrameProgram evaluates an x86 frame program (postfix: + - * / % @ ^ =)
// against the callee's registers and returns the caller's.
func (w *Walker) runFrameProgram(prog string, vars map[string]uint32) error {
	var stack []string
	pop := func() (string, error) {
		if len(stack) == 0 {
			return "", fmt.Errorf("frame program underflow")
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return v, nil
	}
	value := func(tok string) (uint32, error) {
		if n, ok := cvRegs[tok]; ok {
			tok = n
		}
		if v, ok := vars[tok]; ok {
			return v, nil
		}
		n, err := strconv.ParseInt(tok, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("frame program: unknown %q", tok)
		}
		return uint32(n), nil
	}
	popValue := func() (uint32, error) {
		tok, err := pop()
		if err != nil {
			return 0, err
		}
		return value(tok)
	}
	for _, tok := range frameTokens(prog) {
		switch tok {
		case "+", "-", "*", "/", "%", "@":
			b, err := popValue()
			if err != nil {
				return err
			}
			a, err := popValue()
			if err != nil {
				return err
			}
			var r uint32
			switch {
			case tok == "+":
				r = a + b
			case tok == "-":
				r = a - b
			case tok == "*":
				r = a * b
			case b == 0:
				return fmt.Errorf("frame program: %s by zero", tok)
			case tok == "/":
				r = a / b
			case tok == "%":
				r = a % b
			case tok == "@":
				r = a &^ (b - 1)
			}
			stack = append(stack, strconv.FormatUint(uint64(r), 10))
		case "^":
			a, err := popValue()
			if err != nil {
				return err
			}
			v, err := mem.ReadUint(w.Mem, uint64(a), 4)
			if err != nil {
				return err
			}
			stack = append(stack, strconv.FormatUint(v, 10))
		case "=":
			v, err := popValue()
			if err != nil {
				return err
			}
			name, err := pop()
			if err != nil {
				return err
			}
			if n, ok := cvRegs[name]; ok {
				name = n
			}
			vars[name] = v
		default:
			stack = append(stack, tok)
		}
	}
	return nil
}

// unwindFrameData unwinds an x86 frame with the callee's FPO program.
// calleeParams is the parameter size of the frame below (the arguments
// this frame pushed before its call), which .raSearch steps over.
func (w *Walker) unwindFrameData(f *Frame, fd *pdb.FrameData, calleeParams uint32) (*target.Registers, bool) {
	r := f.Regs
	esp := uint32(r.SP())
	vars := map[string]uint32{"$eip": uint32(r.IP), "$esp": esp, "$ebp": uint32(r.GPR[target.RegBP]), "$ebx": uint32(r.GPR[target.RegBX]),
		"$esi": uint32(r.GPR[target.RegSI]), "$edi": uint32(r.GPR[target.RegDI]), "$eax": uint32(r.GPR[target.RegAX]), "$ecx": uint32(r.GPR[target.RegCX]),
		"$edx": uint32(r.GPR[target.RegDX]), ".cbSavedRegs": uint32(fd.SavedRegs), ".cbLocals": fd.Locals, ".cbParams": fd.Params,
		".cbCalleeParams": calleeParams}
	start := esp + calleeParams + fd.Locals + uint32(fd.SavedRegs)
	// The return address should be at the computed slot; look a little
	// further when alignment or unrecorded pushes moved it.
	ra := start
	for off := uint32(0); off < 0x40; off += 4 {
		if v, err := mem.ReadUint(w.Mem, uint64(start+off), 4); err == nil && w.looksLikeReturn(v) {
			ra = start + off
			break
		}
	}
	vars[".raSearchStart"], vars[".raSearch"] = start, ra
	prog := fd.Program
	if prog == "" {
		prog = "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + ="
	}
	if err := w.runFrameProgram(prog, vars); err != nil {
		return nil, false
	}
	n := copyRegs(r)
	n.IP = uint64(vars["$eip"])
	n.GPR[target.RegSP] = uint64(vars["$esp"])
	n.GPR[target.RegBP] = uint64(vars["$ebp"])
	n.GPR[target.RegBX] = uint64(vars["$ebx"])
	n.GPR[target.RegSI] = uint64(vars["$esi"])
	n.GPR[target.RegDI] = uint64(vars["$edi"])
	return n, true
}
