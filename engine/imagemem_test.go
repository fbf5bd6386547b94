package engine

import (
	"bytes"
	"testing"

	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/testdata/gen/demo"
)

// noModules is a dump that lost every page of its modules (a minidump
// written without module memory): reads inside a module fail.
type noModules struct {
	*target.UserTarget
}

type holeMem struct {
	inner mem.Memory
	mods  []*target.Module
}

func (h holeMem) ReadVirtual(p []byte, addr uint64) (int, error) {
	for i := range p {
		if target.ModuleAt(h.mods, addr+uint64(i)) != nil {
			if i == 0 {
				return 0, &mem.Error{Addr: addr}
			}
			n, err := h.inner.ReadVirtual(p[:i], addr)
			if err == nil && n == i {
				err = &mem.Error{Addr: addr + uint64(i)}
			}
			return n, err
		}
	}
	return h.inner.ReadVirtual(p, addr)
}

func (n noModules) AddressSpace(p *target.Process) mem.Memory {
	return holeMem{n.UserTarget.AddressSpace(p), n.UserTarget.Modules()}
}

// The session reads a module's code from its image file when the dump lacks
// it (issue 10: u and uf read code from the image found through -i or the
// symbol path), and only then.
func TestSessionMapsImagesOverMissingPages(t *testing.T) {
	data := demo.Build().Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "demo.dmp")
	if err != nil {
		t.Fatal(err)
	}
	full := NewSession(tg)
	syms := symbols.NewSymbols(tg, demo.FixtureDir())
	full.Symbols = syms
	ntdll := full.ModuleByName("ntdll")
	if ntdll == nil {
		t.Fatal("no ntdll")
	}
	want := make([]byte, 64)
	if err := full.Read(want, ntdll.Base+0x1000); err != nil {
		t.Fatalf("the full dump holds ntdll's code: %v", err)
	}

	s := NewSession(noModules{tg})
	got := make([]byte, 64)
	if err := s.Read(got, ntdll.Base+0x1000); err == nil {
		t.Fatal("without symbols the missing page must stay missing")
	}
	bare := symbols.NewSymbols(tg, "")
	s.Symbols = bare
	if err := s.Read(got, ntdll.Base+0x1000); err == nil {
		t.Fatal("without an image path the missing page must stay missing")
	}
	withImages := symbols.NewSymbols(tg, "")
	withImages.ImagePath = []string{demo.FixtureDir()}
	s.Symbols = withImages
	if err := s.Read(got, ntdll.Base+0x1000); err != nil {
		t.Fatalf("the image on the image path fills the page: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("image bytes differ from the dump's\n got % x\nwant % x", got, want)
	}
	// A read that starts before the module takes the dump's bytes first.
	if n, _ := s.Mem().ReadVirtual(make([]byte, 16), ntdll.Base-8); n != 0 && n != 16 {
		t.Errorf("partial read across the module start: %d bytes", n)
	}
}
