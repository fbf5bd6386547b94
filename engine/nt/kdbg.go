package nt

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/ntdbg/ntdbg/engine/mem"
)

// KDBG is what ntdbg reads of the kernel debugger data block.
type KDBG struct {
	Addr                                     uint64
	Size                                     uint32
	Encoded                                  bool // it was stored encoded and decoded here
	KernBase, PsLoadedModuleList, ActiveHead uint64
	MmPfnDatabase, NtBuildLab                uint64
	KiProcessorBlock                         uint64
	OffsetPrcbCurrentThread                  uint16
	OffsetPrcbContext                        uint16
}

// kdbgTag is 'KDBG'.
const kdbgTag = 0x4742444B

// maxKDBG bounds the block (0x400 bytes on Windows 11).
const maxKDBG = 0x1000

// KdbgKeys are what decoding an encoded block needs: the values of
// nt!KiWaitNever and nt!KiWaitAlways and the address of
// nt!KdpDataBlockEncoded. Zero keys mean the block cannot be decoded.
type KdbgKeys struct {
	WaitNever, WaitAlways, EncodedAddr uint64
}

func (k KdbgKeys) decode(e uint64) uint64 {
	return bits.ReverseBytes64(bits.RotateLeft64(e^k.WaitNever, int(k.WaitNever&0xff))^k.EncodedAddr) ^ k.WaitAlways
}

// ReadKDBG reads the debugger data block at addr, decoding it with keys
// when its OwnerTag does not read 'KDBG' (Windows 8+ may keep it encoded).
func ReadKDBG(m mem.Memory, addr uint64, keys KdbgKeys) (*KDBG, error) {
	hdr := make([]byte, 0x18)
	if err := mem.ReadFull(m, hdr, addr); err != nil {
		return nil, fmt.Errorf("KdDebuggerDataBlock at %#x: %w", addr, err)
	}
	encoded := binary.LittleEndian.Uint32(hdr[kdbgLayout.OwnerTag:]) != kdbgTag
	if encoded {
		if keys.WaitNever == 0 && keys.WaitAlways == 0 {
			return nil, fmt.Errorf("KdDebuggerDataBlock at %#x is encoded and nt!KiWaitNever/KiWaitAlways are unknown", addr)
		}
		decodeWords(hdr, keys)
		if binary.LittleEndian.Uint32(hdr[kdbgLayout.OwnerTag:]) != kdbgTag {
			return nil, fmt.Errorf("KdDebuggerDataBlock at %#x: no 'KDBG' tag, even decoded", addr)
		}
	}
	size := binary.LittleEndian.Uint32(hdr[kdbgLayout.Size:])
	if size < 0x58 || size > maxKDBG {
		return nil, fmt.Errorf("KdDebuggerDataBlock at %#x: size %#x", addr, size)
	}
	b := make([]byte, size&^7)
	if err := mem.ReadFull(m, b, addr); err != nil {
		return nil, fmt.Errorf("KdDebuggerDataBlock at %#x: %w", addr, err)
	}
	if encoded {
		decodeWords(b, keys)
	}
	u64 := func(off uint64) uint64 {
		if off+8 > uint64(len(b)) {
			return 0
		}
		return binary.LittleEndian.Uint64(b[off:])
	}
	u16 := func(off uint64) uint16 {
		if off+2 > uint64(len(b)) {
			return 0
		}
		return binary.LittleEndian.Uint16(b[off:])
	}
	l := kdbgLayout
	return &KDBG{Addr: addr, Size: size, Encoded: encoded, KernBase: u64(l.KernBase), PsLoadedModuleList: u64(l.PsLoadedModuleList),
		ActiveHead: u64(l.PsActiveProcessHead), MmPfnDatabase: u64(l.MmPfnDatabase), NtBuildLab: u64(l.NtBuildLab),
		KiProcessorBlock: u64(l.KiProcessorBlock), OffsetPrcbCurrentThread: u16(l.OffsetPrcbCurrentThread),
		OffsetPrcbContext: u16(l.OffsetPrcbContext)}, nil
}

func decodeWords(b []byte, k KdbgKeys) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], k.decode(binary.LittleEndian.Uint64(b[i:])))
	}
}
