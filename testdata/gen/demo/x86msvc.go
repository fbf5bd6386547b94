package demo

import (
	"fmt"
	"time"

	"golang.org/x/arch/x86/x86asm"

	"github.com/ntdbg/ntdbg/testdata/gen/mdw"
)

// The x86 MSVC scenario (issue 10): crash.exe laid out as an MSVC-built
// console program, with 32-bit kernel32.dll and ntdll.dll, one thread that
// died in main with an access violation. main (crash_main.S) has MSVC's
// realigned frame, EBP biased 204 bytes below the saved EBP, and the
// FRAMEDATA program MSVC writes for it with `=` glued to the next register;
// the rest are clang's FPO programs (crash.exe without frame pointers,
// kernel32 and ntdll with them). As in x86.go the stack is built by
// simulating each function's instructions from its entry to its call, so
// the expected frames owe nothing to ntdbg's readers or to the FPO data.

// X86MSVCLink is one function of the chain: its module file (in
// bin/x86msvc), the linker's name (the map's) and the name k shows.
type X86MSVCLink struct{ File, Linker, Name string }

// X86MSVCChain is the thread's call chain, outermost first.
var X86MSVCChain = []X86MSVCLink{
	{"ntdll.dll", "__RtlUserThreadStart@8", "ntdll!_RtlUserThreadStart"},
	{"ntdll.dll", "___RtlUserThreadStart@8", "ntdll!__RtlUserThreadStart"},
	{"kernel32.dll", "_BaseThreadInitThunk@12", "kernel32!BaseThreadInitThunk"},
	{"crash.exe", "_mainCRTStartup@4", "crash!mainCRTStartup"},
	{"crash.exe", "___scrt_common_main_seh", "crash!__scrt_common_main_seh"},
	{"crash.exe", "_main", "crash!main"}, // faults storing through lookup_record's NULL
}

// X86MSVCScenario is the dump, its expected frames and its exception.
type X86MSVCScenario struct {
	Dump   *mdw.Dump
	Frames []X86Frame // innermost first; Function is the name k shows
	Images map[string]*Image32
	// FaultAddress is the address main's store wrote to.
	FaultAddress uint32
	// StartSlot is the thread's outermost return slot (holding 0).
	StartSlot uint32
}

// chainCall finds the call in fn that goes to target: a direct call to it,
// else the function's first indirect call (a call through a pointer, as
// kernel32 calls the start routine and ntdll calls kernel32). It returns
// the call instruction's address and the return address.
func chainCall(img *Image32, fn, target uint32) (at, ret uint32) {
	indirect := uint32(0)
	for pc := fn; pc < fn+0x100; {
		inst, err := x86asm.Decode(img.Mapped[pc-img.Base:], 32)
		if err != nil {
			break
		}
		next := pc + uint32(inst.Len)
		if inst.Op == x86asm.CALL {
			switch a := inst.Args[0].(type) {
			case x86asm.Rel:
				if next+uint32(int32(a)) == target {
					return pc, next
				}
			case x86asm.Mem, x86asm.Reg:
				if indirect == 0 {
					indirect = pc
				}
			}
		}
		if inst.Op == x86asm.RET {
			break
		}
		pc = next
	}
	if indirect != 0 {
		inst, _ := x86asm.Decode(img.Mapped[indirect-img.Base:], 32)
		return indirect, indirect + uint32(inst.Len)
	}
	panic(fmt.Sprintf("x86msvc fixture: no call to %x in %x", target, fn))
}

// storeThroughEAX finds the first store through EAX at or after pc: main's
// `mov dword ptr [eax+8], ecx` (r->hits = n).
func storeThroughEAX(img *Image32, pc uint32) (uint32, x86asm.Mem) {
	for end := pc + 0x40; pc < end; {
		inst, err := x86asm.Decode(img.Mapped[pc-img.Base:], 32)
		if err != nil {
			break
		}
		if m, ok := inst.Args[0].(x86asm.Mem); ok && inst.Op == x86asm.MOV && m.Base == x86asm.EAX {
			return pc, m
		}
		pc += uint32(inst.Len)
	}
	panic("x86msvc fixture: main has no store through eax")
}

// BuildX86MSVCScenario writes the dump: crash.exe, ntdll.dll and
// kernel32.dll mapped at their bases, one thread stopped at main's
// faulting store, and the exception stream (c0000005 writing 00000008)
// with the same context, as a dump written at the first-chance exception.
func BuildX86MSVCScenario() *X86MSVCScenario {
	imgs := map[string]*Image32{}
	sp := NewSpace()
	for _, f := range []string{"crash.exe", "ntdll.dll", "kernel32.dll"} {
		img, err := loadImage32("x86msvc/" + f)
		if err != nil {
			panic(err)
		}
		imgs[f] = img
		sp.Write(uint64(img.Base), img.Mapped)
	}
	sym := func(file, name string) uint32 {
		v, ok := imgs[file].Symbols[name]
		if !ok {
			panic("x86msvc fixture: " + file + " has no " + name)
		}
		return uint32(v)
	}
	// The loader's work: ntdll calls kernel32's thunk through this pointer.
	sp.U32(uint64(sym("ntdll.dll", "_Kernel32ThreadInitThunkFunction")), sym("kernel32.dll", "_BaseThreadInitThunk@12"))

	const (
		pid, tid  = 0x1d38, 0x2f4c
		stackBase = 0x00d00000
		stackSize = 0x6000
		teb       = 0x7ffdd000
		peb       = 0x7ffdf000
	)
	sp.Write(stackBase-stackSize, make([]byte, stackSize))
	c := &sim32{sp: sp, regs: map[x86asm.Reg]uint32{x86asm.EAX: sym("crash.exe", "_mainCRTStartup@4"), x86asm.EBX: peb,
		x86asm.ESI: 0, x86asm.EDI: 0, x86asm.EBP: 0}}
	// The thread's initial stack: RtlUserThreadStart(start, param) with no
	// return address above it.
	c.regs[x86asm.ESP] = stackBase - 0x10
	c.push(peb)                                   // the start routine's parameter: the PEB, as for a process's first thread
	c.push(sym("crash.exe", "_mainCRTStartup@4")) // the start routine
	c.push(0)                                     // no caller
	startSlot := c.regs[x86asm.ESP]
	var frames []X86Frame
	var fault uint32
	for j, link := range X86MSVCChain {
		img := imgs[link.File]
		fn := sym(link.File, link.Linker)
		before := map[x86asm.Reg]uint32{}
		for _, r := range []x86asm.Reg{x86asm.EBX, x86asm.ESI, x86asm.EDI} {
			before[r] = c.regs[r]
		}
		var eip, ret uint32
		if j+1 < len(X86MSVCChain) {
			next := X86MSVCChain[j+1]
			var at uint32
			at, ret = chainCall(img, fn, sym(next.File, next.Linker))
			c.run(img, fn, at)
			eip = ret
		} else {
			// main: up to and over its call to lookup_record, which returns
			// NULL for id 7 (crash.c), then on to the store through it.
			_, after := chainCall(img, fn, sym("crash.exe", "_lookup_record"))
			c.run(img, fn, after)
			c.regs[x86asm.EAX] = 0
			var m x86asm.Mem
			eip, m = storeThroughEAX(img, after)
			c.run(img, after, eip)
			fault = c.addr(m)
		}
		// A function that saves a register may change it: give saved but
		// unchanged registers new values, as its body would, so only a
		// correct restore finds the caller's.
		for r, v := range before {
			if c.regs[r] == v && savesRegister(img, fn, r) {
				c.regs[r] = 0x5b000000 | uint32(j)<<8 | uint32(r)
			}
		}
		frames = append([]X86Frame{{Function: link.Name, EIP: eip, ESP: c.regs[x86asm.ESP], EBP: c.regs[x86asm.EBP],
			EBX: c.regs[x86asm.EBX], ESI: c.regs[x86asm.ESI], EDI: c.regs[x86asm.EDI]}}, frames...)
		if j+1 < len(X86MSVCChain) {
			c.push(ret) // the call pushes its return address
		}
	}
	f0 := frames[0]
	ctx := &mdw.Context32{Eip: f0.EIP, Esp: f0.ESP, Ebp: f0.EBP, Ebx: f0.EBX, Esi: f0.ESI, Edi: f0.EDI, Eax: c.regs[x86asm.EAX],
		Ecx: c.regs[x86asm.ECX], Edx: c.regs[x86asm.EDX], EFlags: 0x10246}
	d := &mdw.Dump{X86: true, ProcessID: pid, Time: time.Date(2024, 5, 14, 16, 2, 41, 0, time.UTC), ProcessCreate: time.Date(2024, 5, 14, 16, 2, 40, 0, time.UTC),
		Major: 10, Minor: 0, Build: 19045, Processors: 2, ProductType: 1, SuiteMask: 0x100, TZBias: 0, TZName: "UTC",
		Comment: "ntdbg x86 fixture: an MSVC-style crash whose main realigns its frame below EBP"}
	for _, f := range []string{"crash.exe", "ntdll.dll", "kernel32.dll"} {
		img := imgs[f]
		path := `C:\Windows\System32\` + f
		if f == "crash.exe" {
			path = `C:\src\crash\Release\crash.exe`
		}
		d.Modules = append(d.Modules, mdw.Module{Base: uint64(img.Base), Size: img.Size, Path: path, TimeDateStamp: img.Stamp,
			FileVersion: [4]uint16{10, 0, 19041, 1}, PdbName: img.PdbName, PdbGUID: img.PdbGUID, PdbAge: img.PdbAge})
	}
	sp.U32(teb+0x00, 0xffffffff) // no SEH frame
	sp.U32(teb+0x04, stackBase)
	sp.U32(teb+0x08, stackBase-stackSize)
	sp.U32(teb+0x18, teb)
	sp.U32(teb+0x20, pid)
	sp.U32(teb+0x24, tid)
	d.Threads = []mdw.Thread{{ID: tid, Teb: teb, StackStart: stackBase - stackSize, StackSize: stackSize, Ctx32: ctx}}
	d.Exception = &mdw.Exception{ThreadID: tid, Code: 0xC0000005, Address: uint64(f0.EIP), Params: []uint64{1, uint64(fault)}, Ctx32: ctx}
	d.Memory = sp.Regions()
	return &X86MSVCScenario{Dump: d, Frames: frames, Images: imgs, FaultAddress: fault, StartSlot: startSlot}
}
