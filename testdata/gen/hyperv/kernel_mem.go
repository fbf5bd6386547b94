package hyperv

import "fmt"

// Physical memory and x64 page tables of the kernel dump (formats-spec.md
// §3). Virtual content is written into Spaces (sparse maps of virtual pages,
// as for the user dump); mapping a virtual page gives it a physical frame,
// and the dump holds exactly the frames with content: the page tables and
// every virtual page written. Frames are handed out by bump allocators, one
// per zone, in the order the writer asks for them, so the layout is
// deterministic.

const pageSize = 0x1000

// PTE bits (formats-spec.md §3.1, §3.2).
const (
	pteValid    = 1 << 0
	pteWrite    = 1 << 1
	pteOwner    = 1 << 2 // user accessible
	pteAccessed = 1 << 5
	pteDirty    = 1 << 6
	pteLarge    = 1 << 7
	pteGlobal   = 1 << 8
	pteSwWrite  = 1 << 11 // Windows' software "writable" bit
	pteNX       = 1 << 63

	pfnMask = 0x000f_ffff_ffff_f000

	// Entry kinds the writer uses.
	kTable    = pteValid | pteWrite | pteAccessed | pteDirty                                     // 0x63, kernel tables
	uTable    = pteValid | pteWrite | pteOwner | pteAccessed | pteDirty                          // 0x67, user tables
	kData     = pteNX | pteValid | pteWrite | pteAccessed | pteDirty | pteGlobal | pteSwWrite    // kernel data
	kCode     = pteValid | pteAccessed | pteGlobal                                               // kernel code, read-only
	kLarge    = pteValid | pteWrite | pteAccessed | pteDirty | pteLarge | pteGlobal | pteSwWrite // 2 MiB kernel page
	uData     = pteNX | pteValid | pteWrite | pteOwner | pteAccessed | pteDirty | pteSwWrite
	selfIndex = 0x1ed // Windows 8.1's fixed PML4 self-map slot: PTEs at 0xfffff680`00000000
)

// zone is a range of page frames handed out in order.
type zone struct {
	name      string
	next, end uint64
}

// physMem is the machine's physical memory as the dump holds it.
type physMem struct {
	frames map[uint64][]byte // PFN -> content (4 KiB), the frames in the dump
	used   map[uint64]string // every PFN handed out, with its use
	zones  map[string]*zone
	pages  uint64 // frames the machine has
}

func newPhysMem(pages uint64) *physMem {
	return &physMem{frames: map[uint64][]byte{}, used: map[uint64]string{}, zones: map[string]*zone{}, pages: pages}
}

func (p *physMem) addZone(name string, first, count uint64) {
	if first+count > p.pages {
		panic(fmt.Sprintf("zone %s ends past physical memory", name))
	}
	p.zones[name] = &zone{name: name, next: first, end: first + count}
}

// alloc hands out n contiguous frames (aligned to align frames) of a zone.
func (p *physMem) alloc(zoneName string, n, align uint64, use string) uint64 {
	z := p.zones[zoneName]
	pfn := (z.next + align - 1) / align * align
	if pfn+n > z.end {
		panic("physical zone " + zoneName + " is full")
	}
	z.next = pfn + n
	for i := range n {
		if prev, ok := p.used[pfn+i]; ok {
			panic(fmt.Sprintf("PFN %#x given to %s and %s", pfn+i, prev, use))
		}
		p.used[pfn+i] = use
	}
	return pfn
}

// reserve marks fixed frames as used (the scenario's directory bases).
func (p *physMem) reserve(pfn uint64, use string) {
	if prev, ok := p.used[pfn]; ok {
		panic(fmt.Sprintf("PFN %#x given to %s and %s", pfn, prev, use))
	}
	p.used[pfn] = use
}

// frame is the content of a frame the dump holds (created zeroed).
func (p *physMem) frame(pfn uint64) []byte {
	f := p.frames[pfn]
	if f == nil {
		f = make([]byte, pageSize)
		p.frames[pfn] = f
	}
	return f
}

func (p *physMem) u64(pfn uint64, idx int) uint64 { return leUint(p.frame(pfn)[8*idx : 8*idx+8]) }

func (p *physMem) setU64(pfn uint64, idx int, v uint64) {
	b := p.frame(pfn)[8*idx:]
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

// addrSpace is one directory table base and the tables under it.
type addrSpace struct {
	phys  *physMem
	pml4  uint64 // PFN
	name  string
	zone  string // where its tables come from
	large map[uint64]uint64
}

func newAddrSpace(p *physMem, pml4 uint64, name, zone string) *addrSpace {
	a := &addrSpace{phys: p, pml4: pml4, name: name, zone: zone, large: map[uint64]uint64{}}
	p.frame(pml4)
	p.setU64(pml4, selfIndex, pteNX|pml4<<12|kTable)
	return a
}

// DirBase is the space's CR3.
func (a *addrSpace) DirBase() uint64 { return a.pml4 << 12 }

func index(va uint64, level int) int { return int(va >> (12 + 9*uint(level)) & 0x1ff) }

// table returns the table at level (2 = PDPT, 1 = PD, 0 = PT) covering va,
// creating the tables on the way.
func (a *addrSpace) table(va uint64, level int) uint64 {
	t := a.pml4
	user := va < 0x0000_8000_0000_0000
	for l := 3; l > level; l-- {
		i := index(va, l)
		e := a.phys.u64(t, i)
		if e&pteValid == 0 {
			if e != 0 {
				panic(fmt.Sprintf("%s: %#x: a software entry above the PTE level", a.name, va))
			}
			n := a.phys.alloc(a.zone, 1, 1, fmt.Sprintf("%s page table (level %d) for %#x", a.name, l-1, va))
			a.phys.frame(n)
			kind := uint64(kTable)
			if user {
				kind = uTable
			}
			a.phys.setU64(t, i, n<<12|kind)
			e = a.phys.u64(t, i)
		}
		if e&pteLarge != 0 {
			panic(fmt.Sprintf("%s: %#x lies in a large page", a.name, va))
		}
		t = (e & pfnMask) >> 12
	}
	return t
}

// map4K maps the page at va to frame pfn with the entry bits kind.
func (a *addrSpace) map4K(va, pfn, kind uint64) {
	pt := a.table(va, 0)
	i := index(va, 0)
	if e := a.phys.u64(pt, i); e != 0 && e != pfn<<12|kind {
		panic(fmt.Sprintf("%s: %#x mapped twice", a.name, va))
	}
	a.phys.setU64(pt, i, pfn<<12|kind)
}

// setPTE writes a raw (software) PTE for va: a page that is not present.
func (a *addrSpace) setPTE(va, raw uint64) {
	if raw&pteValid != 0 {
		panic("setPTE is for invalid entries")
	}
	a.phys.setU64(a.table(va, 0), index(va, 0), raw)
}

// map2M maps the 2 MiB page at va (aligned) to the 512 frames from pfn.
func (a *addrSpace) map2M(va, pfn uint64) {
	if va&0x1fffff != 0 || pfn&0x1ff != 0 {
		panic("map2M: unaligned")
	}
	pd := a.table(va, 1)
	a.phys.setU64(pd, index(va, 1), pfn<<12|kLarge)
	a.large[va] = pfn
}

// translate walks the tables as the MMU does (for the writer's own use).
func (a *addrSpace) translate(va uint64) (uint64, bool) {
	t := a.pml4
	for l := 3; l >= 0; l-- {
		e := a.phys.u64(t, index(va, l))
		if e&pteValid == 0 {
			return 0, false
		}
		if l == 1 && e&pteLarge != 0 {
			return e&0x000f_ffff_ffe0_0000 | va&0x1fffff, true
		}
		t = (e & pfnMask) >> 12
	}
	return t<<12 | va&0xfff, true
}

// shareKernelHalf copies the kernel half of from's PML4 (all but the
// self-map), as every process's top-level table holds the same entries.
func (a *addrSpace) shareKernelHalf(from *addrSpace) {
	for i := 256; i < 512; i++ {
		if i == selfIndex {
			continue
		}
		a.phys.setU64(a.pml4, i, from.phys.u64(from.pml4, i))
	}
}
