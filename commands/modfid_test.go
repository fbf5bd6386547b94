package commands

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

// fileCtx opens a dump of the repository with a symbol path; the pages in
// holes read as not in the dump (to hide an image the dump holds, so that
// it is looked for on disk, as in a minidump).
func fileCtx(t *testing.T, dump, sympath string, holes ...uint64) (*Ctx, *bytes.Buffer) {
	t.Helper()
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	var tg target.Target
	tg, err = target.OpenMinidump(bytes.NewReader(b), int64(len(b)), dump)
	if err != nil {
		t.Fatal(err)
	}
	if len(holes) > 0 {
		h := map[uint64]bool{}
		for _, pg := range holes {
			h[pg] = true
		}
		tg = &patched{tg, nil, h}
	}
	var out bytes.Buffer
	c := &Ctx{S: engine.NewSession(tg), Out: &out, Host: &fakeHost{}}
	syms := symbols.NewSymbols(tg, sympath)
	t.Cleanup(func() { syms.Close() })
	c.SetSymbols(syms)
	return c, &out
}

// pages lists the pages of [base, base+size).
func pages(base, size uint64) []uint64 {
	var out []uint64
	for pg := base; pg < base+size; pg += 0x1000 {
		out = append(out, pg)
	}
	return out
}

const x86msvcDump, x86msvcSyms = "../testdata/demo/x86msvc.dmp", "../testdata/fixtures/bin/x86msvc"

// lmv as WinDbg prints it for a module whose image was mapped from disk:
// `Loaded symbol image file:` names the image (the PDB is on the module
// line), `Mapped memory image file:` the file mapped, and `Image was built
// with /Brepro flag.` follows `Browse all global symbols`
// (windbg-reference.md §3.11 "Extra lines seen"; msdocs lm: "The loaded
// symbol image file value is the same as the image name", "If the debugger
// is mapping an image file (for example, during minidump debugging), this
// value is the name of the mapped image"). The C flag: a zero checksum
// (msdocs/debugger/symbol-status-abbreviations.md).
func TestLMVerboseImageLines(t *testing.T) {
	c, out := fileCtx(t, x86msvcDump, x86msvcSyms, pages(0x400000, 0x5000)...)
	run(t, c, out, ".reload /f crash.exe")
	got := run(t, c, out, "lmv m crash")
	want := "Browse full module list\n" +
		"start    end        module name\n" +
		"00400000 00405000   crash    C (private pdb symbols)  ../testdata/fixtures/bin/x86msvc/crash.pdb\n" +
		"    Loaded symbol image file: crash.exe\n" +
		"    Mapped memory image file: ../testdata/fixtures/bin/x86msvc/crash.exe\n" +
		"    Image path: C:\\src\\crash\\Release\\crash.exe\n" +
		"    Image name: crash.exe\n" +
		"    Browse all global symbols  functions  data\n" +
		"    Image was built with /Brepro flag.\n" +
		"    Timestamp:        47B7BF63 (This is a reproducible build file hash, not a timestamp)\n" +
		"    CheckSum:         00000000\n"
	if !strings.HasPrefix(got, want) {
		t.Errorf("lmv m crash:\n%s\nwant prefix:\n%s", got, want)
	}
	// A deferred module has no `Loaded symbol image file` line (its
	// symbols were not looked for), as `lmDvmmozglue` shows in the
	// reference's sources.
	if got := run(t, c, out, "lmv m kernel32"); strings.Contains(got, "Loaded symbol image file") {
		t.Errorf("lmv m kernel32 (deferred):\n%s", got)
	}
}

// The line is printed for modules without symbols too, naming the image
// (windbg-reference.md §3.11: `TextEditor   (no symbols)` then `Loaded
// symbol image file:`). sigsegv.dmp's ntdll has no PDB on the path.
func TestLMVerboseNoSymbols(t *testing.T) {
	c, out := realCtx(t, "lldb/sigsegv.dmp", "lldb/sigsegv.pdb")
	run(t, c, out, ".reload /f ntdll.dll")
	got := run(t, c, out, "lmv m ntdll")
	if !strings.Contains(got, "   ntdll      (no symbols)           \n    Loaded symbol image file: ntdll.dll\n    Image path: C:\\Windows\\System32\\ntdll.dll\n") {
		t.Errorf("lmv m ntdll:\n%s", got)
	}
	run(t, c, out, ".reload /f sigsegv.exe")
	got = run(t, c, out, "lmv m sigsegv")
	if !strings.Contains(got, "sigsegv  C (private pdb symbols)  ") || !strings.Contains(got, "sigsegv.pdb\n    Loaded symbol image file: sigsegv.exe\n") {
		t.Errorf("lmv m sigsegv:\n%s", got)
	}
}

// lmt, lmf, lmi, lmn, lmp replace the symbol columns; lm1m prints module
// names only; lmsm sorts by module name, case-insensitively
// (msdocs/debuggercmds/lm--list-loaded-modules-.md: options 1m, sm, i, f,
// n, p, t, and Example 2 for the order ADVAPI32, kernel32, msvcrt).
func TestLMColumnsAndSort(t *testing.T) {
	c, out := fileCtx(t, x86msvcDump, x86msvcSyms)
	run(t, c, out, ".reload /f crash.exe")
	cases := map[string]string{
		"lmt": "start    end        module name\n" +
			"00400000 00405000   crash    47B7BF63 (This is a reproducible build file hash, not a timestamp)\n" +
			"77c20000 77c25000   ntdll    ",
		"lmf": "start    end        module name\n" +
			"00400000 00405000   crash    C:\\src\\crash\\Release\\crash.exe\n" +
			"77c20000 77c25000   ntdll    C:\\Windows\\System32\\ntdll.dll\n" +
			"76f10000 76f15000   kernel32 C:\\Windows\\System32\\kernel32.dll\n",
		"lmi": "start    end        module name\n" +
			"00400000 00405000   crash    (private pdb symbols)  crash.exe\n" +
			"77c20000 77c25000   ntdll    (deferred)             \n" +
			"76f10000 76f15000   kernel32 (deferred)             \n",
		"lmn": "start    end        module name\n" +
			"00400000 00405000   crash    crash.exe\n" +
			"77c20000 77c25000   ntdll    ntdll.dll\n" +
			"76f10000 76f15000   kernel32 kernel32.dll\n",
		"lm1m": "crash\nntdll\nkernel32\n",
		"lmsm": "start    end        module name\n" +
			"00400000 00405000   crash    C (private pdb symbols)  ../testdata/fixtures/bin/x86msvc/crash.pdb\n" +
			"76f10000 76f15000   kernel32 C (deferred)             \n" +
			"77c20000 77c25000   ntdll    C (deferred)             \n",
		"lm sm": "start    end        module name\n" +
			"00400000 00405000   crash    C (private pdb symbols)  ../testdata/fixtures/bin/x86msvc/crash.pdb\n" +
			"76f10000 76f15000   kernel32 C (deferred)             \n",
		"lm1m m k*": "kernel32\n",
	}
	for cmd, want := range cases {
		if got := run(t, c, out, cmd); !strings.HasPrefix(got, want) {
			t.Errorf("%s:\n%s\nwant prefix:\n%s", cmd, got, want)
		}
	}
	// lmt on a dated image: the time and the stamp, as lmv's Timestamp.
	c2, out2 := realCtx(t, "lldb/sigsegv.dmp", "lldb/sigsegv.pdb")
	if got := run(t, c2, out2, "lmt m kernel32"); !strings.Contains(got, "   kernel32 Tue Nov  7 11:08:04 1995 (309FAE94)\n") {
		t.Errorf("lmt m kernel32:\n%s", got)
	}
}

// warnTo sends the symbol layer's warnings to the command output, as the
// REPL does.
func warnTo(c *Ctx, out *bytes.Buffer) {
	c.SymConfig.Notify = func(s string) { out.WriteString(s + "\n") }
}

// Loading a module's symbols when its image is not to be found prints
// WinDbg's two image lines before the symbol result
// (windbg-reference.md §7.4: `Unable to load image <path>, Win32 error
// 0n2`, `*** WARNING: Unable to verify timestamp for <image>`, `*** ERROR:
// Module load completed but symbols could not be loaded for <image>`).
func TestUnableToLoadImage(t *testing.T) {
	c, out := realCtx(t, "lldb/sigsegv.dmp", "lldb/sigsegv.pdb")
	warnTo(c, out)
	want := "Unable to load image C:\\Windows\\System32\\ntdll.dll, Win32 error 0n2\n" +
		"*** WARNING: Unable to verify timestamp for ntdll.dll\n" +
		"*** ERROR: Module load completed but symbols could not be loaded for ntdll.dll\n"
	if got := run(t, c, out, ".reload /f ntdll.dll"); got != want {
		t.Errorf(".reload /f ntdll.dll:\n%s\nwant:\n%s", got, want)
	}
	// The PDB is found but the image is not: the image lines, then nothing.
	want = "Unable to load image C:\\temp\\sigsegv.exe, Win32 error 0n2\n" +
		"*** WARNING: Unable to verify timestamp for sigsegv.exe\n"
	if got := run(t, c, out, ".reload /f sigsegv.exe"); got != want {
		t.Errorf(".reload /f sigsegv.exe:\n%s\nwant:\n%s", got, want)
	}
	// An image found on the symbol path loads quietly.
	c2, out2 := fileCtx(t, x86msvcDump, x86msvcSyms)
	warnTo(c2, out2)
	if got := run(t, c2, out2, ".reload /f crash.exe"); got != "" {
		t.Errorf(".reload /f crash.exe with its image on the path: %q", got)
	}
}

// `.reload /u ntdll.dll` prints `Unloaded ntdll.dll`
// (msdocs/debuggercmds/-reload--reload-module-.md, Remarks); the module
// leaves the module list and answers no symbol lookups until a `.reload`.
// `.reload` on a user dump reads the module list again as the banner does:
// the dots, then `Loading unloaded module list` and its dots
// (windbg-reference.md §1.1 and §3.27).
func TestReloadUnloadAndDots(t *testing.T) {
	c, out := newCtx(t)
	n, un := len(c.S.Target.Modules()), len(c.S.Target.UnloadedModules())
	if un == 0 {
		t.Fatal("the demo dump has no unloaded modules")
	}
	want := loadDots(n) + "\nLoading unloaded module list\n" + loadDots(un) + "\n"
	if got := run(t, c, out, ".reload"); got != want {
		t.Errorf(".reload:\n%q\nwant\n%q", got, want)
	}
	addr, _ := c.S.Symbols.Lookup("ntdll!RtlEnterCriticalSection")
	if addr == 0 {
		t.Fatal("ntdll!RtlEnterCriticalSection not found")
	}
	if got := run(t, c, out, ".reload /u ntdll.dll"); got != "Unloaded ntdll.dll\n" {
		t.Errorf(".reload /u ntdll.dll: %q", got)
	}
	if got := run(t, c, out, "lm"); strings.Contains(got, "ntdll") {
		t.Errorf("lm after .reload /u lists ntdll:\n%s", got)
	}
	if _, ok := c.S.Symbols.Lookup("ntdll!RtlEnterCriticalSection"); ok {
		t.Error("ntdll!RtlEnterCriticalSection resolves after .reload /u")
	}
	if m, _, _, ok := c.S.Symbols.Nearest(addr); ok {
		t.Errorf("Nearest names %s after .reload /u", m.Name)
	}
	if got := run(t, c, out, "x ntdll!RtlEnter*"); !strings.Contains(got, "Couldn't resolve error at 'ntdll!RtlEnter*'") {
		t.Errorf("x after .reload /u: %q", got)
	}
	// The module name works as well as the image name (msdocs: `.reload /u hal`).
	run(t, c, out, ".reload")
	if got := run(t, c, out, "lm m ntdll"); !strings.Contains(got, "ntdll") {
		t.Errorf("lm after .reload: %q", got)
	}
	if got := run(t, c, out, ".reload /u kernel32"); got != "Unloaded kernel32\n" {
		t.Errorf(".reload /u kernel32: %q", got)
	}
	if got := run(t, c, out, "lm1m"); strings.Contains(got, "kernel32") || !strings.Contains(got, "ntdll") {
		t.Errorf("lm1m after .reload /u kernel32:\n%s", got)
	}
	run(t, c, out, ".reload /f kernel32.dll")
	if got := run(t, c, out, "lm m kernel32"); !strings.Contains(got, "(private pdb symbols)") {
		t.Errorf("lm m kernel32 after .reload /f kernel32.dll:\n%s", got)
	}
}

// On a kernel dump `.reload` prints the kernel banner's lines:
// `Loading Kernel Symbols`, dots, `Loading User Symbols`
// (windbg-reference.md §1.2 and §3.27).
func TestReloadKernelDots(t *testing.T) {
	c, out := kernelCtx(t, nil)
	want := "Loading Kernel Symbols\n" + loadDots(len(c.S.Target.Modules())) + "\nLoading User Symbols\n"
	if un := len(c.S.Target.UnloadedModules()); un > 0 {
		want += "Loading unloaded module list\n" + loadDots(un) + "\n"
	}
	if got := run(t, c, out, ".reload"); got != want {
		t.Errorf(".reload:\n%q\nwant\n%q", got, want)
	}
}

// !sym's wording is dbghelp's: the state after each form, with the usage
// first when there is no argument; prompts stay on until `prompts off`
// (msdocs/debuggercmds/-sym.md; transcripts: `!sym` -> `!sym <noisy/quiet -
// prompts/prompts off> - quiet mode - symbol prompts on`, `!sym noisy` ->
// `noisy mode - symbol prompts on`).
func TestSymWording(t *testing.T) {
	c, out := newCtx(t)
	for _, tc := range [][2]string{
		{"!sym", "!sym <noisy/quiet - prompts/prompts off> - quiet mode - symbol prompts on\n"},
		{"!sym noisy", "noisy mode - symbol prompts on\n"},
		{"!sym", "!sym <noisy/quiet - prompts/prompts off> - noisy mode - symbol prompts on\n"},
		{"!sym quiet", "quiet mode - symbol prompts on\n"},
		{"!sym prompts off", "quiet mode - symbol prompts off\n"},
		{"!sym quiet", "quiet mode - symbol prompts off\n"},
		{"!sym prompts", "quiet mode - symbol prompts on\n"},
	} {
		if got := run(t, c, out, tc[0]); got != tc[1] {
			t.Errorf("%s: %q, want %q", tc[0], got, tc[1])
		}
	}
}

// extraMem answers reads that fall inside one of its ranges, else the
// dump's memory.
type extraMem struct {
	m     mem.Memory
	extra map[uint64][]byte
}

func (e extraMem) ReadVirtual(b []byte, addr uint64) (int, error) {
	for at, v := range e.extra {
		if addr >= at && addr+uint64(len(b)) <= at+uint64(len(v)) {
			return copy(b, v[addr-at:]), nil
		}
	}
	return e.m.ReadVirtual(b, addr)
}

type extraTarget struct {
	target.Target
	extra map[uint64][]byte
}

func (t extraTarget) AddressSpace(p *target.Process) mem.Memory {
	return extraMem{t.Target.AddressSpace(p), t.extra}
}

// !peb prints `NtGlobalFlag2:` after `NtGlobalFlag:` (windbg-reference.md
// §3.19) for a PEB that has the field: Windows 10 1809 (build 17763) and
// later, at 0x7c4 on x64. tiny-exe-with-cet-xsave.dmp is Windows 11 22000,
// but crashpad copied a shorter PEB, so the test supplies the field's four
// bytes; the 2012 R2 PEB of the hyperv dump (build 9600) has no such field
// and no such line.
func TestPebNtGlobalFlag2(t *testing.T) {
	b, err := os.ReadFile(rd.Path(t, "breakpad/tiny-exe-with-cet-xsave.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.OpenMinidump(bytes.NewReader(b), int64(len(b)), "tiny.dmp")
	if err != nil {
		t.Fatal(err)
	}
	const peb = 0x000000cbc80b8000
	var out bytes.Buffer
	c := &Ctx{S: engine.NewSession(extraTarget{tg, map[uint64][]byte{peb + 0x7c4: {0x40, 0, 0, 0}}}), Out: &out, Host: &fakeHost{}}
	c.SetSymbols(symbols.NewSymbols(tg, ""))
	got := run(t, c, &out, "!peb")
	if !strings.Contains(got, "    NtGlobalFlag:             0\n    NtGlobalFlag2:            40\n    Ldr                       00007ff9112b9120\n") {
		t.Errorf("!peb on Windows 11:\n%s", got)
	}
	hc, hout, _ := hypervCtx(t, nil)
	if got := run(t, hc, hout, "!peb"); !strings.Contains(got, "NtGlobalFlag:") || strings.Contains(got, "NtGlobalFlag2") {
		t.Errorf("!peb on Server 2012 R2:\n%s", got)
	}
}
