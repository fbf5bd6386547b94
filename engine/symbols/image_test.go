package symbols

import (
	"bytes"
	"debug/pe"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/engine/target"

	"github.com/ntdbg/ntdbg/testdata/gen/demo"
)

// ReadImage reads a module's bytes from its image file found on the image
// path, laid out by RVA. Go's debug/pe, an independent reader, gives the
// expected bytes of ntdll.dll's first code section.
func TestReadImageFromTheImagePath(t *testing.T) {
	tg := demoTarget(t)
	s := NewSymbols(tg, "")
	m := tg.Modules()[0]
	for _, mm := range tg.Modules() {
		if mm.Name == "ntdll" {
			m = mm
		}
	}
	p := make([]byte, 48)
	if s.ReadImage(m, p, 0x1000) {
		t.Fatal("no image path: nothing should be read")
	}
	s = NewSymbols(tg, "")
	s.ImagePath = []string{demo.FixtureDir()}
	f, err := pe.Open(filepath.Join(demo.FixtureDir(), "ntdll.dll"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text := f.Section(".text")
	want, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	if !s.ReadImage(m, p, uint64(text.VirtualAddress)) {
		t.Fatal("ReadImage found no image")
	}
	if !bytes.Equal(p, want[:len(p)]) {
		t.Errorf("image bytes\n got % x\nwant % x", p, want[:len(p)])
	}
	if got := s.Get(m).MappedImageFile(); filepath.Base(got) != "ntdll.dll" {
		t.Errorf("MappedImageFile = %q", got)
	}
	if s.ReadImage(m, p, m.Size-8) {
		t.Error("a read past the module's end must fail")
	}
}

// A CodeView name with control characters is never requested mangled: the
// file name is taken from the raw name before it is escaped for display, and
// the store then refuses it (issue 11, finding 11: `x1b[2J.pdb` was asked for).
func TestEscapedPdbNamesAreNotRequested(t *testing.T) {
	tg := demoTarget(t)
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Path)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	m := tg.Modules()[0]
	raw := `d:\build\evil` + "\x1b[2J" + `.pdb`
	m.PdbName, m.PdbFile = target.Sanitize(raw), target.PdbBase(raw)
	s := NewSymbols(tg, "srv*"+t.TempDir()+"*"+srv.URL)
	s.Load(m)
	for _, p := range asked {
		if strings.Contains(p, "x1b") || strings.Contains(p, "\x1b") || strings.Contains(p, "[2J") {
			t.Errorf("requested %q", p)
		}
	}
	if m.PdbName != `d:\build\evil\x1b[2J.pdb` {
		t.Errorf("display name %q", m.PdbName)
	}
}
