package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostileSymbols copies the fixture symbols and patches ntdll.pdb so that a
// function name and a source file name carry terminal escapes: a clear
// screen, an OSC 52 clipboard write ended by BEL, a right-to-left override
// and a literal `\x1b` text (issue 11, findings 1 and 2). The patches keep
// every length, so the PDB still opens and matches the image.
func hostileSymbols(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir("testdata/fixtures/bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata/fixtures/bin", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "ntdll.pdb" {
			name := "RtlpWaitOnCriticalSection"
			evil := "\x1b[2J\x1b]52;c;QQ==\x07\u202e\\x1bX"
			evil += strings.Repeat("_", len(name)-len(evil))
			if n := bytes.Count(b, []byte(name)); n == 0 {
				t.Fatal("ntdll.pdb no longer names RtlpWaitOnCriticalSection")
			}
			b = bytes.ReplaceAll(b, []byte(name), []byte(evil))
			src := `fixtures\src\ntdll.c`
			bad := "fixtures\\s\x1b[31mntd.c"
			if len(bad) != len(src) {
				t.Fatalf("patch lengths %d %d", len(bad), len(src))
			}
			b = bytes.ReplaceAll(b, []byte(src), []byte(bad))
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// No byte a symbol file controls reaches the terminal raw, in any command
// that prints symbol names, types or source files: the names are escaped
// where they leave the symbol layer, and the front end escapes whatever
// still carries a control character.
func TestHostileSymbolNamesNeverReachTheTerminal(t *testing.T) {
	syms := hostileSymbols(t)
	script := "~0s\nk\nkp\nkv\nkn\n.lines -e\nk\nln 00007fff`97c01024\nuf 00007fff`97c01000\n.frame /r 1\nx ntdll!*\ndv\ndps @rsp L20\n!uniqstack\nq\n"
	out, _ := transcript(t, "testdata/demo/demo.dmp", script, "-y", syms)
	for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
		if i := strings.Index(out, bad); i >= 0 {
			t.Fatalf("raw %q reached the terminal near %q", bad, out[max(0, i-40):min(len(out), i+40)])
		}
	}
	// The escaped name is shown, and a literal backslash in a name is
	// doubled so that it cannot pass for an escape.
	if !strings.Contains(out, `ntdll!\x1b[2J\x1b]52;c;QQ==\x07\u202e\\x1bX`) {
		t.Errorf("the escaped name is not shown:\n%s", out)
	}
	if !strings.Contains(out, `fixtures\s\x1b[31mntd.c`) {
		t.Errorf("the escaped source file is not shown")
	}
}
