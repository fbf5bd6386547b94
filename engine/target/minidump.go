package target

import (
	"fmt"
	"io"
	"time"

	"github.com/ntdbg/ntdbg/dumpfmt/codeview"
	"github.com/ntdbg/ntdbg/dumpfmt/minidump"
	"github.com/ntdbg/ntdbg/engine/mem"
)

// UserTarget is a user-mode minidump.
type UserTarget struct {
	path     string
	file     *minidump.File
	cache    *mem.CachedReader
	arch     Arch
	mem      *mem.RangeMap
	threads  []*Thread
	modules  []*Module
	unloaded []*Module
	sys      *SystemDesc
	event    *Event
	proc     *Process
	// warns collects non-fatal problems found while opening (a damaged
	// stream is reported and skipped, the rest of the dump stays usable).
	warns  []string
	closer io.Closer
}

// OpenMinidump opens a user-mode minidump. Only the directory and the small
// descriptor streams are read; memory is read when asked for. A file that
// is not a minidump gives an error wrapping minidump.ErrNotMinidump. If r is
// an io.Closer, Close closes it.
func OpenMinidump(r io.ReaderAt, size int64, path string) (*UserTarget, error) {
	cr := mem.NewCachedReader(r, size, 64<<10, 64)
	f, err := minidump.NewFile(cr, size)
	if err != nil {
		return nil, err
	}
	t := &UserTarget{path: path, file: f, cache: cr, proc: &Process{}}
	if c, ok := r.(io.Closer); ok {
		t.closer = c
	}
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
			t.proc.ID = mi.ProcessID
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
		t.warns = append(t.warns, err.Error())
	}
	if c, err := f.Comment(); err == nil {
		t.sys.Comment = Sanitize(c)
	}
	if err := t.loadMemory(); err != nil {
		t.warns = append(t.warns, err.Error())
	}
	if err := t.loadThreads(); err != nil {
		t.warns = append(t.warns, err.Error())
	}
	if err := t.loadModules(); err != nil {
		t.warns = append(t.warns, err.Error())
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
		t.warns = append(t.warns, err.Error())
	}
	return t, nil
}

func isMissing(err error) bool {
	_, ok := err.(*minidump.ErrNoStream)
	return ok
}

func (t *UserTarget) loadMemory() error {
	ranges, err := t.file.MemoryRanges()
	rs := make([]mem.Range, 0, len(ranges))
	for _, d := range ranges {
		rs = append(rs, mem.Range{Start: d.Start, Size: d.DataSize, Src: t.cache, Off: int64(d.Rva)})
	}
	t.mem = mem.NewRangeMap(rs)
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
		tt := &Thread{Index: i, ID: th.ID, Suspend: th.SuspendCount, Teb: th.Teb, Name: SanitizeName(names[th.ID]),
			Priority: th.Priority, PrioCls: th.PriorityClass}
		tt.load = func() (*Registers, error) { return t.decodeContext(loc) }
		if in := byID[th.ID]; in != nil {
			tt.Info = &ThreadTimes{in.CreateTime, in.ExitTime, in.KernelTime, in.UserTime, in.StartAddress, in.Affinity, in.DumpFlags}
		}
		tt.Process = t.proc
		t.threads = append(t.threads, tt)
	}
	return nil
}

func moduleFrom(base, size uint64, ts, sum uint32, path string) *Module {
	name, image := ModuleNameFromPath(path)
	return &Module{Base: base, Size: size, Name: name, ImageName: image, Path: CapText(Sanitize(path), MaxPathLen), TimeDateStamp: ts, CheckSum: sum}
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
			mm.PdbName, mm.PdbFile, mm.PdbAge = Sanitize(cv.PdbName), PdbBase(cv.PdbName), cv.Age
			if cv.Signature == codeview.RSDS {
				mm.PdbGUID = cv.GUIDString()
			} else {
				mm.PdbGUID = fmt.Sprintf("%08X", cv.TimeStamp)
			}
		}
		t.modules = append(t.modules, mm)
	}
	if len(t.modules) > 0 {
		t.proc.Image = t.modules[0].Path
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

func (t *UserTarget) Kind() Kind {
	if t.file.Header.Flags&minidump.WithFullMemory != 0 {
		return UserFull
	}
	return UserMini
}
func (t *UserTarget) Arch() Arch                 { return t.arch }
func (t *UserTarget) Threads() []*Thread         { return t.threads }
func (t *UserTarget) Modules() []*Module         { return t.modules }
func (t *UserTarget) UnloadedModules() []*Module { return t.unloaded }
func (t *UserTarget) System() *SystemDesc        { return t.sys }
func (t *UserTarget) Event() *Event              { return t.event }
func (t *UserTarget) Path() string               { return t.path }
func (t *UserTarget) Processes() []*Process      { return []*Process{t.proc} }
func (t *UserTarget) Warnings() []string         { return t.warns }

// AddressSpace is the process's memory: a user dump has one address space.
func (t *UserTarget) AddressSpace(*Process) mem.Memory { return t.mem }

// Close closes the dump file when the target owns it.
func (t *UserTarget) Close() error {
	if t.closer == nil {
		return nil
	}
	err := t.closer.Close()
	t.closer = nil
	return err
}

// BytesRead is how many bytes of the dump file have been read so far.
func (t *UserTarget) BytesRead() int64 { return t.cache.BytesRead }

// Layout describes the header and every stream, known or not.
func (t *UserTarget) Layout() *FileLayout {
	f := t.file
	h := f.Header
	l := &FileLayout{Title: "User Mini Dump Analysis", Version: h.Version, Streams: int(h.NumberOfStreams), Flags: h.Flags}
	for i, n := range minidump.TypeFlagNames {
		if h.Flags&(1<<i) != 0 {
			l.FlagNames = append(l.FlagNames, FlagName{uint64(1) << i, n})
		}
	}
	for _, d := range f.Directory {
		si := StreamInfo{Name: minidump.StreamName(d.StreamType), Type: d.StreamType, Size: d.Location.DataSize, RVA: d.Location.Rva}
		switch d.StreamType {
		case minidump.StreamThreadList, minidump.StreamThreadExList:
			si.Summary = fmt.Sprintf("%d threads", len(t.threads))
		case minidump.StreamModuleList:
			si.Summary = fmt.Sprintf("%d modules", len(t.modules))
		case minidump.StreamUnloadedModuleList:
			si.Summary = fmt.Sprintf("%d unloaded modules", len(t.unloaded))
		case minidump.StreamMemoryList, minidump.StreamMemory64List:
			if r, err := f.MemoryRanges(); err == nil {
				si.Summary = fmt.Sprintf("%d memory ranges in all", len(r))
			}
		case minidump.StreamHandleData:
			if hs, err := f.Handles(); err == nil {
				si.Summary = fmt.Sprintf("%d descriptors", len(hs))
			}
		case minidump.StreamMemoryInfoList:
			if mi, err := f.MemoryInfos(); err == nil {
				si.Summary = fmt.Sprintf("%d memory regions", len(mi))
			}
		}
		l.StreamsTable = append(l.StreamsTable, si)
	}
	return l
}

// Region is one MINIDUMP_MEMORY_INFO entry: a run of pages with the same
// state, protection and type, as VirtualQuery reported it.
type Region struct {
	Base, AllocBase, Size        uint64
	AllocProtect, State, Protect uint32
	Type                         uint32
}

// Regions returns the dump's MemoryInfoList, in the dump's order.
func (t *UserTarget) Regions() ([]Region, error) {
	mi, err := t.file.MemoryInfos()
	if err != nil {
		return nil, err
	}
	out := make([]Region, len(mi))
	for i, m := range mi {
		out[i] = Region{Base: m.BaseAddress, AllocBase: m.AllocationBase, Size: m.RegionSize,
			AllocProtect: m.AllocationProtect, State: m.State, Protect: m.Protect, Type: m.Type}
	}
	return out, nil
}

// HandleInfo is one handle of the HandleData stream; names are sanitized.
type HandleInfo struct {
	Handle                    uint64
	Type, Name                string
	Attributes, GrantedAccess uint32
	HandleCount, PointerCount uint32
}

// Handles returns the dump's HandleData descriptors.
func (t *UserTarget) Handles() ([]HandleInfo, error) {
	hs, err := t.file.Handles()
	if err != nil {
		return nil, err
	}
	out := make([]HandleInfo, len(hs))
	for i, h := range hs {
		out[i] = HandleInfo{Handle: h.Handle, Type: SanitizeName(h.TypeName), Name: Sanitize(h.ObjectName),
			Attributes: h.Attributes, GrantedAccess: h.GrantedAccess, HandleCount: h.HandleCount, PointerCount: h.PointerCount}
	}
	return out, nil
}
