package commands

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/testdata/gen/kbench"
	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

// bigKernelDump writes a kbench dump of procs processes with threads
// threads each.
func bigKernelDump(tb testing.TB, procs, threads int) string {
	tb.Helper()
	d, err := kbench.Build(procs, threads)
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), "big.dmp")
	fh, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := d.Write(fh, kdw.BitmapFull); err != nil {
		tb.Fatal(err)
	}
	fh.Close()
	return p
}

func openKernelFile(tb testing.TB, path string) (*Ctx, *bytes.Buffer, func()) {
	tg, err := engine.Open(path, engine.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	c := &Ctx{S: engine.NewSession(tg), Out: &out, Host: &fakeHost{}}
	syms := symbols.NewSymbols(tg, hypervSyms)
	c.SetSymbols(syms)
	return c, &out, func() { syms.Close(); tg.Close() }
}

// The generated dumps walk as built: every process, every thread.
func TestBigKernelDump(t *testing.T) {
	c, out, done := openKernelFile(t, bigKernelDump(t, 30, 4))
	defer done()
	if got := run(t, c, out, "!process 0 0"); strings.Count(got, "\nPROCESS ") != 30 || !strings.Contains(got, "Image: bench00029.exe") {
		t.Errorf("!process 0 0:\n%s", got)
	}
	if got := run(t, c, out, "!stacks"); !strings.Contains(got, "Threads Processed: 120") {
		t.Errorf("!stacks:\n%s", got)
	}
}

// `!process 0 0` over 2,000 processes, from a cold open.
func BenchmarkProcessList2000(b *testing.B) {
	path := bigKernelDump(b, 2000, 1)
	b.ReportAllocs()
	for b.Loop() {
		c, out, done := openKernelFile(b, path)
		c.Execute("!process 0 0")
		if n := strings.Count(out.String(), "\nPROCESS "); n != 2000 {
			b.Fatalf("%d processes", n)
		}
		done()
	}
}

// `!stacks` over 20,000 threads (2,000 processes of 10), from a cold open.
func BenchmarkStacks20000(b *testing.B) {
	path := bigKernelDump(b, 2000, 10)
	b.ReportAllocs()
	for b.Loop() {
		c, out, done := openKernelFile(b, path)
		c.Execute("!stacks")
		if !strings.Contains(out.String(), "Threads Processed: 20000") {
			b.Fatal(out.String()[:500])
		}
		done()
	}
}
