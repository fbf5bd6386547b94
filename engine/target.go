package engine

import (
	"path"
	"strings"
	"time"
)

// Target is one debugged system: a user-mode dump today, a kernel dump later.
// Everything a command needs from a dump goes through it.
type Target interface {
	Arch() Arch
	Memory() Memory
	Threads() []*Thread
	Modules() []*Module
	UnloadedModules() []*Module
	System() *SystemDesc
	Event() *Event // nil when the dump records no event
	// DumpKind is the banner line describing the dump ("User Mini Dump File: ...").
	DumpKind() string
	// SystemKind is the `||` description ("User mini dump").
	SystemKind() string
	Path() string
	ProcessID() uint32
	ProcessName() string
}

// Thread is one thread of a user target.
type Thread struct {
	Index    int
	ID       uint32
	Suspend  uint32
	Teb      uint64
	Name     string // sanitized
	Priority uint32
	PrioCls  uint32
	Info     *ThreadTimes

	ctx    *Registers
	ctxErr error
	load   func() (*Registers, error)
}

// ThreadTimes is what a ThreadInfoList stream says of a thread.
type ThreadTimes struct {
	CreateTime, ExitTime, KernelTime, UserTime uint64
	StartAddress, Affinity                     uint64
	DumpFlags                                  uint32
}

// Registers returns the thread's context as the dump recorded it.
func (t *Thread) Registers() (*Registers, error) {
	if t.ctx == nil && t.ctxErr == nil {
		t.ctx, t.ctxErr = t.load()
	}
	return t.ctx, t.ctxErr
}

// Module is a loaded (or unloaded) image.
type Module struct {
	Base          uint64
	Size          uint64
	Name          string // module name as WinDbg shows it: file name without extension
	ImageName     string // file name with extension
	Path          string // full path as recorded
	TimeDateStamp uint32
	CheckSum      uint32
	Version       *VersionInfo
	PdbName       string
	PdbGUID       string
	PdbAge        uint32
}

// End is the first address after the module.
func (m *Module) End() uint64 { return m.Base + m.Size }

// Contains reports whether addr lies inside the module.
func (m *Module) Contains(addr uint64) bool { return addr >= m.Base && addr-m.Base < m.Size }

// VersionInfo is the fixed file version of an image.
type VersionInfo struct {
	FileMS, FileLS, ProductMS, ProductLS uint32
	FlagsMask, Flags, OS, Type, Subtype  uint32
	DateMS, DateLS                       uint32
}

// SystemDesc is what a dump says of the machine and the process.
type SystemDesc struct {
	Arch          Arch
	Major, Minor  uint32
	Build         uint32
	CSDVersion    string
	Processors    int
	ProductType   uint8
	SuiteMask     uint16
	BuildLab      string
	SessionTime   time.Time // UTC
	TZBias        int32     // minutes, UTC = local + bias
	HasTZ         bool
	ProcessCreate time.Time // zero when unknown
	UserTime      uint32    // seconds
	KernelTime    uint32
	HasTimes      bool
	Comment       string // sanitized
}

// Event is the exception or event stored in a dump.
type Event struct {
	ThreadID uint32
	Code     uint32
	Flags    uint32
	Record   uint64
	Address  uint64
	Params   []uint64
	Context  func() (*Registers, error) // nil when the dump has no exception context
}

// ModuleNameFromPath turns a recorded image path into WinDbg's module name:
// the file name without its extension, with path separators of either kind.
func ModuleNameFromPath(p string) (module, image string) {
	p = strings.ReplaceAll(p, "\\", "/")
	image = path.Base(p)
	if image == "." || image == "/" {
		image = p
	}
	module = image
	if i := strings.LastIndexByte(module, '.'); i > 0 {
		module = module[:i]
	}
	return Sanitize(module), Sanitize(image)
}

// Sanitize makes a string from a dump safe to print: control characters
// (C0, DEL, C1) and invalid UTF-8 become escapes, so a dump cannot move the
// cursor or retitle the terminal.
func Sanitize(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffd {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == 0xfffd && s[i] != 0xef:
			b.WriteString("\\x")
			b.WriteString(hex2(s[i]))
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteString("\\x")
			b.WriteString(hex2(byte(r)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
