package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/commands"
	rd "github.com/ntdbg/ntdbg/internal/realdumps"
)

// Issue 13: JSON Lines output and the records' schemas.

type jsonObj struct {
	Command  string   `json:"command"`
	System   int      `json:"system"`
	Process  uint32   `json:"process"`
	Thread   int      `json:"thread"`
	Text     string   `json:"text"`
	Records  []jrec   `json:"records"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings"`
}

type jrec struct {
	Kind  string          `json:"kind"`
	Value json.RawMessage `json:"value"`
}

// jsonRun runs ntdbg -json on a script and parses its JSON Lines; every
// line must be one object with exactly the keys of JSONLine.
func jsonRun(t *testing.T, script string, args ...string) []jsonObj {
	t.Helper()
	t.Setenv("_NT_SYMBOL_PATH", "")
	t.Setenv("_NT_ALT_SYMBOL_PATH", "")
	t.Setenv("NTDBG_OFFLINE", "1")
	var out, errb bytes.Buffer
	if code := run(append([]string{"-json"}, args...), strings.NewReader(script), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	return parseJSONLines(t, out.String())
}

func parseJSONLines(t *testing.T, s string) []jsonObj {
	t.Helper()
	var objs []jsonObj
	for i, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &keys); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, l)
		}
		for _, k := range []string{"command", "system", "process", "thread", "text", "records", "errors", "warnings"} {
			if _, ok := keys[k]; !ok {
				t.Fatalf("line %d has no %q: %s", i+1, k, l)
			}
		}
		if len(keys) != 8 {
			t.Fatalf("line %d has %d keys: %s", i+1, len(keys), l)
		}
		var o jsonObj
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if o.Errors == nil || o.Warnings == nil {
			t.Fatalf("line %d: errors and warnings must be lists: %s", i+1, l)
		}
		objs = append(objs, o)
	}
	return objs
}

// TestRecordSchemaFiles: docs/schemas holds one schema per record kind,
// as RecordSchema builds it from the Go types (-update rewrites them).
func TestRecordSchemaFiles(t *testing.T) {
	files, _ := filepath.Glob("docs/schemas/*.schema.json")
	have := map[string]bool{}
	for _, f := range files {
		have[strings.TrimSuffix(filepath.Base(f), ".schema.json")] = true
	}
	for kind := range commands.RecordKinds {
		b, err := json.MarshalIndent(commands.RecordSchema(kind), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, '\n')
		path := filepath.Join("docs", "schemas", kind+".schema.json")
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s is out of date with the Go type of %q: run go test . -run TestRecordSchemaFiles -update", path, kind)
		}
		delete(have, kind)
	}
	if !*update {
		for k := range have {
			t.Errorf("docs/schemas/%s.schema.json names no record kind", k)
		}
	}
}

// validate checks v (decoded JSON) against the subset of JSON Schema the
// record schemas use: type (one or a list), required, properties,
// additionalProperties (false or a schema), items, pattern, minimum.
func validate(s map[string]any, v any, at string) []string {
	var errs []string
	if ty, ok := s["type"]; ok {
		var types []string
		switch x := ty.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, e := range x {
				types = append(types, e.(string))
			}
		}
		match := false
		for _, ty := range types {
			if jsonType(v, ty) {
				match = true
			}
		}
		if !match {
			return []string{fmt.Sprintf("%s: %v is not %v", at, v, types)}
		}
	}
	switch x := v.(type) {
	case string:
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(x) {
			errs = append(errs, fmt.Sprintf("%s: %q does not match %s", at, x, p))
		}
	case float64:
		if m, ok := s["minimum"].(float64); ok && x < m {
			errs = append(errs, fmt.Sprintf("%s: %v < %v", at, x, m))
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				errs = append(errs, validate(items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := x[r.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s: missing %s", at, r))
				}
			}
		}
		for k, e := range x {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, validate(ps, e, at+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					errs = append(errs, fmt.Sprintf("%s: unexpected property %s", at, k))
				}
			case map[string]any:
				errs = append(errs, validate(ap, e, at+"."+k)...)
			}
		}
	}
	return errs
}

func jsonType(v any, ty string) bool {
	switch ty {
	case "null":
		return v == nil
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "number":
		_, ok := v.(float64)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

func TestValidatorCatchesBadRecords(t *testing.T) {
	s := loadSchema(t, "frame")
	good := map[string]any{}
	json.Unmarshal([]byte(`{"thread":1,"frame":0,"child_sp":"0x10","child_ebp":null,"return_address":"0x1","instruction_pointer":"0x2","call_site":"a!b","module":"a","symbol":"a!b","offset":"0x3","source_file":null,"source_line":null,"trust":"context"}`), &good)
	if e := validate(s, good, "frame"); len(e) > 0 {
		t.Fatalf("a good frame fails: %v", e)
	}
	for _, bad := range []string{
		`{"thread":1}`, // missing fields
		`{"thread":"1","frame":0,"child_sp":"0x10","child_ebp":null,"return_address":"0x1","instruction_pointer":"0x2","call_site":"a!b","module":"a","symbol":"a!b","offset":"0x3","source_file":null,"source_line":null,"trust":"context"}`,
		`{"thread":1,"frame":0,"child_sp":"00000010","child_ebp":null,"return_address":"0x1","instruction_pointer":"0x2","call_site":"a!b","module":"a","symbol":"a!b","offset":"0x3","source_file":null,"source_line":null,"trust":"context"}`,
		`{"thread":1,"frame":0,"child_sp":"0x10","child_ebp":null,"return_address":"0x1","instruction_pointer":"0x2","call_site":"a!b","module":"a","symbol":"a!b","offset":"0x3","source_file":null,"source_line":null,"trust":"context","extra":1}`,
	} {
		var v any
		json.Unmarshal([]byte(bad), &v)
		if e := validate(s, v, "frame"); len(e) == 0 {
			t.Errorf("accepted %s", bad)
		}
	}
}

func loadSchema(t *testing.T, kind string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("docs", "schemas", kind+".schema.json"))
	if err != nil {
		t.Fatalf("no schema for record kind %q: %v", kind, err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// validateAll checks every record of objs against its kind's schema and
// counts the kinds.
func validateAll(t *testing.T, name string, objs []jsonObj, seen map[string]int) {
	t.Helper()
	schemas := map[string]map[string]any{}
	for _, o := range objs {
		if o.Records != nil && len(o.Records) == 0 {
			t.Errorf("%s: %q: an empty record list must be null", name, o.Command)
		}
		for i, r := range o.Records {
			s := schemas[r.Kind]
			if s == nil {
				s = loadSchema(t, r.Kind)
				schemas[r.Kind] = s
			}
			var v any
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatal(err)
			}
			for _, e := range validate(s, v, r.Kind) {
				if i < 1000 {
					t.Errorf("%s: %q record %d: %s", name, o.Command, i, e)
				}
			}
			seen[r.Kind]++
		}
	}
}

const userScript = "~\n~*k\n~20s\nk\nkc\nkv\nkb\nkf\nkcn 5\nlm\nlmv m ntdll\nr\nr rip, rsp\ndq @rsp L8\ndps @rsp L8\ndb @rsp L20\ndt ntdll!_PEB @$peb\ndt _RTL_CRITICAL_SECTION_DEBUG 0x00000092cfd20960\n!cs -l\n!cs -o 0x00000092cf31fb38\n!analyze -v -hang\nq\n"

// TestRecordsValidateOnTheScenarioDumps: every record the scenario and
// demo dumps give validates against its schema, and every kind is seen.
func TestRecordsValidateOnTheScenarioDumps(t *testing.T) {
	seen := map[string]int{}
	validateAll(t, "vmms", jsonRun(t, userScript, "-z", hypervDump, "-y", hypervSyms), seen)
	kobjs := jsonRun(t, "!process 0 0\n!process 0 2 vmms.exe\n!thread ffffe00069cdb880\n!stacks 2 FooDRV\n!ndiskd.miniports\n!ndiskd.minidriver\n!analyze -v\nq\n",
		"-z", hypervKernel, "-y", hypervSyms)
	validateAll(t, "kernel", kobjs, seen)
	// One minidriver in full and its handlers.
	var handle string
	for _, o := range kobjs {
		for _, r := range o.Records {
			if r.Kind == "ndis_minidriver" && handle == "" {
				var v struct{ Handle string }
				json.Unmarshal(r.Value, &v)
				handle = v.Handle
			}
		}
	}
	if handle != "" {
		validateAll(t, "kernel minidriver", jsonRun(t, "!ndiskd.minidriver "+handle+"\n!ndiskd.minidriver "+handle+" -handlers\nq\n",
			"-z", hypervKernel, "-y", hypervSyms), seen)
	}
	validateAll(t, "pair", jsonRun(t, "~23 !waitchain\n!waitchain -all\nq\n", "-z", hypervDump, "-z", hypervKernel, "-y", hypervSyms), seen)
	demos, _ := filepath.Glob("testdata/demo/*.dmp")
	for _, d := range demos {
		validateAll(t, d, jsonRun(t, "~\n~*kv\nlm\nr\ndd @esp L10\ndps @esp L8\n!cs\n!analyze -v\nq\n", "-z", d, "-y", "testdata/fixtures/bin"), seen)
	}
	for kind := range commands.RecordKinds {
		if seen[kind] == 0 {
			t.Errorf("no %s record on the scenario dumps", kind)
		}
	}
	var kinds []string
	for k, n := range seen {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("records: %s", strings.Join(kinds, " "))
}

// TestRecordsValidateOnRealDumps: the same on ../shared/realdumps.
func TestRecordsValidateOnRealDumps(t *testing.T) {
	seen := map[string]int{}
	for _, c := range []struct{ rel, script string }{
		{"lldb/sigsegv.dmp", "~\n~*k\nlm\nr\ndq @rsp L8\ndps @rsp L8\n!cs\n!analyze -v\nq\n"},
		{"breakpad/minidump2.dmp", "~\n~*k\nlm\nr\ndd @esp L8\n!analyze -v\nq\n"},
		{"breakpad/thread_name_list.dmp", "~\n~*kc\nlm\nq\n"},
		{"breakpad/tiny-exe-with-cet-xsave-x86.dmp", "~\n~*kv\nlm\nr\nq\n"},
		{"kernel/full-header-19045.dmp", "~\nk\nlm\nr\n!process 0 0\n!thread\n!stacks\n!analyze -v\nq\n"},
	} {
		p := filepath.Join(rd.Root(), c.rel)
		if _, err := os.Stat(p); err != nil {
			t.Logf("%s not present", c.rel)
			continue
		}
		var args []string
		if c.rel == "lldb/sigsegv.dmp" {
			args = []string{"-y", filepath.Join(rd.Root(), "lldb/sigsegv.pdb")}
		}
		validateAll(t, c.rel, jsonRun(t, c.script, append([]string{"-z", p}, args...)...), seen)
	}
	if len(seen) == 0 {
		t.Skip("../shared/realdumps is not present")
	}
	t.Logf("records: %v", seen)
}

var hexRe = regexp.MustCompile("^[0-9a-f`]+$")

func hexVal(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.ReplaceAll(s, "`", ""), "0x"), 16, 64)
	if err != nil {
		t.Fatalf("not hex: %q", s)
	}
	return v
}

// kAgrees checks that the text of a k command and its frame records
// agree frame for frame.
func kAgrees(t *testing.T, o jsonObj, x86 bool) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(o.Text, "\n"), "\n")
	var rows []string
	for _, l := range lines {
		if len(l) > 3 && hexRe.MatchString(l[:2]) && l[2] == ' ' {
			rows = append(rows, l)
		}
	}
	var frames []commands.FrameRecord
	for _, r := range o.Records {
		if r.Kind != "frame" {
			continue
		}
		var f commands.FrameRecord
		if err := json.Unmarshal(r.Value, &f); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	if len(rows) == 0 || len(rows) != len(frames) {
		t.Fatalf("%q: %d text rows, %d frame records\n%s", o.Command, len(rows), len(frames), o.Text)
	}
	clean := strings.HasPrefix(o.Command, "kc")
	for i, row := range rows {
		f := frames[i]
		fields := strings.Fields(row)
		if n := hexVal(t, fields[0]); int(n) != f.Frame || f.Frame != i || f.Thread != o.Thread {
			t.Errorf("%q row %d: frame %s, record frame %d thread %d (running on %d)", o.Command, i, fields[0], f.Frame, f.Thread, o.Thread)
		}
		site := strings.Join(fields[1:], " ")
		if !clean {
			sp := f.ChildSP
			if x86 {
				sp = *f.ChildEBP
			}
			if hexVal(t, fields[1]) != hexVal(t, sp) || hexVal(t, fields[2]) != hexVal(t, f.ReturnAddress) {
				t.Errorf("%q row %d: %s %s vs record %s %s", o.Command, i, fields[1], fields[2], sp, f.ReturnAddress)
			}
			site = strings.Join(fields[3:], " ")
		}
		if !strings.HasPrefix(site, f.CallSite) {
			t.Errorf("%q row %d: call site %q, record %q", o.Command, i, site, f.CallSite)
		}
		if f.Symbol != nil && !strings.HasPrefix(f.CallSite, *f.Symbol) {
			t.Errorf("%q row %d: symbol %q not in the call site %q", o.Command, i, *f.Symbol, f.CallSite)
		}
		if f.SourceFile != nil && !strings.Contains(row, fmt.Sprintf("[%s @ %d]", *f.SourceFile, *f.SourceLine)) && !strings.Contains(o.Command, "L") {
			t.Errorf("%q row %d: source %s:%d not in %q", o.Command, i, *f.SourceFile, *f.SourceLine, row)
		}
	}
}

func TestKTextAgreesWithJSON(t *testing.T) {
	objs := jsonRun(t, "~20s\nk\nkc\nkn\nq\n", "-z", hypervDump, "-y", hypervSyms)
	for _, o := range objs[2:4] {
		if o.Thread != 20 {
			t.Fatalf("%q ran on thread %d", o.Command, o.Thread)
		}
		kAgrees(t, o, false)
	}
	for _, d := range []string{"testdata/demo/x86.dmp", "testdata/demo/x86msvc.dmp"} {
		objs := jsonRun(t, "k\nkc\n~*k\nq\n", "-z", d, "-y", "testdata/fixtures/bin", "-lines")
		kAgrees(t, objs[1], true)
		kAgrees(t, objs[2], true)
	}
}

// TestJSONBatchTextIsExact: -json gives one object per command whose text
// is exactly what the text mode prints after the command's echo.
func TestJSONBatchTextIsExact(t *testing.T) {
	script := "~\n~20s\nkc 4\n!cs -l\nr rip\nlm m nt*\ndq @rsp L4\n!nosuch\nq\n"
	text, _ := transcript(t, hypervDump, script, "-y", hypervSyms)
	objs := jsonRun(t, script, "-z", hypervDump, "-y", hypervSyms)
	cmds := strings.Split(strings.TrimSuffix(script, "\n"), "\n")
	if len(objs) != len(cmds)+1 || objs[0].Command != "" {
		t.Fatalf("%d objects for %d commands and the banner", len(objs), len(cmds))
	}
	if !strings.HasPrefix(text, objs[0].Text) {
		t.Errorf("the banner object's text is not the text mode's banner:\n%s", objs[0].Text)
	}
	pos := len(objs[0].Text)
	for i, o := range objs[1:] {
		if o.Command != cmds[i] {
			t.Errorf("object %d: command %q, typed %q", i+1, o.Command, cmds[i])
		}
		// The text mode echoes the prompt and the command, then its text.
		nl := strings.IndexByte(text[pos:], '\n')
		if nl < 0 || !strings.HasSuffix(text[pos:pos+nl], "> "+o.Command) {
			t.Fatalf("text mode at %q, want the echo of %q", text[pos:min(len(text), pos+80)], o.Command)
		}
		pos += nl + 1
		if !strings.HasPrefix(text[pos:], o.Text) {
			t.Fatalf("%q: JSON text\n%q\ntext mode\n%q", o.Command, o.Text, text[pos:min(len(text), pos+len(o.Text)+40)])
		}
		pos += len(o.Text)
	}
	if pos != len(text) {
		t.Errorf("text mode has more: %q", text[pos:])
	}
	if e := objs[8].Errors; len(e) != 2 || !strings.Contains(e[1], "No export nosuch found") {
		// One Errorf line is "nosuch is not extension gallery command\nNo export nosuch found".
		if len(e) != 1 || !strings.Contains(e[0], "No export nosuch found") {
			t.Errorf("!nosuch errors: %q", e)
		}
	}
	if objs[1].Records == nil || objs[1].Records[0].Kind != "thread" || objs[2].Records != nil {
		t.Errorf("~ gives thread records, ~20s none: %+v %+v", objs[1].Records[:1], objs[2].Records)
	}
	if objs[3].Thread != 20 || objs[2].Thread != 0 {
		t.Errorf("threads: ~20s ran on %d, kc on %d", objs[2].Thread, objs[3].Thread)
	}
}

// TestJSONOnOff: .json on and .json off switch a session between text and
// JSON Lines; -c's commands are one object each.
func TestJSONOnOff(t *testing.T) {
	out, _ := transcript(t, hypervDump, "kc 2\n.json on\nkc 2\n.json off\nr rip\nq\n", "-y", hypervSyms)
	lines := strings.Split(out, "\n")
	var jl []string
	for _, l := range lines {
		if strings.HasPrefix(l, "{") {
			jl = append(jl, l)
		}
	}
	if len(jl) != 2 {
		t.Fatalf("%d JSON lines:\n%s", len(jl), out)
	}
	objs := parseJSONLines(t, strings.Join(jl, "\n")+"\n")
	if objs[0].Command != "kc 2" || objs[0].Records[0].Kind != "frame" || objs[1].Command != ".json off" || objs[1].Text != "JSON output is off\n" {
		t.Errorf("objects: %+v", objs)
	}
	if !strings.Contains(out, "0:000> .json on\nJSON output is on\n") || !strings.Contains(out, "0:000> r rip\nrip=") {
		t.Errorf("text around the JSON:\n%s", out)
	}
	if strings.Count(out, "\n00 ntdll!NtWaitForSingleObject\n") != 1 {
		t.Errorf("kc 2's text should appear once (the JSON one is escaped inside a string):\n%s", out)
	}
	// -c with ; runs one object per command.
	objs = jsonRun(t, "", "-z", hypervDump, "-y", hypervSyms, "-c", "~20s;kc 2;q")
	if len(objs) != 4 || objs[1].Command != "~20s" || objs[2].Command != "kc 2" || objs[2].Thread != 20 || objs[3].Command != "q" {
		t.Errorf("-c objects: %+v", objs)
	}
}

// TestLogOpenJSON: .logopen /j keeps a JSON Lines log beside the text log.
func TestLogOpenJSON(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "s.log")
	out, _ := transcript(t, hypervDump, ".logopen /j "+log+"\nkc 2\nlm m ntdll\n.logclose\nkc 1\nq\n", "-y", hypervSyms)
	if !strings.Contains(out, "Opened JSON log file '"+filepath.Join(dir, "s.jsonl")+"'") || !strings.Contains(out, "Closing open JSON log file") {
		t.Errorf("messages:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "s.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	objs := parseJSONLines(t, string(b))
	if len(objs) != 2 || objs[0].Command != "kc 2" || objs[1].Command != "lm m ntdll" || objs[1].Records[0].Kind != "module" {
		t.Fatalf("JSON log: %s", b)
	}
	txt, _ := os.ReadFile(log)
	if !strings.Contains(string(txt), "0:000> kc 2\n"+objs[0].Text) || !strings.Contains(out, objs[1].Text) {
		t.Errorf("the text log and the JSON log differ:\n%s", txt)
	}
}
