package symbols

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/testdata/gen/demo"
	"github.com/ntdbg/ntdbg/testdata/gen/mdw"
)

// manyModules is the demo dump with n more modules that all name one
// 1.2 MB PDB (manytypes.pdb): a process that loads the same DLL under many
// names, as plug-in hosts do.
func manyModules(t testing.TB, n int) *target.UserTarget {
	d := demo.Build()
	// The image's identity, read with Go's debug/pe and the CodeView
	// record found by its RSDS signature (not with ntdbg's readers).
	path := filepath.Join(demo.FixtureDir(), "manytypes.dll")
	f, err := pe.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	oh := f.OptionalHeader.(*pe.OptionalHeader64)
	stamp, size := f.TimeDateStamp, oh.SizeOfImage
	f.Close()
	raw, _ := os.ReadFile(path)
	i := bytes.Index(raw, []byte("RSDS"))
	if i < 0 {
		t.Fatal("no RSDS record in manytypes.dll")
	}
	var guid [16]byte
	copy(guid[:], raw[i+4:i+20])
	age := binary.LittleEndian.Uint32(raw[i+20:])
	name := string(raw[i+24 : i+24+bytes.IndexByte(raw[i+24:], 0)])
	for i := 0; i < n; i++ {
		d.Modules = append(d.Modules, mdw.Module{Base: 0x10000000 + uint64(i)*0x100000, Size: size,
			Path: fmt.Sprintf(`C:\plugins\p%04d\manytypes.dll`, i), TimeDateStamp: stamp,
			PdbName: name, PdbGUID: guid, PdbAge: age})
	}
	data := d.Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "many.dmp")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// peakHeap runs fn and samples the heap in use while it runs.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > base && m.HeapInuse-base > peak.Load() {
				peak.Store(m.HeapInuse - base)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
}

// 1,000 modules sharing one PDB load it once (issue 11, finding 9: each
// module opened its own copy, 1.6 GB for x *!*). Every module still gets
// its symbols, at its own base.
func TestModulesShareOnePDB(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 1,000 modules")
	}
	tg := manyModules(t, 1000)
	s := NewSymbols(tg, demo.FixtureDir())
	defer s.Close()
	var total int
	peak := peakHeap(func() {
		for _, m := range tg.Modules() {
			total += len(s.Match(m, func(string) bool { return true }))
		}
	})
	t.Logf("x *!* over %d modules: %d symbols, peak heap %.1f MB", len(tg.Modules()), total, float64(peak)/1e6)
	if peak > 200<<20 {
		t.Errorf("peak heap %.1f MB, want under 200 MB", float64(peak)/1e6)
	}
	last := tg.Modules()[len(tg.Modules())-1]
	if st := s.Get(last).State; st != SymPrivatePDB && st != SymPDB {
		t.Errorf("the last copy has no symbols (state %d)", st)
	}
	first := tg.Modules()[len(tg.Modules())-1000]
	a, b := s.Match(first, func(string) bool { return true }), s.Match(last, func(string) bool { return true })
	if len(a) == 0 || len(a) != len(b) || a[0].Addr-first.Base != b[0].Addr-last.Base {
		t.Errorf("copies differ: %d and %d symbols", len(a), len(b))
	}
}
