package symbols

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

// kernelStub is a kernel target with one module and a header, nothing else.
type kernelStub struct {
	mods []*target.Module
	kd   target.KernelDesc
}

func (k *kernelStub) Kind() target.Kind                       { return target.Kernel }
func (k *kernelStub) Arch() target.Arch                       { return target.ArchAMD64 }
func (k *kernelStub) Path() string                            { return "stub" }
func (k *kernelStub) Threads() []*target.Thread               { return nil }
func (k *kernelStub) Modules() []*target.Module               { return k.mods }
func (k *kernelStub) UnloadedModules() []*target.Module       { return nil }
func (k *kernelStub) System() *target.SystemDesc              { return &target.SystemDesc{} }
func (k *kernelStub) Event() *target.Event                    { return nil }
func (k *kernelStub) Processes() []*target.Process            { return nil }
func (k *kernelStub) AddressSpace(*target.Process) mem.Memory { return mem.NewRangeMap(nil) }
func (k *kernelStub) Warnings() []string                      { return nil }
func (k *kernelStub) Layout() *target.FileLayout              { return nil }
func (k *kernelStub) Close() error                            { return nil }
func (k *kernelStub) Kernel() *target.KernelDesc              { return &k.kd }

const (
	isf9600  = "22597D0B40394E23936F6A24C6C52D5B"
	kernBase = 0xfffff803_0a600000
)

// An isf*dir element gives the kernel types and symbols: by the PDB GUID
// and age its debug directory names, or, without one, by the header's
// signature (the 9600 file is chosen, not the 19041 one beside it).
func TestISFForTheKernel(t *testing.T) {
	dir := filepath.Join(rd.Root(), "isf", "symbols")
	if _, err := readISF(filepath.Join(dir, "windows", "ntkrnlmp.pdb", isf9600+"-1.json.xz")); err != nil {
		t.Skipf("ISF files not present: %v", err)
	}
	byGUID := &target.Module{Name: "nt", Base: kernBase, Size: 0x800000, PdbName: "ntkrnlmp.pdb", PdbGUID: isf9600, PdbAge: 1}
	bySig := &target.Module{Name: "nt", Base: kernBase, Size: 0x800000}
	for _, m := range []*target.Module{byGUID, bySig} {
		stub := &kernelStub{mods: []*target.Module{m}}
		var trace []string
		s := NewSymbols(stub, "isf*"+dir)
		s.Noisy, s.Notify = true, func(l string) { trace = append(trace, l) }
		// The header's symbols, as the 9600 kernel at kernBase has them.
		f, _ := readISF(filepath.Join(dir, "windows", "ntkrnlmp.pdb", isf9600+"-1.json.xz"))
		stub.kd = target.KernelDesc{PsLoadedModuleList: kernBase + f.Symbols["PsLoadedModuleList"].Address,
			ActiveHead: kernBase + f.Symbols["PsActiveProcessHead"].Address, KdDebuggerDataBlock: kernBase + f.Symbols["KdDebuggerDataBlock"].Address}
		ref, err := s.FindType("nt", "_EPROCESS")
		if err != nil {
			t.Fatalf("%s: %v\n%s", m.PdbGUID, err, strings.Join(trace, "\n"))
		}
		if fld, err := ref.Field("UniqueProcessId"); err != nil || fld.Offset != 0x2e0 {
			t.Errorf("UniqueProcessId %+v %v", fld, err)
		}
		if a, ok := s.Lookup("nt!PsActiveProcessHead"); !ok || a != stub.kd.ActiveHead {
			t.Errorf("nt!PsActiveProcessHead = %#x %v", a, ok)
		}
		if ms := s.Get(m); ms.State != SymISF || !strings.Contains(ms.ISFPath, isf9600) {
			t.Errorf("state %d path %s", ms.State, ms.ISFPath)
		}
		if m == bySig && !strings.Contains(strings.Join(trace, "\n"), "agree with the dump header") {
			t.Errorf("no reason given:\n%s", strings.Join(trace, "\n"))
		}
	}
	// A kernel that matches neither file gets no ISF.
	stub := &kernelStub{mods: []*target.Module{{Name: "nt", Base: kernBase, Size: 0x800000}}, kd: target.KernelDesc{PsLoadedModuleList: 1, ActiveHead: 2}}
	s := NewSymbols(stub, "isf*"+dir)
	if _, err := s.FindType("nt", "_EPROCESS"); err == nil {
		t.Error("an ISF was chosen for a kernel no file matches")
	}
}
