package commands

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

// openDumpFile opens a bundled minidump with a symbol path and source lines
// on (as -lines does); the test's cleanup closes it.
func openDumpFile(t *testing.T, path, sympath string) (*Ctx, *bytes.Buffer) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	tg, err := target.OpenMinidump(f, st.Size(), path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := &Ctx{S: engine.NewSession(tg), Out: &out, Host: &fakeHost{}}
	syms := symbols.NewSymbols(tg, sympath)
	syms.Lines = true
	c.SetSymbols(syms)
	t.Cleanup(func() { syms.Close(); f.Close() })
	return c, &out
}

func mustHave(t *testing.T, got, want, why string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s: want %q in\n%s", why, want, got)
	}
}

// x86 kv: "On an x86-based processor, the kv command also displays calling
// convention information" (k--kb--kc--kd--kp--kp--kv--display-stack-backtrace-.md);
// windbg-reference.md §3.6: `(CONV: cdecl|stdcall|fastcall|thiscall)` after
// the call site, here after the FPO text. The convention is the PDB
// procedure type's CV_call_e byte: fpoapp's C functions are cdecl (0), its
// thread procedure WINAPI stdcall (7).
func TestKvCallingConvention(t *testing.T) {
	c, out := openDumpFile(t, "../testdata/demo/x86.dmp", "../testdata/fixtures/bin")
	got := run(t, c, out, "kv")
	mustHave(t, got, "fpoapp!leaf32+0xd (FPO: [1,0,0]) (CONV: cdecl) [d:\\ntdbg\\fixtures\\src\\fpoapp.c @ 10] \n", "cdecl frame")
	mustHave(t, got, "fpoapp!thread_main+0x9 (FPO: [1,0,0]) (CONV: stdcall) [d:\\ntdbg\\fixtures\\src\\fpoapp.c @ 38] \n", "stdcall frame")

	c, out = openDumpFile(t, "../testdata/demo/x86msvc.dmp", "../testdata/fixtures/bin/x86msvc")
	run(t, c, out, ".ecxr")
	got = run(t, c, out, "kv")
	mustHave(t, got, "crash!main+0x2c (FPO: [2,72,1]) (CONV: cdecl) [", "MSVC main")
	mustHave(t, got, "kernel32!BaseThreadInitThunk+0x9 (FPO: [3,0,1]) (CONV: stdcall) [", "kernel32 thunk")
	// kb has no FPO or CONV text.
	if got := run(t, c, out, "kb"); strings.Contains(got, "CONV:") {
		t.Errorf("kb shows the calling convention:\n%s", got)
	}
}

// The CV_call_e values (cvconst.h, as in LLVM's CodeView docs and
// formats-spec.md's LF_PROCEDURE calltype byte) kv names.
func TestCallConvNames(t *testing.T) {
	for cc, want := range map[uint8]string{0: "cdecl", 4: "fastcall", 7: "stdcall", 0xb: "thiscall"} {
		if got := types.CallConvName(cc); got != want {
			t.Errorf("CV_call 0x%x = %s, want %s", cc, got, want)
		}
	}
}
