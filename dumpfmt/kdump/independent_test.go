package kdump_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/ntdbg/ntdbg/dumpfmt/kdump"
	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

// specDump is what a second, deliberately naive decoder reads from a kernel
// dump, written straight from formats-spec.md §2 and sharing no code with
// the reader: a map from every page frame to its file offset, built page by
// page, and a few header fields at their table offsets.
type specDump struct {
	dumpType, build, cpus, bugcheck uint32
	dtb, kdbg                       uint64
	pages                           map[uint64]int64
}

func u32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off : off+4]) }
func u64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off : off+8]) }

func specDecode(b []byte) (*specDump, error) {
	if len(b) < 0x2000 || string(b[:8]) != "PAGEDU64" {
		return nil, errors.New("not PAGEDU64")
	}
	s := &specDump{dumpType: u32(b, 0xF98), build: u32(b, 0x0C), cpus: u32(b, 0x34), bugcheck: u32(b, 0x38),
		dtb: u64(b, 0x10), kdbg: u64(b, 0x80), pages: map[uint64]int64{}}
	switch s.dumpType {
	case 1:
		// §2.2: page k of run r at 0x2000 + 0x1000·(Σ earlier PageCount + k).
		n := int(u32(b, 0x88))
		next := int64(0x2000)
		for r := 0; r < n; r++ {
			base, count := u64(b, 0x98+16*r), u64(b, 0xA0+16*r)
			for k := uint64(0); k < count; k++ {
				s.pages[base+k] = next
				next += 0x1000
			}
		}
	case 2, 5, 6:
		// §2.3: bit i of the bitmap at 0x2038 (LSB first) set ⇒ PFN i is
		// present; the j-th set bit's page is at FirstPage + 0x1000·j.
		if sig := string(b[0x2000:0x2004]); (sig != "SDMP" && sig != "FDMP") || string(b[0x2004:0x2008]) != "DUMP" {
			return nil, fmt.Errorf("bitmap signature %q", b[0x2000:0x2008])
		}
		first, present, bits := u64(b, 0x2020), u64(b, 0x2028), u64(b, 0x2030)
		j := uint64(0)
		for i := uint64(0); i < bits; i++ {
			if b[0x2038+i/8]>>(i%8)&1 == 1 {
				s.pages[i] = int64(first + 0x1000*j)
				j++
			}
		}
		if j != present {
			return nil, fmt.Errorf("%d bits set, TotalPresentPages %d", j, present)
		}
	case 8, 9, 0xA:
		// §2.4, the way kdmp-parser reads it: MetadataSize/16 ranges from
		// 0x2030, a PFN of 0 ends the list, type 0xA stops at
		// TotalNumberOfPages; pages back to back from FirstPageOffset.
		if u32(b, 0x2000) != 0x40 || string(b[0x2004:0x200C]) != "RDMPDUMP" {
			return nil, errors.New("RDMP signature")
		}
		meta, first := u64(b, 0x2010), u64(b, 0x2018)
		if meta-0x20 != first-0x2040 {
			return nil, errors.New("RDMP sizes")
		}
		total, counted := u64(b, 0x2028), uint64(0)
		next := int64(first)
		for r := uint64(0); r < meta/16; r++ {
			if s.dumpType == 0xA && counted == total {
				break
			}
			pfn, count := u64(b, int(0x2030+16*r)), u64(b, int(0x2038+16*r))
			if pfn == 0 {
				break
			}
			for k := uint64(0); k < count; k++ {
				s.pages[pfn+k] = next
				next += 0x1000
			}
			counted += count
		}
	}
	return s, nil
}

// The second decoder and the reader agree on every generated dump: the header
// fields, and for every page frame up to past the last one, whether it is in
// the dump, where, and its bytes.
func TestIndependentDecoder(t *testing.T) {
	dumps := map[string]*kdw.Dump{"sample": sample()}
	// A fragmented one: every third page of 5000, plus a long run.
	frag := &kdw.Dump{MinorVersion: 19041, DirectoryTableBase: 0x1ad000, NumberProcessors: 8, BugCheckCode: 0xE2,
		Pages: map[uint64][]byte{}}
	for p := uint64(1); p < 5000; p += 3 {
		frag.Pages[p] = page(p)[:32]
	}
	for p := uint64(9000); p < 9300; p++ {
		frag.Pages[p] = page(p)[:32]
	}
	dumps["fragmented"] = frag
	for name, d := range dumps {
		for _, typ := range memTypes {
			if typ == kdw.Full && len(d.Runs) == 0 && len(d.Pages) > 1000 {
				continue // more runs than a full dump's header holds
			}
			t.Run(fmt.Sprintf("%s/%s", name, kdump.DumpTypeName(uint32(typ))), func(t *testing.T) {
				b := render(t, d, typ)
				s, err := specDecode(b)
				if err != nil {
					t.Fatal(err)
				}
				f := open(t, b)
				h := f.Header
				if s.dumpType != h.DumpType || s.build != h.MinorVersion || s.cpus != h.NumberProcessors || s.bugcheck != h.BugCheckCode ||
					s.dtb != h.DirectoryTableBase || s.kdbg != h.KdDebuggerDataBlock {
					t.Errorf("spec decoder %+v, reader %+v", s, h)
				}
				if uint64(len(s.pages)) != f.PageCount() || len(s.pages) != len(d.Pages) {
					t.Errorf("spec decoder: %d pages, reader %d, written %d", len(s.pages), f.PageCount(), len(d.Pages))
				}
				pfns := make([]uint64, 0, len(s.pages))
				for p := range s.pages {
					pfns = append(pfns, p)
				}
				sort.Slice(pfns, func(i, j int) bool { return pfns[i] < pfns[j] })
				last := pfns[len(pfns)-1]
				buf := make([]byte, kdw.PageSize)
				for p := uint64(0); p <= last+2; p++ {
					off, inSpec := s.pages[p]
					got, err := f.PageOffset(p)
					if !inSpec {
						if !errors.Is(err, kdump.ErrPageNotInDump) {
							t.Fatalf("pfn 0x%x: the spec decoder has no page, the reader says 0x%x %v", p, got, err)
						}
						continue
					}
					if err != nil || got != off {
						t.Fatalf("pfn 0x%x: spec decoder at 0x%x, reader 0x%x %v", p, off, got, err)
					}
					if _, err := f.ReadPhysical(buf, p<<12); err != nil || !bytes.Equal(buf, b[off:off+kdw.PageSize]) {
						t.Fatalf("pfn 0x%x: bytes differ (%v)", p, err)
					}
					want := make([]byte, kdw.PageSize)
					copy(want, d.Pages[p])
					if !bytes.Equal(buf, want) {
						t.Fatalf("pfn 0x%x: not the page kdw was given", p)
					}
				}
			})
		}
	}
}
