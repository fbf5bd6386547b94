package symbols

import (
	"context"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ntdbg/ntdbg/engine/target"
)

// hostileServer serves what kind says and counts requests; every handler
// ends when the test does.
func hostileServer(t *testing.T, kind string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch kind {
		case "silent": // accepts the connection, never answers
			select {
			case <-done:
			case <-r.Context().Done():
			}
		case "stall": // headers and a little, then nothing
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(http.StatusOK)
			w.Write(make([]byte, 1000))
			w.(http.Flusher).Flush()
			select {
			case <-done:
			case <-r.Context().Done():
			}
		case "endless": // a body without end
			w.WriteHeader(http.StatusOK)
			buf := make([]byte, 64<<10)
			for {
				if _, err := w.Write(buf); err != nil {
					return
				}
				select {
				case <-done:
					return
				default:
				}
			}
		}
	}))
	t.Cleanup(func() { close(done); srv.CloseClientConnections(); srv.Close() })
	return srv, &hits
}

// cacheIsClean fails when a partial download or an empty store folder is
// left in the cache.
func cacheIsClean(t *testing.T, cache string) {
	t.Helper()
	filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if strings.Contains(d.Name(), ".download") {
			t.Errorf("partial download left: %s", p)
		}
		if d.IsDir() && p != cache {
			if ents, _ := os.ReadDir(p); len(ents) == 0 {
				t.Errorf("empty folder left: %s", p)
			}
		}
		return nil
	})
}

func fastSymbols(t *testing.T, tg target.Target, path string) (*Symbols, *[]string) {
	s := NewSymbols(tg, path)
	s.SetTimeout(300 * time.Millisecond)
	var mu sync.Mutex
	var notes []string
	s.Notify = func(m string) { mu.Lock(); notes = append(notes, m); mu.Unlock() }
	t.Cleanup(func() { s.Close() })
	return s, &notes
}

// A server that never answers costs one timeout, once per session: the
// second module does not ask it again, and the cache stays clean.
func TestSilentServerIsAskedOnce(t *testing.T) {
	tg := demoTarget(t)
	srv, hits := hostileServer(t, "silent")
	cache := t.TempDir()
	s, notes := fastSymbols(t, tg, "srv*"+cache+"*"+srv.URL)
	start := time.Now()
	s.Load(target.ModuleByName(tg, "nsi"))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the first module took %v", d)
	}
	asked := hits.Load()
	start = time.Now()
	s.Load(target.ModuleByName(tg, "IPHLPAPI"))
	s.Load(target.ModuleByName(tg, "RPCRT4"))
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("a dead server was waited for again: %v", d)
	}
	if hits.Load() != asked {
		t.Errorf("dead server asked again: %d then %d requests", asked, hits.Load())
	}
	said := strings.Count(strings.Join(*notes, "\n"), "did not answer; not asked again this session")
	if said != 1 {
		t.Errorf("said %d times: %q", said, *notes)
	}
	cacheIsClean(t, cache)
}

// A body that stops mid-transfer times out between reads.
func TestStalledBodyTimesOut(t *testing.T) {
	tg := demoTarget(t)
	srv, _ := hostileServer(t, "stall")
	cache := t.TempDir()
	s, notes := fastSymbols(t, tg, "srv*"+cache+"*"+srv.URL)
	start := time.Now()
	s.Load(target.ModuleByName(tg, "nsi"))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stalled body took %v", d)
	}
	if !strings.Contains(strings.Join(*notes, "\n"), "did not answer") {
		t.Errorf("notes %q", *notes)
	}
	cacheIsClean(t, cache)
}

// The bytes written per session are capped: an endless body stops at the
// cap, says so, and leaves nothing behind.
func TestSessionCapStopsEndlessBody(t *testing.T) {
	tg := demoTarget(t)
	srv, _ := hostileServer(t, "endless")
	cache := t.TempDir()
	s, notes := fastSymbols(t, tg, "srv*"+cache+"*"+srv.URL)
	s.SessionCap = 3 << 20
	s.Load(target.ModuleByName(tg, "nsi"))
	s.Load(target.ModuleByName(tg, "RPCRT4"))
	if w := s.Written(); w > 3<<20 {
		t.Errorf("wrote %d bytes past a cap of %d", w, 3<<20)
	}
	if !strings.Contains(strings.Join(*notes, "\n"), "download cap") {
		t.Errorf("the cap was not named: %q", *notes)
	}
	cacheIsClean(t, cache)
}

// In the background, Load does not wait: the module says its symbols are
// coming, and a later command (Begin) loads them once they arrived.
func TestBackgroundDownloadThenNames(t *testing.T) {
	tg := demoTarget(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		data, err := os.ReadFile(filepath.Join("../../testdata/fixtures/bin", parts[0]))
		if err != nil || len(parts) != 3 || parts[2] != parts[0] {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	defer srv.Close()
	cache := t.TempDir()
	s, notes := fastSymbols(t, tg, "srv*"+cache+"*"+srv.URL)
	s.Background = true
	s.Grace = 0
	s.SetTimeout(5 * time.Second)
	s.Begin(context.Background())
	nsi := target.ModuleByName(tg, "nsi")
	if m, sym, _, ok := s.Nearest(nsi.Base + 0x1010); !ok || m != nsi || sym != "" {
		t.Errorf("while downloading: %q", sym)
	}
	if !strings.Contains(strings.Join(*notes, "\n"), "*** Symbols for nsi are being downloaded; run the command again for names") {
		t.Errorf("no note: %q", *notes)
	}
	s.End()
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.Begin(context.Background())
		_, sym, _, _ := s.Nearest(nsi.Base + 0x1010)
		s.End()
		if sym == "NsiAllocateAndGetTable" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("names never came: %q", sym)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cacheIsClean(t, cache)
}

// Cancelling the command's context stops a wait at once, and the
// download with it.
func TestCancelStopsWaiting(t *testing.T) {
	tg := demoTarget(t)
	srv, _ := hostileServer(t, "silent")
	cache := t.TempDir()
	s, _ := fastSymbols(t, tg, "srv*"+cache+"*"+srv.URL)
	s.SetTimeout(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	s.Begin(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	s.Load(target.ModuleByName(tg, "nsi"))
	if d := time.Since(start); d > time.Second {
		t.Errorf("cancel took %v", d)
	}
	if !s.Cancelled() {
		t.Error("not cancelled")
	}
	s.End()
	s.Close()
	cacheIsClean(t, cache)
}

// Offline: no request at all.
func TestOfflineAsksNothing(t *testing.T) {
	tg := demoTarget(t)
	srv, hits := hostileServer(t, "silent")
	cache := t.TempDir()
	s, _ := fastSymbols(t, tg, "srv*"+cache+"*"+srv.URL)
	s.Offline = true
	s.Load(target.ModuleByName(tg, "nsi"))
	if hits.Load() != 0 {
		t.Errorf("%d requests offline", hits.Load())
	}
}

// A refused connection marks the server dead as a timeout does.
func TestRefusedServerIsDead(t *testing.T) {
	tg := demoTarget(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	cache := t.TempDir()
	s, notes := fastSymbols(t, tg, "srv*"+cache+"*"+url)
	s.Load(target.ModuleByName(tg, "nsi"))
	s.Load(target.ModuleByName(tg, "RPCRT4"))
	if n := strings.Count(strings.Join(*notes, "\n"), "not asked again"); n != 1 {
		t.Errorf("said %d times: %q", n, *notes)
	}
	cacheIsClean(t, cache)
}
