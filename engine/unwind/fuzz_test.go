package unwind

import (
	"bytes"
	"os"
	"testing"

	"github.com/ntdbg/ntdbg/dumpfmt/pe"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
)

// The x86 frame-program evaluator over any program text and stack (issue
// 11: nothing fuzzed it). It must end, without a panic, for any input.
func FuzzFrameProgram(f *testing.F) {
	for _, p := range []string{
		"$T0 $ebp 204 + =$eip $T0 4 + ^ =$ebp $T0 ^ = $esp $T0 8 + =",
		"$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + =",
		"$T1 $ebp 4 + = $T0 $T1 8 - 16 @ = $eip $T1 ^ = $esp $T1 4 + = $ebp $T1 4 - ^ =",
		"$T0 $esp 12 + 16 @ = $23 7 =", "+", "$T0 1 0 / =", "",
	} {
		f.Add(p, uint32(0x1100), uint32(0x1200), bytes.Repeat([]byte{0x10, 0x11, 0, 0}, 256))
	}
	f.Fuzz(func(t *testing.T, prog string, esp, ebp uint32, stack []byte) {
		if len(prog) > 4096 {
			return
		}
		m := mem.NewRangeMap([]mem.Range{{Start: 0x1000, Size: uint64(len(stack)), Src: bytes.NewReader(stack), Off: 0}})
		w := &Walker{Arch: target.ArchX86, Mem: m}
		w.runFrameProgram(prog, map[string]uint32{"$esp": esp, "$ebp": ebp, "$eip": 0x401000})
	})
}

// fuzzImages serves one image at one module.
type fuzzImages struct{ img *pe.File }

func (f fuzzImages) Image(*target.Module) *pe.File { return f.img }
func (f fuzzImages) IsCode(*target.Module, uint64) (bool, bool) {
	return true, f.img != nil
}

// The x64 unwinder over arbitrary images (their .pdata and UNWIND_INFO)
// and stacks: no panic, and a bounded walk.
func FuzzAMD64Unwind(f *testing.F) {
	for _, name := range []string{"ntdll.dll", "vmms.exe", "kernel32.dll"} {
		if b, err := os.ReadFile("../../testdata/fixtures/bin/" + name); err == nil {
			f.Add(b, bytes.Repeat([]byte{0x30, 0x10, 0, 0x40, 1, 0, 0, 0}, 64), uint64(0x140001010), uint64(0x10100))
		}
	}
	f.Add([]byte("MZ"), []byte{}, uint64(0), uint64(0))
	f.Fuzz(func(t *testing.T, image, stack []byte, rip, rsp uint64) {
		const base = 0x140000000
		img, err := pe.NewFile(bytes.NewReader(image), int64(len(image)), true)
		if err != nil {
			img = nil
		}
		m := mem.NewRangeMap([]mem.Range{
			{Start: base, Size: uint64(len(image)), Src: bytes.NewReader(image), Off: 0},
			{Start: 0x10000, Size: uint64(len(stack)), Src: bytes.NewReader(stack), Off: 0},
		})
		mod := &target.Module{Base: base, Size: uint64(len(image)) + 0x1000, Name: "fuzz", ImageName: "fuzz.dll"}
		w := &Walker{Arch: target.ArchAMD64, Mem: m, Modules: []*target.Module{mod}}
		if img != nil {
			w.Images = fuzzImages{img}
		}
		regs := &target.Registers{Arch: target.ArchAMD64, IP: rip}
		regs.GPR[target.RegSP] = rsp
		if got := w.Walk(regs, 64); len(got) > 64 {
			t.Fatalf("%d frames from a 64-frame walk", len(got))
		}
	})
}
