package mdw

import (
	"encoding/binary"
	"sort"
	"unicode/utf16"
)

// Pages is a sparse map of 4 KB pages that the scenario writers fill and
// turn into a dump's memory regions.
type Pages struct{ m map[uint64][]byte }

// NewPages returns an empty page map.
func NewPages() *Pages { return &Pages{m: map[uint64][]byte{}} }

func (s *Pages) page(addr uint64) []byte {
	p := addr &^ 0xfff
	if s.m[p] == nil {
		s.m[p] = make([]byte, 0x1000)
	}
	return s.m[p]
}

// Has reports whether the page holding addr is captured.
func (s *Pages) Has(addr uint64) bool { return s.m[addr&^0xfff] != nil }

// PageAddrs lists the captured pages in address order.
func (s *Pages) PageAddrs() []uint64 {
	addrs := make([]uint64, 0, len(s.m))
	for a := range s.m {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	return addrs
}

// Commit captures the pages of [addr, addr+n) (zero-filled).
func (s *Pages) Commit(addr, n uint64) {
	for p := addr &^ 0xfff; p < addr+n; p += 0x1000 {
		s.page(p)
	}
}

// Write copies b to addr, capturing pages as needed.
func (s *Pages) Write(addr uint64, b []byte) {
	for len(b) > 0 {
		pg := s.page(addr)
		n := copy(pg[addr&0xfff:], b)
		b, addr = b[n:], addr+uint64(n)
	}
}

// Read returns n bytes at addr (zeros where nothing was written).
func (s *Pages) Read(addr uint64, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		a := addr + uint64(i)
		if pg := s.m[a&^0xfff]; pg != nil {
			out[i] = pg[a&0xfff]
		}
	}
	return out
}

// U16 writes a little-endian word.
func (s *Pages) U16(addr uint64, v uint16) { s.Write(addr, binary.LittleEndian.AppendUint16(nil, v)) }

// U32 writes a little-endian double word.
func (s *Pages) U32(addr uint64, v uint32) { s.Write(addr, binary.LittleEndian.AppendUint32(nil, v)) }

// U64 writes a little-endian quad word.
func (s *Pages) U64(addr, v uint64) { s.Write(addr, binary.LittleEndian.AppendUint64(nil, v)) }

// UTF16 writes a NUL-terminated UTF-16 string and returns its byte length (without NUL).
func (s *Pages) UTF16(addr uint64, str string) int {
	u := utf16.Encode([]rune(str))
	b := make([]byte, 2*len(u)+2)
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	s.Write(addr, b)
	return 2 * len(u)
}

// UnicodeString writes an x64 UNICODE_STRING at addr whose buffer is at buf.
func (s *Pages) UnicodeString(addr, buf uint64, str string) {
	n := s.UTF16(buf, str)
	var b [16]byte
	binary.LittleEndian.PutUint16(b[0:], uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n+2))
	binary.LittleEndian.PutUint64(b[8:], buf)
	s.Write(addr, b[:])
}

// Regions merges adjacent captured pages into regions, in address order.
func (s *Pages) Regions() []Region {
	var out []Region
	for _, a := range s.PageAddrs() {
		if n := len(out); n > 0 && out[n-1].Addr+uint64(len(out[n-1].Data)) == a {
			out[n-1].Data = append(out[n-1].Data, s.m[a]...)
			continue
		}
		out = append(out, Region{Addr: a, Data: append([]byte(nil), s.m[a]...)})
	}
	return out
}
