package ndiskd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/commands"
)

// The plug-in boundary: registering ndiskd adds exactly the !ndiskd
// commands (and their short aliases) and changes nothing else; no package
// outside this one knows NDIS structures.
func TestPluginBoundary(t *testing.T) {
	core := commands.Default()
	r := commands.Default()
	before := map[string]bool{}
	for _, n := range r.Names() {
		before[n] = true
	}
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	var added []string
	for _, n := range r.Names() {
		if !before[n] {
			added = append(added, n)
		}
	}
	if len(added) == 0 {
		t.Fatal("Register added nothing")
	}
	for _, n := range added {
		if !strings.HasPrefix(n, "!ndiskd.") && core.Lookup(n) != nil {
			t.Errorf("%s: shadows a core command", n)
		}
		if cmd := r.Lookup(n); cmd == nil || !strings.HasPrefix(cmd.Name, "!ndiskd.") {
			t.Errorf("%s is not an ndiskd command", n)
		}
	}
	for n := range before {
		if r.Lookup(n) != core.Lookup(n) && r.Lookup(n).Name != core.Lookup(n).Name {
			t.Errorf("%s changed", n)
		}
	}
	// Nothing outside this package names NDIS's structures or lists (tests
	// may name the extension as an example of one that is not loaded).
	root := filepath.Join("..", "..")
	for _, dir := range []string{"commands", "engine", "repl", "dumpfmt"} {
		filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			b, _ := os.ReadFile(p)
			for _, s := range []string{"NDIS_MINIPORT_BLOCK", "ndisMiniportList", "NDIS_M_DRIVER_BLOCK", "ndiskd"} {
				if strings.Contains(string(b), s) {
					t.Errorf("%s mentions %s", p, s)
				}
			}
			return nil
		})
	}
}
