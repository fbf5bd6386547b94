package unwind

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/ntdbg/ntdbg/engine/mem"
)

func TestFrameProgramErrors(t *testing.T) {
	w := &Walker{Mem: mem.NewRangeMap(nil)}
	for _, prog := range []string{"+", "$T0 =", "$T0 1 0 / =", "$T0 $nosuch =", "$T0 0 ^ ="} {
		if err := w.runFrameProgram(prog, map[string]uint32{"$esp": 0x1000}); err == nil {
			t.Errorf("%q evaluated", prog)
		}
	}
	vars := map[string]uint32{"$esp": 0x1000}
	if err := w.runFrameProgram("$T0 $esp 12 + 16 @ = $23 7 =", vars); err != nil || vars["$T0"] != 0x1000 || vars["$esi"] != 7 {
		t.Errorf("%v %v", err, vars)
	}
}

// MSVC writes the program of a frame realigned below EBP with `=` glued to
// the next register (issue 10's sample); it evaluates as the spaced form.
func TestFrameProgramGluedEquals(t *testing.T) {
	data := make([]byte, 0x400)
	binary.LittleEndian.PutUint32(data[204:], 0x1f80)     // [T0]: the caller's ebp
	binary.LittleEndian.PutUint32(data[204+4:], 0x401234) // [T0+4]: the return address
	m := mem.NewRangeMap([]mem.Range{{Start: 0x2000, Size: 0x400, Src: bytes.NewReader(data), Off: 0}})
	w := &Walker{Mem: m}
	glued := "$T0 $ebp 204 + =$eip $T0 4 + ^ =$ebp $T0 ^ = $esp $T0 8 + ="
	spaced := "$T0 $ebp 204 + = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + ="
	a := map[string]uint32{"$ebp": 0x2000, "$esp": 0x1f00}
	b := map[string]uint32{"$ebp": 0x2000, "$esp": 0x1f00}
	if err := w.runFrameProgram(glued, a); err != nil {
		t.Fatal(err)
	}
	if err := w.runFrameProgram(spaced, b); err != nil {
		t.Fatal(err)
	}
	if a["$esp"] != 0x2000+204+8 || a["$eip"] != 0x401234 || a["$ebp"] != 0x1f80 || a["$eip"] != b["$eip"] || a["$ebp"] != b["$ebp"] || a["$esp"] != b["$esp"] {
		t.Errorf("glued %v, spaced %v", a, b)
	}
}
