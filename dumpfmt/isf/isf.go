// Package isf reads Volatility 3 Intermediate Symbol Format files: JSON
// tables of the types, enumerations and symbol addresses of one PDB (for
// Windows, generated from ntkrnlmp.pdb), as forensic teams keep them offline
// in `symbols/windows/<pdb>/<GUID>-<age>.json(.xz)`. The reader takes the
// decompressed JSON; callers decompress `.xz`.
package isf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNotISF is wrapped by the error of input that is not an ISF file.
var ErrNotISF = errors.New("not a Volatility ISF file")

// MaxSize bounds the JSON read: a whole ntkrnlmp ISF is about 10 MB.
const MaxSize = 256 << 20

// maxDepth bounds the nesting of a type description (pointer to array of
// pointers ...).
const maxDepth = 32

// File is one ISF file.
type File struct {
	Format string
	// PDB identifies the PDB the file was made from (metadata.windows.pdb).
	PDB       PDBInfo
	BaseTypes map[string]BaseType
	UserTypes map[string]UserType
	Enums     map[string]Enum
	Symbols   map[string]Symbol
}

// PDBInfo is the PDB's identity: what a debug directory names.
type PDBInfo struct {
	GUID     string // 32 hex digits, upper case
	Age      uint32
	Database string // "ntkrnlmp.pdb"
	Machine  uint32 // 0x8664, 0xAA64
}

// BaseType is a scalar type.
type BaseType struct {
	Kind   string // int, char, float, void, bool
	Size   uint64
	Signed bool
}

// UserType is a structure or union.
type UserType struct {
	Kind   string // struct, union, class
	Size   uint64
	Fields map[string]Field
}

// Field is a member at a byte offset.
type Field struct {
	Offset uint64
	Type   *Type
}

// Type describes a member's type: Kind is base, pointer, array, struct,
// union, enum, bitfield, function or class; Name names base, user and enum
// types; Subtype is a pointer's or array's element, Count an array's length;
// a bitfield has BitPos and BitLen over its underlying Subtype.
type Type struct {
	Kind    string
	Name    string
	Subtype *Type
	Count   uint64
	BitPos  uint8
	BitLen  uint8
}

// Enum is an enumeration over a base type.
type Enum struct {
	Base      string
	Size      uint64
	Constants map[string]int64
}

// Symbol is an address relative to the image base.
type Symbol struct {
	Address uint64
}

type rawType struct {
	Kind        string   `json:"kind"`
	Name        string   `json:"name"`
	Subtype     *rawType `json:"subtype"`
	Type        *rawType `json:"type"`
	Count       uint64   `json:"count"`
	BitPosition uint8    `json:"bit_position"`
	BitLength   uint8    `json:"bit_length"`
}

type rawFile struct {
	Metadata struct {
		Format  string `json:"format"`
		Windows *struct {
			PDB struct {
				GUID     string `json:"GUID"`
				Age      uint32 `json:"age"`
				Database string `json:"database"`
				Machine  uint32 `json:"machine_type"`
			} `json:"pdb"`
		} `json:"windows"`
	} `json:"metadata"`
	BaseTypes map[string]struct {
		Kind   string `json:"kind"`
		Size   uint64 `json:"size"`
		Signed bool   `json:"signed"`
	} `json:"base_types"`
	UserTypes map[string]struct {
		Kind   string `json:"kind"`
		Size   uint64 `json:"size"`
		Fields map[string]struct {
			Offset uint64   `json:"offset"`
			Type   *rawType `json:"type"`
		} `json:"fields"`
	} `json:"user_types"`
	Enums map[string]struct {
		Base      string           `json:"base"`
		Size      uint64           `json:"size"`
		Constants map[string]int64 `json:"constants"`
	} `json:"enums"`
	Symbols map[string]struct {
		Address uint64 `json:"address"`
	} `json:"symbols"`
}

// Parse reads an ISF file's JSON (at most MaxSize bytes).
func Parse(r io.Reader) (*File, error) {
	var raw rawFile
	dec := json.NewDecoder(io.LimitReader(r, MaxSize))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("isf: %w: %v", ErrNotISF, err)
	}
	if raw.Metadata.Format == "" || raw.UserTypes == nil {
		return nil, fmt.Errorf("isf: %w: no metadata.format or user_types", ErrNotISF)
	}
	f := &File{Format: raw.Metadata.Format, BaseTypes: map[string]BaseType{}, UserTypes: map[string]UserType{},
		Enums: map[string]Enum{}, Symbols: map[string]Symbol{}}
	if w := raw.Metadata.Windows; w != nil {
		f.PDB = PDBInfo{GUID: strings.ToUpper(w.PDB.GUID), Age: w.PDB.Age, Database: w.PDB.Database, Machine: w.PDB.Machine}
	}
	for n, b := range raw.BaseTypes {
		f.BaseTypes[n] = BaseType{Kind: b.Kind, Size: b.Size, Signed: b.Signed}
	}
	for n, u := range raw.UserTypes {
		ut := UserType{Kind: u.Kind, Size: u.Size, Fields: map[string]Field{}}
		for fn, fd := range u.Fields {
			t, err := convert(fd.Type, 0)
			if err != nil {
				return nil, fmt.Errorf("isf: %s.%s: %w", n, fn, err)
			}
			ut.Fields[fn] = Field{Offset: fd.Offset, Type: t}
		}
		f.UserTypes[n] = ut
	}
	for n, e := range raw.Enums {
		f.Enums[n] = Enum{Base: e.Base, Size: e.Size, Constants: e.Constants}
	}
	for n, s := range raw.Symbols {
		f.Symbols[n] = Symbol{Address: s.Address}
	}
	return f, nil
}

func convert(r *rawType, depth int) (*Type, error) {
	if r == nil {
		return nil, errors.New("a field without a type")
	}
	if depth > maxDepth {
		return nil, errors.New("type nesting too deep")
	}
	t := &Type{Kind: r.Kind, Name: r.Name, Count: r.Count, BitPos: r.BitPosition, BitLen: r.BitLength}
	sub := r.Subtype
	if r.Kind == "bitfield" {
		sub = r.Type
	}
	if sub != nil {
		s, err := convert(sub, depth+1)
		if err != nil {
			return nil, err
		}
		t.Subtype = s
	}
	switch t.Kind {
	case "pointer", "array", "bitfield":
		if t.Subtype == nil {
			return nil, fmt.Errorf("a %s without its element type", t.Kind)
		}
	}
	return t, nil
}
