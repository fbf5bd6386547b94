// Package decode is the little-endian field reader the dumpfmt readers share.
// A Decoder is sticky: the first read past the end of its buffer records an
// error that names the structure being decoded and the file offset where
// decoding stopped, and every later read returns zero. A reader decodes a
// whole structure and checks Err once, as debug/dwarf's buf does.
package decode

import (
	"encoding/binary"
	"fmt"
)

// Error is a structure that could not be decoded: Format is the reader
// ("minidump", "CONTEXT"), What the structure, Offset the file offset where
// decoding stopped.
type Error struct {
	Format string
	What   string
	Offset int64
	Msg    string
	// Err, when set, is a sentinel the error wraps (minidump.ErrNotMinidump).
	Err error
}

// Unwrap returns the wrapped sentinel, for errors.Is.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s at offset 0x%x: %s", e.Format, e.What, e.Offset, e.Msg)
}

// Decoder reads fields from b, which was read from file offset Base.
type Decoder struct {
	format, what string
	b            []byte
	base         int64
	off          int
	err          *Error
}

// New starts decoding the structure what of format from b (file offset base).
func New(format, what string, b []byte, base int64) *Decoder {
	return &Decoder{format: format, what: what, b: b, base: base}
}

// Err is the first error, or nil. Its type is *Error.
func (d *Decoder) Err() error {
	if d.err == nil {
		return nil
	}
	return d.err
}

// Failf records an error at the current position (a value that decoded but
// makes no sense) unless one is recorded already.
func (d *Decoder) Failf(format string, a ...any) {
	if d.err == nil {
		d.err = &Error{Format: d.format, What: d.what, Offset: d.base + int64(d.off), Msg: fmt.Sprintf(format, a...)}
	}
}

// Offset is the current position in b.
func (d *Decoder) Offset() int { return d.off }

// Seek moves to position off in b.
func (d *Decoder) Seek(off int) { d.off = off }

// Len is the number of bytes left after the current position.
func (d *Decoder) Len() int {
	if d.off > len(d.b) {
		return 0
	}
	return len(d.b) - d.off
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || d.off < 0 || d.off+n > len(d.b) {
		d.err = &Error{Format: d.format, What: d.what, Offset: d.base + int64(d.off),
			Msg: fmt.Sprintf("%d bytes needed, %d left", n, d.Len())}
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

// Bytes returns the next n bytes (nil after an error).
func (d *Decoder) Bytes(n int) []byte { return d.take(n) }

// Skip steps over n bytes.
func (d *Decoder) Skip(n int) { d.take(n) }

// U8 reads a byte.
func (d *Decoder) U8() uint8 {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

// U16 reads a little-endian 16-bit value.
func (d *Decoder) U16() uint16 {
	if p := d.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

// U32 reads a little-endian 32-bit value.
func (d *Decoder) U32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

// U64 reads a little-endian 64-bit value.
func (d *Decoder) U64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}
