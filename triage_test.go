package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
	"github.com/ntdbg/ntdbg/testdata/gen/triage"
)

// A Windows 10 19041 triage dump (testdata/gen/triage: real layouts and
// symbol offsets from the 19041 ISF, no kernel image) opens with that ISF
// chosen by the header's signature alone; with only the 9600 ISF on the
// path the walks say the symbols are wrong and the header commands still
// work.
func TestTriageDumpWithISF(t *testing.T) {
	isfRoot := filepath.Join(shared, "isf", "symbols")
	if _, err := os.Stat(isfRoot); err != nil {
		t.Skip("realdumps not present")
	}
	b, err := triage.Build()
	if err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(t.TempDir(), "Mini120124-01.dmp")
	if err := os.WriteFile(dump, b, 0o644); err != nil {
		t.Fatal(err)
	}
	script := "!sym noisy\n.reload\n.bugcheck\n!process -1 0\n!thread\nk\nlm\nq\n"
	out, code := transcript(t, dump, script, "-y", "isf*"+isfRoot)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"Mini Kernel Dump File: Only registers and stack trace are available",
		"Bugcheck code 0000007E",
		"chosen for nt: PsLoadedModuleList, PsActiveProcessHead and KdDebuggerDataBlock agree with the dump header",
		"nt         (isf symbols)", "5278AFF86C341677D7D7835C85B7B844-1.json.xz",
		"Contoso    (deferred)",
		"PROCESS ffffc50a7e86d040\n    SessionId: none  Cid: 0004    Peb: 00000000  ParentCid: 0000\n    DirBase: 001ad000  ObjectTable: ffffa70c2b6030c0",
		"    Image: System\n",
		"THREAD ffffc50a81f35040  Cid 0004.01f4  Teb: 0000000000000000 Win32Thread: 0000000000000000 RUNNING on processor 0",
		"Start Address nt!ExpWorkerThread (0xfffff8064a425870)",
		"00 fffff08c`a3a17780 fffff806`4a425975     nt!KeBugCheckEx\n",
		"01 fffff08c`a3a177d0 fffff806`4a517e25     nt!ExpWorkerThread+0x105\n",
		"02 fffff08c`a3a17830 fffff806`4a5fd0d8     nt!PspSystemThreadStartup+0x55\n",
		"03 fffff08c`a3a17890 00000000`00000000     nt!KiStartSystemThread+0x28\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}

	// Only the 9600 kernel's ISF: nothing agrees with this header.
	only := filepath.Join(t.TempDir(), "windows", "ntkrnlmp.pdb")
	os.MkdirAll(only, 0o755)
	f9600 := "22597D0B40394E23936F6A24C6C52D5B-1.json.xz"
	abs, _ := filepath.Abs(filepath.Join(isfRoot, "windows", "ntkrnlmp.pdb", f9600))
	if err := os.Symlink(abs, filepath.Join(only, f9600)); err != nil {
		t.Skipf("symlink: %v", err)
	}
	out, _ = transcript(t, dump, script, "-y", "isf*"+filepath.Dir(filepath.Dir(only)))
	for _, want := range []string{"Bugcheck code 0000007E", "0 of 3 header symbols agree; not this kernel",
		"NT symbols are incorrect, please fix symbols", "Contoso"} {
		if !strings.Contains(out, want) {
			t.Errorf("9600 only: missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "(isf symbols)") {
		t.Errorf("the 9600 ISF was used:\n%s", out)
	}
}

// An ARM64 triage dump opens: the header, the bugcheck, vertarget and the
// driver list; what needs ARM64 registers or translation says so in one
// line.
func TestARM64TriageDump(t *testing.T) {
	d := &kdw.Dump{MachineImageType: 0xAA64, MinorVersion: 22621, NumberProcessors: 8, BugCheckCode: 0x1E,
		BugCheckParameters: [4]uint64{0xffffffffc0000005, 0xfffff800_12345678, 0, 0}, ProductType: 1,
		Context: bytes.Repeat([]byte{0}, 0x390),
		Triage: &kdw.Triage{Context: bytes.Repeat([]byte{0}, 0x390), TopOfStack: 0xffff8000_10000000, Stack: make([]byte, 0x100),
			Prcb: make([]byte, 0x100), Thread: make([]byte, 0x100), Process: make([]byte, 0x100),
			Drivers: []kdw.Driver{{Name: "ntoskrnl.exe", DllBase: 0xfffff800_12000000, SizeOfImage: 0x1000000},
				{Name: "Contoso.sys", DllBase: 0xfffff800_20000000, SizeOfImage: 0x10000}}}}
	b, err := d.Bytes(kdw.TriageDump)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "arm64.dmp")
	os.WriteFile(p, b, 0o644)
	out, code := transcript(t, p, "vertarget\n.bugcheck\nlm\nr\nk\nq\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"Windows 10 Kernel Version 22621 MP (8 procs) Free ARM 64-bit (AArch64)", "Bugcheck code 0000001E",
		"fffff800`12000000 fffff800`13000000   nt ", "Contoso", "ARM64 register contexts are not supported yet",
		"address translation and unwinding are not supported"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "internal error") {
		t.Errorf("a panic:\n%s", out)
	}
}
