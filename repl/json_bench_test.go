package repl

import (
	"io"
	"testing"

	"github.com/ntdbg/ntdbg/engine"
)

// BenchmarkTildeStarK is `~*k` on the bundled hang's 183 threads, as text
// and as JSON Lines (issue 13: the JSON path should cost at most twice the
// text path; nothing is asserted about time).
func BenchmarkTildeStarK(b *testing.B) {
	for _, mode := range []string{"text", "json"} {
		b.Run(mode, func(b *testing.B) {
			t, err := engine.Open("../testdata/scenarios/hyperv-hang/vmms.dmp", engine.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer t.Close()
			s := New(Options{Target: t, SymbolPath: "../testdata/scenarios/hyperv-hang/symbols", Offline: true,
				Stdout: io.Discard, JSON: mode == "json"})
			s.json.on = mode == "json"
			s.runLine("~*k", false) // symbols load once
			b.ResetTimer()
			for range b.N {
				s.runLine("~*k", false)
			}
		})
	}
}
