package symbols

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/testdata/gen/demo"
)

func demoTarget(t testing.TB) *target.UserTarget {
	data := demo.Build().Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "demo")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestParseSymbolPath(t *testing.T) {
	t.Setenv("DBGHELP_HOMEDIR", "/home/dbg")
	els := ParseSymbolPath(`srv*c:\sym*https://msdl.microsoft.com/download/symbols;d:\mine; cache*/tmp/c ;srv*https://example.test/s;SRV*`)
	if len(els) != 4 {
		t.Fatalf("%d elements: %+v", len(els), els)
	}
	if !els[0].IsServer() || els[0].Tiers[0] != `c:\sym` || els[0].Tiers[1] != DefaultSymbolServer {
		t.Errorf("srv*cache*url: %+v", els[0])
	}
	if els[1].Dir != `d:\mine` {
		t.Errorf("plain dir: %+v", els[1])
	}
	if els[2].Tiers[0] != "/tmp/c" || els[2].Tiers[1] != "https://example.test/s" {
		t.Errorf("cache* then srv*url: %+v", els[2])
	}
	if els[3].Tiers[0] != "/tmp/c" || els[3].Tiers[1] != DefaultSymbolServer {
		t.Errorf("bare srv*: %+v", els[3])
	}
	if got := ParseSymbolPath("srv*"); got[0].Tiers[0] != filepath.Join("/home/dbg", "sym") {
		t.Errorf("default cache: %+v", got)
	}
}

func TestStorePathsStayInsideTheStore(t *testing.T) {
	for _, bad := range []string{"..", "../x.pdb", `..\x.pdb`, "a/b.pdb", `c:\x.pdb`, "x\x00.pdb", ""} {
		if _, ok := StoreRelPath(bad, "ABC1"); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, ok := StoreRelPath("x.pdb", "../1"); ok {
		t.Error("bad index accepted")
	}
	if p, ok := StoreRelPath("ntdll.pdb", "96EF4ED537402DAAA51D4A4212EA4B2C1"); !ok || p != filepath.Join("ntdll.pdb", "96EF4ED537402DAAA51D4A4212EA4B2C1", "ntdll.pdb") {
		t.Errorf("good name: %q %v", p, ok)
	}
	// A dump whose CodeView name climbs directories only ever yields its base name.
	if BaseName(`..\..\..\evil.pdb`) != "evil.pdb" {
		t.Error("BaseName")
	}
}

// TestSymbolServerEndToEnd serves the fixture PDBs over HTTP: the first
// session downloads into a cache in the symbol-store layout; the second
// finds them there with the server gone; a corrupt file is discarded.
func TestSymbolServerEndToEnd(t *testing.T) {
	tg := demoTarget(t)
	var hits int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt32(&hits, 1)
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if len(parts) != 3 {
			http.NotFound(w, r)
			return
		}
		if parts[0] == "kernel32.pdb" {
			w.Write([]byte("Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00\x00\x00 this is not a real pdb"))
			return
		}
		// nsi is only on the server compressed, as nsi.pd_ (a gcab MSZIP cabinet).
		if parts[0] == "nsi.pdb" {
			if parts[2] != "nsi.pd_" {
				http.NotFound(w, r)
				return
			}
			data, _ := os.ReadFile("../../dumpfmt/cab/testdata/nsi.pd_")
			w.Write(data)
			return
		}
		data, err := os.ReadFile(filepath.Join(demo.FixtureDir(), parts[0]))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	cache := t.TempDir()
	path := "srv*" + cache + "*" + srv.URL
	s := NewSymbols(tg, path)
	var notes []string
	s.Notify = func(m string) { notes = append(notes, m) }
	var progress []string
	s.Progress = func(name string, done, total int64) {
		progress = append(progress, fmt.Sprintf("%s %d/%d", name, done, total))
	}
	nsi := target.ModuleByName(tg, "nsi")
	ms := s.Load(nsi)
	if len(progress) < 2 || !strings.HasPrefix(progress[0], "nsi.pd_ ") || progress[len(progress)-1] != "nsi.pd_ -1/0" {
		t.Errorf("progress reports: %q", progress)
	}
	if ms.State != SymPrivatePDB {
		t.Fatalf("nsi state %d, notes %v", ms.State, notes)
	}
	want := filepath.Join(cache, "nsi.pdb", nsi.PdbGUID+"1", "nsi.pdb")
	if ms.PdbPath != want {
		t.Errorf("cached at %s, want %s", ms.PdbPath, want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "*", "*", "*.download*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if m, sym, _, ok := s.Nearest(nsi.Base + 0x1010); !ok || m != nsi || sym != "NsiAllocateAndGetTable" {
		t.Errorf("nearest: %v %q", ok, sym)
	}
	// IPHLPAPI comes uncompressed.
	iph := target.ModuleByName(tg, "IPHLPAPI")
	if ms := s.Load(iph); ms.State != SymPrivatePDB {
		t.Errorf("IPHLPAPI state %d", ms.State)
	}
	first := atomic.LoadInt32(&hits)
	// kernel32's "PDB" is garbage: discarded, not cached; exports take over.
	k32 := target.ModuleByName(tg, "kernel32")
	if ms := s.Load(k32); ms.State != SymExport {
		t.Errorf("kernel32 state %d", ms.State)
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "kernel32.pdb", "*", "*"))
	if len(matches) != 0 {
		t.Errorf("corrupt download cached: %v", matches)
	}
	srv.Close()
	// Offline: the cache answers, the server is not asked.
	s2 := NewSymbols(tg, path)
	if ms := s2.Load(nsi); ms.State != SymPrivatePDB || ms.PdbPath != want {
		t.Errorf("offline: state %d path %s", ms.State, ms.PdbPath)
	}
	if atomic.LoadInt32(&hits) != first+1 { // only kernel32's request; the offline session asks nothing
		t.Errorf("server asked %d times", atomic.LoadInt32(&hits))
	}
}

func TestPlainDirectoryAndMismatch(t *testing.T) {
	tg := demoTarget(t)
	dir := t.TempDir()
	// A PDB with the right name but another GUID is refused.
	other, _ := os.ReadFile(filepath.Join(demo.FixtureDir(), "kernel32.pdb"))
	os.WriteFile(filepath.Join(dir, "nsi.pdb"), other, 0o644)
	s := NewSymbols(tg, dir)
	var notes []string
	s.Notify = func(m string) { notes = append(notes, m) }
	s.Noisy = true
	nsi := target.ModuleByName(tg, "nsi")
	if ms := s.Load(nsi); ms.State == SymPrivatePDB || ms.State == SymPDB {
		t.Error("mismatched PDB accepted")
	}
	if !strings.Contains(strings.Join(notes, "\n"), "mismatched") {
		t.Errorf("no mismatch note: %v", notes)
	}
	// The right one, straight from the fixture folder.
	s = NewSymbols(tg, demo.FixtureDir())
	if ms := s.Load(nsi); ms.State != SymPrivatePDB {
		t.Errorf("fixture dir: state %d", ms.State)
	}
}

// Images come from a symbol server too, as name/<TimeDateStamp><SizeOfImage>/name.
func TestImagesFromSymbolServer(t *testing.T) {
	_, tg := strippedDemo(t)
	nsi := target.ModuleByName(tg, "nsi")
	index := fmt.Sprintf("%08X%x", nsi.TimeDateStamp, nsi.Size)
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Path)
		if r.URL.Path != "/nsi.dll/"+index+"/nsi.dll" {
			http.NotFound(w, r)
			return
		}
		data, _ := os.ReadFile(filepath.Join(demo.FixtureDir(), "nsi.dll"))
		w.Write(data)
	}))
	defer srv.Close()
	cache := t.TempDir()
	s := NewSymbols(tg, "srv*"+cache+"*"+srv.URL)
	img := s.Image(nsi)
	if img == nil {
		t.Fatalf("no image; server was asked %v", asked)
	}
	if rf, ok := img.LookupFunction(0x1000); !ok || rf.Begin != 0x1000 {
		t.Errorf("nsi's .pdata: %+v %v", rf, ok)
	}
	if _, err := os.Stat(filepath.Join(cache, "nsi.dll", index, "nsi.dll")); err != nil {
		t.Error(err)
	}
}

func strippedDemo(t *testing.T) (*demo.Scenario, *target.UserTarget) {
	sc := demo.StrippedScenario()
	data := sc.Dump.Bytes()
	tg, err := target.OpenMinidump(bytes.NewReader(data), int64(len(data)), "no-images")
	if err != nil {
		t.Fatal(err)
	}
	return sc, tg
}

// Warnings and errors reach Warn with their severity.
func TestReportsCarrySeverity(t *testing.T) {
	tg := demoTarget(t)
	s := NewSymbols(tg, t.TempDir())
	var got []string
	s.Warn = func(sev Severity, msg string) { got = append(got, fmt.Sprintf("%d %s", sev, msg)) }
	s.Notify = func(msg string) { t.Errorf("a report went to Notify: %q", msg) }
	s.Load(target.ModuleByName(tg, "nsi"))
	if len(got) != 1 || got[0] != "1 *** ERROR: Symbol file could not be found.  Defaulted to export symbols for nsi.dll - " {
		t.Fatalf("reports %q", got)
	}
}
