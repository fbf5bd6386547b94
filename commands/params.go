package commands

import (
	"fmt"
	"math"
	"strings"

	"ntdbg/dumpfmt/pdb"
	"ntdbg/engine"
)

// CodeView register numbers to our register indices.
var cvX86 = map[uint16]int{17: engine.RegAX, 18: engine.RegCX, 19: engine.RegDX, 20: engine.RegBX, 21: engine.RegSP, 22: engine.RegBP, 23: engine.RegSI, 24: engine.RegDI}
var cvAMD64 = map[uint16]int{328: engine.RegAX, 329: engine.RegBX, 330: engine.RegCX, 331: engine.RegDX, 332: engine.RegSI, 333: engine.RegDI,
	334: engine.RegBP, 335: engine.RegSP, 336: engine.RegR8, 337: engine.RegR9, 338: engine.RegR10, 339: engine.RegR11,
	340: engine.RegR12, 341: engine.RegR13, 342: engine.RegR14, 343: engine.RegR15}

// nonVolatile registers keep their values in caller frames.
func nonVolatile(x64 bool, r int) bool {
	switch r {
	case engine.RegBX, engine.RegBP, engine.RegSI, engine.RegDI, engine.RegSP:
		return true
	case engine.RegR12, engine.RegR13, engine.RegR14, engine.RegR15:
		return x64
	}
	return false
}

// frameReg reads a CodeView register in a frame: ok is false when its value
// is not known there (a volatile register above frame 0).
func (c *Ctx) frameReg(f *engine.Frame, cv uint16) (uint64, bool) {
	x64 := c.S.Target.Arch() == engine.ArchAMD64
	m := cvX86
	if x64 {
		m = cvAMD64
	}
	r, ok := m[cv]
	if !ok || (f.Num > 0 && !nonVolatile(x64, r)) {
		return 0, false
	}
	if r == engine.RegSP {
		return f.SP, true
	}
	return f.Regs.GPR[r], true
}

// paramValue renders one parameter of a frame as `type name = value`.
func (c *Ctx) paramValue(f *engine.Frame, ref *engine.TypeRef, p pdb.Param) string {
	typ := cTypeName(ref, p.Type)
	unavailable := fmt.Sprintf("%s %s = <value unavailable>", typ, p.Name)
	var addr uint64
	x64 := c.S.Target.Arch() == engine.ArchAMD64
	switch p.Kind {
	case pdb.LocRegRel:
		base, ok := c.frameReg(f, p.Reg)
		if !ok {
			return unavailable
		}
		addr = base + uint64(int64(p.Offset))
	case pdb.LocFrameRel:
		var base uint64
		switch {
		case p.FrameReg == 1 && !x64: // VFRAME: the slot of the return address
			base = f.FP + 4
		case p.FrameReg == 1:
			base = f.SP
		case p.FrameReg == 2:
			base = f.Regs.GPR[engine.RegBP]
		case p.FrameReg == 3 && x64:
			base = f.Regs.GPR[engine.RegR13]
		case p.FrameReg == 3:
			base = f.Regs.GPR[engine.RegBX]
		default:
			return unavailable
		}
		addr = base + uint64(int64(p.Offset))
	case pdb.LocRegister:
		v, ok := c.frameReg(f, p.Reg)
		if !ok {
			return unavailable
		}
		return fmt.Sprintf("%s %s = %s", typ, p.Name, c.scalarText(ref, p.Type, v))
	default:
		return unavailable
	}
	size := ref.TypeSize(p.Type)
	if t := resolveType(ref, p.Type); t != nil && (t.IsUDT() || t.Leaf == pdb.LF_ARRAY) {
		return fmt.Sprintf("%s %s = %s", typ, p.Name, typ)
	}
	if size == 0 || size > 8 {
		return unavailable
	}
	b, ok := c.readBytes(addr, size)
	if !ok {
		return unavailable
	}
	return fmt.Sprintf("%s %s = %s", typ, p.Name, c.scalarText(ref, p.Type, le(b)))
}

// scalarText formats a scalar the way kp does: 0n decimal for signed
// integers, hex for unsigned, true/false, pointers in full.
func (c *Ctx) scalarText(ref *engine.TypeRef, ti uint32, v uint64) string {
	if t := resolveType(ref, ti); t != nil {
		switch t.Leaf {
		case pdb.LF_POINTER:
			return "0x" + c.ptr(v)
		case pdb.LF_ENUM:
			return fmt.Sprintf("0n%d", int64(v))
		}
		return fmt.Sprintf("0x%x", v)
	}
	if (ti>>8)&7 != 0 {
		return "0x" + c.ptr(v)
	}
	size := engine.SimpleTypeSize(ti)
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
	case isSigned(kind):
		shift := 64 - 8*size
		return fmt.Sprintf("0n%d", int64(v<<shift)>>shift)
	}
	return fmt.Sprintf("0x%x", v)
}

// paramList renders a frame's parameters for kp (inline) or kP (one per line).
func (c *Ctx) paramList(f *engine.Frame, perLine bool) (string, bool) {
	if c.Symbols == nil {
		return "", false
	}
	ps, ref, ok := c.Symbols.Params(f.LookupIP())
	if !ok {
		return "", false
	}
	var parts []string
	for _, p := range ps {
		parts = append(parts, engine.Sanitize(c.paramValue(f, ref, p)))
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
