package commands

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
)

const hypervKernelDump = "../testdata/scenarios/hyperv-hang/kernel.dmp"

// patchedKernel is the scenario kernel dump with some words of virtual
// memory replaced: broken kernel lists without another dump file.
type patchedKernel struct {
	*target.KernelTarget
	patches map[uint64]uint64
}

func (p *patchedKernel) AddressSpace(pr *target.Process) mem.Memory {
	return patchedMem{p.KernelTarget.AddressSpace(pr), p.patches, nil}
}

func kernelCtx(t testing.TB, patches map[uint64]uint64) (*Ctx, *bytes.Buffer) {
	t.Helper()
	tg, err := engine.Open(hypervKernelDump, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kt := tg.(*target.KernelTarget)
	var use target.Target = kt
	if patches != nil {
		use = &patchedKernel{kt, patches}
	}
	var out bytes.Buffer
	c := &Ctx{S: engine.NewSession(use), Out: &out, Host: &fakeHost{}}
	syms := symbols.NewSymbols(use, hypervSyms)
	c.SetSymbols(syms)
	t.Cleanup(func() { syms.Close(); tg.Close() })
	return c, &out
}

const (
	vmmsEProcess   = 0xffffe0005c21c080
	systemEProcess = 0xffffe0004e68b900
	ownerEThread   = 0xffffe00069cdb880
	activeLinks    = 0x2e8 // _EPROCESS.ActiveProcessLinks (9600)
	threadLinks    = 0x688 // _ETHREAD.ThreadListEntry (9600)
)

// A process list that loops and a thread list with a bad link end with
// what was read and why; nothing hangs.
func TestKernelBrokenLists(t *testing.T) {
	c, out := kernelCtx(t, nil)
	whole := run(t, c, out, "!process 0 0")
	n := strings.Count(whole, "\nPROCESS ")
	if n != 12 {
		t.Fatalf("%d processes in the intact dump:\n%s", n, whole)
	}
	// vmms is last; its Flink goes back to System's entry.
	c, out = kernelCtx(t, map[uint64]uint64{vmmsEProcess + activeLinks: systemEProcess + activeLinks})
	got := run(t, c, out, "!process 0 0")
	if strings.Count(got, "\nPROCESS ") != 12 || !strings.Contains(got, "the process list stops after 12 processes: the list loops back on itself") {
		t.Errorf("cycle:\n%s", got)
	}
	// The owner thread's link goes nowhere: the threads before it stay.
	c, out = kernelCtx(t, map[uint64]uint64{ownerEThread + threadLinks: 0xffffe000_12340000})
	got = run(t, c, out, "!process ffffe0005c21c080 2")
	if !strings.Contains(got, "Cid 0c08.43d8") || !strings.Contains(got, "stops after 21 threads: Flink of entry 0xffffe00012340000 unreadable") {
		t.Errorf("bad thread link:\n%s", got)
	}
	if strings.Count(got, "THREAD ") != 21 {
		t.Errorf("%d threads before the bad link", strings.Count(got, "THREAD "))
	}
}

// An address of another object type is refused as kdexts refuses it, and
// .thread 0 resets the context (windbg-reference.md §4.1, §4.3).
func TestKernelObjectTypes(t *testing.T) {
	c, out := kernelCtx(t, nil)
	for cmd, want := range map[string]string{
		"!thread ffffe0005c21c080":    "TYPE mismatch for thread object at ffffe0005c21c080",
		"!process ffffe00069cdb880 0": "TYPE mismatch for process object at ffffe00069cdb880",
		".process ffffe00069cdb880":   "TYPE mismatch for process object at ffffe00069cdb880",
		".thread 0":                   "Implicit thread is now the default thread",
		"!process -1 0":               "Image: Idle",
	} {
		if got := run(t, c, out, cmd); !strings.Contains(got, want) {
			t.Errorf("%s: %q", cmd, got)
		}
	}
	if c.S.Process != nil {
		t.Errorf("a refused .process changed the process to %+v", c.S.Process)
	}
}
