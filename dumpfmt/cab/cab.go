// Package cab extracts files from Microsoft Cabinet archives stored with no
// compression or with MSZIP, as symbol servers serve compressed files
// (`ntdll.pd_`). Every size is checked before it sizes a buffer, and
// extraction streams into a writer: memory is one CFDATA block (32 KiB
// uncompressed, 64 KiB compressed at most) and the history window, whatever
// the size of the file.
package cab

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
)

// Error is a structural problem at a file offset.
type Error struct {
	Offset int64
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("cab: at offset 0x%x: %s", e.Offset, e.Msg) }

func errAt(off int64, format string, a ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, a...)}
}

// File is one extracted file.
type File struct {
	Name string
	Data []byte
}

const maxBlock = 32768

// DefaultLimit bounds the extracted size when a caller passes a limit of 0
// or less; the symbol layer may set it.
var DefaultLimit int64 = 2 << 30

// ExtractFirst returns the first file of a cabinet in memory; limit bounds the
// uncompressed size. For files that may be large, use Extract.
func ExtractFirst(r io.ReaderAt, size int64, limit int64) (*File, error) {
	var b bytes.Buffer
	name, _, err := Extract(&b, r, size, limit)
	if err != nil {
		return nil, err
	}
	return &File{Name: name, Data: b.Bytes()}, nil
}

// readFull reads len(p) bytes at off, accepting short reads that report no
// error (a file still arriving) by reading again, and a full read that
// reports io.EOF.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	done := 0
	for done < len(p) {
		n, err := r.ReadAt(p[done:], off+int64(done))
		done += n
		if done == len(p) {
			return nil
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if n == 0 {
			return io.ErrNoProgress
		}
	}
	return nil
}

// Extract writes the first file of a cabinet to w and returns its name and
// the number of bytes written. The output is capped by the size the file's
// CFFILE record declares, which must not exceed limit (DefaultLimit when
// limit <= 0): a cabinet declaring more is refused before anything is
// inflated, and one whose data runs past its declaration stops at the block
// that crosses it. On error, w holds a prefix of the file.
func Extract(w io.Writer, r io.ReaderAt, size int64, limit int64) (name string, written int64, err error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	read := func(off int64, b []byte) error {
		n := int64(len(b))
		if off < 0 || off > size || n > size-off {
			return errAt(off, "%d bytes needed, archive is %d bytes", n, size)
		}
		if err := readFull(r, b, off); err != nil {
			return errAt(off, "%v", err)
		}
		return nil
	}
	h := make([]byte, 0x24)
	if err := read(0, h); err != nil {
		return "", 0, err
	}
	le := binary.LittleEndian
	if string(h[:4]) != "MSCF" {
		return "", 0, errAt(0, "not a cabinet (no MSCF signature)")
	}
	coffFiles := int64(le.Uint32(h[0x10:]))
	nFolders, nFiles, flags := le.Uint16(h[0x1A:]), le.Uint16(h[0x1C:]), le.Uint16(h[0x1E:])
	if nFolders == 0 || nFiles == 0 {
		return "", 0, errAt(0x1A, "%d folders and %d files", nFolders, nFiles)
	}
	if flags&3 != 0 {
		return "", 0, errAt(0x1E, "multi-cabinet sets are not supported")
	}
	pos := int64(0x24)
	folderReserve, dataReserve := int64(0), int64(0)
	if flags&4 != 0 {
		rs := make([]byte, 4)
		if err := read(pos, rs); err != nil {
			return "", 0, err
		}
		pos += 4 + int64(le.Uint16(rs))
		folderReserve, dataReserve = int64(rs[2]), int64(rs[3])
	}
	folder := make([]byte, 8+folderReserve)
	if err := read(pos, folder); err != nil {
		return "", 0, err
	}
	dataOff := int64(le.Uint32(folder))
	nData := int(le.Uint16(folder[4:]))
	comp := le.Uint16(folder[6:]) & 0xF
	if comp != 0 && comp != 1 {
		return "", 0, errAt(pos+6, "compression type %d is not supported (only none and MSZIP)", comp)
	}
	fh := make([]byte, 0x10)
	if err := read(coffFiles, fh); err != nil {
		return "", 0, err
	}
	fileSize := int64(le.Uint32(fh))
	fileOff := int64(le.Uint32(fh[4:]))
	if le.Uint16(fh[8:]) != 0 {
		return "", 0, errAt(coffFiles+8, "the first file is not in the first folder")
	}
	if fileSize > limit || fileOff != 0 {
		return "", 0, errAt(coffFiles, "file of %d bytes at folder offset %d is over the %d-byte limit", fileSize, fileOff, limit)
	}
	nameBuf := make([]byte, max(0, min(256, size-coffFiles-0x10)))
	if err := read(coffFiles+0x10, nameBuf); err != nil {
		return "", 0, err
	}
	name = string(nameBuf)
	if i := bytes.IndexByte(nameBuf, 0); i >= 0 {
		name = string(nameBuf[:i])
	}

	// hist holds the last 32 KiB of output (the MSZIP window) followed by
	// the block being inflated; payload is one compressed block.
	hist := make([]byte, 0, 2*maxBlock)
	payload := make([]byte, 0xFFFF+2)
	dh := make([]byte, 8+dataReserve)
	var fr io.ReadCloser
	br := bytes.NewReader(nil) // an io.ByteReader, so flate reads no further than the block
	off := dataOff
	i := 0
	for ; i < nData && written < fileSize; i++ {
		if err := read(off, dh); err != nil {
			return name, written, err
		}
		cb, ucb := int64(le.Uint16(dh[4:])), int64(le.Uint16(dh[6:]))
		if ucb > maxBlock {
			return name, written, errAt(off+6, "block %d claims %d uncompressed bytes, more than %d", i, ucb, maxBlock)
		}
		if written+ucb > fileSize && nFiles == 1 {
			return name, written, errAt(off+6, "block %d (%d bytes) runs past the %d bytes the file declares", i, ucb, fileSize)
		}
		p := payload[:cb]
		if err := read(off+8+dataReserve, p); err != nil {
			return name, written, err
		}
		pOff := off + 8 + dataReserve
		off = pOff + cb
		var block []byte
		if comp == 0 {
			if cb != ucb {
				return name, written, errAt(pOff-dataReserve-4, "stored block %d sizes differ (%d, %d)", i, cb, ucb)
			}
			block = p
		} else {
			if len(p) < 2 || p[0] != 'C' || p[1] != 'K' {
				return name, written, errAt(pOff, "MSZIP block %d lacks its CK signature", i)
			}
			// Each block is a deflate stream whose window is the previous 32 KB.
			br.Reset(p[2:])
			if fr == nil {
				fr = flate.NewReaderDict(br, hist)
			} else if err := fr.(flate.Resetter).Reset(br, hist); err != nil {
				return name, written, errAt(pOff, "MSZIP block %d: %v", i, err)
			}
			start := len(hist)
			hist = hist[:start+int(ucb)]
			if _, err := io.ReadFull(fr, hist[start:]); err != nil {
				return name, written, errAt(pOff, "MSZIP block %d: %v", i, err)
			}
			// A stream that goes on past the declared size is a lie too.
			var one [1]byte
			if n, _ := fr.Read(one[:]); n != 0 {
				return name, written, errAt(pOff, "MSZIP block %d inflates to more than the %d bytes it declares", i, ucb)
			}
			block = hist[start:]
		}
		if rest := fileSize - written; int64(len(block)) > rest {
			block = block[:rest] // a later file of the folder begins in this block
		}
		n, err := w.Write(block)
		written += int64(n)
		if err != nil {
			return name, written, err
		}
		if comp != 0 && len(hist) > maxBlock {
			hist = hist[:copy(hist, hist[len(hist)-maxBlock:])]
		}
	}
	if written != fileSize {
		return name, written, errAt(dataOff, "extracted %d of %d bytes", written, fileSize)
	}
	if nFiles == 1 && i < nData {
		// The folder's data must end with its only file: a block left over is
		// data the declared size does not account for.
		return name, written, errAt(off, "block %d of %d follows the end of the %d-byte file", i, nData, fileSize)
	}
	return name, written, nil
}
