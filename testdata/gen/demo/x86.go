package demo

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/arch/x86/x86asm"

	"github.com/ntdbg/ntdbg/testdata/gen/mdw"
)

// The 32-bit scenario: fpoapp.exe, built without frame pointers, so that
// only the PDB's FPO frame programs walk its stack. The stack is built by
// executing each function's instructions from its entry to the chosen call
// (a small x86 simulator over the dump's own memory), independently of
// ntdbg's readers and of the FPO data the unwinder will use.

// X86Frame is what a correct x86 unwinder must recover for one frame.
type X86Frame struct {
	Function string
	EIP, ESP uint32
	EBP, EBX uint32
	ESI, EDI uint32
}

// X86Scenario is the 32-bit dump and its expected frames.
type X86Scenario struct {
	Dump   *mdw.Dump
	Frames []X86Frame // innermost first
	Image  *Image32
}

// Image32 is a mapped 32-bit fixture image.
type Image32 struct {
	Base    uint32
	Size    uint32
	Stamp   uint32
	Mapped  []byte
	Symbols map[string]uint64
	PdbName string
	PdbGUID [16]byte
	PdbAge  uint32
}

func loadImage32(file string) (*Image32, error) {
	m, err := mapPE(filepath.Join(FixtureDir(), file))
	if err != nil {
		return nil, err
	}
	img := &Image32{Base: uint32(m.base), Size: m.size, Stamp: m.stamp, Mapped: m.mapped, PdbName: m.pdbName, PdbGUID: m.pdbGUID, PdbAge: m.pdbAge}
	// Function addresses come from the linker's map, as for the x64 fixtures.
	sym := &Image{Base: m.base, Symbols: map[string]uint64{}}
	if err := sym.readMap(filepath.Join(FixtureDir(), strings.TrimSuffix(file, filepath.Ext(file))+".map")); err != nil {
		return nil, err
	}
	img.Symbols = sym.Symbols
	return img, nil
}

// sim32 is the simulated CPU: registers over the dump's address space.
type sim32 struct {
	sp   *Space
	regs map[x86asm.Reg]uint32
}

func (c *sim32) read32(a uint32) uint32 {
	c.sp.Commit(uint64(a), 4) // a read captures the pages, as the simulated stack must be in the dump
	return binary.LittleEndian.Uint32(c.sp.Read(uint64(a), 4))
}

func (c *sim32) push(v uint32) {
	c.regs[x86asm.ESP] -= 4
	c.sp.U32(uint64(c.regs[x86asm.ESP]), v)
}

func (c *sim32) addr(m x86asm.Mem) uint32 {
	a := uint32(int32(m.Disp))
	if m.Base != 0 {
		a += c.regs[m.Base]
	}
	if m.Index != 0 {
		a += c.regs[m.Index] * uint32(m.Scale)
	}
	return a
}

func (c *sim32) value(a x86asm.Arg) uint32 {
	switch v := a.(type) {
	case x86asm.Reg:
		return c.regs[v]
	case x86asm.Imm:
		return uint32(v)
	case x86asm.Mem:
		return c.read32(c.addr(v))
	}
	return 0
}

// run executes [from, to) of the image; calls on the way are stepped over
// (cdecl: the callee leaves ESP as it was).
func (c *sim32) run(img *Image32, from, to uint32) {
	for pc := from; pc < to; {
		inst, err := x86asm.Decode(img.Mapped[pc-img.Base:], 32)
		if err != nil {
			panic(fmt.Sprintf("x86 fixture: cannot decode at %x", pc))
		}
		dst, _ := inst.Args[0].(x86asm.Reg)
		switch inst.Op {
		case x86asm.PUSH:
			c.push(c.value(inst.Args[0]))
		case x86asm.POP:
			c.regs[dst] = c.read32(c.regs[x86asm.ESP])
			c.regs[x86asm.ESP] += 4
		case x86asm.MOV:
			if m, ok := inst.Args[0].(x86asm.Mem); ok {
				c.sp.U32(uint64(c.addr(m)), c.value(inst.Args[1]))
			} else {
				c.regs[dst] = c.value(inst.Args[1])
			}
		case x86asm.LEA:
			c.regs[dst] = c.addr(inst.Args[1].(x86asm.Mem))
		case x86asm.ADD:
			if dst != 0 {
				c.regs[dst] += c.value(inst.Args[1])
			}
		case x86asm.SUB:
			if dst != 0 {
				c.regs[dst] -= c.value(inst.Args[1])
			}
		case x86asm.AND:
			if dst != 0 {
				c.regs[dst] &= c.value(inst.Args[1])
			}
		case x86asm.CALL, x86asm.NOP:
		case x86asm.MOVSX, x86asm.MOVZX:
			if dst != 0 {
				c.regs[dst] = 0
			}
		default:
			if dst == x86asm.ESP || dst == x86asm.EBP {
				panic(fmt.Sprintf("x86 fixture: %v at %x changes the frame", inst, pc))
			}
		}
		pc += uint32(inst.Len)
	}
}

// callTo finds the address after the call to target inside [fn, fn+limit).
func callTo(img *Image32, fn, target uint32) uint32 {
	for pc := fn; pc < fn+0x80; {
		inst, err := x86asm.Decode(img.Mapped[pc-img.Base:], 32)
		if err != nil {
			break
		}
		if rel, ok := inst.Args[0].(x86asm.Rel); ok && inst.Op == x86asm.CALL && pc+uint32(inst.Len)+uint32(int32(rel)) == target {
			return pc + uint32(inst.Len)
		}
		pc += uint32(inst.Len)
	}
	panic(fmt.Sprintf("no call to %x in %x", target, fn))
}

// BuildX86Scenario writes the 32-bit dump: one thread in fpoapp.exe,
// thread_main → fpo_top → bp_frame → fpo_saver → leaf32 (stopped at its ret).
func BuildX86Scenario() *X86Scenario {
	img, err := loadImage32("fpoapp.exe")
	if err != nil {
		panic(err)
	}
	sp := NewSpace()
	sp.Write(uint64(img.Base), img.Mapped)
	sym := func(n string) uint32 { return uint32(img.Symbols[n]) }
	chain := []string{"_thread_main@4", "_fpo_top", "_bp_frame", "_fpo_saver", "_leaf32"}
	for _, n := range chain {
		if sym(n) == 0 {
			panic("fpoapp.map lacks " + n)
		}
	}
	const stackBase, teb = 0x00300000, 0x7ffde000
	c := &sim32{sp: sp, regs: map[x86asm.Reg]uint32{x86asm.EBX: 0x0badb001, x86asm.ESI: 0x0badb002, x86asm.EDI: 0x0badb003, x86asm.EBP: 0x0012fff0, x86asm.EAX: 0x41}}
	sp.Write(stackBase-0x4000, make([]byte, 0x4000))
	c.regs[x86asm.ESP] = stackBase - 0x100
	c.push(0x41) // thread_main's argument
	c.push(0)    // no caller
	var frames []X86Frame
	for j, name := range chain {
		fn := sym(name)
		var stop uint32
		if j+1 < len(chain) {
			stop = callTo(img, fn, sym(chain[j+1])) - 5 // run up to the call instruction itself
		} else {
			stop = fn + 0xd // leaf32's ret
		}
		before := map[x86asm.Reg]uint32{}
		for _, r := range []x86asm.Reg{x86asm.EBX, x86asm.ESI, x86asm.EDI} {
			before[r] = c.regs[r]
		}
		c.run(img, fn, stop)
		// Registers a function saves may be changed by it (the fixtures
		// clobber them): give those new values, as its body would.
		for r, v := range before {
			if c.regs[r] == v && savesRegister(img, fn, r) {
				c.regs[r] = 0x5a000000 | uint32(j)<<8 | uint32(r)
			}
		}
		eip := stop
		if j+1 < len(chain) {
			eip = stop + 5
		}
		frames = append([]X86Frame{{Function: name, EIP: eip, ESP: c.regs[x86asm.ESP], EBP: c.regs[x86asm.EBP], EBX: c.regs[x86asm.EBX], ESI: c.regs[x86asm.ESI], EDI: c.regs[x86asm.EDI]}}, frames...)
		if j+1 < len(chain) {
			c.push(eip) // the call pushes its return address
		}
	}
	f0 := frames[0]
	d := &mdw.Dump{X86: true, ProcessID: 0x1a2c, Time: time.Date(2016, 3, 1, 9, 30, 0, 0, time.UTC), ProcessCreate: time.Date(2016, 3, 1, 9, 29, 0, 0, time.UTC),
		Major: 6, Minor: 1, Build: 7601, Processors: 2, ProductType: 1, SuiteMask: 0x100, TZBias: 0, TZName: "UTC",
		Comment: "ntdbg x86 fixture: a stack that only FPO data can walk"}
	d.Modules = []mdw.Module{{Base: uint64(img.Base), Size: img.Size, Path: `C:\fixtures\fpoapp.exe`, TimeDateStamp: img.Stamp, FileVersion: [4]uint16{1, 0, 0, 1},
		PdbName: img.PdbName, PdbGUID: img.PdbGUID, PdbAge: img.PdbAge}}
	sp.U32(teb+0x04, stackBase)
	sp.U32(teb+0x08, stackBase-0x4000)
	sp.U32(teb+0x18, teb)
	sp.U32(teb+0x20, 0x1a2c)
	sp.U32(teb+0x24, 0x0f10)
	d.Threads = []mdw.Thread{{ID: 0x0f10, Teb: teb, StackStart: stackBase - 0x4000, StackSize: 0x4000,
		Ctx32: &mdw.Context32{Eip: f0.EIP, Esp: f0.ESP, Ebp: f0.EBP, Ebx: f0.EBX, Esi: f0.ESI, Edi: f0.EDI, Eax: c.regs[x86asm.EAX], Ecx: c.regs[x86asm.ECX]}}}
	d.Memory = sp.Regions()
	return &X86Scenario{Dump: d, Frames: frames, Image: img}
}

// savesRegister reports a `push r` among a function's first instructions.
func savesRegister(img *Image32, fn uint32, r x86asm.Reg) bool {
	for pc, i := fn, 0; i < 6; i++ {
		inst, err := x86asm.Decode(img.Mapped[pc-img.Base:], 32)
		if err != nil {
			return false
		}
		if inst.Op == x86asm.PUSH && inst.Args[0] == r {
			return true
		}
		pc += uint32(inst.Len)
	}
	return false
}
