package minidump

import "fmt"

// Context flag bits.
const (
	ContextAMD64     = 0x100000
	ContextI386      = 0x10000
	ContextControl   = 0x1
	ContextInteger   = 0x2
	ContextSegments  = 0x4
	ContextFloat     = 0x8
	ContextDebug     = 0x10
	ContextExtended  = 0x20 // x86 only
	ContextXState    = 0x40
	ContextKernelCET = 0x80

	SizeContextAMD64 = 0x4D0
	SizeContextX86   = 0x2CC
)

const maxContext = 64 << 10

// ReadContext returns the raw bytes of a thread context (base CONTEXT plus any
// CONTEXT_EX/XSTATE tail).
func (f *File) ReadContext(loc Location) ([]byte, error) {
	if loc.DataSize > maxContext {
		return nil, errAt(int64(loc.Rva), "CONTEXT", "context size %d is implausible", loc.DataSize)
	}
	return f.ReadRaw(loc, "CONTEXT")
}

// ContextEx is the CONTEXT_EX header that follows a CONTEXT when XSTATE is
// recorded. Offsets are relative to the CONTEXT_EX itself, as Windows stores them.
type ContextEx struct {
	AllOffset, LegacyOffset, XStateOffset int32
	AllLength, LegacyLength, XStateLength uint32
	XStateMask                            uint64 // XSAVE_AREA_HEADER.Mask
	CompactionMask                        uint64
	YmmHigh                               [16][16]byte // upper halves of YMM0-15 when AVX (feature 2) is present
	HasAVX                                bool
	CetU                                  [2]uint64 // CET user state (feature 11): Ia32CetUMsr, Ia32Pl3SspMsr
	HasCetU                               bool
}

// parseContextEx decodes the CONTEXT_EX at off within b (the whole context blob).
func parseContextEx(b []byte, off int) (*ContextEx, error) {
	if len(b) < off+24 {
		return nil, fmt.Errorf("XSTATE flag set but no CONTEXT_EX after the %d-byte CONTEXT", off)
	}
	x := &ContextEx{
		AllOffset: int32(le32(b, off)), AllLength: le32(b, off+4),
		LegacyOffset: int32(le32(b, off+8)), LegacyLength: le32(b, off+12),
		XStateOffset: int32(le32(b, off+16)), XStateLength: le32(b, off+20),
	}
	xs := int64(off) + int64(x.XStateOffset)
	if x.XStateLength == 0 {
		return x, nil
	}
	if xs < 0 || x.XStateLength < 64 || xs+int64(x.XStateLength) > int64(len(b)) {
		return nil, fmt.Errorf("CONTEXT_EX XState chunk (offset %d, %d bytes) lies outside the %d-byte context", x.XStateOffset, x.XStateLength, len(b))
	}
	area := b[xs : xs+int64(x.XStateLength)]
	x.XStateMask = le64(area, 0)
	x.CompactionMask = le64(area, 8)
	// Standard (non-compacted) XSAVE layout: features follow the legacy 512-byte
	// area and the 64-byte header; the chunk starts at the header, so AVX's
	// architectural offset 576 is 64 here. Compacted chunks put AVX first too.
	if x.XStateMask&(1<<2) != 0 && len(area) >= 64+256 {
		x.HasAVX = true
		for i := 0; i < 16; i++ {
			copy(x.YmmHigh[i][:], area[64+16*i:])
		}
	}
	if x.XStateMask&(1<<11) != 0 && x.CompactionMask&(1<<63) != 0 {
		// In the compacted form CET_U follows AVX (when present) directly.
		o := 64
		if x.HasAVX {
			o += 256
		}
		if len(area) >= o+16 {
			x.HasCetU = true
			x.CetU = [2]uint64{le64(area, o), le64(area, o+8)}
		}
	}
	return x, nil
}

// AMD64Context is the decoded x64 CONTEXT.
type AMD64Context struct {
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
	Ex           *ContextEx
}

// GPR indices in AMD64Context.Gpr (the same as the unwind-code numbering).
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

// ParseAMD64Context decodes an x64 CONTEXT blob.
func ParseAMD64Context(b []byte) (*AMD64Context, error) {
	if len(b) < SizeContextAMD64 {
		return nil, fmt.Errorf("x64 CONTEXT is %d bytes, need 0x%x", len(b), SizeContextAMD64)
	}
	c := &AMD64Context{
		ContextFlags: le32(b, 0x30), MxCsr: le32(b, 0x34),
		SegCs: le16(b, 0x38), SegDs: le16(b, 0x3A), SegEs: le16(b, 0x3C), SegFs: le16(b, 0x3E), SegGs: le16(b, 0x40), SegSs: le16(b, 0x42),
		EFlags: le32(b, 0x44), Rip: le64(b, 0xF8),
	}
	for i := range c.Dr {
		c.Dr[i] = le64(b, 0x48+8*i)
	}
	for i := range c.Gpr {
		c.Gpr[i] = le64(b, 0x78+8*i)
	}
	copy(c.FltSave[:], b[0x100:0x300])
	for i := range c.Xmm {
		copy(c.Xmm[i][:], b[0x1A0+16*i:])
	}
	if c.ContextFlags&ContextAMD64 != 0 && c.ContextFlags&ContextXState == ContextXState {
		ex, err := parseContextEx(b, SizeContextAMD64)
		if err != nil {
			return c, err
		}
		c.Ex = ex
	}
	return c, nil
}

// X86Context is the decoded x86 CONTEXT.
type X86Context struct {
	ContextFlags                      uint32
	Dr                                [6]uint32
	FloatSave                         [0x70]byte
	SegGs, SegFs, SegEs, SegDs        uint32
	Edi, Esi, Ebx, Edx, Ecx, Eax, Ebp uint32
	Eip, SegCs, EFlags, Esp, SegSs    uint32
	ExtendedRegisters                 [512]byte
	Ex                                *ContextEx
}

// ParseX86Context decodes an x86 CONTEXT blob. Old dumps may omit the
// ExtendedRegisters area; 0xCC bytes are enough for the integer state.
func ParseX86Context(b []byte) (*X86Context, error) {
	if len(b) < 0xCC {
		return nil, fmt.Errorf("x86 CONTEXT is %d bytes, need at least 0xcc", len(b))
	}
	c := &X86Context{ContextFlags: le32(b, 0)}
	for i := range c.Dr {
		c.Dr[i] = le32(b, 4+4*i)
	}
	copy(c.FloatSave[:], b[0x1C:0x8C])
	c.SegGs, c.SegFs, c.SegEs, c.SegDs = le32(b, 0x8C), le32(b, 0x90), le32(b, 0x94), le32(b, 0x98)
	c.Edi, c.Esi, c.Ebx, c.Edx, c.Ecx, c.Eax, c.Ebp = le32(b, 0x9C), le32(b, 0xA0), le32(b, 0xA4), le32(b, 0xA8), le32(b, 0xAC), le32(b, 0xB0), le32(b, 0xB4)
	c.Eip, c.SegCs, c.EFlags, c.Esp, c.SegSs = le32(b, 0xB8), le32(b, 0xBC), le32(b, 0xC0), le32(b, 0xC4), le32(b, 0xC8)
	if len(b) >= SizeContextX86 {
		copy(c.ExtendedRegisters[:], b[0xCC:SizeContextX86])
		if c.ContextFlags&ContextI386 != 0 && c.ContextFlags&ContextXState != 0 {
			ex, err := parseContextEx(b, SizeContextX86)
			if err != nil {
				return c, err
			}
			c.Ex = ex
		}
	}
	return c, nil
}
