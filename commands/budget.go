package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Every command runs behind a guard on its output: a budget of bytes, so
// that no command can print without end (a self-embedding type under
// dt -r99, db over a 64 GB range), and the front end's interrupt (Ctrl-C),
// checked at every write, so that any printing command stops at once. Both
// end the command with a line that says why; the session goes on.

func init() {
	Register(&Command{Name: ".outbudget", Family: "session", Syntax: ".outbudget [Megabytes]",
		Summary: "show or set how much one command may print before it is cut (ntdbg's addition; default 256 MB)",
		Run: func(c *Ctx, inv *Invocation) error {
			if a := strings.TrimSpace(inv.Args); a != "" {
				n, err := strconv.ParseUint(a, 10, 32)
				if err != nil || n == 0 {
					return fmt.Errorf(".outbudget: give a size in megabytes (1 or more)")
				}
				c.OutBudget = int64(n) << 20
			}
			c.Printf("Output budget per command: %d MB\n", c.outBudget()>>20)
			return nil
		}})
}

// DefaultOutBudget is what one command may print.
const DefaultOutBudget = 256 << 20

func (c *Ctx) outBudget() int64 {
	if c.OutBudget <= 0 {
		return DefaultOutBudget
	}
	return c.OutBudget
}

// cut is the panic that ends a command from inside a write; runSegment
// turns it into the command's error.
type cut struct{ why string }

// guard wraps a command's output. It keeps kinds (Sink) when the output
// has them.
type guard struct {
	w       io.Writer
	c       *Ctx
	written int64
	budget  int64
}

func (g *guard) check(n int) {
	if g.c.Interrupted != nil && g.c.Interrupted() {
		panic(cut{"Command cancelled by Ctrl-C"})
	}
	if g.written+int64(n) > g.budget {
		panic(cut{fmt.Sprintf("Output cut: the command printed %d MB, its budget (.outbudget changes it)", g.budget>>20)})
	}
	g.written += int64(n)
}

func (g *guard) Write(p []byte) (int, error) {
	g.check(len(p))
	return g.w.Write(p)
}

func (g *guard) Emit(k Kind, text, cmd string) {
	g.check(len(text))
	if s, ok := g.w.(Sink); ok {
		s.Emit(k, text, cmd)
		return
	}
	io.WriteString(g.w, text)
}

// guarded runs fn with the output behind a guard; a cut becomes an error.
func (c *Ctx) guarded(fn func() error) (err error) {
	if _, nested := c.Out.(*guard); nested {
		// A command run by a command (scripts, ~*e, .link) shares the
		// outer command's budget and interrupt.
		return fn()
	}
	orig := c.Out
	c.Out = &guard{w: orig, c: c, budget: c.outBudget()}
	defer func() {
		c.Out = orig
		if r := recover(); r != nil {
			if k, ok := r.(cut); ok {
				err = fmt.Errorf("%s", k.why)
				return
			}
			panic(r)
		}
	}()
	return fn()
}
