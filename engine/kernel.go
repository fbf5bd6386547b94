package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/ntdbg/ntdbg/dumpfmt/codeview"
	"github.com/ntdbg/ntdbg/dumpfmt/pe"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/nt"
	"github.com/ntdbg/ntdbg/engine/target"
)

// openKernel opens a kernel dump and reads its loaded-module list (with the
// fallback KLDR_DATA_TABLE_ENTRY layout: the kernel's symbols are found
// through the list), each module's identity coming from its image headers
// in memory.
func openKernel(r io.ReaderAt, size int64, name string) (*target.KernelTarget, error) {
	t, err := target.OpenKernelDump(r, size, name)
	if err != nil {
		return nil, err
	}
	if t.Arch() != target.ArchAMD64 {
		t.Warn("ARM64 kernel dumps: address translation and unwinding are not supported; only the header, the bugcheck and the triage driver list are read")
		if t.File().DumpType() == 4 {
			if err := setUpTriage(t); err != nil {
				t.Warn(err.Error())
			}
		}
		return t, nil
	}
	if t.File().DumpType() == 4 {
		if err := setUpTriage(t); err != nil {
			t.Warn(err.Error())
		}
	}
	k := &nt.Kernel{Mem: t.AddressSpace(nil)}
	h := &t.File().Header
	// The debugger data block, when the dump keeps it decoded (crash and
	// live dumps do); an encoded one waits for the kernel's symbols.
	var kdbg *nt.KDBG
	if h.KdDebuggerDataBlock != 0 {
		if kb, err := nt.ReadKDBG(k.Mem, h.KdDebuggerDataBlock, nt.KdbgKeys{}); err == nil {
			kdbg = kb
			t.SetKDBG(kb.KernBase, asciiAt(k.Mem, kb.NtBuildLab, 256))
		}
	}
	head := h.PsLoadedModuleList
	if head == 0 && kdbg != nil {
		head = kdbg.PsLoadedModuleList
	}
	if t.Triage() != nil {
		return t, nil // modules and the processor come from the triage parts
	}
	list, err := k.Modules(head, nt.LayoutFor(target.ArchAMD64, nil))
	if err != nil {
		t.Warn(err.Error())
	}
	if kdbg != nil {
		t.SetProcessors(processors(t, k.Mem, kdbg, int(h.NumberProcessors)))
	}
	var mods []*target.Module
	for _, m := range list {
		mods = append(mods, kernelModule(k.Mem, m))
	}
	t.SetModules(mods)
	return t, nil
}

// setUpTriage makes a triage dump's copies the kernel's memory: the stack,
// debugger data, data page and blocks where they were, the thread copy at
// the PRCB's CurrentThread; the driver list is the module list, and the
// crashing thread's context is processor 0's.
func setUpTriage(t *target.KernelTarget) error {
	tri, err := t.TriageParts()
	if err != nil {
		return err
	}
	tm := &target.TriageMemory{}
	for _, b := range tri.Memory() {
		tm.Map(b.VirtualAddress, b.Data)
	}
	t.SetTriage(tm)
	off := uint64(8) // KPRCB.CurrentThread, unless the debugger data says otherwise
	if kb, err := nt.ReadKDBG(tm, t.File().Header.KdDebuggerDataBlock, nt.KdbgKeys{}); err == nil && kb.OffsetPrcbCurrentThread != 0 {
		off = uint64(kb.OffsetPrcbCurrentThread)
	}
	var cur uint64
	if off+8 <= uint64(len(tri.Prcb.Data)) {
		cur = binary.LittleEndian.Uint64(tri.Prcb.Data[off:])
		tm.Map(cur, tri.Thread.Data)
	}
	var mods []*target.Module
	for _, d := range tri.Drivers {
		km := nt.Module{Base: d.DllBase, Size: uint64(d.SizeOfImage), BaseName: d.Name, FullName: d.Name}
		m := kernelModule(tm, km)
		m.TimeDateStamp, m.CheckSum = d.TimeDateStamp, d.CheckSum
		mods = append(mods, m)
	}
	t.SetModules(mods)
	load := func() (*target.Registers, error) {
		if t.Arch() != target.ArchAMD64 {
			return nil, fmt.Errorf("ARM64 register contexts are not supported yet")
		}
		if len(tri.Context) > 0 {
			return target.DecodeContext(target.ArchAMD64, tri.Context)
		}
		return t.HeaderContext()
	}
	t.SetProcessors([]*target.Thread{target.Processor(0, cur, load)})
	return nil
}

// triageProcess maps a triage dump's process copy at the address the
// thread copy names (its ApcState.Process, read by field name), and
// returns the one process a triage dump holds.
func (s *Session) triageProcess(kt *target.KernelTarget, k *nt.Kernel) ([]*nt.Process, error) {
	ths := kt.Threads()
	if len(ths) == 0 || ths[0].Addr == 0 {
		return nil, fmt.Errorf("the triage dump names no current thread")
	}
	th, err := k.ReadThread(ths[0].Addr)
	if err != nil {
		return nil, err
	}
	va := th.ApcProcess
	if va == 0 {
		va = th.Process
	}
	if tri, err := kt.TriageParts(); err == nil {
		kt.Triage().Map(va, tri.Process.Data)
	}
	p, err := k.ReadProcess(va)
	if err != nil {
		return nil, err
	}
	return []*nt.Process{p}, nil
}

// kernelModule describes a loaded driver: WinDbg's name (`nt` for the
// kernel, `hal`, else the file name without extension) and the image
// identity from the headers in memory.
func kernelModule(m mem.Memory, km nt.Module) *target.Module {
	path := km.FullName
	if path == "" {
		path = km.BaseName
	}
	modName, image := target.ModuleNameFromPath(km.BaseName)
	switch strings.ToLower(image) {
	case "ntoskrnl.exe", "ntkrnlmp.exe", "ntkrnlpa.exe", "ntkrpamp.exe":
		modName = "nt"
	case "hal.dll", "halmacpi.dll", "halacpi.dll":
		modName = "hal"
	}
	mod := &target.Module{Base: km.Base, Size: km.Size, Name: target.CapText(target.SanitizeName(modName), target.MaxNameLen), ImageName: target.CapText(target.SanitizeName(image), target.MaxNameLen), Path: target.CapText(target.Sanitize(path), target.MaxPathLen)}
	if f, err := pe.NewFile(imageInMemory{m, km.Base}, int64(km.Size), true); err == nil {
		mod.TimeDateStamp, mod.CheckSum = f.TimeDateStamp, f.CheckSum
		if cv, err := f.CodeView(); err == nil && cv != nil {
			mod.PdbName, mod.PdbFile, mod.PdbAge = target.Sanitize(cv.PdbName), target.PdbBase(cv.PdbName), cv.Age
			if cv.Signature == codeview.RSDS {
				mod.PdbGUID = cv.GUIDString()
			} else {
				mod.PdbGUID = fmt.Sprintf("%08X", cv.TimeStamp)
			}
		}
	}
	return mod
}

// imageInMemory reads a mapped image from an address space.
type imageInMemory struct {
	m    mem.Memory
	base uint64
}

func (r imageInMemory) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.m.ReadVirtual(p, r.base+uint64(off))
	if n < len(p) && err == nil {
		err = io.EOF
	}
	return n, err
}

// Kernel is the walker of kernel structures for a kernel target (nil for
// user dumps): the kernel's address space and the nt module's types.
func (s *Session) Kernel() *nt.Kernel {
	if s.Target.Kind() != target.Kernel {
		return nil
	}
	return &nt.Kernel{Mem: s.Target.AddressSpace(nil), Types: s.Symbols}
}

// KernelProcesses walks PsActiveProcessHead (header value, else the
// kernel's symbol).
func (s *Session) KernelProcesses() ([]*nt.Process, error) {
	k := s.Kernel()
	if k == nil {
		return nil, fmt.Errorf("not a kernel target")
	}
	head := uint64(0)
	if kt, ok := s.Target.(*target.KernelTarget); ok {
		if kt.Triage() != nil {
			return s.triageProcess(kt, k)
		}
		head = kt.Kernel().ActiveHead
	}
	if head == 0 {
		a, ok := s.Symbols.Lookup("nt!PsActiveProcessHead")
		if !ok {
			return nil, nt.ErrBadNTSymbols
		}
		head = a
	}
	return k.Processes(head)
}

// ProcessOf is the model's process for an EPROCESS (its address space is
// its directory table base).
func ProcessOf(p *nt.Process) *target.Process {
	return &target.Process{ID: uint32(p.Cid), Image: p.Image, Addr: p.Addr, DirBase: p.DirBase}
}

// ThreadRegisters is the register context of a kernel thread: a thread
// switched out saved its context on its kernel stack, and KernelStack
// points at the switch frame (formats-spec.md §6.8): the return address
// into nt!KiSwapContext at +0x38, the saved rbp at +0x30, and the caller's
// stack pointer 0x40 above it. The rest comes from unwinding.
func (s *Session) ThreadRegisters(t *nt.Thread) (*target.Registers, error) {
	k := s.Kernel()
	if k == nil {
		return nil, fmt.Errorf("not a kernel target")
	}
	if t.State == 2 { // Running: the dump's context, when this is its processor's thread
		if ev := s.Target.Event(); ev != nil && ev.Context != nil {
			return ev.Context()
		}
	}
	ks := t.KernelStack
	ip, err := mem.ReadUint(k.Mem, ks+0x38, 8)
	if err != nil {
		return nil, fmt.Errorf("Kernel stack not resident (%v)", err)
	}
	bp, err := mem.ReadUint(k.Mem, ks+0x30, 8)
	if err != nil {
		return nil, fmt.Errorf("Kernel stack not resident (%v)", err)
	}
	r := &target.Registers{Arch: target.ArchAMD64, IP: ip}
	r.GPR[target.RegSP] = ks + 0x40
	r.GPR[target.RegBP] = bp
	return r, nil
}

// maxProcessors bounds the processor walk (a dump header's count).
const maxProcessors = 2048

// processors are the per-CPU contexts: KiProcessorBlock[i] is the KPRCB,
// its CurrentThread and the CONTEXT its Context field points at
// (formats-spec.md §2.8). Processor 0 falls back to the header's context.
func processors(t *target.KernelTarget, m mem.Memory, kb *nt.KDBG, n int) []*target.Thread {
	if kb.KiProcessorBlock == 0 || kb.OffsetPrcbContext == 0 || n <= 0 {
		return t.Threads()
	}
	n = min(n, maxProcessors)
	var out []*target.Thread
	for i := range n {
		prcb, err := mem.ReadUint(m, kb.KiProcessorBlock+8*uint64(i), 8)
		if err != nil || prcb == 0 {
			break
		}
		cur, _ := mem.ReadUint(m, prcb+uint64(kb.OffsetPrcbCurrentThread), 8)
		ctxPtr, _ := mem.ReadUint(m, prcb+uint64(kb.OffsetPrcbContext), 8)
		load := func() (*target.Registers, error) {
			if ctxPtr != 0 {
				b := make([]byte, target.ContextSize(target.ArchAMD64))
				if err := mem.ReadFull(m, b, ctxPtr); err == nil {
					if r, err := target.DecodeContext(target.ArchAMD64, b); err == nil && r.IP != 0 {
						return r, nil
					}
				}
			}
			if i == 0 {
				return t.HeaderContext()
			}
			return nil, fmt.Errorf("the context of processor %d is not in the dump", i)
		}
		out = append(out, target.Processor(i, cur, load))
	}
	if len(out) == 0 {
		return t.Threads()
	}
	return out
}

// asciiAt reads a NUL-terminated ASCII string of at most n bytes.
func asciiAt(m mem.Memory, addr uint64, n int) string {
	if addr == 0 {
		return ""
	}
	b := make([]byte, n)
	got, _ := m.ReadVirtual(b, addr)
	b = b[:got]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
