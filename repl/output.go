package repl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/ntdbg/ntdbg/commands"
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

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var n int
	var err error
	n, err = o.term.Write(p)
	if o.log != nil {
		o.logWrite(p)
	}
	return n, err
}

// logWrite writes to the log; the first failure is reported on the
// terminal at once (with what failed), so a user never believes a log
// holds what it does not. Later writes are still tried.
func (o *Output) logWrite(b []byte) {
	if _, err := o.log.Write(b); err != nil && o.logErr == nil {
		o.logErr = err
		fmt.Fprintf(o.term, "WARNING: writing log file '%s' failed: %v; the log is incomplete from here on\n", o.logName, err)
	}
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
	if k == commands.KindLink && o.DML && cmd != "" && len(o.links) < maxLinks {
		o.links = append(o.links, cmd)
		fmt.Fprintf(o.term, "\x1b[4m%s\x1b[24m[%d]", text, len(o.links))
		if o.log != nil {
			o.logWrite([]byte(text))
		}
		return
	}
	if o.Colour != nil && k != commands.KindText && k != commands.KindLink {
		io.WriteString(o.term, decorateLines(text, func(l string) string { return o.Colour(k, l) }))
	} else {
		io.WriteString(o.term, text)
	}
	if o.log != nil {
		o.logWrite([]byte(text))
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
		return "", err
	}
	o.mu.Lock()
	o.log, o.logName, o.logErr = f, path, nil
	o.mu.Unlock()
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
