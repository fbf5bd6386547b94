package repl

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/ntdbg/ntdbg/commands"
)

// A hand-written encoder for the JSON Lines objects: the same output as
// encoding/json with HTML escaping off (field order, escapes, null for nil
// slices and pointers), without reflection for the line and for frame
// records, which `~*k` produces by the thousand. Other records go through
// encoding/json.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// with SetEscapeHTML(false): quotes, backslashes, control characters,
// invalid UTF-8 (as U+FFFD) and U+2028/U+2029.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

func appendFrame(b []byte, r *commands.FrameRecord) []byte {
	b = append(b, `{"thread":`...)
	b = strconv.AppendInt(b, int64(r.Thread), 10)
	b = append(b, `,"frame":`...)
	b = strconv.AppendInt(b, int64(r.Frame), 10)
	b = append(b, `,"child_sp":`...)
	b = appendString(b, r.ChildSP)
	b = append(b, `,"child_ebp":`...)
	b = appendOptString(b, r.ChildEBP)
	b = append(b, `,"return_address":`...)
	b = appendString(b, r.ReturnAddress)
	b = append(b, `,"instruction_pointer":`...)
	b = appendString(b, r.InstructionPointer)
	b = append(b, `,"call_site":`...)
	b = appendString(b, r.CallSite)
	b = append(b, `,"module":`...)
	b = appendOptString(b, r.Module)
	b = append(b, `,"symbol":`...)
	b = appendOptString(b, r.Symbol)
	b = append(b, `,"offset":`...)
	b = appendOptString(b, r.Offset)
	b = append(b, `,"source_file":`...)
	b = appendOptString(b, r.SourceFile)
	b = append(b, `,"source_line":`...)
	if r.SourceLine == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, int64(*r.SourceLine), 10)
	}
	b = append(b, `,"trust":`...)
	b = appendString(b, r.Trust)
	return append(b, '}')
}

// appendLine appends the object of one command and a newline.
func appendLine(b []byte, l *JSONLine) ([]byte, error) {
	b = append(b, `{"command":`...)
	b = appendString(b, l.Command)
	b = append(b, `,"system":`...)
	b = strconv.AppendInt(b, int64(l.System), 10)
	b = append(b, `,"process":`...)
	b = strconv.AppendUint(b, uint64(l.Process), 10)
	b = append(b, `,"thread":`...)
	b = strconv.AppendInt(b, int64(l.Thread), 10)
	b = append(b, `,"text":`...)
	b = appendString(b, l.Text)
	b = append(b, `,"records":`...)
	if l.Records == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range l.Records {
			if i > 0 {
				b = append(b, ',')
			}
			rec := &l.Records[i]
			b = append(b, `{"kind":`...)
			b = appendString(b, rec.Kind)
			b = append(b, `,"value":`...)
			switch v := rec.Value.(type) {
			case commands.FrameRecord:
				b = appendFrame(b, &v)
			case *commands.FrameRecord:
				b = appendFrame(b, v)
			default:
				j, err := marshalNoHTML(v)
				if err != nil {
					return b, err
				}
				b = append(b, j...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"errors":`...)
	b = appendStrings(b, l.Errors)
	b = append(b, `,"warnings":`...)
	b = appendStrings(b, l.Warnings)
	return append(b, '}', '\n'), nil
}

// marshalNoHTML is json.Marshal without HTML escaping and without the
// trailing newline an Encoder writes.
func marshalNoHTML(v any) ([]byte, error) {
	var buf jsonBuf
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	out := buf.b
	if n := len(out); n > 0 && out[n-1] == '\n' {
		out = out[:n-1]
	}
	return out, nil
}

type jsonBuf struct{ b []byte }

func (w *jsonBuf) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
