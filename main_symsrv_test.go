//go:build unix

package main

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// watchedBuffer is an output whose text a test can wait on.
type watchedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor waits until the output holds s after from, and returns when.
func (w *watchedBuffer) waitFor(t *testing.T, s string, from int, limit time.Duration) (time.Time, int) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		out := w.String()
		if i := strings.Index(out[min(from, len(out)):], s); i >= 0 {
			return time.Now(), from + i + len(s)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q did not come within %v; output:\n%s", s, limit, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Issue 11, finding 5: with a symbol server that never answers, the first
// prompt comes within 5 s, k prints module+offset frames within 10 s, and
// Ctrl-C during .reload /f is back at the prompt within 1 s; the session
// goes on, and the cache holds no partial file and no empty folder.
func TestSymbolServerThatNeverAnswers(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(done)
	t.Setenv("_NT_SYMBOL_PATH", "")
	t.Setenv("_NT_ALT_SYMBOL_PATH", "")
	t.Setenv("_NT_EXECUTABLE_IMAGE_PATH", "")
	t.Setenv("NTDBG_OFFLINE", "")
	cache := t.TempDir()
	inR, inW := io.Pipe()
	var out, errb watchedBuffer
	start := time.Now()
	exit := make(chan int, 1)
	go func() {
		exit <- run([]string{"-z", "testdata/demo/demo.dmp", "-y", "srv*" + cache + "*" + srv.URL}, inR, &out, &errb)
	}()
	io.WriteString(inW, "k\n")
	at, pos := out.waitFor(t, "0:000> k\n", 0, 5*time.Second)
	t.Logf("first prompt after %v", at.Sub(start))
	at, pos = out.waitFor(t, "07 ", pos, 10*time.Second)
	t.Logf("k printed after %v", at.Sub(start))
	got := out.String()
	got = got[strings.Index(got, "0:000> k\n"):]
	if !strings.Contains(got, "00 00000092`cf3ffd58 00007fff`97c01024     ntdll+0x10c2") || strings.Contains(got, "ntdll!") {
		t.Errorf("k frames are not module+offset:\n%s", got)
	}
	if !strings.Contains(got, "*** Symbols for ntdll are being downloaded; run the command again for names") {
		t.Errorf("no note that symbols are coming:\n%s", got)
	}
	io.WriteString(inW, ".reload /f\nlm\n")
	_, pos = out.waitFor(t, "0:000> .reload /f\n......\n", pos, 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	sent := time.Now()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	at, _ = out.waitFor(t, "0:000> lm\n", pos, 5*time.Second)
	if d := at.Sub(sent); d > time.Second {
		t.Errorf("Ctrl-C took %v to return to the prompt", d)
	} else {
		t.Logf("Ctrl-C back at the prompt after %v", d)
	}
	if !strings.Contains(out.String(), "Command cancelled by Ctrl-C") {
		t.Errorf("the cancel is not said:\n%s", out.String())
	}
	io.WriteString(inW, "q\n")
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end")
	}
	inW.Close()
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

// The banner asks no server; the first command that needs symbols
// downloads them (a quick server answers within the command's grace, so k
// has names), and the next session's banner names the location from the
// cache. NTDBG_OFFLINE=1 asks nothing.
func TestBannerAsksNoServer(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		data, err := os.ReadFile(filepath.Join("testdata/fixtures/bin", parts[0]))
		if err != nil || len(parts) != 3 || parts[2] != parts[0] {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	defer srv.Close()
	requests := func() int { mu.Lock(); defer mu.Unlock(); return len(asked) }
	cache := t.TempDir()
	sym := "srv*" + cache + "*" + srv.URL
	t.Setenv("NTDBG_OFFLINE", "1")
	out, _ := transcript(t, "testdata/demo/demo.dmp", "k\nq\n", "-y", sym)
	if requests() != 0 || !strings.Contains(out, "Defaulted to export symbols for ntdll.dll") {
		t.Errorf("offline: %d requests\n%s", requests(), out)
	}
	t.Setenv("NTDBG_OFFLINE", "")
	out, _ = transcript(t, "testdata/demo/demo.dmp", "q\n", "-y", sym)
	if requests() != 0 {
		t.Errorf("the banner asked the server: %v", asked)
	}
	if !strings.Contains(out, "ntdll!NtWaitForAlertByThreadId+0xa:\n") || strings.Contains(out, "ERROR") {
		t.Errorf("banner location:\n%s", out)
	}
	out, _ = transcript(t, "testdata/demo/demo.dmp", "k\nq\n", "-y", sym)
	if !strings.Contains(out, "vmms!VmmsClusterManager::LockVm+0x11") {
		t.Errorf("k after downloads:\n%s", out)
	}
	n := requests()
	out, _ = transcript(t, "testdata/demo/demo.dmp", "q\n", "-y", sym)
	if requests() != n || !strings.Contains(out, "ntdll!NtWaitForAlertByThreadId+0xa:\n") {
		t.Errorf("the cache did not name the banner's location (%d requests):\n%s", requests()-n, out)
	}
}
