// Package extensions holds ntdbg's plug-ins (ndiskd and those to come).
// Each registers its commands explicitly on a registry under its own
// `!name.cmd` namespace; nothing registers itself by init.
package extensions

import (
	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/extensions/ndiskd"
)

// All is every extension ntdbg ships, in load order.
var All = []func(*commands.Registry) error{ndiskd.Register}

// Registry is the core registry with every shipped extension added.
func Registry() (*commands.Registry, error) {
	r := commands.Default()
	for _, add := range All {
		if err := add(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}
