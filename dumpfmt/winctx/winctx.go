// Package winctx decodes the Windows CONTEXT record (x64 and x86) and the
// CONTEXT_EX/XSTATE tail that follows it when extended state was saved.
// Minidumps store one per thread and for the exception, kernel dumps carry
// them in their header and in memory, and `.cxr` reads one from an address;
// all of them decode here. Offsets are those of winnt.h (formats-spec.md §1.6).
package winctx

import (
	"github.com/ntdbg/ntdbg/dumpfmt/internal/decode"
)

// Context flag bits.
const (
	FlagAMD64     = 0x100000
	FlagI386      = 0x10000
	FlagControl   = 0x1
	FlagInteger   = 0x2
	FlagSegments  = 0x4
	FlagFloat     = 0x8
	FlagDebug     = 0x10
	FlagExtended  = 0x20 // x86 only
	FlagXState    = 0x40
	FlagKernelCET = 0x80

	SizeAMD64 = 0x4D0
	SizeX86   = 0x2CC
	// MinSizeX86 is the part of an x86 CONTEXT before ExtendedRegisters,
	// which old dumps omit.
	MinSizeX86 = 0xCC
)

// Ex is the CONTEXT_EX header that follows a CONTEXT when XSTATE is
// recorded. Offsets are relative to the CONTEXT_EX itself, as Windows stores them.
type Ex struct {
	AllOffset, LegacyOffset, XStateOffset int32
	AllLength, LegacyLength, XStateLength uint32
	XStateMask                            uint64 // XSAVE_AREA_HEADER.Mask
	CompactionMask                        uint64
	YmmHigh                               [16][16]byte // upper halves of YMM0-15 when AVX (feature 2) is present
	HasAVX                                bool
	CetU                                  [2]uint64 // CET user state (feature 11): Ia32CetUMsr, Ia32Pl3SspMsr
	HasCetU                               bool
}

// parseEx decodes the CONTEXT_EX at off within b (the whole context blob,
// read from file offset base).
func parseEx(b []byte, off int, base int64) (*Ex, error) {
	d := decode.New("CONTEXT", "CONTEXT_EX", b, base)
	d.Seek(off)
	x := &Ex{}
	x.AllOffset, x.AllLength = int32(d.U32()), d.U32()
	x.LegacyOffset, x.LegacyLength = int32(d.U32()), d.U32()
	x.XStateOffset, x.XStateLength = int32(d.U32()), d.U32()
	if d.Err() != nil {
		d.Failf("XSTATE flag set but no CONTEXT_EX after the %d-byte CONTEXT", off)
		return nil, d.Err()
	}
	if x.XStateLength == 0 {
		return x, nil
	}
	xs := int64(off) + int64(x.XStateOffset)
	if xs < 0 || x.XStateLength < 64 || xs+int64(x.XStateLength) > int64(len(b)) {
		d.Failf("XState chunk (offset %d, %d bytes) lies outside the %d-byte context", x.XStateOffset, x.XStateLength, len(b))
		return nil, d.Err()
	}
	a := decode.New("CONTEXT", "XSAVE_AREA", b[xs:xs+int64(x.XStateLength)], base+xs)
	x.XStateMask, x.CompactionMask = a.U64(), a.U64()
	n := int(x.XStateLength)
	// Standard (non-compacted) XSAVE layout: features follow the legacy 512-byte
	// area and the 64-byte header; the chunk starts at the header, so AVX's
	// architectural offset 576 is 64 here. Compacted chunks put AVX first too.
	if x.XStateMask&(1<<2) != 0 && n >= 64+256 {
		x.HasAVX = true
		a.Seek(64)
		for i := range x.YmmHigh {
			copy(x.YmmHigh[i][:], a.Bytes(16))
		}
	}
	if x.XStateMask&(1<<11) != 0 && x.CompactionMask&(1<<63) != 0 {
		// In the compacted form CET_U follows AVX (when present) directly.
		o := 64
		if x.HasAVX {
			o += 256
		}
		if n >= o+16 {
			a.Seek(o)
			x.HasCetU = true
			x.CetU = [2]uint64{a.U64(), a.U64()}
		}
	}
	return x, a.Err()
}

// AMD64 is the decoded x64 CONTEXT.
type AMD64 struct {
	ContextFlags uint32
	MxCsr        uint32
	SegCs        uint16
	SegDs        uint16
	SegEs        uint16
	SegFs        uint16
	SegGs        uint16
	SegSs        uint16
	EFlags       uint32
	Dr           [6]uint64 // Dr0 Dr1 Dr2 Dr3 Dr6 Dr7
	Gpr          [16]uint64
	Rip          uint64
	FltSave      [512]byte
	Xmm          [16][16]byte
	Ex           *Ex
}

// GPR indices in AMD64.Gpr (the same as the unwind-code numbering).
const (
	RAX = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// ParseAMD64 decodes an x64 CONTEXT blob read from file offset base (used in
// error messages only). A damaged XSTATE tail returns the base context with
// the error.
func ParseAMD64(b []byte, base int64) (*AMD64, error) {
	d := decode.New("CONTEXT", "x64 CONTEXT", b, base)
	if len(b) < SizeAMD64 {
		d.Failf("%d bytes, need 0x%x", len(b), SizeAMD64)
		return nil, d.Err()
	}
	c := &AMD64{}
	d.Seek(0x30)
	c.ContextFlags, c.MxCsr = d.U32(), d.U32()
	c.SegCs, c.SegDs, c.SegEs, c.SegFs, c.SegGs, c.SegSs = d.U16(), d.U16(), d.U16(), d.U16(), d.U16(), d.U16()
	c.EFlags = d.U32()
	for i := range c.Dr {
		c.Dr[i] = d.U64()
	}
	for i := range c.Gpr {
		c.Gpr[i] = d.U64()
	}
	c.Rip = d.U64()
	copy(c.FltSave[:], d.Bytes(512))
	d.Seek(0x1A0)
	for i := range c.Xmm {
		copy(c.Xmm[i][:], d.Bytes(16))
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	if c.ContextFlags&FlagAMD64 != 0 && c.ContextFlags&FlagXState == FlagXState {
		ex, err := parseEx(b, SizeAMD64, base)
		if err != nil {
			return c, err
		}
		c.Ex = ex
	}
	return c, nil
}

// X86 is the decoded x86 CONTEXT.
type X86 struct {
	ContextFlags                      uint32
	Dr                                [6]uint32
	FloatSave                         [0x70]byte
	SegGs, SegFs, SegEs, SegDs        uint32
	Edi, Esi, Ebx, Edx, Ecx, Eax, Ebp uint32
	Eip, SegCs, EFlags, Esp, SegSs    uint32
	ExtendedRegisters                 [512]byte
	Ex                                *Ex
}

// ParseX86 decodes an x86 CONTEXT blob. Old dumps may omit the
// ExtendedRegisters area; MinSizeX86 bytes are enough for the integer state.
func ParseX86(b []byte, base int64) (*X86, error) {
	d := decode.New("CONTEXT", "x86 CONTEXT", b, base)
	if len(b) < MinSizeX86 {
		d.Failf("%d bytes, need at least 0x%x", len(b), MinSizeX86)
		return nil, d.Err()
	}
	c := &X86{ContextFlags: d.U32()}
	for i := range c.Dr {
		c.Dr[i] = d.U32()
	}
	copy(c.FloatSave[:], d.Bytes(0x70))
	c.SegGs, c.SegFs, c.SegEs, c.SegDs = d.U32(), d.U32(), d.U32(), d.U32()
	c.Edi, c.Esi, c.Ebx, c.Edx, c.Ecx, c.Eax, c.Ebp = d.U32(), d.U32(), d.U32(), d.U32(), d.U32(), d.U32(), d.U32()
	c.Eip, c.SegCs, c.EFlags, c.Esp, c.SegSs = d.U32(), d.U32(), d.U32(), d.U32(), d.U32()
	if err := d.Err(); err != nil {
		return nil, err
	}
	if len(b) >= SizeX86 {
		copy(c.ExtendedRegisters[:], d.Bytes(512))
		if c.ContextFlags&FlagI386 != 0 && c.ContextFlags&FlagXState != 0 {
			ex, err := parseEx(b, SizeX86, base)
			if err != nil {
				return c, err
			}
			c.Ex = ex
		}
	}
	return c, nil
}
