package commands

import (
	"strings"
	"testing"
)

// Capture returns a command's exact text, its records, and its errors, and
// leaves the context's output alone when not echoing.
func TestCaptureTextRecordsErrors(t *testing.T) {
	c, out := newCtx(t)
	out.Reset()
	res, err := c.Capture("? 1; !nosuch", false)
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("capture without echo wrote %q", out.String())
	}
	if !strings.Contains(res.Text, "Evaluate expression: 1") || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "No export nosuch found") {
		t.Errorf("captured %+v", res)
	}
	if res.Records != nil {
		t.Errorf("records from commands that give none: %+v", res.Records)
	}
	want := run(t, c, out, "r rip")
	out.Reset()
	res, _ = c.Capture("r rip", true)
	if res.Text != want || out.String() != want {
		t.Errorf("echoed capture %q vs text mode %q", res.Text, want)
	}
}
