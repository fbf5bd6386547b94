// Package realdumps finds ../shared/realdumps (real dumps, PDBs and expected
// outputs that are not part of the repository) for every test, from any
// package directory. Tests that need a file skip when it is absent.
package realdumps

import (
	"os"
	"path/filepath"
	"testing"
)

// Root is the realdumps folder with a trailing separator: $NTDBG_REALDUMPS
// when set, else ../shared/realdumps beside the module root (the folder
// holding go.mod). When neither exists it is a path that does not exist,
// so reads fail and the tests using them skip.
func Root() string {
	if d := os.Getenv("NTDBG_REALDUMPS"); d != "" {
		return filepath.Clean(d) + string(filepath.Separator)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "realdumps-not-found" + string(filepath.Separator)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "realdumps")
			if cwd, err := os.Getwd(); err == nil {
				if rel, err := filepath.Rel(cwd, p); err == nil {
					p = rel // relative, as the golden transcripts name the dumps
				}
			}
			return p + string(filepath.Separator)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "realdumps-not-found" + string(filepath.Separator)
		}
		dir = parent
	}
}

// Path is Root()+rel, or skips t when that file is absent.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Root(), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present (../shared/realdumps is not checked in)", rel)
	}
	return p
}

// Glob matches pattern inside Root().
func Glob(pattern string) []string {
	m, _ := filepath.Glob(filepath.Join(Root(), pattern))
	return m
}
