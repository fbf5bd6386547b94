package commands

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/ntdbg/ntdbg/engine/target"
)

// ErrQuit is returned by Execute after `q`.
var ErrQuit = errors.New("quit")

// segment is one command of a `;`-chained line.
type segment struct {
	text string
	off  int
}

// restOfLine are the commands whose argument is the rest of the line, `;`
// included: comments, scripts, and the search paths (`.sympath a;b`).
var restOfLine = []string{"*", "$<", "$><", ".sympath", ".exepath", ".srcpath", ".lsrcpath", ".extpath"}

func takesRestOfLine(rest string) bool {
	if _, ok := threadExecute(rest); ok {
		return true
	}
	l := strings.ToLower(rest)
	for _, p := range restOfLine {
		if !strings.HasPrefix(l, p) {
			continue
		}
		if p[0] != '.' {
			return true
		}
		if tail := l[len(p):]; tail == "" || tail[0] == ' ' || tail[0] == '\t' || tail[0] == '+' {
			return true
		}
	}
	return false
}

// threadExecute recognises `~Thread e CommandString`: the command string
// (after the `e`) is the rest of the line, `;` included (~e's page).
func threadExecute(text string) (string, bool) {
	if !strings.HasPrefix(text, "~") {
		return "", false
	}
	tp, err := threadParser.ParseString("", text, participle.AllowTrailing(true))
	if err != nil {
		return "", false
	}
	rest := strings.TrimLeft(text[tp.EndPos.Offset:], " \t")
	if len(rest) < 2 || rest[0] != 'e' || (rest[1] != ' ' && rest[1] != '\t') {
		return "", false
	}
	return rest[1:], true
}

// splitCommands splits a line at `;` the way the engine does: not inside
// quotes, and not after a command that takes the rest of the line.
func splitCommands(line string) []segment {
	var out []segment
	start := 0
	inQuote := false
	for i := 0; i < len(line); i++ {
		if i == start || strings.TrimSpace(line[start:i]) == "" {
			if takesRestOfLine(strings.TrimLeft(line[i:], " \t")) {
				break
			}
		}
		switch line[i] {
		case '"':
			inQuote = !inQuote
		case ';':
			if !inQuote {
				out = append(out, segment{line[start:i], start})
				start = i + 1
			}
		}
	}
	return append(out, segment{line[start:], start})
}

// Execute runs one input line. A panic in a handler is caught and reported;
// the session goes on. It returns ErrQuit after `q`.
func (c *Ctx) Execute(line string) (err error) {
	for _, seg := range splitCommands(line) {
		if e := c.runSegment(line, seg); e != nil {
			if e == ErrQuit {
				return ErrQuit
			}
			c.report(line, seg, e)
		}
	}
	return nil
}

func (c *Ctx) runSegment(line string, seg segment) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ntdbg: internal error in '%s': %v\n%s", strings.TrimSpace(seg.text), r, firstFrames(debug.Stack()))
		}
	}()
	text := seg.text
	lead := len(text) - len(strings.TrimLeft(text, " \t"))
	text = strings.TrimRight(text[lead:], " \t\r\n")
	if text == "" {
		return nil
	}
	return c.guarded(func() error { return c.dispatch(line, text, seg.off+lead) })
}

func firstFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	if len(lines) > 12 {
		lines = lines[:12]
	}
	return strings.Join(lines, "\n")
}

func (c *Ctx) report(line string, seg segment, err error) {
	var se *SyntaxError
	if errors.As(err, &se) {
		if se.Text == "" {
			se.Text = strings.TrimSpace(seg.text)
		}
		col := len(c.Host.Prompt()) + se.Pos - 1
		if col < 0 {
			col = 0
		}
		c.Errorf("%s^ %s error in '%s'", strings.Repeat(" ", col), se.Kind, se.Text)
		return
	}
	c.Errorf("%s", err.Error())
}

// dispatch runs one command whose text starts at off in line.
func (c *Ctx) dispatch(line, text string, off int) error {
	switch {
	case strings.HasPrefix(text, "$$") && !strings.HasPrefix(text, "$$<") && !strings.HasPrefix(text, "$$><"):
		return nil // comment
	case strings.HasPrefix(text, "*"):
		return nil // comment to end of line
	case strings.HasPrefix(text, "~"):
		return c.threadCommand(line, text, off)
	case strings.HasPrefix(text, "$<") || strings.HasPrefix(text, "$><") || strings.HasPrefix(text, "$$<") || strings.HasPrefix(text, "$$><"):
		return c.runScriptCommand(text)
	}
	name, typed := c.commandName(text)
	if name == nil {
		if strings.HasPrefix(text, "!") {
			ext := strings.Fields(text)[0][1:]
			qualified := false
			if i := strings.LastIndexByte(ext, '.'); i >= 0 {
				ext, qualified = ext[i+1:], true
			}
			if !qualified {
				// Current engines look a bare !name up in the extension
				// gallery first and say so.
				return fmt.Errorf("%s is not extension gallery command\nNo export %s found", target.Sanitize(ext), target.Sanitize(ext))
			}
			return fmt.Errorf("No export %s found", target.Sanitize(ext))
		}
		return &SyntaxError{Kind: "Syntax", Pos: off + wordEnd(text)}
	}
	inv := &Invocation{Name: name.Name, Typed: typed, Args: text[len(typed):], ArgsOff: off + len(typed), Line: line, Text: text}
	if err := name.Needs.check(c, name.Name); err != nil {
		return err
	}
	return name.Run(c, inv)
}

// wordEnd is the length of the first word of text (for caret placement).
func wordEnd(text string) int {
	if i := strings.IndexAny(text, " \t"); i >= 0 {
		return i
	}
	return len(text)
}

// commandName finds the registry entry for the start of text. Meta commands
// (`.x`) and extensions (`!x`) match a whole word; plain commands match the
// longest registered name, and glued options may follow names marked Glued.
func (c *Ctx) commandName(text string) (*Command, string) {
	switch text[0] {
	case '.', '!':
		end := 1
		for end < len(text) && (isAlnum(text[end]) || text[end] == '_' || (text[0] == '!' && text[end] == '.')) {
			end++
		}
		if cmd := c.reg().Lookup(text[:end]); cmd != nil {
			return cmd, text[:end]
		}
		return nil, ""
	case '?', '|':
		n := 1
		if len(text) > 1 && text[1] == text[0] {
			n = 2
		}
		if cmd := c.reg().Lookup(text[:n]); cmd != nil {
			return cmd, text[:n]
		}
		return nil, ""
	}
	end := 0
	for end < len(text) && isAlpha(text[end]) {
		end++
	}
	word := text[:end]
	if cmd := c.reg().Lookup(word); cmd != nil {
		return cmd, word
	}
	for n := len(word) - 1; n > 0; n-- {
		if cmd := c.reg().Lookup(word[:n]); cmd != nil && cmd.Glued {
			return cmd, word
		}
	}
	return nil, ""
}

func isAlpha(b byte) bool { return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') }
func isAlnum(b byte) bool { return isAlpha(b) || (b >= '0' && b <= '9') }

// options returns the glued options after the registry name (`cn` of `kcn`).
func (inv *Invocation) options() string {
	return inv.Typed[len(inv.Name):]
}

// threadCommand handles `~`, `~Ns`, `~*cmd`, `~~[tid]s` and friends.
func (c *Ctx) threadCommand(line, text string, off int) error {
	tp, err := threadParser.ParseString("", text, participle.AllowTrailing(true))
	if err != nil {
		return &SyntaxError{Kind: "Syntax", Pos: off + len(text)}
	}
	rest := text[tp.EndPos.Offset:]
	restOff := off + tp.EndPos.Offset
	threads := c.S.Target.Threads()
	var sel []int
	switch {
	case tp.All:
		for i := range threads {
			sel = append(sel, i)
		}
	case tp.Cur:
		sel = []int{c.S.CurThread}
	case tp.Event:
		if c.S.EventThread < 0 {
			return &SyntaxError{Kind: "Illegal thread", Pos: restOff, Text: text}
		}
		sel = []int{c.S.EventThread}
	case tp.ByTID != nil:
		inner := (*tp.ByTID)[1 : len(*tp.ByTID)-1]
		v, err := c.Eval(inner)
		if err != nil {
			return err
		}
		found := -1
		for _, th := range threads {
			if uint64(th.ID) == v {
				found = th.Index
			}
		}
		if found < 0 {
			return &SyntaxError{Kind: "Illegal thread", Pos: restOff, Text: text}
		}
		sel = []int{found}
	case tp.ByExpr != nil:
		inner := (*tp.ByExpr)[1 : len(*tp.ByExpr)-1]
		v, err := c.Eval(inner)
		if err != nil {
			return err
		}
		if v >= uint64(len(threads)) {
			return &SyntaxError{Kind: "Illegal thread", Pos: restOff, Text: text}
		}
		sel = []int{int(v)}
	case tp.Index != nil:
		var n int
		fmt.Sscanf(*tp.Index, "%d", &n)
		if n < 0 || n >= len(threads) || len(*tp.Index) > 9 {
			return &SyntaxError{Kind: "Illegal thread", Pos: restOff, Text: text}
		}
		sel = []int{n}
	default:
		// bare `~`: list, or `~s` / `~ s` for the current thread.
		if r := strings.TrimSpace(rest); r == "" {
			for i := range threads {
				c.threadLine(i)
			}
			return nil
		} else if r == "s" {
			return c.showLocation()
		}
		sel = []int{c.S.CurThread}
	}
	cmd := strings.TrimLeft(rest, " \t")
	cmdOff := restOff + len(rest) - len(cmd)
	switch {
	case cmd == "":
		for _, i := range sel {
			c.threadLine(i)
			c.threadDetail(i)
		}
		return nil
	case cmd == "s":
		if tp.All {
			return &SyntaxError{Kind: "Illegal thread", Pos: cmdOff + 1, Text: text}
		}
		if err := c.S.SetThread(sel[0]); err != nil {
			return err
		}
		return c.showLocation()
	}
	// ~e: the rest of the line is a `;`-separated command string, run in
	// each selected thread's context; the current thread is left as it was.
	segs := []segment{{cmd, cmdOff}}
	if strings.HasPrefix(cmd, "e ") || strings.HasPrefix(cmd, "e\t") {
		str := strings.TrimLeft(cmd[2:], " \t")
		base := cmdOff + len(cmd) - len(str)
		segs = segs[:0]
		for _, sg := range splitCommands(str) {
			t := strings.TrimLeft(sg.text, " \t")
			if t = strings.TrimRight(t, " \t\r\n"); t != "" {
				segs = append(segs, segment{t, base + sg.off + len(sg.text) - len(strings.TrimLeft(sg.text, " \t"))})
			}
		}
	}
	defer c.S.Save()()
	for _, i := range sel {
		if tp.All {
			c.Println()
			c.threadLine(i)
		}
		for _, sg := range segs {
			c.S.SetThread(i)
			if err := c.dispatch(line, sg.text, sg.off); err != nil {
				if err == ErrQuit {
					return err
				}
				c.report(line, sg, err)
			}
		}
	}
	return nil
}
