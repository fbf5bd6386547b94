package repl

import (
	"context"
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/commands"
)

// Front ends that drive a session themselves (the MCP server) start it with
// Start, run each command with RunCaptured and end it with Close; Run is
// not used then.

// Start prints the banner to the session's Stdout and opens the further
// dumps (Options.More) as systems, as Run does before it reads commands.
// The banner asks no symbol server.
func (s *Session) Start() { s.loadDumps("") }

// RunCaptured runs one input line as one command and returns its output as
// data; the prompt, the line and the output also go to Stdout and the open
// log, as batch mode prints them, and the JSON Lines log (.logopen /j) gets
// the line's object. Cancelling ctx cancels the command and its
// symbol downloads, as Ctrl-C does; the session goes on. `q` does not end
// the session here (ErrQuit is returned).
func (s *Session) RunCaptured(ctx context.Context, line string) (commands.Captured, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	s.ctx.Interrupted = func() bool { return ctx.Err() != nil }
	syms := s.ctx.SymConfig
	if syms != nil {
		syms.Begin(ctx)
	}
	defer func() {
		if syms != nil {
			syms.End()
		}
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
		s.ctx.Interrupted = nil
	}()
	if t := strings.TrimSpace(line); !strings.HasPrefix(t, ".link") {
		s.out.ResetLinks()
	}
	where := s.ctx.Where()
	s.out.Emit(commands.KindPrompt, s.Prompt(), "")
	fmt.Fprintf(s.out, "%s\n", line)
	c, err := s.ctx.Capture(line, true)
	if s.json.log != nil {
		// The JSON Lines log (.logopen /j) gets the line as one object.
		l := s.line(line, where, nil, c.Records)
		l.Text = c.Text
		if c.Errors != nil {
			l.Errors = c.Errors
		}
		if c.Warnings != nil {
			l.Warnings = c.Warnings
		}
		s.writeJSON(l, false)
	}
	return c, err
}

// Close ends a session that Start began: its log and every system's
// symbol layer (background downloads stop). The targets stay open: their
// opener closes them.
func (s *Session) Close() {
	s.out.CloseLog()
	for _, sys := range s.ctx.Systems() {
		if sys.Syms != nil {
			sys.Syms.Close()
		}
	}
}
