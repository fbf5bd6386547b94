package ndiskd

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
)

const (
	kernelDump = "../../testdata/scenarios/hyperv-hang/kernel.dmp"
	symPath    = "../../testdata/scenarios/hyperv-hang/symbols"
	// NextGlobalMiniport of _NDIS_MINIPORT_BLOCK (ndis_types.h: 0xf20).
	nextGlobal = 0xf20
)

type patchedKernel struct {
	*target.KernelTarget
	patches map[uint64]uint64
}

func (p *patchedKernel) AddressSpace(pr *target.Process) mem.Memory {
	return patchedMem{p.KernelTarget.AddressSpace(pr), p.patches}
}

type patchedMem struct {
	m       mem.Memory
	patches map[uint64]uint64
}

func (p patchedMem) ReadVirtual(b []byte, addr uint64) (int, error) {
	n, err := p.m.ReadVirtual(b, addr)
	for a, v := range p.patches {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], v)
		for i := range 8 {
			if at := a + uint64(i); at >= addr && at < addr+uint64(n) {
				b[at-addr] = w[i]
			}
		}
	}
	return n, err
}

func session(t *testing.T, patches map[uint64]uint64) (*commands.Ctx, *bytes.Buffer) {
	t.Helper()
	tg, err := engine.Open(kernelDump, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var use target.Target = tg
	if patches != nil {
		use = &patchedKernel{tg.(*target.KernelTarget), patches}
	}
	r := commands.Default()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := &commands.Ctx{S: engine.NewSession(use), Out: &out, Registry: r}
	syms := symbols.NewSymbols(use, symPath)
	c.SetSymbols(syms)
	t.Cleanup(func() { syms.Close(); tg.Close() })
	return c, &out
}

func execute(c *commands.Ctx, out *bytes.Buffer, line string) string {
	out.Reset()
	c.Execute(line)
	return out.String()
}

// A miniport list that loops, or whose link points nowhere, gives the
// miniports read before it and says why it stopped.
func TestBrokenMiniportList(t *testing.T) {
	const fooBar2, isatap5 = 0xffffe0004f5f71a0, 0xffffe8012ac921a0
	c, out := session(t, nil)
	if got := execute(c, out, "!ndiskd.miniports"); strings.Count(got, "\n    ffff") != 29 {
		t.Fatalf("intact list:\n%s", got)
	}
	cases := []struct {
		name  string
		patch map[uint64]uint64
		rows  int
		why   string
	}{
		{"cycle", map[uint64]uint64{fooBar2 + nextGlobal: isatap5}, 22, "the list loops back to ffffe8012ac921a0 after 22 entries"},
		{"bad pointer", map[uint64]uint64{fooBar2 + nextGlobal: 0xffffe000_12345000}, 22, "cannot read _NDIS_MINIPORT_BLOCK.NextGlobalMiniport at ffffe00012345000"},
	}
	for _, tc := range cases {
		c, out := session(t, tc.patch)
		got := execute(c, out, "!ndiskd.miniports")
		if n := strings.Count(got, "\n    ffff"); n != tc.rows || !strings.Contains(got, tc.why) {
			t.Errorf("%s: %d rows:\n%s", tc.name, n, got)
		}
		if strings.Contains(got, "internal error") {
			t.Errorf("%s: panic:\n%s", tc.name, got)
		}
	}
}

// The stuck miniport's flags wrap as ndiskd wraps them: at 80 columns,
// continuation lines under the value column (windbg-reference.md §5.4).
func TestFlagWrapping(t *testing.T) {
	c, out := session(t, nil)
	got := execute(c, out, "!ndiskd.miniport ffffe0004f5f71a0")
	want := "    Flags              BUS_MASTER, 64BIT_DMA, SG_DMA, DEFAULT_PORT_ACTIVATED,\n" +
		"                       RESET_IN_PROGRESS, RESTORING_FILTERS,\n" +
		"                       SUPPORTS_MEDIA_SENSE, DOES_NOT_DO_LOOPBACK,\n" +
		"                       MEDIA_CONNECTED\n"
	if !strings.Contains(got, want) {
		t.Errorf("flags:\n%s", got)
	}
	for _, l := range strings.Split(got, "\n") {
		if len(l) > 80 && !strings.Contains(l, "Device instance") {
			t.Errorf("line over 80 columns: %q", l)
		}
	}
}
