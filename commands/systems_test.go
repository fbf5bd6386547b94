package commands

import (
	"strings"
	"testing"
)

// .opendump adds a system; || lists them with the current one marked, ||N s
// switches, and the prompt gains WinDbg's ||S: prefix (msdocs
// debugger/debugging-multiple-targets.md: `||0:0:007> ||`, `||1s`).
func TestSeveralSystems(t *testing.T) {
	c, out := newCtx(t)
	c.Host = &promptHost{c: c}
	if got := c.PromptText(); got != "0:000> " {
		t.Fatalf("one system: prompt %q", got)
	}
	got := run(t, c, out, ".opendump ../testdata/demo/x86.dmp")
	if !strings.Contains(got, "Loading Dump File [../testdata/demo/x86.dmp]\n") || !strings.Contains(got, "Opened '../testdata/demo/x86.dmp'\n") {
		t.Errorf(".opendump:\n%s", got)
	}
	if got := c.PromptText(); got != "||0:0:000> " {
		t.Errorf("two systems: prompt %q", got)
	}
	want := ".  0 Full memory user mini dump: demo.dmp\n   1 Full memory user mini dump: ../testdata/demo/x86.dmp\n"
	if got := run(t, c, out, "||"); got != want {
		t.Errorf("||:\n got %q\nwant %q", got, want)
	}
	run(t, c, out, "||1s")
	if got := c.PromptText(); got != "||1:0:000> " {
		t.Errorf("after ||1s: prompt %q", got)
	}
	if got := run(t, c, out, "||"); !strings.HasPrefix(got, "   0 ") || !strings.Contains(got, ".  1 Full memory user mini dump") {
		t.Errorf("|| after the switch: %q", got)
	}
	if got := run(t, c, out, "r eip"); !strings.HasPrefix(got, "eip=") {
		t.Errorf("the x86 system's registers: %q", got)
	}
	run(t, c, out, "||0 s")
	if got := run(t, c, out, "r rip"); !strings.HasPrefix(got, "rip=") {
		t.Errorf("back on system 0: %q", got)
	}
	if got := run(t, c, out, "||7s"); !strings.Contains(got, "Illegal system") {
		t.Errorf("||7s: %q", got)
	}
	if got := run(t, c, out, ".opendump nosuch.dmp"); !strings.Contains(got, "nosuch.dmp") {
		t.Errorf(".opendump of a missing file: %q", got)
	}
	if n := len(c.Systems()); n != 2 {
		t.Errorf("%d systems after a failed .opendump", n)
	}
}

type promptHost struct {
	fakeHost
	c *Ctx
}

func (h *promptHost) Prompt() string { return h.c.PromptText() }
