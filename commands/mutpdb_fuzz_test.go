package commands

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/testdata/gen/demo"
)

// A whole session with symbols over a mutated PDB (the campaign that found
// issue 11's finding 4): ntdll.pdb, which the PDB GUID check accepts, with
// bytes of the fuzzer's choosing written over it, then the commands that
// read symbols, types, lines, parameters and frame data.
func FuzzSessionMutatedPDB(f *testing.F) {
	orig, err := os.ReadFile(filepath.Join(demo.FixtureDir(), "ntdll.pdb"))
	if err != nil {
		f.Skip(err)
	}
	data := demo.Build().Bytes()
	for _, off := range []uint32{0x20, 0x34, 0x1000, 0x2000, 0x3000, uint32(len(orig) - 64)} {
		f.Add(off, []byte{0xff, 0xff, 0xff, 0xff})
		f.Add(off, []byte{0x01, 0xf0, 0xff, 0xff})
	}
	script := []string{"k", "kP", "kv", "x ntdll!*", "ln @$ip", "dt ntdll!_TEB", "dt -v ntdll!_PEB @$peb", "dv", "?? @$teb->NtTib",
		"uf ntdll!RtlpWaitOnCriticalSection", "!cs", "~*kcn 4", ".lines -e", "k", "dps @rsp L8"}
	f.Fuzz(func(t *testing.T, off uint32, patch []byte) {
		if len(patch) > 64 {
			return
		}
		pdb := append([]byte(nil), orig...)
		if int(off) < len(pdb) {
			copy(pdb[off:], patch)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "ntdll.pdb"), pdb, 0o644); err != nil {
			t.Fatal(err)
		}
		tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "demo.dmp")
		if err != nil {
			t.Fatal(err)
		}
		var out cappedOutput
		c := &Ctx{S: engine.NewSession(tg), Out: &out, Host: &fakeHost{}}
		syms := symbols.NewSymbols(tg, dir+";"+demo.FixtureDir())
		defer syms.Close()
		c.SetSymbols(syms)
		c.OutBudget = 4 << 20
		for _, cmd := range script {
			c.Execute(cmd)
		}
		if bytes.Contains(out.Bytes(), []byte("internal error")) {
			t.Fatalf("a command failed inside:\n%s", out.Bytes())
		}
	})
}
