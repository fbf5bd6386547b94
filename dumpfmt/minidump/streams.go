package minidump

import (
	"bytes"
	"fmt"

	"github.com/ntdbg/ntdbg/dumpfmt/codeview"
)

// Processor architectures (MINIDUMP_SYSTEM_INFO.ProcessorArchitecture).
const (
	ArchX86   = 0
	ArchARM   = 5
	ArchIA64  = 6
	ArchAMD64 = 9
	ArchARM64 = 12
)

// SystemInfo is MINIDUMP_SYSTEM_INFO.
type SystemInfo struct {
	ProcessorArchitecture uint16
	ProcessorLevel        uint16
	ProcessorRevision     uint16
	NumberOfProcessors    uint8
	ProductType           uint8
	MajorVersion          uint32
	MinorVersion          uint32
	BuildNumber           uint32
	PlatformID            uint32
	CSDVersion            string
	SuiteMask             uint16
	CPU                   [24]byte
}

// SystemInfo decodes stream 7.
func (f *File) SystemInfo() (*SystemInfo, error) {
	if v, ok := f.cache[StreamSystemInfo]; ok {
		return v.(*SystemInfo), nil
	}
	b, base, ok, err := f.stream(StreamSystemInfo)
	if err != nil || !ok {
		return nil, missing(err, ok, "SystemInfoStream")
	}
	if len(b) < 0x38 {
		return nil, errAt(base, "MINIDUMP_SYSTEM_INFO", "stream is %d bytes, need 0x38", len(b))
	}
	s := &SystemInfo{
		ProcessorArchitecture: le16(b, 0), ProcessorLevel: le16(b, 2), ProcessorRevision: le16(b, 4),
		NumberOfProcessors: b[6], ProductType: b[7],
		MajorVersion: le32(b, 8), MinorVersion: le32(b, 0xC), BuildNumber: le32(b, 0x10), PlatformID: le32(b, 0x14),
		SuiteMask: le16(b, 0x1C),
	}
	copy(s.CPU[:], b[0x20:0x38])
	if rva := le32(b, 0x18); rva != 0 {
		s.CSDVersion, _ = f.String(uint64(rva)) // an unreadable service-pack string is not fatal
	}
	f.cache[StreamSystemInfo] = s
	return s, nil
}

// ErrNoStream is returned when a dump lacks a stream.
type ErrNoStream struct{ Name string }

func (e *ErrNoStream) Error() string { return "minidump: no " + e.Name + " in this dump" }

func missing(err error, ok bool, name string) error {
	if err != nil {
		return err
	}
	if !ok {
		return &ErrNoStream{name}
	}
	return nil
}

// MemoryDescriptor is a MINIDUMP_MEMORY_DESCRIPTOR.
type MemoryDescriptor struct {
	Start    uint64
	DataSize uint64
	Rva      uint64
}

// Thread is MINIDUMP_THREAD (and MINIDUMP_THREAD_EX without its backing store).
type Thread struct {
	ID            uint32
	SuspendCount  uint32
	PriorityClass uint32
	Priority      uint32
	Teb           uint64
	Stack         MemoryDescriptor
	Context       Location
}

func decodeMemDesc(b []byte) MemoryDescriptor {
	return MemoryDescriptor{Start: le64(b, 0), DataSize: uint64(le32(b, 8)), Rva: uint64(le32(b, 12))}
}

// Threads decodes the thread list (stream 3), or the ThreadEx list (stream 8)
// when the plain list is absent.
func (f *File) Threads() ([]Thread, error) {
	if v, ok := f.cache[StreamThreadList]; ok {
		return v.([]Thread), nil
	}
	t, size := uint32(StreamThreadList), uint64(0x30)
	if _, ok := f.Stream(t); !ok {
		if _, ok := f.Stream(StreamThreadExList); ok {
			t, size = StreamThreadExList, 0x40
		}
	}
	b, base, ok, err := f.stream(t)
	if err != nil || !ok {
		return nil, missing(err, ok, "ThreadListStream")
	}
	if len(b) < 4 {
		return nil, errAt(base, "MINIDUMP_THREAD_LIST", "stream too short")
	}
	n := uint64(le32(b, 0))
	if err := table(b, base, 4, n, size, "MINIDUMP_THREAD_LIST"); err != nil {
		return nil, err
	}
	out := make([]Thread, 0, n)
	for i := uint64(0); i < n; i++ {
		e := b[4+i*size:]
		out = append(out, Thread{
			ID: le32(e, 0), SuspendCount: le32(e, 4), PriorityClass: le32(e, 8), Priority: le32(e, 0xC),
			Teb: le64(e, 0x10), Stack: decodeMemDesc(e[0x18:]),
			Context: Location{DataSize: uint64(le32(e, 0x28)), Rva: uint64(le32(e, 0x2C))},
		})
	}
	f.cache[StreamThreadList] = out
	return out, nil
}

// ThreadInfo is MINIDUMP_THREAD_INFO.
type ThreadInfo struct {
	ThreadID     uint32
	DumpFlags    uint32
	DumpError    uint32
	ExitStatus   uint32
	CreateTime   uint64
	ExitTime     uint64
	KernelTime   uint64
	UserTime     uint64
	StartAddress uint64
	Affinity     uint64
}

// ThreadInfos decodes stream 17.
func (f *File) ThreadInfos() ([]ThreadInfo, error) {
	if v, ok := f.cache[StreamThreadInfoList]; ok {
		return v.([]ThreadInfo), nil
	}
	b, base, ok, err := f.stream(StreamThreadInfoList)
	if err != nil || !ok {
		return nil, missing(err, ok, "ThreadInfoListStream")
	}
	hdr, ent, n, err := listHeader32(b, base, "MINIDUMP_THREAD_INFO_LIST")
	if err != nil {
		return nil, err
	}
	if ent < 0x40 {
		return nil, errAt(base, "MINIDUMP_THREAD_INFO_LIST", "entry size %d < 0x40", ent)
	}
	if err := table(b, base, hdr, n, ent, "MINIDUMP_THREAD_INFO_LIST"); err != nil {
		return nil, err
	}
	out := make([]ThreadInfo, 0, n)
	for i := uint64(0); i < n; i++ {
		e := b[hdr+i*ent:]
		out = append(out, ThreadInfo{le32(e, 0), le32(e, 4), le32(e, 8), le32(e, 0xC),
			le64(e, 0x10), le64(e, 0x18), le64(e, 0x20), le64(e, 0x28), le64(e, 0x30), le64(e, 0x38)})
	}
	f.cache[StreamThreadInfoList] = out
	return out, nil
}

// listHeader32 reads the {SizeOfHeader, SizeOfEntry, NumberOfEntries u32}
// header shared by several list streams.
func listHeader32(b []byte, base int64, what string) (hdr, ent, n uint64, err error) {
	if len(b) < 12 {
		return 0, 0, 0, errAt(base, what, "stream too short (%d bytes)", len(b))
	}
	hdr, ent, n = uint64(le32(b, 0)), uint64(le32(b, 4)), uint64(le32(b, 8))
	if hdr < 12 {
		return 0, 0, 0, errAt(base, what, "header size %d < 12", hdr)
	}
	return hdr, ent, n, nil
}

// ThreadNames decodes stream 24 into a thread-id → name map.
func (f *File) ThreadNames() (map[uint32]string, error) {
	if v, ok := f.cache[StreamThreadNames]; ok {
		return v.(map[uint32]string), nil
	}
	b, base, ok, err := f.stream(StreamThreadNames)
	if err != nil || !ok {
		return nil, missing(err, ok, "ThreadNamesStream")
	}
	if len(b) < 4 {
		return nil, errAt(base, "MINIDUMP_THREAD_NAME_LIST", "stream too short")
	}
	n := uint64(le32(b, 0))
	if err := table(b, base, 4, n, 12, "MINIDUMP_THREAD_NAME_LIST"); err != nil {
		return nil, err
	}
	out := make(map[uint32]string, n)
	for i := uint64(0); i < n; i++ {
		e := b[4+i*12:]
		name, err := f.String(le64(e, 4))
		if err != nil {
			return out, err
		}
		out[le32(e, 0)] = name
	}
	f.cache[StreamThreadNames] = out
	return out, nil
}

// FixedFileInfo is VS_FIXEDFILEINFO.
type FixedFileInfo struct {
	Signature        uint32
	StrucVersion     uint32
	FileVersionMS    uint32
	FileVersionLS    uint32
	ProductVersionMS uint32
	ProductVersionLS uint32
	FileFlagsMask    uint32
	FileFlags        uint32
	FileOS           uint32
	FileType         uint32
	FileSubtype      uint32
	FileDateMS       uint32
	FileDateLS       uint32
}

// Module is MINIDUMP_MODULE with its name and CodeView record resolved.
type Module struct {
	Base          uint64
	Size          uint32
	CheckSum      uint32
	TimeDateStamp uint32
	Name          string
	Version       FixedFileInfo
	CvRecord      Location
	MiscRecord    Location
	CodeView      *codeview.Record // nil when absent or unreadable
}

// Modules decodes stream 4.
func (f *File) Modules() ([]Module, error) {
	if v, ok := f.cache[StreamModuleList]; ok {
		return v.([]Module), nil
	}
	b, base, ok, err := f.stream(StreamModuleList)
	if err != nil || !ok {
		return nil, missing(err, ok, "ModuleListStream")
	}
	if len(b) < 4 {
		return nil, errAt(base, "MINIDUMP_MODULE_LIST", "stream too short")
	}
	n := uint64(le32(b, 0))
	if err := table(b, base, 4, n, 0x6C, "MINIDUMP_MODULE_LIST"); err != nil {
		return nil, err
	}
	out := make([]Module, 0, n)
	for i := uint64(0); i < n; i++ {
		e := b[4+i*0x6C:]
		m := Module{Base: le64(e, 0), Size: le32(e, 8), CheckSum: le32(e, 0xC), TimeDateStamp: le32(e, 0x10)}
		v := e[0x18:]
		m.Version = FixedFileInfo{le32(v, 0), le32(v, 4), le32(v, 8), le32(v, 0xC), le32(v, 0x10), le32(v, 0x14),
			le32(v, 0x18), le32(v, 0x1C), le32(v, 0x20), le32(v, 0x24), le32(v, 0x28), le32(v, 0x2C), le32(v, 0x30)}
		m.CvRecord = Location{uint64(le32(e, 0x4C)), uint64(le32(e, 0x50))}
		m.MiscRecord = Location{uint64(le32(e, 0x54)), uint64(le32(e, 0x58))}
		name, err := f.String(uint64(le32(e, 0x14)))
		if err != nil {
			name = fmt.Sprintf("<unreadable name at 0x%x>", le32(e, 0x14))
		}
		m.Name = name
		if m.CvRecord.DataSize > 0 && m.CvRecord.DataSize < 0x10000 {
			if raw, err := f.ReadRaw(m.CvRecord, "CodeView record"); err == nil {
				m.CodeView, _ = codeview.Parse(raw, int64(m.CvRecord.Rva))
			}
		}
		out = append(out, m)
	}
	f.cache[StreamModuleList] = out
	return out, nil
}

// UnloadedModule is MINIDUMP_UNLOADED_MODULE.
type UnloadedModule struct {
	Base          uint64
	Size          uint32
	CheckSum      uint32
	TimeDateStamp uint32
	Name          string
}

// UnloadedModules decodes stream 14.
func (f *File) UnloadedModules() ([]UnloadedModule, error) {
	if v, ok := f.cache[StreamUnloadedModuleList]; ok {
		return v.([]UnloadedModule), nil
	}
	b, base, ok, err := f.stream(StreamUnloadedModuleList)
	if err != nil || !ok {
		return nil, missing(err, ok, "UnloadedModuleListStream")
	}
	hdr, ent, n, err := listHeader32(b, base, "MINIDUMP_UNLOADED_MODULE_LIST")
	if err != nil {
		return nil, err
	}
	if ent < 0x18 {
		return nil, errAt(base, "MINIDUMP_UNLOADED_MODULE_LIST", "entry size %d < 0x18", ent)
	}
	if err := table(b, base, hdr, n, ent, "MINIDUMP_UNLOADED_MODULE_LIST"); err != nil {
		return nil, err
	}
	out := make([]UnloadedModule, 0, n)
	for i := uint64(0); i < n; i++ {
		e := b[hdr+i*ent:]
		u := UnloadedModule{Base: le64(e, 0), Size: le32(e, 8), CheckSum: le32(e, 0xC), TimeDateStamp: le32(e, 0x10)}
		u.Name, err = f.String(uint64(le32(e, 0x14)))
		if err != nil {
			u.Name = fmt.Sprintf("<unreadable name at 0x%x>", le32(e, 0x14))
		}
		out = append(out, u)
	}
	f.cache[StreamUnloadedModuleList] = out
	return out, nil
}

// MemoryRanges returns the captured memory ranges from the MemoryList (5) and
// Memory64List (9) streams, each with the file offset of its bytes.
func (f *File) MemoryRanges() ([]MemoryDescriptor, error) {
	if v, ok := f.cache[StreamMemoryList]; ok {
		return v.([]MemoryDescriptor), nil
	}
	var out []MemoryDescriptor
	if b, base, ok, err := f.stream(StreamMemoryList); err != nil {
		return nil, err
	} else if ok {
		if len(b) < 4 {
			return nil, errAt(base, "MINIDUMP_MEMORY_LIST", "stream too short")
		}
		n := uint64(le32(b, 0))
		if err := table(b, base, 4, n, 0x10, "MINIDUMP_MEMORY_LIST"); err != nil {
			return nil, err
		}
		for i := uint64(0); i < n; i++ {
			out = append(out, decodeMemDesc(b[4+i*0x10:]))
		}
	}
	if b, base, ok, err := f.stream(StreamMemory64List); err != nil {
		return nil, err
	} else if ok {
		if len(b) < 0x10 {
			return nil, errAt(base, "MINIDUMP_MEMORY64_LIST", "stream too short")
		}
		n, rva := le64(b, 0), le64(b, 8)
		if err := table(b, base, 0x10, n, 0x10, "MINIDUMP_MEMORY64_LIST"); err != nil {
			return nil, err
		}
		for i := uint64(0); i < n; i++ {
			e := b[0x10+i*0x10:]
			d := MemoryDescriptor{Start: le64(e, 0), DataSize: le64(e, 8), Rva: rva}
			if rva > uint64(f.size) || d.DataSize > uint64(f.size)-rva {
				// Keep the part that is in the file; the rest reads as missing.
				if rva < uint64(f.size) {
					d.DataSize = uint64(f.size) - rva
					out = append(out, d)
				}
				return out, errAt(base+0x10+int64(i)*0x10, "MINIDUMP_MEMORY_DESCRIPTOR64",
					"range %d (0x%x bytes at file offset 0x%x) runs past the end of the file", i, d.DataSize, rva)
			}
			out = append(out, d)
			rva += d.DataSize
		}
	}
	for _, d := range out {
		if d.Rva > uint64(f.size) || d.DataSize > uint64(f.size)-d.Rva {
			return nil, errAt(int64(d.Rva&0x7fffffffffffffff), "memory range", "range at 0x%x (0x%x bytes) runs past the end of the file", d.Start, d.DataSize)
		}
	}
	f.cache[StreamMemoryList] = out
	return out, nil
}

// MemoryInfo is MINIDUMP_MEMORY_INFO.
type MemoryInfo struct {
	BaseAddress       uint64
	AllocationBase    uint64
	AllocationProtect uint32
	RegionSize        uint64
	State             uint32
	Protect           uint32
	Type              uint32
}

// MemoryInfos decodes stream 16.
func (f *File) MemoryInfos() ([]MemoryInfo, error) {
	if v, ok := f.cache[StreamMemoryInfoList]; ok {
		return v.([]MemoryInfo), nil
	}
	b, base, ok, err := f.stream(StreamMemoryInfoList)
	if err != nil || !ok {
		return nil, missing(err, ok, "MemoryInfoListStream")
	}
	if len(b) < 0x10 {
		return nil, errAt(base, "MINIDUMP_MEMORY_INFO_LIST", "stream too short")
	}
	hdr, ent, n := uint64(le32(b, 0)), uint64(le32(b, 4)), le64(b, 8)
	if hdr < 0x10 || ent < 0x30 {
		return nil, errAt(base, "MINIDUMP_MEMORY_INFO_LIST", "header %d / entry %d sizes too small", hdr, ent)
	}
	if err := table(b, base, hdr, n, ent, "MINIDUMP_MEMORY_INFO_LIST"); err != nil {
		return nil, err
	}
	out := make([]MemoryInfo, 0, n)
	for i := uint64(0); i < n; i++ {
		e := b[hdr+i*ent:]
		out = append(out, MemoryInfo{le64(e, 0), le64(e, 8), le32(e, 0x10), le64(e, 0x18), le32(e, 0x20), le32(e, 0x24), le32(e, 0x28)})
	}
	f.cache[StreamMemoryInfoList] = out
	return out, nil
}

// ExceptionRecord is MINIDUMP_EXCEPTION.
type ExceptionRecord struct {
	Code        uint32
	Flags       uint32
	Record      uint64
	Address     uint64
	NumParams   uint32
	Information [15]uint64
}

// Exception is MINIDUMP_EXCEPTION_STREAM.
type Exception struct {
	ThreadID uint32
	Record   ExceptionRecord
	Context  Location
}

// Exception decodes stream 6.
func (f *File) Exception() (*Exception, error) {
	if v, ok := f.cache[StreamException]; ok {
		return v.(*Exception), nil
	}
	b, base, ok, err := f.stream(StreamException)
	if err != nil || !ok {
		return nil, missing(err, ok, "ExceptionStream")
	}
	if len(b) < 0xA8 {
		return nil, errAt(base, "MINIDUMP_EXCEPTION_STREAM", "stream is %d bytes, need 0xA8", len(b))
	}
	e := &Exception{ThreadID: le32(b, 0)}
	r := b[8:]
	e.Record = ExceptionRecord{Code: le32(r, 0), Flags: le32(r, 4), Record: le64(r, 8), Address: le64(r, 0x10), NumParams: le32(r, 0x18)}
	for i := range e.Record.Information {
		e.Record.Information[i] = le64(r, 0x20+8*i)
	}
	e.Context = Location{uint64(le32(b, 0xA0)), uint64(le32(b, 0xA4))}
	f.cache[StreamException] = e
	return e, nil
}

// MiscInfo is MINIDUMP_MISC_INFO versions 1 to 5; Version says which fields are valid.
type MiscInfo struct {
	Version                   int
	SizeOfInfo                uint32
	Flags1                    uint32
	ProcessID                 uint32
	ProcessCreateTime         uint32
	ProcessUserTime           uint32
	ProcessKernelTime         uint32
	ProcessorMaxMhz           uint32
	ProcessorCurrentMhz       uint32
	ProcessorMhzLimit         uint32
	ProcessorMaxIdleState     uint32
	ProcessorCurrentIdleState uint32
	ProcessIntegrityLevel     uint32
	ProcessExecuteFlags       uint32
	ProtectedProcess          uint32
	TimeZoneID                uint32
	TimeZoneBias              int32
	StandardName              string
	DaylightName              string
	BuildString               string
	DbgBldStr                 string
	XStateContextSize         uint32
	XStateEnabledFeatures     uint64
	XStateFeatures            [64][2]uint32 // Offset, Size
	ProcessCookie             uint32
}

// MiscInfo flag bits.
const (
	MiscProcessID    = 0x1
	MiscProcessTimes = 0x2
	MiscPowerInfo    = 0x4
	MiscIntegrity    = 0x10
	MiscExecuteFlags = 0x20
	MiscTimeZone     = 0x40
	MiscProtected    = 0x80
	MiscBuildString  = 0x100
	MiscCookie       = 0x200
)

// MiscInfo decodes stream 15 of any version.
func (f *File) MiscInfo() (*MiscInfo, error) {
	if v, ok := f.cache[StreamMiscInfo]; ok {
		return v.(*MiscInfo), nil
	}
	b, base, ok, err := f.stream(StreamMiscInfo)
	if err != nil || !ok {
		return nil, missing(err, ok, "MiscInfoStream")
	}
	if len(b) < 0x18 {
		return nil, errAt(base, "MINIDUMP_MISC_INFO", "stream is %d bytes, need 0x18", len(b))
	}
	m := &MiscInfo{Version: 1, SizeOfInfo: le32(b, 0), Flags1: le32(b, 4), ProcessID: le32(b, 8),
		ProcessCreateTime: le32(b, 0xC), ProcessUserTime: le32(b, 0x10), ProcessKernelTime: le32(b, 0x14)}
	if len(b) >= 0x2C {
		m.Version = 2
		m.ProcessorMaxMhz, m.ProcessorCurrentMhz, m.ProcessorMhzLimit = le32(b, 0x18), le32(b, 0x1C), le32(b, 0x20)
		m.ProcessorMaxIdleState, m.ProcessorCurrentIdleState = le32(b, 0x24), le32(b, 0x28)
	}
	if len(b) >= 0xE8 {
		m.Version = 3
		m.ProcessIntegrityLevel, m.ProcessExecuteFlags, m.ProtectedProcess = le32(b, 0x2C), le32(b, 0x30), le32(b, 0x34)
		m.TimeZoneID = le32(b, 0x38)
		tz := b[0x3C:]
		m.TimeZoneBias = int32(le32(tz, 0))
		m.StandardName = decodeUTF16(trimUTF16(tz[4:0x44]))
		m.DaylightName = decodeUTF16(trimUTF16(tz[0x58:0x98]))
	}
	if len(b) >= 0x340 {
		m.Version = 4
		m.BuildString = decodeUTF16(trimUTF16(b[0xE8:0x2F0]))
		m.DbgBldStr = decodeUTF16(trimUTF16(b[0x2F0:0x340]))
	}
	if len(b) >= 0x554 {
		m.Version = 5
		x := b[0x340:]
		m.XStateContextSize = le32(x, 4)
		m.XStateEnabledFeatures = le64(x, 8)
		for i := range m.XStateFeatures {
			m.XStateFeatures[i] = [2]uint32{le32(x, 0x10+8*i), le32(x, 0x14+8*i)}
		}
		m.ProcessCookie = le32(b, 0x550)
	}
	f.cache[StreamMiscInfo] = m
	return m, nil
}

// trimUTF16 cuts a fixed WCHAR array at its first NUL.
func trimUTF16(b []byte) []byte {
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return b[:i]
		}
	}
	return b
}

// Handle is MINIDUMP_HANDLE_DESCRIPTOR(_2).
type Handle struct {
	Handle        uint64
	TypeName      string
	ObjectName    string
	Attributes    uint32
	GrantedAccess uint32
	HandleCount   uint32
	PointerCount  uint32
	ObjectInfoRva uint32
}

// Handles decodes stream 12.
func (f *File) Handles() ([]Handle, error) {
	if v, ok := f.cache[StreamHandleData]; ok {
		return v.([]Handle), nil
	}
	b, base, ok, err := f.stream(StreamHandleData)
	if err != nil || !ok {
		return nil, missing(err, ok, "HandleDataStream")
	}
	if len(b) < 0x10 {
		return nil, errAt(base, "MINIDUMP_HANDLE_DATA_STREAM", "stream too short")
	}
	hdr, ent, n := uint64(le32(b, 0)), uint64(le32(b, 4)), uint64(le32(b, 8))
	if hdr < 0x10 || ent < 0x20 {
		return nil, errAt(base, "MINIDUMP_HANDLE_DATA_STREAM", "header %d / descriptor %d sizes too small", hdr, ent)
	}
	if err := table(b, base, hdr, n, ent, "MINIDUMP_HANDLE_DATA_STREAM"); err != nil {
		return nil, err
	}
	out := make([]Handle, 0, n)
	for i := uint64(0); i < n; i++ {
		e := b[hdr+i*ent:]
		h := Handle{Handle: le64(e, 0), Attributes: le32(e, 0x10), GrantedAccess: le32(e, 0x14), HandleCount: le32(e, 0x18), PointerCount: le32(e, 0x1C)}
		h.TypeName, _ = f.String(uint64(le32(e, 8)))
		h.ObjectName, _ = f.String(uint64(le32(e, 0xC)))
		if ent >= 0x28 {
			h.ObjectInfoRva = le32(e, 0x20)
		}
		out = append(out, h)
	}
	f.cache[StreamHandleData] = out
	return out, nil
}

// Comment returns the comment stream text (W preferred over A), or "".
func (f *File) Comment() (string, error) {
	if b, _, ok, err := f.stream(StreamCommentW); err != nil {
		return "", err
	} else if ok {
		return decodeUTF16(trimUTF16(b)), nil
	}
	if b, _, ok, err := f.stream(StreamCommentA); err != nil {
		return "", err
	} else if ok {
		return cstring(b), nil
	}
	return "", nil
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
