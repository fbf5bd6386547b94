package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Batch mode with a log, -c splitting and $< scripts, over any script text
// (issue 11's fuzzing list): no panic, an exit, and the log holds every line
// the terminal got (the log is opened before anything is printed, and only
// its own closing line is missing from it).
func FuzzBatchSession(f *testing.F) {
	dir := f.TempDir()
	inner := filepath.Join(dir, "inner.txt")
	if err := os.WriteFile(inner, []byte("r\n.echo from a script\n$$ comment\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"k\nq\n", "~*kcn;lm\n$<" + inner + "\nq\n", "$><" + inner + "\n", "\n\n\ndb\n\n", ".echo \"a;b\";r rax\n",
		"~0e r rip\n~*e .echo x\n", "dt ntdll!_TEB @$teb\n?? @$teb->NtTib\ndx -r2 @$peb\n"} {
		f.Add(s, "r;k 2")
	}
	f.Fuzz(func(t *testing.T, script, initial string) {
		if len(script) > 2000 || len(initial) > 200 {
			return
		}
		// Commands that write files would write wherever the input says.
		for _, bad := range []string{"log", "outputpath", ".dump", ".write", ".create"} {
			if strings.Contains(strings.ToLower(script+initial), bad) {
				return
			}
		}
		logPath := filepath.Join(t.TempDir(), "s.log")
		var out, errb bytes.Buffer
		args := []string{"-z", "testdata/demo/demo.dmp", "-y", "testdata/fixtures/bin", "-logo", logPath, "-c", initial}
		run(args, strings.NewReader(script), &out, &errb)
		log, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		term := strings.Replace(out.String(), "Closing open log file "+logPath+"\n", "", 1)
		if string(log) != term {
			t.Fatalf("the log differs from the terminal (%d vs %d bytes)", len(log), len(term))
		}
	})
}
