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
	"strings"

	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/extensions"
	"github.com/ntdbg/ntdbg/extensions/ndiskd"
	"github.com/ntdbg/ntdbg/mcpserver"
	"github.com/ntdbg/ntdbg/repl"
)

// The bundled dumps open when no dump is named (or with -demo): the Hyper-V
// hang's vmms.exe dump and its symbol store, both read straight from the
// binary (nothing is written to disk). Every new bundled scenario goes
// into the bundles table below.
//
//go:embed testdata/scenarios/hyperv-hang/vmms.dmp
var vmmsDump []byte

//go:embed testdata/scenarios/hyperv-hang/kernel.dmp
var kernelDump []byte

//go:embed testdata/scenarios/hyperv-hang/symbols
var vmmsSymbols embed.FS

// bundle is a dump built into ntdbg with the symbol store it needs.
type bundle struct {
	name, file string // -demo name; the file it comes from, for the banner
	dump       []byte
	symbols    fs.FS // holds the store as symbols/
}

func bundles() map[string]bundle {
	syms, err := fs.Sub(vmmsSymbols, "testdata/scenarios/hyperv-hang")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	return map[string]bundle{
		"user":   {"user", "testdata/scenarios/hyperv-hang/vmms.dmp", vmmsDump, syms},
		"kernel": {"kernel", "testdata/scenarios/hyperv-hang/kernel.dmp", kernelDump, syms},
	}
}

// plugins are the extensions ntdbg loads, each registering its commands.
var plugins = []func(*commands.Registry) error{ndiskd.Register}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "mcp" {
		return mcpserver.Main(args[1:], stdin, stdout, stderr, plugins)
	}
	flags := flag.NewFlagSet("ntdbg", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var dumps dumpList
	flags.Var(&dumps, "z", "crash dump `file` to open (several -z open several systems: || lists them)")
	cmds := flags.String("c", "", "initial `commands`, separated by ';'")
	script := flags.String("cf", "", "script `file` to run at start-up")
	logo := flags.String("logo", "", "open a log `file` (overwrite) before anything is printed")
	sym := flags.String("y", "", "symbol search `path`")
	img := flags.String("i", "", "executable image search `path`")
	demo := flags.String("demo", "", "open a bundled dump by `name`: user (the Hyper-V hang's vmms.exe, the default with no dump), kernel (the same host's live kernel dump) or hang (both, as two systems of one session)")
	lines := flags.Bool("lines", false, "source line support on from the start (.lines toggles it)")
	jsonOut := flags.Bool("json", false, "write one JSON object per command (JSON Lines) to stdout instead of the text (.json toggles it)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: ntdbg [-z] dump.dmp [-c \"cmd;cmd\"] [-cf script] [-logo file] [-y sympath] [-i imagepath] [-lines] [-json]")
		fmt.Fprintln(stderr, "With no dump, ntdbg opens its bundled dump (-demo user): the Hyper-V hang's vmms.exe.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if len(dumps) == 0 && flags.NArg() > 0 {
		dumps = append(dumps, flags.Arg(0))
	}
	var more []repl.Dump
	for _, p := range dumps[min(1, len(dumps)):] {
		t, err := engine.Open(p, engine.Options{})
		if err != nil {
			fmt.Fprintf(stderr, "ntdbg: %v\n", err)
			return 1
		}
		defer t.Close()
		more = append(more, repl.Dump{Path: p, Target: t})
	}
	dump := new(string)
	if len(dumps) > 0 {
		*dump = dumps[0]
	}
	symPath, imgPath := symbols.PathsFromFlags(*sym, *img)
	var tgt target.Target
	var symBundle fs.FS
	notice := ""
	path := *dump
	if path == "" || *demo != "" {
		if path != "" {
			fmt.Fprintln(stderr, "ntdbg: -demo and a dump file exclude each other")
			return 2
		}
		name := *demo
		if name == "" {
			name = "user"
		}
		if name == "hang" {
			// The Hyper-V hang as one session: the user dump (system 0)
			// and the same host's kernel dump (system 1).
			k := bundles()["kernel"]
			kt, err := engine.OpenReader(bytes.NewReader(k.dump), int64(len(k.dump)), "<bundled: "+k.file+">")
			if err != nil {
				fmt.Fprintf(stderr, "ntdbg: the bundled dump does not open: %v\n", err)
				return 1
			}
			defer kt.Close()
			more = append(more, repl.Dump{Path: "<bundled: " + k.file + ">", Target: kt})
			name = "user"
		}
		b, ok := bundles()[name]
		if !ok {
			fmt.Fprintf(stderr, "ntdbg: no bundled dump named %q (there are: user, kernel, hang)\n", name)
			return 2
		}
		path = "<bundled: " + b.file + ">"
		t, err := engine.OpenReader(bytes.NewReader(b.dump), int64(len(b.dump)), path)
		if err != nil {
			fmt.Fprintf(stderr, "ntdbg: the bundled dump does not open: %v\n", err)
			return 1
		}
		tgt, symBundle = t, b.symbols
		notice = fmt.Sprintf("ntdbg: opening the bundled dump %s with its bundled symbols (ntdbg -z <file> opens your own).", b.file)
		if symPath == "" {
			symPath = symbols.BundlePrefix + "symbols"
		} else {
			symPath = symbols.BundlePrefix + "symbols;" + symPath
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
	reg, err := extensions.Registry(plugins...)
	if err != nil {
		fmt.Fprintf(stderr, "ntdbg: %v\n", err)
		return 1
	}
	s := repl.New(repl.Options{Registry: reg,
		DumpPath: path, Target: tgt, Commands: *cmds, ScriptFile: *script, LogFile: *logo,
		SymbolPath: symPath, SymbolBundle: symBundle, ImagePath: imgPath, Lines: *lines, Stdin: stdin, Stdout: stdout,
		Interactive: interactive, Color: interactive && !noColor, Notice: notice, Progress: progress,
		Offline: os.Getenv("NTDBG_OFFLINE") == "1", More: more, JSON: *jsonOut,
	})
	return s.Run()
}

// dumpList collects repeated -z flags.
type dumpList []string

func (d *dumpList) String() string     { return strings.Join(*d, ",") }
func (d *dumpList) Set(v string) error { *d = append(*d, v); return nil }
