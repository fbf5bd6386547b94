package main

import (
	"bufio"
	"encoding/json"
	"io"
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
