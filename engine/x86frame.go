package engine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"ntdbg/dumpfmt/pdb"
)

// FrameDataProvider gives x86 FPO information (FRAMEDATA with frame
// programs, or old FPO_DATA) for an address, from the module's PDB.
type FrameDataProvider interface {
	FrameData(m *Module, rva uint32) (*pdb.FrameData, bool)
}

// FrameData implements FrameDataProvider from the module's PDB: the
// innermost FRAMEDATA record covering rva, else an old FPO record turned
// into the equivalent program.
func (s *Symbols) FrameData(m *Module, rva uint32) (*pdb.FrameData, bool) {
	ms := s.Load(m)
	if ms.PDB == nil {
		return nil, false
	}
	if !ms.fpoLoaded {
		ms.fpoLoaded = true
		ms.newFPO, _ = ms.PDB.NewFPO()
		ms.oldFPO, _ = ms.PDB.OldFPO()
	}
	i := sort.Search(len(ms.newFPO), func(i int) bool { return ms.newFPO[i].Start > rva }) - 1
	for k := i; k >= 0 && k > i-64; k-- {
		if fd := &ms.newFPO[k]; rva < fd.Start+fd.Size {
			return fd, true // the latest-starting record: the innermost prolog step
		}
	}
	j := sort.Search(len(ms.oldFPO), func(i int) bool { return ms.oldFPO[i].Start > rva }) - 1
	if j >= 0 && rva < ms.oldFPO[j].Start+ms.oldFPO[j].Size {
		o := ms.oldFPO[j]
		fd := &pdb.FrameData{Start: o.Start, Size: o.Size, Locals: 4 * o.Locals, Params: 4 * uint32(o.Params),
			SavedRegs: uint16(4 * uint32(o.Regs)), Prolog: uint16(o.Prolog)}
		if o.UseBP || o.Frame == 3 {
			fd.Program = "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + ="
		} else {
			fd.Program = "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + ="
		}
		return fd, true
	}
	return nil, false
}

// cvRegs names CodeView x86 register numbers used as $NN in programs.
var cvRegs = map[string]string{"$17": "$eax", "$18": "$ecx", "$19": "$edx", "$20": "$ebx", "$21": "$esp", "$22": "$ebp", "$23": "$esi", "$24": "$edi"}

// runFrameProgram evaluates an x86 frame program (postfix: + - * / % @ ^ =)
// against the callee's registers and returns the caller's.
func (s *Session) runFrameProgram(prog string, vars map[string]uint32) error {
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
	for _, tok := range strings.Fields(prog) {
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
			v, err := s.ReadUint(uint64(a), 4)
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
func (s *Session) unwindFrameData(f *Frame, fd *pdb.FrameData, calleeParams uint32) (*Registers, bool) {
	r := f.Regs
	esp := uint32(r.SP())
	vars := map[string]uint32{"$eip": uint32(r.IP), "$esp": esp, "$ebp": uint32(r.GPR[RegBP]), "$ebx": uint32(r.GPR[RegBX]),
		"$esi": uint32(r.GPR[RegSI]), "$edi": uint32(r.GPR[RegDI]), "$eax": uint32(r.GPR[RegAX]), "$ecx": uint32(r.GPR[RegCX]),
		"$edx": uint32(r.GPR[RegDX]), ".cbSavedRegs": uint32(fd.SavedRegs), ".cbLocals": fd.Locals, ".cbParams": fd.Params,
		".cbCalleeParams": calleeParams}
	start := esp + calleeParams + fd.Locals + uint32(fd.SavedRegs)
	// The return address should be at the computed slot; look a little
	// further when alignment or unrecorded pushes moved it.
	ra := start
	for off := uint32(0); off < 0x40; off += 4 {
		if v, err := s.ReadUint(uint64(start+off), 4); err == nil && s.looksLikeReturn(v) {
			ra = start + off
			break
		}
	}
	vars[".raSearchStart"], vars[".raSearch"] = start, ra
	prog := fd.Program
	if prog == "" {
		prog = "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + ="
	}
	if err := s.runFrameProgram(prog, vars); err != nil {
		return nil, false
	}
	n := copyRegs(r)
	n.IP = uint64(vars["$eip"])
	n.GPR[RegSP] = uint64(vars["$esp"])
	n.GPR[RegBP] = uint64(vars["$ebp"])
	n.GPR[RegBX] = uint64(vars["$ebx"])
	n.GPR[RegSI] = uint64(vars["$esi"])
	n.GPR[RegDI] = uint64(vars["$edi"])
	return n, true
}
