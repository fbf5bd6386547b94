package target

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	cases := map[string]string{
		"plain.dll":              "plain.dll",
		"evil\x1b]0;title\x07":   `evil\x1b]0;title\x07`,
		"clear\x1b[2J":           `clear\x1b[2J`,
		"c1\u009bx":              `c1\x9bx`,
		"Mitteleuropäische Zeit": "Mitteleuropäische Zeit",
		"exe.\u202eTXT.sys":      `exe.\u202eTXT.sys`, // a right-to-left override reorders the line
		"zero\u200bwidth":        `zero\u200bwidth`,
		"iso\u2066late":          `iso\u2066late`,
		"arabic\u061cmark":       `arabic\u061cmark`,
		"line\u2028sep\u2029":    `line\u2028sep\u2029`,
		"lrm\u200e rlm\u200f":    `lrm\u200e rlm\u200f`,
		"joiner\u2060":           `joiner\u2060`,
		`C:\x64\build\app.pdb`:   `C:\x64\build\app.pdb`, // text (paths) keeps its backslashes
	}
	for in, want := range cases {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	if m, _ := ModuleNameFromPath(`..\..\x\evil` + "\x1b" + `.dll`); m != `evil\x1b` {
		t.Errorf("module name %q", m)
	}
}

// Names double their backslashes, so a name holding the text \x1b reads
// differently from a name holding ESC (issue 11, finding 2).
func TestSanitizeName(t *testing.T) {
	if a, b := SanitizeName("a\x1b"), SanitizeName(`a\x1b`); a == b || a != `a\x1b` || b != `a\\x1b` {
		t.Errorf("ESC %q and the text \\x1b %q must differ", a, b)
	}
	if got := SanitizeName("ok_name::f"); got != "ok_name::f" {
		t.Errorf("a clean name changed: %q", got)
	}
	// Text that was sanitized stays as it is when sanitized again.
	if s := Sanitize("x\x1b\u202e"); Sanitize(s) != s {
		t.Errorf("Sanitize is not idempotent on its output: %q", s)
	}
}

// A dump's names and paths are cut to bounded lengths (issue 11, finding
// 11: 58 modules sharing one 64 KB name printed 58 MB).
func TestLongNamesAreCut(t *testing.T) {
	long := strings.Repeat("ä", 40000) + ".dll"
	m, img := ModuleNameFromPath(`C:\x\` + long)
	if len(m) > MaxNameLen+32 || len(img) > MaxNameLen+32 || !strings.Contains(m, "bytes more)") {
		t.Errorf("module %d bytes, image %d bytes", len(m), len(img))
	}
	if !utf8.ValidString(m) {
		t.Error("cut inside a character")
	}
	if got := CapText("short", 10); got != "short" {
		t.Errorf("CapText changed a short text: %q", got)
	}
}
