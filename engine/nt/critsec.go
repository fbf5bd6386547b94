package nt

import (
	"fmt"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/types"
)

// NoDebugInfo is the DebugInfo Windows 8 and later store in a critical
// section created with RTL_CRITICAL_SECTION_FLAG_NO_DEBUG_INFO: (PVOID)-1.
const NoDebugInfo = ^uint64(0)

// MaxCritSecs bounds a walk of the process's critical-section list.
const MaxCritSecs = 1 << 17

// CritSec is an _RTL_CRITICAL_SECTION as read from memory.
type CritSec struct {
	Addr, DebugInfo           uint64
	LockCount, Recursion      int32
	Owner, Semaphore, SpinCnt uint64
}

// Locked reports the lock bit of Windows Server 2003 SP1 and later: bit 0
// of LockCount is clear while the section is held.
func (c CritSec) Locked() bool { return c.LockCount&1 == 0 }

// WaiterWoken reports bit 1: clear when a waiter has been woken.
func (c CritSec) WaiterWoken() bool { return c.LockCount&2 == 0 }

// Waiters is the number of threads waiting: the remaining bits hold its
// ones' complement.
func (c CritSec) Waiters() uint32 { return uint32(^c.LockCount) >> 2 }

// CritSecDebug is an _RTL_CRITICAL_SECTION_DEBUG as read from memory.
type CritSecDebug struct {
	Addr                         uint64
	Type, BackTrace              uint16
	Section                      uint64
	Flink, Blink                 uint64
	EntryCount, Contention, Flag uint32
}

// ReadCritSec reads the critical section at addr.
func ReadCritSec(m mem.Memory, l *Layout, ptrSize int, addr uint64) (CritSec, error) {
	buf := make([]byte, l.CsSize)
	if err := mem.ReadFull(m, buf, addr); err != nil {
		return CritSec{Addr: addr}, err
	}
	return CritSec{
		Addr:      addr,
		DebugInfo: field(buf, l.CsDebugInfo, ptrSize, true),
		LockCount: int32(field(buf, l.CsLockCount, 4, false)),
		Recursion: int32(field(buf, l.CsRecursion, 4, false)),
		Owner:     field(buf, l.CsOwner, ptrSize, false),
		Semaphore: field(buf, l.CsSemaphore, ptrSize, false),
		SpinCnt:   field(buf, l.CsSpinCount, ptrSize, false),
	}, nil
}

// ReadCritSecDebug reads the debug block at addr.
func ReadCritSecDebug(m mem.Memory, l *Layout, ptrSize int, addr uint64) (CritSecDebug, error) {
	size := l.CsdFlags + 4
	buf := make([]byte, size)
	if err := mem.ReadFull(m, buf, addr); err != nil {
		return CritSecDebug{Addr: addr}, err
	}
	return CritSecDebug{
		Addr:       addr,
		Type:       uint16(field(buf, l.CsdType, 2, false)),
		BackTrace:  uint16(field(buf, l.CsdBackTrace, 2, false)),
		Section:    field(buf, l.CsdSection, ptrSize, false),
		Flink:      field(buf, l.CsdLocksList, ptrSize, false),
		Blink:      field(buf, l.CsdLocksList+uint64(ptrSize), ptrSize, false),
		EntryCount: uint32(field(buf, l.CsdEntryCount, 4, false)),
		Contention: uint32(field(buf, l.CsdContention, 4, false)),
		Flag:       uint32(field(buf, l.CsdFlags, 4, false)),
	}, nil
}

// field reads a little-endian value of size bytes at off in buf (0 when it
// does not fit: a layout from odd type information must not panic). A
// pointer-sized -1 on x86 widens to NoDebugInfo when sext is set.
func field(buf []byte, off uint64, size int, sext bool) uint64 {
	if off > uint64(len(buf)) || uint64(size) > uint64(len(buf))-off {
		return 0
	}
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(buf[off+uint64(i)])
	}
	if sext && size == 4 && v == 0xffffffff {
		return NoDebugInfo
	}
	return v
}

// ProcessLocks walks the list of debug blocks from its head (ntdll's
// RtlCriticalSectionList) through each block's ProcessLocksList and
// returns the debug blocks' addresses in list order. A broken list returns
// the blocks read so far with the reason the walk stopped.
func ProcessLocks(m mem.Memory, l *Layout, ptrSize int, head uint64) ([]uint64, error) {
	entries, err := types.ListEntries(m, ptrSize, head, MaxCritSecs)
	out := make([]uint64, 0, len(entries))
	for _, e := range entries {
		out = append(out, e-l.CsdLocksList)
	}
	if err != nil {
		return out, fmt.Errorf("the critical section list from %#x stops after %d entries: %w", head, len(out), err)
	}
	return out, nil
}
