// Package nt knows Windows structures: where the fields of the TEB, the PEB,
// the loader data and the process parameters are, found by name in ntdll's
// type information, and the one documented fallback layout per structure
// used when no type information exists (fallback.go). Walkers over these
// structures (and, next, kernel processes and threads) build on it.
package nt

import (
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

// TypeFinder finds a structure type by name in a module's type information.
type TypeFinder interface {
	FindType(module, name string) (*types.Ref, error)
}

// Layout holds the offsets of the TEB/PEB fields ntdbg reads.
type Layout struct {
	TebClientID, TebRpc, TebTLS, TebPeb, TebLastErr, TebOwnedLocks, TebLastStatus, TebHardError uint64
	PebImageBase, PebLdr, PebParams, PebSubSys, PebHeap, PebGlobalFlag                          uint64
	LdrLists                                                                                    [3]uint64 // load, memory, init order
	PpCurDir, PpDllPath, PpImage, PpCmdLine, PpEnv, PpTitle                                     uint64
	EntBase, EntFullName, EntStamp, EntMemLinks                                                 uint64
	UsLength, UsBuffer                                                                          uint64 // UNICODE_STRING
	// _KLDR_DATA_TABLE_ENTRY (kernel loaded-module list; x64 only).
	KldrLinks, KldrBase, KldrSize, KldrFullName, KldrBaseName uint64
	// _RTL_CRITICAL_SECTION and _RTL_CRITICAL_SECTION_DEBUG.
	CsDebugInfo, CsLockCount, CsRecursion, CsOwner, CsSemaphore, CsSpinCount, CsSize        uint64
	CsdType, CsdBackTrace, CsdSection, CsdLocksList, CsdEntryCount, CsdContention, CsdFlags uint64
	// FromTypes is true when at least one structure came from type information.
	FromTypes bool
}

// LayoutFor starts from the fallback layout of arch and replaces each offset
// that ntdll's type information defines, found by field name. types may be nil.
func LayoutFor(arch target.Arch, tf TypeFinder) *Layout {
	l := fallback32
	if arch == target.ArchAMD64 {
		l = fallback64
	}
	if tf == nil {
		return &l
	}
	overlay := func(typ string, fields map[string]*uint64) {
		ref, err := tf.FindType("ntdll", typ)
		if err != nil {
			return
		}
		for path, dst := range fields {
			if f, err := ref.Field(path); err == nil {
				*dst = f.Offset
				l.FromTypes = true
			}
		}
	}
	overlay("_TEB", map[string]*uint64{"ClientId": &l.TebClientID, "ActiveRpcHandle": &l.TebRpc,
		"ThreadLocalStoragePointer": &l.TebTLS, "ProcessEnvironmentBlock": &l.TebPeb, "LastErrorValue": &l.TebLastErr,
		"CountOfOwnedCriticalSections": &l.TebOwnedLocks, "LastStatusValue": &l.TebLastStatus, "HardErrorMode": &l.TebHardError})
	overlay("_PEB", map[string]*uint64{"ImageBaseAddress": &l.PebImageBase, "Ldr": &l.PebLdr, "ProcessParameters": &l.PebParams,
		"SubSystemData": &l.PebSubSys, "ProcessHeap": &l.PebHeap, "NtGlobalFlag": &l.PebGlobalFlag})
	overlay("_PEB_LDR_DATA", map[string]*uint64{"InLoadOrderModuleList": &l.LdrLists[0], "InMemoryOrderModuleList": &l.LdrLists[1],
		"InInitializationOrderModuleList": &l.LdrLists[2]})
	overlay("_RTL_USER_PROCESS_PARAMETERS", map[string]*uint64{"CurrentDirectory": &l.PpCurDir, "DllPath": &l.PpDllPath,
		"ImagePathName": &l.PpImage, "CommandLine": &l.PpCmdLine, "Environment": &l.PpEnv, "WindowTitle": &l.PpTitle})
	overlay("_UNICODE_STRING", map[string]*uint64{"Length": &l.UsLength, "Buffer": &l.UsBuffer})
	overlay("_RTL_CRITICAL_SECTION", map[string]*uint64{"DebugInfo": &l.CsDebugInfo, "LockCount": &l.CsLockCount,
		"RecursionCount": &l.CsRecursion, "OwningThread": &l.CsOwner, "LockSemaphore": &l.CsSemaphore, "SpinCount": &l.CsSpinCount})
	if ref, err := tf.FindType("ntdll", "_RTL_CRITICAL_SECTION"); err == nil && ref.TypeSize(ref.Index()) > 0 {
		l.CsSize = ref.TypeSize(ref.Index())
	}
	overlay("_RTL_CRITICAL_SECTION_DEBUG", map[string]*uint64{"Type": &l.CsdType, "CreatorBackTraceIndex": &l.CsdBackTrace,
		"CriticalSection": &l.CsdSection, "ProcessLocksList": &l.CsdLocksList, "EntryCount": &l.CsdEntryCount,
		"ContentionCount": &l.CsdContention, "Flags": &l.CsdFlags})
	if !l.critSecSane() {
		fb := fallback32
		if arch == target.ArchAMD64 {
			fb = fallback64
		}
		l.CsDebugInfo, l.CsLockCount, l.CsRecursion, l.CsOwner, l.CsSemaphore, l.CsSpinCount, l.CsSize =
			fb.CsDebugInfo, fb.CsLockCount, fb.CsRecursion, fb.CsOwner, fb.CsSemaphore, fb.CsSpinCount, fb.CsSize
		l.CsdType, l.CsdBackTrace, l.CsdSection, l.CsdLocksList, l.CsdEntryCount, l.CsdContention, l.CsdFlags =
			fb.CsdType, fb.CsdBackTrace, fb.CsdSection, fb.CsdLocksList, fb.CsdEntryCount, fb.CsdContention, fb.CsdFlags
	}
	overlay("_LDR_DATA_TABLE_ENTRY", map[string]*uint64{"DllBase": &l.EntBase, "FullDllName": &l.EntFullName,
		"TimeDateStamp": &l.EntStamp, "InMemoryOrderLinks": &l.EntMemLinks})
	return &l
}

// maxCritSecSize bounds the critical-section structures type information
// may describe (both are 0x28-0x30 bytes on x64).
const maxCritSecSize = 0x100

// critSecSane reports whether the critical-section layout is one ntdbg can
// read: every field inside the structure, the structures small. Odd type
// information falls back to winnt.h's layout as a whole.
func (l *Layout) critSecSane() bool {
	if l.CsSize == 0 || l.CsSize > maxCritSecSize {
		return false
	}
	for _, off := range []uint64{l.CsDebugInfo, l.CsLockCount, l.CsRecursion, l.CsOwner, l.CsSemaphore, l.CsSpinCount} {
		if off >= l.CsSize {
			return false
		}
	}
	for _, off := range []uint64{l.CsdType, l.CsdBackTrace, l.CsdSection, l.CsdLocksList, l.CsdEntryCount, l.CsdContention} {
		if off > l.CsdFlags {
			return false
		}
	}
	return l.CsdFlags <= maxCritSecSize-4
}
