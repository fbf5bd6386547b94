// Package commands holds the command registry, the grammar and every command
// handler, grouped by family. Output goes to Ctx.Out in WinDbg's layout.
package commands

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"ntdbg/engine"
	"ntdbg/engine/symbols"
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
	// Now is the clock (tests pin it).
	Now func() time.Time
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
	Run   func(c *Ctx, inv *Invocation) error
}

var registry = map[string]*Command{}
var ordered []*Command

// Register adds a command. Extensions register their `!ext.cmd` names here too.
func Register(cmd *Command) {
	for _, n := range append([]string{cmd.Name}, cmd.Aliases...) {
		if _, dup := registry[strings.ToLower(n)]; dup {
			panic("duplicate command " + n)
		}
		registry[strings.ToLower(n)] = cmd
	}
	ordered = append(ordered, cmd)
}

// Commands returns the registry sorted by family, then name.
func Commands() []*Command {
	out := append([]*Command(nil), ordered...)
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
func Names() []string {
	var out []string
	for n := range registry {
		out = append(out, registry[n].displayName(n))
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
func Lookup(name string) *Command { return registry[strings.ToLower(name)] }

// Markdown renders the registry as docs/commands.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# ntdbg commands\n\nGenerated from the command registry (`go test ./commands -update` rewrites it).\n")
	fam := ""
	for _, c := range Commands() {
		if c.Family != fam {
			fam = c.Family
			fmt.Fprintf(&b, "\n## %s\n\n| command | syntax | what it does |\n|---|---|---|\n", fam)
		}
		name := c.Name
		if len(c.Aliases) > 0 {
			name += ", " + strings.Join(c.Aliases, ", ")
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", strings.ReplaceAll(name, "|", "\\|"), strings.ReplaceAll(c.Syntax, "|", "\\|"), c.Summary)
	}
	return b.String()
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
	c.S.SymbolsChanged()
}
