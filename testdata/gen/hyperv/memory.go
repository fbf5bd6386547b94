package hyperv

import (
	"encoding/binary"
	"fmt"
	"sort"
	"unicode/utf16"

	"github.com/ntdbg/ntdbg/testdata/gen/mdw"
)

// Memory constants (winnt.h).
const (
	pageNoAccess         = 0x01
	pageReadOnly         = 0x02
	pageReadWrite        = 0x04
	pageExecuteRead      = 0x20
	pageExecuteWriteCopy = 0x80
	pageGuard            = 0x100

	memCommit  = 0x1000
	memReserve = 0x2000
	memFree    = 0x10000

	memPrivate = 0x20000
	memImage   = 0x1000000
)

// allocation is one VirtualAlloc'd (or image) region of the address space.
type allocation struct {
	base, size uint64
	protect    uint32 // of its committed pages
	image      *Image
	guard      map[uint64]bool // committed guard pages (not captured)
}

// Space is the process's address space: the captured pages and the
// allocations they belong to. Every captured page is committed; the rest of
// each allocation is reserved.
type Space struct {
	pages  map[uint64][]byte
	allocs []*allocation
}

// NewSpace returns an empty address space.
func NewSpace() *Space { return &Space{pages: map[uint64][]byte{}} }

// Alloc records an allocation of private memory.
func (s *Space) Alloc(base, size uint64, protect uint32) *allocation {
	a := &allocation{base: base, size: size, protect: protect, guard: map[uint64]bool{}}
	s.allocs = append(s.allocs, a)
	return a
}

// MapImage maps an image at its base.
func (s *Space) MapImage(img *Image) {
	s.allocs = append(s.allocs, &allocation{base: img.Base, size: uint64(img.Size), image: img})
	s.Write(img.Base, img.Mapped)
}

// Commit captures the pages of [addr, addr+n) (zero-filled).
func (s *Space) Commit(addr, n uint64) {
	for p := addr &^ 0xfff; p < addr+n; p += 0x1000 {
		s.page(p)
	}
}

func (s *Space) page(addr uint64) []byte {
	p := addr &^ 0xfff
	if s.pages[p] == nil {
		s.pages[p] = make([]byte, 0x1000)
	}
	return s.pages[p]
}

// Write copies b to addr, committing pages as needed.
func (s *Space) Write(addr uint64, b []byte) {
	for len(b) > 0 {
		pg := s.page(addr)
		n := copy(pg[addr&0xfff:], b)
		b, addr = b[n:], addr+uint64(n)
	}
}

// U64 writes a little-endian quad word.
func (s *Space) U64(addr, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	s.Write(addr, b[:])
}

// U32 writes a little-endian double word.
func (s *Space) U32(addr uint64, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	s.Write(addr, b[:])
}

// U16 writes a little-endian word.
func (s *Space) U16(addr uint64, v uint16) {
	var b [2]byte
	binary.LittleEndian.PutUint16(b[:], v)
	s.Write(addr, b[:])
}

// Read returns n bytes at addr (zeros where nothing was written).
func (s *Space) Read(addr uint64, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		if pg := s.pages[(addr+uint64(i))&^0xfff]; pg != nil {
			out[i] = pg[(addr+uint64(i))&0xfff]
		}
	}
	return out
}

// UTF16 writes a NUL-terminated UTF-16 string and returns its byte length (without NUL).
func (s *Space) UTF16(addr uint64, str string) int {
	u := utf16.Encode([]rune(str))
	b := make([]byte, 2*len(u)+2)
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	s.Write(addr, b)
	return 2 * len(u)
}

// UnicodeString writes a UNICODE_STRING at addr whose buffer is at buf.
func (s *Space) UnicodeString(addr, buf uint64, str string) {
	n := s.UTF16(buf, str)
	s.U16(addr, uint16(n))
	s.U16(addr+2, uint16(n+2))
	s.U64(addr+8, buf)
}

// Regions merges adjacent captured pages into regions, in address order.
func (s *Space) Regions() []mdw.Region {
	var addrs []uint64
	for a := range s.pages {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	var out []mdw.Region
	for _, a := range addrs {
		if n := len(out); n > 0 && out[n-1].Addr+uint64(len(out[n-1].Data)) == a {
			out[n-1].Data = append(out[n-1].Data, s.pages[a]...)
			continue
		}
		out = append(out, mdw.Region{Addr: a, Data: append([]byte(nil), s.pages[a]...)})
	}
	return out
}

func sectionProtect(ch uint32) uint32 {
	switch {
	case ch&0x20000000 != 0: // IMAGE_SCN_MEM_EXECUTE
		return pageExecuteRead
	case ch&0x80000000 != 0: // IMAGE_SCN_MEM_WRITE
		return pageReadWrite
	default:
		return pageReadOnly
	}
}

// MemoryInfo describes the whole user address space, as
// MiniDumpWithFullMemoryInfo does: free gaps, reserved and committed runs of
// each allocation, and each image's sections by protection. It panics if a
// captured page lies outside every allocation.
func (s *Space) MemoryInfo() []mdw.MemoryInfo {
	allocs := append([]*allocation(nil), s.allocs...)
	sort.Slice(allocs, func(i, j int) bool { return allocs[i].base < allocs[j].base })
	for p := range s.pages {
		in := false
		for _, a := range allocs {
			if p >= a.base && p < a.base+a.size {
				in = true
				break
			}
		}
		if !in {
			panic(fmt.Sprintf("captured page %#x is in no allocation", p))
		}
	}
	var out []mdw.MemoryInfo
	add := func(m mdw.MemoryInfo) {
		if n := len(out); n > 0 {
			l := &out[n-1]
			if l.Base+l.RegionSize == m.Base && l.AllocationBase == m.AllocationBase && l.State == m.State &&
				l.Protect == m.Protect && l.Type == m.Type && l.AllocationProtect == m.AllocationProtect {
				l.RegionSize += m.RegionSize
				return
			}
		}
		out = append(out, m)
	}
	next := uint64(0)
	const top = 0x7ffffffe0000
	for _, a := range allocs {
		if a.base < next {
			panic(fmt.Sprintf("allocation %#x overlaps the one before", a.base))
		}
		if a.base > next {
			add(mdw.MemoryInfo{Base: next, RegionSize: a.base - next, State: memFree, Protect: pageNoAccess})
		}
		if img := a.image; img != nil {
			prot := make([]uint32, a.size/0x1000)
			for i := range prot {
				prot[i] = pageReadOnly
			}
			for _, sec := range img.Sections {
				for p := uint64(sec.RVA) / 0x1000; p < (uint64(sec.RVA)+uint64(sec.Size)+0xfff)/0x1000; p++ {
					prot[p] = sectionProtect(sec.Characteristics)
				}
			}
			for i, pr := range prot {
				add(mdw.MemoryInfo{Base: a.base + uint64(i)*0x1000, AllocationBase: a.base, AllocationProtect: pageExecuteWriteCopy,
					RegionSize: 0x1000, State: memCommit, Protect: pr, Type: memImage})
			}
		} else {
			for p := a.base; p < a.base+a.size; p += 0x1000 {
				m := mdw.MemoryInfo{Base: p, AllocationBase: a.base, AllocationProtect: a.protect, RegionSize: 0x1000, Type: memPrivate}
				switch {
				case s.pages[p] != nil:
					m.State, m.Protect = memCommit, a.protect
				case a.guard[p]:
					m.State, m.Protect = memCommit, a.protect|pageGuard
				default:
					m.State = memReserve
				}
				add(m)
			}
		}
		next = a.base + a.size
	}
	add(mdw.MemoryInfo{Base: next, RegionSize: top - next, State: memFree, Protect: pageNoAccess})
	return out
}
