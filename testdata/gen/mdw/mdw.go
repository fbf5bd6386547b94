// Package mdw writes x64 user-mode minidumps laid out as Windows'
// MiniDumpWriteDump lays them out: header, stream directory, streams, and the
// Memory64List data last. It is a test-only writer and deliberately shares no
// code or struct definitions with dumpfmt/minidump, so a mistake in one is not
// silently mirrored by the other.
package mdw

import (
	"encoding/binary"
	"time"
	"unicode/utf16"
)

// Context is the x64 register state of a thread.
type Context struct {
	Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	Rip                                    uint64
	EFlags                                 uint32
	Xmm                                    [16][16]byte
}

// Context32 is the x86 register state of a thread.
type Context32 struct {
	Eax, Ecx, Edx, Ebx, Esp, Ebp, Esi, Edi, Eip uint32
	EFlags                                      uint32
}

// Thread is one thread record.
type Thread struct {
	ID         uint32
	Suspend    uint32
	Teb        uint64
	StackStart uint64 // the stack bytes must also be in Memory for full-memory dumps
	StackSize  uint32
	Ctx        Context
	Ctx32      *Context32 // x86 dumps
	Name       string
}

// Module is one module record.
type Module struct {
	Base          uint64
	Size          uint32
	Path          string
	TimeDateStamp uint32
	CheckSum      uint32
	FileVersion   [4]uint16
	PdbName       string
	PdbGUID       [16]byte
	PdbAge        uint32
}

// Region is captured memory.
type Region struct {
	Addr uint64
	Data []byte
}

// Exception is the exception stream content.
type Exception struct {
	ThreadID uint32
	Code     uint32
	Address  uint64
	Params   []uint64
	Ctx      *Context
	Ctx32    *Context32 // x86 dumps: the exception's x86 CONTEXT
}

// Dump describes the whole file.
type Dump struct {
	ProcessID     uint32
	Time          time.Time
	ProcessCreate time.Time
	UserSeconds   uint32
	KernelSeconds uint32
	Major, Minor  uint32
	Build         uint32
	Processors    uint8
	ProductType   uint8
	SuiteMask     uint16
	TZBias        int32
	TZName        string
	BuildString   string
	Threads       []Thread
	Modules       []Module
	Unloaded      []Module
	Memory        []Region // written as a Memory64List (full-memory style)
	X86           bool     // a 32-bit process: x86 CONTEXTs and processor architecture
	Exception     *Exception
	Comment       string
}

type buf struct{ b []byte }

func (w *buf) off() uint32 { return uint32(len(w.b)) }
func (w *buf) align(n int) {
	for len(w.b)%n != 0 {
		w.b = append(w.b, 0)
	}
}
func (w *buf) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *buf) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *buf) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }
func (w *buf) raw(p []byte) { w.b = append(w.b, p...) }
func (w *buf) zeros(n int)  { w.b = append(w.b, make([]byte, n)...) }
func (w *buf) put32(at uint32, v uint32) {
	binary.LittleEndian.PutUint32(w.b[at:], v)
}
func (w *buf) put64(at uint32, v uint64) {
	binary.LittleEndian.PutUint64(w.b[at:], v)
}

// str writes a MINIDUMP_STRING and returns its RVA.
func (w *buf) str(s string) uint32 {
	w.align(4)
	at := w.off()
	u := utf16.Encode([]rune(s))
	w.u32(uint32(len(u) * 2))
	for _, c := range u {
		w.u16(c)
	}
	w.u16(0)
	return at
}

// context writes a 0x4D0-byte CONTEXT (CONTEXT_AMD64 | CONTROL | INTEGER |
// SEGMENTS | FLOATING_POINT) and returns its RVA.
func (w *buf) context(c *Context) uint32 {
	w.align(16)
	at := w.off()
	w.raw(ContextBytes(c))
	return at
}

// ContextBytes renders an x64 CONTEXT as it sits in memory or in a dump.
func ContextBytes(c *Context) []byte {
	b := make([]byte, 0x4D0)
	le := binary.LittleEndian
	le.PutUint32(b[0x30:], 0x10000F)
	le.PutUint32(b[0x34:], 0x1F80)
	le.PutUint16(b[0x38:], 0x33)
	for _, o := range []int{0x3A, 0x3C, 0x40, 0x42} {
		le.PutUint16(b[o:], 0x2B)
	}
	le.PutUint16(b[0x3E:], 0x53)
	fl := c.EFlags
	if fl == 0 {
		fl = 0x244
	}
	le.PutUint32(b[0x44:], fl)
	regs := []uint64{c.Rax, c.Rcx, c.Rdx, c.Rbx, c.Rsp, c.Rbp, c.Rsi, c.Rdi, c.R8, c.R9, c.R10, c.R11, c.R12, c.R13, c.R14, c.R15}
	for i, v := range regs {
		le.PutUint64(b[0x78+8*i:], v)
	}
	le.PutUint64(b[0xF8:], c.Rip)
	for i, x := range c.Xmm {
		copy(b[0x1A0+16*i:], x[:])
	}
	le.PutUint32(b[0x118:], 0x1F80) // FltSave.MxCsr
	return b
}

type dirEntry struct {
	typ, size, rva uint32
}

// context32 writes a 0x2CC-byte x86 CONTEXT and returns its RVA.
func (w *buf) context32(c *Context32) uint32 {
	w.align(4)
	at := w.off()
	b := make([]byte, 0x2CC)
	le := binary.LittleEndian
	le.PutUint32(b[0:], 0x10007)
	le.PutUint32(b[0x90:], 0x3B) // fs
	le.PutUint32(b[0x94:], 0x23) // es
	le.PutUint32(b[0x98:], 0x23) // ds
	for off, v := range map[int]uint32{0x9C: c.Edi, 0xA0: c.Esi, 0xA4: c.Ebx, 0xA8: c.Edx, 0xAC: c.Ecx, 0xB0: c.Eax, 0xB4: c.Ebp, 0xB8: c.Eip, 0xC4: c.Esp} {
		le.PutUint32(b[off:], v)
	}
	le.PutUint32(b[0xBC:], 0x1B) // cs
	fl := c.EFlags
	if fl == 0 {
		fl = 0x246
	}
	le.PutUint32(b[0xC0:], fl)
	le.PutUint32(b[0xC8:], 0x23) // ss
	w.raw(b)
	return at
}

// Bytes renders the dump.
func (d *Dump) Bytes() []byte {
	w := &buf{}
	var dir []dirEntry
	w.zeros(0x20) // header, patched at the end

	// SystemInfo (7)
	csd := w.str("")
	w.align(4)
	at := w.off()
	if d.X86 {
		w.u16(0) // PROCESSOR_ARCHITECTURE_INTEL
	} else {
		w.u16(9) // AMD64
	}
	w.u16(6)
	w.u16(0x5507)
	w.b = append(w.b, d.Processors, d.ProductType)
	w.u32(d.Major)
	w.u32(d.Minor)
	w.u32(d.Build)
	w.u32(2)
	w.u32(csd)
	w.u16(d.SuiteMask)
	w.u16(0)
	w.zeros(24)
	dir = append(dir, dirEntry{7, w.off() - at, at})

	// MiscInfo v5 (15)
	at = w.off()
	misc := make([]byte, 0x554)
	le := binary.LittleEndian
	le.PutUint32(misc[0:], 0x554)
	le.PutUint32(misc[4:], 0x1|0x2|0x40|0x100)
	le.PutUint32(misc[8:], d.ProcessID)
	le.PutUint32(misc[0xC:], uint32(d.ProcessCreate.Unix()))
	le.PutUint32(misc[0x10:], d.UserSeconds)
	le.PutUint32(misc[0x14:], d.KernelSeconds)
	le.PutUint32(misc[0x3C:], uint32(d.TZBias))
	for i, c := range utf16.Encode([]rune(d.TZName)) {
		if i < 31 {
			le.PutUint16(misc[0x40+2*i:], c)
		}
	}
	for i, c := range utf16.Encode([]rune(d.BuildString)) {
		if i < 259 {
			le.PutUint16(misc[0xE8+2*i:], c)
		}
	}
	w.raw(misc)
	dir = append(dir, dirEntry{15, 0x554, at})

	// Thread contexts, then ThreadList (3)
	ctxs := make([]uint32, len(d.Threads))
	ctxSize := uint32(0x4D0)
	for i := range d.Threads {
		if d.X86 {
			ctxs[i], ctxSize = w.context32(d.Threads[i].Ctx32), 0x2CC
		} else {
			ctxs[i] = w.context(&d.Threads[i].Ctx)
		}
	}
	at, size, _ := w.threadList(d.Threads, ctxs, ctxSize)
	dir = append(dir, dirEntry{3, size, at})

	// ThreadNames (24)
	var named []Thread
	for _, t := range d.Threads {
		if t.Name != "" {
			named = append(named, t)
		}
	}
	if len(named) > 0 {
		rvas := make([]uint32, len(named))
		for i, t := range named {
			rvas[i] = w.str(t.Name)
		}
		w.align(4)
		at = w.off()
		w.u32(uint32(len(named)))
		for i, t := range named {
			w.u32(t.ID)
			w.u64(uint64(rvas[i]))
		}
		dir = append(dir, dirEntry{24, w.off() - at, at})
	}

	// ModuleList (4)
	at, size = w.moduleList(d.Modules, func(int) uint32 { return 2 }) // a DLL
	dir = append(dir, dirEntry{4, size, at})

	// UnloadedModuleList (14)
	if len(d.Unloaded) > 0 {
		at, size = w.unloadedList(d.Unloaded)
		dir = append(dir, dirEntry{14, size, at})
	}

	// Exception (6)
	if e := d.Exception; e != nil {
		at, size = w.exception(e)
		dir = append(dir, dirEntry{6, size, at})
	}

	// CommentStreamW (11)
	if d.Comment != "" {
		at, size = w.comment(d.Comment)
		dir = append(dir, dirEntry{11, size, at})
	}

	// Memory64List (9): descriptors now, data after the directory.
	at, size, baseRvaAt := w.memory64List(d.Memory)
	dir = append(dir, dirEntry{9, size, at})

	// Directory
	w.align(4)
	dirAt := w.off()
	for _, e := range dir {
		w.u32(e.typ)
		w.u32(e.size)
		w.u32(e.rva)
	}
	w.memoryData(d.Memory, baseRvaAt)

	// Header: MDMP, version 0xA793 (implementation 0xA0AB as Windows 10 writes it).
	w.put32(0, 0x504D444D)
	w.put32(4, 0xA0ABA793)
	w.put32(8, uint32(len(dir)))
	w.put32(0xC, dirAt)
	w.put32(0x14, uint32(d.Time.Unix()))
	w.put64(0x18, 0x2|0x20) // MiniDumpWithFullMemory | MiniDumpWithUnloadedModules
	return w.b
}
