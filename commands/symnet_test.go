package commands

import (
	"strings"
	"testing"
)

// ntdbg's !sym additions: offline/online, timeout and cap, each printing
// the state it leaves.
func TestSymNetworkSwitches(t *testing.T) {
	c, out := newCtx(t)
	for _, tc := range []struct{ cmd, want string }{
		{"!sym timeout", "Symbol server timeouts: connect 5s, answer and each read 10s\n"},
		{"!sym timeout 2.5", "Symbol server timeouts: connect 2.5s, answer and each read 2.5s\n"},
		{"!sym timeout 0", "!sym timeout: give the seconds"},
		{"!sym cap", "Symbol downloads may write 4096 MB per session (0 MB written)\n"},
		{"!sym cap 100", "Symbol downloads may write 100 MB per session"},
		{"!sym offline", "Symbol servers off: offline (!sym online asks them again)\n"},
		{"!sym online", "Symbol servers on: online\n"},
	} {
		if got := run(t, c, out, tc.cmd); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	run(t, c, out, "!sym offline")
	if !c.SymConfig.Offline {
		t.Error("!sym offline left the servers on")
	}
}
