package commands

import (
	"reflect"
	"strings"
)

// HexPattern is the pattern of a record's hex strings (addresses, values).
const HexPattern = "^0x[0-9a-f]+$"

// RecordSchema is the JSON Schema (draft 2020-12) of a record kind's value,
// built from its Go type: every field required, no others allowed, nullable
// fields (pointers, slices, maps) typed [T, "null"], hex strings with
// HexPattern, descriptions from the fields' doc tags. nil for an unknown kind.
func RecordSchema(kind string) map[string]any {
	v, ok := RecordKinds[kind]
	if !ok {
		return nil
	}
	s := schemaOf(reflect.TypeOf(v), false)
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = "https://github.com/ntdbg/ntdbg/docs/schemas/" + kind + ".schema.json"
	s["title"] = kind
	s["description"] = "The value of an ntdbg record of kind " + kind + " (" + reflect.TypeOf(v).Name() + ")."
	return s
}

func schemaOf(t reflect.Type, hex bool) map[string]any {
	switch t.Kind() {
	case reflect.Pointer:
		s := schemaOf(t.Elem(), hex)
		s["type"] = []any{s["type"], "null"}
		return s
	case reflect.Slice:
		return map[string]any{"type": []any{"array", "null"}, "items": schemaOf(t.Elem(), hex)}
	case reflect.Map:
		return map[string]any{"type": []any{"object", "null"}, "additionalProperties": schemaOf(t.Elem(), hex)}
	case reflect.String:
		if hex {
			return map[string]any{"type": "string", "pattern": HexPattern}
		}
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s := map[string]any{"type": "integer"}
		if t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64 {
			s["minimum"] = 0
		}
		return s
	case reflect.Struct:
		props := map[string]any{}
		var req []any
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			fs := schemaOf(f.Type, f.Tag.Get("schema") == "hex")
			if d := f.Tag.Get("doc"); d != "" {
				fs["description"] = d
			}
			props[name] = fs
			req = append(req, name)
		}
		return map[string]any{"type": "object", "properties": props, "required": req, "additionalProperties": false}
	}
	return map[string]any{}
}
