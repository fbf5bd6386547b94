package decode

import (
	"errors"
	"testing"
)

func TestStickyError(t *testing.T) {
	d := New("minidump", "MINIDUMP_HEADER", []byte{1, 0, 0, 0, 2, 0}, 0x40)
	if v := d.U32(); v != 1 {
		t.Fatalf("U32 = %d", v)
	}
	if v := d.U32(); v != 0 {
		t.Fatalf("U32 past the end = %d, want 0", v)
	}
	if v := d.U16(); v != 0 {
		t.Fatalf("U16 after an error = %d, want 0 (sticky)", v)
	}
	var e *Error
	if !errors.As(d.Err(), &e) {
		t.Fatalf("Err = %v", d.Err())
	}
	if e.Offset != 0x44 || e.What != "MINIDUMP_HEADER" {
		t.Fatalf("error %+v, want offset 0x44 in MINIDUMP_HEADER", e)
	}
	if got, want := e.Error(), "minidump: MINIDUMP_HEADER at offset 0x44: 4 bytes needed, 2 left"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}

func TestFailfKeepsFirst(t *testing.T) {
	d := New("x", "S", make([]byte, 8), 0)
	d.U32()
	d.Failf("bad %d", 1)
	d.Failf("bad %d", 2)
	if d.Err().Error() != "x: S at offset 0x4: bad 1" {
		t.Fatal(d.Err())
	}
	if d.Err() == nil || New("x", "S", nil, 0).Err() != nil {
		t.Fatal("nil error expected for an untouched decoder")
	}
}
