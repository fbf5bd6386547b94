package types

import "fmt"

// The one table of CodeView basic types (type indexes below 0x1000): the
// low byte is the kind, bits 8-10 the pointer mode. Sizes, dt's names
// ("Uint4B"), C names (for x and kp) and the value class all come from here.
type basic struct {
	size   uint64
	dt     string // dt's spelling
	c      string // C spelling
	signed bool
	char   bool
	float  bool
	bool   bool
}

var basics = map[uint32]basic{
	0x03: {0, "Void", "void", false, false, false, false},
	0x08: {4, "Int4B", "HRESULT", true, false, false, false},
	0x10: {1, "Char", "signed char", true, true, false, false},
	0x20: {1, "UChar", "unsigned char", false, true, false, false},
	0x68: {1, "Char", "char", true, true, false, false},
	0x69: {1, "UChar", "unsigned char", false, true, false, false},
	0x70: {1, "Char", "char", true, true, false, false},
	0x7C: {1, "UChar", "char8_t", false, true, false, false},
	0x11: {2, "Int2B", "short", true, false, false, false},
	0x21: {2, "Uint2B", "unsigned short", false, false, false, false},
	0x72: {2, "Int2B", "short", true, false, false, false},
	0x73: {2, "Uint2B", "unsigned short", false, false, false, false},
	0x71: {2, "Wchar", "wchar_t", false, false, false, false},
	0x7A: {2, "Wchar", "char16_t", false, false, false, false},
	0x12: {4, "Int4B", "long", true, false, false, false},
	0x22: {4, "Uint4B", "unsigned long", false, false, false, false},
	0x74: {4, "Int4B", "int", true, false, false, false},
	0x75: {4, "Uint4B", "unsigned int", false, false, false, false},
	0x7B: {4, "Uint4B", "char32_t", false, false, false, false},
	0x13: {8, "Int8B", "int64", true, false, false, false},
	0x23: {8, "Uint8B", "unsigned int64", false, false, false, false},
	0x76: {8, "Int8B", "int64", true, false, false, false},
	0x77: {8, "Uint8B", "unsigned int64", false, false, false, false},
	0x14: {16, "Int16B", "", true, false, false, false},
	0x24: {16, "Uint16B", "", false, false, false, false},
	0x78: {16, "Int16B", "", true, false, false, false},
	0x79: {16, "Uint16B", "", false, false, false, false},
	0x30: {1, "Bool", "bool", false, false, false, true},
	0x31: {2, "Bool", "", false, false, false, true},
	0x32: {4, "Bool", "", false, false, false, true},
	0x33: {8, "Bool", "", false, false, false, true},
	0x40: {4, "Float", "float", false, false, true, false},
	0x41: {8, "Float", "double", false, false, true, false},
	0x42: {10, "Float", "long double", false, false, true, false},
	0x34: {16, "", "", false, false, false, false},
}

// BasicKind is the kind byte of a basic type index.
func BasicKind(ti uint32) uint32 { return ti & 0xff }

// IsBasicPointer reports whether a basic type index is a pointer to a basic type.
func IsBasicPointer(ti uint32) bool { return (ti>>8)&7 != 0 }

// SimpleTypeSize is the size of a basic (index < 0x1000) type.
func SimpleTypeSize(ti uint32) uint64 {
	if mode := (ti >> 8) & 7; mode != 0 {
		switch mode {
		case 4, 5:
			return 4
		case 6:
			return 8
		case 7:
			return 16
		}
		return 2
	}
	return basics[ti&0xff].size
}

// IsSigned reports a signed integer kind.
func IsSigned(kind uint32) bool { return basics[kind].signed }

// IsChar reports a narrow character kind.
func IsChar(kind uint32) bool { return basics[kind].char }

// IsFloat reports a floating-point kind.
func IsFloat(kind uint32) bool { return basics[kind].float }

// IsBool reports a boolean kind.
func IsBool(kind uint32) bool { return basics[kind].bool }

// BasicName spells a basic type index as dt does ("Uint4B", "Ptr64 Void").
func BasicName(ti uint32) string {
	base := basics[ti&0xff].dt
	if base == "" {
		base = fmt.Sprintf("<type 0x%x>", ti&0xff)
	}
	switch (ti >> 8) & 7 {
	case 0:
		return base
	case 6:
		return "Ptr64 " + base
	}
	return "Ptr32 " + base
}

// BasicCName spells a basic type index in C ("unsigned long", "char *").
func BasicCName(ti uint32) string {
	base := basics[ti&0xff].c
	if base == "" {
		base = "<unknown>"
	}
	if (ti>>8)&7 != 0 {
		return base + " *"
	}
	return base
}
