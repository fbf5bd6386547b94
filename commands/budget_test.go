package commands

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
	"github.com/ntdbg/ntdbg/engine/types"
)

// selfTable is the type information a hostile PDB can declare: a
// structure _CONTEXT whose 25 members are all of type _CONTEXT.
type selfTable struct{}

const selfTI = 0x1000

func (selfTable) Type(ti uint32) (*pdb.Type, error) {
	if ti != selfTI {
		return nil, fmt.Errorf("no type 0x%x", ti)
	}
	return &pdb.Type{Index: selfTI, Leaf: pdb.LF_STRUCTURE, Name: "_CONTEXT", Size: 0x100, Count: 25, FieldList: 0x1001}, nil
}

func (selfTable) Fields(uint32) ([]pdb.Member, error) {
	var ms []pdb.Member
	for i := 0; i < 25; i++ {
		ms = append(ms, pdb.Member{Leaf: pdb.LF_MEMBER, Type: selfTI, Offset: uint64(i * 8), Name: fmt.Sprintf("M%d", i)})
	}
	return ms, nil
}

func (t selfTable) FindUDT(name string) (*pdb.Type, error) { return t.Type(selfTI) }
func (selfTable) Resolve(ty *pdb.Type) *pdb.Type           { return ty }

// dt on a self-embedding type is bounded: the members are shown and the
// recursion is marked, not entered (issue 11, finding 7: -r3 printed 19 MB,
// -r99 ran for minutes).
func TestDtSelfEmbeddingTypeIsBounded(t *testing.T) {
	c, out := newCtx(t)
	m := c.S.Target.Modules()[0]
	tt := selfTable{}
	ty, _ := tt.Type(selfTI)
	ref := types.NewRef(m, tt, ty)
	out.Reset()
	if err := c.dumpUDT(ref, ref.Self(), 0, false, 1, dtOpts{depth: 99}, nil); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if n := strings.Count(got, "\n"); n != 50 {
		t.Errorf("%d lines, want 25 members and 25 marks:\n%s", n, got)
	}
	if !strings.Contains(got, "   +0x000 M0               : _CONTEXT\n      <recursive type _CONTEXT: not expanded>\n") {
		t.Errorf("no mark:\n%s", got)
	}
}

// Every command has an output budget: a huge db stops with a line that
// says why, and the session goes on (issue 11, finding 8).
func TestOutputBudgetCutsAHugeCommand(t *testing.T) {
	c, out := newCtx(t)
	c.OutBudget = 1 << 20
	got := run(t, c, out, "db 0 L?7fffffff")
	if len(got) > 1<<20+4096 {
		t.Errorf("printed %d bytes past a 1 MB budget", len(got))
	}
	if !strings.Contains(got, "Output cut: the command printed 1 MB, its budget") {
		t.Errorf("no reason given: %q", got[len(got)-200:])
	}
	if got := run(t, c, out, "? 1"); !strings.Contains(got, "Evaluate expression: 1") {
		t.Errorf("the session did not go on: %q", got)
	}
}

// An interrupt stops a printing command at its next write, says so, and is
// the front end's to clear.
func TestInterruptStopsAPrintingCommand(t *testing.T) {
	c, out := newCtx(t)
	writes := 0
	c.Interrupted = func() bool { writes++; return writes > 3 }
	got := run(t, c, out, "db 0 L?7fffffff")
	if !strings.Contains(got, "Command cancelled by Ctrl-C") || strings.Count(got, "\n") > 5 {
		t.Errorf("interrupt: %q", got)
	}
	c.Interrupted = nil
	if got := run(t, c, out, "? 1"); !strings.Contains(got, "Evaluate expression: 1") {
		t.Errorf("the session did not go on: %q", got)
	}
}

// A script that runs itself twice a line ends (issue 11, finding 11: only
// the nesting depth was capped, so the work doubled at every level).
func TestSelfCallingScriptEnds(t *testing.T) {
	c, out := newCtx(t)
	dir := t.TempDir()
	script := dir + "/self.txt"
	body := "$<" + script + "\n$<" + script + "\n"
	if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() { done <- run(t, c, out, "$<"+script) }()
	select {
	case got := <-done:
		if !strings.Contains(got, "Script stopped: it ran more than") {
			t.Errorf("no reason given: %q", got[max(0, len(got)-300):])
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a self-calling script did not end in 20 s")
	}
}
