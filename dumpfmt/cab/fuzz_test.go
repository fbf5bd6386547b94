package cab

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"os"
	"testing"
)

// arriving is a cabinet as it arrives from a server: only the first bytes
// are there yet, and each read returns at most chunk bytes, reporting no
// error for a short read while more is there (as a file still being
// written does), io.EOF at the end of what has arrived.
type arriving struct {
	data  []byte
	chunk int
}

func (a *arriving) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(a.data)) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), a.chunk)], a.data[off:])
	if n < len(p) && off+int64(n) == int64(len(a.data)) {
		return n, io.EOF
	}
	return n, nil
}

// realCab is the fixture fpoapp.pdb in a cabinet from our writer, in MSZIP
// blocks that refer back into the previous block (the 32 KiB window).
func realCab(tb testing.TB) []byte {
	src, err := os.ReadFile("../../testdata/fixtures/bin/fpoapp.pdb")
	if err != nil {
		tb.Fatal(err)
	}
	var blocks []cabBlock
	for off := 0; off < len(src); off += maxBlock {
		end := min(off+maxBlock, len(src))
		var b bytes.Buffer
		b.WriteString("CK")
		w, _ := flate.NewWriterDict(&b, flate.BestCompression, src[max(0, off-maxBlock):off])
		w.Write(src[off:end])
		w.Close()
		blocks = append(blocks, cabBlock{data: b.Bytes(), ucb: uint16(end - off)})
	}
	return writeCab("fpoapp.pdb", uint32(len(src)), 1, blocks)
}

func TestArrivingInChunks(t *testing.T) {
	data := realCab(t)
	want, _ := os.ReadFile("../../testdata/fixtures/bin/fpoapp.pdb")
	for _, chunk := range []int{1, 7, 4096, 1 << 20} {
		var out bytes.Buffer
		name, n, err := Extract(&out, &arriving{data: data, chunk: chunk}, int64(len(data)), 0)
		if err != nil || name != "fpoapp.pdb" || n != int64(len(want)) || !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("chunk %d: %q, %d bytes, %v", chunk, name, n, err)
		}
	}
	for cut := 0; cut < len(data); cut += 101 {
		var out bytes.Buffer
		_, _, err := Extract(&out, &arriving{data: data[:cut], chunk: 512}, int64(cut), 0)
		if err == nil || !bytes.HasPrefix(want, out.Bytes()) {
			t.Fatalf("cut at %d: err %v, %d bytes out, prefix %v", cut, err, out.Len(), bytes.HasPrefix(want, out.Bytes()))
		}
	}
}

// FuzzExtractArriving feeds the decoder a cabinet as it arrives from a
// server: cut short and delivered in chunks. Whatever the bytes, the output
// never passes the limit or the declared size, a success writes exactly the
// declared size, and what a cut-short cabinet writes is a prefix of what the
// whole one writes.
func FuzzExtractArriving(f *testing.F) {
	if data, err := os.ReadFile("testdata/nsi.pd_"); err == nil {
		f.Add(data, uint32(len(data)), uint16(4096))
		f.Add(data, uint32(len(data)/2), uint16(3))
	}
	rc := realCab(f)
	f.Add(rc, uint32(len(rc)), uint16(100))
	f.Add(bomb(3, 3*maxBlock), uint32(1<<31), uint16(1))
	f.Add(writeCab("s.pdb", 5, 0, []cabBlock{{data: []byte("hello"), ucb: 5}}), uint32(99), uint16(2))
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte, cut uint32, chunk uint16) {
		var whole bytes.Buffer
		_, n, err := Extract(&whole, bytes.NewReader(data), int64(len(data)), limit)
		if n != int64(whole.Len()) || n > limit {
			t.Fatalf("returned %d, wrote %d (limit %d)", n, whole.Len(), limit)
		}
		if err == nil {
			coff := binary.LittleEndian.Uint32(data[0x10:])
			if declared := int64(binary.LittleEndian.Uint32(data[coff:])); n != declared {
				t.Fatalf("success with %d bytes, %d declared", n, declared)
			}
		}
		c := int(uint64(cut) % uint64(len(data)+1))
		var part bytes.Buffer
		_, pn, perr := Extract(&part, &arriving{data: data[:c], chunk: 1 + int(chunk)%8192}, int64(c), limit)
		if pn != int64(part.Len()) || !bytes.HasPrefix(whole.Bytes(), part.Bytes()) {
			t.Fatalf("cut at %d of %d: %d bytes not a prefix of the whole %d", c, len(data), part.Len(), whole.Len())
		}
		if perr == nil && (err != nil || pn != n) {
			t.Fatalf("cut at %d succeeded with %d bytes, whole: %d, %v", c, pn, n, err)
		}
	})
}
