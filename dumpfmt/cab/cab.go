// Package cab extracts files from Microsoft Cabinet archives stored with no
// compression or with MSZIP, as symbol servers serve compressed files
// (`ntdll.pd_`). Every size is checked before it sizes a buffer.
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

// ExtractFirst returns the first file of a cabinet; limit bounds the
// uncompressed size.
func ExtractFirst(r io.ReaderAt, size int64, limit int64) (*File, error) {
	read := func(off, n int64) ([]byte, error) {
		if off < 0 || n < 0 || off+n > size {
			return nil, errAt(off, "%d bytes needed, archive is %d bytes", n, size)
		}
		b := make([]byte, n)
		if _, err := r.ReadAt(b, off); err != nil {
			return nil, errAt(off, "%v", err)
		}
		return b, nil
	}
	h, err := read(0, 0x24)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if string(h[:4]) != "MSCF" {
		return nil, errAt(0, "not a cabinet (no MSCF signature)")
	}
	coffFiles := int64(le.Uint32(h[0x10:]))
	nFolders, nFiles, flags := le.Uint16(h[0x1A:]), le.Uint16(h[0x1C:]), le.Uint16(h[0x1E:])
	if nFolders == 0 || nFiles == 0 {
		return nil, errAt(0x1A, "%d folders and %d files", nFolders, nFiles)
	}
	pos := int64(0x24)
	folderReserve, dataReserve := int64(0), int64(0)
	if flags&4 != 0 {
		rs, err := read(pos, 4)
		if err != nil {
			return nil, err
		}
		pos += 4 + int64(le.Uint16(rs))
		folderReserve, dataReserve = int64(rs[2]), int64(rs[3])
	}
	if flags&3 != 0 {
		return nil, errAt(0x1E, "multi-cabinet sets are not supported")
	}
	folder, err := read(pos, 8+folderReserve)
	if err != nil {
		return nil, err
	}
	dataOff := int64(le.Uint32(folder))
	nData := int(le.Uint16(folder[4:]))
	comp := le.Uint16(folder[6:]) & 0xF
	if comp != 0 && comp != 1 {
		return nil, errAt(pos+6, "compression type %d is not supported (only none and MSZIP)", comp)
	}
	fh, err := read(coffFiles, 0x10)
	if err != nil {
		return nil, err
	}
	fileSize := int64(le.Uint32(fh))
	fileOff := int64(le.Uint32(fh[4:]))
	if le.Uint16(fh[8:]) != 0 {
		return nil, errAt(coffFiles+8, "the first file is not in the first folder")
	}
	if fileSize > limit || fileOff != 0 {
		return nil, errAt(coffFiles, "file of %d bytes at folder offset %d is over the %d-byte limit", fileSize, fileOff, limit)
	}
	nameBuf, err := read(coffFiles+0x10, min(256, size-coffFiles-0x10))
	if err != nil {
		return nil, err
	}
	name := string(nameBuf)
	if i := bytes.IndexByte(nameBuf, 0); i >= 0 {
		name = string(nameBuf[:i])
	}
	out := make([]byte, 0, min(fileSize, 64<<20))
	off := dataOff
	for i := 0; i < nData && int64(len(out)) < fileSize; i++ {
		dh, err := read(off, 8+dataReserve)
		if err != nil {
			return nil, err
		}
		cb, ucb := int64(le.Uint16(dh[4:])), int64(le.Uint16(dh[6:]))
		if ucb > maxBlock || int64(len(out))+ucb > fileSize {
			return nil, errAt(off+6, "block %d claims %d uncompressed bytes", i, ucb)
		}
		payload, err := read(off+8+dataReserve, cb)
		if err != nil {
			return nil, err
		}
		off += 8 + dataReserve + cb
		if comp == 0 {
			if cb != ucb {
				return nil, errAt(off, "stored block sizes differ (%d, %d)", cb, ucb)
			}
			out = append(out, payload...)
			continue
		}
		if len(payload) < 2 || payload[0] != 'C' || payload[1] != 'K' {
			return nil, errAt(off-cb, "MSZIP block %d lacks its CK signature", i)
		}
		// Each block is a deflate stream whose window is the previous 32 KB.
		dict := out
		if len(dict) > maxBlock {
			dict = dict[len(dict)-maxBlock:]
		}
		fr := flate.NewReaderDict(bytes.NewReader(payload[2:]), dict)
		block := make([]byte, ucb)
		if _, err := io.ReadFull(fr, block); err != nil {
			return nil, errAt(off-cb, "MSZIP block %d: %v", i, err)
		}
		out = append(out, block...)
	}
	if int64(len(out)) != fileSize {
		return nil, errAt(dataOff, "extracted %d of %d bytes", len(out), fileSize)
	}
	return &File{Name: name, Data: out}, nil
}
