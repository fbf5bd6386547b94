package unwind

import (
	"fmt"

	"github.com/ntdbg/ntdbg/engine/target"
)

// scanFrame finds the caller by scanning the stack for a value that points
// into a known module just after a call instruction.
func (w *Walker) scanFrame(f *Frame) (*target.Registers, Method, error) {
	regs := copyRegs(f.Regs)
	ps := uint64(w.Arch.PtrSize())
	start := regs.SP()
	for off := uint64(0); off < scanLimit; off += ps {
		v, err := w.ptr(start + off)
		if err != nil {
			return nil, 0, fmt.Errorf("no return address found before the end of the readable stack: %w", err)
		}
		if w.looksLikeReturn(v) {
			regs.IP = v
			regs.GPR[target.RegSP] = start + off + ps
			return regs, Scan, nil
		}
	}
	return nil, 0, fmt.Errorf("no return address found in %#x bytes of stack from %#x", scanLimit, start)
}

// looksLikeReturn: inside a module, and (when the code is readable) just
// after a call instruction.
func (w *Walker) looksLikeReturn(v uint64) bool {
	m := w.moduleAt(v)
	if m == nil || v < 7 {
		return false
	}
	if w.Images != nil {
		if isCode, known := w.Images.IsCode(m, v); known && !isCode {
			return false
		}
	}
	var code [7]byte
	n, _ := w.Mem.ReadVirtual(code[:], v-7)
	if n < 7 {
		return true // code not captured: the module range is all we can check
	}
	return code[2] == 0xE8 || // call rel32
		(code[1] == 0xFF && (code[2]>>3)&7 == 2) || // call [rip+disp32]
		(code[5] == 0xFF && (code[6]>>3)&7 == 2 && code[6]>>6 == 3) || // call reg
		(code[4] == 0xFF && (code[5]>>3)&7 == 2) // call [reg+disp8]
}
