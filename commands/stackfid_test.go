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

// .kframes: "Use the .kframes command, without any parameters to see
// current value. ... Default stack trace depth is 0n256 frames", and
// `.kframes 0x2` makes k show two frames and kd two words
// (-kframes--set-stack-length-.md). kd's lines are dds's: address, two
// spaces, a DWORD, stepping by four bytes from the stack pointer even on x64
// (the same page's example: 00000054`b71ffb78  1ee672ae, 00000054`b71ffb7c  00007ffe).
func TestKframesAndKd(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	if got := run(t, c, out, ".kframes"); got != "Default stack trace depth is 0n256 frames\n" {
		t.Errorf(".kframes = %q", got)
	}
	if got := run(t, c, out, ".kframes 0x2"); got != "Default stack trace depth is 0n2 frames\n" {
		t.Errorf(".kframes 0x2 = %q", got)
	}
	want := " # Child-SP          RetAddr               Call Site\n" +
		"00 00000092`cf1ffe88 00007fff`9523102c     ntdll!NtWaitForSingleObject+0xa\n" +
		"01 00000092`cf1ffe90 00007ff7`76a41709     KERNELBASE!WaitForSingleObjectEx+0x2c\n"
	if got := run(t, c, out, "k"); got != want {
		t.Errorf("k after .kframes 2:\n%s", got)
	}
	if got := run(t, c, out, "kd"); got != "00000092`cf1ffe88  9523102c\n00000092`cf1ffe8c  00007fff\n" {
		t.Errorf("kd after .kframes 2:\n%s", got)
	}
	// A count overrides the default; k 3 is three frames.
	if got := run(t, c, out, "k 3"); strings.Count(got, "\n") != 4 {
		t.Errorf("k 3:\n%s", got)
	}
	got := run(t, c, out, "kd 5")
	if n := strings.Count(got, "\n"); n != 5 || !strings.HasPrefix(got, "00000092`cf1ffe88  9523102c\n00000092`cf1ffe8c  00007fff\n00000092`cf1ffe90  ") {
		t.Errorf("kd 5:\n%s", got)
	}
	// kd leaves a bare d's continuation alone.
	run(t, c, out, "dd 00000092`cf1ffe88 L4")
	if got := run(t, c, out, "d"); !strings.HasPrefix(got, "00000092`cf1ffe98  ") {
		t.Errorf("d after kd:\n%s", got)
	}
	// ~Nkd is the raw stack of thread N.
	if got := run(t, c, out, "~20kd 1"); !strings.HasPrefix(got, "00000092`d3afd738  97091064") {
		t.Errorf("~20kd 1:\n%s", got)
	}
}

// k = ...: "[~Thread] k... = StackPtr InstructionPtr FrameCount" (x64) and
// "= BasePtr StackPtr InstructionPtr" (x86) start the walk from the given
// registers (k--kb--kc--kd--kp--kp--kv--display-stack-backtrace-.md). Given
// frame 1's registers, the walk is k's from frame 1 on.
func TestKFromRegisters(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	want := " # Child-SP          RetAddr               Call Site\n" +
		"00 00000092`cf1ffe90 00007ff7`76a41709     KERNELBASE!WaitForSingleObjectEx+0x2c\n" +
		"01 00000092`cf1ffec0 00007ff7`76a41737     vmms!VmmsService::Run+0x19\n"
	if got := run(t, c, out, "k = 00000092`cf1ffe90 00007fff`9523102c 2"); got != want {
		t.Errorf("x64 k = sp ip count:\n%s", got)
	}
	c, out = openDumpFile(t, "../testdata/demo/x86.dmp", "../testdata/fixtures/bin")
	got := run(t, c, out, "kL = 002ffedc 002ffe40 0040102b")
	want = " # ChildEBP RetAddr  \n" +
		"00 002ffe64 00401064 fpoapp!fpo_saver+0x1b\n" +
		"01 002ffedc 00401092 fpoapp!bp_frame+0x24\n"
	if !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 5 {
		t.Errorf("x86 k = ebp esp eip:\n%s", got)
	}
	if got := run(t, c, out, "kL = 002ffedc 002ffe40 0040102b 1"); got != " # ChildEBP RetAddr  \n00 002ffe64 00401064 fpoapp!fpo_saver+0x1b\n" {
		t.Errorf("x86 k = ebp esp eip count:\n%s", got)
	}
}

// .frame /c: "Sets the specified frame as the current local override
// context" and /r "Displays registers" (-frame--set-local-context-.md): the
// frame line, then the frame's registers as .frame /r prints them; r and k
// then use that context, k with the "last set context" line
// (windbg-reference.md §3.6), until .cxr resets it.
func TestFrameSetsContext(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	withR := run(t, c, out, ".frame /r 2")
	got := run(t, c, out, ".frame /c 2")
	if got != withR || !strings.HasPrefix(got, "02 00000092`cf1ffec0 00007ff7`76a41737     vmms!VmmsService::Run+0x19\nrax=") {
		t.Errorf(".frame /c 2:\n%s\n.frame /r 2:\n%s", got, withR)
	}
	mustHave(t, run(t, c, out, "r"), "rip=00007ff776a41709 rsp=00000092cf1ffec0", "r after .frame /c")
	got = run(t, c, out, "k 1")
	if got != "  *** Stack trace for last set context - .thread/.cxr resets it\n # Child-SP          RetAddr               Call Site\n00 00000092`cf1ffec0 00007ff7`76a41737     vmms!VmmsService::Run+0x19\n" {
		t.Errorf("k after .frame /c:\n%s", got)
	}
	run(t, c, out, ".cxr")
	mustHave(t, run(t, c, out, "k 1"), "00 00000092`cf1ffe88 ", "k after .cxr")
}

// ~e: "~2e r; k; kd" is "~2r; ~2k; ~2kd": the command string is the rest
// of the line, ";" included, run for the thread; "If an error occurs in the
// execution of one command, execution continues with the next command"
// (-e--thread-specific-command-.md). The current thread does not change.
// ~*e runs it for every thread, each after the blank line and thread line
// of windbg-reference.md §3.4.
func TestThreadExecute(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	got := run(t, c, out, "~20e r rip; kc 1")
	want := "rip=00007fff97c3124a\n # Call Site\n00 ntdll!NtDeviceIoControlFile\n"
	if got != want {
		t.Errorf("~20e r rip; kc 1:\n%s", got)
	}
	if got2 := run(t, c, out, "~20r rip; ~20kc 1"); got2 != want {
		t.Errorf("~20r rip; ~20kc 1 differs from ~20e:\n%s", got2)
	}
	if c.S.CurThread != 0 {
		t.Errorf("~20e changed the current thread to %d", c.S.CurThread)
	}
	got = run(t, c, out, "~20e r rcs; r rip")
	if !strings.Contains(got, "Bad register error in 'r rcs'") || !strings.HasSuffix(got, "rip=00007fff97c3124a\n") {
		t.Errorf("~20e goes on after an error:\n%s", got)
	}
	// ~e alone is the current thread's.
	if got := run(t, c, out, "~e r rip"); got != "rip=00007fff97c3121a\n" {
		t.Errorf("~e r rip = %q", got)
	}
	got = run(t, c, out, "~*e r rip")
	if n := strings.Count(got, "rip="); n != len(c.S.Target.Threads()) {
		t.Errorf("~*e r rip ran %d times", n)
	}
	mustHave(t, got, "\n  20  Id: c08.43d8 Suspend: 0 Teb: 00007ff7`76460000 Unfrozen\nrip=00007fff97c3124a\n", "~*e thread 20")
}

// Explicit thread specifiers (~., ~#, ~*, ~N, ~~[tid]) add the Start and
// Priority lines, indented six, under each thread line when the dump has a
// ThreadInfoList (windbg-reference.md §3.2: "      Start:
// vfbasics!AVrfpStandardThreadFunction (7b175c20)" and "      Priority: 0
// Priority class: 32  Affinity: ffff"); the bare ~ listing has none.
func TestThreadSpecifierDetails(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	want20 := "  20  Id: c08.43d8 Suspend: 0 Teb: 00007ff7`76460000 Unfrozen\n" +
		"      Start: ntdll!TppWorkerThread (00007fff`97c316a0)\n" +
		"      Priority: 0  Priority class: 32  Affinity: ffffffff\n"
	for _, cmd := range []string{"~20", "~~[43d8]"} {
		if got := run(t, c, out, cmd); got != want20 {
			t.Errorf("%s:\n%s", cmd, got)
		}
	}
	want0 := ".  0  Id: c08.c0c Suspend: 0 Teb: 00007ff7`765ae000 Unfrozen\n" +
		"      Start: vmms!wmainCRTStartup (00007ff7`76a41750)\n" +
		"      Priority: 0  Priority class: 32  Affinity: ffffffff\n"
	for _, cmd := range []string{"~.", "~#"} {
		if got := run(t, c, out, cmd); got != want0 {
			t.Errorf("%s:\n%s", cmd, got)
		}
	}
	n := len(c.S.Target.Threads())
	if got := run(t, c, out, "~*"); strings.Count(got, "      Start: ") != n || strings.Count(got, "      Priority: ") != n || !strings.HasPrefix(got, want0) {
		t.Errorf("~* lacks the detail lines:\n%.400s", got)
	}
	if got := run(t, c, out, "~"); strings.Contains(got, "Start:") {
		t.Errorf("bare ~ shows Start lines")
	}
	// A dump without a ThreadInfoList keeps the one line.
	c, out = openDumpFile(t, "../testdata/demo/x86.dmp", "../testdata/fixtures/bin")
	if got := run(t, c, out, "~."); strings.Count(got, "\n") != 1 {
		t.Errorf("~. without thread info:\n%s", got)
	}
}

// The location line of r, .ecxr, .frame /r and ~Ns ends, for an explicit
// memory operand, with its segment, effective address and value of the
// operand's size, ?s when unreadable (windbg-reference.md §3.8: "mov
// dword ptr [rdx],eax ds:000001b7`28884000=????????"; on x86 with the
// selector, ds:0023:00000000=????????); stack-based operands are ss:. The
// symbol line carries [file @ line] when source lines are on.
func TestLocationEffectiveAddress(t *testing.T) {
	c, out := openDumpFile(t, "../testdata/demo/x86msvc.dmp", "../testdata/fixtures/bin/x86msvc")
	got := run(t, c, out, ".ecxr")
	want := "crash!main+0x2c [d:\\ntdbg\\fixtures\\src\\x86msvc\\crash_main.S @ 38]:\n" +
		"0040109c 894808          mov     dword ptr [eax+8],ecx ds:0023:00000008=????????\n"
	if !strings.HasSuffix(got, want) {
		t.Errorf(".ecxr:\n%s", got)
	}
	mustHave(t, run(t, c, out, "r"), want, "r after .ecxr")

	// x86, ebp-based: ss with its selector, the value read from the dump
	// (bp_frame's argument, 43, as kv shows it).
	c, out = openDumpFile(t, "../testdata/demo/x86.dmp", "../testdata/fixtures/bin")
	regs, err := c.S.Registers()
	if err != nil {
		t.Fatal(err)
	}
	r := *regs
	r.IP, r.GPR[target.RegBP] = 0x0040104a, 0x002ffedc
	out.Reset()
	c.printLocation(&r)
	if got := out.String(); !strings.HasSuffix(got, "0040104a 8b4508          mov     eax,dword ptr [ebp+8] ss:0023:002ffee4=00000043\n") {
		t.Errorf("x86 [ebp+8]:\n%s", got)
	}
	r.IP = 0x0040104d // lea reads no memory
	out.Reset()
	c.printLocation(&r)
	if got := out.String(); !strings.HasSuffix(got, "lea     ecx,[eax+13h]\n") {
		t.Errorf("lea:\n%s", got)
	}

	// x64: an 8-byte operand unreadable, a stack operand readable.
	h, hout, _ := hypervCtx(t, nil)
	mustHave(t, run(t, h, hout, ".frame /r 2"), "00007ff7`76a41709 48c70600000000  mov     qword ptr [rsi],0 ds:00000100`00050611=????????????????\n", "x64 qword")
	mustHave(t, run(t, h, hout, ".frame /r 4"), "00007ff7`76a41761 89442424        mov     dword ptr [rsp+24h],eax ss:00000092`cf1fff54=00000000\n", "x64 rsp")
	// A ret has no memory operand: ~Ns shows the plain line.
	if got := run(t, h, hout, "~20s"); got != "ntdll!NtDeviceIoControlFile+0xa:\n00007fff`97c3124a c3              ret\n" {
		t.Errorf("~20s:\n%s", got)
	}
}
