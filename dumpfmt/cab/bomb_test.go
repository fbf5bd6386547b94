package cab

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// cabBlock is one CFDATA payload and the uncompressed size it declares.
type cabBlock struct {
	data []byte
	ucb  uint16
}

// writeCab builds a one-folder, one-file cabinet: our own small writer, so the
// tests can make cabinets no server would serve (gcab refuses lies).
func writeCab(name string, declared uint32, comp uint16, blocks []cabBlock) []byte {
	le := binary.LittleEndian
	const hdr, folder = 0x24, 8
	coffFiles := hdr + folder
	fileRec := 16 + len(name) + 1
	dataOff := coffFiles + fileRec
	var b bytes.Buffer
	h := make([]byte, hdr)
	copy(h, "MSCF")
	le.PutUint32(h[0x10:], uint32(coffFiles))
	h[0x18], h[0x19] = 3, 1
	le.PutUint16(h[0x1A:], 1)
	le.PutUint16(h[0x1C:], 1)
	b.Write(h)
	f := make([]byte, folder)
	le.PutUint32(f, uint32(dataOff))
	le.PutUint16(f[4:], uint16(len(blocks)))
	le.PutUint16(f[6:], comp)
	b.Write(f)
	fr := make([]byte, 16)
	le.PutUint32(fr, declared)
	b.Write(fr)
	b.WriteString(name)
	b.WriteByte(0)
	for _, blk := range blocks {
		d := make([]byte, 8)
		le.PutUint16(d[4:], uint16(len(blk.data)))
		le.PutUint16(d[6:], blk.ucb)
		b.Write(d)
		b.Write(blk.data)
	}
	out := b.Bytes()
	le.PutUint32(out[8:], uint32(len(out)))
	return out
}

// mszipBlock is 'CK' and a deflate stream of p.
func mszipBlock(p []byte) cabBlock {
	var b bytes.Buffer
	b.WriteString("CK")
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(p)
	w.Close()
	return cabBlock{data: b.Bytes(), ucb: uint16(len(p))}
}

// bomb is a cabinet of n MSZIP blocks, each 32 KiB of zeros (about 40 bytes
// compressed): n = 65535 inflates to 2 GiB - 32 KiB from about 3 MB.
func bomb(n int, declared uint32) []byte {
	blk := mszipBlock(make([]byte, maxBlock))
	blocks := make([]cabBlock, n)
	for i := range blocks {
		blocks[i] = blk
	}
	return writeCab("crash.pdb", declared, 1, blocks)
}

// countWriter counts bytes and drops them.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// extractBomb extracts a bomb of n blocks into a counting writer and
// returns the peak growth of HeapSys (sampled every 5 ms, and at the end)
// and the growth of TotalAlloc over the extraction.
func extractBomb(t *testing.T, n int) (heapSys, totalAlloc uint64, out int64) {
	t.Helper()
	data := bomb(n, uint32(n*maxBlock))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := before.HeapSys
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapSys)
			}
		}
	}()
	w := &countWriter{}
	name, got, err := Extract(w, bytes.NewReader(data), int64(len(data)), 4<<30)
	close(stop)
	<-done
	runtime.ReadMemStats(&after)
	peak = max(peak, after.HeapSys)
	if err != nil {
		t.Fatalf("%d blocks: %v", n, err)
	}
	if name != "crash.pdb" || got != int64(n*maxBlock) || w.n != got {
		t.Fatalf("%d blocks: extracted %q, %d bytes (writer saw %d), want %d", n, name, got, w.n, n*maxBlock)
	}
	return peak - before.HeapSys, after.TotalAlloc - before.TotalAlloc, got
}

// Issue 11, finding 3: a 3 MB cabinet that inflates to 2 GiB of zeros drove
// memory to 8.4 GB, because the file was inflated into one growing []byte.
// Extraction streams into a writer, so memory is one block whatever the
// output size: under 100 MB for the whole 2 GiB bomb, and the allocations of
// a 1 GiB bomb no larger than those of a 32 MiB one.
func TestBombStreams(t *testing.T) {
	n := 65535
	if testing.Short() {
		n = 8192
	}
	hs, ta, out := extractBomb(t, n)
	t.Logf("%d-byte output from %d blocks: HeapSys +%d, TotalAlloc +%d", out, n, hs, ta)
	if hs > 100<<20 || ta > 100<<20 {
		t.Errorf("extracting %d bytes grew HeapSys by %d and allocated %d bytes; want under 100 MB", out, hs, ta)
	}
	_, small, _ := extractBomb(t, 1024)
	if ta > small+1<<20 {
		t.Errorf("allocations grow with the output: %d bytes for %d blocks, %d for 1024", ta, n, small)
	}
}

// The declared size caps the output: a cabinet whose data runs past the size
// its CFFILE header declares stops at the block that crosses it, naming the
// offset, and never writes past the declared size.
func TestDeclaredSizeSmallerThanData(t *testing.T) {
	data := bomb(64, 10*maxBlock+100)
	w := &countWriter{}
	_, n, err := Extract(w, bytes.NewReader(data), int64(len(data)), 1<<30)
	var ce *Error
	if err == nil || !errors.As(err, &ce) || !strings.Contains(err.Error(), "at offset 0x") {
		t.Fatalf("err = %v, want a *cab.Error naming the offset", err)
	}
	if w.n > 10*maxBlock+100 || n != w.n {
		t.Errorf("wrote %d bytes (returned %d) past a declared %d", w.n, n, 10*maxBlock+100)
	}
	// Exactly the declared size with a block left over is also a lie.
	data = bomb(11, 10*maxBlock)
	if _, _, err := Extract(io.Discard, bytes.NewReader(data), int64(len(data)), 1<<30); err == nil || !strings.Contains(err.Error(), "offset 0x") {
		t.Errorf("extra block after the declared size: err = %v", err)
	}
	// The limit is checked against the declared size before anything is inflated.
	data = bomb(64, 64*maxBlock)
	w = &countWriter{}
	if _, _, err := Extract(w, bytes.NewReader(data), int64(len(data)), 1<<20); err == nil || w.n != 0 {
		t.Errorf("limit 1 MiB over a 2 MiB file: err = %v, wrote %d", err, w.n)
	}
}

// A block whose deflate stream inflates to more than its CFDATA declares is
// cut at the declared size and reported.
func TestBlockInflatesPastItsSize(t *testing.T) {
	blk := mszipBlock(make([]byte, maxBlock))
	blk.ucb = 1000
	data := writeCab("x.pdb", 1000, 1, []cabBlock{blk})
	w := &countWriter{}
	if _, _, err := Extract(w, bytes.NewReader(data), int64(len(data)), 1<<30); err == nil || w.n > 1000 {
		t.Errorf("err = %v, wrote %d", err, w.n)
	}
}
