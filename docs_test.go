package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ntdbg/ntdbg/extensions"
)

// docs/commands.md is generated from the registry ntdbg runs with: the core
// commands and every shipped extension, with each command's full help.
func TestCommandsDocMatchesRegistry(t *testing.T) {
	r, err := extensions.Registry(plugins...)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("docs", "commands.md")
	if *update {
		if err := os.WriteFile(path, []byte(r.Markdown()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != r.Markdown() {
		t.Fatal("docs/commands.md is out of date with the command registry: run go test . -update")
	}
}
