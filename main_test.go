package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden transcripts")

const shared = "../shared/realdumps"

// goldenCases pairs each dump with the command script in testdata/golden.
var goldenCases = []struct {
	name, dump string
	real       bool
}{
	{"sigsegv", shared + "/lldb/sigsegv.dmp", true},
	{"tiny-xsave", shared + "/breakpad/tiny-exe-with-cet-xsave.dmp", true},
	{"minidump2", shared + "/breakpad/minidump2.dmp", true},
	{"thread_name_list", shared + "/breakpad/thread_name_list.dmp", true},
	{"demo", "testdata/demo/demo.dmp", false},
}

// transcript runs ntdbg on a dump with a command script on stdin, as
// `ntdbg -z dump < script` would.
func transcript(t *testing.T, dump, script string, extra ...string) (string, int) {
	t.Helper()
	t.Setenv("_NT_SYMBOL_PATH", "")
	t.Setenv("_NT_ALT_SYMBOL_PATH", "")
	t.Setenv("_NT_EXECUTABLE_IMAGE_PATH", "")
	var out, errb bytes.Buffer
	args := append([]string{"-z", dump}, extra...)
	code := run(args, strings.NewReader(script), &out, &errb)
	if errb.Len() > 0 {
		t.Logf("stderr: %s", errb.String())
	}
	return out.String(), code
}

func TestGoldenTranscripts(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.real {
				if _, err := os.Stat(tc.dump); err != nil {
					t.Skipf("%s not present", tc.dump)
				}
			}
			script, err := os.ReadFile(filepath.Join("testdata/golden", tc.name+".cmds"))
			if err != nil {
				t.Fatal(err)
			}
			got, code := transcript(t, tc.dump, string(script))
			if code != 0 {
				t.Fatalf("exit code %d", code)
			}
			path := filepath.Join("testdata/golden", tc.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (go test -update rewrites it):\n%s", path, firstDiff(string(want), got))
			}
		})
	}
}

// firstDiff shows the first differing line of two transcripts.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(same lines, different bytes)"
}
