package commands

import (
	"fmt"
	"strings"
)

// JSON Lines output (issue 13): -json, .json on|off and .logopen /j run
// each command of a line through CaptureEach and write one object per
// command.

func init() {
	Register(&Command{Name: ".json", Family: "session", Syntax: ".json [on|off]",
		Summary: "show or set JSON output: one JSON object per command (JSON Lines) instead of the text (ntdbg's)",
		Help: "Each object is {\"command\", \"system\", \"process\", \"thread\", \"text\", \"records\", \"errors\", \"warnings\"}:\n" +
			"the command as typed, where it ran, its text exactly as text mode prints it, its records (docs/schemas), or null.\n" +
			"`ntdbg -json` starts with it on; `.logopen /j File` keeps a JSON Lines log beside the text log.",
		Run: cmdJSON})
}

// JSONHost is a front end that can write JSON Lines (.json, .logopen /j).
type JSONHost interface {
	JSON() bool
	SetJSON(on bool)
	// OpenJSONLog opens a JSON Lines log; CloseJSONLog closes it.
	OpenJSONLog(path string, appendMode bool) (string, error)
	CloseJSONLog() (string, bool)
}

func cmdJSON(c *Ctx, inv *Invocation) error {
	h, ok := c.Host.(JSONHost)
	if !ok {
		return fmt.Errorf(".json: this front end has no JSON output")
	}
	switch a := strings.ToLower(strings.TrimSpace(inv.Args)); a {
	case "on":
		h.SetJSON(true)
	case "off":
		h.SetJSON(false)
	case "":
	default:
		return &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff + strings.Index(inv.Args, strings.TrimSpace(inv.Args))}
	}
	if h.JSON() {
		c.Println("JSON output is on")
	} else {
		c.Println("JSON output is off")
	}
	return nil
}

// Where is the system, process id and thread a command runs in.
type Where struct {
	System  int    `json:"system"`
	Process uint32 `json:"process"`
	Thread  int    `json:"thread"`
}

// Where reports the current system, process id and thread number.
func (c *Ctx) Where() Where {
	return Where{System: c.curSys, Process: c.pid(), Thread: c.S.CurThread}
}

// CaptureEach runs a line as Execute does, one `;`-separated command at a
// time, with each command's records collected: before runs ahead of each
// command (with the command as typed, and where it runs), after once it is
// done with its records. Output goes to the context's own writer, so
// carets and text are exactly Execute's. It returns ErrQuit after `q`.
func (c *Ctx) CaptureEach(line string, before func(cmd string, w Where), after func(cmd string, records []Record)) error {
	for _, seg := range splitCommands(line) {
		cmd := strings.TrimSpace(seg.text)
		if cmd == "" {
			continue
		}
		before(cmd, c.Where())
		orig := c.records
		recs := []Record{}
		c.records = &recs
		e := c.runSegment(line, seg)
		if e != nil && e != ErrQuit {
			c.report(line, seg, e)
		}
		c.records = orig
		if len(recs) == 0 {
			recs = nil
		}
		after(cmd, recs)
		if e == ErrQuit {
			return ErrQuit
		}
	}
	return nil
}

// openJSONLog is .logopen /j's JSON Lines log: the text log's name with
// the extension .jsonl, beside it.
func openJSONLog(c *Ctx, textLog string, appendMode bool) error {
	h, ok := c.Host.(JSONHost)
	if !ok {
		return fmt.Errorf(".logopen /j: this front end has no JSON output")
	}
	name := textLog
	if i := strings.LastIndexByte(name, '.'); i > strings.LastIndexAny(name, `/\`) {
		name = name[:i]
	}
	name += ".jsonl"
	path, err := h.OpenJSONLog(name, appendMode)
	if err != nil {
		return fmt.Errorf("Unable to open JSON log file '%s', %v", name, err)
	}
	c.Printf("Opened JSON log file '%s'\n", path)
	return nil
}

// closeJSONLog closes .logopen /j's log with the text log.
func closeJSONLog(c *Ctx) {
	if h, ok := c.Host.(JSONHost); ok {
		if name, ok := h.CloseJSONLog(); ok {
			c.Printf("Closing open JSON log file %s\n", name)
		}
	}
}
