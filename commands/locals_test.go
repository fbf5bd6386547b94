package commands

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

// realCtx opens a dump from ../shared/realdumps with a symbol path, or skips.
func realCtx(t *testing.T, dump, sympath string) (*Ctx, *bytes.Buffer) {
	t.Helper()
	b, err := os.ReadFile(rd.Path(t, dump))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.OpenMinidump(bytes.NewReader(b), int64(len(b)), dump)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := &Ctx{S: engine.NewSession(tg), Out: &out, Host: &fakeHost{}}
	c.SetSymbols(symbols.NewSymbols(tg, rd.Root()+sympath))
	return c, &out
}

// dv on a real MSVC program (lldb/sigsegv.dmp with its PDB): foo(10, 3.14,
// msg, true) as sigsegv.cpp calls it; parameters first, names right-aligned
// in dv's 15 columns; /t /v add the type and the address
// (msdocs/debuggercmds/dv--display-local-variables-.md). msg points into
// the image, which the dump does not hold.
func TestDVOnARealDump(t *testing.T) {
	c, out := realCtx(t, "lldb/sigsegv.dmp", "lldb/sigsegv.pdb")
	run(t, c, out, ".ecxr")
	if got := run(t, c, out, "dv /t /v"); got != "000000ad`dabaf6e0 bool crash_self = true\n" {
		t.Errorf("dv /t /v in crash: %q", got)
	}
	run(t, c, out, ".frame 1")
	want := "              x = 0n10\n" +
		"              y = 3.14\n" +
		"            msg = 0x00007ff7`a1313060 \"--- memory read error at address 0x00007ff7`a1313060 ---\"\n" +
		"           flag = true\n"
	if got := run(t, c, out, "dv"); got != want {
		t.Errorf("dv in foo:\n got %q\nwant %q", got, want)
	}
	if got := run(t, c, out, "dv /i m*"); got != "prv param              msg = 0x00007ff7`a1313060 \"--- memory read error at address 0x00007ff7`a1313060 ---\"\n" {
		t.Errorf("dv /i with a pattern: %q", got)
	}
	run(t, c, out, ".frame 4")
	if got := run(t, c, out, "dv"); !strings.HasPrefix(got, "Unable to enumerate locals, HRESULT 0x80004005\nPrivate symbols (symbols.pri) are required for locals.\n") {
		t.Errorf("dv without private symbols: %q", got)
	}
	if got := run(t, c, out, "dv /x"); !strings.Contains(got, "unknown option") {
		t.Errorf("dv /x: %q", got)
	}
}
