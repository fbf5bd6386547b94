package mcpserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/extensions/ndiskd"
)

// The end-to-end test runs `ntdbg mcp` as a subprocess — this test binary
// re-run with NTDBG_MCP_SERVE=1 calls Main as main.go does, with ntdbg's
// plug-ins and a test one whose commands panic or run until cancelled —
// and speaks newline-delimited JSON-RPC to it over its stdin and stdout.

func TestMain(m *testing.M) {
	if os.Getenv("NTDBG_MCP_SERVE") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr,
			[]func(*commands.Registry) error{ndiskd.Register, testPlugin}))
	}
	os.Exit(m.Run())
}

// testPlugin adds !mcptest.panic (a command that panics inside) and
// !mcptest.slow (prints a line every 10 ms for a minute).
func testPlugin(r *commands.Registry) error {
	return r.Add("mcptest",
		&commands.Command{Name: "panic", Syntax: "!mcptest.panic", Summary: "panic inside a command",
			Run: func(c *commands.Ctx, inv *commands.Invocation) error {
				var frames []int
				return fmt.Errorf("unreachable %d", frames[len(inv.Args)+1]) // an index out of range: a runtime panic
			}},
		&commands.Command{Name: "slow", Syntax: "!mcptest.slow", Summary: "run for a minute",
			Run: func(c *commands.Ctx, inv *commands.Invocation) error {
				for i := 0; i < 6000; i++ {
					c.Printf("line %d\n", i)
					time.Sleep(10 * time.Millisecond)
				}
				return nil
			}})
}

type rpcMsg struct {
	ID     *int64          `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type client struct {
	t     *testing.T
	cmd   *exec.Cmd
	in    io.WriteCloser
	mu    sync.Mutex
	next  int64
	waits map[int64]chan rpcMsg
}

func startServer(t *testing.T, args ...string) *client {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "NTDBG_MCP_SERVE=1", "NTDBG_OFFLINE=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, cmd: cmd, in: in, waits: map[int64]chan rpcMsg{}}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var m rpcMsg
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("server wrote a line that is not JSON: %q", sc.Text())
				continue
			}
			if m.ID == nil || m.Method != "" {
				continue // a notification or a request of the server's
			}
			c.mu.Lock()
			ch := c.waits[*m.ID]
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
		}
	}()
	t.Cleanup(func() {
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ntdbg mcp exited: %v", err)
			}
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Errorf("ntdbg mcp did not exit when its stdin closed")
		}
	})
	return c
}

func (c *client) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		c.t.Fatal(err)
	}
}

// send sends a request and returns its id and where its answer comes.
func (c *client) send(method string, params any) (int64, chan rpcMsg) {
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan rpcMsg, 1)
	c.waits[id] = ch
	c.mu.Unlock()
	c.write(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	return id, ch
}

func (c *client) wait(ch chan rpcMsg, what string) rpcMsg {
	c.t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		c.t.Fatalf("%s: no answer in 10 s", what)
		return rpcMsg{}
	}
}

func (c *client) call(method string, params any) rpcMsg {
	c.t.Helper()
	_, ch := c.send(method, params)
	return c.wait(ch, method)
}

// toolResult is a tools/call result.
type toolResult struct {
	Content []struct {
		Type, Text string
	} `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent"`
	IsError           bool            `json:"isError"`
}

// tool calls a tool and wants a result that is not an error.
func (c *client) tool(name string, args map[string]any, out any) toolResult {
	c.t.Helper()
	m := c.call("tools/call", map[string]any{"name": name, "arguments": args})
	if m.Error != nil {
		c.t.Fatalf("%s %v: JSON-RPC error %d %s", name, args, m.Error.Code, m.Error.Message)
	}
	var r toolResult
	if err := json.Unmarshal(m.Result, &r); err != nil {
		c.t.Fatal(err)
	}
	if r.IsError {
		c.t.Fatalf("%s %v: error result %+v", name, args, r.Content)
	}
	if out != nil {
		if err := json.Unmarshal(r.StructuredContent, out); err != nil {
			c.t.Fatalf("%s: structuredContent: %v", name, err)
		}
	}
	return r
}

// toolError calls a tool and wants a JSON-RPC error with code.
func (c *client) toolError(name string, args map[string]any, code int64, want string) {
	c.t.Helper()
	m := c.call("tools/call", map[string]any{"name": name, "arguments": args})
	if m.Error == nil {
		c.t.Fatalf("%s %v: want a JSON-RPC error, got %s", name, args, m.Result)
	}
	if m.Error.Code != code || !strings.Contains(m.Error.Message, want) {
		c.t.Fatalf("%s %v: error %d %q, want %d containing %q", name, args, m.Error.Code, m.Error.Message, code, want)
	}
}

func (c *client) initialize() {
	c.t.Helper()
	m := c.call("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "ntdbg-test", "version": "1"}})
	if m.Error != nil {
		c.t.Fatalf("initialize: %+v", m.Error)
	}
	var r struct {
		ServerInfo struct{ Name string } `json:"serverInfo"`
	}
	json.Unmarshal(m.Result, &r)
	if r.ServerInfo.Name != "ntdbg" {
		c.t.Fatalf("initialize: server %q, want ntdbg (%s)", r.ServerInfo.Name, m.Result)
	}
	c.write(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
}

// rest reads the pages after first and returns the whole text and records.
func (c *client) rest(first CommandResult) (string, []commands.Record, int) {
	c.t.Helper()
	text, recs, pages := first.Text, first.Records, 1
	for cur := first.NextCursor; cur != ""; {
		var next CommandResult
		c.tool("next_page", map[string]any{"cursor": cur}, &next)
		pages++
		if next.Page != pages || next.Command != first.Command {
			c.t.Fatalf("next_page: page %d of %q, want %d of %q", next.Page, next.Command, pages, first.Command)
		}
		text += next.Text
		recs = append(recs, next.Records...)
		cur = next.NextCursor
	}
	return text, recs, pages
}

func hasKind(recs []commands.Record, kind string) int {
	n := 0
	for _, r := range recs {
		if r.Kind == kind {
			n++
		}
	}
	return n
}

func TestMCPEndToEnd(t *testing.T) {
	testdata, err := filepath.Abs("../testdata")
	if err != nil {
		t.Fatal(err)
	}
	logDir := t.TempDir()
	c := startServer(t, "--root", testdata, "--root", logDir, "-y", filepath.Join(testdata, "scenarios/hyperv-hang/symbols"), "-page", "16384")
	c.initialize()

	// tools/list: the tools and their input schemas.
	m := c.call("tools/list", map[string]any{})
	var list struct {
		Tools []struct {
			Name         string
			InputSchema  map[string]any `json:"inputSchema"`
			OutputSchema map[string]any `json:"outputSchema"`
		}
	}
	if err := json.Unmarshal(m.Result, &list); err != nil {
		t.Fatal(err)
	}
	tools := map[string]map[string]any{}
	for _, tl := range list.Tools {
		tools[tl.Name] = tl.InputSchema
		if tl.Name == "run_command" {
			items, _ := tl.OutputSchema["properties"].(map[string]any)["records"].(map[string]any)["items"].(map[string]any)
			if alts, _ := items["anyOf"].([]any); len(alts) < len(commands.RecordKinds) {
				t.Errorf("run_command's records schema has %d alternatives, want one per record kind (%d) and one more", len(alts), len(commands.RecordKinds))
			}
		}
	}
	for name, want := range map[string][]string{
		"open_dump": {"path", "pair"}, "close_dump": {"session"}, "run_command": {"session", "command"},
		"next_page": {"cursor"}, "list_threads": {"session"}, "get_stack": {"session", "thread", "frames"},
		"analyze": {"session", "hang"}, "waitchain": {"session", "thread", "all"},
	} {
		s, ok := tools[name]
		if !ok {
			t.Errorf("tools/list has no %s", name)
			continue
		}
		props, _ := s["properties"].(map[string]any)
		for _, p := range want {
			if _, ok := props[p]; !ok {
				t.Errorf("%s: no input property %s in %v", name, p, s)
			}
		}
	}
	if len(tools) != 8 {
		t.Errorf("tools/list: %d tools, want 8", len(tools))
	}
	req := func(name string) string { b, _ := json.Marshal(tools[name]["required"]); return string(b) }
	if req("open_dump") != `["path"]` || req("run_command") != `["command"]` || req("next_page") != `["cursor"]` {
		t.Errorf("required: open_dump %s, run_command %s, next_page %s", req("open_dump"), req("run_command"), req("next_page"))
	}

	// open_dump: the user dump alone, then the pair.
	var user OpenDumpOut
	c.tool("open_dump", map[string]any{"path": "scenarios/hyperv-hang/vmms.dmp"}, &user)
	if len(user.Systems) != 1 || !strings.Contains(user.Banner, "Loading Dump File") {
		t.Fatalf("open_dump: %+v", user)
	}
	var pair OpenDumpOut
	c.tool("open_dump", map[string]any{"path": filepath.Join(testdata, "scenarios/hyperv-hang/vmms.dmp"),
		"pair": "scenarios/hyperv-hang/kernel.dmp"}, &pair)
	if len(pair.Systems) != 2 || pair.Session == user.Session || !strings.Contains(pair.Systems[1].Kind, "Kernel") {
		t.Fatalf("open_dump pair: %+v", pair.Systems)
	}

	// list_threads: 183 threads, as text and as records.
	var threads CommandResult
	c.tool("list_threads", map[string]any{"session": user.Session}, &threads)
	ttext, trecs, _ := c.rest(threads)
	if n := strings.Count(ttext, "Id: c08."); n != 183 {
		t.Errorf("list_threads: %d thread lines, want 183", n)
	}
	if n := hasKind(trecs, "thread"); n != 183 {
		t.Errorf("list_threads: %d thread records, want 183", n)
	}
	if threads.Prompt != "0:000> " {
		t.Errorf("list_threads ran at %q", threads.Prompt)
	}

	// get_stack: thread 20 is in NtDeviceIoControlFile.
	var stack CommandResult
	r := c.tool("get_stack", map[string]any{"session": user.Session, "thread": "20"}, &stack)
	if !strings.Contains(stack.Text, "ntdll!NtDeviceIoControlFile") || hasKind(stack.Records, "frame") == 0 {
		t.Errorf("get_stack: %q, %d frame records", stack.Text, hasKind(stack.Records, "frame"))
	}
	if r.Content[0].Text != stack.Text {
		t.Errorf("get_stack: content %q, text %q", r.Content[0].Text, stack.Text)
	}

	// run_command: several commands on one line, text and records.
	var regs CommandResult
	c.tool("run_command", map[string]any{"session": user.Session, "command": "~20s; r"}, &regs)
	if !strings.Contains(regs.Text, "rip=") || hasKind(regs.Records, "registers") == 0 || regs.Errors != nil {
		t.Errorf("run_command ~20s; r: %+v", regs)
	}

	// analyze and waitchain on the pair.
	var an CommandResult
	c.tool("analyze", map[string]any{"session": pair.Session, "hang": true}, &an)
	if !strings.Contains(an.Text, "BLOCKING_THREAD") || !strings.Contains(an.Text, "FooDRV") || hasKind(an.Records, "analysis_field") == 0 {
		t.Errorf("analyze -hang: %q", an.Text)
	}
	var wc CommandResult
	c.tool("waitchain", map[string]any{"session": pair.Session, "thread": "23"}, &wc)
	if !strings.Contains(wc.Text, "owned by thread ~20") || hasKind(wc.Records, "wait_chain") == 0 {
		t.Errorf("waitchain 23: %q", wc.Text)
	}
	var wall CommandResult
	c.tool("waitchain", map[string]any{"session": pair.Session, "all": true}, &wall)
	if wall.Command != "!waitchain -all" || !strings.Contains(wall.Text, "104") {
		t.Errorf("waitchain -all: %q", wall.Text)
	}

	// Paging: ~*kcn is longer than a page; the pages put back together are
	// the whole text and every record.
	var pg CommandResult
	c.tool("run_command", map[string]any{"session": user.Session, "command": "~*kcn"}, &pg)
	if pg.NextCursor == "" || pg.Page != 1 || len(pg.Text) > 16384 {
		t.Fatalf("~*kcn: page %d, %d bytes, cursor %q", pg.Page, len(pg.Text), pg.NextCursor)
	}
	text, recs, pages := c.rest(pg)
	if len(text) != pg.TextBytes || len(recs) != pg.RecordCount || strings.Count(text, "Id: c08.") != 183 {
		t.Errorf("~*kcn over %d pages: %d of %d bytes, %d of %d records, %d threads", pages, len(text), pg.TextBytes, len(recs), pg.RecordCount, strings.Count(text, "Id: c08."))
	}
	c.toolError("next_page", map[string]any{"cursor": pg.NextCursor + "x"}, -32602, "no pending result")

	// A log under a root is written; one outside the roots is refused.
	logFile := filepath.Join(logDir, "s.log")
	c.tool("run_command", map[string]any{"session": user.Session, "command": ".logopen /j " + logFile}, nil)
	c.tool("run_command", map[string]any{"session": user.Session, "command": "~0s; ~."}, nil)
	c.tool("run_command", map[string]any{"session": user.Session, "command": ".logclose"}, nil)
	if b, err := os.ReadFile(logFile); err != nil || !strings.Contains(string(b), "~0s; ~.") || !strings.Contains(string(b), "Id: c08.c0c") {
		t.Errorf("the log: %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(logDir, "s.jsonl")); err != nil || !strings.Contains(string(b), `"Id: c08.c0c`) && !strings.Contains(string(b), "c08.c0c") {
		t.Errorf("the JSON Lines log: %q, %v", b, err)
	}

	// Cancellation: a command that would run a minute stops when its
	// request is cancelled, and the session answers the next one.
	id, slow := c.send("tools/call", map[string]any{"name": "run_command", "arguments": map[string]any{"session": user.Session, "command": "!mcptest.slow"}})
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	c.write(map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": map[string]any{"requestId": id, "reason": "test"}})
	var after CommandResult
	c.tool("run_command", map[string]any{"session": user.Session, "command": "~."}, &after)
	t.Logf("the command after the cancelled one answered in %v", time.Since(start))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the command after a cancelled one waited %v", d)
	}
	if !strings.Contains(after.Text, "Id: c08.c0c") || after.Thread != 0 || after.Process != 0xc08 || after.System != 0 {
		t.Errorf("after the cancellation: %q", after.Text)
	}
	select {
	case m := <-slow:
		// The spec lets a server answer a cancelled request or not; a
		// complete minute of output it must not be.
		var r toolResult
		json.Unmarshal(m.Result, &r)
		if m.Error == nil && strings.Contains(string(r.StructuredContent), "line 5999") {
			t.Errorf("the cancelled command ran to its end")
		}
	default:
	}

	// Bad input: a JSON-RPC error each, and the server goes on.
	c.toolError("no_such_tool", map[string]any{}, -32602, "unknown tool")
	c.toolError("open_dump", map[string]any{"path": "scenarios/hyperv-hang/missing.dmp"}, -32602, "Could not open dump file")
	c.toolError("open_dump", map[string]any{"path": "../go.mod"}, -32602, "outside the roots")
	c.toolError("open_dump", map[string]any{"path": "/etc/passwd"}, -32602, "outside the roots")
	c.toolError("run_command", map[string]any{"session": user.Session, "command": ".logopen " + filepath.Join(testdata, "../x.log")}, -32602, "outside the roots")
	c.toolError("run_command", map[string]any{"session": user.Session, "command": ".opendump /etc/passwd"}, -32602, "outside the roots")
	c.toolError("run_command", map[string]any{"session": user.Session, "command": "$<../go.mod"}, -32602, "outside the roots")
	c.toolError("run_command", map[string]any{"session": user.Session, "command": ".sympath srv*/tmp/elsewhere*https://example.invalid"}, -32602, "outside the roots")
	c.toolError("run_command", map[string]any{"session": user.Session, "command": "!mcptest.panic"}, -32603, "internal error")
	c.toolError("run_command", map[string]any{"session": "99", "command": "~"}, -32602, "no session")
	c.toolError("get_stack", map[string]any{"session": user.Session, "thread": "1;q"}, -32602, "not a thread")
	if m := c.call("tools/call", map[string]any{"name": "run_command", "arguments": map[string]any{"command": 5}}); m.Error == nil {
		var r toolResult
		json.Unmarshal(m.Result, &r)
		if !r.IsError {
			t.Errorf("run_command with a number for command: %s", m.Result)
		}
	}
	if _, err := os.Stat(filepath.Join(testdata, "../x.log")); err == nil {
		t.Errorf("a refused log was written")
	}

	// Still serving: the sessions answer, and close.
	var last CommandResult
	c.tool("run_command", map[string]any{"session": user.Session, "command": "~20s; kc 1"}, &last)
	c.tool("run_command", map[string]any{"session": user.Session, "command": "kc 1"}, &last)
	if !strings.Contains(last.Text, "ntdll!NtDeviceIoControlFile") || last.Thread != 20 || last.Prompt != "0:020> " {
		t.Errorf("after the bad input: %q", last.Text)
	}
	c.tool("close_dump", map[string]any{"session": user.Session}, nil)
	c.toolError("list_threads", map[string]any{"session": user.Session}, -32602, "no session")
	c.tool("list_threads", map[string]any{}, nil) // the pair, opened last, is still open
	c.tool("close_dump", map[string]any{"session": pair.Session}, nil)
}
