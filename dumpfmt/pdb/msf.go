// Package pdb reads Microsoft PDB files (MSF 7.00): the info stream, type
// records (TPI/IPI), the DBI stream, public and global symbols, procedures
// and C13 line tables. Streams are read lazily through an io.ReaderAt, and
// every size read from the file is checked before it sizes anything.
package pdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

var msfMagic = []byte("Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00\x00\x00")

// Error is a structural problem, with the file offset (or stream and offset)
// where it was found.
type Error struct {
	Stream int // -1 for the container itself
	Offset int64
	What   string
	Msg    string
	// Err is ErrNotPDB when the file is not an MSF 7.00 PDB.
	Err error
}

// Unwrap lets errors.Is find ErrNotPDB.
func (e *Error) Unwrap() error { return e.Err }

// ErrNotPDB is wrapped by the error of a file without the MSF 7.00 signature.
var ErrNotPDB = errors.New("not a PDB")

func (e *Error) Error() string {
	if e.Stream < 0 {
		return fmt.Sprintf("pdb: %s at file offset 0x%x: %s", e.What, e.Offset, e.Msg)
	}
	return fmt.Sprintf("pdb: %s at offset 0x%x of stream %d: %s", e.What, e.Offset, e.Stream, e.Msg)
}

func errf(stream int, off int64, what, format string, a ...any) error {
	return &Error{Stream: stream, Offset: off, What: what, Msg: fmt.Sprintf(format, a...)}
}

// msf is the multi-stream container.
type msf struct {
	r         io.ReaderAt
	size      int64
	blockSize uint32
	numBlocks uint32
	sizes     []uint32
	blocks    [][]uint32
}

func openMSF(r io.ReaderAt, size int64) (*msf, error) {
	hdr := make([]byte, 0x38)
	if size < 0x38 {
		return nil, errf(-1, 0, "MSF superblock", "file is %d bytes, too short for a PDB", size)
	}
	got, err := r.ReadAt(hdr, 0)
	if !bytes.Equal(hdr[:32], msfMagic) {
		e := &Error{Stream: -1, What: "MSF superblock", Msg: "not a PDB (no MSF 7.00 signature)", Err: ErrNotPDB}
		if bytes.HasPrefix(hdr, []byte("Microsoft C/C++ program database 2.00")) {
			e.Msg = "PDB 2.00 files are not supported"
		}
		return nil, e
	}
	if got < len(hdr) {
		return nil, errf(-1, int64(got), "MSF superblock", "%v", err)
	}
	m := &msf{r: r, size: size}
	m.blockSize = binary.LittleEndian.Uint32(hdr[0x20:])
	m.numBlocks = binary.LittleEndian.Uint32(hdr[0x28:])
	dirBytes := binary.LittleEndian.Uint32(hdr[0x2C:])
	mapAddr := binary.LittleEndian.Uint32(hdr[0x34:])
	switch m.blockSize {
	case 512, 1024, 2048, 4096, 8192, 16384, 32768:
	default:
		return nil, errf(-1, 0x20, "MSF superblock", "block size %d is not a power of two between 512 and 32768", m.blockSize)
	}
	if uint64(m.numBlocks)*uint64(m.blockSize) > uint64(size)+uint64(m.blockSize) {
		return nil, errf(-1, 0x28, "MSF superblock", "%d blocks of %d bytes do not fit in a %d-byte file", m.numBlocks, m.blockSize, size)
	}
	if int64(dirBytes) > size {
		return nil, errf(-1, 0x2C, "MSF superblock", "stream directory of %d bytes is larger than the file", dirBytes)
	}
	bs := int64(m.blockSize)
	// Block counts are worked out in 64 bits: (size + blockSize - 1) in
	// uint32 wraps to 0 for a size above 0xFFFFF000.
	nDirBlocks := (int64(dirBytes) + bs - 1) / bs
	mapBuf, err := m.readBlocksAt(int64(mapAddr)*bs, nDirBlocks*4, "block map")
	if err != nil {
		return nil, err
	}
	dirBlocks := make([]uint32, nDirBlocks)
	for i := range dirBlocks {
		dirBlocks[i] = binary.LittleEndian.Uint32(mapBuf[4*i:])
		if err := m.checkBlock(dirBlocks[i]); err != nil {
			return nil, errf(-1, int64(mapAddr)*bs+4*int64(i), "block map", "directory block %d: %v", i, err)
		}
	}
	dir, err := m.gather(dirBlocks, dirBytes, -1, "stream directory")
	if err != nil {
		return nil, err
	}
	// at is the file offset of byte pos of the directory, for errors.
	at := func(pos int) int64 {
		if pos < 0 || int64(pos)/bs >= int64(len(dirBlocks)) {
			return int64(mapAddr) * bs
		}
		return int64(dirBlocks[int64(pos)/bs])*bs + int64(pos)%bs
	}
	if len(dir) < 4 {
		return nil, errf(-1, at(0), "stream directory", "empty")
	}
	n := binary.LittleEndian.Uint32(dir)
	if uint64(n)*4+4 > uint64(len(dir)) {
		return nil, errf(-1, at(0), "stream directory", "%d streams do not fit in %d bytes", n, len(dir))
	}
	m.sizes = make([]uint32, n)
	pos := 4 + 4*int(n)
	for i := range m.sizes {
		s := binary.LittleEndian.Uint32(dir[4+4*i:])
		m.sizes[i] = s
	}
	m.blocks = make([][]uint32, n)
	for i, s := range m.sizes {
		if s == 0xFFFFFFFF { // the nil stream: absent
			continue
		}
		nb := (int64(s) + bs - 1) / bs
		if nb*bs > m.size+bs {
			return nil, errf(-1, at(4+4*i), "stream directory", "stream %d of %d bytes is larger than the %d-byte file", i, s, m.size)
		}
		if int64(pos)+4*nb > int64(len(dir)) {
			return nil, errf(-1, at(4+4*i), "stream directory", "stream %d (%d bytes, %d blocks) lists more blocks than the directory holds", i, s, nb)
		}
		bl := make([]uint32, nb)
		for j := range bl {
			b := binary.LittleEndian.Uint32(dir[pos+4*j:])
			if err := m.checkBlock(b); err != nil {
				return nil, errf(-1, at(pos+4*j), "stream directory", "stream %d block %d: %v", i, j, err)
			}
			bl[j] = b
		}
		m.blocks[i] = bl
		pos += 4 * int(nb)
	}
	return m, nil
}

// checkBlock checks that block b starts inside the file and within the
// superblock's block count.
func (m *msf) checkBlock(b uint32) error {
	if b >= m.numBlocks || int64(b)*int64(m.blockSize) >= m.size {
		return fmt.Errorf("block %d is outside the file (%d blocks of %d bytes, %d bytes)", b, m.numBlocks, m.blockSize, m.size)
	}
	return nil
}

func (m *msf) readBlocksAt(off, n int64, what string) ([]byte, error) {
	if off < 0 || n < 0 || off+n > m.size {
		return nil, errf(-1, off, what, "%d bytes needed, file is %d bytes", n, m.size)
	}
	b := make([]byte, n)
	if _, err := m.r.ReadAt(b, off); err != nil {
		return nil, errf(-1, off, what, "%v", err)
	}
	return b, nil
}

func (m *msf) gather(blocks []uint32, size uint32, stream int, what string) ([]byte, error) {
	out := make([]byte, 0, size)
	for _, b := range blocks {
		n := int64(m.blockSize)
		if rem := int64(size) - int64(len(out)); rem < n {
			n = rem
		}
		if n <= 0 {
			break
		}
		chunk, err := m.readBlocksAt(int64(b)*int64(m.blockSize), n, what)
		if err != nil {
			return nil, err
		}
		out = append(out, chunk...)
	}
	return out, nil
}

// Stream is one MSF stream, readable at any offset.
type Stream struct {
	m     *msf
	index int
	size  uint32
}

// stream opens stream i; ok is false for absent streams.
func (m *msf) stream(i int) (*Stream, bool) {
	if i < 0 || i >= len(m.sizes) || m.sizes[i] == 0xFFFFFFFF {
		return nil, false
	}
	return &Stream{m: m, index: i, size: m.sizes[i]}, true
}

// Size is the stream's length in bytes.
func (s *Stream) Size() int64 { return int64(s.size) }

// ReadAt reads stream bytes, crossing block boundaries.
func (s *Stream) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(s.size) {
		return 0, io.EOF
	}
	bs := int64(s.m.blockSize)
	done := 0
	for done < len(p) && off+int64(done) < int64(s.size) {
		pos := off + int64(done)
		bl := s.m.blocks[s.index]
		if pos/bs >= int64(len(bl)) { // openMSF checks this; never index past the list
			return done, errf(s.index, pos, "stream", "offset is past the stream's %d blocks", len(bl))
		}
		blk := bl[pos/bs]
		within := pos % bs
		n := bs - within
		if rem := int64(s.size) - pos; rem < n {
			n = rem
		}
		if rem := int64(len(p) - done); rem < n {
			n = rem
		}
		if _, err := s.m.r.ReadAt(p[done:done+int(n)], int64(blk)*bs+within); err != nil {
			return done, err
		}
		done += int(n)
	}
	if done < len(p) {
		return done, io.EOF
	}
	return done, nil
}

// bytes reads n bytes at off, with a bounds check that names the stream.
func (s *Stream) bytes(off, n int64, what string) ([]byte, error) {
	if off < 0 || n < 0 || off+n > int64(s.size) {
		return nil, errf(s.index, off, what, "%d bytes needed, stream is %d bytes", n, s.size)
	}
	b := make([]byte, n)
	if n == 0 {
		return b, nil
	}
	if _, err := s.ReadAt(b, off); err != nil {
		return nil, errf(s.index, off, what, "%v", err)
	}
	return b, nil
}

// all reads the whole stream (only for streams known to be small or needed whole).
func (s *Stream) all(what string) ([]byte, error) { return s.bytes(0, int64(s.size), what) }
