package commands

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	rd "github.com/ntdbg/ntdbg/internal/realdumps"
	"github.com/ntdbg/ntdbg/testdata/gen/demo"
)

type fakeHost struct {
	log  string
	quit bool
}

func (h *fakeHost) Prompt() string { return "0:000> " }
func (h *fakeHost) OpenLog(p string, a bool) (string, error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return "", err
	}
	f.Close()
	h.log = p
	return p, nil
}
func (h *fakeHost) CloseLog() (string, bool) { l := h.log; h.log = ""; return l, l != "" }
func (h *fakeHost) LogName() (string, bool)  { return h.log, h.log != "" }
func (h *fakeHost) Quit()                    { h.quit = true }
func (h *fakeHost) Clear()                   {}

func newCtx(t testing.TB) (*Ctx, *bytes.Buffer) {
	data := demo.Build().Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "demo.dmp")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := &Ctx{S: engine.NewSession(tg), Out: &out, Host: &fakeHost{}}
	c.SetSymbols(symbols.NewSymbols(tg, demo.FixtureDir()))
	return c, &out
}

func run(t *testing.T, c *Ctx, out *bytes.Buffer, line string) string {
	t.Helper()
	out.Reset()
	c.Execute(line)
	return out.String()
}

func TestEvaluate(t *testing.T) {
	c, _ := newCtx(t)
	c.S.SetThread(4)
	cases := map[string]uint64{
		"10":                          0x10,
		"0n10":                        10,
		"0t17":                        15,
		"0y101":                       5,
		"0x":                          0,
		"4ab3h":                       0x4ab3,
		"00007ff7`765ae000":           0x00007ff7765ae000,
		"1+2*3":                       7,
		"(1+2)*3":                     9,
		"10/3":                        5,
		"10%3":                        1,
		"1<<4|1":                      0x11,
		"0ff&0f0^1":                   0xf1,
		"-1":                          0xffffffffffffffff,
		"~0":                          0xffffffffffffffff,
		"-8>>>1":                      0xfffffffffffffffc,
		"3==3":                        1,
		"2<1":                         0,
		"hi(12345678)":                0x1234,
		"low(12345678)":               0x5678,
		"@rcx":                        0x1b48,
		"@cl":                         0x48,
		"@$tid":                       0x43d8,
		"$tid":                        0x43d8,
		"@$teb":                       0x00007ff776460000,
		"poi(@$teb+8)":                0x00000092d1e00000,
		"dwo(00000092`cf31fb38+0x10)": 0x43d8,
		"wo(00000092`cf31fb38+0x10)":  0x43d8,
		"by(00000092`cf31fb38+0x10)":  0xd8,
		"qwo(00000092`cf31fb38)":      0x00000092cfd20960,
		"ntdll":                       0x00007fff97c00000,
		"NTDLL+10":                    0x00007fff97c00010,
		"vmms + 0n16":                 0x00007ff776a40010,
		".":                           0x00007fff97c010cd,
	}
	for expr, want := range cases {
		got, err := c.Eval(expr)
		if err != nil || got != want {
			t.Errorf("%s = %#x (%v), want %#x", expr, got, err, want)
		}
	}
}

func TestErrorsAsWinDbgPrintsThem(t *testing.T) {
	c, out := newCtx(t)
	cases := []struct{ line, want string }{
		{"r rcs", "           ^ Bad register error in 'r rcs'\n"},
		{"r rsp+28", "           ^ Syntax error in 'r rsp+28'\n"},
		{"? foo+1", "Couldn't resolve error at 'foo+1'\n"},
		{"? 1+poi(0)", "Memory access error at ')'\n"},
		{"? @foo", "Bad register error at '@foo'\n"},
		{"? 1/0", "Divide by zero error at '0'\n"},
		{"~99s", "         ^ Illegal thread error in '~99s'\n"},
		{"!mimikatz", "mimikatz is not extension gallery command\nNo export mimikatz found\n"},
		{"!ndiskd.nosuch", "No export nosuch found\n"},
		{".querypackages", "                    ^ Syntax error in '.querypackages'\n"},
		{"zzz", "         ^ Syntax error in 'zzz'\n"},
		{"dq 0 L2", "00000000`00000000  ????????`???????? ????????`????????\n"},
	}
	for _, tc := range cases {
		if got := run(t, c, out, tc.line); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.line, got, tc.want)
		}
	}
}

func TestChainingAndComments(t *testing.T) {
	c, out := newCtx(t)
	got := run(t, c, out, `.echo one; .echo "two; still two"; $$ note; ? 1 ; * rest ; .echo hidden`)
	want := "one\ntwo; still two\nEvaluate expression: 1 = 00000000`00000001\n"
	if got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestThreadPrefixes(t *testing.T) {
	c, out := newCtx(t)
	got := run(t, c, out, "~~[43d8]s")
	if c.S.CurThread != 4 || !strings.Contains(got, "ntdll!NtDeviceIoControlFile+0xa:") {
		t.Fatalf("~~[43d8]s: thread %d, %q", c.S.CurThread, got)
	}
	got = run(t, c, out, "~1 r rip")
	if got != "rip=00007fff97c010c2\n" || c.S.CurThread != 4 {
		t.Errorf("~1 r rip: %q, thread %d", got, c.S.CurThread)
	}
	got = run(t, c, out, "~* r rcx")
	if strings.Count(got, "rcx=0000000000001b48") != 5 || strings.Count(got, "\n\n") != 4 {
		t.Errorf("~* r rcx: %q", got)
	}
	got = run(t, c, out, "~.")
	if got != ".  4  Id: c08.43d8 Suspend: 1 Teb: 00007ff7`76460000 Unfrozen\n" {
		t.Errorf("~.: %q", got)
	}
	if got := run(t, c, out, "~[1+1]s"); c.S.CurThread != 2 {
		t.Errorf("~[1+1]s: %q thread %d", got, c.S.CurThread)
	}
}

func TestPanicIsCaught(t *testing.T) {
	c, out := newCtx(t)
	c.Registry = Default()
	c.Registry.Add("boom", &Command{Name: "boom", Run: func(*Ctx, *Invocation) error { panic("kaboom") }})
	got := run(t, c, out, "!boom; .echo after")
	if !strings.Contains(got, "internal error in '!boom': kaboom") || !strings.HasSuffix(got, "after\n") {
		t.Errorf("got %q", got)
	}
}

func TestScriptsGoOnAfterErrors(t *testing.T) {
	c, out := newCtx(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "s.txt")
	os.WriteFile(script, []byte(".echo first\nr rcs\n.echo third\n"), 0o644)
	got := run(t, c, out, "$<"+script)
	want := "0:000> .echo first\nfirst\n0:000> r rcs\n           ^ Bad register error in 'r rcs'\n0:000> .echo third\nthird\n"
	if got != want {
		t.Errorf("$<:\n got %q\nwant %q", got, want)
	}
	got = run(t, c, out, "$><"+script)
	if !strings.HasPrefix(got, "0:000> .echo first;r rcs;.echo third\nfirst\n") || !strings.HasSuffix(got, "third\n") {
		t.Errorf("$><: %q", got)
	}
	os.WriteFile(script, []byte("$<"+script+"\n"), 0o644)
	if got := run(t, c, out, "$<"+script); !strings.Contains(got, "nesting too deep") {
		t.Errorf("recursive script: %q", got[len(got)-200:])
	}
	if got := run(t, c, out, "$<"+filepath.Join(dir, "missing")); !strings.Contains(got, "Couldn't open script file") {
		t.Errorf("missing script: %q", got)
	}
}

func TestLogOpenFailureKeepsGoing(t *testing.T) {
	c, out := newCtx(t)
	got := run(t, c, out, ".logopen /nonexistent/dir/x.log; .echo still here")
	if !strings.HasPrefix(got, "Unable to open log file '/nonexistent/dir/x.log'") || !strings.HasSuffix(got, "still here\n") {
		t.Errorf("got %q", got)
	}
}

func TestDisplayFormats(t *testing.T) {
	c, out := newCtx(t)
	got := run(t, c, out, "db 00000092`cf31fb38 L12")
	want := "00000092`cf31fb38  60 09 d2 cf 92 00 00 00-5e fe ff ff 01 00 00 00  `.......^.......\n" +
		"00000092`cf31fb48  d8 43                                            .C\n"
	if got != want {
		t.Errorf("db:\n got %q\nwant %q", got, want)
	}
	got = run(t, c, out, "dd 00000092`cf31fb38 L5")
	want = "00000092`cf31fb38  cfd20960 00000092 fffffe5e 00000001\n00000092`cf31fb48  000043d8\n"
	if got != want {
		t.Errorf("dd: %q", got)
	}
	got = run(t, c, out, "dw 00000092`cf31fb38 00000092`cf31fb3e")
	if got != "00000092`cf31fb38  0960 cfd2 0092 0000\n" {
		t.Errorf("dw range: %q", got)
	}
	// A bare d* continues where the last one stopped.
	got = run(t, c, out, "dw")
	if !strings.HasPrefix(got, "00000092`cf31fb40  fe5e ffff 0001 0000 43d8 0000") {
		t.Errorf("dw continuation: %q", got)
	}
	got = run(t, c, out, "dp 00000092`cf31fb38 L1")
	if got != "00000092`cf31fb38  00000092`cfd20960\n" {
		t.Errorf("dp: %q", got)
	}
}

// A toy extension on a fresh registry: it dispatches under !toy.cmd and
// !cmd, is listed by .help and in the generated docs with its full help,
// is refused on a target that lacks what it needs, and the core registry
// never sees it.
func TestToyExtension(t *testing.T) {
	c, out := newCtx(t)
	c.Registry = Default()
	err := c.Registry.Add("toy",
		&Command{Name: "hello", Syntax: "!toy.hello [Name]", Summary: "say hello", Help: "The toy's full help text.",
			Run: func(c *Ctx, inv *Invocation) error { c.Printf("hello%s\n", inv.Args); return nil }},
		&Command{Name: "kern", Syntax: "!toy.kern", Summary: "needs a kernel dump", Needs: Needs{Kernel: true},
			Run: func(c *Ctx, inv *Invocation) error { c.Println("ran"); return nil }},
		&Command{Name: "ndisonly", Syntax: "!toy.ndisonly", Summary: "needs NDIS symbols", Needs: Needs{Module: "ndis"},
			Run: func(c *Ctx, inv *Invocation) error { c.Println("ran"); return nil }},
		&Command{Name: "teb", Syntax: "!toy.teb", Summary: "shadowed by the core !teb",
			Run: func(c *Ctx, inv *Invocation) error { c.Println("toy teb"); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	for cmd, want := range map[string]string{
		"!toy.hello world": "hello world\n",
		"!hello there":     "hello there\n",
		"!toy.teb":         "toy teb\n",
		"!toy.kern":        "!toy.kern: this extension can only be used when debugging a kernel-mode target (this is a user-mode dump)\n",
		"!toy.ndisonly":    "!toy.ndisonly: module ndis is not loaded\n",
		"!toy.nosuch":      "No export nosuch found\n",
	} {
		if got := run(t, c, out, cmd); got != want {
			t.Errorf("%s: %q, want %q", cmd, got, want)
		}
	}
	if got := run(t, c, out, "!teb"); strings.Contains(got, "toy teb") {
		t.Error("the extension's teb replaced the core !teb")
	}
	help := run(t, c, out, ".help")
	if !strings.Contains(help, fmt.Sprintf("%-22s - %s\n", "!toy.hello, !hello", "say hello")) {
		t.Errorf(".help does not list the extension:\n%s", help)
	}
	if got := run(t, c, out, ".hh !toy.hello"); !strings.Contains(got, "The toy's full help text.") {
		t.Errorf(".hh: %q", got)
	}
	md := c.Registry.Markdown()
	for _, want := range []string{"## extension toy", "| `!toy.hello, !hello` | `!toy.hello [Name]` | say hello |", "The toy's full help text.", "Needs a kernel dump.", "Needs symbols of ndis."} {
		if !strings.Contains(md, want) {
			t.Errorf("generated docs lack %q", want)
		}
	}
	// The core registry is untouched.
	if Lookup("!toy.hello") != nil || Lookup("!hello") != nil || Default().Lookup("!toy.hello") != nil || strings.Contains(Markdown(), "toy") {
		t.Error("the core registry sees the toy extension")
	}
	if err := c.Registry.Add("toy2", &Command{Name: "x"}, &Command{Name: "x"}); err == nil {
		t.Error("a duplicate extension command was accepted")
	}
}

func TestHelpCoversRegistry(t *testing.T) {
	c, out := newCtx(t)
	got := run(t, c, out, ".help")
	// Every command has its own line: its names, padded, then " - " and its summary.
	lines := map[string]bool{}
	for _, l := range strings.Split(got, "\n") {
		lines[l] = true
	}
	for _, cmd := range Commands() {
		if want := fmt.Sprintf("%-22s - %s", cmd.title(), cmd.Summary); !lines[want] {
			t.Errorf(".help lacks the line %q", want)
		}
	}
	got = run(t, c, out, ".hh kcn")
	if got == "" {
		t.Error(".hh kcn printed nothing")
	}
	got = run(t, c, out, ".hh lmvm")
	if !strings.HasPrefix(got, "lm[v]") {
		t.Errorf(".hh lmvm: %q", got)
	}
}

const outputCapMsg = "fuzz output cap reached"

// cappedOutput stops a command that prints more than 1 MB by panicking;
// the dispatcher's recover ends the command at once.
type cappedOutput struct {
	bytes.Buffer
	capped bool
}

func (o *cappedOutput) Write(p []byte) (int, error) {
	if o.capped {
		return len(p), nil // the rest, including the report, is dropped
	}
	if o.Len()+len(p) > 1<<20 {
		o.capped = true
		o.Buffer.WriteString(outputCapMsg)
		panic(outputCapMsg)
	}
	return o.Buffer.Write(p)
}

var bigCount = regexp.MustCompile("(?i)(l\\??-?|k |k[a-z]* )[0-9a-f`]{5,}")

func FuzzExecute(f *testing.F) {
	for _, s := range []string{"r", "~*r rip", "dq @rsp L?100", "? poi(poi(@$teb))", "lmvm n*", "~~[0n3080]s", ".formats -1", "db 0 1", "du @rsp",
		"~*kcn", "kb 3", "dt -r _TEB @$teb", "u ntdll!RtlEnterCriticalSection", "ub @rip L4", "uf nsi!NsiAllocateAndGetTable", "x vmms!*", "ln @rip", ".frame /r 2", "dt vmms!g_VmLock",
		"!cs", "!cs -lso", "!cs @rsp @rsp+0x2000", "!cs -d @rsp", "!locks -v", "!critsec @rsp", "!findstack ntdll 2", "!uniqstack -c", "!runaway 7"} {
		f.Add(s)
	}
	c, _ := newCtx(f)
	f.Fuzz(func(t *testing.T, line string) {
		if strings.Contains(line, "$<") || strings.Contains(line, "$><") || strings.Contains(line, ".log") {
			return // no file system from the fuzzer
		}
		if bigCount.MatchString(line) {
			return // megabytes of output are allowed, just slow
		}
		out := &cappedOutput{}
		c.Out = out
		c.Execute(line)
		// A recovered panic keeps the session alive, but it is still a bug
		// (the output cap's own panic aside: a legal 256 MB display).
		if s := out.String(); strings.Contains(s, "ntdbg: internal error") && !strings.Contains(s, outputCapMsg) {
			t.Fatalf("%q panicked:\n%s", line, s)
		}
	})
}

// FuzzDumpSession opens arbitrary bytes as a dump and runs a fixed script
// over it: a damaged dump may give errors, never a panic.
func FuzzDumpSession(f *testing.F) {
	d := demo.Build()
	d.Memory = d.Memory[:3]
	f.Add(d.Bytes())
	for _, p := range []string{"breakpad/minidump2.dmp", "lldb/fizzbuzz_no_heap.dmp"} {
		if b, err := os.ReadFile(rd.Root() + p); err == nil {
			f.Add(b)
		}
	}
	script := []string{"~", "~*", "r", "lm", "lmv", "k", "~*kcn 8", "kb 4", "!teb", "!peb", ".lastevent", ".exr -1", ".ecxr",
		"k", "dq @$csp L4", "db @$ip L10", "u @$ip L3", "ub @$ip L2", "dt _TEB", "x *!*", "ln @$ip", ".dumpdebug", "vertarget", "|", "||",
		"!cs @$csp", "!cs @$csp @$csp+0x400", "!locks", "!runaway 7", "!uniqstack -c", "!findstack ntdll 1"}
	f.Fuzz(func(t *testing.T, data []byte) {
		tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "fuzz.dmp")
		if err != nil {
			return
		}
		var out bytes.Buffer
		c := &Ctx{S: engine.NewSession(tg), Out: &out, Host: &fakeHost{}}
		c.SetSymbols(symbols.NewSymbols(tg, ""))
		c.Banner("", "")
		for _, line := range script {
			c.Execute(line)
		}
		if strings.Contains(out.String(), "ntdbg: internal error") {
			t.Fatalf("panic:\n%s", out.String())
		}
	})
}

// Source lines are off until .lines turns them on, as in cdb
// (msdocs -lines--toggle-source-line-support-.md: console debuggers start
// with them off).
func TestLinesToggle(t *testing.T) {
	c, out := newCtx(t)
	c.S.SetThread(4)
	if got := run(t, c, out, "kcn 2"); strings.Contains(got, " @ ") {
		t.Fatalf("source lines while off:\n%s", got)
	}
	if got := run(t, c, out, ".lines"); got != "Line number information will be loaded\n" {
		t.Fatalf(".lines: %q", got)
	}
	if got := run(t, c, out, "kcn 2"); !regexp.MustCompile(`\[[^\]]+ @ \d+\] \n`).MatchString(got) {
		t.Fatalf("no source lines while on:\n%s", got)
	}
	if got := run(t, c, out, ".lines -d"); got != "Line number information will not be loaded\n" {
		t.Fatalf(".lines -d: %q", got)
	}
	if got := run(t, c, out, ".lines -x"); !strings.Contains(got, "Syntax error") {
		t.Fatalf(".lines -x: %q", got)
	}
}

// A search path is one argument, `;` included (issue 10): `.sympath a;b`
// sets both, and the expanded path is lower case as WinDbg prints it.
func TestSympathTakesTheRestOfTheLine(t *testing.T) {
	c, out := newCtx(t)
	got := run(t, c, out, ".sympath SRV*C:\\Sym*https://msdl.microsoft.com/download/symbols;C:\\MyBuild")
	if !strings.Contains(got, "Symbol search path is: SRV*C:\\Sym*https://msdl.microsoft.com/download/symbols;C:\\MyBuild\n") ||
		!strings.Contains(got, "Expanded Symbol search path is: srv*c:\\sym*https://msdl.microsoft.com/download/symbols;c:\\mybuild\n") {
		t.Errorf(".sympath:\n%s", got)
	}
	got = run(t, c, out, ".sympath+ a;b")
	if !strings.Contains(got, ";C:\\MyBuild;a;b\n") || strings.Contains(got, "Syntax error") {
		t.Errorf(".sympath+:\n%s", got)
	}
	// Other commands still chain.
	if got := run(t, c, out, ".echo one; .echo two"); got != "one\ntwo\n" {
		t.Errorf("chaining: %q", got)
	}
}

// ln names an address as k, r and u do (issue 10: one nearest-symbol
// rule): every frame of every demo thread.
func TestLnAgreesWithK(t *testing.T) {
	c, out := newCtx(t)
	for i := range c.S.Target.Threads() {
		c.S.SetThread(i)
		frames, err := c.frames(0x20)
		if err != nil {
			continue
		}
		for _, f := range frames {
			name := c.symbolize(f.IP)
			if name == "" || !strings.Contains(name, "!") {
				continue
			}
			got := run(t, c, out, fmt.Sprintf("ln %x", f.IP))
			if !strings.Contains(got, ")   "+name+"   |") && !strings.Contains(got, ")   "+name+"\n") {
				t.Errorf("thread %d: u/k say %s, ln says:\n%s", i, name, got)
			}
		}
	}
}

// .formats reads FILETIMEs past 2262 (issue 10: WinDbg prints year 28163
// for 0x74536d4d03880000) and prints the unsigned decimal.
func TestFormatsFarFiletime(t *testing.T) {
	c, out := newCtx(t)
	got := run(t, c, out, ".formats 0x74536d4d03880000")
	if !strings.Contains(got, " 28163") || !strings.Contains(got, "  Decimal (unsigned) : 8382163509005778944\n") {
		t.Errorf(".formats:\n%s", got)
	}
	if got := run(t, c, out, ".formats -1"); !strings.Contains(got, "  Decimal: -1\n  Decimal (unsigned) : 18446744073709551615\n") {
		t.Errorf(".formats -1:\n%s", got)
	}
}

// !error and .exr on memory the dump lacks (issue 10).
func TestErrorAndExr(t *testing.T) {
	c, out := newCtx(t)
	for cmd, want := range map[string]string{
		"!error 2":          "Error code: (Win32) 0x2 (2) - The system cannot find the file specified.\n",
		"!error 0xc0000034": "Error code: (NTSTATUS) 0xc0000034 (3221225524) - Object Name not found.\n",
		".exr 1234":         "Cannot read Exception record @ 00000000`00001234",
	} {
		if got := run(t, c, out, cmd); !strings.Contains(got, want) {
			t.Errorf("%s: %q", cmd, got)
		}
	}
}

// da shows an unprintable byte as `.`, and dW is dw with dc's ASCII column
// (issue 10; msdocs/debuggercmds/d--da--db--dc--dd--dd--df--dp--dq--du--dw--dw--dyb--dyd--display-memor.md:
// "dW  Word values (2 bytes) and ASCII characters").
func TestDaAndDW(t *testing.T) {
	c, out := newCtx(t)
	if got := run(t, c, out, "da 00000092`cf31fb38"); got != "00000092`cf31fb38  \"`....\"\n" {
		t.Errorf("da: %q", got)
	}
	want := "00000092`cf31fb38  0960 cfd2 0092 0000 fe5e ffff 0001 0000  `.......^.......\n" +
		"00000092`cf31fb48  43d8 0000                                .C..\n"
	if got := run(t, c, out, "dW 00000092`cf31fb38 La"); got != want {
		t.Errorf("dW:\n got %q\nwant %q", got, want)
	}
	if got := run(t, c, out, "dw 00000092`cf31fb38 L2"); got != "00000092`cf31fb38  0960 cfd2\n" {
		t.Errorf("dw stays without ASCII: %q", got)
	}
}

// dD, df, dyb, dyd, ds and dS (issue 10). Layouts and default counts:
// msdocs/debuggercmds/d--da--db--dc--dd--dd--df--dp--dq--du--dw--dw--dyb--dyd--display-memor.md
// (dD 15 numbers, df 16, dyb 32 bytes, dyd 8 double words) and
// ds--ds--display-string-.md. The bytes at cf31fb38 are
// 60 09 d2 cf 92 00 00 00 5e fe ff ff 01 00 00 00 (see TestDisplayFormats).
func TestDisplayFloatsBinaryAndStrings(t *testing.T) {
	c, out := newCtx(t)
	got := run(t, c, out, "dyb 00000092`cf31fb38 L5")
	want := "                   76543210 76543210 76543210 76543210\n" +
		"                   -------- -------- -------- --------\n" +
		"00000092`cf31fb38  01100000 00001001 11010010 11001111  60 09 d2 cf\n" +
		"00000092`cf31fb3c  10010010                             92\n"
	if got != want {
		t.Errorf("dyb:\n got %q\nwant %q", got, want)
	}
	got = run(t, c, out, "dyd 00000092`cf31fb38 L1")
	if !strings.HasSuffix(got, "00000092`cf31fb38  11001111 11010010 00001001 01100000  cfd20960\n") {
		t.Errorf("dyd: %q", got)
	}
	// 0x00000001 as a float is the smallest denormal, printed as the C
	// runtime does (three exponent digits).
	if got := run(t, c, out, "df 00000092`cf31fb44 L1"); got != "00000092`cf31fb44    1.401298e-045\n" {
		t.Errorf("df: %q", got)
	}
	if got := run(t, c, out, "dD 00000092`cf31fb38"); strings.Count(got, "\n") != 5 {
		t.Errorf("dD prints 15 doubles on 5 lines by default: %q", got)
	}
	// A bare d repeats dD, not dd (the names differ in case only).
	if got := run(t, c, out, "d"); !strings.HasPrefix(got, "00000092`cf31fbb0 ") || strings.Count(got, "\n") != 5 {
		t.Errorf("d after dD: %q", got)
	}
	got = run(t, c, out, "dS poi(@$peb+20)+60")
	if !strings.HasSuffix(got, "  \"C:\\Windows\\system32\\vmms.exe\"\n") {
		t.Errorf("dS: %q", got)
	}
	// The same UTF-16 bytes through ds: the NULs are not shown.
	if got2 := run(t, c, out, "ds poi(@$peb+20)+60"); got2 != got {
		t.Errorf("ds: %q", got2)
	}
}

// dps shows the source line after the symbol when lines are on (issue 10;
// msdocs/debuggercmds/dds--dps--dqs--display-words-and-symbols-.md).
func TestDpsSourceLines(t *testing.T) {
	c, out := newCtx(t)
	if got := run(t, c, out, "dps @rsp L1"); strings.Contains(got, " @ ") {
		t.Errorf("lines are off by default: %q", got)
	}
	run(t, c, out, ".lines -e")
	if got := run(t, c, out, "dps @rsp L1"); !strings.HasSuffix(got, "ntdll!RtlpWaitOnCriticalSection+0x24 [d:\\ntdbg\\fixtures\\src\\ntdll.c @ 107]\n") {
		t.Errorf("dps with lines: %q", got)
	}
}

// dt as real sessions print it (issue 10, which compared ntdbg with WinDbg
// transcripts): signed integers in 0n decimal (msdocs dt--display-type-.md:
// "signed numbers in base 10"), Void after untyped pointers, "(null) " with
// its trailing space, `[4]  ""` for char arrays, dt -v's spelled-out
// pointer, structure and bitfield types, and `dt module!pattern*` listing
// type names (msdocs: "If Name ends with an asterisk (*), a list of all
// matches is displayed").
func TestDtFidelity(t *testing.T) {
	c, out := newCtx(t)
	got := run(t, c, out, "dt ntdll!_RTL_CRITICAL_SECTION 00000092`cf31fb38")
	for _, want := range []string{
		"   +0x008 LockCount        : 0n-418\n",
		"   +0x00c RecursionCount   : 0n1\n",
		"   +0x010 OwningThread     : 0x00000000`000043d8 Void\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("dt _RTL_CRITICAL_SECTION lacks %q:\n%s", want, got)
		}
	}
	got = run(t, c, out, "dt ntdll!_PEB @$peb")
	for _, want := range []string{"   +0x008 Mutant           : (null) \n", "   +0x004 Padding0         : [4]  \"\"\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("dt _PEB lacks %q", want)
		}
	}
	got = run(t, c, out, "dt -v ntdll!_PEB") + run(t, c, out, "dt -v ntdll!_TEB")
	for _, want := range []string{
		"struct _PEB, 12 elements, 0x40 bytes\n",
		"   +0x018 Ldr              : Ptr64 to struct _PEB_LDR_DATA, 6 elements, 0x40 bytes\n",
		"   +0x16b4 SafeThunkCall    : Bitfield Pos 0, 1 Bit\n",
		"   +0x008 Mutant           : Ptr64 to Void\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("dt -v lacks %q", want)
		}
	}
	if got := run(t, c, out, "dt ntdll!_RTL_CRIT*"); got != "          ntdll!_RTL_CRITICAL_SECTION\n          ntdll!_RTL_CRITICAL_SECTION_DEBUG\n" {
		t.Errorf("dt wildcard: %q", got)
	}
	if got := run(t, c, out, "dt ntdll!_NoSuch*"); !strings.Contains(got, "not found") {
		t.Errorf("dt wildcard without a match: %q", got)
	}
}

// kp shows char and wchar_t pointer parameters with their string, and
// unreadable strings as WinDbg's `--- memory read error at address ... ---`
// (issue 10; the golden sigsegv transcript holds the unreadable case).
func TestCharPreview(t *testing.T) {
	c, out := newCtx(t)
	if got := c.charPreview(0, 0x70); got != "0x00000000`00000000" {
		t.Errorf("null char pointer: %q", got)
	}
	peb, _ := c.S.PEB()
	_ = out
	// ImagePathName.Buffer of the process parameters is a wchar_t string.
	buf, err := c.S.ReadPointer(mustPointer(t, c, peb+0x20) + 0x68)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.charPreview(buf, 0x71); !strings.HasSuffix(got, " \"C:\\Windows\\system32\\vmms.exe\"") {
		t.Errorf("wchar_t preview: %q", got)
	}
	if got := c.charPreview(0x1234, 0x70); got != "0x00000000`00001234 \"--- memory read error at address 0x00000000`00001234 ---\"" {
		t.Errorf("unreadable: %q", got)
	}
}

func mustPointer(t *testing.T, c *Ctx, a uint64) uint64 {
	t.Helper()
	v, err := c.S.ReadPointer(a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The same in a script run with $< (issue 10's acceptance: three elements
// and .sympath+, in a session and in a script; msdocs
// -sympath--set-symbol-path-.md: "the ; separates path elements").
func TestSympathInAScript(t *testing.T) {
	c, out := newCtx(t)
	script := filepath.Join(t.TempDir(), "syms.txt")
	body := ".sympath srv*c:\\sym*https://msdl.microsoft.com/download/symbols;d:\\build;e:\\more\n.sympath+ f:\\extra;g:\\last\n.echo done\n"
	if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	got := run(t, c, out, "$<"+script)
	for _, want := range []string{
		"Symbol search path is: srv*c:\\sym*https://msdl.microsoft.com/download/symbols;d:\\build;e:\\more\n",
		"Symbol search path is: srv*c:\\sym*https://msdl.microsoft.com/download/symbols;d:\\build;e:\\more;f:\\extra;g:\\last\n",
		"done\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("script lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "error") {
		t.Errorf("script reported an error:\n%s", got)
	}
}

// A display form typed in another case (Ds, DYB) is the same command, and a
// bare d after it repeats it (FuzzExecute found `Ds` then `D+0` dividing by
// zero).
func TestDisplayFormsInAnyCase(t *testing.T) {
	c, out := newCtx(t)
	if got := run(t, c, out, "DYB 00000092`cf31fb38 L1"); !strings.Contains(got, "01100000") {
		t.Errorf("DYB: %q", got)
	}
	run(t, c, out, "Ds poi(@$peb+20)+60")
	if got := run(t, c, out, "D+0"); strings.Contains(got, "internal error") {
		t.Errorf("D after Ds: %q", got)
	}
}
