// Package engine is the debugger state over one target: Open finds the
// dump's format, and a Session holds the current process, thread, frame and
// register context and reads memory through the current process's address
// space. The work is done in subpackages: mem (address spaces), target (the
// model and the minidump target), unwind (stack walkers), symbols (symbol
// path, store, PDB and export symbols, images), types (the type model over
// memory) and nt (Windows structure layouts and walkers).
package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/nt"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/unwind"
)

// Session is the debugger state: the target and the current process,
// thread, frame and register context.
type Session struct {
	Target target.Target
	// Process is the current process; memory is read in its address space.
	Process     *target.Process
	CurThread   int
	EventThread int // -1 when the dump has no event thread
	// ctxOverride is set by .ecxr (and later .cxr/.thread); cleared when the
	// thread changes.
	ctxOverride *target.Registers
	Frame       int
	// KThread is the implicit kernel thread (.thread): !thread's default.
	KThread uint64
	// Temp holds the user pseudo-registers $t0..$t19.
	Temp [20]uint64
	// Symbols supplies symbols, types and module images; symbols.Null{}
	// until the front end sets a symbol path.
	Symbols symbols.Provider
	// layout is derived from Symbols; layoutOf says which provider and
	// generation it was worked out for.
	layout   *nt.Layout
	layoutOf struct {
		p   symbols.Provider
		gen uint64
	}
}

// NewSession starts a session on t with the event thread (if any) current.
func NewSession(t target.Target) *Session {
	s := &Session{Target: t, EventThread: -1, Symbols: symbols.Null{}}
	if ps := t.Processes(); len(ps) > 0 {
		s.Process = ps[0]
	}
	// A dump without an event (Task Manager's, .dump without an exception)
	// stops on its first thread; WinDbg marks that one `#` once another is
	// current.
	if len(t.Threads()) > 0 {
		s.EventThread = 0
	}
	if ev := t.Event(); ev != nil && t.Kind() != target.Kernel { // kernel `~` is processors: the first stopped the system
		for _, th := range t.Threads() {
			if th.ID == ev.ThreadID {
				s.EventThread = th.Index
				s.CurThread = th.Index
			}
		}
	}
	return s
}

// ErrNoThread is returned when a command needs a thread and there is none.
var ErrNoThread = errors.New("no current thread")

// Thread returns the current thread.
func (s *Session) Thread() (*target.Thread, error) {
	ths := s.Target.Threads()
	if s.CurThread < 0 || s.CurThread >= len(ths) {
		return nil, ErrNoThread
	}
	return ths[s.CurThread], nil
}

// SetThread makes thread index i current and drops any context override.
func (s *Session) SetThread(i int) error {
	if i < 0 || i >= len(s.Target.Threads()) {
		return fmt.Errorf("illegal thread %d", i)
	}
	s.CurThread, s.ctxOverride, s.Frame = i, nil, 0
	return nil
}

// Save returns a function that restores the current thread, frame and
// register context (for commands run under a `~N` prefix).
func (s *Session) Save() func() {
	th, ctx, frame := s.CurThread, s.ctxOverride, s.Frame
	return func() { s.CurThread, s.ctxOverride, s.Frame = th, ctx, frame }
}

// SetContext installs a register context (the .ecxr / .cxr family).
func (s *Session) SetContext(r *target.Registers) { s.ctxOverride, s.Frame = r, 0 }

// ContextOverridden reports whether .ecxr/.cxr set the context.
func (s *Session) ContextOverridden() bool { return s.ctxOverride != nil }

// Registers returns the current register context.
func (s *Session) Registers() (*target.Registers, error) {
	if s.ctxOverride != nil {
		return s.ctxOverride, nil
	}
	th, err := s.Thread()
	if err != nil {
		return nil, err
	}
	return th.Registers()
}

// Mem is the current address space: the current process's.
func (s *Session) Mem() mem.Memory {
	m := s.Target.AddressSpace(s.Process)
	if r, ok := s.Symbols.(imageReader); ok {
		return imageBacked{inner: m, images: r, mods: s.Target.Modules()}
	}
	return m
}

// imageReader reads module image files (the symbol layer's ReadImage).
type imageReader interface {
	ReadImage(m *target.Module, p []byte, off uint64) bool
}

// imageBacked reads the dump first; a page it lacks inside a loaded module
// is read from the module's image file when one was found, as WinDbg maps
// images over minidumps (code for u and uf, constant strings for kp).
type imageBacked struct {
	inner  mem.Memory
	images imageReader
	mods   []*target.Module
}

func (b imageBacked) ReadVirtual(p []byte, addr uint64) (int, error) {
	n, err := b.inner.ReadVirtual(p, addr)
	for steps := 0; n < len(p) && steps < 1024; steps++ {
		a := addr + uint64(n)
		m := target.ModuleAt(b.mods, a)
		if m == nil {
			return n, err
		}
		// Fill to the end of this page from the image, then let the dump
		// answer again: it may hold the next page.
		end := (a | 0xfff) + 1
		if end > m.End() || end < a {
			end = m.End()
		}
		chunk := uint64(len(p) - n)
		if end-a < chunk {
			chunk = end - a
		}
		if !b.images.ReadImage(m, p[n:n+int(chunk)], a-m.Base) {
			return n, err
		}
		n += int(chunk)
		if n == len(p) {
			return n, nil
		}
		var more int
		more, err = b.inner.ReadVirtual(p[n:], addr+uint64(n))
		n += more
	}
	if n == len(p) {
		return n, nil
	}
	return n, err
}

// SetProcess makes p the current process; memory is read in its address
// space from then on (.process).
func (s *Session) SetProcess(p *target.Process) { s.Process, s.ctxOverride, s.Frame = p, nil, 0 }

// Read reads exactly len(p) bytes of the current address space.
func (s *Session) Read(p []byte, addr uint64) error { return mem.ReadFull(s.Mem(), p, addr) }

// ReadPointer reads one target pointer.
func (s *Session) ReadPointer(addr uint64) (uint64, error) {
	return mem.ReadUint(s.Mem(), addr, s.Target.Arch().PtrSize())
}

// ReadUint reads an unsigned little-endian integer of size 1, 2, 4 or 8.
func (s *Session) ReadUint(addr uint64, size int) (uint64, error) {
	return mem.ReadUint(s.Mem(), addr, size)
}

// Layout is the TEB/PEB/loader layout: field offsets from ntdll's type
// information where it is found, else the documented fallback (nt).
// It is worked out again whenever the symbols' generation changes.
func (s *Session) Layout() *nt.Layout {
	gen := s.Symbols.Generation()
	if s.layout == nil || s.layoutOf.p != s.Symbols || s.layoutOf.gen != gen {
		s.layout = nt.LayoutFor(s.Target.Arch(), s.Symbols)
		s.layoutOf.p, s.layoutOf.gen = s.Symbols, gen
	}
	return s.layout
}

// Walker is a stack walker over the current address space.
func (s *Session) Walker() *unwind.Walker {
	w := &unwind.Walker{Arch: s.Target.Arch(), Mem: s.Mem(), Modules: s.Target.Modules()}
	if img, ok := s.Symbols.(unwind.ImageSource); ok {
		w.Images = img
	}
	if fd, ok := s.Symbols.(unwind.FrameDataSource); ok {
		w.FrameData = fd
	}
	return w
}

// Unwind walks the current address space's stack from regs (up to max frames).
func (s *Session) Unwind(regs *target.Registers, max int) []unwind.Frame {
	return s.Walker().Walk(regs, max)
}

// ModuleByName finds a loaded module by module name (case-insensitive).
func (s *Session) ModuleByName(name string) *target.Module {
	return target.ModuleByName(s.Target, name)
}

// ModuleAt finds the loaded module containing addr.
func (s *Session) ModuleAt(addr uint64) *target.Module {
	return target.ModuleAt(s.Target.Modules(), addr)
}

// ErrBadPseudo marks an unknown or unavailable pseudo-register.
var ErrBadPseudo = errors.New("bad pseudo-register")

// PEB returns the PEB address, read from the current thread's TEB.
func (s *Session) PEB() (uint64, error) {
	th, err := s.Thread()
	if err != nil {
		return 0, err
	}
	return s.ReadPointer(th.Teb + s.Layout().TebPeb)
}

// Pseudo evaluates a pseudo-register (name without '$', lower case).
func (s *Session) Pseudo(name string) (uint64, error) {
	name = strings.ToLower(name)
	if len(name) >= 2 && name[0] == 't' {
		var n int
		if _, err := fmt.Sscanf(name[1:], "%d", &n); err == nil && n >= 0 && n < len(s.Temp) && fmt.Sprint(n) == name[1:] {
			return s.Temp[n], nil
		}
	}
	switch name {
	case "ptrsize":
		return uint64(s.Target.Arch().PtrSize()), nil
	case "pagesize":
		return 0x1000, nil
	case "tpid", "dpid":
		if s.Process == nil {
			return 0, ErrBadPseudo
		}
		return uint64(s.Process.ID), nil
	case "frame":
		return uint64(s.Frame), nil
	}
	th, err := s.Thread()
	if err != nil {
		return 0, ErrBadPseudo
	}
	switch name {
	case "teb", "thread":
		return th.Teb, nil
	case "tid", "dtid":
		return uint64(th.ID), nil
	case "peb", "proc":
		p, err := s.PEB()
		if err != nil {
			return 0, ErrBadPseudo
		}
		return p, nil
	case "exentry":
		return s.entryPoint()
	}
	regs, err := s.Registers()
	if err != nil {
		return 0, ErrBadPseudo
	}
	switch name {
	case "ip", "eventip", "scopeip":
		return regs.IP, nil
	case "csp":
		return regs.SP(), nil
	case "retreg", "retreg64":
		return regs.GPR[target.RegAX], nil
	case "ra":
		// The return address of the current frame, from the unwinder.
		if f := s.Unwind(regs, 2); len(f) > 0 && f[0].RetAddr != 0 {
			return f[0].RetAddr, nil
		}
		v, err := s.ReadPointer(regs.SP())
		if err != nil {
			return 0, ErrBadPseudo
		}
		return v, nil
	}
	return 0, ErrBadPseudo
}

// entryPoint reads AddressOfEntryPoint of the main image from its headers in memory.
func (s *Session) entryPoint() (uint64, error) {
	mods := s.Target.Modules()
	if len(mods) == 0 {
		return 0, ErrBadPseudo
	}
	base := mods[0].Base
	lfanew, err := s.ReadUint(base+0x3C, 4)
	if err != nil || lfanew > 0x1000 {
		return 0, ErrBadPseudo
	}
	sig, err := s.ReadUint(base+lfanew, 4)
	if err != nil || sig != 0x4550 {
		return 0, ErrBadPseudo
	}
	ep, err := s.ReadUint(base+lfanew+0x18+0x10, 4)
	if err != nil {
		return 0, ErrBadPseudo
	}
	return base + ep, nil
}
