package commands

import (
	"fmt"
	"math"
	"strings"

	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
	"github.com/ntdbg/ntdbg/engine/unwind"
)

// paramReg reads a parameter's register in a frame: ok is false when its
// value is not known there (a volatile register above frame 0).
func (c *Ctx) paramReg(f *unwind.Frame, p symbols.Param) (uint64, bool) {
	if !p.RegKnown || (f.Num > 0 && !target.NonVolatile(c.S.Target.Arch(), p.Reg)) {
		return 0, false
	}
	if p.Reg == target.RegSP {
		return f.SP, true
	}
	return f.Regs.GPR[p.Reg], true
}

// varAddr locates a variable in a frame: its address, or inReg when it
// lives in a register; ok is false when the frame does not know it.
func (c *Ctx) varAddr(f *unwind.Frame, p symbols.Param) (addr uint64, inReg, ok bool) {
	x64 := c.S.Target.Arch() == target.ArchAMD64
	switch p.Kind {
	case symbols.LocRegRel:
		base, ok := c.paramReg(f, p)
		if !ok {
			return 0, false, false
		}
		return base + uint64(int64(p.Offset)), false, true
	case symbols.LocFrameRel:
		var base uint64
		switch {
		case p.FrameReg == 1 && !x64: // VFRAME: the slot of the return address
			base = f.FP + 4
		case p.FrameReg == 1:
			base = f.SP
		case p.FrameReg == 2:
			base = f.Regs.GPR[target.RegBP]
		case p.FrameReg == 3 && x64:
			base = f.Regs.GPR[target.RegR13]
		case p.FrameReg == 3:
			base = f.Regs.GPR[target.RegBX]
		default:
			return 0, false, false
		}
		return base + uint64(int64(p.Offset)), false, true
	case symbols.LocRegister:
		_, ok := c.paramReg(f, p)
		return 0, true, ok
	}
	return 0, false, false
}

// paramValue renders one parameter of a frame as `type name = value`.
func (c *Ctx) paramValue(f *unwind.Frame, ref *types.Ref, p symbols.Param) string {
	return fmt.Sprintf("%s %s = %s", cTypeName(ref, p.Type), p.Name, c.varValue(f, ref, p))
}

// varValue is a variable's value in a frame, as kp and dv print it.
func (c *Ctx) varValue(f *unwind.Frame, ref *types.Ref, p symbols.Param) string {
	const unavailable = "<value unavailable>"
	addr, inReg, ok := c.varAddr(f, p)
	if !ok {
		return unavailable
	}
	if inReg {
		v, _ := c.paramReg(f, p)
		return c.scalarText(ref, p.Type, v)
	}
	size := ref.TypeSize(p.Type)
	if t := ref.Resolve(p.Type); t.Kind.IsUDT() || t.Kind == types.KindArray {
		return cTypeName(ref, p.Type)
	}
	if size == 0 || size > 8 {
		return unavailable
	}
	b, ok := c.readBytes(addr, size)
	if !ok {
		return unavailable
	}
	return c.scalarText(ref, p.Type, le(b))
}

// scalarText formats a scalar the way kp does: 0n decimal for signed
// integers, hex for unsigned, true/false, pointers in full.
func (c *Ctx) scalarText(ref *types.Ref, ti uint32, v uint64) string {
	if ti >= 0x1000 {
		switch t := ref.Resolve(ti); t.Kind {
		case types.KindPointer:
			if e := ref.Resolve(t.Elem); e.Kind == types.KindBasic && e.Index < 0x100 {
				return c.charPreview(v, e.Index)
			}
			return "0x" + c.ptr(v)
		case types.KindEnum:
			return fmt.Sprintf("0n%d", int64(v))
		case types.KindBasic:
			ti = t.Index // a const or volatile basic type formats as the basic type
		case types.KindUnknown:
		default:
			return fmt.Sprintf("0x%x", v)
		}
	}
	if (ti>>8)&7 != 0 {
		return c.charPreview(v, ti&0xff)
	}
	size := types.SimpleTypeSize(ti)
	if size > 0 && size < 8 {
		v &= 1<<(8*size) - 1
	}
	kind := ti & 0xff
	switch {
	case kind == 0x30:
		if v != 0 {
			return "true"
		}
		return "false"
	case kind == 0x40:
		return fmt.Sprintf("%g", math.Float32frombits(uint32(v)))
	case kind == 0x41:
		return fmt.Sprintf("%g", math.Float64frombits(v))
	case types.IsSigned(kind):
		shift := 64 - 8*size
		return fmt.Sprintf("0n%d", int64(v<<shift)>>shift)
	}
	return fmt.Sprintf("0x%x", v)
}

// paramList renders a frame's parameters for kp (inline) or kP (one per line).
func (c *Ctx) paramList(f *unwind.Frame, perLine bool) (string, bool) {
	ps, ref, ok := c.S.Symbols.Params(f.LookupIP())
	if !ok {
		return "", false
	}
	var parts []string
	for _, p := range ps {
		parts = append(parts, target.Sanitize(c.paramValue(f, ref, p)))
	}
	if perLine {
		if len(parts) == 0 {
			return "(void)", true
		}
		return "(\n\t\t\t" + strings.Join(parts, ", \n\t\t\t") + ")", true
	}
	if len(parts) == 0 {
		return "(void)", true
	}
	return "(" + strings.Join(parts, ", ") + ")", true
}

// charPreview is a pointer parameter as kp shows it: char and wchar_t
// pointers carry their string (`0x00000000`00401000 "text"`).
func (c *Ctx) charPreview(v uint64, kind uint32) string {
	p := "0x" + c.ptr(v)
	if v == 0 {
		return p
	}
	switch kind {
	case 0x10, 0x20, 0x70, 0x7c:
		return p + " \"" + c.previewString(v, false) + "\""
	case 0x71, 0x7a:
		return p + " \"" + c.previewString(v, true) + "\""
	}
	return p
}
