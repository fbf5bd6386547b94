package pdb

import (
	"bytes"
	"encoding/binary"
	"os"
	"sync"
	"testing"
)

// The fuzz targets below rebuild a real PDB with one stream (or one
// module's records) replaced by the fuzzer's bytes, so that mutations reach
// the records behind each accessor instead of dying in the MSF container.
// The bases are the repository's fixtures (always present) followed by the
// real PDBs of ../shared/realdumps that are present; nothing is copied into
// the repository.

var fuzzBasePaths = []string{
	"../../testdata/fixtures/bin/fpoapp.pdb",
	"../../testdata/fixtures/bin/nsi.pdb",
	"../../testdata/fixtures/bin/vmms.pdb",
}

var fuzzRealPaths = []string{
	"lldb/sigsegv.pdb", "lldb/test-pdb.pdb", "lldb/test-pdb-types.pdb",
	"llvm-pdb/FPOTest.pdb", "llvm-pdb/every-type.pdb", "llvm-pdb/every-function.pdb", "llvm-pdb/pdb-diff-cl.pdb",
	"breakpad/pdb/dump_syms_regtest.pdb", "breakpad/pdb/dump_syms_regtest64.pdb",
}

// fuzzBase is a parsed base PDB: its streams (nil for a nil stream).
type fuzzBase struct {
	path    string
	streams [][]byte
	f       *File
}

var (
	basesOnce sync.Once
	bases     []*fuzzBase
)

func loadBases() []*fuzzBase {
	basesOnce.Do(func() {
		paths := append([]string(nil), fuzzBasePaths...)
		for _, r := range fuzzRealPaths {
			paths = append(paths, realdumps+r)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			f, err := NewFile(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				continue
			}
			b := &fuzzBase{path: p, f: f}
			for i := 0; i < f.NumStreams(); i++ {
				s, ok := f.m.stream(i)
				if !ok {
					b.streams = append(b.streams, nil)
					continue
				}
				sb, err := s.all("stream")
				if err != nil {
					sb = []byte{}
				}
				b.streams = append(b.streams, sb)
			}
			bases = append(bases, b)
		}
	})
	return bases
}

// writeMSF lays streams out in an MSF 7.00 file of 4 KiB blocks: the
// superblock, two free-block-map blocks, the streams, the directory and the
// block map. A nil stream gets the nil size 0xFFFFFFFF.
func writeMSF(streams [][]byte) []byte {
	const bs = 4096
	le := binary.LittleEndian
	var blocks [][]byte
	alloc := func(b []byte) []uint32 {
		var ids []uint32
		for len(b) > 0 {
			n := min(bs, len(b))
			ids = append(ids, uint32(3+len(blocks)))
			blocks = append(blocks, b[:n])
			b = b[n:]
		}
		return ids
	}
	dir := le.AppendUint32(nil, uint32(len(streams)))
	var lists [][]uint32
	for _, s := range streams {
		if s == nil {
			dir = le.AppendUint32(dir, 0xFFFFFFFF)
		} else {
			dir = le.AppendUint32(dir, uint32(len(s)))
		}
		lists = append(lists, alloc(s))
	}
	for _, l := range lists {
		for _, id := range l {
			dir = le.AppendUint32(dir, id)
		}
	}
	dirBlocks := alloc(dir)
	var bmap []byte
	for _, id := range dirBlocks {
		bmap = le.AppendUint32(bmap, id)
	}
	mapBlock := alloc(bmap)
	out := make([]byte, (3+len(blocks))*bs)
	copy(out, msfMagic)
	le.PutUint32(out[0x20:], bs)
	le.PutUint32(out[0x24:], 1)
	le.PutUint32(out[0x28:], uint32(3+len(blocks)))
	le.PutUint32(out[0x2C:], uint32(len(dir)))
	le.PutUint32(out[0x34:], mapBlock[0])
	for i, b := range blocks {
		copy(out[(3+i)*bs:], b)
	}
	return out
}

// rebuild is base i with the given streams replaced, opened.
func rebuild(i int, replace map[int][]byte) *File {
	bs := loadBases()
	if len(bs) == 0 {
		return nil
	}
	b := bs[i%len(bs)]
	streams := append([][]byte(nil), b.streams...)
	for k, v := range replace {
		if k >= 0 && k < len(streams) {
			if v == nil {
				v = []byte{}
			}
			streams[k] = v
		}
	}
	data := writeMSF(streams)
	f, err := NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil
	}
	return f
}

func TestWriteMSFRoundTrip(t *testing.T) {
	bs := loadBases()
	if len(bs) == 0 {
		t.Fatal("no base PDBs")
	}
	for i, b := range bs {
		f := rebuild(i, nil)
		if f == nil {
			t.Fatalf("%s does not reopen", b.path)
		}
		if f.GUID != b.f.GUID || f.NumStreams() != b.f.NumStreams() {
			t.Fatalf("%s: GUID or stream count changed", b.path)
		}
		d, err := f.DBI()
		if err != nil {
			t.Fatalf("%s: %v", b.path, err)
		}
		fpo, _ := f.OldFPO()
		nfpo, _ := f.NewFPO()
		procs, _ := f.Procs()
		glob, _ := f.Globals()
		t.Logf("%s: %d streams, %d modules, %d sections, %d FPO, %d new FPO, %d procs, %d globals", b.path, f.NumStreams(), len(d.Modules), len(d.Sections), len(fpo), len(nfpo), len(procs), len(glob))
	}
}

// modRecords is the offset in the DBI stream of each module's record.
func modRecords(dbi []byte) []int {
	if len(dbi) < 0x40 {
		return nil
	}
	size := int(binary.LittleEndian.Uint32(dbi[0x18:]))
	end := min(0x40+size, len(dbi))
	var out []int
	for p := 0x40; p+64 <= end; {
		out = append(out, p)
		q := p + 64
		for k := 0; k < 2; k++ {
			for q < end && dbi[q] != 0 {
				q++
			}
			q++
		}
		p += (q - p + 3) &^ 3
	}
	return out
}

// moduleParts is module m of base b: its stream index, symbol records (after
// the signature) and C13 lines; ok is false when it has no stream.
func moduleParts(b *fuzzBase, m int) (stream, rec int, sym, c13 []byte, ok bool) {
	dbi := b.streams[3]
	recs := modRecords(dbi)
	if m < 0 || m >= len(recs) {
		return 0, 0, nil, nil, false
	}
	le := binary.LittleEndian
	r := recs[m]
	stream = int(le.Uint16(dbi[r+0x22:]))
	if stream == 0xFFFF || stream >= len(b.streams) || b.streams[stream] == nil {
		return 0, 0, nil, nil, false
	}
	s := b.streams[stream]
	symB, c11, c13B := int(le.Uint32(dbi[r+0x24:])), int(le.Uint32(dbi[r+0x28:])), int(le.Uint32(dbi[r+0x2C:]))
	if symB < 4 || symB+c11+c13B > len(s) {
		return 0, 0, nil, nil, false
	}
	return stream, r, s[4:symB], s[symB+c11 : symB+c11+c13B], true
}

// exerciseTypes reaches every accessor of a type table.
func exerciseTypes(tt *TypeTable) {
	b, e := tt.Range()
	for ti := b; ti < e && ti < b+300; ti++ {
		if ty, err := tt.Type(ti); err == nil {
			tt.Resolve(ty)
			if ty.FieldList != 0 {
				tt.Fields(ty.FieldList)
			}
		}
	}
	tt.FindUDT("x")
	tt.FindUDT("_CONTEXT")
	tt.UDTNames()
}

// exerciseLines asks module m for the line of every procedure's start,
// middle and end, and of offsets around them.
func exerciseLines(f *File, procs []Proc, m int) {
	for _, p := range procs {
		for _, off := range []uint32{p.Off, p.Off + p.Len/2, p.Off + p.Len, p.Off - 1, 0, 0xFFFFFFFF} {
			f.LineAt(m, p.Seg, off)
		}
	}
	f.LineAt(m, 1, 0x10)
	f.LineAt(m, 0xFFFF, 0x10)
}

// FuzzFPO: the old FPO stream (FPO_DATA records) and the new FPO stream
// (FRAMEDATA records, whose programs are in /names).
func FuzzFPO(f *testing.F) {
	for i, b := range loadBases() {
		d, err := b.f.DBI()
		if err != nil {
			continue
		}
		for which, si := range []int{d.FPOStream, d.NewFPOStream} {
			if si >= 0 && si < len(b.streams) && b.streams[si] != nil {
				f.Add(uint8(i), uint8(which), b.streams[si])
			}
		}
	}
	f.Fuzz(func(t *testing.T, base, which uint8, data []byte) {
		bs := loadBases()
		if len(bs) == 0 {
			return
		}
		d, err := bs[int(base)%len(bs)].f.DBI()
		if err != nil {
			return
		}
		si := d.FPOStream
		if which&1 != 0 {
			si = d.NewFPOStream
		}
		if si < 0 {
			return
		}
		p := rebuild(int(base), map[int][]byte{si: data})
		if p == nil {
			return
		}
		old, _ := p.OldFPO()
		for i := 1; i < len(old); i++ {
			if old[i].Start < old[i-1].Start {
				t.Fatal("OldFPO is not sorted")
			}
		}
		p.NewFPO()
	})
}

// FuzzGlobals: the symbol record stream behind Publics and Globals.
func FuzzGlobals(f *testing.F) {
	for i, b := range loadBases() {
		if d, err := b.f.DBI(); err == nil && d.SymRecordStream >= 0 && d.SymRecordStream < len(b.streams) && b.streams[d.SymRecordStream] != nil {
			f.Add(uint8(i), b.streams[d.SymRecordStream])
		}
	}
	f.Fuzz(func(t *testing.T, base uint8, data []byte) {
		bs := loadBases()
		if len(bs) == 0 {
			return
		}
		d, err := bs[int(base)%len(bs)].f.DBI()
		if err != nil || d.SymRecordStream < 0 {
			return
		}
		p := rebuild(int(base), map[int][]byte{d.SymRecordStream: data})
		if p == nil {
			return
		}
		p.Publics()
		p.Globals()
	})
}

// FuzzModule: one module's symbol records (procedures, S_LOCAL with its
// S_DEFRANGE_* records, S_REGREL32, blocks) and C13 line tables, with the
// module's sizes in the DBI patched to fit.
func FuzzModule(f *testing.F) {
	for i, b := range loadBases() {
		n := len(modRecords(b.streams[3]))
		added := 0
		for m := 0; m < n && added < 8; m++ {
			if _, _, sym, c13, ok := moduleParts(b, m); ok && len(sym)+len(c13) > 0 {
				f.Add(uint8(i), uint8(m), sym, c13)
				added++
			}
		}
	}
	f.Fuzz(func(t *testing.T, base, mod uint8, sym, c13 []byte) {
		bs := loadBases()
		if len(bs) == 0 {
			return
		}
		b := bs[int(base)%len(bs)]
		stream, rec, _, _, ok := moduleParts(b, int(mod))
		if !ok {
			return
		}
		body := append(append(append([]byte(nil), 0x04, 0, 0, 0), sym...), c13...)
		dbi := append([]byte(nil), b.streams[3]...)
		le := binary.LittleEndian
		le.PutUint32(dbi[rec+0x24:], uint32(4+len(sym)))
		le.PutUint32(dbi[rec+0x28:], 0)
		le.PutUint32(dbi[rec+0x2C:], uint32(len(c13)))
		p := rebuild(int(base), map[int][]byte{stream: body, 3: dbi})
		if p == nil {
			return
		}
		procs, _ := p.Procs()
		var mine []Proc
		for _, pr := range procs {
			if pr.Module == int(mod) {
				mine = append(mine, pr)
			}
		}
		for i, pr := range mine {
			if i >= 100 {
				break
			}
			p.Params(pr)
		}
		// Params must refuse a procedure whose record range is nonsense.
		p.Params(Proc{Module: int(mod), SymStart: 0xFFFFFFF0, SymEnd: 0xFFFFFFFF})
		p.Params(Proc{Module: int(mod), SymStart: 4, SymEnd: uint32(len(body))})
		exerciseLines(p, mine[:min(len(mine), 50)], int(mod))
	})
}

// FuzzTypes: the TPI (stream 2) and IPI (stream 4) type streams.
func FuzzTypes(f *testing.F) {
	for i, b := range loadBases() {
		for which, si := range []int{2, 4} {
			if si < len(b.streams) && len(b.streams[si]) > 0 && len(b.streams[si]) < 256<<10 {
				f.Add(uint8(i), uint8(which), b.streams[si])
			}
		}
	}
	f.Fuzz(func(t *testing.T, base, which uint8, data []byte) {
		si := 2
		if which&1 != 0 {
			si = 4
		}
		p := rebuild(int(base), map[int][]byte{si: data})
		if p == nil {
			return
		}
		get := p.TPI
		if si == 4 {
			get = p.IPI
		}
		if tt, err := get(); err == nil {
			exerciseTypes(tt)
		}
	})
}

// FuzzDBI: the DBI stream itself (module list, substreams, optional debug
// header), the section headers and the OMAP behind DBI.RVA (the section
// map), then everything that reads through the DBI.
func FuzzDBI(f *testing.F) {
	for i, b := range loadBases() {
		f.Add(uint8(i), uint8(0), b.streams[3])
		for which, si := range []int{1: dbgStream(b.streams[3], 5), 2: dbgStream(b.streams[3], 4)} {
			if which > 0 && si >= 0 && si < len(b.streams) && b.streams[si] != nil {
				f.Add(uint8(i), uint8(which), b.streams[si])
			}
		}
	}
	f.Fuzz(func(t *testing.T, base, which uint8, data []byte) {
		bs := loadBases()
		if len(bs) == 0 {
			return
		}
		b := bs[int(base)%len(bs)]
		si := 3
		switch which % 3 {
		case 1:
			si = dbgStream(b.streams[3], 5)
		case 2:
			si = dbgStream(b.streams[3], 4)
		}
		if si < 0 {
			return
		}
		p := rebuild(int(base), map[int][]byte{si: data})
		if p == nil {
			return
		}
		d, err := p.DBI()
		if d == nil || err != nil {
			return
		}
		for s := uint16(0); s <= uint16(min(len(d.Sections), 64))+1; s++ {
			for _, off := range []uint32{0, 0x10, 0x1000, 0xFFFFFFFF} {
				d.RVA(s, off)
			}
		}
		procs, _ := p.Procs()
		for m := range min(len(d.Modules), 8) {
			exerciseLines(p, procs[:min(len(procs), 8)], m)
		}
		p.OldFPO()
		p.NewFPO()
		p.Publics()
	})
}

// dbgStream is entry i of the DBI's optional debug header (-1 when absent).
func dbgStream(dbi []byte, i int) int {
	if len(dbi) < 0x40 {
		return -1
	}
	le := binary.LittleEndian
	pos := uint64(0x40)
	for _, o := range []int{0x18, 0x1C, 0x20, 0x24, 0x28, 0x34} {
		pos += uint64(le.Uint32(dbi[o:]))
	}
	n := uint64(le.Uint32(dbi[0x30:]))
	if pos+n > uint64(len(dbi)) || uint64(2*i+2) > n {
		return -1
	}
	return streamIdx(le.Uint16(dbi[pos+uint64(2*i):]))
}
