package engine

import (
	"fmt"
	"io"
	"time"

	"ntdbg/dumpfmt/codeview"
	"ntdbg/dumpfmt/minidump"
)

// UserTarget is a user-mode minidump.
type UserTarget struct {
	path     string
	file     *minidump.File
	cache    *CachedReader
	arch     Arch
	mem      *RangeMap
	threads  []*Thread
	modules  []*Module
	unloaded []*Module
	sys      *SystemDesc
	event    *Event
	pid      uint32
	// Warnings collects non-fatal problems found while opening (a damaged
	// stream is reported and skipped, the rest of the dump stays usable).
	Warnings []string
}

// OpenMinidump opens a user-mode minidump. Only the directory and the small
// descriptor streams are read; memory is read when asked for.
func OpenMinidump(r io.ReaderAt, size int64, path string) (*UserTarget, error) {
	cr := NewCachedReader(r, size, 64<<10, 64)
	f, err := minidump.NewFile(cr, size)
	if err != nil {
		return nil, err
	}
	t := &UserTarget{path: path, file: f, cache: cr}
	si, err := f.SystemInfo()
	if err != nil {
		return nil, err
	}
	switch si.ProcessorArchitecture {
	case minidump.ArchAMD64:
		t.arch = ArchAMD64
	case minidump.ArchX86:
		t.arch = ArchX86
	default:
		return nil, fmt.Errorf("processor architecture %d is not supported", si.ProcessorArchitecture)
	}
	t.sys = &SystemDesc{Arch: t.arch, Major: si.MajorVersion, Minor: si.MinorVersion, Build: si.BuildNumber,
		CSDVersion: Sanitize(si.CSDVersion), Processors: int(si.NumberOfProcessors), ProductType: si.ProductType,
		SuiteMask: si.SuiteMask, SessionTime: time.Unix(int64(f.Header.TimeDateStamp), 0).UTC()}
	if mi, err := f.MiscInfo(); err == nil {
		if mi.Flags1&minidump.MiscProcessID != 0 {
			t.pid = mi.ProcessID
		}
		if mi.Flags1&minidump.MiscProcessTimes != 0 {
			t.sys.ProcessCreate = time.Unix(int64(mi.ProcessCreateTime), 0).UTC()
			t.sys.UserTime, t.sys.KernelTime, t.sys.HasTimes = mi.ProcessUserTime, mi.ProcessKernelTime, true
		}
		if mi.Version >= 3 && mi.Flags1&minidump.MiscTimeZone != 0 {
			t.sys.TZBias, t.sys.HasTZ = mi.TimeZoneBias, true
		}
		if mi.Version >= 4 && mi.Flags1&minidump.MiscBuildString != 0 {
			t.sys.BuildLab = Sanitize(mi.BuildString)
		}
	} else if !isMissing(err) {
		t.Warnings = append(t.Warnings, err.Error())
	}
	if c, err := f.Comment(); err == nil {
		t.sys.Comment = Sanitize(c)
	}
	if err := t.loadMemory(); err != nil {
		t.Warnings = append(t.Warnings, err.Error())
	}
	if err := t.loadThreads(); err != nil {
		t.Warnings = append(t.Warnings, err.Error())
	}
	if err := t.loadModules(); err != nil {
		t.Warnings = append(t.Warnings, err.Error())
	}
	if ex, err := f.Exception(); err == nil {
		t.event = &Event{ThreadID: ex.ThreadID, Code: ex.Record.Code, Flags: ex.Record.Flags, Record: ex.Record.Record, Address: ex.Record.Address}
		n := ex.Record.NumParams
		if n > 15 {
			n = 15
		}
		t.event.Params = append([]uint64(nil), ex.Record.Information[:n]...)
		if ex.Context.DataSize > 0 {
			loc := ex.Context
			t.event.Context = func() (*Registers, error) { return t.decodeContext(loc) }
		}
	} else if !isMissing(err) {
		t.Warnings = append(t.Warnings, err.Error())
	}
	return t, nil
}

func isMissing(err error) bool {
	_, ok := err.(*minidump.ErrNoStream)
	return ok
}

func (t *UserTarget) loadMemory() error {
	ranges, err := t.file.MemoryRanges()
	rs := make([]Range, 0, len(ranges))
	for _, d := range ranges {
		rs = append(rs, Range{Start: d.Start, Size: d.DataSize, Src: t.cache, Off: int64(d.Rva)})
	}
	t.mem = NewRangeMap(rs)
	return err
}

func (t *UserTarget) decodeContext(loc minidump.Location) (*Registers, error) {
	b, err := t.file.ReadContext(loc)
	if err != nil {
		return nil, err
	}
	return DecodeContext(t.arch, b)
}

func (t *UserTarget) loadThreads() error {
	ths, err := t.file.Threads()
	if err != nil {
		return err
	}
	names, _ := t.file.ThreadNames()
	infos, _ := t.file.ThreadInfos()
	byID := map[uint32]*minidump.ThreadInfo{}
	for i := range infos {
		byID[infos[i].ThreadID] = &infos[i]
	}
	for i, th := range ths {
		loc := th.Context
		tt := &Thread{Index: i, ID: th.ID, Suspend: th.SuspendCount, Teb: th.Teb, Name: Sanitize(names[th.ID]),
			Priority: th.Priority, PrioCls: th.PriorityClass}
		tt.load = func() (*Registers, error) { return t.decodeContext(loc) }
		if in := byID[th.ID]; in != nil {
			tt.Info = &ThreadTimes{in.CreateTime, in.ExitTime, in.KernelTime, in.UserTime, in.StartAddress, in.Affinity, in.DumpFlags}
		}
		t.threads = append(t.threads, tt)
	}
	return nil
}

func moduleFrom(base, size uint64, ts, sum uint32, path string) *Module {
	name, image := ModuleNameFromPath(path)
	return &Module{Base: base, Size: size, Name: name, ImageName: image, Path: Sanitize(path), TimeDateStamp: ts, CheckSum: sum}
}

func (t *UserTarget) loadModules() error {
	mods, err := t.file.Modules()
	if err != nil {
		return err
	}
	for _, m := range mods {
		mm := moduleFrom(m.Base, uint64(m.Size), m.TimeDateStamp, m.CheckSum, m.Name)
		if v := m.Version; v.Signature == 0xFEEF04BD {
			mm.Version = &VersionInfo{v.FileVersionMS, v.FileVersionLS, v.ProductVersionMS, v.ProductVersionLS,
				v.FileFlagsMask, v.FileFlags, v.FileOS, v.FileType, v.FileSubtype, v.FileDateMS, v.FileDateLS}
		}
		if cv := m.CodeView; cv != nil {
			mm.PdbName, mm.PdbAge = Sanitize(cv.PdbName), cv.Age
			if cv.Signature == codeview.RSDS {
				mm.PdbGUID = cv.GUIDString()
			} else {
				mm.PdbGUID = fmt.Sprintf("%08X", cv.TimeStamp)
			}
		}
		t.modules = append(t.modules, mm)
	}
	if un, err := t.file.UnloadedModules(); err == nil {
		for _, u := range un {
			t.unloaded = append(t.unloaded, moduleFrom(u.Base, uint64(u.Size), u.TimeDateStamp, u.CheckSum, u.Name))
		}
	} else if !isMissing(err) {
		return err
	}
	return nil
}

func (t *UserTarget) Arch() Arch                 { return t.arch }
func (t *UserTarget) Memory() Memory             { return t.mem }
func (t *UserTarget) Threads() []*Thread         { return t.threads }
func (t *UserTarget) Modules() []*Module         { return t.modules }
func (t *UserTarget) UnloadedModules() []*Module { return t.unloaded }
func (t *UserTarget) System() *SystemDesc        { return t.sys }
func (t *UserTarget) Event() *Event              { return t.event }
func (t *UserTarget) Path() string               { return t.path }
func (t *UserTarget) ProcessID() uint32          { return t.pid }
func (t *UserTarget) File() *minidump.File       { return t.file }

// BytesRead is how many bytes of the dump file have been read so far.
func (t *UserTarget) BytesRead() int64 { return t.cache.BytesRead }

// ProcessName is the main image's path (the first module).
func (t *UserTarget) ProcessName() string {
	if len(t.modules) > 0 {
		return t.modules[0].Path
	}
	return ""
}

func (t *UserTarget) fullMemory() bool {
	return t.file.Header.Flags&0x2 != 0
}

// DumpKind is the banner's description of the dump.
func (t *UserTarget) DumpKind() string {
	if t.fullMemory() {
		return "User Mini Dump File with Full Memory: Only application data is available"
	}
	return "User Mini Dump File: Only registers, stack and portions of memory are available"
}

// SystemKind is the `||` description.
func (t *UserTarget) SystemKind() string {
	k := "User mini dump"
	if t.fullMemory() {
		k = "Full memory user mini dump"
	}
	if t.arch == ArchAMD64 && !t.fullMemory() {
		k = "64-bit " + k
	}
	return k
}
