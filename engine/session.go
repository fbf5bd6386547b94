package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Session is the debugger state: the target and the current thread, frame
// and register context.
type Session struct {
	Target      Target
	CurThread   int
	EventThread int // -1 when the dump has no event thread
	// ctxOverride is set by .ecxr (and later .cxr/.thread); cleared when the
	// thread changes.
	ctxOverride *Registers
	Frame       int
	// Temp holds the user pseudo-registers $t0..$t19.
	Temp [20]uint64
	// Images supplies module images for unwinding (the symbol layer).
	Images ImageProvider
}

// NewSession starts a session on t with the event thread (if any) current.
func NewSession(t Target) *Session {
	s := &Session{Target: t, EventThread: -1}
	if ev := t.Event(); ev != nil {
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
func (s *Session) Thread() (*Thread, error) {
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
func (s *Session) SetContext(r *Registers) { s.ctxOverride, s.Frame = r, 0 }

// ContextOverridden reports whether .ecxr/.cxr set the context.
func (s *Session) ContextOverridden() bool { return s.ctxOverride != nil }

// Registers returns the current register context.
func (s *Session) Registers() (*Registers, error) {
	if s.ctxOverride != nil {
		return s.ctxOverride, nil
	}
	th, err := s.Thread()
	if err != nil {
		return nil, err
	}
	return th.Registers()
}

// ReadPointer reads one target pointer.
func (s *Session) ReadPointer(addr uint64) (uint64, error) {
	ps := s.Target.Arch().PtrSize()
	var b [8]byte
	if err := ReadFull(s.Target.Memory(), b[:ps], addr); err != nil {
		return 0, err
	}
	if ps == 4 {
		return uint64(binary.LittleEndian.Uint32(b[:])), nil
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// ReadUint reads an unsigned little-endian integer of size 1, 2, 4 or 8.
func (s *Session) ReadUint(addr uint64, size int) (uint64, error) {
	var b [8]byte
	if err := ReadFull(s.Target.Memory(), b[:size], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// ModuleByName finds a loaded module by module name (case-insensitive).
func (s *Session) ModuleByName(name string) *Module {
	for _, m := range s.Target.Modules() {
		if strings.EqualFold(m.Name, name) {
			return m
		}
	}
	return nil
}

// ModuleAt finds the loaded module containing addr.
func (s *Session) ModuleAt(addr uint64) *Module {
	for _, m := range s.Target.Modules() {
		if m.Contains(addr) {
			return m
		}
	}
	return nil
}

// ErrBadPseudo marks an unknown or unavailable pseudo-register.
var ErrBadPseudo = errors.New("bad pseudo-register")

// PEB returns the PEB address, read from the current thread's TEB.
func (s *Session) PEB() (uint64, error) {
	th, err := s.Thread()
	if err != nil {
		return 0, err
	}
	off := uint64(0x30)
	if s.Target.Arch() == ArchAMD64 {
		off = 0x60
	}
	return s.ReadPointer(th.Teb + off)
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
		return uint64(s.Target.ProcessID()), nil
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
		return regs.GPR[RegAX], nil
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
