package unwind

import (
	"fmt"

	"github.com/ntdbg/ntdbg/engine/target"
)

// unwindX86 follows the EBP chain. Frame 0 at a ret (a leaf or a system
// call stub) takes its return address from ESP when that looks like one;
// a chain that leaves the modules falls back to a stack scan.
func (w *Walker) unwindX86(f *Frame, first bool) (*target.Registers, Method, error) {
	if fdp := w.FrameData; fdp != nil {
		if m := w.moduleAt(f.LookupIP()); m != nil {
			if fd, ok := fdp.FrameData(m, uint32(f.LookupIP()-m.Base)); ok {
				if next, ok := w.unwindFrameData(f, fd, f.CalleeParams); ok {
					f.params, f.FPO = fd.Params, fd
					return next, FrameProgram, nil
				}
			}
		}
	}
	regs := copyRegs(f.Regs)
	if first {
		var op [1]byte
		if n, _ := w.Mem.ReadVirtual(op[:], regs.IP); n == 1 && (op[0] == 0xC3 || op[0] == 0xC2) {
			if ret, err := w.ptr(regs.SP()); err == nil && w.looksLikeReturn(ret) {
				regs.IP = ret
				regs.GPR[target.RegSP] += 4
				return regs, Leaf, nil
			}
		}
	}
	ebp := regs.GPR[target.RegBP]
	if ebp != 0 && ebp >= regs.SP() {
		next, err1 := w.ptr(ebp)
		ret, err2 := w.ptr(ebp + 4)
		if err1 == nil && err2 == nil && (ret == 0 || w.moduleAt(ret) != nil) {
			regs.IP = ret
			regs.GPR[target.RegSP] = ebp + 8
			regs.GPR[target.RegBP] = next
			return regs, FramePointer, nil
		}
	}
	if first {
		return w.scanFrame(f)
	}
	return nil, 0, fmt.Errorf("no frame data, and EBP %#x does not lead to a return address", ebp)
}
