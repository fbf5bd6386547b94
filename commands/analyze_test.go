package commands

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/symbols"
	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

// hangCS is the scenario's critical section (owner thread 20, 0x43d8).
const hangCS = 0x00000092cf31fb38

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: no %q in:\n%s", what, w, got)
		}
	}
}

// The blocking thread comes from the critical sections, not from a script:
// the owner of the busiest locked section is it, whoever that is.
func TestAnalyzeHang(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	got := run(t, c, out, "!analyze -v -hang")
	mustContain(t, "-hang", got,
		"BLOCKING_THREAD:  00000000000043d8\n",
		"CRITICAL_SECTION:  00000092`cf31fb38 -- (!cs -s 00000092`cf31fb38)",
		"0n104 waiting",
		"DEFAULT_BUCKET_ID:  APPLICATION_HANG_BlockedOn_DeviceIo\n",
		"PRIMARY_PROBLEM_CLASS:  APPLICATION_HANG_BlockedOn_DeviceIo\n",
		"STACK_TEXT:  \n00000092`d3afd738 00007fff`97091064     : ",
		": ntdll!NtDeviceIoControlFile+0xa\n",
		"SYMBOL_NAME:  nsi!NsiAllocateAndGetTable+64\n",
		"STACK_COMMAND:  ~20s ; kb\n",
		"FAILURE_BUCKET_ID:  APPLICATION_HANG_BlockedOn_DeviceIo_cfffffff_nsi.dll!NsiAllocateAndGetTable\n",
		"OS_VERSION:  6.3.9600.17736\n", "BUILDLAB_STR:  winblue_r9\n")
	if strings.Contains(got, "WAIT_CHAIN") {
		t.Errorf("the wait chain section is not ours to print yet:\n%s", got)
	}
	// The analysis leaves the current thread as it was.
	if c.S.CurThread != 0 {
		t.Errorf("current thread %d after !analyze, want 0", c.S.CurThread)
	}
	// No exception stored: -v alone runs the same hang analysis.
	if got := run(t, c, out, "!analyze -v"); !strings.Contains(got, "No exception is stored in this dump") || !strings.Contains(got, "BLOCKING_THREAD:  00000000000043d8") {
		t.Errorf("!analyze -v on a dump without an exception:\n%s", got)
	}

	// Another owner: thread 5 owns the section now.
	id5 := uint64(c.S.Target.Threads()[5].ID)
	c2, out2, _ := hypervCtx(t, map[uint64]uint64{hangCS + 0x10: id5})
	got = run(t, c2, out2, "!analyze -v -hang")
	mustContain(t, "owner moved", got, "BLOCKING_THREAD:  "+c2.hexWide(id5)+"\n", "STACK_COMMAND:  ~5s ; kb\n", "thread 5 (")

	// An owner that is no thread of the dump, and a section nobody holds.
	c3, out3, _ := hypervCtx(t, map[uint64]uint64{hangCS + 0x10: 0x9999})
	got = run(t, c3, out3, "!analyze -v -hang")
	mustContain(t, "stray owner", got, "owned by thread id 9999, which is not in this dump", "STACK_COMMAND:  ~0s ; kb\n")
	// LockCount -1: unlocked (the low dword; RecursionCount 0 beside it).
	c4, out4, _ := hypervCtx(t, map[uint64]uint64{hangCS + 0x8: 0x00000000ffffffff})
	got = run(t, c4, out4, "!analyze -v -hang")
	mustContain(t, "unlocked", got, "no critical section is locked; the current thread is taken")
	if strings.Contains(got, "CRITICAL_SECTION:") {
		t.Errorf("an unlocked section named:\n%s", got)
	}
}

func TestAnalyzeKernel(t *testing.T) {
	c, out := kernelCtx(t, nil)
	got := run(t, c, out, "!analyze -v")
	mustContain(t, "kernel -v", got,
		"LIVE_SYSTEM_DUMP (161)\n",
		"Arg1: 0000000000000000, Reserved\n",
		"BUGCHECK_CODE:  161\n", "BUGCHECK_P1: 0\n", "BUGCHECK_P4: 0\n",
		"PROCESS_NAME:  Idle\n",
		": nt!PpmIdleExecuteTransition+0x6\n",
		"SYMBOL_NAME:  nt!PpmIdleExecuteTransition+6\n", "MODULE_NAME: nt\n",
		"FAILURE_BUCKET_ID:  0x161_nt!PpmIdleExecuteTransition\n")
	got = run(t, c, out, "!analyze")
	mustContain(t, "kernel short form", got, "BugCheck 161, {0, 0, 0, 0}\n", "Probably caused by : ", " ( nt!PpmIdleExecuteTransition+6 )\n")
	got = run(t, c, out, "!analyze -show 0xd1 0 2")
	mustContain(t, "-show", got, "DRIVER_IRQL_NOT_LESS_OR_EQUAL (d1)\n", "Arg2: 0000000000000002, IRQL\n")
	if strings.Contains(got, "Arg3") {
		t.Errorf("-show with two parameters printed a third:\n%s", got)
	}
	got = run(t, c, out, "!analyze -show 5454414d")
	mustContain(t, "unknown code", got, "Unknown bugcheck code (5454414d)\n", "Unknown bugcheck description\n")
}

func TestAnalyzeOptions(t *testing.T) {
	c, out := newCtx(t)
	for _, bad := range []string{"!analyze -xml", "!analyze -q"} {
		if got := run(t, c, out, bad); !strings.Contains(got, "!analyze") {
			t.Errorf("%s: %q", bad, got)
		}
	}
	if got := run(t, c, out, ".hh !analyze"); !strings.Contains(got, "What it does not do") || !strings.Contains(got, "WAIT_CHAIN") || !strings.Contains(got, "PROBABLY_CAUSED_BY") {
		t.Errorf(".hh !analyze:\n%s", got)
	}
}

// Every real dump: the exception (or bug check, or the note that there is
// none), a faulting frame and a bucket, and no panic.
func TestAnalyzeRealDumps(t *testing.T) {
	dumps := rd.Glob("*/*.dmp")
	if len(dumps) == 0 {
		t.Skip("../shared/realdumps not present")
	}
	for _, p := range dumps {
		t.Run(filepath.Base(p), func(t *testing.T) {
			tg, err := engine.Open(p, engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Close()
			var out bytes.Buffer
			c := &Ctx{S: engine.NewSession(tg), Out: &out, Host: &fakeHost{}}
			syms := symbols.NewSymbols(tg, filepath.Dir(p))
			defer syms.Close()
			c.SetSymbols(syms)
			got := run(t, c, &out, "!analyze -v")
			if strings.Contains(got, "panic") || strings.Contains(got, "internal error") {
				t.Fatalf("!analyze -v:\n%s", got)
			}
			switch {
			case kernelDesc(c) != nil:
				mustContain(t, p, got, "BUGCHECK_CODE:  ")
			case tg.Event() != nil:
				mustContain(t, p, got, "EXCEPTION_RECORD:  (.exr -1)\n", "   ExceptionCode: ", "EXCEPTION_CODE_STR:  ")
			default:
				mustContain(t, p, got, "No exception is stored in this dump", "BLOCKING_THREAD:  ")
			}
			mustContain(t, p, got, "STACK_TEXT:  \n", "SYMBOL_NAME:  ", "FAILURE_BUCKET_ID:  ", "Followup:     MachineOwner\n")
		})
	}
}
