package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

var update = flag.Bool("update", false, "rewrite golden transcripts")

var shared = strings.TrimSuffix(rd.Root(), string(filepath.Separator))

const (
	hypervDump   = "testdata/scenarios/hyperv-hang/vmms.dmp"
	hypervSyms   = "testdata/scenarios/hyperv-hang/symbols"
	hypervKernel = "testdata/scenarios/hyperv-hang/kernel.dmp"
)

// goldenCases pairs each dump with the command script in testdata/golden.
var goldenCases = []struct {
	name, dump string
	real       bool
	args       []string
}{
	{"sigsegv", shared + "/lldb/sigsegv.dmp", true, []string{"-lines", "-y", shared + "/lldb/sigsegv.pdb"}},
	{"tiny-xsave", shared + "/breakpad/tiny-exe-with-cet-xsave.dmp", true, nil},
	{"tiny-xsave-triage", shared + "/breakpad/tiny-exe-with-cet-xsave.dmp", true, nil},
	{"minidump2", shared + "/breakpad/minidump2.dmp", true, nil},
	{"thread_name_list", shared + "/breakpad/thread_name_list.dmp", true, nil},
	{"demo", "testdata/demo/demo.dmp", false, []string{"-lines", "-y", "testdata/fixtures/bin"}},
	{"x86fpo", "testdata/demo/x86.dmp", false, []string{"-lines", "-y", "testdata/fixtures/bin"}},
	{"x86msvc", "testdata/demo/x86msvc.dmp", false, []string{"-lines", "-y", "testdata/fixtures/bin/x86msvc"}},
	{"kernel-header-19045", shared + "/kernel/full-header-19045.dmp", true, nil},
	{"hyperv-seed", hypervDump, false, []string{"-y", hypervSyms}},
	{"hyperv-locks", hypervDump, false, []string{"-y", hypervSyms}},
	{"hyperv-pair", hypervDump, false, []string{"-z", hypervKernel, "-y", hypervSyms}},
	{"hyperv-kernel-seed", hypervKernel, false, []string{"-y", hypervSyms}},
	{"hyperv-kernel-more", hypervKernel, false, []string{"-y", hypervSyms}},
	{"hyperv-ndis-seed", hypervKernel, false, []string{"-y", hypervSyms}},
	{"hyperv-ndis-more", hypervKernel, false, []string{"-y", hypervSyms}},
	{"analyze-sigsegv", shared + "/lldb/sigsegv.dmp", true, []string{"-y", shared + "/lldb/sigsegv.pdb"}},
	{"analyze-minidump2", shared + "/breakpad/minidump2.dmp", true, nil},
	{"analyze-hyperv-hang", hypervDump, false, []string{"-y", hypervSyms}},
	{"analyze-hyperv-kernel", hypervKernel, false, []string{"-y", hypervSyms}},
}

// transcript runs ntdbg on a dump with a command script on stdin, as
// `ntdbg -z dump < script` would.
func transcript(t *testing.T, dump, script string, extra ...string) (string, int) {
	t.Helper()
	t.Setenv("_NT_SYMBOL_PATH", "")
	t.Setenv("_NT_ALT_SYMBOL_PATH", "")
	t.Setenv("_NT_EXECUTABLE_IMAGE_PATH", "")
	var out, errb bytes.Buffer
	args := append([]string{"-z", dump}, extra...)
	code := run(args, strings.NewReader(script), &out, &errb)
	if errb.Len() > 0 {
		t.Logf("stderr: %s", errb.String())
	}
	return out.String(), code
}

func TestGoldenTranscripts(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.real {
				if _, err := os.Stat(tc.dump); err != nil {
					t.Skipf("%s not present", tc.dump)
				}
			}
			script, err := os.ReadFile(filepath.Join("testdata/golden", tc.name+".cmds"))
			if err != nil {
				t.Fatal(err)
			}
			got, code := transcript(t, tc.dump, string(script), tc.args...)
			if code != 0 {
				t.Fatalf("exit code %d", code)
			}
			path := filepath.Join("testdata/golden", tc.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (go test -update rewrites it):\n%s", path, firstDiff(string(want), got))
			}
		})
	}
}

// firstDiff shows the first differing line of two transcripts.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(same lines, different bytes)"
}

// Everything printed while a log is open reaches the file, whether the
// session ends with q or with the end of stdin.
func TestLogKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	for _, ending := range []string{"q\n", ""} {
		logPath := filepath.Join(dir, "session.log")
		out, code := transcript(t, "testdata/demo/demo.dmp", "~\nr\n.echo last line\n"+ending, "-logo", logPath)
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		data, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(out, "Closing open log file "+logPath+"\n")
		if string(data) != want {
			t.Errorf("ending %q: log differs from what was printed:\n%s", ending, firstDiff(want, string(data)))
		}
		if !strings.Contains(string(data), "0:000> .echo last line\nlast line\n") {
			t.Errorf("log lacks the last command")
		}
	}
	// .logopen in the middle, .logclose, then more output that must not be logged.
	logPath := filepath.Join(dir, "mid.log")
	transcript(t, "testdata/demo/demo.dmp", ".echo before\n.logopen "+logPath+"\n.echo inside\n.logclose\n.echo after\n")
	data, _ := os.ReadFile(logPath)
	if got := string(data); got != "Opened log file '"+logPath+"'\n0:000> .echo inside\ninside\n0:000> .logclose\n" {
		t.Errorf("mid-session log: %q", got)
	}
}

func TestBadDumpsGetAClearMessage(t *testing.T) {
	dir := t.TempDir()
	demo, _ := os.ReadFile("testdata/demo/demo.dmp")
	pdbFile, _ := os.ReadFile("testdata/fixtures/bin/nsi.pdb")
	peFile, _ := os.ReadFile("testdata/fixtures/bin/nsi.dll")
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(i*131 + i/7*17 + 0x5a)
	}
	// Each file gets one line on stderr: what it is, and what was expected.
	cases := map[string]string{
		"empty.dmp":     "the file is empty, not a minidump (MDMP) or kernel dump (PAGEDU64)",
		"kernel.dmp":    "kdump: DUMP_HEADER64 at offset 0xf98: DumpType 0x0 (DumpType(0x0)) is not one this reader knows",
		"image.dmp":     "a PE image (MZ), not a minidump (MDMP) or kernel dump (PAGEDU64)",
		"symbols.dmp":   "a PDB (Microsoft C/C++ MSF), not a minidump (MDMP) or kernel dump (PAGEDU64)",
		"random.dmp":    "unknown signature \"Z.`.\", not a minidump (MDMP) or kernel dump (PAGEDU64)",
		"truncated.dmp": "minidump: MINIDUMP_HEADER at offset 0x8: stream count 8 does not fit in a 48-byte file",
	}
	data := map[string][]byte{"empty.dmp": {}, "kernel.dmp": append([]byte("PAGEDU64"), make([]byte, 0x2000)...),
		"image.dmp": peFile, "symbols.dmp": pdbFile, "random.dmp": random, "truncated.dmp": demo[:0x30]}
	for name, want := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data[name], 0o644)
		var out, errb bytes.Buffer
		code := run([]string{"-z", p}, strings.NewReader("q\n"), &out, &errb)
		msg := errb.String()
		if code == 0 || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "ntdbg: Could not open dump file ["+p+"]: ") || !strings.Contains(msg, want) {
			t.Errorf("%s: exit %d, stderr %q; want one line with %q", name, code, msg, want)
		}
	}
	// A dump cut inside its memory data still opens; what is missing reads as ??.
	p := filepath.Join(dir, "short-memory.dmp")
	os.WriteFile(p, demo[:len(demo)-0x3000], 0o644)
	out, code := transcript(t, p, "~\ndq @rsp L2\nq\n")
	if code != 0 || !strings.Contains(out, "runs past the end of the file") || !strings.Contains(out, "00000092`cf3ffd58  00007fff`97c01024") {
		t.Errorf("short memory: exit %d\n%s", code, out)
	}
}

// With no dump, and with -demo user, ntdbg opens the bundled Hyper-V dump
// with its symbols from inside the binary, and writes nothing to disk.
func TestBundledDump(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("_NT_SYMBOL_PATH", "")
	t.Setenv("_NT_ALT_SYMBOL_PATH", "")
	for _, args := range [][]string{nil, {"-demo", "user"}} {
		var out, errb bytes.Buffer
		code := run(args, strings.NewReader("~\nlm m ntdll\n!cs -l\nq\n"), &out, &errb)
		o := out.String()
		if code != 0 || !strings.Contains(o, "opening the bundled dump testdata/scenarios/hyperv-hang/vmms.dmp with its bundled symbols") ||
			strings.Count(o, "  Id: c08.") != 183 || !strings.Contains(o, "(private pdb symbols)  bundled:symbols/ntdll.pdb/") ||
			!strings.Contains(o, "OwningThread       = 0x00000000000043d8") {
			t.Errorf("%v: exit %d:\n%s%s", args, code, o, errb.String())
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the bundled session wrote %v to the temporary folder", left)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-demo", "kernelx"}, strings.NewReader(""), &out, &errb); code != 2 || !strings.Contains(errb.String(), `no bundled dump named "kernelx"`) {
		t.Errorf("unknown bundle: exit %d %q", code, errb.String())
	}
}

// The committed dumps are what the generator writes today.
func TestDemoDumpIsGenerated(t *testing.T) {
	data, _ := os.ReadFile("testdata/demo/demo.dmp")
	if !bytes.Equal(data, demoBytes()) {
		t.Fatal("testdata/demo/demo.dmp is stale: run go run ./testdata/gen/cmd")
	}
	data, _ = os.ReadFile("testdata/demo/x86.dmp")
	if !bytes.Equal(data, x86Bytes()) {
		t.Fatal("testdata/demo/x86.dmp is stale: run go run ./testdata/gen/cmd")
	}
	data, _ = os.ReadFile("testdata/demo/x86msvc.dmp")
	if !bytes.Equal(data, x86MSVCBytes()) {
		t.Fatal("testdata/demo/x86msvc.dmp is stale: run go run ./testdata/gen/cmd")
	}
}

func TestHostileNamesAreEscaped(t *testing.T) {
	d := hostileDump()
	p := filepath.Join(t.TempDir(), "hostile.dmp")
	os.WriteFile(p, d, 0o644)
	out, _ := transcript(t, p, "~\nlm\nlmv\nq\n")
	if strings.ContainsAny(out, "\x1b\x07\u009b") {
		t.Fatalf("control characters reached the output:\n%q", out)
	}
	if !strings.Contains(out, `evil\x1b]0;owned\x07`) || !strings.Contains(out, `"name\x1b[2J"`) || !strings.Contains(out, `"c1\x9b2J"`) {
		t.Errorf("escaped names missing:\n%s", out)
	}
}

// x86 kv and kf as the k page lays them out
// (../shared/docs/msdocs/debuggercmds/k--kb--kc--kd--kp--kp--kv--display-stack-backtrace-.md and
// windbg-reference.md's k section): kv's `(FPO: ...)` follows the call site,
// before the source line, and a frame without a symbol (module+offset) gets
// none; kf has the Memory column, the bytes between adjacent ChildEBPs.
func TestX86KvAndKfLayout(t *testing.T) {
	out, code := transcript(t, "testdata/demo/x86msvc.dmp", ".ecxr\nkv\nkf\nq\n", "-lines", "-y", "testdata/fixtures/bin/x86msvc")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	mustContain(t, out, "crash!main+0x2c (FPO: [2,72,1]) (CONV: cdecl) [d:\\ntdbg\\fixtures\\src\\x86msvc\\crash_main.S @ 38] \n", "kv: FPO before the line")
	mustContain(t, out, " #   Memory  ChildEBP RetAddr  \n00           00cfff94 00401044 crash!main+0x2c", "kf header and frame 0")
	mustContain(t, out, "\n01        18 00cfffac 00401065 crash!__scrt_common_main_seh+0x14", "kf: 00cfffac-00cfff94")
	out, _ = transcript(t, "testdata/demo/x86msvc.dmp", ".ecxr\nkv\nq\n", "-y", t.TempDir())
	mustContain(t, out, "00000000 crash+0x109c\n", "kv: no FPO text on a frame without a symbol")
}
