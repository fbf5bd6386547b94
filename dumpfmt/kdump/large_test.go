package kdump_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/ntdbg/ntdbg/dumpfmt/kdump"
	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

// pages64GB is 64 GiB of physical memory in 4 KiB pages.
const pages64GB = 64 << 30 >> 12

// big64GB is a dump of a machine with 64 GiB: two runs as firmware leaves
// them (a hole below 1 MiB), content in a few pages, the rest zero.
func big64GB() *kdw.Dump {
	d := sample()
	d.Runs = []kdw.Run{{BasePage: 1, PageCount: 0x9e}, {BasePage: 0x100, PageCount: pages64GB - 0x100}}
	d.MemoryPages = pages64GB
	d.Pages = map[uint64][]byte{}
	for _, p := range []uint64{1, 0x9e, 0x100, 0x1ad, pages64GB / 2, pages64GB - 1} {
		d.Pages[p] = page(p)
	}
	return d
}

// writeSparse writes d as typ into dir; the file is sparse (the zero pages
// are holes), so 64 GiB of memory takes a few MiB of disk.
func writeSparse(tb testing.TB, dir string, d *kdw.Dump, typ int) string {
	tb.Helper()
	path := filepath.Join(dir, kdump.DumpTypeName(uint32(typ))+".dmp")
	fh, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := d.Write(fh, typ); err != nil {
		tb.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

var bigTypes = []int{kdw.Full, kdw.BitmapFull, kdw.BitmapKernel, kdw.Complete, kdw.KernelMemory}

// Opening a dump of 64 GiB reads the header and the structure after it and
// nothing in proportion to the dump; a bitmap is read once, at the first
// physical read, and its index is 8 bytes per 4096 pages.
func TestOpen64GB(t *testing.T) {
	if testing.Short() {
		t.Skip("writes sparse 64 GiB files")
	}
	dir := t.TempDir()
	d := big64GB()
	for _, typ := range bigTypes {
		t.Run(kdump.DumpTypeName(uint32(typ)), func(t *testing.T) {
			path := writeSparse(t, dir, d, typ)
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			st, _ := fh.Stat()
			if st.Size() < 63<<30 {
				t.Fatalf("file is %d bytes", st.Size())
			}
			cr := &countingReader{r: fh}
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			f, err := kdump.NewFile(cr, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&m1)
			if n := cr.n.Load(); n > 0x3000 {
				t.Errorf("open read %d bytes", n)
			}
			if n := m1.TotalAlloc - m0.TotalAlloc; n > 32<<10 {
				t.Errorf("open allocated %d bytes", n)
			}
			if f.PageCount() != pages64GB-0x100+0x9e {
				t.Errorf("PageCount 0x%x", f.PageCount())
			}
			buf := make([]byte, kdw.PageSize)
			for p, want := range d.Pages {
				if _, err := f.ReadPhysical(buf, p<<12); err != nil || !bytes.Equal(buf, want) {
					t.Errorf("page 0x%x: %v", p, err)
				}
			}
			// A zero page in the middle, and holes.
			if _, err := f.ReadPhysical(buf[:8], 0x123456789); err != nil || !bytes.Equal(buf[:8], make([]byte, 8)) {
				t.Errorf("zero page: %v % x", err, buf[:8])
			}
			for _, pa := range []uint64{0, 0x9f000, 0xff000, pages64GB << 12} {
				if _, err := f.ReadPhysical(buf[:8], pa); err == nil {
					t.Errorf("hole at 0x%x reads", pa)
				}
			}
			n := cr.n.Load()
			if f.Bitmap != nil && n > pages64GB/8+64<<10 {
				t.Errorf("bitmap dump: %d bytes read for the index and %d pages", n, len(d.Pages))
			}
			if f.Bitmap == nil && n > 0x3000+int64(len(d.Pages)+6)*kdw.PageSize {
				t.Errorf("%d bytes read", n)
			}
		})
	}
}

func BenchmarkOpen64GB(b *testing.B) {
	dir := b.TempDir()
	d := big64GB()
	for _, typ := range bigTypes {
		path := writeSparse(b, dir, d, typ)
		b.Run(kdump.DumpTypeName(uint32(typ)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f, err := kdump.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
		if typ == kdw.BitmapFull {
			// Open and the first read, which indexes the 2 MiB bitmap.
			b.Run(kdump.DumpTypeName(uint32(typ))+"+index", func(b *testing.B) {
				b.ReportAllocs()
				buf := make([]byte, 8)
				for b.Loop() {
					f, err := kdump.Open(path)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := f.ReadPhysical(buf, 0x100000); err != nil {
						b.Fatal(err)
					}
					f.Close()
				}
			})
		}
	}
}

// sparseMem is an in-memory sparse file: 4 KiB chunks by offset, zeros
// elsewhere. It lets the benchmarks time the reader without the kernel's
// page cache (reading holes of a sparse file fills it with zero pages).
type sparseMem struct {
	chunks map[int64][]byte
	size   int64
}

func (s *sparseMem) WriteAt(p []byte, off int64) (int, error) {
	for i := range p {
		o := off + int64(i)
		c := s.chunks[o>>12]
		if c == nil {
			c = make([]byte, 1<<12)
			s.chunks[o>>12] = c
		}
		c[o&0xfff] = p[i]
	}
	s.size = max(s.size, off+int64(len(p)))
	return len(p), nil
}

func (s *sparseMem) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		o := off + int64(n)
		if o >= s.size {
			return n, io.EOF
		}
		m := min(len(p)-n, int(1<<12-o&0xfff), int(s.size-o))
		if c := s.chunks[o>>12]; c != nil {
			copy(p[n:n+m], c[o&0xfff:])
		} else {
			clear(p[n : n+m])
		}
		n += m
	}
	return n, nil
}

// BenchmarkReadPhysical reads 8 bytes at random present addresses of the
// 64 GiB dumps, and whole pages in order, with no cache above the reader:
// "file" reads the sparse file (its holes cost the kernel a zero page each
// time), "mem" an in-memory sparse image, which times the reader alone.
func BenchmarkReadPhysical(b *testing.B) {
	dir := b.TempDir()
	d := big64GB()
	for _, typ := range []int{kdw.Full, kdw.BitmapFull, kdw.Complete} {
		path := writeSparse(b, dir, d, typ)
		fh, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer fh.Close()
		st, _ := fh.Stat()
		mem := &sparseMem{chunks: map[int64][]byte{}}
		if _, err := d.Write(mem, typ); err != nil {
			b.Fatal(err)
		}
		for _, src := range []struct {
			name string
			r    io.ReaderAt
			size int64
		}{{"file", fh, st.Size()}, {"mem", mem, mem.size}} {
			benchRead(b, kdump.DumpTypeName(uint32(typ))+"/"+src.name, src.r, src.size)
		}
	}
}

func benchRead(b *testing.B, name string, r io.ReaderAt, size int64) {
	{
		f, err := kdump.NewFile(r, size)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, kdw.PageSize)
		if _, err := f.ReadPhysical(buf[:8], 0x100000); err != nil { // builds a bitmap's index
			b.Fatal(err)
		}
		b.Run(name+"/8B-random", func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			for b.Loop() {
				pa := (0x100 + rng.Uint64N(pages64GB-0x100)) << 12
				if _, err := f.ReadPhysical(buf[:8], pa|rng.Uint64N(0xff8)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/page-sequential", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(kdw.PageSize)
			pfn := uint64(0x100)
			for b.Loop() {
				if _, err := f.ReadPhysical(buf, pfn<<12); err != nil {
					b.Fatal(err)
				}
				if pfn++; pfn == pages64GB {
					pfn = 0x100
				}
			}
		})
	}
}
