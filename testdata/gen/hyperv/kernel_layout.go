package hyperv

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// The kernel writer lays out Windows 8.1 (build 9600) structures with the
// offsets and sizes of the real ntkrnlmp.pdb 6.3.9600.19913 (GUID
// 22597D0B40394E23936F6A24C6C52D5B, age 1), whose Volatility 3 ISF file is
// in ../shared/realdumps/isf. The scenario's own ntkrnlmp.pdb is generated
// with exactly that layout, but the writer reads neither it nor any of
// ntdbg's readers: kernel_layout.json holds the offset and size of every
// field the writer sets, extracted from the ISF by this package's test
// (go test ./testdata/gen/hyperv -run TestKernelLayout -update-layout), which
// also checks the committed file against the ISF whenever it is present.
//
// Fields are dotted paths through nested structures and unions
// ("Tcb.ApcState.Process", "Tail.Overlay.Thread"), with [i] for array
// elements ("FreeLists[0].HandleCount").

//go:embed kernel_layout.json
var kernelLayoutJSON []byte

// KernelFields lists, per structure, the fields the kernel writer sets or
// points into.
var KernelFields = map[string][]string{
	"_EPROCESS": {
		"Pcb", "Pcb.Header.Type", "Pcb.Header.Size", "Pcb.Header.WaitListHead", "Pcb.ProfileListHead",
		"Pcb.DirectoryTableBase", "Pcb.ThreadListHead", "Pcb.ReadyListHead", "Pcb.BasePriority", "Pcb.QuantumReset",
		"Pcb.KernelTime", "Pcb.UserTime", "Pcb.ProcessListEntry", "Pcb.ContextSwitches",
		"CreateTime", "UniqueProcessId", "ActiveProcessLinks", "SessionProcessLinks", "Token", "VirtualSize",
		"PeakVirtualSize", "InheritedFromUniqueProcessId", "Peb", "Session", "ObjectTable", "DeviceMap",
		"ImageFileName", "PriorityClass", "ThreadListHead", "ActiveThreads", "CommitCharge", "SectionBaseAddress",
		"CreateReported", "ProcessInSession", "HasAddressSpace", "AddressSpaceInitialized", "ProcessInserted", "VmTopDown",
	},
	"_ETHREAD": {
		"Tcb", "Tcb.Header.Type", "Tcb.Header.WaitListHead", "Tcb.InitialStack", "Tcb.StackLimit", "Tcb.StackBase",
		"Tcb.KernelStack", "Tcb.Alertable", "Tcb.SystemThread", "Tcb.KernelStackResident", "Tcb.SystemCallNumber",
		"Tcb.TrapFrame", "Tcb.ApcState", "Tcb.ApcState.ApcListHead", "Tcb.ApcState.Process", "Tcb.Priority",
		"Tcb.WaitStatus", "Tcb.WaitBlockList", "Tcb.Teb", "Tcb.WaitBlock", "Tcb.ContextSwitches", "Tcb.State",
		"Tcb.WaitIrql", "Tcb.WaitMode", "Tcb.WaitTime", "Tcb.Win32Thread", "Tcb.NextProcessor", "Tcb.Process",
		"Tcb.PreviousMode", "Tcb.BasePriority", "Tcb.WaitBlockCount", "Tcb.IdealProcessor", "Tcb.ApcStatePointer[0]", "Tcb.ApcStatePointer[1]", "Tcb.SavedApcState",
		"Tcb.WaitReason", "Tcb.KernelTime", "Tcb.UserTime", "Tcb.ThreadListEntry", "Tcb.MutantListHead",
		"CreateTime", "StartAddress", "Cid", "Cid.UniqueProcess", "Cid.UniqueThread", "IrpList",
		"Win32StartAddress", "ThreadListEntry",
	},
	"_KWAIT_BLOCK":       {"WaitListEntry", "WaitType", "BlockState", "WaitKey", "Thread", "Object"},
	"_DISPATCHER_HEADER": {"Type", "Size", "SignalState", "WaitListHead"},
	"_KEVENT":            {"Header"},
	"_KTIMER":            {"Header", "DueTime", "TimerListEntry", "Processor"},
	"_IRP": {
		"Type", "Size", "MdlAddress", "Flags", "ThreadListEntry", "IoStatus", "RequestorMode", "StackCount",
		"CurrentLocation", "UserIosb", "UserEvent", "UserBuffer", "Tail.Overlay.Thread",
		"Tail.Overlay.CurrentStackLocation", "Tail.Overlay.OriginalFileObject",
	},
	"_IO_STACK_LOCATION": {
		"MajorFunction", "Parameters.DeviceIoControl.OutputBufferLength",
		"Parameters.DeviceIoControl.InputBufferLength", "Parameters.DeviceIoControl.IoControlCode",
		"Parameters.DeviceIoControl.Type3InputBuffer", "DeviceObject", "FileObject",
	},
	"_LDR_DATA_TABLE_ENTRY": {
		"InLoadOrderLinks", "DllBase", "EntryPoint", "SizeOfImage", "FullDllName", "BaseDllName", "Flags",
		"ObsoleteLoadCount", "TimeDateStamp",
	},
	"_UNICODE_STRING": {"Length", "MaximumLength", "Buffer"},
	"_LIST_ENTRY":     {"Flink", "Blink"},
	"_KUSER_SHARED_DATA": {
		"TickCountMultiplier", "InterruptTime.LowPart", "InterruptTime.High1Time", "InterruptTime.High2Time",
		"SystemTime.LowPart", "SystemTime.High1Time", "SystemTime.High2Time", "TimeZoneBias.LowPart",
		"TimeZoneBias.High1Time", "TimeZoneBias.High2Time", "NtSystemRoot", "TimeZoneId", "NtProductType",
		"ProductTypeIsValid", "NativeProcessorArchitecture", "NtMajorVersion", "NtMinorVersion", "SuiteMask",
		"KdDebuggerEnabled", "ActiveConsoleId", "NumberOfPhysicalPages", "TickCount.LowPart",
		"TickCount.High1Time", "TickCount.High2Time", "ActiveProcessorCount", "ActiveGroupCount",
	},
	"_KTRAP_FRAME": {
		"PreviousMode", "PreviousIrql", "MxCsr", "Rax", "Rcx", "Rdx", "R8", "R9", "R10", "R11", "SegDs",
		"SegEs", "SegFs", "SegGs", "Rbx", "Rdi", "Rsi", "Rbp", "Rip", "SegCs", "EFlags", "Rsp", "SegSs",
	},
	"_KPCR": {
		"NtTib.Self", "Self", "CurrentPrcb", "Irql", "MajorVersion", "MinorVersion", "Prcb",
	},
	"_KPRCB": {
		"CurrentThread", "NextThread", "IdleThread", "Number", "GroupSetMember", "Group", "GroupIndex",
		"ProcessorState.ContextFrame", "Context",
	},
	"_HANDLE_TABLE": {
		"NextHandleNeedingPool", "TableCode", "QuotaProcess", "HandleTableList", "UniqueProcessId",
		"FreeLists[0].HandleCount", "FreeLists[0].HighWaterMark",
	},
	"_HANDLE_TABLE_ENTRY": {"LowValue", "Unlocked", "RefCnt", "Attributes", "ObjectPointerBits", "HighValue", "GrantedAccessBits"},
	"_OBJECT_HEADER":      {"PointerCount", "HandleCount", "TypeIndex", "InfoMask", "Flags", "Body"},
	"_OBJECT_TYPE":        {"TypeList", "Name", "Index", "TotalNumberOfObjects", "TotalNumberOfHandles"},
	"_ERESOURCE": {
		"SystemResourcesList", "OwnerTable", "ActiveCount", "Flag", "SharedWaiters", "ExclusiveWaiters",
		"OwnerEntry.OwnerThread", "OwnerEntry.OwnerCount", "ActiveEntries", "ContentionCount",
		"NumberOfSharedWaiters", "NumberOfExclusiveWaiters",
	},
	"_FILE_OBJECT":      {"Type", "Size", "DeviceObject"},
	"_MM_SESSION_SPACE": {"ReferenceCount", "SessionId", "ProcessList"},
	"_DEVICE_MAP":       {"ReferenceCount", "DriveMap"},
	"_KPRIQUEUE":        {"Header", "EntryListHead", "ThreadListHead", "MaximumCount"},
	"_IO_WORKITEM":      {"WorkItem.List", "WorkItem.WorkerRoutine", "WorkItem.Parameter", "Routine", "IoObject", "Context", "Type"},
}

// KernelSizes lists the structures whose sizes the writer needs.
var KernelSizes = []string{"_EPROCESS", "_ETHREAD", "_KTHREAD", "_KPROCESS", "_KWAIT_BLOCK", "_KEVENT", "_KTIMER",
	"_IRP", "_IO_STACK_LOCATION", "_LDR_DATA_TABLE_ENTRY", "_KTRAP_FRAME", "_KPCR", "_KPRCB", "_HANDLE_TABLE",
	"_KUSER_SHARED_DATA", "_MM_SESSION_SPACE", "_DEVICE_MAP", "_IO_WORKITEM", "_CONTEXT", "_EX_WORK_QUEUE", "_KPRIQUEUE",
	"_HANDLE_TABLE_ENTRY", "_OBJECT_HEADER", "_OBJECT_TYPE", "_ERESOURCE", "_FILE_OBJECT"}

// FieldLayout is one field: offset from the structure's start and size in
// bytes; bit fields also give their bit position and length.
type FieldLayout struct {
	Offset uint64 `json:"offset"`
	Size   uint64 `json:"size"`
	BitPos uint64 `json:"bit_position,omitempty"`
	BitLen uint64 `json:"bit_length,omitempty"`
}

// StructLayout is one structure's size and the fields the writer uses.
type StructLayout struct {
	Size   uint64                 `json:"size"`
	Fields map[string]FieldLayout `json:"fields,omitempty"`
}

// LayoutFile is kernel_layout.json.
type LayoutFile struct {
	Comment string                   `json:"comment"`
	Source  string                   `json:"source"`
	Types   map[string]*StructLayout `json:"types"`
}

var kernelLayout = func() *LayoutFile {
	var l LayoutFile
	if err := json.Unmarshal(kernelLayoutJSON, &l); err != nil {
		panic("kernel_layout.json: " + err.Error())
	}
	return &l
}()

// KernelLayout is the committed layout (kernel_layout.json).
func KernelLayout() *LayoutFile { return kernelLayout }

// Marshal renders the layout as committed: indented, keys sorted.
func (l *LayoutFile) Marshal() []byte {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// field is a field of a structure, or a panic naming what is missing from
// kernel_layout.json (add it to KernelFields and regenerate).
func field(typ, path string) FieldLayout {
	s := kernelLayout.Types[typ]
	if s == nil {
		panic("kernel_layout.json has no type " + typ)
	}
	f, ok := s.Fields[path]
	if !ok {
		panic(fmt.Sprintf("kernel_layout.json has no field %s.%s", typ, path))
	}
	return f
}

// off is a field's offset.
func off(typ, path string) uint64 { return field(typ, path).Offset }

// sizeOf is a structure's size.
func sizeOf(typ string) uint64 {
	s := kernelLayout.Types[typ]
	if s == nil || s.Size == 0 {
		panic("kernel_layout.json has no size of " + typ)
	}
	return s.Size
}

// kobj is a kernel structure at an address of a space: fields are written
// with the width the layout gives them.
type kobj struct {
	sp   *Space
	typ  string
	addr uint64
}

func (o kobj) at(path string) uint64 { return o.addr + off(o.typ, path) }

// set writes an integer field (1, 2, 4 or 8 bytes; bit fields are merged
// into their storage unit).
func (o kobj) set(path string, v uint64) {
	f := field(o.typ, path)
	a := o.addr + f.Offset
	if f.BitLen != 0 {
		cur := leUint(o.sp.Read(a, int(f.Size)))
		mask := (uint64(1)<<f.BitLen - 1) << f.BitPos
		v = cur&^mask | v<<f.BitPos&mask
	}
	switch f.Size {
	case 1:
		o.sp.Write(a, []byte{byte(v)})
	case 2:
		o.sp.U16(a, uint16(v))
	case 4:
		o.sp.U32(a, uint32(v))
	case 8:
		o.sp.U64(a, v)
	default:
		panic(fmt.Sprintf("%s.%s is %d bytes, not an integer", o.typ, path, f.Size))
	}
}

// bytes writes a byte-array field, which must fit.
func (o kobj) bytes(path string, b []byte) {
	f := field(o.typ, path)
	if uint64(len(b)) > f.Size {
		panic(fmt.Sprintf("%d bytes do not fit %s.%s (%d)", len(b), o.typ, path, f.Size))
	}
	o.sp.Write(o.addr+f.Offset, b)
}

// emptyList makes the LIST_ENTRY at path point to itself.
func (o kobj) emptyList(path string) {
	a := o.at(path)
	o.sp.U64(a+off("_LIST_ENTRY", "Flink"), a)
	o.sp.U64(a+off("_LIST_ENTRY", "Blink"), a)
}

func leUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
