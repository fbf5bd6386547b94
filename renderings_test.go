package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/testdata/gen/hyperv"
	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

// The scenario kernel dump's memory written as a complete (1), kernel
// summary (2) and RDMP complete (0xA) dump answers the seed's kernel
// queries exactly as the bundled bitmap dump (5) does; only the banner's
// dump-kind line differs. Its triage rendering (4) gives the stopped
// thread's stack, the driver list and the bugcheck.
func TestKernelRenderingsAgree(t *testing.T) {
	k := hyperv.BuildKernel()
	dir := t.TempDir()
	script, err := os.ReadFile("testdata/golden/hyperv-kernel-seed.cmds")
	if err != nil {
		t.Fatal(err)
	}
	queries := string(script[:len(script)-2]) + "lm\n!stacks 0\nq\n" // the seed's commands, then more, then q
	answers := func(out string) string { return out[strings.Index(out, "0: kd> "):] }
	base, _ := transcript(t, hypervKernel, queries, "-y", hypervSyms)
	want := answers(base)
	for _, typ := range []int{kdw.Full, kdw.Summary, kdw.Complete} {
		b, err := k.Dump.Bytes(typ)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "kernel.dmp")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, code := transcript(t, p, queries, "-y", hypervSyms)
		if code != 0 {
			t.Fatalf("type %d: exit %d", typ, code)
		}
		if a := answers(got); a != want {
			t.Errorf("DumpType %#x answers differently from the bitmap dump:\n%s", typ, firstDiff(want, a))
		}
	}

	b, err := k.TriageDump().Bytes(kdw.TriageDump)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "Mini061015-01.dmp")
	os.WriteFile(p, b, 0o644)
	out, code := transcript(t, p, ".bugcheck\nlm\nk\n!thread\nq\n", "-y", hypervSyms)
	if code != 0 {
		t.Fatalf("triage: exit %d", code)
	}
	for _, want := range []string{"Mini Kernel Dump File: Only registers and stack trace are available", "Bugcheck code 00000161",
		"nt         (private pdb symbols)", "FooDRV", "nsiproxy", "NETIO", "NDIS",
		"nt!PpmIdleExecuteTransition+0x6\n", "nt!PoIdle+0x9\n", "nt!KiIdleLoop+0x18\n",
		"THREAD fffff8030a614040  Cid 0000.0000"} {
		if !strings.Contains(out, want) {
			t.Errorf("triage: missing %q in:\n%s", want, out)
		}
	}
}
