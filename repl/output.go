package repl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/engine/target"
)

// Output sends everything to the terminal (or stdout) and, while a log is
// open, to the log file too; colour (from Emit's kinds) reaches the terminal only. Writes to the log
// are unbuffered, so a crash or an abrupt end loses nothing already printed.
type Output struct {
	mu   sync.Mutex
	term io.Writer
	// Colour, when set, colours text by kind for the terminal (never the log).
	Colour  func(k commands.Kind, text string) string
	log     *os.File
	logName string
	logErr  error
	// DML (.prefer_dml) shows links on the terminal underlined and
	// numbered, `[N]`, for `.link N`; off, and always in the log, a link is
	// its plain text, as cdb prints it.
	DML   bool
	links []string
	// tap, while set, keeps what a command prints (JSON output).
	tap *tap
}

// maxLinks bounds the links one command's output numbers.
const maxLinks = 10000

// ResetLinks starts a new command's link numbering.
func (o *Output) ResetLinks() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.links = o.links[:0]
}

// LinkCommand is the command of link n (1-based) of the last output.
func (o *Output) LinkCommand(n int) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n < 1 || n > len(o.links) {
		return "", false
	}
	return o.links[n-1], true
}

// Write is the boundary every command's text crosses on its way out:
// control characters other than newline and tab, and the invisible and
// bidirectional characters, are escaped here whatever their source (a dump,
// a symbol file, a server's error text), so nothing a command prints can
// drive the terminal. The log is written first, so an interrupted write
// to the terminal loses nothing the log should hold.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	safe := p
	if s, changed := terminalSafe(string(p)); changed {
		safe = []byte(s)
	}
	if o.tap != nil {
		o.tap.text.Write(safe)
	}
	failed := o.log != nil && o.logFailed(safe)
	_, err := o.term.Write(safe)
	if failed {
		o.reportLogErr()
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// terminalSafe escapes what must not reach a terminal raw: C0 controls but
// newline and tab, DEL, C1 controls, invalid UTF-8, and the characters
// target.Sanitize calls invisible. Backslashes are left alone (text that
// was sanitized before stays as it is).
func terminalSafe(s string) (string, bool) {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s, false
	}
	var b strings.Builder
	changed := false
	for i, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
			changed = true
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, "\\x%02x", r)
			changed = true
		case target.Invisible(r):
			fmt.Fprintf(&b, "\\u%04x", r)
			changed = true
		default:
			b.WriteRune(r)
		}
	}
	if !changed {
		return s, false
	}
	return b.String(), true
}

// logWrite writes to the log; the first failure is reported on the
// terminal at once (with what failed), so a user never believes a log
// holds what it does not. Later writes are still tried.
func (o *Output) logWrite(b []byte) {
	if o.logFailed(b) {
		o.reportLogErr()
	}
}

// logFailed writes b to the log and reports whether this write is the first
// to fail (the caller says so on the terminal once its own text is out).
func (o *Output) logFailed(b []byte) bool {
	if _, err := o.log.Write(b); err != nil && o.logErr == nil {
		o.logErr = err
		return true
	}
	return false
}

func (o *Output) reportLogErr() {
	fmt.Fprintf(o.term, "WARNING: writing log file '%s' failed: %v; the log is incomplete from here on\n", o.logName, o.logErr)
}

// LogErr is the first log write error since the log was opened.
func (o *Output) LogErr() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.logErr
}

// Emit implements commands.Sink: text of a kind, coloured on the terminal
// by its kind (errors, warnings), plain in the log.
func (o *Output) Emit(k commands.Kind, text, cmd string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	text, _ = terminalSafe(text)
	if o.tap != nil {
		o.tap.emit(k, text)
	}
	failed := o.log != nil && o.logFailed([]byte(text))
	if failed {
		defer o.reportLogErr()
	}
	if k == commands.KindLink && o.DML && cmd != "" && len(o.links) < maxLinks {
		o.links = append(o.links, cmd)
		fmt.Fprintf(o.term, "\x1b[4m%s\x1b[24m[%d]", text, len(o.links))
		return
	}
	if o.Colour != nil && k != commands.KindText && k != commands.KindLink {
		io.WriteString(o.term, decorateLines(text, func(l string) string { return o.Colour(k, l) }))
	} else {
		io.WriteString(o.term, text)
	}
}

// LogOnly writes to the log alone (the interactive echo of a typed line,
// which the terminal already shows).
func (o *Output) LogOnly(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log != nil {
		o.logWrite([]byte(s))
	}
}

// OpenLog opens (or appends to) a log file.
func (o *Output) OpenLog(path string, appendMode bool) (string, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appendMode {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return "", err // the open log, if any, stays
	}
	o.mu.Lock()
	prev := o.log
	o.log, o.logName, o.logErr = f, path, nil
	o.mu.Unlock()
	if prev != nil {
		prev.Sync()
		prev.Close()
	}
	return path, nil
}

// CloseLog flushes and closes the log.
func (o *Output) CloseLog() (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log == nil {
		return "", false
	}
	serr := o.log.Sync()
	if cerr := o.log.Close(); cerr != nil && o.logErr == nil {
		o.logErr = cerr
		fmt.Fprintf(o.term, "WARNING: closing log file '%s' failed: %v\n", o.logName, cerr)
	} else if serr != nil && o.logErr == nil && !errors.Is(serr, os.ErrInvalid) {
		o.logErr = serr
		fmt.Fprintf(o.term, "WARNING: flushing log file '%s' failed: %v\n", o.logName, serr)
	}
	name := o.logName
	o.log, o.logName = nil, ""
	return name, true
}

// LogName reports the open log.
func (o *Output) LogName() (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.logName, o.log != nil
}

// decorateLines applies fn to each complete line of s.
func decorateLines(s string, fn func(string) string) string {
	var b []byte
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		b = append(b, fn(s[:i])...)
		if i < len(s) {
			b = append(b, '\n')
			i++
		}
		s = s[i:]
	}
	return string(b)
}
