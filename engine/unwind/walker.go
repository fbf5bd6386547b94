// Package unwind walks thread stacks. A Walker is given memory, the module
// list, module images (for x64 .pdata/UNWIND_INFO) and, for x86, the PDBs'
// frame data; it knows nothing of sessions or commands. Frames come out of
// an iterator, each tagged with how it was found and how far it can be
// trusted; a walk that stops early says why in the last frame's Err.
//
// x64 follows RtlVirtualUnwind's rules (amd64_unwind.go); x86 evaluates
// FPO frame programs (x86_frameprog.go), then the EBP chain (x86_unwind.go);
// both fall back to a bounded stack scan (scan.go).
package unwind

import (
	"errors"
	"iter"

	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
	"github.com/ntdbg/ntdbg/dumpfmt/pe"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
)

// Method is how a frame's registers were recovered from the frame below it.
type Method int

const (
	Context      Method = iota // frame 0: the thread's registers
	UnwindInfo                 // the callee's .pdata/UNWIND_INFO
	Leaf                       // callee has no unwind data: return address at the stack pointer
	MachineFrame               // callee pushed a machine frame (trap/exception)
	Epilog                     // frame 0 stopped inside an epilog, simulated
	FramePointer               // frame-pointer chain (x86 EBP)
	FrameProgram               // x86 FPO data or frame program from the PDB
	Scan                       // stack scan for a return address
)

var methodNames = [...]string{"context", "unwind", "leaf", "machine", "epilog", "fp", "fpo", "scan"}

func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return "unknown"
}

// Trust is how much a frame's registers can be believed.
type Trust int

const (
	TrustContext      Trust = iota // recorded by the dump
	TrustUnwindData                // computed from the image's unwind data
	TrustFrameProgram              // computed from PDB frame data
	TrustFramePointer              // followed a frame-pointer chain
	TrustScan                      // guessed from a value on the stack
)

var trustNames = [...]string{"context", "unwind data", "frame program", "frame pointer", "scan"}

func (t Trust) String() string {
	if int(t) < len(trustNames) {
		return trustNames[t]
	}
	return "unknown"
}

// Trust is the trust level of frames found by m.
func (m Method) Trust() Trust {
	switch m {
	case Context:
		return TrustContext
	case UnwindInfo, Leaf, MachineFrame, Epilog:
		return TrustUnwindData
	case FrameProgram:
		return TrustFrameProgram
	case FramePointer:
		return TrustFramePointer
	}
	return TrustScan
}

// Frame is one stack frame.
type Frame struct {
	Num     int
	IP      uint64 // instruction pointer (return address for callers)
	SP      uint64 // Child-SP: the stack pointer in this frame
	FP      uint64 // x86 ChildEBP
	RetAddr uint64
	Regs    *target.Registers
	How     Method // how this frame's registers were recovered
	Trust   Trust
	// Exact is true when IP is not a return address (frame 0, or a frame
	// interrupted under a machine frame): symbol lookup uses IP itself.
	Exact bool
	// CalleeParams is the size of the arguments this frame pushed for the
	// frame below it (x86 FPO unwinding steps over them).
	CalleeParams uint32
	params       uint32 // this frame's own parameter size, from FPO data
	// FPO is the x86 frame data that unwound this frame, when there was some.
	FPO *pdb.FrameData
	// Err is set on the last frame when the walk stopped before reaching a
	// zero return address: why its caller could not be found.
	Err error
}

// LookupIP is the address to name and look up for this frame: return
// addresses point after the call, so callers use IP-1 for lookups.
func (f *Frame) LookupIP() uint64 {
	if f.Exact || f.IP == 0 {
		return f.IP
	}
	return f.IP - 1
}

// ImageSource returns the PE image of a module (from dump memory, the
// image path or a symbol server), or nil.
type ImageSource interface {
	Image(m *target.Module) *pe.File
	// IsCode reports whether addr lies in an executable section; known is
	// false when the module's headers are not available.
	IsCode(m *target.Module, addr uint64) (isCode, known bool)
}

// FrameDataSource gives x86 FPO information (FRAMEDATA with frame
// programs, or old FPO_DATA) for an address, from the module's PDB.
type FrameDataSource interface {
	FrameData(m *target.Module, rva uint32) (*pdb.FrameData, bool)
}

// Walker walks stacks of one address space.
type Walker struct {
	Arch    target.Arch
	Mem     mem.Memory
	Modules []*target.Module
	// Images and FrameData may be nil: the walk then falls back to frame
	// pointers and scanning.
	Images    ImageSource
	FrameData FrameDataSource
}

// MaxFrames bounds every walk.
const MaxFrames = 0x2000
const scanLimit = 0x2000 // bytes of stack searched for a return address

// ErrStackDidNotGrow ends an x64 walk whose next frame is not above the last.
var ErrStackDidNotGrow = errors.New("the caller's stack pointer is not above the callee's")

// Frames walks the stack from regs, yielding up to max frames (0: MaxFrames).
// Each frame is yielded once its return address is known. The yielded
// *Frame is reused by the next step: copy it to keep it.
func (w *Walker) Frames(regs *target.Registers, max int) iter.Seq[*Frame] {
	if max <= 0 || max > MaxFrames {
		max = MaxFrames
	}
	return func(yield func(*Frame) bool) {
		cur := copyRegs(regs)
		var buf [2]Frame // the frame being yielded and its caller, swapped each step
		f := &buf[0]
		*f = Frame{Num: 0, IP: cur.IP, SP: cur.SP(), FP: cur.GPR[target.RegBP], Regs: cur, How: Context, Trust: TrustContext, Exact: true}
		for {
			next, how, err := w.unwindOne(f, f.Num == 0)
			if err != nil {
				f.Err = err
				yield(f)
				return
			}
			f.RetAddr = next.IP
			if w.Arch == target.ArchX86 {
				// ChildEBP is the frame's base: the slot below its return address
				// (EBP itself for EBP frames, the virtual frame for FPO ones).
				f.FP = next.SP() - 8
			}
			if next.IP == 0 || f.Num+1 >= max {
				yield(f) // the last frame shown still gets its return address
				return
			}
			if next.SP() <= f.SP && w.Arch == target.ArchAMD64 && how != MachineFrame {
				f.Err = ErrStackDidNotGrow
				yield(f)
				return
			}
			nf := &buf[1]
			if f == &buf[1] {
				nf = &buf[0]
			}
			*nf = Frame{Num: f.Num + 1, IP: next.IP, SP: next.SP(), FP: next.GPR[target.RegBP], Regs: next, How: how, Trust: how.Trust(),
				Exact: how == MachineFrame, CalleeParams: f.params}
			if !yield(f) {
				return
			}
			f = nf
		}
	}
}

// Walk collects Frames into a slice.
func (w *Walker) Walk(regs *target.Registers, max int) []Frame {
	out := make([]Frame, 0, 32)
	for f := range w.Frames(regs, max) {
		out = append(out, *f)
	}
	return out
}

func copyRegs(r *target.Registers) *target.Registers {
	c := *r
	return &c
}

func (w *Walker) moduleAt(addr uint64) *target.Module { return target.ModuleAt(w.Modules, addr) }

func (w *Walker) ptr(addr uint64) (uint64, error) {
	return mem.ReadUint(w.Mem, addr, w.Arch.PtrSize())
}

// Caller computes the registers of f's caller and how they were found:
// one step of a walk (f.Num 0 is treated as the innermost frame).
func (w *Walker) Caller(f *Frame) (*target.Registers, Method, error) {
	return w.unwindOne(f, f.Num == 0)
}
