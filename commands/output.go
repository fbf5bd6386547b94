package commands

import "fmt"

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
