package nt

import (
	"errors"
	"fmt"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/types"
)

// ErrBadNTSymbols is the walks' answer when the kernel's type information
// is missing or lacks a field they read (kdexts' wording).
var ErrBadNTSymbols = errors.New("NT symbols are incorrect, please fix symbols")

// ErrNotObject is an address whose dispatcher header names another object type.
var ErrNotObject = errors.New("not an object of that type")

// Kernel walks kernel structures by field name in the "nt" module's types.
type Kernel struct {
	Mem   mem.Memory // the kernel's address space
	Types TypeFinder
	// MaxWalk bounds each list walk (processes, threads, IRPs).
	MaxWalk int
}

// Bounds of the kernel list walks.
const (
	MaxProcesses = 1 << 16
	MaxThreads   = 1 << 16
)

func (k *Kernel) typ(name string) (*types.Ref, error) {
	if k.Types == nil {
		return nil, ErrBadNTSymbols
	}
	r, err := k.Types.FindType("nt", name)
	if err != nil {
		return nil, fmt.Errorf("%w (no type %s)", ErrBadNTSymbols, name)
	}
	return r, nil
}

// Object is a structure of the kernel's types at an address.
type Object struct {
	types.Value
}

// At lays the named nt type over addr.
func (k *Kernel) At(name string, addr uint64) (Object, error) {
	r, err := k.typ(name)
	if err != nil {
		return Object{}, err
	}
	return Object{r.ValueOf(k.Mem, 8, addr)}, nil
}

// Uint reads an integer field by dotted path.
func (o Object) Uint(path string) (uint64, error) {
	f, err := o.Field(path)
	if err != nil {
		return 0, fmt.Errorf("%w (%v)", ErrBadNTSymbols, err)
	}
	return f.Uint()
}

// Ptr reads a pointer field by dotted path.
func (o Object) Ptr(path string) (uint64, error) {
	f, err := o.Field(path)
	if err != nil {
		return 0, fmt.Errorf("%w (%v)", ErrBadNTSymbols, err)
	}
	return f.Ptr()
}

// Addr is the address of a field.
func (o Object) AddrOf(path string) (uint64, error) {
	f, err := o.Field(path)
	if err != nil {
		return 0, fmt.Errorf("%w (%v)", ErrBadNTSymbols, err)
	}
	return f.Addr, nil
}

// Offset is the offset of a field in its type.
func (k *Kernel) Offset(typ, path string) (uint64, error) {
	r, err := k.typ(typ)
	if err != nil {
		return 0, err
	}
	f, err := r.Field(path)
	if err != nil {
		return 0, fmt.Errorf("%w (%v)", ErrBadNTSymbols, err)
	}
	return f.Offset, nil
}

// Containers walks a LIST_ENTRY list from head and returns the address of
// each structure typ holding an entry at field link: the processes of
// PsActiveProcessHead, a process's threads. A broken list returns what was
// read with the reason.
func (k *Kernel) Containers(head uint64, typ, link string, max int) ([]uint64, error) {
	off, err := k.Offset(typ, link)
	if err != nil {
		return nil, err
	}
	entries, err := types.ListEntries(k.Mem, 8, head, max)
	out := make([]uint64, 0, len(entries))
	for _, e := range entries {
		out = append(out, e-off)
	}
	return out, err
}

// Process is what the process commands show of an EPROCESS.
type Process struct {
	Addr                 uint64
	Cid, ParentCid       uint64
	Peb, DirBase         uint64
	ObjectTable, Session uint64
	Image                string // ImageFileName, sanitized by callers
	ThreadHead           uint64 // &ThreadListHead
}

// ReadProcess reads the EPROCESS at addr.
func (k *Kernel) ReadProcess(addr uint64) (*Process, error) {
	o, err := k.At("_EPROCESS", addr)
	if err != nil {
		return nil, err
	}
	// Header.Type is ProcessObject (3): anything else is not an EPROCESS.
	if ty, err := o.Uint("Pcb.Header.Type"); err == nil && ty&0x7f != 3 {
		return nil, fmt.Errorf("%w: the object at %#x is type %d, not a process", ErrNotObject, addr, ty)
	} else if err != nil && !errors.Is(err, ErrBadNTSymbols) {
		return nil, err
	}
	p := &Process{Addr: addr}
	for _, f := range []struct {
		path string
		dst  *uint64
	}{{"UniqueProcessId", &p.Cid}, {"InheritedFromUniqueProcessId", &p.ParentCid}, {"Peb", &p.Peb},
		{"Pcb.DirectoryTableBase", &p.DirBase}, {"ObjectTable", &p.ObjectTable}} {
		if *f.dst, err = o.Uint(f.path); err != nil {
			return p, err
		}
	}
	p.Session, _ = o.Ptr("Session")
	if p.ThreadHead, err = o.AddrOf("ThreadListHead"); err != nil {
		return p, err
	}
	name, err := o.Field("ImageFileName")
	if err != nil {
		return p, fmt.Errorf("%w (%v)", ErrBadNTSymbols, err)
	}
	b := make([]byte, 15)
	if err := mem.ReadFull(k.Mem, b, name.Addr); err != nil {
		return p, err
	}
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	p.Image = string(b)
	return p, nil
}

// Processes walks PsActiveProcessHead.
func (k *Kernel) Processes(head uint64) ([]*Process, error) {
	addrs, walkErr := k.Containers(head, "_EPROCESS", "ActiveProcessLinks", MaxProcesses)
	if errors.Is(walkErr, ErrBadNTSymbols) {
		return nil, walkErr
	}
	var out []*Process
	for _, a := range addrs {
		p, err := k.ReadProcess(a)
		if err != nil {
			if errors.Is(err, ErrBadNTSymbols) {
				return out, err
			}
			return out, fmt.Errorf("process %#x: %w", a, err)
		}
		out = append(out, p)
	}
	if walkErr != nil {
		return out, fmt.Errorf("the process list stops after %d processes: %w", len(out), walkErr)
	}
	return out, nil
}

// Thread is what the thread commands show of an ETHREAD.
type Thread struct {
	Addr                    uint64
	Pid, Tid                uint64
	Teb, Win32Thread        uint64
	State, WaitReason, Mode uint64
	Alertable               bool
	WaitBlockList           uint64
	KernelStack             uint64
	StackBase, StackLimit   uint64
	InitialStack            uint64
	ContextSwitches         uint64
	WaitTime                uint64
	KernelTime, UserTime    uint64
	Process                 uint64 // Tcb.Process
	ApcProcess              uint64 // Tcb.ApcState.Process (the attached one when it differs)
	IrpHead                 uint64 // &IrpList
	IdealProcessor          uint64
	Priority, BasePriority  uint64
	StartAddress            uint64
	Win32StartAddress       uint64
}

// ReadThread reads the ETHREAD at addr.
func (k *Kernel) ReadThread(addr uint64) (*Thread, error) {
	o, err := k.At("_ETHREAD", addr)
	if err != nil {
		return nil, err
	}
	// Header.Type is ThreadObject (6): anything else is not an ETHREAD.
	if ty, err := o.Uint("Tcb.Header.Type"); err == nil && ty&0x7f != 6 {
		return nil, fmt.Errorf("%w: the object at %#x is type %d, not a thread", ErrNotObject, addr, ty)
	} else if err != nil && !errors.Is(err, ErrBadNTSymbols) {
		return nil, err
	}
	t := &Thread{Addr: addr}
	for _, f := range []struct {
		path string
		dst  *uint64
	}{{"Cid.UniqueProcess", &t.Pid}, {"Cid.UniqueThread", &t.Tid}, {"Tcb.Teb", &t.Teb},
		{"Tcb.State", &t.State}, {"Tcb.WaitReason", &t.WaitReason}, {"Tcb.WaitMode", &t.Mode},
		{"Tcb.WaitBlockList", &t.WaitBlockList}, {"Tcb.KernelStack", &t.KernelStack},
		{"Tcb.StackBase", &t.StackBase}, {"Tcb.StackLimit", &t.StackLimit}, {"Tcb.InitialStack", &t.InitialStack},
		{"Tcb.Process", &t.Process}} {
		if *f.dst, err = o.Uint(f.path); err != nil {
			return t, err
		}
	}
	// Fields whose absence does not stop a walk.
	t.Win32Thread, _ = o.Uint("Tcb.Win32Thread")
	t.ContextSwitches, _ = o.Uint("Tcb.ContextSwitches")
	t.WaitTime, _ = o.Uint("Tcb.WaitTime")
	t.KernelTime, _ = o.Uint("Tcb.KernelTime")
	t.UserTime, _ = o.Uint("Tcb.UserTime")
	t.ApcProcess, _ = o.Uint("Tcb.ApcState.Process")
	t.IdealProcessor, _ = o.Uint("Tcb.IdealProcessor")
	t.Priority, _ = o.Uint("Tcb.Priority")
	t.BasePriority, _ = o.Uint("Tcb.BasePriority")
	t.StartAddress, _ = o.Uint("StartAddress")
	t.Win32StartAddress, _ = o.Uint("Win32StartAddress")
	t.IrpHead, _ = o.AddrOf("IrpList")
	if r, err := k.typ("_KTHREAD"); err == nil {
		if f, err := r.Field("Alertable"); err == nil && f.BitLen != 0 {
			if v, err := mem.ReadUint(k.Mem, addr+f.Offset, 4); err == nil {
				t.Alertable = v>>f.BitPos&1 != 0
			}
		}
	}
	return t, nil
}

// Threads walks a process's ThreadListHead.
func (k *Kernel) Threads(p *Process) ([]*Thread, error) {
	addrs, walkErr := k.Containers(p.ThreadHead, "_ETHREAD", "ThreadListEntry", MaxThreads)
	if errors.Is(walkErr, ErrBadNTSymbols) {
		return nil, walkErr
	}
	var out []*Thread
	for _, a := range addrs {
		t, err := k.ReadThread(a)
		if err != nil {
			return out, fmt.Errorf("thread %#x: %w", a, err)
		}
		out = append(out, t)
	}
	if walkErr != nil {
		return out, fmt.Errorf("the thread list of process %#x stops after %d threads: %w", p.Addr, len(out), walkErr)
	}
	return out, nil
}

// Module is one entry of PsLoadedModuleList.
type Module struct {
	Base, Size         uint64
	FullName, BaseName string
}

// Modules walks PsLoadedModuleList with the KLDR_DATA_TABLE_ENTRY layout of
// the kernel's types, or the fallback one (the list must be read before the
// kernel's symbols can be found).
func (k *Kernel) Modules(head uint64, l *Layout) ([]Module, error) {
	off := *l
	if r, err := k.typ("_KLDR_DATA_TABLE_ENTRY"); err == nil {
		for path, dst := range map[string]*uint64{"InLoadOrderLinks": &off.KldrLinks, "DllBase": &off.KldrBase,
			"SizeOfImage": &off.KldrSize, "FullDllName": &off.KldrFullName, "BaseDllName": &off.KldrBaseName} {
			if f, err := r.Field(path); err == nil {
				*dst = f.Offset
			}
		}
	}
	entries, walkErr := types.ListEntries(k.Mem, 8, head, 4096)
	var out []Module
	for _, e := range entries {
		base := e - off.KldrLinks
		var m Module
		var err error
		if m.Base, err = mem.ReadUint(k.Mem, base+off.KldrBase, 8); err != nil {
			return out, fmt.Errorf("module entry %#x: %w", base, err)
		}
		if m.Size, err = mem.ReadUint(k.Mem, base+off.KldrSize, 4); err != nil {
			return out, fmt.Errorf("module entry %#x: %w", base, err)
		}
		m.FullName, _ = unicodeAt(k.Mem, base+off.KldrFullName, l)
		m.BaseName, _ = unicodeAt(k.Mem, base+off.KldrBaseName, l)
		out = append(out, m)
	}
	if walkErr != nil {
		return out, fmt.Errorf("the loaded module list stops after %d modules: %w", len(out), walkErr)
	}
	return out, nil
}

func unicodeAt(m mem.Memory, addr uint64, l *Layout) (string, error) {
	n, err := mem.ReadUint(m, addr+l.UsLength, 2)
	if err != nil {
		return "", err
	}
	buf, err := mem.ReadUint(m, addr+l.UsBuffer, 8)
	if err != nil {
		return "", err
	}
	return types.ReadUTF16(m, buf, n)
}
