package unwind

import (
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
