package repl

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fatih/color"

	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/testdata/gen/demo"
)

func demoTarget(t *testing.T) target.Target {
	data := demo.Build().Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "demo.dmp")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// Colour goes to the terminal only; the log gets the same text without it.
func TestColourStaysOutOfTheLog(t *testing.T) {
	old := color.NoColor
	color.NoColor = false
	defer func() { color.NoColor = old }()
	var term bytes.Buffer
	logPath := filepath.Join(t.TempDir(), "x.log")
	s := New(Options{DumpPath: "demo.dmp", Target: demoTarget(t), Stdin: strings.NewReader("r rcs\n!nosuch\nq\n"), Stdout: &term,
		Color: true, LogFile: logPath, SymbolPath: demo.FixtureDir()})
	if code := s.Run(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(term.String(), "\x1b[") {
		t.Error("no colour on the terminal")
	}
	log, _ := os.ReadFile(logPath)
	if strings.Contains(string(log), "\x1b") {
		t.Error("colour escapes in the log")
	}
	if !strings.Contains(string(log), "^ Bad register error in 'r rcs'") || !strings.Contains(string(log), "No export nosuch found") {
		t.Errorf("log:\n%s", log)
	}
}

func TestScriptFileAndInitialCommands(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.txt")
	os.WriteFile(script, []byte("~\n.echo from script\n"), 0o644)
	var term bytes.Buffer
	s := New(Options{DumpPath: "demo.dmp", Target: demoTarget(t), Commands: ".echo first; ? 1", ScriptFile: script,
		Stdin: strings.NewReader(".echo from stdin\nq\n"), Stdout: &term})
	s.Run()
	out := term.String()
	for _, want := range []string{"0:000> cdb: Reading initial command '.echo first; ? 1'\nfirst\nEvaluate expression: 1", "0:000> .echo from script\nfrom script",
		"0:000> .echo from stdin\nfrom stdin", "quit:"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Index(out, "from script") > strings.Index(out, "from stdin") {
		t.Error("-cf ran after stdin")
	}
}

func TestDecorateLines(t *testing.T) {
	got := decorateLines("a\nb\n\nc", func(s string) string { return "<" + s + ">" })
	if got != "<a>\n<b>\n<>\n<c>" {
		t.Errorf("%q", got)
	}
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	bar := progressBar(&b)
	bar("ntdll.pdb", 512<<10, 1024<<10)
	bar("ntdll.pdb", 2048, 0)
	bar("ntdll.pdb", -1, 0)
	want := "\rDownloading ntdll.pdb:  50% (512 of 1024 KB)\rDownloading ntdll.pdb: 2 KB\r" + strings.Repeat(" ", 60) + "\r"
	if b.String() != want {
		t.Errorf("%q", b.String())
	}
}

// A log that cannot be written is reported at once, not swallowed.
func TestLogWriteFailureIsReported(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	var term bytes.Buffer
	o := &Output{term: &term}
	if _, err := o.OpenLog("/dev/full", true); err != nil {
		t.Skip(err)
	}
	fmt.Fprintln(o, "0:000> k")
	fmt.Fprintln(o, "more")
	o.CloseLog()
	got := term.String()
	if strings.Count(got, "WARNING: writing log file '/dev/full' failed:") != 1 || !strings.HasPrefix(got, "0:000> k\n") || !strings.HasSuffix(got, "more\n") {
		t.Fatalf("terminal shows:\n%s", got)
	}
	if o.LogErr() == nil {
		t.Fatal("LogErr is nil")
	}
}

// Colour comes from the kind a command gave its output, never from its text;
// the log gets plain text.
func TestColourByKind(t *testing.T) {
	var term bytes.Buffer
	o := &Output{term: &term, Colour: func(k commands.Kind, l string) string { return fmt.Sprintf("<%d>%s</%d>", k, l, k) }}
	log := filepath.Join(t.TempDir(), "x.log")
	if _, err := o.OpenLog(log, false); err != nil {
		t.Fatal(err)
	}
	c := &commands.Ctx{Out: o}
	c.Errorf("Couldn't resolve error at 'x'")
	c.Warnf("WARNING: two\nlines")
	c.Printf("*** ERROR: only text\n")
	o.CloseLog()
	want := "<1>Couldn't resolve error at 'x'</1>\n<2>WARNING: two</2>\n<2>lines</2>\n*** ERROR: only text\n"
	if term.String() != want {
		t.Errorf("terminal %q, want %q", term.String(), want)
	}
	if b, _ := os.ReadFile(log); string(b) != "Couldn't resolve error at 'x'\nWARNING: two\nlines\n*** ERROR: only text\n" {
		t.Errorf("log %q", b)
	}
}

// DML links: underlined and numbered on a terminal that prefers DML,
// `.link N` runs link N, the log gets plain text, and `.prefer_dml 0`
// prints links as text.
func TestDMLLinks(t *testing.T) {
	r := commands.Default()
	err := r.Add("toy", &commands.Command{Name: "links", Syntax: "!toy.links", Summary: "two links",
		Run: func(c *commands.Ctx, inv *commands.Invocation) error {
			c.Link("first", ".echo one")
			c.Printf(" ")
			c.Link("second", ".echo two")
			c.Println()
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	var term bytes.Buffer
	logPath := filepath.Join(t.TempDir(), "dml.log")
	s := New(Options{Registry: r, DumpPath: "demo.dmp", Target: demoTarget(t), Stdout: &term, LogFile: logPath,
		Stdin: strings.NewReader("!toy.links\n.link 2\n.link 9\n.prefer_dml 0\n!toy.links\nq\n")})
	s.SetPreferDML(true)
	if code := s.Run(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	out := term.String()
	for _, want := range []string{"\x1b[4mfirst\x1b[24m[1] \x1b[4msecond\x1b[24m[2]\n", "> .link 2\ntwo\n", "No link 9 in the last output",
		"DML versions of commands off by default", "> !toy.links\nfirst second\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal lacks %q:\n%q", want, out)
		}
	}
	log, _ := os.ReadFile(logPath)
	if strings.Contains(string(log), "\x1b") || !strings.Contains(string(log), "first second\n") {
		t.Errorf("log:\n%q", log)
	}
}

// An empty line repeats the last command; `d*` and `u` go on where they
// stopped (issue 10).
func TestEmptyLineRepeats(t *testing.T) {
	var term bytes.Buffer
	s := New(Options{DumpPath: "demo.dmp", Target: demoTarget(t), Stdout: &term, SymbolPath: demo.FixtureDir(),
		Stdin: strings.NewReader("? 5\n\n~4s\ndq @rsp L2\n\nq\n")})
	if code := s.Run(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	out := term.String()
	if n := strings.Count(out, "Evaluate expression: 5 = 00000000`00000005"); n != 2 {
		t.Errorf("? 5 ran %d times:\n%s", n, out)
	}
	i := strings.Index(out, "> dq @rsp L2\n")
	if i < 0 {
		t.Fatal(out)
	}
	lines := strings.Split(out[i:], "\n")
	// dq L2 prints one line; the repeat goes on 16 bytes further.
	var a, b uint64
	fmt.Sscanf(strings.ReplaceAll(lines[1], "`", ""), "%x", &a)
	fmt.Sscanf(strings.ReplaceAll(lines[3], "`", ""), "%x", &b)
	if a == 0 || b != a+16 {
		t.Errorf("the repeated dq did not continue: %q then %q", lines[1], lines[3])
	}
}

// The output boundary escapes control and invisible characters whatever
// wrote them, in the terminal and the log alike, and leaves text, newlines,
// tabs and backslashes alone (issue 11, finding 1).
func TestOutputEscapesControlCharacters(t *testing.T) {
	var term bytes.Buffer
	o := &Output{term: &term}
	logPath := filepath.Join(t.TempDir(), "x.log")
	if _, err := o.OpenLog(logPath, false); err != nil {
		t.Fatal(err)
	}
	in := "ok\tC:\\x64\\a.dll\n\x1b[2J\x1b]52;c;QQ==\x07 \u202eevil \xff\u0085\n"
	want := "ok\tC:\\x64\\a.dll\n\\x1b[2J\\x1b]52;c;QQ==\\x07 \\u202eevil \\xff\\x85\n"
	if n, err := o.Write([]byte(in)); err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	o.Emit(commands.KindError, "\x1b[31mred\n", "")
	want += "\\x1b[31mred\n"
	o.CloseLog()
	log, _ := os.ReadFile(logPath)
	if term.String() != want || string(log) != want {
		t.Errorf("terminal %q\nlog      %q\nwant     %q", term.String(), log, want)
	}
}

// .logopen: a quoted name keeps its spaces, a log that cannot be opened
// leaves the open one in place (and it goes on recording), and a write
// error is reported once (issue 11, finding 10; msdocs
// -logopen--open-log-file-.md).
func TestLogopenQuotesAndFailures(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "sp ace.log")
	var term bytes.Buffer
	script := ".logopen \"" + first + "\"\n.echo one\n.logopen " + filepath.Join(dir, "no", "such", "dir.log") + "\n.echo two\n.logclose\nq\n"
	s := New(Options{DumpPath: "demo.dmp", Target: demoTarget(t), Stdin: strings.NewReader(script), Stdout: &term, SymbolPath: demo.FixtureDir()})
	if code := s.Run(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	log, err := os.ReadFile(first)
	if err != nil {
		t.Fatalf("the quoted name was not used: %v\n%s", err, term.String())
	}
	if !strings.Contains(string(log), "one\n") || !strings.Contains(string(log), "two\n") {
		t.Errorf("the first log lost output after a failed .logopen:\n%s", log)
	}
	if !strings.Contains(term.String(), "stays open") {
		t.Errorf("the failure does not say the log stays open:\n%s", term.String())
	}
}
