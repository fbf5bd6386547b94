package unwind

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ntdbg/ntdbg/dumpfmt/pe"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
)

// unwindOne finds the caller's registers of frame f.
func (w *Walker) unwindOne(f *Frame, first bool) (*target.Registers, Method, error) {
	if w.Arch == target.ArchX86 {
		return w.unwindX86(f, first)
	}
	regs := copyRegs(f.Regs)
	m := w.moduleAt(f.LookupIP())
	var img *pe.File
	if m != nil && w.Images != nil {
		img = w.Images.Image(m)
	}
	if img == nil {
		return w.scanFrame(f)
	}
	rva := uint32(f.IP - m.Base)
	lookup := uint32(f.LookupIP() - m.Base)
	rf, ok := img.LookupFunction(lookup)
	if !ok {
		// Leaf function: the return address is at RSP.
		ret, err := w.ptr(regs.SP())
		if err != nil {
			return nil, 0, fmt.Errorf("the return address of leaf function at %#x is unreadable: %w", f.IP, err)
		}
		regs.IP = ret
		regs.GPR[target.RegSP] += 8
		return regs, Leaf, nil
	}
	if first || f.Exact {
		if r, ok := w.epilogUnwind(img, m, rf, regs, rva); ok {
			return r, Epilog, nil
		}
	}
	how := UnwindInfo
	prologOff := rva - rf.Begin
	inPrologCheck := first || f.Exact
	data := rf.UnwindData
	machine := false
	for depth := 0; depth < 32; depth++ {
		ui, err := img.ReadUnwindInfo(data)
		if err != nil {
			return w.scanFrame(f)
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
				regs.GPR[target.RegSP] = base
			}
		}
		for _, c := range ui.Codes {
			if inPrologCheck && uint32(c.CodeOffset) > prologOff {
				continue // not executed yet
			}
			switch c.Op {
			case pe.UwopPushNonvol:
				v, err := w.ptr(regs.SP())
				if err != nil {
					return nil, 0, fmt.Errorf("a register pushed by the prolog is unreadable: %w", err)
				}
				regs.GPR[c.Info] = v
				regs.GPR[target.RegSP] += 8
			case pe.UwopAllocLarge, pe.UwopAllocSmall:
				regs.GPR[target.RegSP] += uint64(c.Operand)
			case pe.UwopSetFPReg:
				// handled above
			case pe.UwopSaveNonvol, pe.UwopSaveNonvolFar:
				v, err := w.ptr(base + uint64(c.Operand))
				if err != nil {
					return nil, 0, fmt.Errorf("a register saved by the prolog is unreadable: %w", err)
				}
				regs.GPR[c.Info] = v
			case pe.UwopSaveXMM128, pe.UwopSaveXMM128Far:
				var x [16]byte
				if err := mem.ReadFull(w.Mem, x[:], base+uint64(c.Operand)); err == nil {
					regs.Xmm[c.Info] = x
				}
			case pe.UwopPushMachframe:
				off := uint64(0)
				if c.Info == 1 {
					off = 8
				}
				ip, err1 := w.ptr(regs.SP() + off)
				sp, err2 := w.ptr(regs.SP() + off + 24)
				if err := errors.Join(err1, err2); err != nil {
					return nil, 0, fmt.Errorf("the machine frame is unreadable: %w", err)
				}
				regs.IP, regs.GPR[target.RegSP] = ip, sp
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
		return regs, MachineFrame, nil
	}
	ret, err := w.ptr(regs.SP())
	if err != nil {
		return nil, 0, fmt.Errorf("the return address is unreadable: %w", err)
	}
	regs.IP = ret
	regs.GPR[target.RegSP] += 8
	return regs, how, nil
}

// epilogUnwind recognises an x64 epilog at the frame's IP (add/lea rsp,
// pops, ret) and simulates the rest of it.
func (w *Walker) epilogUnwind(img *pe.File, m *target.Module, rf pe.RuntimeFunction, regs *target.Registers, rva uint32) (*target.Registers, bool) {
	code := make([]byte, 64)
	n, _ := w.Mem.ReadVirtual(code, m.Base+uint64(rva))
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
		r.GPR[target.RegSP] += uint64(int64(int8(code[i+3])))
		i += 4
	} else if i+7 <= len(code) && code[i] == 0x48 && code[i+1] == 0x81 && code[i+2] == 0xC4 {
		r.GPR[target.RegSP] += uint64(int64(int32(binary.LittleEndian.Uint32(code[i+3:]))))
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
				r.GPR[target.RegSP] = r.GPR[reg] + uint64(int64(int8(code[i+3])))
				i += 4
			case 2:
				if i+7 > len(code) {
					return nil, false
				}
				r.GPR[target.RegSP] = r.GPR[reg] + uint64(int64(int32(binary.LittleEndian.Uint32(code[i+3:]))))
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
			v, err := w.ptr(r.SP())
			if err != nil {
				return nil, false
			}
			r.GPR[c-0x58] = v
			r.GPR[target.RegSP] += 8
			i++
		case c == 0x41 && i+1 < len(code) && code[i+1] >= 0x58 && code[i+1] <= 0x5F:
			v, err := w.ptr(r.SP())
			if err != nil {
				return nil, false
			}
			r.GPR[8+code[i+1]-0x58] = v
			r.GPR[target.RegSP] += 8
			i += 2
		case c == 0xC3 || c == 0xC2 || (c == 0xF3 && i+1 < len(code) && code[i+1] == 0xC3):
			ret, err := w.ptr(r.SP())
			if err != nil {
				return nil, false
			}
			r.IP = ret
			r.GPR[target.RegSP] += 8
			return r, true
		default:
			return nil, false
		}
	}
	return nil, false
}
