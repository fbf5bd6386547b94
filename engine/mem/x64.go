package mem

import (
	"encoding/binary"
	"sync"
)

// X64Space is the virtual address space of one directory table base over a
// kernel dump's physical memory: x64 4-level paging (formats-spec.md §3.1)
// with 1 GiB and 2 MiB pages, and the Windows software PTEs a dump can still
// satisfy (§3.2): transition PTEs (the page is on a standby or modified
// list, so in RAM) and prototype PTEs whose prototype is valid or in
// transition. Everything else without the Valid bit is paged out (non-zero
// entry) or not a valid address (zero entry).
type X64Space struct {
	Phys Memory // physical memory: ReadVirtual takes physical addresses
	DTB  uint64

	mu    sync.Mutex
	pages map[uint64]xlat // virtual page -> translation, bounded
}

type xlat struct {
	pa  uint64 // physical page base (page-aligned to 4 KiB)
	err error
}

const (
	pteValid      = 1 << 0
	pteLarge      = 1 << 7
	ptePrototype  = 1 << 10
	pteTransition = 1 << 11
	pfnMask       = 0x000F_FFFF_FFFF_F000
	maxXlatCache  = 1 << 14
)

// NewX64Space returns the address space of the directory table base dtb.
func NewX64Space(phys Memory, dtb uint64) *X64Space {
	return &X64Space{Phys: phys, DTB: dtb, pages: map[uint64]xlat{}}
}

// Canonical reports whether a virtual address has bits 63:48 equal to bit 47.
func Canonical(va uint64) bool {
	top := va >> 47
	return top == 0 || top == 0x1ffff
}

// ReadVirtual reads virtual memory page by page; a short read returns the
// bytes before the first unreadable page with that page's *Error.
func (s *X64Space) ReadVirtual(p []byte, addr uint64) (int, error) {
	done := 0
	for done < len(p) {
		va := addr + uint64(done)
		pa, err := s.Translate(va)
		if err != nil {
			return done, err
		}
		n := min(len(p)-done, int(0x1000-va&0xfff))
		m, err := s.Phys.ReadVirtual(p[done:done+n], pa)
		done += m
		if err != nil || m < n {
			return done, &Error{Addr: va + uint64(m), Kind: NotInDump}
		}
	}
	return done, nil
}

// Translate maps a virtual address to its physical address.
func (s *X64Space) Translate(va uint64) (uint64, error) {
	page := va &^ 0xfff
	s.mu.Lock()
	t, ok := s.pages[page]
	s.mu.Unlock()
	if !ok {
		pa, err := s.walk(page, 0)
		t = xlat{pa, err}
		s.mu.Lock()
		if len(s.pages) >= maxXlatCache {
			clear(s.pages)
		}
		s.pages[page] = t
		s.mu.Unlock()
	}
	if t.err != nil {
		if e, ok := t.err.(*Error); ok && e.Addr != va {
			return 0, &Error{Addr: va, Kind: e.Kind}
		}
		return 0, t.err
	}
	return t.pa | va&0xfff, nil
}

func (s *X64Space) entry(table, index uint64) (uint64, bool) {
	var b [8]byte
	if n, err := s.Phys.ReadVirtual(b[:], table+8*index); err != nil || n < 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b[:]), true
}

// walk translates a page; depth counts prototype indirections.
func (s *X64Space) walk(va uint64, depth int) (uint64, error) {
	if !Canonical(va) {
		return 0, &Error{Addr: va, Kind: Invalid}
	}
	table := s.DTB &^ 0xfff &^ (1 << 63) & pfnMask
	shifts := [4]uint{39, 30, 21, 12}
	for level, sh := range shifts {
		e, ok := s.entry(table, va>>sh&0x1ff)
		if !ok {
			// The page table page itself is missing from the dump.
			return 0, &Error{Addr: va, Kind: NotInDump}
		}
		leaf := level == 3
		if e&pteValid == 0 {
			if !leaf {
				if e == 0 {
					return 0, &Error{Addr: va, Kind: Invalid}
				}
				return 0, &Error{Addr: va, Kind: PagedOut} // a paged-out page table
			}
			return s.software(va, e, depth)
		}
		switch {
		case level == 1 && e&pteLarge != 0: // 1 GiB
			return e&0x000F_FFFF_C000_0000 | va&0x3FFF_F000, nil
		case level == 2 && e&pteLarge != 0: // 2 MiB
			return e&0x000F_FFFF_FFE0_0000 | va&0x1F_F000, nil
		case leaf:
			return e & pfnMask, nil
		}
		table = e & pfnMask
	}
	return 0, &Error{Addr: va, Kind: Invalid}
}

// software resolves a leaf PTE without the Valid bit.
func (s *X64Space) software(va, e uint64, depth int) (uint64, error) {
	switch {
	case e == 0:
		return 0, &Error{Addr: va, Kind: Invalid}
	case e&ptePrototype == 0 && e&pteTransition != 0:
		return e & pfnMask, nil
	case e&ptePrototype != 0 && depth == 0:
		proto := e >> 16
		if proto&(1<<47) != 0 {
			proto |= 0xffff << 48
		}
		if proto == 0xFFFF_FFFF_FFFF_FFFF || proto == 0xFFFF_FFFF_0000 || proto == 0 {
			return 0, &Error{Addr: va, Kind: PagedOut} // "look up the VAD": not resolvable from a dump
		}
		// The prototype PTE lives in kernel memory; its own page must not
		// need another prototype (depth 1 stops a loop of them).
		ppa, err := s.walk(proto&^0xfff, depth+1)
		if err != nil {
			return 0, &Error{Addr: va, Kind: PagedOut}
		}
		pe, ok := s.entry(ppa|proto&0xff8, 0)
		if !ok {
			return 0, &Error{Addr: va, Kind: PagedOut}
		}
		if pe&pteValid != 0 || (pe&ptePrototype == 0 && pe&pteTransition != 0) {
			return pe & pfnMask, nil
		}
		return 0, &Error{Addr: va, Kind: PagedOut}
	}
	return 0, &Error{Addr: va, Kind: PagedOut}
}
