// Package extensions holds ntdbg's plug-ins (ndiskd and those to come).
// Each registers its commands explicitly on a registry under its own
// `!name.cmd` namespace; nothing registers itself by init. main.go names
// the ones it loads.
package extensions

import "github.com/ntdbg/ntdbg/commands"

// Registry is the core registry with the given extensions added, in order.
func Registry(plugins ...func(*commands.Registry) error) (*commands.Registry, error) {
	r := commands.Default()
	for _, add := range plugins {
		if err := add(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}
