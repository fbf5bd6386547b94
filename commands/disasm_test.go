package commands

import (
	"strings"
	"testing"
)

// TestUnreadableCode: u prints one `??  ???` line at the first unreadable
// byte and stops (WinDbg's u; not a line per byte), ub finds no start in
// unreadable memory, and uf reports No code found when the function's first
// byte is unreadable and ends its walk with one `??  ???` line at a later one.
func TestUnreadableCode(t *testing.T) {
	c, out := newCtx(t)
	unread := "00000000`00000000 ??              ???\n"
	for _, cmd := range []string{"u 0", "u 0 L2", "u 0 L20"} {
		if got := run(t, c, out, cmd); got != unread {
			t.Errorf("%s:\n%s\nwant\n%s", cmd, got, unread)
		}
	}
	if got := run(t, c, out, "ub 0x1000 L2"); !strings.Contains(got, "Memory access error at '00000000`00001000'") {
		t.Errorf("ub 0x1000 L2:\n%s", got)
	}

	out.Reset()
	if err := c.basicBlocks(0x1000, 0x1010); err == nil || err.Error() != "No code found, aborting" {
		t.Errorf("uf over unreadable code: %v\n%s", err, out)
	}
	// The last bytes of ntdll's image, then the page after it that the dump lacks.
	end := uint64(0x7fff97c06000)
	if !c.codeReadable(end-4) || c.codeReadable(end) {
		t.Fatalf("the demo dump's memory moved: %x readable %v, %x readable %v", end-4, c.codeReadable(end-4), end, c.codeReadable(end))
	}
	out.Reset()
	if err := c.basicBlocks(end-4, end+0x10); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; last != "00007fff`97c06000 ??              ???" {
		t.Errorf("uf walk into unreadable code ends with %q:\n%s", last, out)
	}
	if n := strings.Count(out.String(), "???"); n != 1 {
		t.Errorf("%d ??? lines, want 1:\n%s", n, out)
	}
}

// uf marks conditional jumps with `Branch`, and with source lines loaded it
// leads each instruction with its line number and labels the function with
// its file and line (issue 10, from WinDbg transcripts of uf; msdocs
// uf--unassemble-function-.md).
func TestUFBranchAndLines(t *testing.T) {
	c, out := newCtx(t)
	got := run(t, c, out, "uf ntdll!RtlEnterCriticalSection")
	if !strings.Contains(got, "00007fff`97c0104c 7416            je      ntdll!RtlEnterCriticalSection+0x24 (00007fff`97c01064)  Branch\n") {
		t.Errorf("uf Branch:\n%s", got)
	}
	if strings.Count(got, "Branch") != 1 {
		t.Errorf("only the je is conditional:\n%s", got)
	}
	run(t, c, out, ".lines -e")
	got = run(t, c, out, "uf ntdll!RtlpWaitOnCriticalSection")
	if !strings.HasPrefix(got, "ntdll!RtlpWaitOnCriticalSection [d:\\ntdbg\\fixtures\\src\\ntdll.c @ 104]:\n  104 00007fff`97c01000 55              push    rbp\n") {
		t.Errorf("uf with lines:\n%s", got)
	}
}
