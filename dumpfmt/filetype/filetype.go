// Package filetype names a file from its first bytes, so that a file that
// opens as no dump can be told apart (a kernel dump, a PE image, a PDB, a
// cabinet) in the one-line error the user gets.
package filetype

import (
	"bytes"
	"fmt"
	"io"
)

// Kind is what a file looks like.
type Kind int

const (
	Unknown Kind = iota
	Empty
	Minidump
	KernelDump64
	KernelDump32
	PEImage
	PDB
	Cabinet
)

// IsKernelDump reports a kernel dump of either width.
func (k Kind) IsKernelDump() bool { return k == KernelDump64 || k == KernelDump32 }

var signatures = []struct {
	magic string
	kind  Kind
	desc  string
}{
	{"MDMP", Minidump, "a minidump (MDMP)"},
	{"PAGEDU64", KernelDump64, "a 64-bit kernel dump (PAGEDU64)"},
	{"PAGEDUMP", KernelDump32, "a 32-bit kernel dump (PAGEDUMP)"},
	{"MZ", PEImage, "a PE image (MZ)"},
	{"Microsoft C/C++", PDB, "a PDB (Microsoft C/C++ MSF)"},
	{"MSCF", Cabinet, "a cabinet (MSCF)"},
}

// Identify reads the first bytes of r (size bytes long) and says what the
// file is, with a short description for messages.
func Identify(r io.ReaderAt, size int64) (Kind, string) {
	if size == 0 {
		return Empty, "the file is empty"
	}
	var head [32]byte
	n, _ := r.ReadAt(head[:], 0)
	b := head[:n]
	for _, s := range signatures {
		if bytes.HasPrefix(b, []byte(s.magic)) {
			return s.kind, s.desc
		}
	}
	if len(b) < 4 {
		return Unknown, fmt.Sprintf("a %d-byte file", size)
	}
	return Unknown, fmt.Sprintf("unknown signature %q", printable(b[:4]))
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}
