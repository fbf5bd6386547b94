package engine

import (
	"encoding/binary"

	"ntdbg/dumpfmt/pdb"
	"ntdbg/dumpfmt/pe"
)

// How a frame was found.
const (
	FrameContext = "context" // frame 0: the thread's registers
	FrameUnwind  = "unwind"  // the callee's .pdata/UNWIND_INFO
	FrameLeaf    = "leaf"    // callee has no .pdata: return address at RSP
	FrameMachine = "machine" // callee pushed a machine frame (trap/exception)
	FrameEpilog  = "epilog"  // frame 0 stopped inside an epilog
	FrameFP      = "fp"      // frame-pointer chain (x86, or no unwind data)
	FrameFPO     = "fpo"     // x86 FPO data or frame program from the PDB
	FrameScan    = "scan"    // stack scan for a return address
)

// Frame is one stack frame.
type Frame struct {
	Num     int
	IP      uint64 // instruction pointer (return address for callers)
	SP      uint64 // Child-SP: the stack pointer in this frame
	FP      uint64 // x86 ChildEBP
	RetAddr uint64
	Regs    *Registers
	How     string // how this frame's registers were recovered
	// Exact is true when IP is not a return address (frame 0, or a frame
	// interrupted under a machine frame): symbol lookup uses IP itself.
	Exact bool
	// CalleeParams is the size of the arguments this frame pushed for the
	// frame below it (x86 FPO unwinding steps over them).
	CalleeParams uint32
	params       uint32 // this frame's own parameter size, from FPO data
	// FPO is the x86 frame data that unwound this frame, when there was some.
	FPO *pdb.FrameData
}

// LookupIP is the address to name and look up for this frame: return
// addresses point after the call, so callers use IP-1 for lookups.
func (f *Frame) LookupIP() uint64 {
	if f.Exact || f.IP == 0 {
		return f.IP
	}
	return f.IP - 1
}

// ImageProvider returns the PE image of a module (from dump memory, the
// image path or a symbol server), or nil.
type ImageProvider interface {
	Image(m *Module) *pe.File
	// IsCode reports whether addr lies in an executable section; known is
	// false when the module's headers are not available.
	IsCode(m *Module, addr uint64) (isCode, known bool)
}

const maxFrames = 0x2000
const scanLimit = 0x2000 // bytes of stack searched for a return address

// Unwind walks the stack from regs. Images come from the session's image
// provider; without one the walk falls back to frame pointers and scanning.
func (s *Session) Unwind(regs *Registers, max int) []Frame {
	if max <= 0 || max > maxFrames {
		max = maxFrames
	}
	cur := *regs
	frames := []Frame{{Num: 0, IP: cur.IP, SP: cur.SP(), FP: cur.GPR[RegBP], Regs: copyRegs(&cur), How: FrameContext, Exact: true}}
	for {
		f := &frames[len(frames)-1]
		next, how, ok := s.unwindOne(f, len(frames) == 1)
		if !ok {
			break
		}
		f.RetAddr = next.IP
		if s.Target.Arch() == ArchX86 {
			// ChildEBP is the frame's base: the slot below its return address
			// (EBP itself for EBP frames, the virtual frame for FPO ones).
			f.FP = next.SP() - 8
		}
		if next.IP == 0 || len(frames) >= max {
			break // the last frame shown still gets its return address
		}
		if next.SP() <= f.SP && s.Target.Arch() == ArchAMD64 && how != FrameMachine {
			break // the stack must grow towards higher addresses
		}
		nf := Frame{Num: len(frames), IP: next.IP, SP: next.SP(), FP: next.GPR[RegBP], Regs: next, How: how, Exact: how == FrameMachine,
			CalleeParams: f.params}
		frames = append(frames, nf)
	}
	return frames
}

func copyRegs(r *Registers) *Registers {
	c := *r
	return &c
}

func (s *Session) unwindOne(f *Frame, first bool) (*Registers, string, bool) {
	if s.Target.Arch() == ArchX86 {
		return s.unwindX86(f, first)
	}
	regs := copyRegs(f.Regs)
	m := s.ModuleAt(f.LookupIP())
	var img *pe.File
	if m != nil && s.Images != nil {
		img = s.Images.Image(m)
	}
	if img == nil {
		return s.scanFrame(f)
	}
	rva := uint32(f.IP - m.Base)
	lookup := uint32(f.LookupIP() - m.Base)
	rf, ok := img.LookupFunction(lookup)
	if !ok {
		// Leaf function: the return address is at RSP.
		ret, err := s.ReadPointer(regs.SP())
		if err != nil {
			return nil, "", false
		}
		regs.IP = ret
		regs.GPR[RegSP] += 8
		return regs, FrameLeaf, true
	}
	if first || f.Exact {
		if r, ok := s.epilogUnwind(img, m, rf, regs, rva); ok {
			return r, FrameEpilog, true
		}
	}
	how := FrameUnwind
	prologOff := rva - rf.Begin
	inPrologCheck := first || f.Exact
	data := rf.UnwindData
	machine := false
	for depth := 0; depth < 32; depth++ {
		ui, err := img.ReadUnwindInfo(data)
		if err != nil {
			return s.scanFrame(f)
		}
		base := regs.SP()
		if ui.FrameRegister != 0 {
			// The frame pointer holds RSP + 16*FrameOffset from when it was set.
			fpApplies := true
			if inPrologCheck && prologOff < uint32(ui.SizeOfProlog) {
				fpApplies = false
				for _, c := range ui.Codes {
					if c.Op == pe.UwopSetFPReg && uint32(c.CodeOffset) <= prologOff {
						fpApplies = true
					}
				}
			}
			if fpApplies {
				base = regs.GPR[ui.FrameRegister] - 16*uint64(ui.FrameOffset)
				regs.GPR[RegSP] = base
			}
		}
		for _, c := range ui.Codes {
			if inPrologCheck && uint32(c.CodeOffset) > prologOff {
				continue // not executed yet
			}
			switch c.Op {
			case pe.UwopPushNonvol:
				v, err := s.ReadPointer(regs.SP())
				if err != nil {
					return nil, "", false
				}
				regs.GPR[c.Info] = v
				regs.GPR[RegSP] += 8
			case pe.UwopAllocLarge, pe.UwopAllocSmall:
				regs.GPR[RegSP] += uint64(c.Operand)
			case pe.UwopSetFPReg:
				// handled above
			case pe.UwopSaveNonvol, pe.UwopSaveNonvolFar:
				v, err := s.ReadPointer(base + uint64(c.Operand))
				if err != nil {
					return nil, "", false
				}
				regs.GPR[c.Info] = v
			case pe.UwopSaveXMM128, pe.UwopSaveXMM128Far:
				var x [16]byte
				if err := ReadFull(s.Target.Memory(), x[:], base+uint64(c.Operand)); err == nil {
					regs.Xmm[c.Info] = x
				}
			case pe.UwopPushMachframe:
				off := uint64(0)
				if c.Info == 1 {
					off = 8
				}
				ip, err1 := s.ReadPointer(regs.SP() + off)
				sp, err2 := s.ReadPointer(regs.SP() + off + 24)
				if err1 != nil || err2 != nil {
					return nil, "", false
				}
				regs.IP, regs.GPR[RegSP] = ip, sp
				machine = true
			}
		}
		if ui.Chained == nil {
			break
		}
		// A chained parent is applied whole: the prolog check uses only the
		// primary entry.
		inPrologCheck = false
		data = ui.Chained.UnwindData
	}
	if machine {
		return regs, FrameMachine, true
	}
	ret, err := s.ReadPointer(regs.SP())
	if err != nil {
		return nil, "", false
	}
	regs.IP = ret
	regs.GPR[RegSP] += 8
	return regs, how, true
}

// epilogUnwind recognises an x64 epilog at the frame's IP (add/lea rsp,
// pops, ret) and simulates the rest of it.
func (s *Session) epilogUnwind(img *pe.File, m *Module, rf pe.RuntimeFunction, regs *Registers, rva uint32) (*Registers, bool) {
	code := make([]byte, 64)
	n, _ := s.Target.Memory().ReadVirtual(code, m.Base+uint64(rva))
	if n == 0 {
		if img.ReadRVA(code[:16], rva, "code") != nil {
			return nil, false
		}
		n = 16
	}
	code = code[:n]
	r := copyRegs(regs)
	i := 0
	// add rsp, imm8 / imm32
	if i+4 <= len(code) && code[i] == 0x48 && code[i+1] == 0x83 && code[i+2] == 0xC4 {
		r.GPR[RegSP] += uint64(int64(int8(code[i+3])))
		i += 4
	} else if i+7 <= len(code) && code[i] == 0x48 && code[i+1] == 0x81 && code[i+2] == 0xC4 {
		r.GPR[RegSP] += uint64(int64(int32(binary.LittleEndian.Uint32(code[i+3:]))))
		i += 7
	} else if i+3 <= len(code) && (code[i] == 0x48 || code[i] == 0x49) && code[i+1] == 0x8D {
		// lea rsp, [reg + disp]
		modrm := code[i+2]
		if (modrm>>3)&7 == 4 {
			reg := int(modrm & 7)
			if code[i] == 0x49 {
				reg += 8
			}
			switch modrm >> 6 {
			case 1:
				if i+4 > len(code) {
					return nil, false
				}
				r.GPR[RegSP] = r.GPR[reg] + uint64(int64(int8(code[i+3])))
				i += 4
			case 2:
				if i+7 > len(code) {
					return nil, false
				}
				r.GPR[RegSP] = r.GPR[reg] + uint64(int64(int32(binary.LittleEndian.Uint32(code[i+3:]))))
				i += 7
			default:
				return nil, false
			}
		} else {
			return nil, false
		}
	}
	for i < len(code) {
		c := code[i]
		switch {
		case c >= 0x58 && c <= 0x5F:
			v, err := s.ReadPointer(r.SP())
			if err != nil {
				return nil, false
			}
			r.GPR[c-0x58] = v
			r.GPR[RegSP] += 8
			i++
		case c == 0x41 && i+1 < len(code) && code[i+1] >= 0x58 && code[i+1] <= 0x5F:
			v, err := s.ReadPointer(r.SP())
			if err != nil {
				return nil, false
			}
			r.GPR[8+code[i+1]-0x58] = v
			r.GPR[RegSP] += 8
			i += 2
		case c == 0xC3 || c == 0xC2 || (c == 0xF3 && i+1 < len(code) && code[i+1] == 0xC3):
			ret, err := s.ReadPointer(r.SP())
			if err != nil {
				return nil, false
			}
			r.IP = ret
			r.GPR[RegSP] += 8
			return r, true
		default:
			return nil, false
		}
	}
	return nil, false
}

// scanFrame finds the caller by scanning the stack for a value that points
// into a known module just after a call instruction.
func (s *Session) scanFrame(f *Frame) (*Registers, string, bool) {
	regs := copyRegs(f.Regs)
	ps := uint64(s.Target.Arch().PtrSize())
	start := regs.SP()
	for off := uint64(0); off < scanLimit; off += ps {
		v, err := s.ReadPointer(start + off)
		if err != nil {
			return nil, "", false
		}
		if s.looksLikeReturn(v) {
			regs.IP = v
			regs.GPR[RegSP] = start + off + ps
			return regs, FrameScan, true
		}
	}
	return nil, "", false
}

// looksLikeReturn: inside a module, and (when the code is readable) just
// after a call instruction.
func (s *Session) looksLikeReturn(v uint64) bool {
	m := s.ModuleAt(v)
	if m == nil || v < 7 {
		return false
	}
	if s.Images != nil {
		if isCode, known := s.Images.IsCode(m, v); known && !isCode {
			return false
		}
	}
	var code [7]byte
	n, _ := s.Target.Memory().ReadVirtual(code[:], v-7)
	if n < 7 {
		return true // code not captured: the module range is all we can check
	}
	return code[2] == 0xE8 || // call rel32
		(code[1] == 0xFF && (code[2]>>3)&7 == 2) || // call [rip+disp32]
		(code[5] == 0xFF && (code[6]>>3)&7 == 2 && code[6]>>6 == 3) || // call reg
		(code[4] == 0xFF && (code[5]>>3)&7 == 2) // call [reg+disp8]
}

// unwindX86 follows the EBP chain. Frame 0 at a ret (a leaf or a system
// call stub) takes its return address from ESP when that looks like one;
// a chain that leaves the modules falls back to a stack scan.
func (s *Session) unwindX86(f *Frame, first bool) (*Registers, string, bool) {
	if fdp, ok := s.Images.(FrameDataProvider); ok {
		if m := s.ModuleAt(f.LookupIP()); m != nil {
			if fd, ok := fdp.FrameData(m, uint32(f.LookupIP()-m.Base)); ok {
				if next, ok := s.unwindFrameData(f, fd, f.CalleeParams); ok {
					f.params, f.FPO = fd.Params, fd
					return next, FrameFPO, true
				}
			}
		}
	}
	regs := copyRegs(f.Regs)
	if first {
		var op [1]byte
		if n, _ := s.Target.Memory().ReadVirtual(op[:], regs.IP); n == 1 && (op[0] == 0xC3 || op[0] == 0xC2) {
			if ret, err := s.ReadPointer(regs.SP()); err == nil && s.looksLikeReturn(ret) {
				regs.IP = ret
				regs.GPR[RegSP] += 4
				return regs, FrameLeaf, true
			}
		}
	}
	ebp := regs.GPR[RegBP]
	if ebp != 0 && ebp >= regs.SP() {
		next, err1 := s.ReadPointer(ebp)
		ret, err2 := s.ReadPointer(ebp + 4)
		if err1 == nil && err2 == nil && (ret == 0 || s.ModuleAt(ret) != nil) {
			regs.IP = ret
			regs.GPR[RegSP] = ebp + 8
			regs.GPR[RegBP] = next
			return regs, FrameFP, true
		}
	}
	if first {
		return s.scanFrame(f)
	}
	return nil, "", false
}
