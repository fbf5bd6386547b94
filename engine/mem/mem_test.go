package mem

import (
	"bytes"
	"errors"
	"testing"
)

func TestRangeMapPartialReads(t *testing.T) {
	src := bytes.NewReader([]byte("0123456789abcdefghij"))
	m := NewRangeMap([]Range{
		{Start: 0x2000, Size: 10, Src: src, Off: 10}, // "abcdefghij"
		{Start: 0x1000, Size: 10, Src: src, Off: 0},  // "0123456789"
		{Start: 0x100a, Size: 4, Src: src, Off: 10},  // adjacent: "abcd"
		{Start: 0x1004, Size: 2, Src: src, Off: 15},  // overlaps the first: ignored
	})
	buf := make([]byte, 14)
	n, err := m.ReadVirtual(buf, 0x1000)
	if n != 14 || err != nil || string(buf) != "0123456789abcd" {
		t.Fatalf("adjacent ranges: %d %v %q", n, err, buf[:n])
	}
	buf = make([]byte, 8)
	n, err = m.ReadVirtual(buf, 0x100c)
	var me *Error
	if n != 2 || !errors.As(err, &me) || me.Addr != 0x100e {
		t.Fatalf("partial read: n=%d err=%v", n, err)
	}
	if n, err := m.ReadVirtual(buf, 0x0fff); n != 0 || err == nil {
		t.Fatalf("read before the first range: %d %v", n, err)
	}
	if err := ReadFull(m, buf[:4], 0x2006); err != nil || string(buf[:4]) != "ghij" {
		t.Fatalf("read to range end: %v %q", err, buf[:4])
	}
}
