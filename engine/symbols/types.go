package symbols

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

// FindType finds a UDT or enum by name, in the named module or in every
// module in load order (loading deferred symbols as WinDbg does).
func (s *Symbols) FindType(moduleName, name string) (*types.Ref, error) {
	for _, m := range s.target.Modules() {
		if moduleName != "" && !strings.EqualFold(m.Name, moduleName) {
			continue
		}
		tt, err := s.Types(m)
		if err != nil {
			continue
		}
		if t, err := tt.FindUDT(name); err == nil {
			return types.NewRef(m, tt, t), nil
		}
	}
	return nil, fmt.Errorf("Symbol %s not found.", name)
}

// TypeRefFor wraps a type index of a module's PDB.
func (s *Symbols) TypeRefFor(m *target.Module, ti uint32) (*types.Ref, error) {
	tt, err := s.Types(m)
	if err != nil {
		return nil, err
	}
	var t *pdb.Type
	if ti >= 0x1000 {
		var err error
		if t, err = tt.Type(ti); err != nil {
			return nil, err
		}
	}
	return types.NewRef(m, tt, t), nil
}

// TypeNames lists a module's user type names (structures, unions, classes,
// enums) whose names match, for `dt module!pattern`.
func (s *Symbols) TypeNames(m *target.Module, match func(string) bool) ([]string, error) {
	tt, err := s.Types(m)
	if err != nil {
		return nil, err
	}
	l, ok := tt.(interface{ UDTNames() ([]string, error) })
	if !ok {
		return nil, fmt.Errorf("the type source of %s cannot list its types", m.Name)
	}
	all, err := l.UDTNames()
	var out []string
	for _, n := range all {
		if match(n) {
			out = append(out, n)
		}
	}
	return out, err
}
