package pdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
)

// dirEntryOffset is the file offset of byte pos of the stream directory.
func dirEntryOffset(data []byte, pos int) int {
	le := binary.LittleEndian
	bs := int(le.Uint32(data[0x20:]))
	mapAddr := int(le.Uint32(data[0x34:]))
	blk := int(le.Uint32(data[mapAddr*bs+4*(pos/bs):]))
	return blk*bs + pos%bs
}

// exercise calls every accessor and reads every stream whole, turning a
// panic into an error.
func exercise(f *File) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	for i := 0; i < f.NumStreams(); i++ {
		if s, ok := f.m.stream(i); ok {
			s.all("stream")
			b := make([]byte, 4096)
			for off := int64(0); off < s.Size() && off < 1<<24; off += 4093 {
				s.ReadAt(b, off)
			}
		}
	}
	exerciseAccessors(f)
	return nil
}

// exerciseAccessors reaches every exported accessor of an open PDB.
func exerciseAccessors(p *File) {
	d, _ := p.DBI()
	p.Publics()
	p.Globals()
	p.OldFPO()
	p.NewFPO()
	procs, _ := p.Procs()
	for i, pr := range procs {
		if i >= 200 {
			break
		}
		p.Params(pr)
	}
	if d != nil {
		for i := range d.Modules {
			if i >= 50 {
				break
			}
			for _, pr := range procs[:min(len(procs), 20)] {
				p.LineAt(i, pr.Seg, pr.Off)
			}
			p.LineAt(i, 1, 0x1000)
		}
		for s := uint16(0); s <= uint16(len(d.Sections))+1; s++ {
			d.RVA(s, 0x10)
		}
	}
	for _, get := range []func() (*TypeTable, error){p.TPI, p.IPI} {
		if tt, err := get(); err == nil {
			exerciseTypes(tt)
		}
	}
}

// Issue 11, finding 4: a stream size above 0xFFFFF000 wrapped the block
// count (size + blockSize - 1) / blockSize in uint32 to 0, and Stream.ReadAt
// indexed an empty block list. Each stream of real PDBs in turn gets the size
// 0xFFFFF001: opening and reading every stream gives an error that names the
// offset, never a panic.
func TestStreamSizeOverflow(t *testing.T) {
	paths := []string{"../../testdata/fixtures/bin/fpoapp.pdb", "../../testdata/fixtures/bin/nsi.pdb"}
	for _, rel := range []string{"lldb/sigsegv.pdb", "llvm-pdb/every-type.pdb", "breakpad/pdb/dump_syms_regtest64.pdb"} {
		if p := realdumps + rel; fileExists(p) {
			paths = append(paths, p)
		}
	}
	for _, path := range paths {
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := NewFile(bytes.NewReader(orig), int64(len(orig)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for k := 0; k < f.NumStreams(); k++ {
			if f.m.sizes[k] == 0xFFFFFFFF {
				continue
			}
			data := append([]byte(nil), orig...)
			at := dirEntryOffset(data, 4+4*k)
			binary.LittleEndian.PutUint32(data[at:], 0xFFFFF001)
			p, err := NewFile(bytes.NewReader(data), int64(len(data)))
			if err == nil {
				if err := exercise(p); err != nil {
					t.Fatalf("%s stream %d of size 0xFFFFF001: %v", path, k, err)
				}
				t.Errorf("%s: stream %d of size 0xFFFFF001 opened", path, k)
				continue
			}
			if !strings.Contains(err.Error(), "offset 0x") || !strings.Contains(err.Error(), fmt.Sprintf("stream %d ", k)) {
				t.Errorf("%s stream %d: error %q does not name the stream and offset", path, k, err)
			}
		}
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// The nil-stream marker 0xFFFFFFFF stays an absent stream.
func TestNilStreamIsAbsent(t *testing.T) {
	orig, err := os.ReadFile("../../testdata/fixtures/bin/fpoapp.pdb")
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFile(bytes.NewReader(orig), int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	// An empty stream listed as nil: stream 0 (the old directory) in the
	// fixture has blocks, so pick the first zero-length stream.
	k := -1
	for i, s := range f.m.sizes {
		if s == 0 && i > 4 {
			k = i
			break
		}
	}
	if k < 0 {
		t.Skip("no empty stream in the fixture")
	}
	data := append([]byte(nil), orig...)
	binary.LittleEndian.PutUint32(data[dirEntryOffset(data, 4+4*k):], 0xFFFFFFFF)
	p, err := NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.m.stream(k); ok {
		t.Errorf("stream %d with the nil size is present", k)
	}
	if err := exercise(p); err != nil {
		t.Fatal(err)
	}
}
