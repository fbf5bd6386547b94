package commands

import (
	"bytes"
	"debug/pe"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine/disasm"
)

// objdumpLine is one instruction of llvm-objdump's listing.
type objdumpLine struct {
	addr  uint64
	bytes []byte
	text  string // mnemonic and operands, comment removed
}

var objdumpRe = regexp.MustCompile(`^\s*([0-9a-f]+):\s+((?:[0-9a-f]{2} )+)\s*(.*)$`)

func parseObjdump(t *testing.T, listing string) []objdumpLine {
	var out []objdumpLine
	for _, l := range strings.Split(listing, "\n") {
		m := objdumpRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		addr, _ := strconv.ParseUint(m[1], 16, 64)
		var bs []byte
		for _, h := range strings.Fields(m[2]) {
			v, _ := strconv.ParseUint(h, 16, 8)
			bs = append(bs, byte(v))
		}
		text, _, _ := strings.Cut(m[3], "#")
		out = append(out, objdumpLine{addr, bs, strings.TrimSpace(text)})
	}
	if len(out) == 0 {
		t.Fatal("no instructions in the llvm-objdump listing")
	}
	return out
}

var (
	objRIP     = regexp.MustCompile(`\[rip ([+-]) 0x([0-9a-f]+)\]`)
	objScale   = regexp.MustCompile(`\b([1248])\*([a-z][a-z0-9]*)`)
	normNumber = regexp.MustCompile(`\b(0x[0-9a-f]+|[0-9][0-9a-f]*h|[0-9]+)\b`)
)

// normalise brings an instruction's text to a form both disassemblers agree
// on. WinDbg's conventions differ from llvm-objdump's in: numbers (`1Bh`,
// and small ones in decimal, against `0x1b`), spacing (none after commas,
// none before {k1}) and case; llvm-objdump's scale before the index
// (`4*rcx`) is turned round before normalise. The
// absolute target of a RIP-relative operand is computed beforehand, on the
// objdump side, from `[rip + X]` and the next instruction's address.
func normalise(s string) string {
	s = strings.ToLower(s)
	s = strings.ReplaceAll(s, "`", "")
	s = strings.Join(strings.Fields(s), "")
	return normNumber.ReplaceAllStringFunc(s, func(n string) string {
		var v uint64
		var err error
		switch {
		case strings.HasPrefix(n, "0x"):
			v, err = strconv.ParseUint(n[2:], 16, 64)
		case strings.HasSuffix(n, "h"):
			v, err = strconv.ParseUint(n[:len(n)-1], 16, 64)
		default:
			v, err = strconv.ParseUint(n, 10, 64)
		}
		if err != nil {
			return n
		}
		return strconv.FormatUint(v, 10)
	})
}

func llvmObjdump() string {
	for _, p := range []string{"llvm-objdump-14", "/usr/lib/llvm-14/bin/llvm-objdump"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	return ""
}

// TestVEXAgainstObjdump disassembles the code section of
// testdata/fixtures/bin/vexsample.dll (testdata/fixtures/src/vexsample.S:
// AVX, AVX2, AVX-512, FMA, BMI and opmask instructions) through the path `u`
// takes, and compares each instruction with llvm-objdump's listing: the
// length always, the text after normalise.
func TestVEXAgainstObjdump(t *testing.T) {
	dir := filepath.Join("..", "testdata", "fixtures", "bin")
	dll := filepath.Join(dir, "vexsample.dll")
	recorded, err := os.ReadFile(filepath.Join(dir, "vexsample.objdump.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if od := llvmObjdump(); od != "" {
		live, err := exec.Command(od, "-d", "--x86-asm-syntax=intel", "--print-imm-hex", dll).Output()
		if err != nil {
			t.Fatalf("%s: %v", od, err)
		}
		live = bytes.ReplaceAll(live, []byte(dll), []byte("vexsample.dll"))
		if !bytes.Equal(live, recorded) {
			t.Errorf("%s's listing of vexsample.dll differs from bin/vexsample.objdump.txt (rerun testdata/fixtures/build.sh)", od)
		}
	} else {
		t.Log("llvm-objdump-14 not installed: comparing with the recorded bin/vexsample.objdump.txt only")
	}

	f, err := pe.Open(dll)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text := f.Section(".text")
	code, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	code = code[:text.VirtualSize]
	start := f.OptionalHeader.(*pe.OptionalHeader64).ImageBase + uint64(text.VirtualAddress)

	c, _ := newCtx(t)
	lines := parseObjdump(t, string(recorded))
	vex, bad := 0, 0
	next := start
	for _, ol := range lines {
		if ol.addr != next {
			t.Fatalf("objdump's instruction at %x is not where ours ends (%x)", ol.addr, next)
		}
		off := ol.addr - start
		buf := code[off:min(off+16, uint64(len(code)))]
		if !bytes.Equal(buf[:len(ol.bytes)], ol.bytes) {
			t.Fatalf("%x: objdump's bytes % x are not the image's", ol.addr, ol.bytes)
		}
		line, n := c.disasmBytes(buf, ol.addr)
		next = ol.addr + uint64(len(ol.bytes))
		if b := buf[0]; b == 0xc4 || b == 0xc5 || b == 0x62 {
			vex++
			if _, err := disasm.Decode(buf); err != nil {
				t.Errorf("%x (% x): engine/disasm: %v (objdump: %s)", ol.addr, ol.bytes, err, ol.text)
			}
		}
		fields := strings.Fields(line)
		ours := strings.Join(fields[2:], " ")
		if n != len(ol.bytes) || len(fields[1]) != 2*n {
			bad++
			t.Errorf("%x: length %d, objdump %d (% x): %q against %q", ol.addr, n, len(ol.bytes), ol.bytes, line, ol.text)
			continue
		}
		want := objRIP.ReplaceAllStringFunc(ol.text, func(m string) string {
			g := objRIP.FindStringSubmatch(m)
			d, _ := strconv.ParseUint(g[2], 16, 64)
			dest := next + d
			if g[1] == "-" {
				dest = next - d
			}
			return "[" + c.ptr(dest) + "]"
		})
		want = objScale.ReplaceAllString(want, "$2*$1")
		if normalise(ours) != normalise(want) {
			bad++
			t.Errorf("%x (% x):\n  ours    %s\n  objdump %s", ol.addr, ol.bytes, ours, ol.text)
		}
	}
	if next != start+uint64(len(code)) {
		t.Errorf("the listing ends at %x, the section at %x", next, start+uint64(len(code)))
	}
	t.Logf("%d instructions (%d VEX or EVEX encoded): %d differ from llvm-objdump", len(lines), vex, bad)
}

// TestVEXIssueCases holds the three decodings issue 10 reported wrong, in
// WinDbg's layout.
func TestVEXIssueCases(t *testing.T) {
	c, _ := newCtx(t)
	const pc = 0x7ff7a0001000 // in no module of the demo dump
	for _, tc := range []struct {
		code []byte
		want string
		n    int
	}{
		{[]byte{0xc5, 0xf8, 0x77, 0xc3}, "00007ff7`a0001000 c5f877          vzeroupper", 3},
		{[]byte{0x62, 0xf1, 0xfe, 0x48, 0x6f, 0x06}, "00007ff7`a0001000 62f1fe486f06    vmovdqu64 zmm0,zmmword ptr [rsi]", 6},
		{[]byte{0xc4, 0xe2, 0x7d, 0x59, 0x1d, 0x34, 0x12, 0x00, 0x00},
			"00007ff7`a0001000 c4e27d591d34120000 vpbroadcastq ymm3,qword ptr [00007ff7`a000223d]", 9},
		{[]byte{0x62, 0xf1, 0x6c, 0xd9, 0x58, 0x48, 0x10},
			"00007ff7`a0001000 62f16cd9584810  vaddps  zmm1{k1}{z},zmm2,dword ptr [rax+40h]{1to16}", 7},
		// One the tables lack is x86asm's when x86asm agrees on its length,
		{[]byte{0x62, 0xf2, 0x7d, 0x48, 0xc4, 0xc1}, "00007ff7`a0001000 62f27d48c4c1    vpconflictd zmm0,zmm1", 6},
		// else ??? over its whole length.
		{[]byte{0x62, 0xf2, 0x7d, 0x48, 0xff, 0xc1, 0xc3}, "00007ff7`a0001000 62f27d48ffc1    ???", 6},
		{[]byte{0xc4, 0xe2, 0x7d, 0xff, 0xc1, 0xc3}, "00007ff7`a0001000 c4e27dffc1      ???", 5},
		// Truncated: one byte of ??? as before.
		{[]byte{0x62, 0xf1, 0xfe}, "00007ff7`a0001000 62              ???", 1},
	} {
		line, n := c.disasmBytes(tc.code, pc)
		if line != tc.want || n != tc.n {
			t.Errorf("% x:\n got %q (%d)\nwant %q (%d)", tc.code, line, n, tc.want, tc.n)
		}
	}
}

// TestVEXSweep decodes and prints every opcode of every VEX and EVEX map and
// prefix, register and memory forms, W0 and W1: no panic, and the line's
// bytes are the length decoded.
func TestVEXSweep(t *testing.T) {
	c, _ := newCtx(t)
	known := 0
	for _, w := range []byte{0, 0x80} {
		for mp := byte(1); mp <= 3; mp++ {
			for pp := byte(0); pp < 4; pp++ {
				for op := 0; op < 256; op++ {
					for _, tail := range [][]byte{{0xc1, 0x05}, {0x44, 0x24, 0x08, 0x05}, {0x05, 0x10, 0, 0, 0, 0x05}} {
						for _, pre := range [][]byte{
							{0xc4, 0xe0 | mp, 0x78 | w | pp},
							{0xc4, 0xe0 | mp, 0x7c | w | pp},
							{0x62, 0xf0 | mp, 0x7c | w | pp, 0x48},
							{0x62, 0xf0 | mp, 0x7c | w | pp, 0x9a},
						} {
							code := append(append(append([]byte{}, pre...), byte(op)), tail...)
							line, n := c.disasmBytes(code, 0x7ff7a0001000)
							fields := strings.Fields(line)
							if n < 1 || n > len(code) || len(fields) < 3 || len(fields[1]) != 2*n {
								t.Fatalf("% x: %q (%d)", code, line, n)
							}
							if _, err := disasm.Decode(code); err == nil {
								known++
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d encodings decoded by engine/disasm", known)
}
