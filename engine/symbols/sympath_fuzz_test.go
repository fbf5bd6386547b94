package symbols

import (
	"path/filepath"
	"strings"
	"testing"
)

// The symbol-path parser and the store-path builder over any text (issue
// 11's fuzzing list). A store path, when one is built, stays inside the
// store: relative, three elements, no "..".
func FuzzSymbolPathAndStore(f *testing.F) {
	for _, s := range []string{
		`srv*c:\sym*https://msdl.microsoft.com/download/symbols;d:\mine; cache*/tmp/c ;srv*https://example.test/s;SRV*`,
		"isf*/x/isf;bundled:symbols;symsrv*symsrv.dll*c:\\s*http://h", "", ";;;", "srv**", "cache*",
	} {
		f.Add(s, "ntdll.pdb", "96EF4ED537402DAAA51D4A4212EA4B2C1")
	}
	f.Add("x", "../../etc/passwd", "1")
	f.Fuzz(func(t *testing.T, path, name, index string) {
		if len(path) > 4096 {
			return
		}
		for _, e := range ParseSymbolPath(path) {
			_ = e.IsServer()
		}
		p, ok := StoreRelPath(name, index)
		if !ok {
			return
		}
		if filepath.IsAbs(p) || strings.Contains(p, "..") || len(strings.Split(filepath.ToSlash(p), "/")) != 3 {
			t.Fatalf("StoreRelPath(%q, %q) = %q", name, index, p)
		}
	})
}
