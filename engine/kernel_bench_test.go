package engine

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

// bigKernel is a kernel dump of memGB GiB of physical memory whose page
// tables map mapped bytes of kernel virtual memory at base with 4 KiB pages
// spread over the whole physical range; only the tables and the mapped
// pages have content, so a sparse file holds it in a few MiB.
func bigKernel(memGB, mapped uint64) (*kdw.Dump, uint64) {
	const base = 0xfffff800_00000000
	pages := memGB << 18
	d := &kdw.Dump{MinorVersion: 9600, NumberProcessors: 4, DirectoryTableBase: 0x1000, ProductType: 1,
		Runs: []kdw.Run{{BasePage: 1, PageCount: pages - 1}}, MemoryPages: pages, Pages: map[uint64][]byte{}}
	ctx := make([]byte, 0x4d0)
	binary.LittleEndian.PutUint32(ctx[0x30:], 0x10001f)
	d.Context = ctx
	next := uint64(2)
	alloc := func() uint64 {
		pfn := next
		next++
		d.Pages[pfn] = make([]byte, 0x1000)
		return pfn
	}
	d.Pages[1] = make([]byte, 0x1000) // the PML4
	entry := func(table, idx uint64) uint64 {
		b := d.Pages[table]
		e := binary.LittleEndian.Uint64(b[idx*8:])
		if e&1 == 0 {
			e = alloc()<<12 | 0x63
			binary.LittleEndian.PutUint64(b[idx*8:], e)
		}
		return e >> 12
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for va := uint64(base); va < base+mapped; va += 0x1000 {
		pdpt := entry(1, va>>39&0x1ff)
		pd := entry(pdpt, va>>30&0x1ff)
		pt := entry(pd, va>>21&0x1ff)
		data := 0x100 + rng.Uint64N(pages-0x200) // anywhere in physical memory, once
		for d.Pages[data] != nil {
			data = 0x100 + rng.Uint64N(pages-0x200)
		}
		binary.LittleEndian.PutUint64(d.Pages[pt][(va>>12&0x1ff)*8:], data<<12|0x63)
		pg := make([]byte, 0x1000)
		binary.LittleEndian.PutUint64(pg, va)
		d.Pages[data] = pg
	}
	return d, base
}

func writeBig(tb testing.TB, d *kdw.Dump, typ int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "big.dmp")
	fh, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := d.Write(fh, typ); err != nil {
		tb.Fatal(err)
	}
	fh.Close()
	return path
}

// Opening a 64 GiB bitmap or full dump reads its header (and the first
// translation its page tables): nothing in proportion to its size.
func BenchmarkKernelOpen64GB(b *testing.B) {
	d, _ := bigKernel(64, 1<<20)
	for _, tc := range []struct {
		name string
		typ  int
	}{{"bitmap", kdw.BitmapFull}, {"full", kdw.Full}} {
		path := writeBig(b, d, tc.typ)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				t, err := Open(path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				t.Close()
			}
		})
	}
}

// 10,000 random 8-byte virtual reads through translation, over 64 MiB
// mapped with 4 KiB pages scattered over 64 GiB.
func BenchmarkKernelRandomReads(b *testing.B) {
	const mapped = 64 << 20
	d, base := bigKernel(64, mapped)
	path := writeBig(b, d, kdw.BitmapFull)
	tg, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer tg.Close()
	m := tg.AddressSpace(nil)
	rng := rand.New(rand.NewPCG(3, 4))
	vas := make([]uint64, 10000)
	for i := range vas {
		vas[i] = base + rng.Uint64N(mapped/0x1000)*0x1000
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, va := range vas {
			v, err := mem.ReadUint(m, va, 8)
			if err != nil || v != va {
				b.Fatalf("%#x: %#x %v", va, v, err)
			}
		}
	}
}

// The kernel address space of a generated dump reads what its page tables
// map, and a page outside them is a typed error.
func TestKernelTranslationOverAFile(t *testing.T) {
	d, base := bigKernel(4, 1<<20)
	path := writeBig(t, d, kdw.BitmapFull)
	tg, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if tg.Kind() != target.Kernel {
		t.Fatalf("kind %v", tg.Kind())
	}
	m := tg.AddressSpace(nil)
	for _, va := range []uint64{base, base + 0x5000, base + 1<<20 - 0x1000} {
		if v, err := mem.ReadUint(m, va, 8); err != nil || v != va {
			t.Errorf("%#x: %#x %v", va, v, err)
		}
	}
	_, err = mem.ReadUint(m, base+1<<20, 8)
	if e, ok := err.(*mem.Error); !ok || e.Kind != mem.Invalid {
		t.Errorf("unmapped: %v", err)
	}
}
