package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMCPSubcommand: `ntdbg mcp` (run's dispatch to mcpserver.Main, with
// ntdbg's plug-ins) answers initialize, lists its tools and runs a command
// on the bundled scenario's dump; it ends when stdin closes.
// mcpserver/e2e_test.go runs it as a subprocess through every tool.
func TestMCPSubcommand(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"mcp", "--root", "testdata", "-y", "testdata/scenarios/hyperv-hang/symbols"}, inR, outW, &stderr)
		outW.Close()
	}()
	lines := bufio.NewScanner(outR)
	lines.Buffer(nil, 16<<20)
	send := func(v string) {
		if _, err := io.WriteString(inW, v+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() map[string]any {
		if !lines.Scan() {
			t.Fatalf("no answer (stderr %q)", stderr.String())
		}
		var m map[string]any
		if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
			t.Fatalf("%q: %v", lines.Text(), err)
		}
		if m["error"] != nil {
			t.Fatalf("error: %v", m["error"])
		}
		return m["result"].(map[string]any)
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	recv()
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	var names []string
	for _, tl := range recv()["tools"].([]any) {
		names = append(names, tl.(map[string]any)["name"].(string))
	}
	if got := strings.Join(names, " "); got != "analyze close_dump get_stack list_threads next_page open_dump run_command waitchain" {
		t.Errorf("tools: %s", got)
	}
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"open_dump","arguments":{"path":"scenarios/hyperv-hang/kernel.dmp"}}}`)
	recv()
	send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"run_command","arguments":{"command":"!ndiskd.miniports"}}}`)
	res := recv()
	sc, _ := res["structuredContent"].(map[string]any)
	if text, _ := sc["text"].(string); !strings.Contains(text, "MiniDriver") || res["isError"] == true {
		t.Errorf("!ndiskd.miniports over MCP: %v", res)
	}
	inW.Close()
	if code := <-done; code != 0 {
		t.Errorf("ntdbg mcp exited %d: %s", code, stderr.String())
	}
}

// TestMCPBinary builds ntdbg and starts `ntdbg mcp` as the subprocess an
// MCP client would start (issue 13's acceptance), then speaks JSON-RPC over
// its stdio: initialize, tools/list, a tools/call, an unknown tool (a
// JSON-RPC error) and a call after it (the server keeps serving).
func TestMCPBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build ntdbg with")
	}
	bin := filepath.Join(t.TempDir(), "ntdbg")
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "mcp", "--root", "testdata", "-y", "testdata/scenarios/hyperv-hang/symbols")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 16<<20)
	send := func(v string) {
		if _, err := io.WriteString(stdin, v+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() map[string]any {
		if !lines.Scan() {
			t.Fatalf("no answer (stderr %q)", stderr.String())
		}
		var m map[string]any
		if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
			t.Fatalf("%q: %v", lines.Text(), err)
		}
		return m
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if m := recv(); m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if m := recv(); !strings.Contains(fmt.Sprint(m["result"]), "run_command") {
		t.Fatalf("tools/list: %v", m)
	}
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"open_dump","arguments":{"path":"scenarios/hyperv-hang/vmms.dmp"}}}`)
	if m := recv(); m["error"] != nil {
		t.Fatalf("open_dump: %v", m)
	}
	send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}`)
	if m := recv(); m["error"] == nil {
		t.Errorf("an unknown tool gave no JSON-RPC error: %v", m)
	}
	send(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_stack","arguments":{"thread":"20"}}}`)
	m := recv()
	if m["error"] != nil || !strings.Contains(fmt.Sprint(m["result"]), "ntdll!NtDeviceIoControlFile") {
		t.Errorf("get_stack after an error: %v", m)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("ntdbg mcp: %v (%s)", err, stderr.String())
	}
}
