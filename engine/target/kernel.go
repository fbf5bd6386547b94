package target

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ntdbg/ntdbg/dumpfmt/kdump"
	"github.com/ntdbg/ntdbg/engine/mem"
)

// KernelTarget is a 64-bit kernel dump: physical memory from the dump file,
// the kernel's virtual address space through the header's directory table
// base, one more per process directory base. Opening reads the header (and
// for bitmap dumps nothing more until memory is read); the loaded-module and
// process lists come from the engine, which walks them with the kernel's type
// information (SetModules, SetProcesses).
type KernelTarget struct {
	path   string
	file   *kdump.File
	cache  *mem.CachedReader
	phys   physical
	kspace *mem.X64Space

	mu     sync.Mutex
	spaces map[uint64]*mem.X64Space

	arch     Arch
	sys      *SystemDesc
	event    *Event
	threads  []*Thread
	modules  []*Module
	unloaded []*Module
	procs    []*Process
	kernBase uint64
	// triage is a triage dump's memory: its copies at their addresses
	// (no page tables: every process sees the same copies).
	triage *TriageMemory
	warns  []string
	closer io.Closer
}

// maxSpaces bounds the per-process address spaces kept at once.
const maxSpaces = 256

// physical reads a kernel dump's physical memory as a mem.Memory.
type physical struct{ f *kdump.File }

func (p physical) ReadVirtual(b []byte, pa uint64) (int, error) {
	n, err := p.f.ReadPhysical(b, pa)
	if err != nil {
		return n, &mem.Error{Addr: pa + uint64(n), Kind: mem.NotInDump}
	}
	return n, nil
}

// OpenKernelDump opens a kernel dump. A file that is not one gives an error
// wrapping kdump.ErrNotKernelDump. If r is an io.Closer, Close closes it.
func OpenKernelDump(r io.ReaderAt, size int64, path string) (*KernelTarget, error) {
	cr := mem.NewCachedReader(r, size, 64<<10, 256)
	f, err := kdump.NewFile(cr, size)
	if err != nil {
		return nil, err
	}
	t := &KernelTarget{path: path, file: f, cache: cr, spaces: map[uint64]*mem.X64Space{}}
	if c, ok := r.(io.Closer); ok {
		t.closer = c
	}
	h := &f.Header
	switch h.MachineImageType {
	case kdump.MachineAMD64:
		t.arch = ArchAMD64
	case kdump.MachineARM64:
		t.arch = ArchARM64
	default:
		return nil, fmt.Errorf("kernel dump for machine 0x%x is not supported", h.MachineImageType)
	}
	t.phys = physical{f}
	t.kspace = mem.NewX64Space(t.phys, h.DirectoryTableBase)
	major, minor := windowsVersion(h.MinorVersion)
	t.sys = &SystemDesc{Arch: t.arch, Major: major, Minor: minor, Build: h.MinorVersion,
		Processors: int(h.NumberProcessors), ProductType: uint8(h.ProductType), SuiteMask: uint16(h.SuiteMask),
		SessionTime: filetime(h.SystemTime), Comment: Sanitize(unfilled(h.Comment)), Uptime: time.Duration(h.SystemUpTime) * 100,
		Checked: h.MajorVersion == 0xC}
	ex := f.Exception()
	t.event = &Event{Code: ex.ExceptionCode, Flags: ex.ExceptionFlags, Record: ex.ExceptionRecord, Address: ex.ExceptionAddress}
	n := min(ex.NumberParameters, 15)
	t.event.Params = append([]uint64(nil), ex.ExceptionInformation[:n]...)
	ctx := f.Context()
	load := func() (*Registers, error) {
		if t.arch != ArchAMD64 {
			return nil, fmt.Errorf("ARM64 register contexts are not supported yet")
		}
		return DecodeContext(ArchAMD64, ctx)
	}
	t.event.Context = load
	// In kernel mode `~` means processors; the dump's context is the
	// processor that bugchecked (the header does not say which one; KPRCB
	// walks refine it).
	t.threads = []*Thread{{Index: 0, load: load}}
	return t, nil
}

// unfilled drops a header field Windows left as its "PAGE" fill.
func unfilled(s string) string {
	if s != "" && strings.Trim(s, "PAGE") == "" {
		return ""
	}
	return s
}

// windowsVersion maps an NT build number to the Windows major and minor
// version the build belongs to.
func windowsVersion(build uint32) (uint32, uint32) {
	switch {
	case build >= 10240:
		return 10, 0
	case build >= 9600:
		return 6, 3
	case build >= 9200:
		return 6, 2
	case build >= 7600:
		return 6, 1
	case build >= 6000:
		return 6, 0
	}
	return 5, 2
}

// filetime converts a FILETIME (100 ns since 1601) to UTC.
func filetime(ft int64) time.Time {
	if ft <= 0 {
		return time.Time{}
	}
	const epochDiff = 11644473600 // seconds from 1601 to 1970
	return time.Unix(ft/10_000_000-epochDiff, ft%10_000_000*100).UTC()
}

// File is the dump file (the kernel-dump commands read its header).
func (t *KernelTarget) File() *kdump.File { return t.file }

// KernelDesc is what a kernel dump's header says, in the model's terms.
type KernelDesc struct {
	DumpType                                uint32
	DumpKind                                string // "Kernel Bitmap Dump File: ..." banner line
	SystemKind                              string // `||`: "64-bit Kernel bitmap dump"
	BugCheck                                uint32
	BugCheckParams                          [4]uint64
	DirBase, PsLoadedModuleList, ActiveHead uint64
	KdDebuggerDataBlock                     uint64
	KernBase                                uint64 // the kernel image's base (0 when the module list is unread)
}

// Kernel describes the dump's header.
func (t *KernelTarget) Kernel() *KernelDesc {
	h := &t.file.Header
	d := &KernelDesc{DumpType: h.DumpType, BugCheck: h.BugCheckCode, BugCheckParams: h.BugCheckParameters,
		DirBase: h.DirectoryTableBase, PsLoadedModuleList: h.PsLoadedModuleList, ActiveHead: h.PsActiveProcessHead,
		KdDebuggerDataBlock: h.KdDebuggerDataBlock}
	switch h.DumpType {
	case 1:
		d.DumpKind, d.SystemKind = "Kernel Complete Dump File: Full address space is available", "64-bit Complete memory dump"
	case 2:
		d.DumpKind, d.SystemKind = "Kernel Summary Dump File: Only kernel address space is available", "64-bit Kernel summary dump"
	case 4:
		d.DumpKind, d.SystemKind = "Mini Kernel Dump File: Only registers and stack trace are available", "64-bit Kernel triage dump"
	case 5:
		d.DumpKind, d.SystemKind = "Kernel Bitmap Dump File: Kernel address space is available, User address space may not be available.", "64-bit Kernel bitmap dump"
	case 6:
		d.DumpKind, d.SystemKind = "Kernel Bitmap Dump File: Full address space is available", "64-bit Full bitmap dump"
	default:
		d.DumpKind, d.SystemKind = "Kernel Dump File: Kernel address space is available", fmt.Sprintf("64-bit Kernel dump (type %#x)", h.DumpType)
	}
	d.KernBase = t.kernBase
	for _, m := range t.modules {
		if m.Name == "nt" {
			d.KernBase = m.Base
		}
	}
	return d
}

func (t *KernelTarget) Kind() Kind                 { return Kernel }
func (t *KernelTarget) Arch() Arch                 { return t.arch }
func (t *KernelTarget) Path() string               { return t.path }
func (t *KernelTarget) Threads() []*Thread         { return t.threads }
func (t *KernelTarget) Modules() []*Module         { return t.modules }
func (t *KernelTarget) UnloadedModules() []*Module { return t.unloaded }
func (t *KernelTarget) System() *SystemDesc        { return t.sys }
func (t *KernelTarget) Event() *Event              { return t.event }
func (t *KernelTarget) Processes() []*Process      { return t.procs }
func (t *KernelTarget) Warnings() []string         { return t.warns }
func (t *KernelTarget) Physical() mem.Memory       { return t.phys }

// SetProcessors installs one thread per processor: its current thread
// (Addr, an ETHREAD) and its saved context (kernel mode `~`).
func (t *KernelTarget) SetProcessors(ps []*Thread) { t.threads = ps }

// Processor is processor i of a kernel target, running the ETHREAD at
// addr, with its context read by load.
func Processor(i int, addr uint64, load func() (*Registers, error)) *Thread {
	return &Thread{Index: i, Addr: addr, load: load}
}

// HeaderContext is the dump header's context record (the processor that
// stopped the system).
func (t *KernelTarget) HeaderContext() (*Registers, error) { return t.event.Context() }

// SetKDBG records what the debugger data block says.
func (t *KernelTarget) SetKDBG(kernBase uint64, buildLab string) {
	t.kernBase = kernBase
	if buildLab != "" {
		t.sys.BuildLab = Sanitize(buildLab)
	}
}

// TriageMemory is a triage dump's virtual memory: the stack, the debugger
// data, the data page and blocks at their addresses, and the thread and
// process copies once their addresses are known (Map).
type TriageMemory struct {
	mu     sync.Mutex
	blocks []triageBlock
}

type triageBlock struct {
	va   uint64
	data []byte
}

// Map places a copy at va (a later copy does not override an earlier one).
func (m *TriageMemory) Map(va uint64, data []byte) {
	if len(data) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.blocks {
		if b.va == va {
			return
		}
	}
	m.blocks = append(m.blocks, triageBlock{va, data})
}

// ReadVirtual reads from the copies; anything else is not in the dump.
func (m *TriageMemory) ReadVirtual(p []byte, addr uint64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	done := 0
	for done < len(p) {
		a := addr + uint64(done)
		found := false
		for _, b := range m.blocks {
			if a >= b.va && a-b.va < uint64(len(b.data)) {
				done += copy(p[done:], b.data[a-b.va:])
				found = true
				break
			}
		}
		if !found {
			return done, &mem.Error{Addr: a, Kind: mem.NotInDump}
		}
	}
	return done, nil
}

// Triage is the triage dump's memory (nil for other dump types).
func (t *KernelTarget) Triage() *TriageMemory { return t.triage }

// TriageParts are what a triage dump holds beyond memory: the crashing
// thread's and process's copies, the PRCB copy, the driver list.
func (t *KernelTarget) TriageParts() (*kdump.Triage, error) { return t.file.Triage() }

// SetTriage makes the kernel's address space the triage copies.
func (t *KernelTarget) SetTriage(m *TriageMemory) { t.triage = m }

// SetModules installs the loaded-module list the engine walked.
func (t *KernelTarget) SetModules(ms []*Module) { t.modules = ms }

// SetUnloaded installs the unloaded-driver list.
func (t *KernelTarget) SetUnloaded(ms []*Module) { t.unloaded = ms }

// SetProcesses installs the process list the engine walked.
func (t *KernelTarget) SetProcesses(ps []*Process) { t.procs = ps }

// Warn records a non-fatal problem found while opening.
func (t *KernelTarget) Warn(s string) { t.warns = append(t.warns, s) }

// AddressSpace is the kernel's space (nil, or a process without a
// directory base) or the space of the process's directory table base.
func (t *KernelTarget) AddressSpace(p *Process) mem.Memory {
	if t.triage != nil {
		return t.triage
	}
	if p == nil || p.DirBase == 0 || p.DirBase&^0xfff == t.file.Header.DirectoryTableBase&^0xfff {
		return t.kspace
	}
	return t.SpaceOf(p.DirBase)
}

// SpaceOf is the address space of a directory table base, cached.
func (t *KernelTarget) SpaceOf(dtb uint64) *mem.X64Space {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.spaces[dtb]; ok {
		return s
	}
	if len(t.spaces) >= maxSpaces {
		clear(t.spaces)
	}
	s := mem.NewX64Space(t.phys, dtb)
	t.spaces[dtb] = s
	return s
}

// Close closes the dump file.
func (t *KernelTarget) Close() error {
	if t.closer != nil {
		return t.closer.Close()
	}
	return nil
}

// Layout describes the header and the physical memory runs for .dumpdebug.
func (t *KernelTarget) Layout() *FileLayout {
	h := &t.file.Header
	kind := map[uint32]string{1: "Full", 2: "Summary", 4: "Triage", 5: "Bitmap", 6: "Full Bitmap"}[h.DumpType]
	if kind == "" {
		kind = kdump.DumpTypeName(h.DumpType)
	}
	l := &FileLayout{Title: "64 bit Kernel " + kind + " Dump Analysis", Version: h.MinorVersion, Kernel: true, HeaderName: "DUMP_HEADER64"}
	add := func(n string, v uint64) { l.Header = append(l.Header, FlagName{Name: n, Bit: v}) }
	add("MajorVersion", uint64(h.MajorVersion))
	add("MinorVersion", uint64(h.MinorVersion))
	add("KdSecondaryVersion", uint64(h.KdSecondaryVersion))
	add("DirectoryTableBase", h.DirectoryTableBase)
	add("PfnDataBase", h.PfnDataBase)
	add("PsLoadedModuleList", h.PsLoadedModuleList)
	add("PsActiveProcessHead", h.PsActiveProcessHead)
	add("MachineImageType", uint64(h.MachineImageType))
	add("NumberProcessors", uint64(h.NumberProcessors))
	add("BugCheckCode", uint64(h.BugCheckCode))
	for i, p := range h.BugCheckParameters {
		add(fmt.Sprintf("BugCheckParameter%d", i+1), p)
	}
	add("KdDebuggerDataBlock", h.KdDebuggerDataBlock)
	add("ProductType", uint64(h.ProductType))
	add("SuiteMask", uint64(h.SuiteMask))
	add("WriterStatus", uint64(h.WriterStatus))
	add("DumpType", uint64(h.DumpType))
	add("RequiredDumpSpace", uint64(h.RequiredDumpSpace))
	runs, err := t.file.Runs()
	if err != nil {
		l.RunsErr = err.Error()
	}
	for _, r := range runs {
		l.Runs = append(l.Runs, [3]uint64{uint64(r.Offset), r.BasePage * 0x1000, r.PageCount * 0x1000})
	}
	return l
}

// IsNotKernelDump reports whether err says the file is not a kernel dump.
func IsNotKernelDump(err error) bool { return errors.Is(err, kdump.ErrNotKernelDump) }
