// Package triage writes a Windows 10 19041 kernel triage dump (DumpType 4,
// the Minidump\*.dmp kind) for tests: a system worker thread that
// bugchecked, its EPROCESS (System) and ETHREAD copies, its stack, the
// debugger data and the driver list. The structure layouts and symbol
// offsets are those of the real 19041.804 kernel, taken from its Volatility
// ISF file into layout.json (TestLayoutIsTheISFs checks them when
// ../shared/realdumps is present); the dump has no kernel image, so a
// debugger can only find its types and symbols in that ISF, chosen by the
// header's signature. Test tooling: it never uses the reader's code.
package triage

import (
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

//go:embed layout.json
var layoutJSON []byte

// Layout is what the writer needs of the 19041 kernel: struct sizes, field
// offsets by dotted path, symbol RVAs.
type Layout struct {
	GUID    string            `json:"guid"`
	Age     uint32            `json:"age"`
	Sizes   map[string]uint64 `json:"sizes"`
	Fields  map[string]uint64 `json:"fields"` // "_ETHREAD.Cid.UniqueThread"
	Symbols map[string]uint64 `json:"symbols"`
}

// LoadLayout reads layout.json.
func LoadLayout() (*Layout, error) {
	var l Layout
	if err := json.Unmarshal(layoutJSON, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// What the dump holds.
const (
	KernBase  = 0xfffff806_4a200000
	KernSize  = 0x1046000
	EThread   = 0xffffc50a_81f35040 // the worker thread that bugchecked
	EProcess  = 0xffffc50a_7e86d040 // System
	Prcb      = 0xfffff806_46d6e180
	StackTop  = 0xfffff08c_a3a17780 // RSP at KeBugCheckEx
	StackSize = 0x880
	Tid       = 0x1f4
	BugCheck  = 0x7E // SYSTEM_THREAD_EXCEPTION_NOT_HANDLED
)

// Return addresses the stack holds, by symbol and offset.
var Frames = []struct {
	Sym string
	Off uint64
}{{"ExpWorkerThread", 0x105}, {"PspSystemThreadStartup", 0x55}, {"KiStartSystemThread", 0x28}}

// Field offset of a dotted path.
func (l *Layout) off(path string) uint64 {
	v, ok := l.Fields[path]
	if !ok {
		panic("layout.json lacks " + path)
	}
	return v
}

func put64(b []byte, off, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }

// Build returns the dump's bytes.
func Build() ([]byte, error) {
	l, err := LoadLayout()
	if err != nil {
		return nil, err
	}
	sym := func(n string) uint64 { return KernBase + l.Symbols[n] }
	thread := make([]byte, l.Sizes["_ETHREAD"])
	thread[0] = 6 // Tcb.Header.Type: ThreadObject (the dispatcher header leads the structure)
	put64(thread, l.off("_ETHREAD.Cid.UniqueProcess"), 4)
	put64(thread, l.off("_ETHREAD.Cid.UniqueThread"), Tid)
	thread[l.off("_ETHREAD.Tcb.State")] = 2 // Running: it bugchecked
	put64(thread, l.off("_ETHREAD.Tcb.Process"), EProcess)
	put64(thread, l.off("_ETHREAD.Tcb.ApcState.Process"), EProcess)
	put64(thread, l.off("_ETHREAD.Tcb.KernelStack"), StackTop-0x40)
	put64(thread, l.off("_ETHREAD.Tcb.StackBase"), StackTop&^0xfff+0x1000)
	put64(thread, l.off("_ETHREAD.Tcb.StackLimit"), StackTop&^0xfff-0x5000)
	put64(thread, l.off("_ETHREAD.Tcb.InitialStack"), StackTop&^0xfff+0x1000-0x30)
	put64(thread, l.off("_ETHREAD.StartAddress"), sym("ExpWorkerThread"))

	proc := make([]byte, l.Sizes["_EPROCESS"])
	proc[0] = 3 // Pcb.Header.Type: ProcessObject
	put64(proc, l.off("_EPROCESS.UniqueProcessId"), 4)
	put64(proc, l.off("_EPROCESS.Pcb.DirectoryTableBase"), 0x1ad000)
	put64(proc, l.off("_EPROCESS.ObjectTable"), 0xffffa70c_2b6030c0)
	copy(proc[l.off("_EPROCESS.ImageFileName"):], "System")

	prcb := make([]byte, 0x100)
	put64(prcb, l.off("_KPRCB.CurrentThread"), EThread)

	stack := make([]byte, StackSize)
	// KeBugCheckEx's home area, then return addresses up the stack.
	for i, f := range Frames {
		put64(stack, uint64(0x48+0x60*i), sym(f.Sym)+f.Off)
	}

	kdbg := make([]byte, 0x360)
	binary.LittleEndian.PutUint32(kdbg[0x10:], 0x4742444B)
	binary.LittleEndian.PutUint32(kdbg[0x14:], uint32(len(kdbg)))
	put64(kdbg, 0x18, KernBase)
	put64(kdbg, 0x48, sym("PsLoadedModuleList"))
	put64(kdbg, 0x50, sym("PsActiveProcessHead"))
	put64(kdbg, 0x218, sym("KiProcessorBlock"))
	binary.LittleEndian.PutUint16(kdbg[0x2B4:], uint16(l.off("_KPRCB.CurrentThread")))

	ctx := make([]byte, 0x4d0)
	binary.LittleEndian.PutUint32(ctx[0x30:], 0x10001f) // CONTEXT_FULL for AMD64
	binary.LittleEndian.PutUint16(ctx[0x38:], 0x10)     // cs
	binary.LittleEndian.PutUint16(ctx[0x42:], 0x18)     // ss
	put64(ctx, 0x98, StackTop)                          // Rsp
	put64(ctx, 0xf8, sym("KeBugCheckEx"))               // Rip

	d := &kdw.Dump{
		MinorVersion: 19041, DirectoryTableBase: 0x1ad000, NumberProcessors: 4,
		PsLoadedModuleList: sym("PsLoadedModuleList"), PsActiveProcessHead: sym("PsActiveProcessHead"),
		KdDebuggerDataBlock: sym("KdDebuggerDataBlock"),
		BugCheckCode:        BugCheck, BugCheckParameters: [4]uint64{0xffffffffc0000005, 0xfffff806_4d0a1234, 0xfffff08c_a3a18a08, 0xfffff08c_a3a18250},
		Context: ctx, ProductType: 1, SuiteMask: 0x110,
		SystemTime: 133_500_000_000_000_000, SystemUpTime: 36_000_000_000,
		Triage: &kdw.Triage{Prcb: prcb, Process: proc, Thread: thread, TopOfStack: StackTop, Stack: stack,
			DebuggerData: kdbg, Context: ctx,
			Drivers: []kdw.Driver{{Name: "ntoskrnl.exe", DllBase: KernBase, SizeOfImage: KernSize, TimeDateStamp: 0x5f3f1c4b},
				{Name: "hal.dll", DllBase: 0xfffff806_49b00000, SizeOfImage: 0xa6000, TimeDateStamp: 0x8ef1b23c},
				{Name: "Contoso.sys", DllBase: 0xfffff806_4d0a0000, SizeOfImage: 0x12000, TimeDateStamp: 0x60a1b2c3}}},
	}
	b, err := d.Bytes(kdw.TriageDump)
	if err != nil {
		return nil, fmt.Errorf("kdw: %w", err)
	}
	return b, nil
}
