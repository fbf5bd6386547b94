package repl

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/ntdbg/ntdbg/commands"
)

// JSON Lines output (issue 13): with -json or after `.json on`, each
// command is one JSON object on Stdout instead of its text; `.logopen /j`
// writes the same objects to a JSON Lines log while the text goes on as
// before.

// JSONLine is one command's object.
type JSONLine struct {
	Command  string            `json:"command"` // as typed ("" for the banner before the first command)
	System   int               `json:"system"`
	Process  uint32            `json:"process"`
	Thread   int               `json:"thread"`
	Text     string            `json:"text"` // exactly what text mode prints (after the echoed command line)
	Records  []commands.Record `json:"records"`
	Errors   []string          `json:"errors"`
	Warnings []string          `json:"warnings"`
}

type jsonState struct {
	on      bool
	log     *os.File
	logName string
	banner  bool // the banner is being kept for the first object
	where   commands.Where
}

// tap keeps what reaches the terminal while a command runs.
type tap struct {
	text             bytes.Buffer
	errors, warnings []string
	term             io.Writer // the terminal it replaced
}

func (t *tap) emit(k commands.Kind, text string) {
	t.text.WriteString(text)
	switch k {
	case commands.KindError:
		t.errors = append(t.errors, trimNL(text))
	case commands.KindWarning:
		t.warnings = append(t.warnings, trimNL(text))
	}
}

func trimNL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// startTap begins keeping the output; quiet keeps it off the terminal.
func (o *Output) startTap(quiet bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := &tap{term: o.term}
	if quiet {
		o.term = io.Discard
	}
	o.tap = t
}

// endTap stops keeping the output and returns it.
func (o *Output) endTap() *tap {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tap
	if t != nil {
		o.term, o.tap = t.term, nil
	}
	return t
}

// JSON and SetJSON are .json's state (commands.JSONHost).
func (s *Session) JSON() bool { return s.json.on }
func (s *Session) SetJSON(on bool) {
	s.json.on = on
}

// OpenJSONLog opens (or appends to) the JSON Lines log.
func (s *Session) OpenJSONLog(path string, appendMode bool) (string, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appendMode {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return "", err
	}
	s.CloseJSONLog()
	s.json.log, s.json.logName = f, path
	return path, nil
}

// CloseJSONLog closes the JSON Lines log.
func (s *Session) CloseJSONLog() (string, bool) {
	if s.json.log == nil {
		return "", false
	}
	s.json.log.Close()
	name := s.json.logName
	s.json.log, s.json.logName = nil, ""
	return name, true
}

// startJSON keeps the banner for the first object under -json.
func (s *Session) startJSON() {
	if !s.opts.JSON {
		return
	}
	s.json.on, s.json.banner = true, true
	s.json.where = s.ctx.Where()
	s.out.startTap(true)
}

// flushBanner writes the banner's object (command "") once.
func (s *Session) flushBanner() {
	if !s.json.banner {
		return
	}
	s.json.banner = false
	t := s.out.endTap()
	s.writeJSON(s.line("", s.json.where, t, nil), true)
}

// endJSON flushes what is pending at the end of the session.
func (s *Session) endJSON() {
	s.flushBanner()
	s.CloseJSONLog()
}

func (s *Session) line(cmd string, w commands.Where, t *tap, recs []commands.Record) JSONLine {
	l := JSONLine{Command: cmd, System: w.System, Process: w.Process, Thread: w.Thread,
		Records: recs, Errors: []string{}, Warnings: []string{}}
	if t != nil {
		l.Text = t.text.String()
		if t.errors != nil {
			l.Errors = t.errors
		}
		if t.warnings != nil {
			l.Warnings = t.warnings
		}
	}
	return l
}

func (s *Session) writeJSON(l JSONLine, toStdout bool) {
	b, err := encodeLine(l)
	if err != nil {
		b, _ = encodeLine(JSONLine{Command: l.Command, System: l.System, Process: l.Process, Thread: l.Thread,
			Errors: []string{fmt.Sprintf("ntdbg: the records do not encode as JSON: %v", err)}, Warnings: []string{}})
	}
	if toStdout {
		s.opts.Stdout.Write(b)
	}
	if s.json.log != nil {
		s.json.log.Write(b)
	}
}

// executeJSON runs a line one command at a time, writing each command's
// object to Stdout (JSON on) and to the JSON Lines log (when open).
func (s *Session) executeJSON(line string) error {
	s.flushBanner()
	var where commands.Where
	var quiet bool
	return s.ctx.CaptureEach(line, func(cmd string, w commands.Where) {
		where, quiet = w, s.json.on
		s.out.startTap(quiet)
	}, func(cmd string, recs []commands.Record) {
		t := s.out.endTap()
		if quiet || s.json.log != nil {
			s.writeJSON(s.line(cmd, where, t, recs), quiet)
		}
	})
}

// encodeLine is l as one line of JSON (with its newline); <, > and & stay
// as they are, for jq and eyes.
func encodeLine(l JSONLine) ([]byte, error) {
	size := len(l.Text) + 256 + 400*len(l.Records)
	return appendLine(make([]byte, 0, size), &l)
}
