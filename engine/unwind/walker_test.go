package unwind

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
)

// stackMemory maps one 0x100-byte stack at base holding the given pointers.
func stackMemory(base uint64, vals ...uint64) mem.Memory {
	b := make([]byte, 0x100)
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return mem.NewRangeMap([]mem.Range{{Start: base, Size: uint64(len(b)), Src: bytes.NewReader(b)}})
}

var mod = &target.Module{Base: 0x7ff700000000, Size: 0x10000, Name: "app"}

// A return address outside every module: the scan finds no caller and the
// walk ends with a frame that says why.
func TestWalkStopsAtAReturnAddressOutsideEveryModule(t *testing.T) {
	w := &Walker{Arch: target.ArchAMD64, Mem: stackMemory(0x1000, 0x0000123400005678, 0x42), Modules: []*target.Module{mod}}
	regs := &target.Registers{Arch: target.ArchAMD64, IP: mod.Base + 0x1010}
	regs.GPR[target.RegSP] = 0x1000
	fr := w.Walk(regs, 0)
	if len(fr) != 1 {
		t.Fatalf("%d frames, want 1", len(fr))
	}
	f := fr[0]
	if f.How != Context || f.Trust != TrustContext || f.Trust.String() != "context" {
		t.Errorf("frame 0: how %s trust %s", f.How, f.Trust)
	}
	var me *mem.Error
	if f.Err == nil || !errors.As(f.Err, &me) || me.Addr != 0x1100 || me.Kind != mem.NotInDump ||
		!strings.HasPrefix(f.Err.Error(), "no return address found before the end of the readable stack") {
		t.Fatalf("Err = %v", f.Err)
	}
}

// A stack pointer into memory the dump does not hold.
func TestWalkStopsOnAnUnreadableStack(t *testing.T) {
	w := &Walker{Arch: target.ArchAMD64, Mem: stackMemory(0x1000), Modules: []*target.Module{mod}}
	regs := &target.Registers{Arch: target.ArchAMD64, IP: 0xdead0000}
	regs.GPR[target.RegSP] = 0x9000
	fr := w.Walk(regs, 0)
	if len(fr) != 1 || fr[0].Err == nil {
		t.Fatalf("frames %+v", fr)
	}
	var me *mem.Error
	if !errors.As(fr[0].Err, &me) || me.Addr != 0x9000 {
		t.Fatalf("Err = %v, want a memory error at 0x9000", fr[0].Err)
	}
}

// A scan that finds a return address marks its frame as scanned; the walk
// then stops where the stack ends, saying so.
func TestScannedFrameIsTaggedScan(t *testing.T) {
	ret := mod.Base + 0x2000 // code not captured: inside the module is all a scan can check
	w := &Walker{Arch: target.ArchAMD64, Mem: stackMemory(0x1000, 0x11, ret), Modules: []*target.Module{mod}}
	regs := &target.Registers{Arch: target.ArchAMD64, IP: mod.Base + 0x1010}
	regs.GPR[target.RegSP] = 0x1000
	fr := w.Walk(regs, 0)
	if len(fr) != 2 {
		t.Fatalf("%d frames", len(fr))
	}
	if fr[0].RetAddr != ret || fr[1].IP != ret || fr[1].SP != 0x1010 || fr[1].How != Scan || fr[1].Trust != TrustScan {
		t.Errorf("frame 1: %+v", fr[1])
	}
	if fr[0].Err != nil || fr[1].Err == nil {
		t.Errorf("errors: %v / %v", fr[0].Err, fr[1].Err)
	}
	// The iterator stops when asked to.
	n := 0
	for range w.Frames(regs, 0) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("iterator yielded %d frames after break", n)
	}
}
