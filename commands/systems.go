package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
)

// Several dumps in one session, as WinDbg has it ("Debugging Multiple
// Targets", msdocs debugger/debugging-multiple-targets.md): each dump is a
// system; `||` lists them, `||N s` makes one current, `.opendump` adds one,
// and with more than one the prompt starts with `||S:`.

func init() {
	Register(&Command{Name: ".opendump", Family: "session", Syntax: ".opendump DumpFile",
		Summary: "open another dump as a new system of this session (|| lists them, ||N s switches)",
		Help:    "The dump is loaded at once (WinDbg waits for g; ntdbg accepts g and has nothing left to do). Its symbols use this session's symbol and image paths.",
		Run:     cmdOpenDump})
	Register(&Command{Name: "g", Family: "session", Syntax: "g",
		Summary: "go: on dumps, completes loading dumps opened with .opendump (nothing else runs)",
		Run: func(c *Ctx, inv *Invocation) error {
			return fmt.Errorf("No runnable debuggees error in 'g'")
		}})
}

// DumpKindLine is the banner's description of a dump ("User Mini Dump File
// with Full Memory: ...", "Kernel Bitmap Dump File: ..."), for front ends.
func DumpKindLine(t target.Target) string { return dumpKindLine(t) }

// System is one dump of the session with its symbol layer.
type System struct {
	S    *engine.Session
	Syms *symbols.Symbols
	Path string
}

// AddSystem adds a dump to the session. The first one added becomes
// current; later ones wait for `||N s`.
func (c *Ctx) AddSystem(s *engine.Session, syms *symbols.Symbols, path string) int {
	if len(c.systems) == 0 && c.S != nil && c.S != s {
		c.systems = append(c.systems, &System{S: c.S, Syms: c.SymConfig, Path: c.S.Target.Path()})
	}
	if syms != nil {
		s.Symbols = syms // its lookups work before it is ever current (!correlate)
	}
	c.systems = append(c.systems, &System{S: s, Syms: syms, Path: path})
	if len(c.systems) == 1 || c.S == nil {
		c.switchSystem(len(c.systems) - 1)
	}
	return len(c.systems) - 1
}

// Systems lists the session's dumps (one entry per system).
func (c *Ctx) Systems() []*System {
	if len(c.systems) == 0 && c.S != nil {
		return []*System{{S: c.S, Syms: c.SymConfig, Path: c.S.Target.Path()}}
	}
	return c.systems
}

// CurrentSystem is the index of the current system.
func (c *Ctx) CurrentSystem() int { return c.curSys }

func (c *Ctx) switchSystem(i int) {
	c.curSys = i
	sys := c.systems[i]
	c.S = sys.S
	c.SetSymbols(sys.Syms)
	c.hasLast, c.hasLastU = false, false
}

// systemPrefix is the prompt's `||S:` when the session has several systems.
func (c *Ctx) systemPrefix() string {
	if len(c.systems) <= 1 {
		return ""
	}
	return fmt.Sprintf("||%d:", c.curSys)
}

// cmdSystems is `||`, `||N` and `||N s`.
func cmdSystems(c *Ctx, inv *Invocation) error {
	args := strings.ReplaceAll(strings.TrimSpace(inv.Args), " ", "")
	systems := c.Systems()
	show := -1
	if args != "" {
		sw := strings.HasSuffix(strings.ToLower(args), "s")
		num := strings.TrimSuffix(strings.TrimSuffix(args, "s"), "S")
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || n >= len(systems) {
			return &SyntaxError{Kind: "Illegal system", Pos: inv.ArgsOff}
		}
		if sw {
			if len(c.systems) > 1 {
				c.switchSystem(n)
			}
			return nil
		}
		show = n
	}
	for i, sys := range systems {
		if show >= 0 && i != show {
			continue
		}
		mark := " "
		if i == c.curSys {
			mark = "."
		}
		c.Printf("%s%3d %s: %s\n", mark, i, systemKind(sys.S.Target), target.Sanitize(sys.Path))
	}
	return nil
}

func cmdOpenDump(c *Ctx, inv *Invocation) error {
	path := strings.Trim(strings.TrimSpace(inv.Args), "\"")
	if path == "" {
		return &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff}
	}
	if err := c.CheckFile("read", path); err != nil {
		return err
	}
	tg, err := engine.Open(path, engine.Options{})
	if err != nil {
		return err
	}
	s := engine.NewSession(tg)
	symPath := ""
	var imagePath []string
	if c.SymConfig != nil {
		symPath, imagePath = c.SymConfig.PathText, c.SymConfig.ImagePath
	}
	syms := symbols.NewSymbols(tg, symPath)
	syms.ImagePath = imagePath
	if c.SymConfig != nil {
		syms.Lines = c.SymConfig.Lines
	}
	c.Println()
	c.Printf("Loading Dump File [%s]\n", target.Sanitize(path))
	c.Println(dumpKindLine(tg))
	c.Println()
	c.Printf("Opened '%s'\n", target.Sanitize(path))
	c.AddSystem(s, syms, path)
	return nil
}
