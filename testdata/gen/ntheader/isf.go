package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ulikunitz/xz"
)

// The Volatility 3 ISF ("intermediate symbol format") file of one
// ntkrnlmp.pdb: user types with their fields, base types, enums, symbols.
// Volatility's pdbconv writes each struct's fields flat (members of
// anonymous unions and structs appear as fields of the parent, at their
// offsets) and names nested unnamed types __unnamed_<type index>.
type isfFile struct {
	BaseTypes map[string]isfBase     `json:"base_types"`
	UserTypes map[string]*isfUDT     `json:"user_types"`
	Enums     map[string]*isfEnum    `json:"enums"`
	Symbols   map[string]isfSymbol   `json:"symbols"`
	Metadata  map[string]interface{} `json:"metadata"`
}

type isfBase struct {
	Kind   string `json:"kind"`
	Size   int64  `json:"size"`
	Signed bool   `json:"signed"`
}

type isfUDT struct {
	Kind   string               `json:"kind"` // struct or union
	Size   int64                `json:"size"`
	Fields map[string]*isfField `json:"fields"`
}

type isfField struct {
	Offset int64    `json:"offset"`
	Type   *isfType `json:"type"`
}

type isfType struct {
	Kind        string   `json:"kind"` // base, pointer, array, struct, union, enum, bitfield, function
	Name        string   `json:"name"`
	Subtype     *isfType `json:"subtype"` // pointer, array
	Count       int64    `json:"count"`   // array
	Type        *isfType `json:"type"`    // bitfield
	BitPosition int64    `json:"bit_position"`
	BitLength   int64    `json:"bit_length"`
}

type isfEnum struct {
	Base      string           `json:"base"`
	Size      int64            `json:"size"`
	Constants map[string]int64 `json:"constants"`
}

type isfSymbol struct {
	Address uint64 `json:"address"`
}

// readISF reads a .json or .json.xz ISF file.
func readISF(path string) (*isfFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var r io.Reader = fh
	if strings.HasSuffix(path, ".xz") {
		xr, err := xz.NewReader(fh)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		r = xr
	}
	var f isfFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(f.UserTypes) == 0 {
		return nil, fmt.Errorf("%s: no user_types", path)
	}
	return &f, nil
}

// sizeOf is the size in bytes of an ISF type.
func (f *isfFile) sizeOf(t *isfType) int64 {
	switch t.Kind {
	case "base":
		if t.Name == "void" {
			return 0
		}
		return f.BaseTypes[t.Name].Size
	case "pointer":
		return 8
	case "array":
		return t.Count * f.sizeOf(t.Subtype)
	case "struct", "union":
		if u := f.UserTypes[t.Name]; u != nil {
			return u.Size
		}
	case "enum":
		if e := f.Enums[t.Name]; e != nil {
			return e.Size
		}
	case "bitfield":
		return f.sizeOf(t.Type)
	}
	return 0
}
