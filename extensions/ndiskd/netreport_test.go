package ndiskd

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateShot = os.Getenv("NTDBG_UPDATE_SCREENSHOT") != ""

// The network report loads in a real headless browser (Debian's chromium:
// apt-get install chromium) with no console errors, and the stuck miniport
// is there and marked. Set NTDBG_UPDATE_SCREENSHOT=1 to refresh the
// screenshot kept as evidence in testdata/scenarios/hyperv-hang/netreport.png.
func TestNetreportInABrowser(t *testing.T) {
	c, out := session(t, nil)
	page := filepath.Join(t.TempDir(), "netreport.html")
	if got := execute(c, out, "!ndiskd.netreport -outputpath "+page); !strings.Contains(got, "Network report written to "+page) {
		t.Fatalf("netreport: %s", got)
	}
	html, _ := os.ReadFile(page)
	if !strings.Contains(string(html), `class="miniport stuck" data-handle="ffffe0004f5f71a0"`) ||
		strings.Count(string(html), `class="miniport stuck"`) != 1 || strings.Count(string(html), `class="miniport`) != 29 {
		t.Fatalf("the page does not mark exactly the stuck miniport among 29")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium): the page was checked as text only")
	}
	run := func(args ...string) (string, string) {
		cmd := exec.Command(chromium, append([]string{"--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
			"--user-data-dir=" + t.TempDir()}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, stderr.String())
		}
		return string(b), stderr.String()
	}
	dom, logs := run("--dump-dom", "file://"+page)
	if !strings.Contains(dom, `data-stuck="1"`) {
		t.Errorf("the page's script did not run or found no stuck miniport:\n%.500s", dom)
	}
	if !strings.Contains(dom, "FooBar Network Adapter #2") || !strings.Contains(dom, "STUCK: RESET_IN_PROGRESS, REQUEST_TIMEOUT, pending OID_RECEIVE_FILTER_SET_FILTER") {
		t.Errorf("the stuck miniport is not shown with its reason")
	}
	if m := regexp.MustCompile(`(?i).*(CONSOLE|Uncaught).*`).FindAllString(logs, -1); len(m) > 0 {
		t.Errorf("console messages: %v", m)
	}
	shot := filepath.Join(t.TempDir(), "netreport.png")
	if updateShot {
		shot, _ = filepath.Abs("../../testdata/scenarios/hyperv-hang/netreport.png")
	}
	run("--hide-scrollbars", "--window-size=1600,1250", "--screenshot="+shot, "file://"+page)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Errorf("no screenshot: %v", err)
	}
}
