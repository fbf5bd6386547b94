package mem

import (
	"encoding/binary"
	"errors"
	"testing"
)

// physPages is physical memory as a map of 4 KiB frames (absent = not in
// the dump).
type physPages map[uint64][]byte

func (m physPages) ReadVirtual(p []byte, pa uint64) (int, error) {
	done := 0
	for done < len(p) {
		a := pa + uint64(done)
		pg, ok := m[a&^0xfff]
		if !ok {
			return done, &Error{Addr: a, Kind: NotInDump}
		}
		done += copy(p[done:], pg[a&0xfff:])
	}
	return done, nil
}

func (m physPages) page(pa uint64) []byte {
	if m[pa] == nil {
		m[pa] = make([]byte, 0x1000)
	}
	return m[pa]
}

func (m physPages) put(pa, v uint64) {
	binary.LittleEndian.PutUint64(m.page(pa &^ 0xfff)[pa&0xfff:], v)
}

// pager lays page tables out by hand, one fresh frame per table.
type pager struct {
	m    physPages
	next uint64
	dtb  uint64
}

func newPager() *pager {
	p := &pager{m: physPages{}, next: 0x100000}
	p.dtb = p.alloc()
	return p
}

func (p *pager) alloc() uint64 {
	pa := p.next
	p.next += 0x1000
	p.m.page(pa)
	return pa
}

// table returns the table at level (0 = PML4 .. 3 = PT) for va, creating the
// upper entries as present.
func (p *pager) table(va uint64, level int) uint64 {
	t := p.dtb
	for l, sh := range []uint{39, 30, 21}[:level] {
		_ = l
		slot := t + 8*(va>>sh&0x1ff)
		e := binary.LittleEndian.Uint64(p.m[slot&^0xfff][slot&0xfff:])
		if e&1 == 0 {
			e = p.alloc() | 0x63
			p.m.put(slot, e)
		}
		t = e & pfnMask
	}
	return t
}

func (p *pager) set(va uint64, level int, e uint64) {
	p.m.put(p.table(va, level)+8*(va>>[]uint{39, 30, 21, 12}[level]&0x1ff), e)
}

// protoPTE is a prototype PTE naming the PTE at va (bits 16-63 hold its low
// 48 bits).
func protoPTE(va uint64) uint64 { return (va&0xffff_ffff_ffff)<<16 | 1<<10 }

func kindOf(err error) (ErrorKind, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, true
	}
	return 0, false
}

func TestX64Translate(t *testing.T) {
	p := newPager()
	data := p.alloc()
	p.m.put(data+0x10, 0x1122334455667788)
	p.set(0xfffff800_00001000, 3, data|0x63)                     // 4 KiB, kernel
	p.set(0x00007ff7_765ad000, 3, data|0x67|1<<63)               // user, NX bit set
	p.set(0xfffff800_00200000, 2, 0x4000_0000|1<<12|0xe3)        // 2 MiB at PA 1 GiB
	p.set(0xffffe000_00000000, 1, 0x2_0000_0000|1<<12|0xe3)      // 1 GiB at PA 8 GiB
	p.set(0xfffff800_00003000, 3, data|1<<11)                    // transition
	p.set(0xfffff800_00004000, 3, 0x0000_0123_0000_0080)         // pagefile
	p.set(0xfffff800_00005000, 3, 0)                             // zero
	p.set(0xfffff800_00006000, 3, protoPTE(0xfffff800_00007010)) // prototype -> PTE at ...7010
	p.set(0xfffff800_00007000, 3, data|0x63)                     // the page holding the prototype PTE
	p.m.put(data+0x010, 0x1122334455667788)
	proto := p.alloc()
	p.m.put(proto, 0xdead)
	// The prototype PTE (at VA fffff800`00007010 = data+0x10) would read
	// 0x1122334455667788; make it a valid PTE for proto instead.
	p.m.put(data+0x010, proto|0x21)
	p.set(0xfffff800_00008000, 3, protoPTE(0xfffff800_00006000)) // prototype whose page is itself a prototype

	s := NewX64Space(p.m, p.dtb|0x1) // PCID bits in CR3 are masked
	cases := []struct {
		va   uint64
		pa   uint64
		kind ErrorKind
		ok   bool
	}{
		{0xfffff800_00001234, data | 0x234, 0, true},
		{0x00007ff7_765ad018, data | 0x018, 0, true},
		{0xfffff800_00234567, 0x4000_0000 + 0x34567, 0, true},
		{0xffffe000_12345678, 0x2_0000_0000 + 0x12345678, 0, true},
		{0xfffff800_00003008, data | 0x008, 0, true},
		{0xfffff800_00004000, 0, PagedOut, false},
		{0xfffff800_00005000, 0, Invalid, false},
		{0xfffff800_00006008, proto | 0x008, 0, true},
		{0xfffff800_00008000, 0, PagedOut, false},
		{0x00008000_00000000, 0, Invalid, false}, // not canonical
		{0xfffff900_00000000, 0, Invalid, false}, // PML4 entry empty
	}
	for _, tc := range cases {
		pa, err := s.Translate(tc.va)
		if tc.ok {
			if err != nil || pa != tc.pa {
				t.Errorf("%#x: %#x %v, want %#x", tc.va, pa, err, tc.pa)
			}
			continue
		}
		if k, ok := kindOf(err); !ok || k != tc.kind {
			t.Errorf("%#x: %v, want %v", tc.va, err, tc.kind)
		}
		var e *Error
		if errors.As(err, &e) && e.Addr != tc.va {
			t.Errorf("%#x: error names %#x", tc.va, e.Addr)
		}
	}
	// A read across into a paged-out page stops at its first byte.
	buf := make([]byte, 0x20)
	n, err := s.ReadVirtual(buf, 0xfffff800_00003ff0)
	if n != 0x10 || err == nil || err.(*Error).Addr != 0xfffff800_00004000 || err.(*Error).Kind != PagedOut {
		t.Errorf("cross-page read: %d %v", n, err)
	}
	// A page table page missing from the dump is "not in the dump".
	delete(p.m, p.table(0xfffff800_00001000, 3))
	s = NewX64Space(p.m, p.dtb)
	if k, _ := kindOf(func() error { _, err := s.Translate(0xfffff800_00001000); return err }()); k != NotInDump {
		t.Errorf("missing table page: %v", k)
	}
}

// Arbitrary page tables never panic, loop or read outside what they name.
func FuzzX64Translate(f *testing.F) {
	p := newPager()
	d := p.alloc()
	p.set(0xfffff800_00001000, 3, d|0x63)
	p.set(0xfffff800_00002000, 3, protoPTE(0xfffff800_00002000))
	var seed []byte
	for _, pa := range []uint64{p.dtb, p.dtb + 0x1000, p.dtb + 0x2000, p.dtb + 0x3000} {
		seed = append(seed, p.m[pa]...)
	}
	f.Add(seed, uint64(0xfffff800_00001000))
	f.Add(seed, uint64(0xfffff800_00002000))
	f.Fuzz(func(t *testing.T, tables []byte, va uint64) {
		m := physPages{}
		for i := 0; i*0x1000 < len(tables) && i < 64; i++ {
			pg := make([]byte, 0x1000)
			copy(pg, tables[i*0x1000:])
			m[0x100000+uint64(i)*0x1000] = pg
		}
		s := NewX64Space(m, 0x100000)
		buf := make([]byte, 0x1800)
		n, err := s.ReadVirtual(buf, va)
		if n > len(buf) || (err == nil && n != len(buf)) {
			t.Fatalf("read %d of %d, %v", n, len(buf), err)
		}
		if err != nil {
			if _, ok := kindOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
		}
	})
}

// Page tables that point outside physical memory (past the dump's last
// page, or at a frame it lacks) give "not in the dump" at the virtual
// address, for the data page and for a table page alike.
func TestX64TablesOutsideMemory(t *testing.T) {
	p := newPager()
	p.set(0xfffff800_00001000, 3, 0x000f_ffff_ffff_f000|0x63) // a data page at the top of the physical space
	pd := p.table(0xfffff800_00400000, 2)
	p.m.put(pd+8*(0xfffff800_00400000>>21&0x1ff), 0x7_0000_0000|0x63) // a page table past the end
	s := NewX64Space(p.m, p.dtb)
	for _, va := range []uint64{0xfffff800_00001008, 0xfffff800_00400000} {
		_, err := s.ReadVirtual(make([]byte, 8), va)
		var e *Error
		if !errors.As(err, &e) || e.Kind != NotInDump || e.Addr != va {
			t.Errorf("%#x: %v", va, err)
		}
	}
}
