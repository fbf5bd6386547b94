package pe

import (
	"bytes"
	gope "debug/pe"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

var realdumps = rd.Root()

var regNames = []string{"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"}

// readobjCode renders a code the way llvm-readobj --unwind prints it.
func readobjCode(c UnwindCode) string {
	switch c.Op {
	case UwopPushNonvol:
		return fmt.Sprintf("0x%02X: PUSH_NONVOL reg=%s", c.CodeOffset, regNames[c.Info])
	case UwopAllocSmall, UwopAllocLarge:
		name := "ALLOC_SMALL"
		if c.Op == UwopAllocLarge {
			name = "ALLOC_LARGE"
		}
		return fmt.Sprintf("0x%02X: %s size=%d", c.CodeOffset, name, c.Operand)
	case UwopSaveNonvol, UwopSaveNonvolFar:
		name := "SAVE_NONVOL"
		if c.Op == UwopSaveNonvolFar {
			name = "SAVE_NONVOL_FAR"
		}
		return fmt.Sprintf("0x%02X: %s reg=%s, offset=0x%X", c.CodeOffset, name, regNames[c.Info], c.Operand)
	case UwopSetFPReg:
		return fmt.Sprintf("0x%02X: SET_FPREG", c.CodeOffset)
	case UwopSaveXMM128:
		return fmt.Sprintf("0x%02X: SAVE_XMM128 reg=XMM%d, offset=0x%X", c.CodeOffset, c.Info, c.Operand)
	case UwopPushMachframe:
		return fmt.Sprintf("0x%02X: PUSH_MACHFRAME", c.CodeOffset)
	}
	return fmt.Sprintf("0x%02X: op %d", c.CodeOffset, c.Op)
}

var (
	reRF       = regexp.MustCompile(`^    StartAddress: \((0x[0-9A-F]+)\)`)
	reChain    = regexp.MustCompile(`^        StartAddress: \((0x[0-9A-F]+)\)`)
	reCodeLine = regexp.MustCompile(`^\s+(0x[0-9A-F]{2}: [A-Z_0-9]+.*)$`)
	reGUIDLine = regexp.MustCompile(`PDBGUID: \(([0-9A-F ]+)\)`)
	reAgeLine  = regexp.MustCompile(`PDBAge: (\d+)`)
)

// TestAgainstReadobj compares headers, the CodeView record and every
// function's unwind codes with llvm-readobj's output (testdata/peer/readobj).
func TestAgainstReadobj(t *testing.T) {
	files := map[string]string{
		"dump_syms_regtest64.exe": "breakpad/pdb/dump_syms_regtest64.exe",
		"pe_only_symbol_test.dll": "breakpad/pdb/pe_only_symbol_test.dll",
		"test-pdb.exe":            "lldb/test-pdb.exe",
		"test-pdb-types.exe":      "lldb/test-pdb-types.exe",
	}
	for name, rel := range files {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(realdumps + rel)
			if err != nil {
				t.Skip("realdumps not present")
			}
			oracle, err := os.ReadFile(filepath.Join("../../testdata/peer/readobj", name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			f, err := NewFile(bytes.NewReader(data), int64(len(data)), false)
			if err != nil {
				t.Fatal(err)
			}
			o := string(oracle)
			if !strings.Contains(o, fmt.Sprintf("ImageBase: 0x%X", f.ImageBase)) || !strings.Contains(o, fmt.Sprintf("(0x%X)", f.TimeDateStamp)) {
				t.Errorf("headers: base %#x stamp %#x", f.ImageBase, f.TimeDateStamp)
			}
			for _, s := range f.Sections {
				if !strings.Contains(o, fmt.Sprintf("VirtualAddress: 0x%X", s.VirtualAddress)) {
					t.Errorf("section %s at %#x not in readobj output", s.Name, s.VirtualAddress)
				}
			}
			if m := reGUIDLine.FindStringSubmatch(o); m != nil {
				cv, err := f.CodeView()
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.ToUpper(fmt.Sprintf("% X", cv.GUID[:])); got != m[1] {
					t.Errorf("GUID %s, readobj %s", got, m[1])
				}
				if a := reAgeLine.FindStringSubmatch(o); a == nil || a[1] != fmt.Sprint(cv.Age) {
					t.Errorf("age %d", cv.Age)
				}
			}
			// Unwind codes, function by function, in readobj's order.
			// readobj walks the whole .pdata section; the loader (and we) stop at
			// the exception directory's size. Its entries past that have bare
			// small addresses and are left out.
			var want []string
			skipping := false
			for _, l := range strings.Split(o, "\n") {
				if m := reRF.FindStringSubmatch(l); m != nil {
					v, _ := strconv.ParseUint(m[1][2:], 16, 64)
					if skipping = v < f.ImageBase; !skipping {
						want = append(want, "fn "+m[1])
					}
				} else if skipping {
					continue
				} else if m := reChain.FindStringSubmatch(l); m != nil {
					want = append(want, "chain "+m[1])
				} else if m := reCodeLine.FindStringSubmatch(l); m != nil {
					want = append(want, m[1])
				}
			}
			funcs, err := f.RuntimeFunctions()
			if err != nil {
				t.Fatal(err)
			}
			if f.Machine != MachineAMD64 {
				if len(funcs) != 0 {
					t.Errorf("x86 image yields %d x64 unwind entries", len(funcs))
				}
				return // readobj decodes an x86 image's exception directory as if it were x64
			}
			var got []string
			for _, rf := range funcs {
				got = append(got, fmt.Sprintf("fn 0x%X", f.ImageBase+uint64(rf.Begin)))
				ui, err := f.ReadUnwindInfo(rf.UnwindData)
				if err != nil {
					t.Fatalf("unwind info of %#x: %v", rf.Begin, err)
				}
				for _, c := range ui.Codes {
					line := readobjCode(c)
					if c.Op == UwopSetFPReg {
						line += fmt.Sprintf(" reg=%s, offset=0x%X", regNames[ui.FrameRegister], 16*int(ui.FrameOffset))
					}
					got = append(got, line)
				}
				if ui.Chained != nil {
					got = append(got, fmt.Sprintf("chain 0x%X", f.ImageBase+uint64(ui.Chained.Begin)))
				}
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				for i := range want {
					if i >= len(got) || got[i] != want[i] {
						t.Fatalf("unwind differs at line %d: ours %q, readobj %q", i, at(got, i), want[i])
					}
				}
				t.Fatalf("we decode %d lines, readobj %d", len(got), len(want))
			}
			t.Logf("%d functions", len(funcs))
		})
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<none>"
}

func TestLookupAndVersion(t *testing.T) {
	data, err := os.ReadFile(realdumps + "breakpad/pdb/dump_syms_regtest64.exe")
	if err != nil {
		t.Skip("realdumps not present")
	}
	f, _ := NewFile(bytes.NewReader(data), int64(len(data)), false)
	rf, ok := f.LookupFunction(0x1010 + 5)
	if !ok || rf.Begin != 0x1010 || rf.End != 0x107A {
		t.Errorf("lookup: %+v %v", rf, ok)
	}
	if _, ok := f.LookupFunction(0x1000); ok {
		t.Error("0x1000 is not in any function")
	}
	dll, err := os.ReadFile(realdumps + "breakpad/pdb/pe_only_symbol_test.dll")
	if err != nil {
		t.Skip()
	}
	g, _ := NewFile(bytes.NewReader(dll), int64(len(dll)), false)
	if v, err := g.Version(); err == nil {
		if v.Fixed[0] != 0xFEEF04BD {
			t.Errorf("fixed info %x", v.Fixed)
		}
	} else if !strings.Contains(err.Error(), "no version resource") {
		t.Errorf("version: %v", err)
	}
}

func TestCorruptImages(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("MZ"), append([]byte("MZ"), make([]byte, 0x3e)...)} {
		if _, err := NewFile(bytes.NewReader(b), int64(len(b)), false); err == nil {
			t.Errorf("opened %d bytes", len(b))
		}
	}
	if _, err := ParseUnwindInfo(0, []byte{0x01, 0, 3, 0, 0, 0x01}); err == nil {
		t.Error("truncated ALLOC_LARGE accepted")
	}
	if _, err := ParseUnwindInfo(0, []byte{0x03, 0, 0, 0}); err == nil {
		t.Error("version 3 accepted")
	}
}

func FuzzOpen(f *testing.F) {
	if b, err := os.ReadFile(realdumps + "lldb/test-pdb.exe"); err == nil {
		f.Add(b, false)
	}
	f.Add([]byte("MZ"), true)
	f.Fuzz(func(t *testing.T, data []byte, mapped bool) {
		p, err := NewFile(bytes.NewReader(data), int64(len(data)), mapped)
		if err != nil {
			return
		}
		p.Exports()
		p.CodeView()
		p.Version()
		p.Reproducible()
		if h, err := p.Headers(); err == nil && len(h.Sections) != len(p.Sections) {
			t.Errorf("Headers: %d sections, NewFile %d", len(h.Sections), len(p.Sections))
		}
		p.DebugDirectories()
		funcs, _ := p.RuntimeFunctions()
		for i, rf := range funcs {
			if i > 50 {
				break
			}
			p.ReadUnwindInfo(rf.UnwindData)
			p.LookupFunction(rf.Begin)
		}
	})
}

func FuzzUnwindInfo(f *testing.F) {
	f.Add([]byte{0x01, 0x0d, 0x01, 0x00, 0x0d, 0x82})
	f.Add([]byte{0x21, 0x04, 0x02, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0x10, 0, 0, 0x40, 0x10, 0, 0, 0x00, 0x20, 0, 0})
	f.Add([]byte{0x02, 0x00, 0x02, 0x00, 0x01, 0x06, 0x00, 0x06})
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseUnwindInfo(0x1000, b)
	})
}

// The fixture vmms.exe carries a version resource compiled by llvm-rc from
// testdata/fixtures/src/vmms.rc; the values below are that source's.
func TestVersionResource(t *testing.T) {
	data, err := os.ReadFile("../../testdata/fixtures/bin/vmms.exe")
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFile(bytes.NewReader(data), int64(len(data)), false)
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Version()
	if err != nil {
		t.Fatal(err)
	}
	if v.Fixed[2] != 6<<16|3 || v.Fixed[3] != 9600<<16|17415 || v.Fixed[8] != 0x40004 || v.Fixed[9] != 1 {
		t.Errorf("fixed info %x", v.Fixed)
	}
	if len(v.Translations) != 1 || v.Translations[0] != 0x040904b0 {
		t.Errorf("translations %x", v.Translations)
	}
	got := map[string]string{}
	for _, kv := range v.Strings {
		got[kv.Key] = kv.Value
	}
	if got["CompanyName"] != "ntdbg fixtures" || got["FileVersion"] != "6.3.9600.17415 (winblue_r4.141028-1500)" || len(got) != 7 {
		t.Errorf("strings %v", got)
	}
	if !f.Reproducible() {
		t.Error("built with /Brepro but no REPRO debug entry found")
	}
	cv, err := f.CodeView()
	if err != nil || cv.PdbName != "vmms.pdb" || cv.Age != 1 {
		t.Errorf("codeview %+v %v", cv, err)
	}
	exps, err := f.Exports()
	if err != nil || len(exps) != 0 {
		t.Errorf("vmms.exe exports %v %v", exps, err)
	}
	nt, _ := os.ReadFile("../../testdata/fixtures/bin/ntdll.dll")
	g, _ := NewFile(bytes.NewReader(nt), int64(len(nt)), false)
	exps, err = g.Exports()
	names := map[string]uint32{}
	for _, e := range exps {
		names[e.Name] = e.RVA
	}
	// ntdll.map: RtlEnterCriticalSection at 0x1040, NtDeviceIoControlFile at 0x10c3.
	if err != nil || names["RtlEnterCriticalSection"] != 0x1040 || names["NtDeviceIoControlFile"] != 0x10c3 {
		t.Errorf("ntdll exports %v %v", names, err)
	}
}

// Headers agrees with Go's debug/pe (an independent reader) on every
// fixture image.
func TestHeadersAgreeWithDebugPE(t *testing.T) {
	for _, name := range []string{"ntdll.dll", "vmms.exe", "fpoapp.exe", "vexsample.dll"} {
		path := "../../testdata/fixtures/bin/" + name
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		h, err := f.Headers()
		if err != nil {
			t.Fatal(err)
		}
		g, err := gope.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if h.Machine != g.Machine || h.TimeDateStamp != g.TimeDateStamp || h.Characteristics != g.Characteristics || int(h.NumberOfSections) != len(g.Sections) {
			t.Errorf("%s file header: %+v", name, h)
		}
		switch oh := g.OptionalHeader.(type) {
		case *gope.OptionalHeader64:
			if h.ImageBase != oh.ImageBase || h.SizeOfImage != oh.SizeOfImage || h.StackReserve != oh.SizeOfStackReserve ||
				h.DllCharacteristics != oh.DllCharacteristics || h.Subsystem != oh.Subsystem || h.MajorLinker != oh.MajorLinkerVersion {
				t.Errorf("%s optional header differs from debug/pe", name)
			}
		case *gope.OptionalHeader32:
			if h.ImageBase != uint64(oh.ImageBase) || h.SizeOfImage != oh.SizeOfImage || h.StackReserve != uint64(oh.SizeOfStackReserve) ||
				h.BaseOfData != oh.BaseOfData || h.Subsystem != oh.Subsystem {
				t.Errorf("%s optional header differs from debug/pe", name)
			}
		}
		for i, s := range g.Sections {
			hs := h.Sections[i]
			if hs.Name != s.Name || hs.VirtualSize != s.VirtualSize || hs.PointerToRawData != s.Offset || hs.Characteristics != s.Characteristics {
				t.Errorf("%s section %d: %+v vs %+v", name, i, hs, s.SectionHeader)
			}
		}
		g.Close()
		f.Close()
	}
}
