package kdump_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/dumpfmt/kdump"
	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzOpen from kdw")

// seedDumps are small dumps of every type for the fuzz corpus. Pages hold
// printable text so the corpus files stay small.
func seedDumps(tb testing.TB) map[string][]byte {
	text := func(pfn uint64) []byte {
		return []byte(strings.Repeat(fmt.Sprintf("pfn %#x ", pfn), 600)[:kdw.PageSize])
	}
	d := sample()
	d.Comment = "seed"
	d.Runs = []kdw.Run{{BasePage: 2, PageCount: 1}, {BasePage: 9, PageCount: 2}}
	d.MemoryPages = 13
	d.Pages = map[uint64][]byte{2: text(2), 9: text(9), 10: text(10)}
	out := map[string][]byte{}
	for _, typ := range memTypes {
		b := render(tb, d, typ)
		// Keep the first page only: the fuzzer slows down on large inputs,
		// and the pages past the cut exercise the truncation errors.
		off, err := open(tb, b).PageOffset(2)
		if err != nil {
			tb.Fatal(err)
		}
		out[strings.ToLower(kdump.DumpTypeName(uint32(typ)))] = b[:off+kdw.PageSize]
	}
	h := sample()
	h.Runs, h.Pages = nil, nil
	out["header"], _ = h.Bytes(kdw.HeaderOnly)
	for _, m := range []uint32{kdump.MachineAMD64, kdump.MachineARM64} {
		tr := triageSample(m)
		tr.Triage.Stack = tr.Triage.Stack[:0x100]
		tr.Triage.DataPage.Data = tr.Triage.DataPage.Data[:0x40]
		out[fmt.Sprintf("triage-%x", m)] = render(tb, tr, kdw.TriageDump)
	}
	return out
}

const seedDir = "testdata/fuzz/FuzzOpen"

// TestFuzzSeeds keeps the committed corpus openable; go test -run
// TestFuzzSeeds -update-seeds rewrites it from kdw.
func TestFuzzSeeds(t *testing.T) {
	seeds := seedDumps(t)
	if *updateSeeds {
		os.MkdirAll(seedDir, 0o755)
		for name, b := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(seedDir, "kdw-"+name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, b := range seeds {
		if _, err := os.Stat(filepath.Join(seedDir, "kdw-"+name)); err != nil {
			t.Errorf("seed %s is missing (go test -run TestFuzzSeeds -update-seeds): %v", name, err)
		}
		if _, err := newFile(b); err != nil {
			t.Errorf("seed %s: %v", name, err)
		}
	}
}

// FuzzOpen feeds the header, run list, bitmap, RDMP and triage decoders and a
// few physical reads, and checks that a page's bytes are the file's bytes at
// the offset the reader gives for it.
func FuzzOpen(f *testing.F) {
	f.Add([]byte("PAGEDU64"))
	f.Add([]byte("PAGEDUMP"))
	f.Fuzz(func(t *testing.T, data []byte) {
		exercise(t, data)
	})
}

func exercise(t *testing.T, data []byte) {
	kf, err := newFile(data)
	if err != nil {
		var e *kdump.Error
		if !errors.As(err, &e) {
			t.Fatalf("open: %T %v", err, err)
		}
		return
	}
	_ = kf.Context()
	_ = kf.Exception()
	if tr, err := kf.Triage(); err == nil {
		for _, b := range tr.Memory() {
			if uint64(b.Offset)+uint64(len(b.Data)) > uint64(len(data)) {
				t.Fatalf("block at 0x%x runs past the file", b.Offset)
			}
		}
	}
	runs, err := kf.Runs()
	if err != nil {
		return
	}
	pfns := []uint64{0, 1, kf.Header.DirectoryTableBase >> 12}
	for i, r := range runs {
		if i == 8 {
			break
		}
		pfns = append(pfns, r.BasePage, r.BasePage+r.PageCount-1, r.BasePage+r.PageCount)
	}
	buf := make([]byte, kdump.PageSize)
	for _, pfn := range pfns {
		off, err := kf.PageOffset(pfn)
		n, rerr := kf.ReadPhysical(buf, pfn<<12)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("pfn 0x%x: PageOffset %v, ReadPhysical %v", pfn, err, rerr)
		}
		if err != nil {
			var pe *kdump.PageError
			var e *kdump.Error
			if n != 0 || (!errors.As(rerr, &pe) && !errors.As(rerr, &e)) {
				t.Fatalf("pfn 0x%x: %d %T %v", pfn, n, rerr, rerr)
			}
			continue
		}
		if n != len(buf) || !bytes.Equal(buf, data[off:off+kdump.PageSize]) {
			t.Fatalf("pfn 0x%x: %d bytes, not the file's at 0x%x", pfn, n, off)
		}
	}
	// A read straddling the first run's first two pages.
	if len(runs) > 0 {
		kf.ReadPhysical(make([]byte, 0x1800), runs[0].BasePage<<12+0x800)
	}
}
