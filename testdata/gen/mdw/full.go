package mdw

import (
	"encoding/binary"
	"time"
	"unicode/utf16"
)

// This file adds a second writer for the streams a Task Manager ("Create
// dump file") full-memory dump carries and Dump.Bytes does not write:
// ThreadInfoList, MemoryInfoList, HandleData, a MiscInfo v4 with processor
// power and integrity fields, and thread stack descriptors that point into
// the Memory64List data. Dump.Bytes is unchanged.

// ThreadInfo is one MINIDUMP_THREAD_INFO. Times are FILETIME values
// (CreateTime, ExitTime) or 100 ns counts (KernelTime, UserTime).
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

// MemoryInfo is one MINIDUMP_MEMORY_INFO.
type MemoryInfo struct {
	Base, AllocationBase uint64
	AllocationProtect    uint32
	RegionSize           uint64
	State, Protect, Type uint32
}

// Handle is one MINIDUMP_HANDLE_DESCRIPTOR_2 (without object information).
type Handle struct {
	Handle                    uint64
	TypeName, ObjectName      string
	Attributes, GrantedAccess uint32
	HandleCount, PointerCount uint32
}

// Full is a full-memory dump with the streams Task Manager writes. The
// embedded Dump supplies the threads, modules, memory, system and process
// fields; Exception and Comment are written when set, thread names are not
// (Windows 8.1 has no thread names).
type Full struct {
	Dump
	ThreadInfo        []ThreadInfo
	MemoryInfo        []MemoryInfo
	Handles           []Handle
	Flags             uint64 // MINIDUMP_TYPE in the header
	VersionHigh       uint16 // implementation word of the header version
	ProcessorLevel    uint16
	ProcessorRevision uint16
	CPUVendor         string // 12 characters, e.g. GenuineIntel
	CPUVersion        uint32
	CPUFeatures       uint32
	CSDVersion        string
	MaxMhz            uint32
	IntegrityLevel    uint32
	TZStandardName    string
	TZDaylightName    string
	TZDaylightBias    int32
	TZStandardDate    [8]uint16 // SYSTEMTIME
	TZDaylightDate    [8]uint16
	TZID              uint32
	DbgBuildString    string
	UnusedStreams     int      // UnusedStream directory entries at the end, as dbghelp reserves them
	FileTypes         []uint32 // VS_FIXEDFILEINFO.dwFileType per module (default 2, a DLL)
}

// FileTime converts t to a FILETIME (100 ns since 1601-01-01 UTC).
func FileTime(t time.Time) uint64 {
	return uint64(t.Unix()+11644473600)*10000000 + uint64(t.Nanosecond()/100)
}

func putUTF16(dst []byte, s string, max int) {
	for i, c := range utf16.Encode([]rune(s)) {
		if i >= max-1 {
			break
		}
		binary.LittleEndian.PutUint16(dst[2*i:], c)
	}
}

// Bytes renders the dump: header, stream directory, streams, then the
// Memory64List data, as MiniDumpWriteDump orders them.
func (f *Full) Bytes() []byte {
	d := &f.Dump
	w := &buf{}
	le := binary.LittleEndian
	w.zeros(0x20)
	var streams []uint32
	streams = append(streams, 3, 17, 4)
	if len(d.Unloaded) > 0 {
		streams = append(streams, 14)
	}
	streams = append(streams, 16, 9, 7, 15, 12)
	if d.Exception != nil {
		streams = append(streams, 6)
	}
	if d.Comment != "" {
		streams = append(streams, 11)
	}
	ndir := len(streams) + f.UnusedStreams
	dirAt := w.off()
	w.zeros(12 * ndir)
	setDir := func(i int, typ, size, rva uint32) {
		w.put32(dirAt+uint32(12*i), typ)
		w.put32(dirAt+uint32(12*i)+4, size)
		w.put32(dirAt+uint32(12*i)+8, rva)
	}
	idx := map[uint32]int{}
	for i, s := range streams {
		idx[s] = i
	}

	// ThreadList (3): contexts first, then the list; stack RVAs are patched
	// once the memory data is placed.
	ctxs := make([]uint32, len(d.Threads))
	for i := range d.Threads {
		ctxs[i] = w.context(&d.Threads[i].Ctx)
	}
	at, size, stackRva := w.threadList(d.Threads, ctxs, 0x4D0)
	setDir(idx[3], 3, size, at)

	// ThreadInfoList (17)
	w.align(4)
	at = w.off()
	w.u32(12)
	w.u32(0x40)
	w.u32(uint32(len(f.ThreadInfo)))
	for _, t := range f.ThreadInfo {
		w.u32(t.ThreadID)
		w.u32(t.DumpFlags)
		w.u32(t.DumpError)
		w.u32(t.ExitStatus)
		w.u64(t.CreateTime)
		w.u64(t.ExitTime)
		w.u64(t.KernelTime)
		w.u64(t.UserTime)
		w.u64(t.StartAddress)
		w.u64(t.Affinity)
	}
	setDir(idx[17], 17, w.off()-at, at)

	// ModuleList (4)
	at, size = w.moduleList(d.Modules, func(i int) uint32 {
		if i < len(f.FileTypes) && f.FileTypes[i] != 0 {
			return f.FileTypes[i]
		}
		return 2 // a DLL
	})
	setDir(idx[4], 4, size, at)

	// UnloadedModuleList (14)
	if len(d.Unloaded) > 0 {
		at, size = w.unloadedList(d.Unloaded)
		setDir(idx[14], 14, size, at)
	}

	// MemoryInfoList (16)
	w.align(8)
	at = w.off()
	w.u32(0x10)
	w.u32(0x30)
	w.u64(uint64(len(f.MemoryInfo)))
	for _, m := range f.MemoryInfo {
		w.u64(m.Base)
		w.u64(m.AllocationBase)
		w.u32(m.AllocationProtect)
		w.u32(0)
		w.u64(m.RegionSize)
		w.u32(m.State)
		w.u32(m.Protect)
		w.u32(m.Type)
		w.u32(0)
	}
	setDir(idx[16], 16, w.off()-at, at)

	// Memory64List (9): descriptors here, data at the end of the file.
	at, size, baseRvaAt := w.memory64List(d.Memory)
	setDir(idx[9], 9, size, at)

	// SystemInfo (7)
	csd := w.str(f.CSDVersion)
	w.align(4)
	at = w.off()
	w.u16(9) // PROCESSOR_ARCHITECTURE_AMD64
	w.u16(f.ProcessorLevel)
	w.u16(f.ProcessorRevision)
	w.b = append(w.b, d.Processors, d.ProductType)
	w.u32(d.Major)
	w.u32(d.Minor)
	w.u32(d.Build)
	w.u32(2) // VER_PLATFORM_WIN32_NT
	w.u32(csd)
	w.u16(d.SuiteMask)
	w.u16(0)
	vendor := []byte(f.CPUVendor + "            ")[:12]
	w.raw(vendor)
	w.u32(f.CPUVersion)
	w.u32(f.CPUFeatures)
	w.u32(0)
	setDir(idx[7], 7, w.off()-at, at)

	// MiscInfo v4 (15)
	at = w.off()
	misc := make([]byte, 0x340)
	le.PutUint32(misc[0:], 0x340)
	le.PutUint32(misc[4:], 0x1|0x2|0x4|0x10|0x40|0x100)
	le.PutUint32(misc[8:], d.ProcessID)
	le.PutUint32(misc[0xC:], uint32(d.ProcessCreate.Unix()))
	le.PutUint32(misc[0x10:], d.UserSeconds)
	le.PutUint32(misc[0x14:], d.KernelSeconds)
	le.PutUint32(misc[0x18:], f.MaxMhz)
	le.PutUint32(misc[0x1C:], f.MaxMhz)
	le.PutUint32(misc[0x20:], f.MaxMhz)
	le.PutUint32(misc[0x24:], 1)
	le.PutUint32(misc[0x28:], 1)
	le.PutUint32(misc[0x2C:], f.IntegrityLevel)
	le.PutUint32(misc[0x38:], f.TZID)
	tz := misc[0x3C:]
	le.PutUint32(tz[0:], uint32(d.TZBias))
	putUTF16(tz[4:], f.TZStandardName, 32)
	for i, v := range f.TZStandardDate {
		le.PutUint16(tz[0x44+2*i:], v)
	}
	putUTF16(tz[0x58:], f.TZDaylightName, 32)
	for i, v := range f.TZDaylightDate {
		le.PutUint16(tz[0x98+2*i:], v)
	}
	le.PutUint32(tz[0xA8:], uint32(f.TZDaylightBias))
	putUTF16(misc[0xE8:], d.BuildString, 260)
	putUTF16(misc[0x2F0:], f.DbgBuildString, 40)
	w.raw(misc)
	setDir(idx[15], 15, 0x340, at)

	// HandleData (12), MINIDUMP_HANDLE_DESCRIPTOR_2 entries.
	type hAux struct{ typ, obj uint32 }
	haux := make([]hAux, len(f.Handles))
	for i, h := range f.Handles {
		if h.TypeName != "" {
			haux[i].typ = w.str(h.TypeName)
		}
		if h.ObjectName != "" {
			haux[i].obj = w.str(h.ObjectName)
		}
	}
	w.align(4)
	at = w.off()
	w.u32(0x10)
	w.u32(0x28)
	w.u32(uint32(len(f.Handles)))
	w.u32(0)
	for i, h := range f.Handles {
		w.u64(h.Handle)
		w.u32(haux[i].typ)
		w.u32(haux[i].obj)
		w.u32(h.Attributes)
		w.u32(h.GrantedAccess)
		w.u32(h.HandleCount)
		w.u32(h.PointerCount)
		w.u32(0)
		w.u32(0)
	}
	setDir(idx[12], 12, w.off()-at, at)

	// Exception (6)
	if e := d.Exception; e != nil {
		at, size = w.exception(e)
		setDir(idx[6], 6, size, at)
	}

	// CommentStreamW (11)
	if d.Comment != "" {
		at, size = w.comment(d.Comment)
		setDir(idx[11], 11, size, at)
	}

	// Memory64 data.
	where := w.memoryData(d.Memory, baseRvaAt)
	// Each thread's stack descriptor points at its bytes in the data.
	for i, t := range d.Threads {
		for j, r := range d.Memory {
			if t.StackStart >= r.Addr && t.StackStart+uint64(t.StackSize) <= r.Addr+uint64(len(r.Data)) {
				w.put32(stackRva[i], uint32(where[j]+(t.StackStart-r.Addr)))
				break
			}
		}
	}

	vh := uint32(f.VersionHigh)
	w.put32(0, 0x504D444D)
	w.put32(4, vh<<16|0xA793)
	w.put32(8, uint32(ndir))
	w.put32(0xC, dirAt)
	w.put32(0x14, uint32(d.Time.Unix()))
	w.put64(0x18, f.Flags)
	return w.b
}
