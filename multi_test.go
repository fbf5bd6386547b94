package main

import (
	"bytes"
	"strings"
	"testing"
)

// Several -z open several systems, as cdb does (msdocs
// debugger/debugging-multiple-targets.md: `windbg -z a.dmp -z b.dmp`), and
// -demo hang opens the bundled pair; the first dump stays current.
func TestSeveralDumpsOneSession(t *testing.T) {
	out, code := transcript(t, "testdata/demo/demo.dmp", "||\n||1s\nr eip\nq\n", "-z", "testdata/demo/x86.dmp")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"Loading Dump File [testdata/demo/x86.dmp]\n",
		"||0:0:000> ||\n.  0 Full memory user mini dump: testdata/demo/demo.dmp\n   1 Full memory user mini dump: testdata/demo/x86.dmp\n",
		"||1:0:000> r eip\neip=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	var o, e bytes.Buffer
	run([]string{"-demo", "hang"}, strings.NewReader("||\n||1s\n!process 0 0 vmms.exe\nq\n"), &o, &e)
	if !strings.Contains(o.String(), "   1 64-bit Kernel bitmap dump: <bundled: testdata/scenarios/hyperv-hang/kernel.dmp>\n") ||
		!strings.Contains(o.String(), "||1:0: kd> !process 0 0 vmms.exe\n**** NT ACTIVE PROCESS DUMP ****\nPROCESS ffffe0005c21c080") {
		t.Errorf("-demo hang:\n%s", o.String())
	}
}
