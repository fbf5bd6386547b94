package kdump

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/ntdbg/ntdbg/dumpfmt/internal/decode"
)

// Run is a range of physical page frames the dump holds. Its pages follow
// each other in the file from Offset.
type Run struct {
	BasePage  uint64
	PageCount uint64
	Offset    int64
}

// maxPFN bounds page frame numbers: a 64-bit physical address space has 2^52
// pages of 4 KiB.
const maxPFN = 1 << 52

// maxFilePages is the most pages whose file offsets (from any start up to
// 2^62) stay below 2^63.
const maxFilePages = (math.MaxInt64 - (1 << 62)) / PageSize

// fullRuns builds the runs of a full dump (DumpType 1) from the header's
// PhysicalMemoryBlock: page k of run r is at 0x2000 + 0x1000·(pages of the
// runs before r + k) (formats-spec.md §2.2).
func (f *File) fullRuns() error {
	pm := &f.Header.PhysicalMemoryBlock
	if pm.Unused {
		return errAt(offPhysicalMemoryBlock, "PHYSICAL_MEMORY_DESCRIPTOR64", "a full dump (DumpType 1) whose run list is unused ('PAGE')")
	}
	if pm.Run == nil && pm.NumberOfRuns > 0 {
		return errAt(offPhysicalMemoryBlock, "PHYSICAL_MEMORY_DESCRIPTOR64", "NumberOfRuns %d does not fit in the 700-byte block (at most %d)", pm.NumberOfRuns, maxRuns)
	}
	runs := make([]indexedRun, 0, len(pm.Run))
	off := int64(HeaderSize)
	total := uint64(0)
	for i, r := range pm.Run {
		at := int64(offRuns + 16*i)
		if r.PageCount > maxPFN || r.BasePage > maxPFN-r.PageCount {
			return errAt(at, "PHYSICAL_MEMORY_RUN64", "run %d (base page 0x%x, 0x%x pages) lies beyond a 64-bit physical address space", i, r.BasePage, r.PageCount)
		}
		total += r.PageCount
		if total > maxFilePages {
			return errAt(at, "PHYSICAL_MEMORY_RUN64", "run %d: 0x%x pages in all, more than a file can hold", i, total)
		}
		runs = append(runs, indexedRun{Run{r.BasePage, r.PageCount, off}, at})
		off += int64(r.PageCount) * PageSize
	}
	return f.setRuns(runs, "PHYSICAL_MEMORY_RUN64")
}

type indexedRun struct {
	Run
	at int64 // file offset of the entry that described the run
}

// setRuns sorts runs by page, drops empty ones and refuses overlaps.
func (f *File) setRuns(runs []indexedRun, what string) error {
	runs = slices.DeleteFunc(runs, func(r indexedRun) bool { return r.PageCount == 0 })
	slices.SortStableFunc(runs, func(a, b indexedRun) int {
		switch {
		case a.BasePage < b.BasePage:
			return -1
		case a.BasePage > b.BasePage:
			return 1
		}
		return 0
	})
	f.runs = make([]Run, len(runs))
	for i, r := range runs {
		if i > 0 && r.BasePage < runs[i-1].BasePage+runs[i-1].PageCount {
			p := runs[i-1]
			return errAt(r.at, what, "pages 0x%x-0x%x overlap pages 0x%x-0x%x of the entry at 0x%x",
				r.BasePage, r.BasePage+r.PageCount-1, p.BasePage, p.BasePage+p.PageCount-1, p.at)
		}
		f.runs[i] = r.Run
	}
	return nil
}

// RDMP layout (formats-spec.md §2.4, UNCERTAIN). What this reader assumes
// and how it was checked:
//   - RDMP_HEADER64 at 0x2000: Marker 0x40, 'RDMP', 'DUMP', MetadataSize at
//     0x10, FirstPageOffset at 0x18, with kdmp-parser's sanity check
//     MetadataSize − 0x20 == FirstPageOffset − 0x2040, that is, the metadata
//     starts at 0x2020 and the pages right after it.
//   - Types 8 and 9: two u64 of unknown meaning at 0x2020; type 0xA:
//     NumberOfRanges u32 at 0x2020 and TotalNumberOfPages u64 at 0x2028.
//   - Ranges {PFN u64, NumberOfPages u64} from 0x2030 until a PFN of 0, the
//     end of the metadata, or (type 0xA) TotalNumberOfPages counted; pages
//     are stored back to back from FirstPageOffset in list order.
//     kdmp-parser reads MetadataSize/16 entries, which would let the last
//     one overlap the first page; we stop at FirstPageOffset.
//
// Verified only by round trips through testdata/gen/kdw, a writer built
// from the same spec text, and a second decoder in the tests: no real RDMP
// dump was available.
const (
	rdmpMarker     = 0x40
	rdmpRangesAt   = HeaderSize + 0x30
	rdmpMetadataAt = HeaderSize + 0x20
)

func (f *File) rdmpRuns() error {
	full := f.Header.DumpType == DumpComplete
	what := "KERNEL_RDMP_HEADER64"
	if full {
		what = "FULL_RDMP_HEADER64"
	}
	b, err := f.read(HeaderSize, 0x30, what)
	if err != nil {
		return err
	}
	d := decode.New("kdump", what, b, HeaderSize)
	h := &RDMPHeader{Marker: d.U32(), Signature: d.U32(), ValidDump: d.U32()}
	d.Skip(4)
	h.MetadataSize, h.FirstPageOffset = d.U64(), d.U64()
	if full {
		h.NumberOfRanges = d.U32()
		d.Skip(4)
		h.TotalNumberOfPages = d.U64()
	} else {
		h.Unknown1, h.Unknown2 = d.U64(), d.U64()
	}
	if err := d.Err(); err != nil {
		return err
	}
	if h.Marker != rdmpMarker || h.Signature != SignatureRDMP || h.ValidDump != ValidDump32 {
		return errAt(HeaderSize, what, "marker 0x%x, signature %q/%q, want 0x40 RDMP DUMP", h.Marker, sig4(h.Signature), sig4(h.ValidDump))
	}
	if h.MetadataSize < 0x20 || h.FirstPageOffset < 0x2040 || h.FirstPageOffset > 1<<62 || h.MetadataSize-0x20 != h.FirstPageOffset-0x2040 {
		return errAt(HeaderSize+0x10, what, "MetadataSize 0x%x and FirstPageOffset 0x%x disagree (the pages follow the metadata at 0x2020)", h.MetadataSize, h.FirstPageOffset)
	}
	entries := (h.FirstPageOffset - rdmpRangesAt) / 16
	var runs []indexedRun
	off := int64(h.FirstPageOffset)
	counted := uint64(0)
	var chunk []byte
	chunkAt, want := int64(0), int64(256) // chunks grow from 16 entries to 4096

	for i := uint64(0); i < entries; i++ {
		if full && counted == h.TotalNumberOfPages {
			break
		}
		at := int64(rdmpRangesAt + 16*i)
		if at+16 > chunkAt+int64(len(chunk)) {
			n := min(int64(entries-i)*16, want, f.size-at)
			want = min(2*want, 1<<16)
			if n < 16 {
				return errAt(at, "RDMP range list", "the list runs past the end of the 0x%x-byte file before it ends", f.size)
			}
			if chunk, err = f.read(at, n&^15, "RDMP range list"); err != nil {
				return err
			}
			chunkAt = at
		}
		e := chunk[at-chunkAt:]
		pfn, count := le64(e, 0), le64(e, 8)
		if pfn == 0 {
			break
		}
		if count > maxPFN || pfn > maxPFN-count {
			return errAt(at, "RDMP range", "range %d (PFN 0x%x, 0x%x pages) lies beyond a 64-bit physical address space", i, pfn, count)
		}
		counted += count
		if counted > maxFilePages {
			return errAt(at, "RDMP range", "range %d: 0x%x pages in all, more than a file can hold", i, counted)
		}
		if full && counted > h.TotalNumberOfPages {
			return errAt(at, "RDMP range", "range %d brings the page count to 0x%x, past TotalNumberOfPages 0x%x", i, counted, h.TotalNumberOfPages)
		}
		runs = append(runs, indexedRun{Run{pfn, count, off}, at})
		off += int64(count) * PageSize
	}
	h.RangePages = counted
	f.RDMP = h
	return f.setRuns(runs, "RDMP range")
}

func sig4(v uint32) string {
	return printable([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)})
}

// Bitmap index. The bitmap is not kept: prefix[k] counts the bits set in the
// 4096-bit blocks before block k, and the block a lookup needs is read from
// the file into a small cache.
const (
	blockBits  = 4096
	blockBytes = blockBits / 8
	bmCache    = 8
)

type bitmapIndex struct {
	prefix []uint64
	err    error
	cache  [bmCache]struct {
		blk  uint64 // block number + 1; 0 when the slot is empty
		data [blockBytes]byte
	}
	next int
}

func (f *File) openBitmap() error {
	const what = "BMP_DUMP_HEADER64"
	b, err := f.read(HeaderSize, 0x38, what)
	if err != nil {
		return err
	}
	d := decode.New("kdump", what, b, HeaderSize)
	h := &BitmapHeader{Signature: d.U32(), ValidDump: d.U32(), DumpOptions: d.U32()}
	d.Seek(0x20)
	h.FirstPage, h.TotalPresentPages, h.Pages = d.U64(), d.U64(), d.U64()
	if err := d.Err(); err != nil {
		return err
	}
	if (h.Signature != SignatureSDMP && h.Signature != SignatureFDMP) || h.ValidDump != ValidDump32 {
		return errAt(HeaderSize, what, "signature %q/%q, want SDMP or FDMP, then DUMP (DumpType %s)", sig4(h.Signature), sig4(h.ValidDump), DumpTypeName(f.Header.DumpType))
	}
	if h.Pages > maxPFN {
		return errAt(HeaderSize+0x30, what, "a bitmap of 0x%x pages is beyond a 64-bit physical address space", h.Pages)
	}
	nbytes := int64(h.Pages+7) / 8
	if nbytes > f.size-bitmapOffset {
		return errAt(bitmapOffset, "BMP bitmap", "0x%x bits (0x%x bytes) run past the end of the 0x%x-byte file", h.Pages, nbytes, f.size)
	}
	if h.TotalPresentPages > h.Pages {
		return errAt(HeaderSize+0x28, what, "TotalPresentPages 0x%x is more than the bitmap's 0x%x pages", h.TotalPresentPages, h.Pages)
	}
	if h.FirstPage < uint64(bitmapOffset+nbytes) || h.FirstPage > 1<<62 {
		return errAt(HeaderSize+0x20, what, "FirstPage 0x%x lies inside the header or the bitmap (which ends at 0x%x)", h.FirstPage, bitmapOffset+nbytes)
	}
	f.Bitmap = h
	return nil
}

// index builds the bitmap's rank index on first use, in one pass over the
// bitmap, and checks its bit count against TotalPresentPages. f.mu is held.
func (f *File) index() (*bitmapIndex, error) {
	if f.bm != nil {
		return f.bm, f.bm.err
	}
	h := f.Bitmap
	x := &bitmapIndex{}
	f.bm = x
	nblocks := (h.Pages + blockBits - 1) / blockBits
	nbytes := int64(h.Pages+7) / 8
	x.prefix = make([]uint64, nblocks+1)
	buf := make([]byte, min(nbytes, 1<<16))
	total := uint64(0)
	for pos := int64(0); pos < nbytes; pos += int64(len(buf)) {
		b := buf[:min(int64(len(buf)), nbytes-pos)]
		if m, err := f.r.ReadAt(b, bitmapOffset+pos); m < len(b) {
			x.err = errAt(bitmapOffset+pos, "BMP bitmap", "read failed: %v", err)
			return x, x.err
		}
		if pos+int64(len(b)) == nbytes && h.Pages%8 != 0 {
			b[len(b)-1] &= byte(1)<<(h.Pages%8) - 1
		}
		for i := 0; i < len(b); i += blockBytes {
			blk := (pos + int64(i)) / blockBytes
			total += popcount(b[i:min(i+blockBytes, len(b))])
			x.prefix[blk+1] = total
		}
	}
	if total != h.TotalPresentPages {
		x.err = errAt(HeaderSize+0x28, "BMP_DUMP_HEADER64", "TotalPresentPages is 0x%x but the bitmap at 0x%x has 0x%x bits set", h.TotalPresentPages, bitmapOffset, total)
	}
	return x, x.err
}

func popcount(b []byte) uint64 {
	n := 0
	for len(b) >= 8 {
		n += bits.OnesCount64(le64(b, 0))
		b = b[8:]
	}
	for _, c := range b {
		n += bits.OnesCount8(c)
	}
	return uint64(n)
}

// block returns the bitmap bytes of block blk (512 bytes, the last one may be
// shorter: its tail is zero). f.mu is held.
func (f *File) block(x *bitmapIndex, blk uint64) ([]byte, error) {
	for i := range x.cache {
		if x.cache[i].blk == blk+1 {
			return x.cache[i].data[:], nil
		}
	}
	c := &x.cache[x.next]
	x.next = (x.next + 1) % bmCache
	c.blk = 0
	nbytes := int64(f.Bitmap.Pages+7) / 8
	at := int64(blk) * blockBytes
	n := min(blockBytes, nbytes-at)
	clear(c.data[:])
	if m, err := f.r.ReadAt(c.data[:n], bitmapOffset+at); m < int(n) {
		return nil, errAt(bitmapOffset+at, "BMP bitmap", "read failed: %v", err)
	}
	c.blk = blk + 1
	return c.data[:], nil
}

// bitmapOffsetOf is the file offset of page pfn of a bitmap dump, or -1.
func (f *File) bitmapOffsetOf(pfn uint64) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	x, err := f.index()
	if err != nil {
		return 0, err
	}
	if pfn >= f.Bitmap.Pages {
		return -1, nil
	}
	blk, bit := pfn/blockBits, pfn%blockBits
	b, err := f.block(x, blk)
	if err != nil {
		return 0, err
	}
	i := bit / 8
	if b[i]&(1<<(bit%8)) == 0 {
		return -1, nil
	}
	rank := x.prefix[blk] + popcount(b[:i]) + uint64(bits.OnesCount8(b[i]&(byte(1)<<(bit%8)-1)))
	return int64(f.Bitmap.FirstPage) + int64(rank)*PageSize, nil
}

// PageOffset is the file offset of physical page frame pfn. A page the dump
// does not hold, or whose offset lies past the end of the file, is a
// *PageError; a bitmap that disagrees with its header is an *Error.
func (f *File) PageOffset(pfn uint64) (int64, error) {
	pa := pfn << 12
	if pfn >= maxPFN {
		return 0, &PageError{PA: pa}
	}
	off := int64(-1)
	if f.Bitmap != nil {
		var err error
		if off, err = f.bitmapOffsetOf(pfn); err != nil {
			return 0, err
		}
	} else {
		i, _ := slices.BinarySearchFunc(f.runs, pfn, func(r Run, p uint64) int {
			switch {
			case r.BasePage+r.PageCount <= p:
				return -1
			case r.BasePage > p:
				return 1
			}
			return 0
		})
		if i < len(f.runs) && f.runs[i].BasePage <= pfn && pfn < f.runs[i].BasePage+f.runs[i].PageCount {
			off = f.runs[i].Offset + int64(pfn-f.runs[i].BasePage)*PageSize
		}
	}
	if off < 0 {
		return 0, &PageError{PA: pa}
	}
	if off > f.size-PageSize {
		return 0, &PageError{PA: pa, Offset: off, Size: f.size}
	}
	return off, nil
}

// ReadPhysical reads len(p) bytes of physical memory from pa, across page
// boundaries. It returns the bytes read before the first page that cannot
// be read and that page's error: a *PageError (errors.Is ErrPageNotInDump)
// naming the address, and for a truncated dump the file offset; or an *Error
// for a damaged bitmap or a failed read.
func (f *File) ReadPhysical(p []byte, pa uint64) (int, error) {
	if len(p) > 0 && pa+uint64(len(p))-1 < pa {
		return 0, fmt.Errorf("kdump: a %d-byte read at physical address 0x%x wraps past the end of the address space", len(p), pa)
	}
	done := 0
	for done < len(p) {
		in := pa & (PageSize - 1)
		n := min(len(p)-done, int(PageSize-in))
		off, err := f.PageOffset(pa >> 12)
		if err != nil {
			var pe *PageError
			if errors.As(err, &pe) {
				pe.PA = pa
			}
			return done, err
		}
		if m, err := f.r.ReadAt(p[done:done+n], off+int64(in)); m < n {
			return done + m, errAt(off+int64(in), "physical page", "reading 0x%x bytes of physical address 0x%x failed: %v", n, pa, err)
		}
		done += n
		pa += uint64(n)
	}
	return done, nil
}

// Runs returns the physical memory the dump holds as runs sorted by page. For
// full and RDMP dumps it is the list read at open; for bitmap dumps it is
// computed from the bitmap on each call (one pass over it; the result has one
// entry per stretch of set bits). Triage and header-only dumps have none.
func (f *File) Runs() ([]Run, error) {
	if f.Bitmap == nil {
		return slices.Clone(f.runs), nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.index(); err != nil {
		return nil, err
	}
	h := f.Bitmap
	nbytes := int64(h.Pages+7) / 8
	buf := make([]byte, min(nbytes, 1<<16))
	var runs []Run
	rank := uint64(0)
	for pos := int64(0); pos < nbytes; pos += int64(len(buf)) {
		b := buf[:min(int64(len(buf)), nbytes-pos)]
		if m, err := f.r.ReadAt(b, bitmapOffset+pos); m < len(b) {
			return nil, errAt(bitmapOffset+pos, "BMP bitmap", "read failed: %v", err)
		}
		for i, c := range b {
			for c != 0 {
				j := bits.TrailingZeros8(c)
				c &= c - 1
				pfn := uint64(pos+int64(i))*8 + uint64(j)
				if pfn >= h.Pages {
					break
				}
				if n := len(runs); n > 0 && runs[n-1].BasePage+runs[n-1].PageCount == pfn {
					runs[n-1].PageCount++
				} else {
					runs = append(runs, Run{pfn, 1, int64(h.FirstPage) + int64(rank)*PageSize})
				}
				rank++
			}
		}
	}
	return runs, nil
}

// PageCount is the number of pages the dump holds.
func (f *File) PageCount() uint64 {
	if f.Bitmap != nil {
		return f.Bitmap.TotalPresentPages
	}
	n := uint64(0)
	for _, r := range f.runs {
		n += r.PageCount
	}
	return n
}
