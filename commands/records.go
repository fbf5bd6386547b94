package commands

import (
	"bytes"
	"io"
)

// Structured output (issue 13): a command may attach records — typed Go
// values with documented JSON field names — to what it prints. Front ends
// that want data (-json, .json on, the MCP server) run a command with
// Capture and get its exact text, its records, and its errors and
// warnings; text mode ignores records.

// Record attaches one record of the given kind ("thread", "frame",
// "module", ...) to the running command's output.
func (c *Ctx) Record(kind string, v any) {
	if c.records != nil {
		*c.records = append(*c.records, Record{Kind: kind, Value: v})
	}
}

// Record is one structured result of a command.
type Record struct {
	Kind  string `json:"kind"`
	Value any    `json:"value"`
}

// Captured is one command's output as data.
type Captured struct {
	Text     string   `json:"text"`
	Records  []Record `json:"records"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings"`
}

// capture collects a command's text by kind while still passing it on.
type capture struct {
	next io.Writer
	text bytes.Buffer
	res  *Captured
}

func (w *capture) Write(p []byte) (int, error) {
	w.text.Write(p)
	if w.next != nil {
		return w.next.Write(p)
	}
	return len(p), nil
}

func (w *capture) Emit(k Kind, text, cmd string) {
	w.text.WriteString(text)
	switch k {
	case KindError:
		w.res.Errors = append(w.res.Errors, trimNL(text))
	case KindWarning:
		w.res.Warnings = append(w.res.Warnings, trimNL(text))
	}
	if s, ok := w.next.(Sink); ok {
		s.Emit(k, text, cmd)
	} else if w.next != nil {
		io.WriteString(w.next, text)
	}
}

func trimNL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// Capture runs one input line and returns its text, records, errors and
// warnings. With echo false nothing reaches the context's own output.
func (c *Ctx) Capture(line string, echo bool) (Captured, error) {
	var res Captured
	w := &capture{res: &res}
	if echo {
		w.next = c.Out
	}
	orig, origRecs := c.Out, c.records
	recs := []Record{}
	c.Out, c.records = w, &recs
	err := c.Execute(line)
	c.Out, c.records = orig, origRecs
	res.Text, res.Records = w.text.String(), recs
	if len(recs) == 0 {
		res.Records = nil
	}
	return res, err
}
