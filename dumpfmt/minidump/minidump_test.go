package minidump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/dumpfmt/winctx"
	rd "github.com/ntdbg/ntdbg/internal/realdumps"
	"github.com/ntdbg/ntdbg/testdata/gen/demo"
)

var realdumps = rd.Root()

func openFile(t testing.TB, path string) *File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%s not present", path)
	}
	f, err := NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// The expected numbers come from the MANIFEST (read off the headers) and
// from obj2yaml/lldb output in realdumps/peer-output.
func TestRealDumps(t *testing.T) {
	cases := []struct {
		path                     string
		arch                     uint16
		threads, modules, ranges int
		build                    uint32
	}{
		{"lldb/sigsegv.dmp", ArchAMD64, 1, 4, 15, 16299},
		{"breakpad/tiny-exe-with-cet-xsave.dmp", ArchAMD64, 1, 25, 65, 22000},
		{"breakpad/minidump2.dmp", ArchX86, 2, 13, 3, 2600},
		{"breakpad/thread_name_list.dmp", ArchX86, 6, 17, 10, 17763},
		{"breakpad/tiny-exe-with-cet-xsave-x86.dmp", ArchX86, 3, 19, 6, 22631},
		{"lldb/fizzbuzz_no_heap.dmp", ArchX86, 1, 6, 2, 7601},
		{"breakpad/stack_exhaustion.dmp", ArchX86, 2, -1, -1, 7600}, // lldb lists 2 threads
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			f := openFile(t, realdumps+tc.path)
			si, err := f.SystemInfo()
			if err != nil {
				t.Fatal(err)
			}
			if si.ProcessorArchitecture != tc.arch || si.BuildNumber != tc.build {
				t.Errorf("arch %d build %d, want %d %d", si.ProcessorArchitecture, si.BuildNumber, tc.arch, tc.build)
			}
			th, err := f.Threads()
			if err != nil || len(th) != tc.threads {
				t.Fatalf("threads: %d %v, want %d", len(th), err, tc.threads)
			}
			for _, x := range th {
				b, err := f.ReadContext(x.Context)
				if err != nil {
					t.Fatal(err)
				}
				if tc.arch == ArchAMD64 {
					if _, err := winctx.ParseAMD64(b, 0); err != nil {
						t.Fatal(err)
					}
				} else if _, err := winctx.ParseX86(b, 0); err != nil {
					t.Fatal(err)
				}
			}
			if tc.modules >= 0 {
				m, err := f.Modules()
				if err != nil || len(m) != tc.modules {
					t.Fatalf("modules: %d %v, want %d", len(m), err, tc.modules)
				}
			}
			if tc.ranges >= 0 {
				r, err := f.MemoryRanges()
				if err != nil || len(r) != tc.ranges {
					t.Fatalf("ranges: %d %v, want %d", len(r), err, tc.ranges)
				}
			}
		})
	}
}

func TestSigsegvAgainstObj2yaml(t *testing.T) {
	f := openFile(t, realdumps+"lldb/sigsegv.dmp")
	// obj2yaml: Version 0xA0ABA793, Flags 0x121, thread 0x2A6C with TEB
	// 0xADDAC91000, module sigsegv.exe at 0x7FF7A1310000 size 0x7000 with
	// CodeView GUID 7DD47A9F-C2E8-499A-A78E-C14AE2C965A2 age 1 (lldb image list).
	if f.Header.Version != 0xA0ABA793 || f.Header.Flags != 0x121 {
		t.Errorf("header %+v", f.Header)
	}
	th, _ := f.Threads()
	if th[0].ID != 0x2A6C || th[0].Teb != 0xADDAC91000 || th[0].Stack.Start != 0xADDABAE1E8 {
		t.Errorf("thread %+v", th[0])
	}
	m, _ := f.Modules()
	if m[0].Base != 0x7FF7A1310000 || m[0].Size != 0x7000 || m[0].Name != `C:\temp\sigsegv.exe` {
		t.Errorf("module %+v", m[0])
	}
	if cv := m[0].CodeView; cv == nil || cv.GUIDString() != "7DD47A9FC2E8499AA78EC14AE2C965A2" || cv.Age != 1 || cv.PdbName != `C:\temp\sigsegv.pdb` {
		t.Errorf("codeview %+v", m[0].CodeView)
	}
	ex, err := f.Exception()
	if err != nil || ex.ThreadID != 0x2A6C || ex.Record.Code != 0xC0000005 || ex.Record.Address != 0x7FF7A13110D9 {
		t.Errorf("exception %+v %v", ex, err)
	}
	mi, err := f.MiscInfo()
	if err != nil || mi.Version != 5 || mi.ProcessID != 0x32FC {
		t.Errorf("misc %+v %v", mi, err)
	}
}

func TestXStateContext(t *testing.T) {
	f := openFile(t, realdumps+"breakpad/tiny-exe-with-cet-xsave.dmp")
	th, _ := f.Threads()
	b, err := f.ReadContext(th[0].Context)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1407 {
		t.Fatalf("context is %d bytes, the manifest says 1407", len(b))
	}
	c, err := winctx.ParseAMD64(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.ContextFlags&winctx.FlagXState != winctx.FlagXState || c.Ex == nil {
		t.Fatalf("flags %#x, ex %v", c.ContextFlags, c.Ex)
	}
	if c.Rip != 0x7ff9111e39e4 { // lldb: frame #0 0x00007ff9111e39e4
		t.Errorf("rip %#x", c.Rip)
	}
	if c.Ex.XStateLength == 0 || int(c.Ex.XStateOffset)+winctx.SizeAMD64+int(c.Ex.XStateLength) > len(b) {
		t.Errorf("xstate chunk %+v", c.Ex)
	}
	h, err := f.Handles()
	if err != nil || len(h) != 147 {
		t.Errorf("handles %d %v, want 147", len(h), err)
	}
	mi, err := f.MemoryInfos()
	if err != nil || len(mi) != 557 {
		t.Errorf("memory info %d %v, want 557", len(mi), err)
	}
	un, err := f.UnloadedModules()
	if err != nil || len(un) == 0 {
		t.Errorf("unloaded %d %v", len(un), err)
	}
}

func TestThreadNamesAndInfo(t *testing.T) {
	f := openFile(t, realdumps+"breakpad/thread_name_list.dmp")
	n, err := f.ThreadNames()
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32]string{0x19a4: "main thread", 0x2274: "sleep thread", 0x2ae0: "overflow thread"}
	for id, name := range want {
		if n[id] != name {
			t.Errorf("thread %x named %q, want %q", id, n[id], name)
		}
	}
	g := openFile(t, realdumps+"lldb/fizzbuzz_no_heap.dmp")
	ti, err := g.ThreadInfos()
	if err != nil || len(ti) != 1 || ti[0].ThreadID != 0x2320 {
		t.Fatalf("thread info %+v %v", ti, err)
	}
}

func TestGeneratedMemory64(t *testing.T) {
	data := demo.Build().Bytes()
	f, err := NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Stream(StreamMemory64List); !ok {
		t.Fatal("no Memory64List")
	}
	r, err := f.MemoryRanges()
	if err != nil || len(r) == 0 {
		t.Fatalf("%d ranges, %v", len(r), err)
	}
	// Ranges are contiguous in the file from BaseRva, in descriptor order.
	for i := 1; i < len(r); i++ {
		if r[i].Rva != r[i-1].Rva+r[i-1].DataSize {
			t.Fatalf("range %d at file 0x%x, want 0x%x", i, r[i].Rva, r[i-1].Rva+r[i-1].DataSize)
		}
	}
	if last := r[len(r)-1]; last.Rva+last.DataSize != uint64(len(data)) {
		t.Errorf("memory data ends at 0x%x, file is 0x%x", last.Rva+last.DataSize, len(data))
	}
	names, _ := f.ThreadNames()
	if names[0x4c10] != "VmmsWorker" {
		t.Errorf("names %v", names)
	}
	if c, _ := f.Comment(); !strings.HasPrefix(c, "ntdbg demo") {
		t.Errorf("comment %q", c)
	}
}

func TestCorruptInput(t *testing.T) {
	good := demo.Build().Bytes()
	// Header too short.
	_, err := NewFile(bytes.NewReader(good[:10]), 10)
	var me *Error
	if !errors.As(err, &me) || me.Offset != 0 || !strings.Contains(err.Error(), "MINIDUMP_HEADER") {
		t.Errorf("short header: %v", err)
	}
	// Not a minidump.
	bad := append([]byte(nil), good...)
	copy(bad, "PAGE")
	if _, err := NewFile(bytes.NewReader(bad), int64(len(bad))); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("bad signature: %v", err)
	}
	// A directory beyond the end of the file names its offset.
	bad = append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(bad[0xC:], 0x7fffff00)
	_, err = NewFile(bytes.NewReader(bad), int64(len(bad)))
	if !errors.As(err, &me) || me.Offset != 0x7fffff00 {
		t.Errorf("directory past EOF: %v", err)
	}
	// A thread count of 4 billion must be refused before anything is allocated.
	f, _ := NewFile(bytes.NewReader(good), int64(len(good)))
	d, _ := f.Stream(StreamThreadList)
	bad = append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(bad[d.Location.Rva:], 0xffffffff)
	f, _ = NewFile(bytes.NewReader(bad), int64(len(bad)))
	if _, err := f.Threads(); !errors.As(err, &me) || me.Offset != int64(d.Location.Rva) {
		t.Errorf("huge thread count: %v", err)
	}
	// Memory64List whose sizes overrun the file.
	d, _ = f.Stream(StreamMemory64List)
	bad = append([]byte(nil), good...)
	binary.LittleEndian.PutUint64(bad[d.Location.Rva+0x18:], 1<<40)
	f, _ = NewFile(bytes.NewReader(bad), int64(len(bad)))
	if _, err := f.MemoryRanges(); !errors.As(err, &me) {
		t.Errorf("memory overrun: %v", err)
	}
	// Every truncation either opens or fails cleanly, and every stream
	// decoder then fails cleanly too.
	for n := 0; n < len(good); n += 97 {
		exercise(good[:n])
	}
}

// exercise runs every decoder; it must never panic.
func exercise(data []byte) {
	f, err := NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return
	}
	f.SystemInfo()
	if th, err := f.Threads(); err == nil {
		for _, x := range th {
			if b, err := f.ReadContext(x.Context); err == nil {
				winctx.ParseAMD64(b, 0)
				winctx.ParseX86(b, 0)
			}
		}
	}
	f.ThreadInfos()
	f.ThreadNames()
	f.Modules()
	f.UnloadedModules()
	f.MemoryRanges()
	f.MemoryInfos()
	if e, err := f.Exception(); err == nil {
		if b, err := f.ReadContext(e.Context); err == nil {
			winctx.ParseAMD64(b, 0)
		}
	}
	f.MiscInfo()
	f.Handles()
	f.Comment()
}

// FuzzOpen feeds every decoder. The seeds are kept small (the fuzzer slows
// to a crawl on 100 KB inputs): the demo dump with one page of memory, and
// the small real dumps.
func FuzzOpen(f *testing.F) {
	d := demo.Build()
	d.Memory = d.Memory[:1]
	d.Memory[0].Data = d.Memory[0].Data[:0x100]
	f.Add(d.Bytes())
	for _, p := range []string{"breakpad/minidump2.dmp", "breakpad/thread_name_list.dmp", "lldb/fizzbuzz_no_heap.dmp"} {
		if b, err := os.ReadFile(realdumps + p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("MDMP\x93\xa7\x00\x00\x01\x00\x00\x00\x20\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		exercise(data)
	})
}
