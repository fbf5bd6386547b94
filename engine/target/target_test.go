package target

import "testing"

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
