package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/unwind"
	"github.com/ntdbg/ntdbg/testdata/gen/demo"
)

// TestUnwindRecoversEveryFrame walks every thread of the generated dump and
// checks each frame's RIP, RSP and non-volatile registers (and XMM6/XMM7)
// against what the generator laid onto the stack from the fixtures' unwind
// data: leaf stubs, an RBP frame, large allocations, saved XMM registers, a
// machine frame and chained unwind info.
func TestUnwindRecoversEveryFrame(t *testing.T) {
	sc := demo.BuildScenario()
	data := sc.Dump.Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "demo")
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession(tg)
	s.Symbols = symbols.NewSymbols(tg, "")
	regNames := map[int]string{3: "rbx", 5: "rbp", 6: "rsi", 7: "rdi", 12: "r12", 13: "r13", 14: "r14", 15: "r15"}
	for _, th := range tg.Threads() {
		want := sc.Frames[th.ID]
		regs, err := th.Registers()
		if err != nil {
			t.Fatal(err)
		}
		got := s.Unwind(regs, 0)
		if len(got) != len(want) {
			t.Errorf("thread %x: %d frames, want %d", th.ID, len(got), len(want))
			continue
		}
		for i, w := range want {
			g := got[i]
			if g.IP != w.IP || g.SP != w.SP {
				t.Errorf("thread %x frame %d (%s): ip %x sp %x, want ip %x sp %x", th.ID, i, w.Function, g.IP, g.SP, w.IP, w.SP)
				continue
			}
			for _, r := range demo.NonVolatile {
				if g.Regs.GPR[r] != w.Regs[r] {
					t.Errorf("thread %x frame %d (%s): %s=%x, want %x", th.ID, i, w.Function, regNames[r], g.Regs.GPR[r], w.Regs[r])
				}
			}
			if g.Regs.Xmm[6] != w.Xmm6 || g.Regs.Xmm[7] != w.Xmm7 {
				t.Errorf("thread %x frame %d (%s): xmm6/xmm7 differ", th.ID, i, w.Function)
			}
		}
		// Every frame above the context came from unwind data, and the walk
		// ended at a zero return address, not early.
		for i := 1; i < len(got); i++ {
			if got[i].Trust != unwind.TrustUnwindData {
				t.Errorf("thread %x frame %d: trust %s", th.ID, i, got[i].Trust)
			}
		}
		if last := got[len(got)-1]; last.Err != nil || last.RetAddr != 0 || got[0].Trust != unwind.TrustContext {
			t.Errorf("thread %x: last frame err %v ret %x", th.ID, last.Err, last.RetAddr)
		}
		// How each frame was found: the machine frame and the leaf stubs.
		for i := 1; i < len(got); i++ {
			if want[i-1].Function == "KiUserCallbackDispatcher" && got[i].How != unwind.MachineFrame {
				t.Errorf("thread %x frame %d: found by %s, want %s", th.ID, i, got[i].How, unwind.MachineFrame)
			}
		}
		if got[1].How != unwind.Leaf {
			t.Errorf("thread %x frame 1 found by %s: the Nt* stub is a leaf", th.ID, got[1].How)
		}
	}
}

// Frame 0 inside an epilog or a prolog: the unwinder must not apply codes
// whose instructions have not run, and must simulate the rest of an epilog.
func TestUnwindPrologAndEpilog(t *testing.T) {
	sc := demo.BuildScenario()
	data := sc.Dump.Bytes()
	tg, _ := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "demo")
	s := NewSession(tg)
	s.Symbols = symbols.NewSymbols(tg, "")
	ntdll := s.ModuleByName("ntdll")
	img := s.Symbols.(*symbols.Symbols).Image(ntdll)
	// RtlEnterCriticalSection: push rsi; sub rsp,20h (ALLOC_SMALL 32 at 5, PUSH_NONVOL rsi at 1).
	fn := ntdll.Base + 0x1040
	rf, ok := img.LookupFunction(0x1040)
	if !ok {
		t.Fatal("no .pdata for RtlEnterCriticalSection")
	}
	stack := uint64(0x00000092cf3ff000) // inside thread 0's captured stack
	// At the first instruction nothing has been pushed: the return address is at RSP.
	retAt := func(sp uint64) uint64 { v, _ := s.ReadPointer(sp); return v }
	one := func(ip uint64) (*target.Registers, unwind.Method) {
		regs := &target.Registers{Arch: target.ArchAMD64, IP: ip}
		regs.GPR[target.RegSP] = stack
		f := unwind.Frame{IP: ip, SP: stack, Regs: regs, Exact: true}
		next, how, err := s.Walker().Caller(&f)
		if err != nil {
			t.Fatalf("unwind at %x failed: %v", ip, err)
		}
		return next, how
	}
	// At the first instruction nothing has been pushed: the return address is at RSP.
	if r, _ := one(fn); r.IP != retAt(stack) || r.SP() != stack+8 {
		t.Errorf("at entry: ip %x sp %x", r.IP, r.SP())
	}
	// After push rsi (offset 1) only the push is undone.
	if r, _ := one(fn + 1); r.SP() != stack+16 || r.GPR[target.RegSI] != retAt(stack) || r.IP != retAt(stack+8) {
		t.Errorf("after push: sp %x rsi %x", r.SP(), r.GPR[target.RegSI])
	}
	// In the epilog (add rsp,20h; pop rsi; ret) the rest is simulated.
	epi := findEpilog(t, s, fn, rf.End-rf.Begin)
	if r, how := one(epi); how != unwind.Epilog || r.SP() != stack+0x20+8+8 || r.GPR[target.RegSI] != retAt(stack+0x20) {
		t.Errorf("epilog at %x: how %s sp %x", epi, how, r.SP())
	}
}

// findEpilog finds `add rsp, imm8` in a function.
func findEpilog(t *testing.T, s *Session, fn uint64, size uint32) uint64 {
	code := make([]byte, size)
	s.Read(code, fn)
	for i := 0; i+4 <= len(code); i++ {
		if code[i] == 0x48 && code[i+1] == 0x83 && code[i+2] == 0xC4 {
			return fn + uint64(i)
		}
	}
	t.Fatal("no epilog found")
	return 0
}

func BenchmarkUnwindOwnerThread(b *testing.B) {
	data := demo.Build().Bytes()
	tg, _ := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "demo")
	s := NewSession(tg)
	s.Symbols = symbols.NewSymbols(tg, "")
	regs, _ := tg.Threads()[4].Registers()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if len(s.Unwind(regs, 0)) != 22 {
			b.Fatal("frames")
		}
	}
}

// TestUnwindX86WithFPO walks the 32-bit fixture, built without frame
// pointers: only the PDB's frame programs (FPO data) find each caller.
// Every frame's EIP, ESP and EBX/ESI/EDI/EBP must be what the generator's
// instruction simulation left there.
func TestUnwindX86WithFPO(t *testing.T) {
	sc := demo.BuildX86Scenario()
	data := sc.Dump.Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "x86")
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession(tg)
	s.Symbols = symbols.NewSymbols(tg, demo.FixtureDir())
	regs, _ := tg.Threads()[0].Registers()
	got := s.Unwind(regs, 0)
	if len(got) != len(sc.Frames) {
		t.Fatalf("%d frames, want %d", len(got), len(sc.Frames))
	}
	for i, w := range sc.Frames {
		g := got[i]
		r := g.Regs.GPR
		if uint32(g.IP) != w.EIP || uint32(g.SP) != w.ESP || uint32(r[target.RegBX]) != w.EBX || uint32(r[target.RegSI]) != w.ESI ||
			uint32(r[target.RegDI]) != w.EDI || uint32(r[target.RegBP]) != w.EBP {
			t.Errorf("frame %d (%s): eip %x esp %x ebx %x esi %x edi %x ebp %x\n want eip %x esp %x ebx %x esi %x edi %x ebp %x",
				i, w.Function, g.IP, g.SP, r[target.RegBX], r[target.RegSI], r[target.RegDI], r[target.RegBP], w.EIP, w.ESP, w.EBX, w.ESI, w.EDI, w.EBP)
		}
		if i > 0 && g.How != unwind.FrameProgram {
			t.Errorf("frame %d found by %s, want %s", i, g.How, unwind.FrameProgram)
		}
	}
}

// TestUnwindX86MSVCRealignedFrame walks issue 10's stack from the
// exception context (.ecxr): crash.exe's main has MSVC's realigned frame
// (EBP biased 204 bytes below the saved EBP) and the FRAMEDATA program MSVC
// writes for it with '=' glued to the next register, "$T0 $ebp 204 +
// =$eip $T0 4 + ^ =$ebp $T0 ^ = $esp $T0 8 + =". Every frame, down to
// ntdll's thread start, must be the generator's: EIP, ESP, EBP, EBX, ESI,
// EDI, and the ChildEBP and RetAddr k shows (the slot below the return
// address, and the caller's EIP).
func TestUnwindX86MSVCRealignedFrame(t *testing.T) {
	sc := demo.BuildX86MSVCScenario()
	data := sc.Dump.Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "x86msvc")
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession(tg)
	syms := symbols.NewSymbols(tg, filepath.Join(demo.FixtureDir(), "x86msvc"))
	syms.Lines = true
	s.Symbols = syms
	ev := tg.Event()
	if ev == nil || ev.Context == nil || ev.Code != 0xC0000005 || len(ev.Params) != 2 || ev.Params[1] != uint64(sc.FaultAddress) {
		t.Fatalf("exception stream: %+v", ev)
	}
	regs, err := ev.Context()
	if err != nil {
		t.Fatal(err)
	}
	// main's hand-written line table names crash_main.S's own lines.
	src, err := os.ReadFile(filepath.Join(demo.FixtureDir(), "..", "src", "x86msvc", "crash_main.S"))
	if err != nil {
		t.Fatal(err)
	}
	faultLine := 0
	for n, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, "mov dword ptr [eax+8], ecx") {
			faultLine = n + 1
		}
	}
	got := s.Unwind(regs, 0)
	if len(got) != len(sc.Frames) {
		for _, g := range got {
			t.Logf("%08x %08x %08x %s", g.FP, g.RetAddr, g.IP, g.How)
		}
		t.Fatalf("%d frames, want %d", len(got), len(sc.Frames))
	}
	for i, w := range sc.Frames {
		g := got[i]
		r := g.Regs.GPR
		if uint32(g.IP) != w.EIP || uint32(g.SP) != w.ESP || uint32(r[target.RegBX]) != w.EBX || uint32(r[target.RegSI]) != w.ESI ||
			uint32(r[target.RegDI]) != w.EDI || uint32(r[target.RegBP]) != w.EBP {
			t.Errorf("frame %d (%s): eip %x esp %x ebx %x esi %x edi %x ebp %x\n want eip %x esp %x ebx %x esi %x edi %x ebp %x",
				i, w.Function, g.IP, g.SP, r[target.RegBX], r[target.RegSI], r[target.RegDI], r[target.RegBP], w.EIP, w.ESP, w.EBX, w.ESI, w.EDI, w.EBP)
		}
		// The caller's ESP at its call is the return slot + 4.
		wantRet, wantChild := uint32(0), sc.StartSlot+4-8
		if i+1 < len(sc.Frames) {
			wantRet, wantChild = sc.Frames[i+1].EIP, sc.Frames[i+1].ESP-8
		}
		if uint32(g.RetAddr) != wantRet || uint32(g.FP) != wantChild {
			t.Errorf("frame %d (%s): ChildEBP %08x RetAddr %08x, want %08x %08x", i, w.Function, g.FP, g.RetAddr, wantChild, wantRet)
		}
		if i > 0 && g.How != unwind.FrameProgram {
			t.Errorf("frame %d found by %s, want %s", i, g.How, unwind.FrameProgram)
		}
		m, name, _, ok := syms.Nearest(g.LookupIP())
		if !ok || m.Name+"!"+name != w.Function {
			t.Errorf("frame %d is %v!%q, want %s", i, m, name, w.Function)
		}
		l, ok := syms.Line(g.LookupIP())
		if !ok {
			t.Errorf("frame %d (%s) has no source line", i, w.Function)
		}
		if i == 0 && int(l.Line) != faultLine {
			t.Errorf("frame 0 at %s line %d, want crash_main.S line %d (the store)", l.File, l.Line, faultLine)
		}
	}
}

// strippedDemo is the demo dump without any module memory.
func strippedDemo(t *testing.T) (*demo.Scenario, *target.UserTarget) {
	sc := demo.StrippedScenario()
	data := sc.Dump.Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "no-images")
	if err != nil {
		t.Fatal(err)
	}
	return sc, tg
}

// A dump without module memory unwinds with images found on the image
// path, matched by time stamp and size.
func TestUnwindWithImagesFromImagePath(t *testing.T) {
	sc, tg := strippedDemo(t)
	s := NewSession(tg)
	syms := symbols.NewSymbols(tg, "")
	syms.ImagePath = []string{demo.FixtureDir()}
	s.Symbols = syms
	owner := tg.Threads()[4]
	regs, _ := owner.Registers()
	got := s.Unwind(regs, 0)
	want := sc.Frames[owner.ID]
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].IP != want[i].IP || got[i].SP != want[i].SP {
			t.Errorf("frame %d: %x/%x want %x/%x", i, got[i].IP, got[i].SP, want[i].IP, want[i].SP)
		}
	}
	if ms := syms.Get(s.ModuleByName("nsi")); ms.ImageFile() == "" {
		t.Error("nsi's image did not come from the image path")
	}
}
