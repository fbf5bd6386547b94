// Package mcpserver is `ntdbg mcp`: a Model Context Protocol server over
// stdio (the official Go SDK) whose tools open dumps and run debugger
// commands, returning each command's WinDbg text with its records
// (commands.Ctx.Capture). Long output is paged with a cursor; an MCP
// cancellation stops the running command as Ctrl-C does. The server opens
// and writes files only under the roots it was given.
package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/extensions"
	"github.com/ntdbg/ntdbg/repl"
)

// DefaultPageSize is how many bytes of text (and of records' JSON) one
// page of a command's result holds.
const DefaultPageSize = 64 << 10

// maxPending bounds the results kept for next_page (the oldest go first).
const maxPending = 32

// Options configure a server.
type Options struct {
	// Roots are the directories dumps, scripts and logs may be under
	// (none: the current directory).
	Roots      []string
	SymbolPath string
	ImagePath  string
	Offline    bool // no symbol server is asked
	// Plugins are the extensions each session's registry gets.
	Plugins []func(*commands.Registry) error
	// PageSize bounds one page (0: DefaultPageSize).
	PageSize int
}

// Main is `ntdbg mcp [--root dir]... [-y sympath] [-i imagepath]`: it serves
// MCP on stdin/stdout until the client closes stdin.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, plugins []func(*commands.Registry) error) int {
	flags := flag.NewFlagSet("ntdbg mcp", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var roots multi
	flags.Var(&roots, "root", "a `directory` whose dumps, scripts and logs the server may open and write (repeatable; default the current directory)")
	sym := flags.String("y", "", "symbol search `path` (default _NT_ALT_SYMBOL_PATH;_NT_SYMBOL_PATH)")
	img := flags.String("i", "", "executable image search `path`")
	page := flags.Int("page", DefaultPageSize, "page size in `bytes` for long command output")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: ntdbg mcp [--root dir]... [-y sympath] [-i imagepath]")
		fmt.Fprintln(stderr, "Serves the Model Context Protocol on stdin/stdout (e.g. claude mcp add ntdbg -- ntdbg mcp --root /path/to/dumps).")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "ntdbg mcp: unexpected argument %q\n", flags.Arg(0))
		return 2
	}
	symPath, imgPath := symbols.PathsFromFlags(*sym, *img)
	s, err := New(Options{Roots: roots, SymbolPath: symPath, ImagePath: imgPath, Plugins: plugins,
		Offline: os.Getenv("NTDBG_OFFLINE") == "1", PageSize: *page})
	if err != nil {
		fmt.Fprintf(stderr, "ntdbg mcp: %v\n", err)
		return 2
	}
	defer s.Close()
	t := &mcp.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{stdout}}
	if err := s.mcp.Run(context.Background(), t); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "ntdbg mcp: %v\n", err)
		return 1
	}
	return 0
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// switchWriter is a session's Stdout: the banner's buffer, then nothing.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *switchWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *switchWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// Server is one MCP server: its open sessions and pending pages.
type Server struct {
	opts  Options
	fence *fence
	mcp   *mcp.Server

	mu       sync.Mutex
	sessions map[string]*session
	last     string // the session a call without one uses
	nextID   int
	pending  map[string]*pending
	order    []string // pending cursors, oldest first
	nextCur  int
}

// New builds a server; Serve or Main runs it.
func New(opts Options) (*Server, error) {
	if len(opts.Roots) == 0 {
		opts.Roots = []string{"."}
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	f, err := newFence(opts.Roots, opts.SymbolPath)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, fence: f, sessions: map[string]*session{}, pending: map[string]*pending{}}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "ntdbg", Title: "ntdbg: a WinDbg-compatible debugger for Windows dumps", Version: commands.Version},
		&mcp.ServerOptions{Instructions: instructions})
	if _, err := extensions.Registry(opts.Plugins...); err != nil {
		return nil, err
	}
	if err := s.addTools(); err != nil {
		return nil, err
	}
	return s, nil
}

const instructions = "ntdbg reads Windows crash and hang dumps with WinDbg's commands. " +
	"Open a dump with open_dump (a user dump and the same host's kernel dump together with pair), " +
	"then run any WinDbg command with run_command (~ threads, kcn stacks, lm, !cs -l, dt, !process, !thread, ...); " +
	"list_threads, get_stack, analyze and waitchain are shortcuts. Each result has the command's text exactly as WinDbg " +
	"prints it, its records (typed data) and its errors; long output comes in pages: pass next_cursor to next_page."

// Serve runs the server on a transport until the client disconnects.
func (s *Server) Serve(ctx context.Context, t mcp.Transport) error { return s.mcp.Run(ctx, t) }

// Close ends every session.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ss := range s.sessions {
		ss.close()
		delete(s.sessions, id)
	}
}

// session is one opened dump (or pair) with its debugger session.
type session struct {
	id      string
	sem     chan struct{} // one command at a time
	rs      *repl.Session
	host    *fencedHost
	targets []target.Target
	systems []SystemInfo
}

func (ss *session) close() {
	ss.rs.Close()
	for _, t := range ss.targets {
		t.Close()
	}
}

// lock waits for the session's turn; a cancelled request stops waiting.
func (ss *session) lock(ctx context.Context) error {
	select {
	case ss.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (ss *session) unlock() { <-ss.sem }

// fencedHost is the session's Host with file access confined to the
// server's roots (commands.FileGuard); it records what it refused.
type fencedHost struct {
	*repl.Session
	fence   *fence
	refused []string
}

func (h *fencedHost) CheckFile(op, path string) error {
	if err := h.fence.check(op, path); err != nil {
		h.refused = append(h.refused, err.Error())
		return err
	}
	return nil
}

func (h *fencedHost) OpenLog(path string, appendMode bool) (string, error) {
	if err := h.CheckFile("write", path); err != nil {
		return "", err
	}
	return h.Session.OpenLog(path, appendMode)
}

func (h *fencedHost) OpenJSONLog(path string, appendMode bool) (string, error) {
	if err := h.CheckFile("write", path); err != nil {
		return "", err
	}
	return h.Session.OpenJSONLog(path, appendMode)
}

// Quit: `q` does not end an MCP session (close_dump does).
func (h *fencedHost) Quit() {}

// ---- tool inputs and outputs ----

type OpenDumpIn struct {
	Path string `json:"path" jsonschema:"the dump file (a user-mode minidump or a 64-bit kernel dump), under one of the server's roots; a relative path is taken from the first root"`
	Pair string `json:"pair,omitempty" jsonschema:"a second dump of the same host (the kernel dump for a user dump, or the other way round): opened as system 1 of the same session, so !correlate, !waitchain and !analyze -hang see both"`
}

type SystemInfo struct {
	System int    `json:"system" jsonschema:"the system's index (||N s makes it current)"`
	Path   string `json:"path"`
	Kind   string `json:"kind" jsonschema:"what the dump is, as the banner says"`
}

type OpenDumpOut struct {
	Session string       `json:"session" jsonschema:"the session's id, for the other tools"`
	Systems []SystemInfo `json:"systems"`
	Banner  string       `json:"banner" jsonschema:"what the debugger printed on opening the dump(s)"`
}

type CloseDumpIn struct {
	Session string `json:"session" jsonschema:"the session to close"`
}

type CloseDumpOut struct {
	Closed string `json:"closed"`
}

type SessionArg struct {
	Session string `json:"session,omitempty" jsonschema:"the session from open_dump (default: the one opened last)"`
}

type RunCommandIn struct {
	Session string `json:"session,omitempty" jsonschema:"the session from open_dump (default: the one opened last)"`
	Command string `json:"command" jsonschema:"a WinDbg command line, as typed at the prompt (several commands separated by ;)"`
}

type NextPageIn struct {
	Cursor string `json:"cursor" jsonschema:"next_cursor from the previous page"`
}

type GetStackIn struct {
	Session string `json:"session,omitempty" jsonschema:"the session from open_dump (default: the one opened last)"`
	Thread  string `json:"thread,omitempty" jsonschema:"user dump: a thread index (20), . or # (default the current thread); kernel dump: an ETHREAD address, which becomes the current thread (.thread)"`
	Frames  int    `json:"frames,omitempty" jsonschema:"how many frames (default k's, 256)"`
}

type AnalyzeIn struct {
	Session string `json:"session,omitempty" jsonschema:"the session from open_dump (default: the one opened last)"`
	Hang    bool   `json:"hang,omitempty" jsonschema:"analyze a hang (!analyze -v -hang): the blocking thread, its wait chain and the probable cause"`
}

type WaitChainIn struct {
	Session string `json:"session,omitempty" jsonschema:"the session from open_dump (default: the one opened last)"`
	Thread  string `json:"thread,omitempty" jsonschema:"a thread index of the user dump (default the current thread)"`
	All     bool   `json:"all,omitempty" jsonschema:"every blocked thread, grouped by their shared chain (!waitchain -all)"`
}

// CommandResult is one page of a command's output: its text exactly as
// WinDbg prints it, its records (commands.Record: kind and value), and its
// errors and warnings.
type CommandResult struct {
	Session  string            `json:"session"`
	Command  string            `json:"command" jsonschema:"the command line as run"`
	Prompt   string            `json:"prompt" jsonschema:"the prompt the command ran at (0:020> or 0: kd>)"`
	System   int               `json:"system" jsonschema:"the current system (dump) when the command started (||)"`
	Process  uint32            `json:"process" jsonschema:"the current process id then"`
	Thread   int               `json:"thread" jsonschema:"the current thread index then (~N cmd runs cmd on thread N)"`
	Text     string            `json:"text" jsonschema:"this page's text"`
	Records  []commands.Record `json:"records" jsonschema:"this page's records: {kind, value}; null when the command attaches none"`
	Errors   []string          `json:"errors" jsonschema:"the command's error lines (first page only)"`
	Warnings []string          `json:"warnings" jsonschema:"the command's warning lines (first page only)"`
	// Paging.
	Page        int    `json:"page" jsonschema:"this page's number, from 1"`
	NextCursor  string `json:"next_cursor,omitempty" jsonschema:"set when more output follows: pass it to next_page"`
	TextBytes   int    `json:"text_bytes" jsonschema:"the whole text's size in bytes"`
	RecordCount int    `json:"record_count" jsonschema:"how many records the whole result has"`
}

// pending is the rest of a paged result.
type pending struct {
	res  CommandResult // the fields every page repeats
	text string
	recs []commands.Record
	page int
}

// ---- tools ----

func (s *Server) addTools() error {
	rs, err := resultSchema()
	if err != nil {
		return err
	}
	cmd := func(name, desc string) *mcp.Tool { return &mcp.Tool{Name: name, Description: desc, OutputSchema: rs} }
	mcp.AddTool(s.mcp, &mcp.Tool{Name: "open_dump", Description: "Open a Windows crash or hang dump (or a pair: a user dump and the same host's kernel dump) and start a debugger session on it."}, s.openDump)
	mcp.AddTool(s.mcp, &mcp.Tool{Name: "close_dump", Description: "Close a session and its dumps."}, s.closeDump)
	mcp.AddTool(s.mcp, cmd("run_command", "Run a WinDbg command line in a session; returns its text, records, errors and warnings (long output: the first page and next_cursor)."), s.runCommand)
	mcp.AddTool(s.mcp, cmd("next_page", "The next page of a long result (cursor: next_cursor of the previous page)."), s.nextPage)
	mcp.AddTool(s.mcp, cmd("list_threads", "List the threads of the current process (~); records of kind thread."), s.listThreads)
	mcp.AddTool(s.mcp, cmd("get_stack", "A thread's call stack (kn; in a user dump ~N kn); records of kind frame."), s.getStack)
	mcp.AddTool(s.mcp, cmd("analyze", "Run !analyze -v (with hang: !analyze -v -hang); records of kind analysis_field."), s.analyze)
	mcp.AddTool(s.mcp, cmd("waitchain", "Follow a blocked thread's chain of waits to its end (!waitchain; all: every blocked thread, grouped); records of kind wait_chain."), s.waitchain)
	return nil
}

func invalid(format string, args ...any) error {
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf(format, args...)}
}

func (s *Server) openDump(ctx context.Context, _ *mcp.CallToolRequest, in OpenDumpIn) (*mcp.CallToolResult, OpenDumpOut, error) {
	var out OpenDumpOut
	if strings.TrimSpace(in.Path) == "" {
		return nil, out, invalid("open_dump: path is required")
	}
	paths := []string{in.Path}
	if in.Pair != "" {
		paths = append(paths, in.Pair)
	}
	var targets []target.Target
	fail := func(err error) (*mcp.CallToolResult, OpenDumpOut, error) {
		for _, t := range targets {
			t.Close()
		}
		return nil, out, err
	}
	var resolved []string
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(s.fence.roots[0], p)
		}
		abs, ok := s.fence.inRoots(p)
		if !ok {
			return fail(invalid("open_dump: %v", s.fence.outside(p)))
		}
		t, err := engine.Open(abs, engine.Options{})
		if err != nil {
			return fail(invalid("open_dump: %v", err))
		}
		targets = append(targets, t)
		resolved = append(resolved, abs)
	}
	reg, err := extensions.Registry(s.opts.Plugins...)
	if err != nil {
		return fail(&jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: err.Error()})
	}
	var banner strings.Builder
	stdout := &switchWriter{w: &banner}
	var more []repl.Dump
	for i, t := range targets[1:] {
		more = append(more, repl.Dump{Path: resolved[i+1], Target: t})
	}
	rs := repl.New(repl.Options{Registry: reg, DumpPath: resolved[0], Target: targets[0],
		SymbolPath: s.opts.SymbolPath, ImagePath: s.opts.ImagePath, Stdin: strings.NewReader(""), Stdout: stdout,
		Offline: s.opts.Offline, More: more})
	host := &fencedHost{Session: rs, fence: s.fence}
	rs.Ctx().Host = host
	rs.Start()
	stdout.set(io.Discard) // commands' text reaches the client (and a log), not a terminal
	ss := &session{sem: make(chan struct{}, 1), rs: rs, host: host, targets: targets}
	for i, t := range targets {
		ss.systems = append(ss.systems, SystemInfo{System: i, Path: resolved[i], Kind: commands.DumpKindLine(t)})
	}
	s.mu.Lock()
	s.nextID++
	ss.id = strconv.Itoa(s.nextID)
	s.sessions[ss.id] = ss
	s.last = ss.id
	s.mu.Unlock()
	out = OpenDumpOut{Session: ss.id, Systems: ss.systems, Banner: banner.String()}
	text := fmt.Sprintf("session %s\n%s", ss.id, out.Banner)
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, out, nil
}

func (s *Server) closeDump(ctx context.Context, _ *mcp.CallToolRequest, in CloseDumpIn) (*mcp.CallToolResult, CloseDumpOut, error) {
	s.mu.Lock()
	ss, ok := s.sessions[in.Session]
	if ok {
		delete(s.sessions, in.Session)
		if s.last == in.Session {
			s.last = ""
		}
	}
	s.mu.Unlock()
	if !ok {
		return nil, CloseDumpOut{}, invalid("close_dump: no session %q", in.Session)
	}
	if err := ss.lock(ctx); err != nil {
		return nil, CloseDumpOut{}, err
	}
	defer ss.unlock()
	ss.close()
	return nil, CloseDumpOut{Closed: in.Session}, nil
}

func (s *Server) session(id string) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		id = s.last
		if id == "" {
			return nil, invalid("no dump is open: call open_dump first")
		}
	}
	ss, ok := s.sessions[id]
	if !ok {
		return nil, invalid("no session %q (open_dump returns one)", id)
	}
	return ss, nil
}

// run runs one command line in a session and returns its first page.
func (s *Server) run(ctx context.Context, id, line string) (*mcp.CallToolResult, CommandResult, error) {
	ss, err := s.session(id)
	if err != nil {
		return nil, CommandResult{}, err
	}
	if err := ss.lock(ctx); err != nil {
		return nil, CommandResult{}, err
	}
	prompt, where := ss.rs.Prompt(), ss.rs.Ctx().Where()
	ss.host.refused = nil
	c, err := ss.rs.RunCaptured(ctx, line)
	refused := ss.host.refused
	ss.unlock()
	if len(refused) > 0 {
		return nil, CommandResult{}, invalid("%s", strings.Join(refused, "; "))
	}
	for _, e := range c.Errors {
		if strings.HasPrefix(e, "ntdbg: internal error") {
			data, _ := json.Marshal(c)
			return nil, CommandResult{}, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: e, Data: data}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, CommandResult{}, err
	}
	if err == commands.ErrQuit {
		c.Warnings = append(c.Warnings, "q does not end an MCP session (close_dump does)")
	}
	p := &pending{res: CommandResult{Session: ss.id, Command: line, Prompt: prompt,
		System: where.System, Process: where.Process, Thread: where.Thread,
		TextBytes: len(c.Text), RecordCount: len(c.Records)}, text: c.Text, recs: c.Records}
	first := s.page(p)
	first.Errors, first.Warnings = c.Errors, c.Warnings
	return s.result(first), first, nil
}

// page takes the next page off p; it keeps p for next_page when more
// follows.
func (s *Server) page(p *pending) CommandResult {
	limit := s.opts.PageSize
	r := p.res
	p.page++
	r.Page = p.page
	// Text: up to limit bytes, cut after a line when one ends in the
	// second half, never inside a UTF-8 sequence.
	n := len(p.text)
	if n > limit {
		n = limit
		if i := strings.LastIndexByte(p.text[:n], '\n'); i >= limit/2 {
			n = i + 1
		}
		for n > 0 && !utf8.RuneStart(p.text[n]) {
			n--
		}
	}
	r.Text, p.text = p.text[:n], p.text[n:]
	// Records: up to limit bytes of JSON (at least one per page).
	size := 0
	k := 0
	for k < len(p.recs) {
		b, _ := json.Marshal(p.recs[k])
		if k > 0 && size+len(b) > limit {
			break
		}
		size += len(b)
		k++
	}
	if k > 0 {
		r.Records, p.recs = p.recs[:k], p.recs[k:]
	}
	if p.text != "" || len(p.recs) > 0 {
		s.mu.Lock()
		s.nextCur++
		cur := fmt.Sprintf("%s.%d", p.res.Session, s.nextCur)
		s.pending[cur] = p
		s.order = append(s.order, cur)
		for len(s.order) > maxPending {
			delete(s.pending, s.order[0])
			s.order = s.order[1:]
		}
		s.mu.Unlock()
		r.NextCursor = cur
	}
	return r
}

// result is the tool result's content: the page's text for the reader,
// then its records as JSON; structuredContent has the whole page.
func (s *Server) result(r CommandResult) *mcp.CallToolResult {
	text := r.Text
	if r.NextCursor != "" {
		text += fmt.Sprintf("\n[page %d; more follows: next_page with cursor %q]\n", r.Page, r.NextCursor)
	}
	content := []mcp.Content{&mcp.TextContent{Text: text}}
	if len(r.Records) > 0 {
		if b, err := json.Marshal(r.Records); err == nil {
			content = append(content, &mcp.TextContent{Text: string(b)})
		}
	}
	return &mcp.CallToolResult{Content: content}
}

func (s *Server) runCommand(ctx context.Context, _ *mcp.CallToolRequest, in RunCommandIn) (*mcp.CallToolResult, CommandResult, error) {
	if strings.TrimSpace(in.Command) == "" {
		return nil, CommandResult{}, invalid("run_command: command is required")
	}
	return s.run(ctx, in.Session, in.Command)
}

func (s *Server) nextPage(ctx context.Context, _ *mcp.CallToolRequest, in NextPageIn) (*mcp.CallToolResult, CommandResult, error) {
	s.mu.Lock()
	p, ok := s.pending[in.Cursor]
	if ok {
		delete(s.pending, in.Cursor)
		for i, c := range s.order {
			if c == in.Cursor {
				s.order = append(s.order[:i:i], s.order[i+1:]...)
				break
			}
		}
	}
	s.mu.Unlock()
	if !ok {
		return nil, CommandResult{}, invalid("next_page: no pending result for cursor %q (it was read, or is too old)", in.Cursor)
	}
	r := s.page(p)
	return s.result(r), r, nil
}

func (s *Server) listThreads(ctx context.Context, _ *mcp.CallToolRequest, in SessionArg) (*mcp.CallToolResult, CommandResult, error) {
	return s.run(ctx, in.Session, "~")
}

// threadArg is what a thread argument may be: an index, . or #, or an
// address.
var threadArg = regexp.MustCompile("^(?:[.#]|[0-9]+|(?:0x)?[0-9a-fA-F`]+)$")

func (s *Server) getStack(ctx context.Context, _ *mcp.CallToolRequest, in GetStackIn) (*mcp.CallToolResult, CommandResult, error) {
	ss, err := s.session(in.Session)
	if err != nil {
		return nil, CommandResult{}, err
	}
	if in.Thread != "" && !threadArg.MatchString(in.Thread) {
		return nil, CommandResult{}, invalid("get_stack: thread %q is not a thread index, . , # or an address", in.Thread)
	}
	if in.Frames < 0 {
		return nil, CommandResult{}, invalid("get_stack: frames must be positive")
	}
	k := "kn"
	if in.Frames > 0 {
		k += fmt.Sprintf(" 0n%d", in.Frames)
	}
	line := k
	if in.Thread != "" {
		if strings.Contains(ss.rs.Prompt(), "kd>") {
			line = ".thread " + in.Thread + ";" + k
		} else {
			line = "~" + in.Thread + " " + k
		}
	}
	return s.run(ctx, ss.id, line)
}

func (s *Server) analyze(ctx context.Context, _ *mcp.CallToolRequest, in AnalyzeIn) (*mcp.CallToolResult, CommandResult, error) {
	line := "!analyze -v"
	if in.Hang {
		line += " -hang"
	}
	return s.run(ctx, in.Session, line)
}

func (s *Server) waitchain(ctx context.Context, _ *mcp.CallToolRequest, in WaitChainIn) (*mcp.CallToolResult, CommandResult, error) {
	if in.Thread != "" && !threadArg.MatchString(in.Thread) {
		return nil, CommandResult{}, invalid("waitchain: thread %q is not a thread index", in.Thread)
	}
	line := "!waitchain"
	if in.All {
		line += " -all"
	} else if in.Thread != "" {
		line = "~" + in.Thread + " " + line
	}
	return s.run(ctx, in.Session, line)
}
