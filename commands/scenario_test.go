package commands

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
)

const (
	hypervDump = "../testdata/scenarios/hyperv-hang/vmms.dmp"
	hypervSyms = "../testdata/scenarios/hyperv-hang/symbols"
)

// patched is a target whose memory has some bytes replaced: a broken
// critical-section list without a second dump file.
type patched struct {
	target.Target
	patches map[uint64]uint64 // address -> 8-byte value
	holes   map[uint64]bool   // pages that read as not in the dump
}

func (p *patched) AddressSpace(pr *target.Process) mem.Memory {
	return patchedMem{p.Target.AddressSpace(pr), p.patches, p.holes}
}

type patchedMem struct {
	m       mem.Memory
	patches map[uint64]uint64
	holes   map[uint64]bool
}

func (p patchedMem) ReadVirtual(b []byte, addr uint64) (int, error) {
	for pg := addr &^ 0xfff; pg < addr+uint64(len(b)) && pg >= addr&^0xfff; pg += 0x1000 {
		if p.holes[pg] {
			if pg <= addr {
				return 0, &mem.Error{Addr: addr, Kind: mem.NotInDump}
			}
			b = b[:pg-addr]
			break
		}
	}
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

// hypervCtx is newCtx for the hyperv-hang scenario: the real-format
// full-memory dump of vmms.exe (183 threads, thread 20 stuck in
// NtDeviceIoControlFile, 104 threads waiting on its critical section),
// with optional memory patches; the test's cleanup closes it.
func hypervCtx(t testing.TB, patches map[uint64]uint64) (*Ctx, *bytes.Buffer, target.Target) {
	t.Helper()
	c, out, closeAll := openHyperv(t, patches)
	t.Cleanup(closeAll)
	return c, out, c.S.Target
}

func openHyperv(t testing.TB, patches map[uint64]uint64) (*Ctx, *bytes.Buffer, func()) {
	t.Helper()
	f, err := os.Open(hypervDump)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	var tg target.Target
	tg, err = target.OpenMinidump(f, st.Size(), "vmms.dmp")
	if err != nil {
		t.Fatal(err)
	}
	if patches != nil {
		tg = &patched{tg, patches, map[uint64]bool{}}
	}
	var out bytes.Buffer
	c := &Ctx{S: engine.NewSession(tg), Out: &out, Host: &fakeHost{}}
	syms := symbols.NewSymbols(tg, hypervSyms)
	c.SetSymbols(syms)
	return c, &out, func() { syms.Close(); f.Close() }
}
