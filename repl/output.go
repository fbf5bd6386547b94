package repl

import (
	"io"
	"os"
	"regexp"
	"sync"
)

// Output sends everything to the terminal (or stdout) and, while a log is
// open, to the log file too, with colour escapes removed. Writes to the log
// are unbuffered, so a crash or an abrupt end loses nothing already printed.
type Output struct {
	mu   sync.Mutex
	term io.Writer
	// Decorate, when set, colours lines for the terminal (never the log).
	Decorate func(line string) string
	log      *os.File
	logName  string
	logErr   error
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var n int
	var err error
	if o.Decorate != nil {
		if _, err = io.WriteString(o.term, decorateLines(string(p), o.Decorate)); err == nil {
			n = len(p)
		}
	} else {
		n, err = o.term.Write(p)
	}
	if o.log != nil {
		plain := ansi.ReplaceAll(p, nil)
		if _, lerr := o.log.Write(plain); lerr != nil && o.logErr == nil {
			o.logErr = lerr
		}
	}
	return n, err
}

// LogOnly writes to the log alone (the interactive echo of a typed line,
// which the terminal already shows).
func (o *Output) LogOnly(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log != nil {
		o.log.WriteString(ansi.ReplaceAllString(s, ""))
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
	o.log.Sync()
	o.log.Close()
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
