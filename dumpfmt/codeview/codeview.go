// Package codeview decodes the CodeView debug record (RSDS or NB10) that
// names an image's PDB. PE images hold it in their debug directory and
// minidumps copy it into each module entry.
package codeview

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/ntdbg/ntdbg/dumpfmt/internal/decode"
)

// Record is a decoded CodeView record.
type Record struct {
	Signature uint32 // 'RSDS' or 'NB10' as a little-endian uint32
	GUID      [16]byte
	Age       uint32
	TimeStamp uint32 // NB10 only
	PdbName   string
}

// Signatures.
const (
	RSDS = 0x53445352
	NB10 = 0x3031424E
)

// GUIDString formats the GUID as the symbol store index uses it (32 upper-case
// hex digits, Data1..Data3 in their integer order).
func (c *Record) GUIDString() string {
	g := c.GUID
	return fmt.Sprintf("%08X%04X%04X%X", binary.LittleEndian.Uint32(g[0:]), binary.LittleEndian.Uint16(g[4:]),
		binary.LittleEndian.Uint16(g[6:]), g[8:16])
}

// Parse decodes a record read from file offset base.
func Parse(b []byte, base int64) (*Record, error) {
	d := decode.New("CodeView", "CodeView record", b, base)
	c := &Record{Signature: d.U32()}
	switch c.Signature {
	case RSDS:
		copy(c.GUID[:], d.Bytes(16))
		c.Age = d.U32()
		c.PdbName = cstring(b[min(len(b), 0x18):])
	case NB10:
		d.Skip(4)
		c.TimeStamp, c.Age = d.U32(), d.U32()
		c.PdbName = cstring(b[min(len(b), 0x10):])
	default:
		if d.Err() == nil {
			d.Seek(0)
			d.Failf("unknown signature 0x%08x", c.Signature)
		}
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
