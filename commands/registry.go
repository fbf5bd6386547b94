// Package commands holds the command registry, the grammar and every command
// handler, grouped by family. Output goes to Ctx.Out in WinDbg's layout.
package commands

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/symbols"
)

// Host is what the REPL provides to commands: the prompt text, the log file
// and the session's end.
type Host interface {
	Prompt() string
	OpenLog(path string, appendMode bool) (string, error)
	CloseLog() (string, bool)
	LogName() (string, bool)
	Quit()
	Clear()
}

// Ctx is the state every handler sees.
type Ctx struct {
	S    *engine.Session
	Out  io.Writer
	Host Host
	// SymConfig is the configurable symbol layer (.sympath, .reload, !sym,
	// .exepath); nil when the front end set none. Lookups go through
	// S.Symbols, which is never nil.
	SymConfig *symbols.Symbols

	lastKind string // last d* command, for a bare `d`
	lastAddr uint64 // where the next d* without an address continues
	hasLast  bool
	lastU    uint64 // where a bare `u` continues
	hasLastU bool
	depth    int // script nesting
	// scriptSteps counts the script lines run under one top-level command.
	scriptSteps int
	radix       int    // default radix for unprefixed numbers (0: 16), set by `n`
	extPath     string // .extpath
	kframes     int    // .kframes: k's default frame count (0: 0n256)
	// Now is the clock (tests pin it).
	Now func() time.Time
	// OutBudget is how many bytes one command may print (0: the default).
	OutBudget int64
	// Interrupted, when set, reports a pending interrupt (Ctrl-C): the
	// running command stops at its next write.
	Interrupted func() bool
	// systems are the session's dumps when there are several (.opendump,
	// several -z); curSys is the current one (S and SymConfig are its).
	systems []*System
	curSys  int
	// records collects the running command's records while Capture runs.
	records *[]Record
	// Registry is the command set (nil: the core registry).
	Registry *Registry
}

func (c *Ctx) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Invocation is one parsed command: its name, its argument text and where
// they sit in the input line (for caret errors).
type Invocation struct {
	Name    string // registry name
	Typed   string // the name as typed, with glued options (`kcn`, `lmvm`)
	Args    string // text after the typed name, to the end of this command
	ArgsOff int    // offset of Args in Line
	Line    string // the whole input line
	Text    string // this command's own text (for error messages)
}

// Command is one registry entry. Help lives next to the handler.
type Command struct {
	Name    string
	Aliases []string
	Family  string
	Syntax  string
	Summary string
	Help    string
	// Glued lets options follow the name without a space (`kcn`, `lmvm`).
	Glued bool
	// Needs is what the command requires of the target, checked at dispatch.
	Needs Needs
	Run   func(c *Ctx, inv *Invocation) error
}

// Needs is what a command requires before it runs.
type Needs struct {
	// Kernel: the target must be a kernel dump; User: a user-mode dump.
	Kernel, User bool
	// Module names a module whose symbols must load (for example "ndis").
	Module string
}

// check returns WinDbg-style refusals when the session lacks what n asks for.
func (n Needs) check(c *Ctx, name string) error {
	k := c.S.Target.Kind()
	if n.Kernel && k.IsUser() {
		return fmt.Errorf("%s: this extension can only be used when debugging a kernel-mode target (this is a user-mode dump)", name)
	}
	if n.User && !k.IsUser() {
		return fmt.Errorf("%s: this command can only be used on a user-mode target", name)
	}
	if n.Module != "" {
		m := c.S.ModuleByName(n.Module)
		if m == nil {
			return fmt.Errorf("%s: module %s is not loaded", name, n.Module)
		}
		if st := c.S.Symbols.Get(m).State; st == symbols.SymNone || st == symbols.SymExport {
			return fmt.Errorf("*** ERROR: %s: symbols for %s could not be loaded (type information is required)", name, m.ImageName)
		}
	}
	return nil
}

// Registry is a set of commands: the core ones (Default) and extensions
// added under their `!ext.cmd` names.
type Registry struct {
	byName  map[string]*Command
	ordered []*Command
	// resolvers are the extensions' wait resolvers (!waitchain).
	resolvers []WaitResolver
}

// core holds the built-in commands, registered by each family's file.
var core []*Command

// Register adds a built-in command (called from the families' init functions).
func Register(cmd *Command) { core = append(core, cmd) }

// NewRegistry is an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]*Command{}} }

// Default is a fresh registry holding the core commands; extensions added to
// it do not touch any other registry.
func Default() *Registry {
	r := NewRegistry()
	for _, cmd := range core {
		if err := r.add(cmd); err != nil {
			panic(err)
		}
	}
	return r
}

func (r *Registry) add(cmd *Command) error {
	names := append([]string{cmd.Name}, cmd.Aliases...)
	for _, n := range names {
		if _, dup := r.byName[strings.ToLower(n)]; dup {
			return fmt.Errorf("duplicate command %s", n)
		}
	}
	for _, n := range names {
		r.byName[strings.ToLower(n)] = cmd
	}
	r.ordered = append(r.ordered, cmd)
	return nil
}

// Add registers the commands of extension ext: each is reachable as
// `!ext.cmd` and, unless a core command has the name, as `!cmd`. Names are
// given without the `!` ("netadapter").
func (r *Registry) Add(ext string, cmds ...*Command) error {
	ext = strings.TrimPrefix(ext, "!")
	for _, c := range cmds {
		short := strings.TrimPrefix(c.Name, "!")
		cc := *c
		cc.Name = "!" + ext + "." + short
		cc.Aliases = nil
		if cc.Family == "" {
			cc.Family = "extension " + ext
		}
		if _, taken := r.byName["!"+strings.ToLower(short)]; !taken {
			cc.Aliases = append(cc.Aliases, "!"+short)
		}
		if err := r.add(&cc); err != nil {
			return err
		}
	}
	return nil
}

// Commands returns the registry sorted by family, then name.
func (r *Registry) Commands() []*Command {
	out := append([]*Command(nil), r.ordered...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Family != out[j].Family {
			return familyRank(out[i].Family) < familyRank(out[j].Family)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

var families = []string{"threads", "stacks", "types", "symbols", "disassembly", "registers and memory", "modules and target", "expressions and events", "process structures", "session", "help"}

func familyRank(f string) int {
	for i, x := range families {
		if x == f {
			return i
		}
	}
	return len(families)
}

// Names lists every command name and alias, for completion.
func (r *Registry) Names() []string {
	var out []string
	for n, c := range r.byName {
		out = append(out, c.displayName(n))
	}
	sort.Strings(out)
	return out
}

func (c *Command) displayName(lower string) string {
	for _, n := range append([]string{c.Name}, c.Aliases...) {
		if strings.ToLower(n) == lower {
			return n
		}
	}
	return lower
}

// Lookup finds a command by exact name.
func (r *Registry) Lookup(name string) *Command { return r.byName[strings.ToLower(name)] }

// Markdown renders the registry as docs/commands.md: a table per family,
// then every command's full help.
func (r *Registry) Markdown() string {
	var b strings.Builder
	b.WriteString("# ntdbg commands\n\nGenerated from the command registry (`go test ./commands -update` rewrites it).\n")
	fam := ""
	cmds := r.Commands()
	for _, c := range cmds {
		if c.Family != fam {
			fam = c.Family
			fmt.Fprintf(&b, "\n## %s\n\n| command | syntax | what it does |\n|---|---|---|\n", fam)
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", strings.ReplaceAll(c.title(), "|", "\\|"), strings.ReplaceAll(c.Syntax, "|", "\\|"), c.Summary)
	}
	b.WriteString("\n## Help pages\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "\n### `%s`\n\n```\n%s\n```\n\n%s\n", c.title(), c.Syntax, c.Summary)
		if c.Help != "" {
			fmt.Fprintf(&b, "\n%s\n", c.Help)
		}
		if n := c.Needs; n.Kernel || n.User || n.Module != "" {
			var req []string
			if n.Kernel {
				req = append(req, "a kernel dump")
			}
			if n.User {
				req = append(req, "a user-mode dump")
			}
			if n.Module != "" {
				req = append(req, "symbols of "+n.Module)
			}
			fmt.Fprintf(&b, "\nNeeds %s.\n", strings.Join(req, " and "))
		}
	}
	return b.String()
}

func (c *Command) title() string {
	name := c.Name
	if len(c.Aliases) > 0 {
		name += ", " + strings.Join(c.Aliases, ", ")
	}
	return name
}

// The core registry, for callers that have no Ctx.
var defaultRegistry = sync.OnceValue(Default)

// Commands lists the core commands.
func Commands() []*Command { return defaultRegistry().Commands() }

// Names lists the core command names.
func Names() []string { return defaultRegistry().Names() }

// Lookup finds a core command.
func Lookup(name string) *Command { return defaultRegistry().Lookup(name) }

// Markdown renders the core registry.
func Markdown() string { return defaultRegistry().Markdown() }

// Reg is the registry this context dispatches through.
func (c *Ctx) Reg() *Registry { return c.reg() }

func (c *Ctx) reg() *Registry {
	if c.Registry == nil {
		c.Registry = defaultRegistry()
	}
	return c.Registry
}

// SyntaxError is printed as a caret line under the typed command. Pos is the
// parse position in the input line: the caret goes under the character
// before it, as WinDbg places it.
type SyntaxError struct {
	Kind string // "Syntax", "Bad register", "Illegal thread", "Extra character", "Range"
	Pos  int
	Text string // the command text to quote; filled by the dispatcher if empty
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s error in '%s'", e.Kind, e.Text) }

// Printf writes formatted output.
func (c *Ctx) Printf(format string, a ...any) { fmt.Fprintf(c.Out, format, a...) }

// Println writes a line.
func (c *Ctx) Println(a ...any) { fmt.Fprintln(c.Out, a...) }

// SetSymbols installs the symbol layer: lookups and its configuration.
func (c *Ctx) SetSymbols(s *symbols.Symbols) {
	c.SymConfig = s
	if s == nil {
		c.S.Symbols = symbols.Null{}
	} else {
		c.S.Symbols = s
	}
}
