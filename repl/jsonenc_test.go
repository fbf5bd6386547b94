package repl

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ntdbg/ntdbg/commands"
)

// reference is the line as encoding/json writes it (HTML escaping off).
func reference(t testing.TB, l JSONLine) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleLine(s string) JSONLine {
	n := 12
	sym := "ntdll!" + s
	return JSONLine{Command: "~*k" + s, System: 1, Process: 0xc08, Thread: 20, Text: "a\tb\n" + s,
		Records: []commands.Record{
			{Kind: "frame", Value: commands.FrameRecord{Thread: 20, Frame: 3, ChildSP: "0x92d3afd738", ReturnAddress: "0x7fff97091064",
				InstructionPointer: "0x7fff97c3124a", CallSite: s, Symbol: &sym, SourceLine: &n, Trust: "unwind_data"}},
			{Kind: "frame", Value: &commands.FrameRecord{Thread: -1, CallSite: "<&>"}},
			{Kind: "other", Value: map[string]any{"k": s, "n": 1}},
		},
		Errors: []string{s}, Warnings: nil}
}

// The hand-written encoder writes exactly what encoding/json writes.
func TestAppendLineMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"uo\\te", "\x00\x01\x1f\x7f", "\xff\xfe bad", "\u2028\u2029", "<a>&b", "ä€😀", "\\x1b[2J"} {
		l := sampleLine(s)
		got, err := appendLine(nil, &l)
		if err != nil {
			t.Fatal(err)
		}
		if want := reference(t, l); !bytes.Equal(got, want) {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
	empty := JSONLine{}
	got, _ := appendLine(nil, &empty)
	if want := reference(t, empty); !bytes.Equal(got, want) {
		t.Errorf("empty:\n got %s\nwant %s", got, want)
	}
}

func FuzzAppendLine(f *testing.F) {
	for _, s := range []string{"plain", "\x00\xff\u2028<&>\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := sampleLine(s)
		got, err := appendLine(nil, &l)
		if err != nil {
			t.Fatal(err)
		}
		if want := reference(t, l); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}
