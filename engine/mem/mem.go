// Package mem holds the address spaces a target reads through: sorted
// ranges of a dump file (a minidump's memory list, later a kernel dump's
// physical pages), a block cache in front of the dump file, and typed
// address errors that say why a read failed.
package mem

import (
	"container/list"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// Memory is a virtual address space. ReadVirtual reads as many bytes as are
// contiguously readable from addr and returns an *Error for the first
// byte that is not.
type Memory interface {
	ReadVirtual(p []byte, addr uint64) (int, error)
}

// Why an address could not be read.
type ErrorKind int

const (
	// NotInDump: the address is valid but the dump did not capture it.
	NotInDump ErrorKind = iota
	// PagedOut: the page table says the page is in a paging file.
	PagedOut
	// Invalid: no valid translation exists (a bad pointer).
	Invalid
)

func (k ErrorKind) String() string {
	switch k {
	case PagedOut:
		return "paged out"
	case Invalid:
		return "invalid"
	}
	return "not in the dump"
}

// Error reports the first unreadable address of a read and why.
type Error struct {
	Addr uint64
	Kind ErrorKind
}

func (e *Error) Error() string {
	switch e.Kind {
	case PagedOut:
		return fmt.Sprintf("memory at 0x%x is paged out", e.Addr)
	case Invalid:
		return fmt.Sprintf("memory at 0x%x is not a valid address", e.Addr)
	}
	return fmt.Sprintf("memory at 0x%x is not in the dump", e.Addr)
}

// Range is one captured range of virtual memory backed by bytes in a file.
type Range struct {
	Start, Size uint64
	Src         io.ReaderAt
	Off         int64
}

// RangeMap is a virtual address space made of sorted, non-overlapping ranges.
type RangeMap struct {
	ranges []Range
}

// NewRangeMap sorts the ranges; where ranges overlap, the first one listed
// wins for the overlapping bytes (later ones are trimmed).
func NewRangeMap(rs []Range) *RangeMap {
	sorted := append([]Range(nil), rs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	out := sorted[:0]
	for _, r := range sorted {
		if r.Size == 0 || r.Start+r.Size < r.Start {
			continue
		}
		if n := len(out); n > 0 {
			prev := out[n-1]
			if end := prev.Start + prev.Size; r.Start < end {
				if r.Start+r.Size <= end {
					continue
				}
				cut := end - r.Start
				r.Start += cut
				r.Size -= cut
				r.Off += int64(cut)
			}
		}
		out = append(out, r)
	}
	return &RangeMap{ranges: out}
}

// Ranges returns the ranges in address order.
func (m *RangeMap) Ranges() []Range { return m.ranges }

// find returns the index of the range holding addr, or -1.
func (m *RangeMap) find(addr uint64) int {
	i := sort.Search(len(m.ranges), func(i int) bool { return m.ranges[i].Start+m.ranges[i].Size > addr })
	if i < len(m.ranges) && m.ranges[i].Start <= addr {
		return i
	}
	return -1
}

// ReadVirtual implements Memory with partial reads across adjacent ranges.
func (m *RangeMap) ReadVirtual(p []byte, addr uint64) (int, error) {
	done := 0
	for done < len(p) {
		a := addr + uint64(done)
		i := m.find(a)
		if i < 0 {
			return done, &Error{Addr: a}
		}
		r := m.ranges[i]
		rel := a - r.Start
		n := uint64(len(p) - done)
		if avail := r.Size - rel; n > avail {
			n = avail
		}
		got, err := r.Src.ReadAt(p[done:done+int(n)], r.Off+int64(rel))
		done += got
		if uint64(got) < n {
			if err == nil || err == io.EOF {
				err = &Error{Addr: addr + uint64(done)}
			}
			return done, err
		}
	}
	return done, nil
}

// ReadFull reads exactly len(p) bytes or fails.
func ReadFull(m Memory, p []byte, addr uint64) error {
	n, err := m.ReadVirtual(p, addr)
	if n == len(p) {
		return nil
	}
	if err == nil {
		err = &Error{Addr: addr + uint64(n)}
	}
	return err
}

// CachedReader wraps an io.ReaderAt with an LRU cache of fixed-size blocks so
// repeated small reads of a dump do not each go to the file.
type CachedReader struct {
	r         io.ReaderAt
	size      int64
	blockSize int64
	max       int
	lru       *list.List
	blocks    map[int64]*list.Element
	// BytesRead counts bytes fetched from the underlying reader.
	BytesRead int64
}

type cblock struct {
	idx  int64
	data []byte
}

// NewCachedReader caches up to maxBlocks blocks of blockSize bytes.
func NewCachedReader(r io.ReaderAt, size int64, blockSize int64, maxBlocks int) *CachedReader {
	return &CachedReader{r: r, size: size, blockSize: blockSize, max: maxBlocks, lru: list.New(), blocks: map[int64]*list.Element{}}
}

func (c *CachedReader) block(idx int64) ([]byte, error) {
	if e, ok := c.blocks[idx]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cblock).data, nil
	}
	off := idx * c.blockSize
	n := c.blockSize
	if off+n > c.size {
		n = c.size - off
	}
	if n <= 0 {
		return nil, io.EOF
	}
	var buf []byte
	if c.lru.Len() >= c.max {
		old := c.lru.Back()
		ob := old.Value.(*cblock)
		delete(c.blocks, ob.idx)
		c.lru.Remove(old)
		buf = ob.data[:cap(ob.data)][:n]
	} else {
		buf = make([]byte, n)
	}
	got, err := c.r.ReadAt(buf, off)
	c.BytesRead += int64(got)
	if int64(got) < n {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	c.blocks[idx] = c.lru.PushFront(&cblock{idx: idx, data: buf})
	return buf, nil
}

// ReadAt implements io.ReaderAt. Reads of a whole block or more bypass the cache.
func (c *CachedReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.EOF
	}
	if int64(len(p)) >= c.blockSize*4 {
		n, err := c.r.ReadAt(p, off)
		c.BytesRead += int64(n)
		return n, err
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		if pos >= c.size {
			return done, io.EOF
		}
		b, err := c.block(pos / c.blockSize)
		if err != nil {
			return done, err
		}
		done += copy(p[done:], b[pos%c.blockSize:])
	}
	return done, nil
}

// ReadUint reads an unsigned little-endian integer of size 1, 2, 4 or 8.
func ReadUint(m Memory, addr uint64, size int) (uint64, error) {
	var b [8]byte
	if size <= 0 || size > 8 {
		return 0, fmt.Errorf("bad read size %d", size)
	}
	if err := ReadFull(m, b[:size], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// Size is the size of the underlying file.
func (c *CachedReader) Size() int64 { return c.size }
