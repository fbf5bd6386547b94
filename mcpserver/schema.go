package mcpserver

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/ntdbg/ntdbg/commands"
)

// resultSchema is the output schema of the tools that run a command:
// CommandResult, whose records are each {kind, value} with the value
// described by its kind's schema (commands.RecordSchema, the schemas in
// docs/schemas); a kind the server does not know (an extension's, added
// later) may hold any value.
func resultSchema() (*jsonschema.Schema, error) {
	s, err := jsonschema.For[CommandResult](nil)
	if err != nil {
		return nil, err
	}
	rec, ok := s.Properties["records"]
	if !ok || rec.Items == nil {
		return nil, fmt.Errorf("CommandResult has no records array")
	}
	var kinds []string
	for k := range commands.RecordKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var alts []*jsonschema.Schema
	var known []any
	for _, k := range kinds {
		m := commands.RecordSchema(k)
		delete(m, "$schema")
		delete(m, "$id")
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		var v jsonschema.Schema
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("record kind %s: %v", k, err)
		}
		var c any = k
		alts = append(alts, &jsonschema.Schema{Type: "object", Required: []string{"kind", "value"},
			Properties: map[string]*jsonschema.Schema{"kind": {Const: &c}, "value": &v}})
		known = append(known, k)
	}
	alts = append(alts, &jsonschema.Schema{Type: "object", Required: []string{"kind", "value"},
		Properties: map[string]*jsonschema.Schema{"kind": {Type: "string", Not: &jsonschema.Schema{Enum: known}}, "value": {}}})
	rec.Items = &jsonschema.Schema{Description: "a record: its kind and its value (docs/schemas/<kind>.schema.json)", AnyOf: alts}
	return s, nil
}
