// Package target is the model of a debugged system: the Target interface
// every dump kind implements, and its threads, modules, processes, register
// contexts and system description. The minidump target lives here too; the
// kernel-dump target will sit beside it. Nothing here prints: commands build
// WinDbg's banner and listings from what a target says.
package target

import (
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ntdbg/ntdbg/engine/mem"
)

// Kind is what sort of dump a target is.
type Kind int

const (
	// UserMini is a user-mode minidump without full memory.
	UserMini Kind = iota
	// UserFull is a user-mode minidump with full memory (MiniDumpWithFullMemory).
	UserFull
	// Kernel is a kernel dump (complete, kernel or bitmap); reserved for the kernel target.
	Kernel
)

// IsUser reports whether the target is a user-mode dump.
func (k Kind) IsUser() bool { return k == UserMini || k == UserFull }

// Target is one debugged system. Everything a command needs from a dump
// goes through it; memory is read through an address space, one per process.
type Target interface {
	Kind() Kind
	Arch() Arch
	// Path is the dump's file name as the user gave it.
	Path() string
	Threads() []*Thread
	Modules() []*Module
	UnloadedModules() []*Module
	System() *SystemDesc
	Event() *Event // nil when the dump records no event
	// Processes lists the processes the dump holds: one for a user dump.
	Processes() []*Process
	// AddressSpace is the virtual memory of a process (nil: the target's
	// default, the dumped process or the kernel's own space).
	AddressSpace(p *Process) mem.Memory
	// Warnings are non-fatal problems found while opening.
	Warnings() []string
	// Layout describes the dump file's own structure (.dumpdebug).
	Layout() *FileLayout
	Close() error
}

// PhysicalTarget is a target that also has physical memory (kernel dumps).
type PhysicalTarget interface {
	Target
	Physical() mem.Memory
}

// Process is one process of a target.
type Process struct {
	ID uint32
	// Image is the main image's path (user dumps) or image file name (kernel).
	Image string
	// Addr is the EPROCESS address (kernel targets; 0 in user dumps).
	Addr uint64
	// DirBase is the directory table base of its address space (kernel targets).
	DirBase uint64
}

// FileLayout is the dump file's header and streams, as .dumpdebug shows them.
type FileLayout struct {
	Title        string // "User Mini Dump Analysis"
	Version      uint32
	Streams      int
	Flags        uint64
	FlagNames    []FlagName
	StreamsTable []StreamInfo
	// Kernel dumps: the DUMP_HEADER64 fields in order and the physical
	// memory runs (file offset, physical address, length).
	Kernel     bool
	Header     []FlagName // Name, value (Bit)
	Runs       [][3]uint64
	RunsErr    string
	HeaderName string // "DUMP_HEADER64"
}

// FlagName is one set flag bit and its name.
type FlagName struct {
	Bit  uint64
	Name string
}

// StreamInfo is one directory entry and a one-line summary of its content
// ("" when there is nothing to add).
type StreamInfo struct {
	Name    string
	Type    uint32
	Size    uint64
	RVA     uint64
	Summary string
}

// Thread is one thread of a target.
type Thread struct {
	Index   int
	ID      uint32
	Suspend uint32
	// Teb is the thread's TEB (user dumps); kernel threads add Addr (ETHREAD).
	Teb      uint64
	Addr     uint64
	Process  *Process
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
	PdbName       string // sanitized, for display
	// PdbFile is the PDB's file name as the debug record spells it, taken
	// from the raw name before any escaping (for symbol requests; a name
	// with control characters is then refused by the store, not mangled).
	PdbFile string
	PdbGUID string
	PdbAge  uint32
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
	// Kernel dumps: the time since boot, and a checked (debug) build.
	Uptime  time.Duration
	Checked bool
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
	return CapText(SanitizeName(module), MaxNameLen), CapText(SanitizeName(image), MaxNameLen)
}

// Names and paths a dump records are cut to these lengths: Windows keeps
// module names far shorter, and a dump whose 58 modules shared one 64 KB
// name printed 58 MB.
const (
	MaxNameLen = 256
	MaxPathLen = 1024
)

// CapText cuts s to at most n bytes (at a character boundary) and says so.
func CapText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s...(%d bytes more)", s[:cut], len(s)-cut)
}

// invisible reports the characters that reorder, hide or break text on a
// terminal: bidirectional controls and marks (U+061C, U+200E/F,
// U+202A-U+202E, U+2066-U+2069), zero-width and invisible characters
// (U+200B-U+200D, U+2060-U+2064, U+180E, the BOM), and the line and
// paragraph separators U+2028/U+2029.
func invisible(r rune) bool { return Invisible(r) }

// Invisible is invisible, for the terminal boundary in the front end.
func Invisible(r rune) bool {
	return r == 0x061c || r == 0x180e || (r >= 0x200b && r <= 0x200f) || (r >= 0x2028 && r <= 0x202e) ||
		(r >= 0x2060 && r <= 0x2064) || (r >= 0x2066 && r <= 0x2069) || r == 0xfeff
}

// Sanitize makes text from a dump or a symbol file safe to print: control
// characters (C0, DEL, C1) and invalid UTF-8 become \xNN, the invisible
// and bidirectional characters \uNNNN. Backslashes stay, since most such
// text is Windows paths; names use SanitizeName.
func Sanitize(s string) string { return sanitize(s, false) }

// SanitizeName is Sanitize for identifiers (symbol, type, member, module
// and thread names), which also doubles every backslash: a name holding the
// text \x1b then never prints like an escaped ESC.
func SanitizeName(s string) string { return sanitize(s, true) }

func sanitize(s string, names bool) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffd || invisible(r) || names && r == '\\' {
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
		case invisible(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		case names && r == '\\':
			b.WriteString("\\\\")
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

// PdbBase is the file name of a recorded PDB path (Windows or POSIX
// separators), unescaped.
func PdbBase(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// ModuleAt finds the module of mods containing addr.
func ModuleAt(mods []*Module, addr uint64) *Module {
	for _, m := range mods {
		if m.Contains(addr) {
			return m
		}
	}
	return nil
}

// ModuleByName finds a module of t by module name (case-insensitive).
func ModuleByName(t Target, name string) *Module {
	for _, m := range t.Modules() {
		if strings.EqualFold(m.Name, name) {
			return m
		}
	}
	return nil
}
