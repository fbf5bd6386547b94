package commands

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind says what a piece of output is, so the front end can colour it (and,
// later, render it as DML or JSON) without guessing from its text.
type Kind int

const (
	KindText    Kind = iota
	KindError        // a command's error (WinDbg's error wording)
	KindWarning      // a warning ("WARNING: ...", "*** WARNING: ...")
	KindLink         // text that stands for a command (a DML link)
	KindPrompt       // the prompt echoed before a command
)

// Sink is an output that keeps kinds. Output that is not a Sink gets plain text.
type Sink interface {
	// Emit writes text of kind k; for KindLink, cmd is the command it stands for.
	Emit(k Kind, text, cmd string)
}

// Emit writes text of kind k to the context's output.
func (c *Ctx) Emit(k Kind, text string) {
	if s, ok := c.Out.(Sink); ok {
		s.Emit(k, text, "")
		return
	}
	fmt.Fprint(c.Out, text)
}

// Warnf writes one warning line.
func (c *Ctx) Warnf(format string, a ...any) { c.Emit(KindWarning, fmt.Sprintf(format, a...)+"\n") }

// Errorf writes one error line.
func (c *Ctx) Errorf(format string, a ...any) { c.Emit(KindError, fmt.Sprintf(format, a...)+"\n") }

// Link writes text that stands for cmd (plain text where links are not shown).
func (c *Ctx) Link(text, cmd string) {
	if s, ok := c.Out.(Sink); ok {
		s.Emit(KindLink, text, cmd)
		return
	}
	fmt.Fprint(c.Out, text)
}

// DMLHost is a front end that shows DML links (the REPL on a terminal).
type DMLHost interface {
	PreferDML() bool
	SetPreferDML(bool)
	LinkCommand(n int) (string, bool)
}

func init() {
	Register(&Command{Name: ".prefer_dml", Family: "session", Syntax: ".prefer_dml [0 | 1]",
		Summary: "show DML links (underlined and numbered for .link) or plain text",
		Help:    "On by default on an interactive terminal, off in pipes, -c scripts and logs (links print as their text, as in cdb).",
		Run: func(c *Ctx, inv *Invocation) error {
			h, ok := c.Host.(DMLHost)
			if !ok {
				return fmt.Errorf("this front end shows no DML")
			}
			switch strings.TrimSpace(inv.Args) {
			case "1":
				h.SetPreferDML(true)
			case "0":
				h.SetPreferDML(false)
			case "":
			default:
				return &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff}
			}
			if h.PreferDML() {
				c.Println("DML versions of commands on by default")
			} else {
				c.Println("DML versions of commands off by default")
			}
			return nil
		}})
	Register(&Command{Name: ".link", Family: "session", Syntax: ".link N",
		Summary: "run the command of DML link N of the last output (ntdbg's addition: links are numbered on the terminal)",
		Run: func(c *Ctx, inv *Invocation) error {
			h, ok := c.Host.(DMLHost)
			if !ok {
				return fmt.Errorf("this front end shows no DML")
			}
			n, err := strconv.Atoi(strings.TrimSpace(inv.Args))
			if err != nil {
				return &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff}
			}
			cmd, ok := h.LinkCommand(n)
			if !ok {
				return fmt.Errorf("No link %d in the last output", n)
			}
			return c.Execute(cmd)
		}})
}
