// Command ntdbg is a WinDbg-compatible debugger for Windows crash and hang
// dumps. Its flags follow cdb's: ntdbg -z dump [-c "cmd;cmd"] [-cf script]
// [-logo file] [-y sympath] [-i imagepath].
package main

import (
	"bytes"
	"embed"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/extensions"
	"github.com/ntdbg/ntdbg/repl"
)

//go:embed testdata/demo/demo.dmp
var demoDump []byte

// The demo's PDBs ship inside the binary so that the demo has symbols
// without any set-up; they are written to a temporary folder on first use.
//
//go:embed testdata/fixtures/bin/ntdll.pdb testdata/fixtures/bin/kernel32.pdb testdata/fixtures/bin/nsi.pdb
//go:embed testdata/fixtures/bin/IPHLPAPI.pdb testdata/fixtures/bin/RPCRT4.pdb testdata/fixtures/bin/vmms.pdb
var demoSymbols embed.FS

// demoSymbolDir writes the embedded PDBs to a per-user temporary folder
// and returns it ("" when that fails).
func demoSymbolDir() string {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("ntdbg-demo-symbols-%d", os.Getuid()))
	entries, err := fs.ReadDir(demoSymbols, "testdata/fixtures/bin")
	if err != nil || os.MkdirAll(dir, 0o755) != nil {
		return ""
	}
	for _, e := range entries {
		data, err := demoSymbols.ReadFile("testdata/fixtures/bin/" + e.Name())
		if err != nil {
			return ""
		}
		dst := filepath.Join(dir, e.Name())
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
			continue
		}
		if os.WriteFile(dst, data, 0o644) != nil {
			return ""
		}
	}
	return dir
}

const demoName = "<bundled demo: testdata/demo/demo.dmp>"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ntdbg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dump := fs.String("z", "", "crash dump `file` to open")
	cmds := fs.String("c", "", "initial `commands`, separated by ';'")
	script := fs.String("cf", "", "script `file` to run at start-up")
	logo := fs.String("logo", "", "open a log `file` (overwrite) before anything is printed")
	sym := fs.String("y", "", "symbol search `path`")
	img := fs.String("i", "", "executable image search `path`")
	lines := fs.Bool("lines", false, "source line support on from the start (.lines toggles it)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ntdbg [-z] dump.dmp [-c \"cmd;cmd\"] [-cf script] [-logo file] [-y sympath] [-i imagepath] [-lines]")
		fmt.Fprintln(stderr, "With no dump, ntdbg opens its bundled demo dump.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dump == "" && fs.NArg() > 0 {
		*dump = fs.Arg(0)
	}
	symPath := *sym
	if symPath == "" {
		symPath = strings.Trim(os.Getenv("_NT_ALT_SYMBOL_PATH")+";"+os.Getenv("_NT_SYMBOL_PATH"), ";")
	}
	imgPath := *img
	if imgPath == "" {
		imgPath = os.Getenv("_NT_EXECUTABLE_IMAGE_PATH")
	}
	var tgt target.Target
	notice := ""
	path := *dump
	if path == "" {
		t, err := engine.OpenReader(bytes.NewReader(demoDump), int64(len(demoDump)), demoName)
		if err != nil {
			fmt.Fprintf(stderr, "ntdbg: the bundled demo dump does not open: %v\n", err)
			return 1
		}
		tgt, path = t, demoName
		notice = "ntdbg: no dump given; opening the bundled demo dump (ntdbg -z <file> opens your own)."
		if symPath == "" {
			symPath = demoSymbolDir()
		}
	} else {
		t, err := engine.Open(path, engine.Options{})
		if err != nil {
			fmt.Fprintf(stderr, "ntdbg: %v\n", err)
			return 1
		}
		tgt = t
	}
	defer tgt.Close()
	inF, inIsFile := stdin.(*os.File)
	outF, outIsFile := stdout.(*os.File)
	interactive := inIsFile && outIsFile && repl.IsTerminal(inF) && repl.IsTerminal(outF)
	_, noColor := os.LookupEnv("NO_COLOR")
	var progress io.Writer
	if errF, ok := stderr.(*os.File); ok && repl.IsTerminal(errF) {
		progress = stderr
	}
	reg, err := extensions.Registry()
	if err != nil {
		fmt.Fprintf(stderr, "ntdbg: %v\n", err)
		return 1
	}
	s := repl.New(repl.Options{Registry: reg,
		DumpPath: path, Target: tgt, Commands: *cmds, ScriptFile: *script, LogFile: *logo,
		SymbolPath: symPath, ImagePath: imgPath, Lines: *lines, Stdin: stdin, Stdout: stdout,
		Interactive: interactive, Color: interactive && !noColor, Notice: notice, Progress: progress,
	})
	return s.Run()
}
