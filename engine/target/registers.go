package target

import (
	"strings"

	"github.com/ntdbg/ntdbg/dumpfmt/winctx"
)

// Arch is a target processor architecture.
type Arch int

const (
	ArchUnknown Arch = iota
	ArchX86
	ArchAMD64
	// ArchARM64 is recognised in kernel dumps (header, bugcheck, driver
	// list); translation and unwinding are not implemented for it.
	ArchARM64
)

// PtrSize is the pointer size in bytes.
func (a Arch) PtrSize() int {
	if a == ArchAMD64 || a == ArchARM64 {
		return 8
	}
	return 4
}

func (a Arch) String() string {
	switch a {
	case ArchAMD64:
		return "x64"
	case ArchX86:
		return "x86"
	case ArchARM64:
		return "ARM64"
	}
	return "unknown"
}

// GPR indices, in the x64 unwind-code order. On x86 the first eight hold
// eax ecx edx ebx esp ebp esi edi.
const (
	RegAX = iota
	RegCX
	RegDX
	RegBX
	RegSP
	RegBP
	RegSI
	RegDI
	RegR8
	RegR9
	RegR10
	RegR11
	RegR12
	RegR13
	RegR14
	RegR15
)

// Registers is the register state of one thread or frame.
type Registers struct {
	Arch   Arch
	GPR    [16]uint64
	IP     uint64
	Flags  uint64
	Cs, Ss uint16
	Ds, Es uint16
	Fs, Gs uint16
	Dr     [6]uint64 // dr0 dr1 dr2 dr3 dr6 dr7
	MxCsr  uint32
	Xmm    [16][16]byte
	YmmH   [16][16]byte
	HasYmm bool
}

// RegistersFromAMD64 converts a decoded x64 CONTEXT.
func RegistersFromAMD64(c *winctx.AMD64) *Registers {
	r := &Registers{Arch: ArchAMD64, GPR: c.Gpr, IP: c.Rip, Flags: uint64(c.EFlags),
		Cs: c.SegCs, Ss: c.SegSs, Ds: c.SegDs, Es: c.SegEs, Fs: c.SegFs, Gs: c.SegGs, Dr: c.Dr, MxCsr: c.MxCsr, Xmm: c.Xmm}
	if c.Ex != nil && c.Ex.HasAVX {
		r.YmmH, r.HasYmm = c.Ex.YmmHigh, true
	}
	return r
}

// RegistersFromX86 converts a decoded x86 CONTEXT.
func RegistersFromX86(c *winctx.X86) *Registers {
	r := &Registers{Arch: ArchX86, IP: uint64(c.Eip), Flags: uint64(c.EFlags),
		Cs: uint16(c.SegCs), Ss: uint16(c.SegSs), Ds: uint16(c.SegDs), Es: uint16(c.SegEs), Fs: uint16(c.SegFs), Gs: uint16(c.SegGs)}
	r.GPR[RegAX], r.GPR[RegCX], r.GPR[RegDX], r.GPR[RegBX] = uint64(c.Eax), uint64(c.Ecx), uint64(c.Edx), uint64(c.Ebx)
	r.GPR[RegSP], r.GPR[RegBP], r.GPR[RegSI], r.GPR[RegDI] = uint64(c.Esp), uint64(c.Ebp), uint64(c.Esi), uint64(c.Edi)
	for i, d := range c.Dr {
		r.Dr[i] = uint64(d)
	}
	// XMM registers live in the FXSAVE image at 0xA0.
	for i := 0; i < 8; i++ {
		copy(r.Xmm[i][:], c.ExtendedRegisters[0xA0+16*i:])
	}
	if c.Ex != nil && c.Ex.HasAVX {
		r.YmmH, r.HasYmm = c.Ex.YmmHigh, true
	}
	return r
}

// SP returns the stack pointer.
func (r *Registers) SP() uint64 { return r.GPR[RegSP] }

var gpr64 = []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
var gpr32 = []string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"}
var gpr16 = []string{"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"}
var gpr8 = []string{"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"}
var gpr8h = []string{"ah", "ch", "dh", "bh"}

// Get returns a register by its WinDbg name (lower case), with the sizes and
// sub-registers the architecture has.
func (r *Registers) Get(name string) (uint64, bool) {
	name = strings.ToLower(name)
	x64 := r.Arch == ArchAMD64
	for i, n := range gpr64 {
		if !x64 {
			break
		}
		if n == name {
			return r.GPR[i], true
		}
	}
	lim := 8
	if x64 {
		lim = 16
	}
	for i := 0; i < lim; i++ {
		switch name {
		case gpr32[i]:
			return r.GPR[i] & 0xffffffff, true
		case gpr16[i]:
			return r.GPR[i] & 0xffff, true
		}
		if name == gpr8[i] && (i < 4 || x64) {
			return r.GPR[i] & 0xff, true
		}
	}
	for i, n := range gpr8h {
		if n == name {
			return (r.GPR[i] >> 8) & 0xff, true
		}
	}
	switch name {
	case "rip":
		if x64 {
			return r.IP, true
		}
	case "eip":
		return r.IP & 0xffffffff, true
	case "ip":
		return r.IP & 0xffff, true
	case "efl":
		return r.Flags, true
	case "cs":
		return uint64(r.Cs), true
	case "ss":
		return uint64(r.Ss), true
	case "ds":
		return uint64(r.Ds), true
	case "es":
		return uint64(r.Es), true
	case "fs":
		return uint64(r.Fs), true
	case "gs":
		return uint64(r.Gs), true
	case "dr0", "dr1", "dr2", "dr3":
		return r.Dr[name[2]-'0'], true
	case "dr6":
		return r.Dr[4], true
	case "dr7":
		return r.Dr[5], true
	case "mxcsr":
		return uint64(r.MxCsr), true
	}
	if f, ok := flagBits[name]; ok {
		return (r.Flags >> f) & 1, true
	}
	return 0, false
}

var flagBits = map[string]uint{"of": 11, "df": 10, "if": 9, "tf": 8, "sf": 7, "zf": 6, "af": 4, "pf": 2, "cf": 0}

// IsRegister reports whether name is a register of arch a.
func IsRegister(a Arch, name string) bool {
	r := Registers{Arch: a}
	_, ok := r.Get(name)
	return ok
}

// ContextSize is the size of the base CONTEXT record for arch.
func ContextSize(arch Arch) int {
	if arch == ArchX86 {
		return winctx.SizeX86
	}
	return winctx.SizeAMD64
}

// DecodeContext turns a raw CONTEXT record for arch into registers. A damaged
// XSTATE tail still leaves the base context usable, so only a failure to decode
// the base record is an error.
func DecodeContext(arch Arch, b []byte) (*Registers, error) {
	if arch == ArchX86 {
		c, err := winctx.ParseX86(b, 0)
		if c == nil {
			return nil, err
		}
		return RegistersFromX86(c), nil
	}
	c, err := winctx.ParseAMD64(b, 0)
	if c == nil {
		return nil, err
	}
	return RegistersFromAMD64(c), nil
}

// CodeView register numbers (as PDBs record them) to GPR indices.
var cvX86 = map[uint16]int{17: RegAX, 18: RegCX, 19: RegDX, 20: RegBX, 21: RegSP, 22: RegBP, 23: RegSI, 24: RegDI}
var cvAMD64 = map[uint16]int{328: RegAX, 329: RegBX, 330: RegCX, 331: RegDX, 332: RegSI, 333: RegDI,
	334: RegBP, 335: RegSP, 336: RegR8, 337: RegR9, 338: RegR10, 339: RegR11,
	340: RegR12, 341: RegR13, 342: RegR14, 343: RegR15,
	// The 32-bit halves, which compilers name for 32-bit values.
	17: RegAX, 18: RegCX, 19: RegDX, 20: RegBX, 21: RegSP, 22: RegBP, 23: RegSI, 24: RegDI}

// CodeViewRegister maps a CodeView register number of arch to a GPR index.
func CodeViewRegister(a Arch, cv uint16) (int, bool) {
	m := cvX86
	if a == ArchAMD64 {
		m = cvAMD64
	}
	r, ok := m[cv]
	return r, ok
}

// CodeViewX86Names gives the frame-program name ("$eax") of an x86
// CodeView register number written as "$17".
var CodeViewX86Names = map[string]string{"$17": "$eax", "$18": "$ecx", "$19": "$edx", "$20": "$ebx", "$21": "$esp", "$22": "$ebp", "$23": "$esi", "$24": "$edi"}

// NonVolatile reports whether register r keeps its value across calls
// (the Windows x64 and x86 calling conventions), so a caller frame's
// recovered value is meaningful.
func NonVolatile(a Arch, r int) bool {
	switch r {
	case RegBX, RegBP, RegSI, RegDI, RegSP:
		return true
	case RegR12, RegR13, RegR14, RegR15:
		return a == ArchAMD64
	}
	return false
}
