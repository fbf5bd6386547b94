package hyperv

import (
	"fmt"
	"sort"

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
	*mdw.Pages
	allocs []*allocation
}

// NewSpace returns an empty address space.
func NewSpace() *Space { return &Space{Pages: mdw.NewPages()} }

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
	for _, p := range s.PageAddrs() {
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
				case s.Has(p):
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
