package symbols

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ntdbg/ntdbg/engine/target"
)

// Downloads from symbol servers are bounded and cancellable:
//
//   - a connect timeout and a reply timeout (the first byte of the answer,
//     and every gap between reads after it), `!sym timeout`;
//   - a server that timed out or refused is remembered as dead and not
//     asked again this session (said once);
//   - downloads run in goroutines, at most maxParallel at once; a command
//     waits for them at most Grace (Background) or until they end, and its
//     context (Begin) cancels the wait and every download;
//   - a file is written to a temporary `*.download` file in the cache root,
//     checked, and only then moved to name/index/name (its folders made
//     then); every failure removes the temporary file;
//   - the bytes written per session are capped (SessionCap) besides the
//     per-request cap.
//
// Only the goroutines touch the network and the temporary files; module
// state changes on the command's goroutine (Load, Begin), and what the
// goroutines have to say is queued and said there.

// Default network bounds.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultReplyTimeout   = 10 * time.Second
	DefaultSessionCap     = 4 << 30
	DefaultGrace          = 2 * time.Second
	maxParallel           = 4
)

type netState struct {
	mu      sync.Mutex
	dead    map[string]bool
	jobs    map[string]*job // by destination path
	msgs    []queued
	written atomic.Int64
	capSaid bool
	sem     chan struct{}
	// ctx ends with the session (Close); every download runs under it.
	ctx    context.Context
	cancel context.CancelFunc
	// cmd is the running command's context (Begin); deadline ends the
	// grace a background command waits.
	cmd      context.Context
	deadline time.Time
	// noNet: nothing may start a download (the banner).
	noNet bool
	// waitAll: wait for every download to end (.reload /f).
	waitAll bool
	// noNote: pending downloads are not announced (the first pass of
	// .reload /f).
	noNote bool
	// noWait: start downloads, wait for none.
	noWait bool
	wg     sync.WaitGroup
	// pend and prov mark the lookup in progress: a download is still
	// running, or the network was not asked (noNet).
	pend, prov bool
	pendJobs   []*job
}

type queued struct {
	sev   Severity
	noisy bool
	text  string
}

type job struct {
	done   chan struct{}
	path   string // the checked file in the store, "" when none
	cancel context.CancelFunc
}

func newNetState() *netState {
	ctx, cancel := context.WithCancel(context.Background())
	return &netState{dead: map[string]bool{}, jobs: map[string]*job{}, sem: make(chan struct{}, maxParallel), ctx: ctx, cancel: cancel}
}

// newClient builds the HTTP client for the timeouts: connect (dial and TLS
// handshake) and the answer's headers; the body is timed per read.
func newClient(connect, reply time.Duration) *http.Client {
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   connect,
		ResponseHeaderTimeout: reply,
		MaxIdleConnsPerHost:   maxParallel,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr}
}

// SetTimeout sets the reply timeout (first byte, and between reads) and
// the connect timeout (the same, at most DefaultConnectTimeout).
func (s *Symbols) SetTimeout(reply time.Duration) {
	s.ReplyTimeout = reply
	s.ConnectTimeout = min(reply, DefaultConnectTimeout)
	s.Client = newClient(s.ConnectTimeout, s.ReplyTimeout)
}

// Written is how many bytes downloads wrote this session.
func (s *Symbols) Written() int64 { return s.net.written.Load() }

// Begin starts a command: ctx cancels its waits and downloads (Ctrl-C).
// Modules whose symbols were looked for without the network (the banner)
// or whose downloads were left running are made deferred again, so that
// this command loads them afresh (with what arrived).
func (s *Symbols) Begin(ctx context.Context) {
	if ctx == nil {
		ctx = context.Background()
	}
	n := s.net
	n.cmd = ctx
	n.deadline = time.Now().Add(s.Grace)
	s.flush()
	for _, ms := range s.mods {
		if ms.Unloaded || ms.State == SymDeferred {
			continue
		}
		// A module still waiting is loaded again too: it waits what is
		// left of this command's grace and says again that names are coming.
		if (ms.provisional && !s.Offline) || len(ms.jobs) > 0 {
			s.Unload(ms.Mod)
		}
	}
}

// End ends a command: what the downloads said since is said now.
func (s *Symbols) End() {
	s.flush()
	s.net.cmd = nil
}

// Cancelled reports whether the running command was cancelled.
func (s *Symbols) Cancelled() bool {
	return s.net.cmd != nil && s.net.cmd.Err() != nil
}

// NoNetwork runs fn with downloads off: what is on disk answers, and the
// modules it loaded look again when the next command begins (the banner).
func (s *Symbols) NoNetwork(fn func()) {
	s.net.noNet = true
	defer func() { s.net.noNet = false }()
	fn()
}

// ReloadNow loads the modules' symbols now, waiting for their downloads
// (.reload /f): every module's downloads start first, so that they run
// side by side, then each module is loaded again with what arrived. The
// wait ends early when the command is cancelled.
func (s *Symbols) ReloadNow(mods []*target.Module) {
	n := s.net
	n.noNote, n.noWait = true, true
	for _, m := range mods {
		if s.Cancelled() {
			break
		}
		s.Load(m)
	}
	n.noNote, n.noWait = false, false
	n.waitAll = true
	defer func() { n.waitAll = false }()
	for _, m := range mods {
		if s.Cancelled() {
			return
		}
		if ms := s.mods[m.Base]; ms != nil && (len(ms.jobs) > 0 || ms.provisional) {
			s.Unload(m)
			s.Load(m)
		}
	}
}

// CancelDownloads stops every download; they may be started again.
func (s *Symbols) CancelDownloads() {
	n := s.net
	n.mu.Lock()
	for k, j := range n.jobs {
		select {
		case <-j.done:
		default:
			j.cancel()
			delete(n.jobs, k)
		}
	}
	n.mu.Unlock()
}

// closeNet cancels every download and waits until each has removed its
// temporary files.
func (s *Symbols) closeNet() {
	s.net.cancel()
	s.net.wg.Wait()
	s.flush()
}

// queue keeps a line from a download goroutine for the command's goroutine.
func (s *Symbols) queue(sev Severity, noisy bool, format string, a ...any) {
	s.net.mu.Lock()
	s.net.msgs = append(s.net.msgs, queued{sev, noisy, fmt.Sprintf(format, a...)})
	s.net.mu.Unlock()
}

// flush says what the downloads queued.
func (s *Symbols) flush() {
	s.net.mu.Lock()
	msgs := s.net.msgs
	s.net.msgs = nil
	s.net.mu.Unlock()
	for _, m := range msgs {
		if m.noisy {
			s.noisy("%s", m.text)
		} else {
			s.report(m.sev, "%s", m.text)
		}
	}
}

func (s *Symbols) isDead(server string) bool {
	s.net.mu.Lock()
	defer s.net.mu.Unlock()
	return s.net.dead[server]
}

// markDead remembers a server that did not answer, and says so once.
func (s *Symbols) markDead(server string, err error) {
	s.net.mu.Lock()
	was := s.net.dead[server]
	s.net.dead[server] = true
	s.net.mu.Unlock()
	if !was {
		s.queue(SevWarning, false, "SYMSRV: %s did not answer; not asked again this session (%v)", server, err)
	}
}

// fromURL is one server tier of a lookup: the file from the cache's
// download, started now or earlier. It returns the file's path in the
// store, or "" (not there, failed, or still downloading: pend is set).
func (s *Symbols) fromURL(server, cache, name, index, rel string, validate func(string) bool) string {
	n := s.net
	if s.Offline {
		s.noisy("SYMSRV:  %s - offline (!sym online asks servers again)", server)
		return ""
	}
	if n.noNet {
		n.prov = true
		return ""
	}
	if s.isDead(server) {
		s.noisy("SYMSRV:  %s - not asked: it did not answer before", server)
		return ""
	}
	dst := filepath.Join(cache, rel)
	n.mu.Lock()
	j := n.jobs[dst]
	if j == nil {
		ctx, cancel := context.WithCancel(n.ctx)
		j = &job{done: make(chan struct{}), cancel: cancel}
		n.jobs[dst] = j
		n.wg.Add(1)
		url := strings.TrimRight(server, "/") + "/" + name + "/" + index + "/" + name
		go func() {
			defer n.wg.Done()
			defer close(j.done)
			defer cancel()
			j.path = s.fetchToStore(ctx, server, url, name, cache, dst, validate)
		}()
	}
	n.mu.Unlock()
	if !s.wait(j) {
		n.pend = true
		n.pendJobs = append(n.pendJobs, j)
		return ""
	}
	s.flush()
	return j.path
}

// wait waits for a download as the command allows: to its end (no
// Background, or .reload /f), else until the grace ends; a cancelled
// command cancels every download. It reports whether the download ended.
func (s *Symbols) wait(j *job) bool {
	n := s.net
	var cmdDone <-chan struct{}
	if n.cmd != nil {
		cmdDone = n.cmd.Done()
	}
	var timeout <-chan time.Time
	if n.noWait || (s.Background && !n.waitAll) {
		d := time.Until(n.deadline)
		if d <= 0 || n.noWait {
			select {
			case <-j.done:
				return true
			default:
				return false
			}
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-j.done:
		return true
	case <-timeout:
		return false
	case <-cmdDone:
		s.CancelDownloads()
		return false
	}
}

var (
	errNoAnswer   = errors.New("no answer")
	errSessionCap = errors.New("the session's download cap is reached")
)

// fetchToStore downloads url (else its compressed form) into a temporary
// file in the cache root, checks it, and moves it to dst, making dst's
// folders only then. It returns dst, or "" with nothing left behind.
func (s *Symbols) fetchToStore(ctx context.Context, server, url, name, cache, dst string, validate func(string) bool) string {
	select {
	case s.net.sem <- struct{}{}:
		defer func() { <-s.net.sem }()
	case <-ctx.Done():
		return ""
	}
	if s.isDead(server) {
		return ""
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		s.queue(SevWarning, true, "SYMSRV:  %s - %v", cache, err)
		return ""
	}
	f, err := os.CreateTemp(cache, name+".*.download")
	if err != nil {
		s.queue(SevWarning, true, "SYMSRV:  %s - %v", cache, err)
		return ""
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp) // a no-op once the file was moved
	fail := func(u string, err error) bool {
		if ctx.Err() != nil {
			return true // cancelled: nothing to say
		}
		s.queue(SevWarning, true, "SYMSRV:  %s - %v", u, err)
		switch {
		case errors.Is(err, errSessionCap):
			s.sayCap(name)
		case deadServer(err):
			s.markDead(server, err)
		default:
			return false
		}
		return true // no point in asking again
	}
	s.queue(SevWarning, true, "SYMSRV:  HTTPGET: %s", url)
	if err := s.download(ctx, url, name, tmp); err != nil {
		if fail(url, err) {
			return ""
		}
		// The compressed form: the last character becomes '_' (ntdll.pd_).
		cname := name[:len(name)-1] + "_"
		curl := url[:len(url)-1] + "_"
		ctmp := tmp + "_"
		defer os.Remove(ctmp)
		s.queue(SevWarning, true, "SYMSRV:  HTTPGET: %s", curl)
		if err := s.download(ctx, curl, cname, ctmp); err != nil {
			fail(curl, err)
			return ""
		}
		if err := s.unpack(ctmp, tmp); err != nil {
			if errors.Is(err, errSessionCap) {
				s.sayCap(cname)
			} else {
				s.queue(SevWarning, false, "*** WARNING: %s from %s could not be unpacked: %v", cname, server, err)
			}
			return ""
		}
		os.Remove(ctmp)
	}
	if ctx.Err() != nil {
		return ""
	}
	if !validate(tmp) {
		s.queue(SevWarning, false, "*** WARNING: %s from %s is corrupt or does not match; discarded", name, server)
		return ""
	}
	if err := placeInStore(cache, tmp, dst); err != nil {
		s.queue(SevWarning, true, "SYMSRV:  %s - %v", dst, err)
		return ""
	}
	return dst
}

// placeInStore moves a checked file to dst, making its folders; folders it
// made are removed again when the move fails.
func placeInStore(cache, tmp, dst string) error {
	var made []string
	for d := filepath.Dir(dst); d != cache && len(d) > len(cache); d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		made = append(made, d)
	}
	err := os.MkdirAll(filepath.Dir(dst), 0o755)
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		for _, d := range made {
			os.Remove(d) // only when empty
		}
	}
	return err
}

func (s *Symbols) sayCap(name string) {
	s.net.mu.Lock()
	said := s.net.capSaid
	s.net.capSaid = true
	s.net.mu.Unlock()
	if !said {
		s.queue(SevWarning, false, "SYMSRV: %s not downloaded: the session's download cap of %d MB is reached (!sym cap changes it)", name, s.sessionCap()>>20)
	}
}

// deadServer: a timeout, a refused or failed connection, a failed name
// lookup; not an HTTP status, not a cancel.
func deadServer(err error) bool {
	if errors.Is(err, errNoAnswer) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var de *net.DNSError
	return errors.As(err, &de)
}

func (s *Symbols) sessionCap() int64 {
	if s.SessionCap > 0 {
		return s.SessionCap
	}
	return DefaultSessionCap
}

func (s *Symbols) replyTimeout() time.Duration {
	if s.ReplyTimeout > 0 {
		return s.ReplyTimeout
	}
	return DefaultReplyTimeout
}

// reserve counts n bytes against the session's cap.
func (s *Symbols) reserve(n int64) error {
	if s.net.written.Add(n) > s.sessionCap() {
		s.net.written.Add(-n)
		return errSessionCap
	}
	return nil
}

// unpack extracts a downloaded cabinet into dst, within what the session
// may still write.
func (s *Symbols) unpack(src, dst string) error {
	left := s.sessionCap() - s.net.written.Load()
	if left <= 0 {
		return errSessionCap
	}
	n, err := unpackCab(src, dst, min(int64(maxDownload), left))
	s.net.written.Add(n)
	if err != nil && n >= left {
		return errSessionCap
	}
	return err
}

// download streams one file to dst (which it removes on any failure), with
// a progress bar when Progress is set. No answer within the reply timeout,
// or no data for as long between reads, ends it with errNoAnswer.
func (s *Symbols) download(parent context.Context, url, name, dst string) (err error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var idle atomic.Bool
	reply := s.replyTimeout()
	timer := time.AfterFunc(reply, func() { idle.Store(true); cancel() })
	defer timer.Stop()
	defer func() {
		if err != nil {
			os.Remove(dst)
			if idle.Load() && parent.Err() == nil {
				err = fmt.Errorf("%w in %v", errNoAnswer, reply)
			}
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > maxDownload {
		return fmt.Errorf("%d bytes is too large", resp.ContentLength)
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	var total int64
	chunk := make([]byte, 64<<10)
	last := time.Time{}
	for {
		timer.Reset(reply)
		n, rerr := resp.Body.Read(chunk)
		if n > 0 {
			if total+int64(n) > maxDownload {
				return fmt.Errorf("download exceeds %d bytes", maxDownload)
			}
			if err := s.reserve(int64(n)); err != nil {
				return err
			}
			if _, werr := out.Write(chunk[:n]); werr != nil {
				return werr
			}
			total += int64(n)
		}
		if s.Progress != nil && time.Since(last) > 100*time.Millisecond {
			last = time.Now()
			s.progress(name, total, max(resp.ContentLength, 0))
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if s.Progress != nil {
		s.progress(name, -1, 0)
	}
	return out.Close()
}

var progressMu sync.Mutex

func (s *Symbols) progress(name string, done, total int64) {
	progressMu.Lock()
	defer progressMu.Unlock()
	s.Progress(name, done, total)
}
