package nt

// The fallback layouts: the public NT_TIB/TEB/PEB/PEB_LDR_DATA/
// RTL_USER_PROCESS_PARAMETERS/LDR_DATA_TABLE_ENTRY/UNICODE_STRING offsets (formats-spec.md
// §6.7), winnt.h's RTL_CRITICAL_SECTION/RTL_CRITICAL_SECTION_DEBUG and
// the head of the kernel's KLDR_DATA_TABLE_ENTRY (the same on x64 from
// Vista to 11: the module list is read before the kernel's symbols are found), used field by field wherever ntdll's type information does not
// define the field. This is the only table of Windows structure offsets in
// ntdbg; everything else is found by name.

var fallback64 = Layout{
	TebClientID: 0x40, TebRpc: 0x50, TebTLS: 0x58, TebPeb: 0x60, TebLastErr: 0x68, TebOwnedLocks: 0x6C, TebLastStatus: 0x1250, TebHardError: 0x16B0,
	PebImageBase: 0x10, PebLdr: 0x18, PebParams: 0x20, PebSubSys: 0x28, PebHeap: 0x30, PebGlobalFlag: 0xBC,
	LdrLists: [3]uint64{0x10, 0x20, 0x30},
	PpCurDir: 0x38, PpDllPath: 0x50, PpImage: 0x60, PpCmdLine: 0x70, PpEnv: 0x80, PpTitle: 0xB0,
	EntBase: 0x30, EntFullName: 0x48, EntStamp: 0x80, EntMemLinks: 0x10,
	UsLength: 0, UsBuffer: 8,
	CsDebugInfo: 0, CsLockCount: 8, CsRecursion: 0xC, CsOwner: 0x10, CsSemaphore: 0x18, CsSpinCount: 0x20, CsSize: 0x28,
	CsdType: 0, CsdBackTrace: 2, CsdSection: 8, CsdLocksList: 0x10, CsdEntryCount: 0x20, CsdContention: 0x24, CsdFlags: 0x28,
	KldrLinks: 0, KldrBase: 0x30, KldrSize: 0x40, KldrFullName: 0x48, KldrBaseName: 0x58,
}

var fallback32 = Layout{
	TebClientID: 0x20, TebRpc: 0x28, TebTLS: 0x2C, TebPeb: 0x30, TebLastErr: 0x34, TebOwnedLocks: 0x38, TebLastStatus: 0xBF4, TebHardError: 0xF28,
	PebImageBase: 0x8, PebLdr: 0xC, PebParams: 0x10, PebSubSys: 0x14, PebHeap: 0x18, PebGlobalFlag: 0x68,
	LdrLists: [3]uint64{0xC, 0x14, 0x1C},
	PpCurDir: 0x24, PpDllPath: 0x30, PpImage: 0x38, PpCmdLine: 0x40, PpEnv: 0x48, PpTitle: 0x70,
	EntBase: 0x18, EntFullName: 0x24, EntStamp: 0x44, EntMemLinks: 0x8,
	UsLength: 0, UsBuffer: 4,
	CsDebugInfo: 0, CsLockCount: 4, CsRecursion: 8, CsOwner: 0xC, CsSemaphore: 0x10, CsSpinCount: 0x14, CsSize: 0x18,
	CsdType: 0, CsdBackTrace: 2, CsdSection: 4, CsdLocksList: 8, CsdEntryCount: 0x10, CsdContention: 0x14, CsdFlags: 0x18,
}

// kdbgLayout is KDDEBUGGER_DATA64 (wdbgexts.h; formats-spec.md §2.7): a
// public structure that grows at its end and is never in the kernel's
// types, so it is read by these offsets.
var kdbgLayout = struct {
	OwnerTag, Size, KernBase, PsLoadedModuleList, PsActiveProcessHead, MmPfnDatabase, NtBuildLab, KiProcessorBlock uint64
	OffsetPrcbCurrentThread, OffsetPrcbContext                                                                     uint64
}{0x10, 0x14, 0x18, 0x48, 0x50, 0xC0, 0x208, 0x218, 0x2B4, 0x338}
