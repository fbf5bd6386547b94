package commands

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// !address -summary and !handle account for every entry of the dump's
// MemoryInfoList and HandleData: 557 regions and 147 handles, as
// ../shared/realdumps/MANIFEST.md states for tiny-exe-with-cet-xsave.dmp.
// Layout: msdocs/debuggercmds/-address.md and -handle.md.
func TestAddressAndHandleCountEveryEntry(t *testing.T) {
	c, out := realCtx(t, "breakpad/tiny-exe-with-cet-xsave.dmp", "")
	sum := run(t, c, out, "!address -summary")
	usage := sum[strings.Index(sum, "--- Usage Summary"):strings.Index(sum, "--- Type Summary")]
	row := regexp.MustCompile(`(?m)^(\S.{0,31}?)\s+(\d+)\s+[0-9a-f]+` + "`" + `[0-9a-f]{8} \(`)
	total := 0
	for _, m := range row.FindAllStringSubmatch(usage, -1) {
		n, _ := strconv.Atoi(m[2])
		total += n
	}
	if total != 557 {
		t.Errorf("usage rows sum to %d regions, want 557:\n%s", total, usage)
	}
	if got := run(t, c, out, "!handle"); !strings.Contains(got, "\n147 Handles\nType            Count\n") {
		t.Errorf("!handle summary:\n%s", got[strings.LastIndex(got, "Handles")-10:])
	}
	one := run(t, c, out, "!handle 4 f")
	if !strings.HasPrefix(one, "Handle 4\n  Type          File\n  Attributes    0\n  GrantedAccess 0x12019f:\n") {
		t.Errorf("!handle 4 f:\n%s", one)
	}
	if got := run(t, c, out, "!address @rsp"); !strings.HasPrefix(got, "Usage:                  Stack\n") {
		t.Errorf("!address @rsp:\n%s", got)
	}
}
