package engine

import (
	"bytes"
	"io"
	"testing"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/testdata/gen/demo"
	"github.com/ntdbg/ntdbg/testdata/gen/mdw"
)

// countingReader counts the bytes a reader hands out.
type countingReader struct {
	r io.ReaderAt
	n int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// dumpWithMemory is the demo dump with one extra region of size bytes.
func dumpWithMemory(size int) []byte {
	d := demo.Build()
	d.Memory = append(d.Memory, mdw.Region{Addr: 0x0000020000000000, Data: make([]byte, size)})
	return d.Bytes()
}

// Opening reads the directory and descriptor streams only: the bytes read
// must not grow with the amount of memory in the dump.
func TestOpenReadsDoNotGrowWithDumpSize(t *testing.T) {
	var read []int64
	for _, size := range []int{1 << 20, 64 << 20} {
		data := dumpWithMemory(size)
		cr := &countingReader{r: bytes.NewReader(data)}
		tg, err := target.OpenMinidump(cr, int64(len(data)), "x.dmp")
		if err != nil {
			t.Fatal(err)
		}
		s := NewSession(tg)
		for _, th := range tg.Threads() {
			if _, err := th.Registers(); err != nil {
				t.Fatal(err)
			}
		}
		s.ModuleByName("ntdll")
		t.Logf("dump of %d bytes: %d bytes read at open", len(data), cr.n)
		read = append(read, cr.n)
	}
	if read[0] != read[1] {
		t.Fatalf("bytes read at open grew with dump size: %v", read)
	}
	if read[1] > 1<<20 {
		t.Fatalf("open read %d bytes", read[1])
	}
}

func TestDemoTarget(t *testing.T) {
	data := demo.Build().Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.Warnings()) > 0 {
		t.Fatalf("warnings: %v", tg.Warnings())
	}
	s := NewSession(tg)
	// No exception stream: the first thread is the event thread (the seed's
	// `~` marks thread 0 `#` after ~20s on such a dump).
	if s.EventThread != 0 || len(tg.Threads()) != 5 {
		t.Fatalf("event %d threads %d", s.EventThread, len(tg.Threads()))
	}
	if err := s.SetThread(4); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]uint64{"tid": 0x43d8, "teb": 0x00007ff776460000, "peb": 0x00007ff7765ad000, "tpid": 0xc08, "ip": 0x00007fff97c010cd} {
		if v, err := s.Pseudo(name); err != nil || v != want {
			t.Errorf("$%s = %#x %v, want %#x", name, v, err, want)
		}
	}
	if _, err := s.Pseudo("nosuch"); err == nil {
		t.Error("$nosuch resolved")
	}
	r, _ := s.Registers()
	if v, ok := r.Get("ecx"); !ok || v != 0x1b48 {
		t.Errorf("ecx %#x %v", v, ok)
	}
	if v, ok := r.Get("cl"); !ok || v != 0x48 {
		t.Errorf("cl %#x %v", v, ok)
	}
}

func BenchmarkOpenListThreadsModules(b *testing.B) {
	data := demo.Build().Bytes()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "demo")
		if err != nil {
			b.Fatal(err)
		}
		for _, th := range tg.Threads() {
			th.Registers()
		}
		if len(tg.Modules()) != 6 {
			b.Fatal("modules")
		}
	}
}

func BenchmarkRead1MB(b *testing.B) {
	data := dumpWithMemory(4 << 20)
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "big")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := mem.ReadFull(tg.AddressSpace(nil), buf, 0x0000020000000000+uint64(i%3)<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadSmall reads 64-byte pieces, the way stack walks and
// structure dumps do, through the block cache.
func BenchmarkReadSmall(b *testing.B) {
	data := dumpWithMemory(4 << 20)
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "big")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := mem.ReadFull(tg.AddressSpace(nil), buf, 0x0000020000000000+uint64(i*4160)%(4<<20-64)); err != nil {
			b.Fatal(err)
		}
	}
}

// Values over memory with fields by name, from the demo's ntdll PDB.
func TestTypedValuesByFieldName(t *testing.T) {
	data := demo.Build().Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "demo")
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession(tg)
	s.Symbols = symbols.NewSymbols(tg, demo.FixtureDir())
	ref, err := s.Symbols.FindType("ntdll", "_TEB")
	if err != nil {
		t.Fatal(err)
	}
	th := tg.Threads()[4]
	teb := ref.ValueOf(s.Mem(), 8, th.Teb)
	if !teb.HasField("ClientId.UniqueThread") || teb.HasField("ClientId.NoSuchField") {
		t.Fatal("HasField")
	}
	f, err := teb.Field("ClientId.UniqueThread")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := f.Uint(); err != nil || v != uint64(th.ID) {
		t.Errorf("ClientId.UniqueThread = %#x %v, want %#x", v, err, th.ID)
	}
	pf, _ := teb.Field("ProcessEnvironmentBlock")
	peb, err := pf.Ptr()
	if want, _ := s.PEB(); err != nil || peb != want || peb != 0x00007ff7765ad000 {
		t.Errorf("ProcessEnvironmentBlock %#x %v", peb, err)
	}
	if !s.Layout().FromTypes {
		t.Error("the session's layout did not come from ntdll's types")
	}
	// The layout follows the symbols: with ntdll unloaded and no symbol
	// path it falls back to the documented offsets.
	syms := s.Symbols.(*symbols.Symbols)
	syms.Unload(s.ModuleByName("ntdll"))
	syms.SetPath("")
	if s.Layout().FromTypes {
		t.Error("the layout still comes from types after the symbols went away")
	}
	if err := syms.Close(); err != nil {
		t.Error(err)
	}
}
