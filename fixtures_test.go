package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The committed fixture binaries are the ones SHA256SUMS lists.
func TestFixtureHashes(t *testing.T) {
	sums, err := os.ReadFile("testdata/fixtures/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		f := strings.Fields(l)
		data, err := os.ReadFile(filepath.Join("testdata/fixtures/bin", f[1]))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != f[0] {
			t.Errorf("%s does not match SHA256SUMS", f[1])
		}
		n++
	}
	if n < 13 {
		t.Fatalf("only %d fixture files listed", n)
	}
}

// Where LLVM 14 is installed, rebuilding the fixtures from source gives the
// same bytes.
func TestFixturesRebuildIdentically(t *testing.T) {
	for _, tool := range []string{"clang-14", "lld-link-14", "llvm-rc-14"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	dir := t.TempDir()
	for _, p := range []string{"build.sh", "src"} {
		if out, err := exec.Command("cp", "-r", filepath.Join("testdata/fixtures", p), dir).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	cmd := exec.Command("bash", filepath.Join(dir, "build.sh"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	want, _ := os.ReadFile("testdata/fixtures/SHA256SUMS")
	got, _ := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if string(got) != string(want) {
		t.Errorf("rebuilt fixtures differ:\n%s\nvs committed\n%s", got, want)
	}
}
