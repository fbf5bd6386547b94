package commands

import (
	"strings"
	"testing"
)

// !dh on the demo's ntdll.dll image, read from the dump. The expected
// values are llvm-readobj-14 --file-headers --sections of
// testdata/fixtures/bin/ntdll.dll (an independent reader): machine 0x8664,
// TimeDateStamp 0x5B8D8962, characteristics 0x2022, linker 14.0,
// SizeOfCode 512, ImageBase 0x7FFF97C00000, SizeOfImage 24576, subsystem 2,
// DLL characteristics 0x160, stack reserve 1048576, .text 0x104 bytes with
// flags 0x60000020. The line layout follows dbghelp's header dump (msdocs
// -dh.md names the options; the layout is dumpbin's, which !dh shares).
func TestDHAgainstLLVMReadobj(t *testing.T) {
	c, out := newCtx(t)
	got := run(t, c, out, "!dh ntdll")
	for _, want := range []string{
		"\nFile Type: DLL\n",
		"    8664 machine (X64)\n",
		"5B8D8962 time date stamp ",
		"    2022 characteristics\n            Executable\n            App can handle >2gb addresses\n            DLL\n",
		"   14.00 linker version\n",
		"     200 size of code\n",
		"00007fff97c00000 image base\n",
		"       2 subsystem (Windows GUI)\n",
		"    6000 size of image\n",
		"0000000000100000 size of stack reserve\n",
		"     160  DLL characteristics\n            High entropy VA supported\n            Dynamic base\n            NX compatible\n",
		"SECTION HEADER #1\n   .text name\n     104 virtual size\n",
		"60000020 flags\n         Code\n         (no align specified)\n         Execute Read\n",
		"] address [size] of Exception Directory\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("!dh lacks %q", want)
		}
	}
	if !strings.Contains(got, "Debug Directories(") || !strings.Contains(got, "Format: RSDS, guid, 1, ntdll.pdb") {
		t.Errorf("!dh debug directories:\n%s", got[strings.LastIndex(got, "SECTION"):])
	}
	if got := run(t, c, out, "!dh -s ntdll"); strings.Contains(got, "FILE HEADER VALUES") || !strings.Contains(got, "SECTION HEADER #1") {
		t.Errorf("!dh -s shows only sections")
	}
	if got := run(t, c, out, "!dh 1000"); !strings.Contains(got, "Can't read the image headers at 00000000`00001000") {
		t.Errorf("!dh on no image: %q", got)
	}
}
