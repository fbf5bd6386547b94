package commands

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const (
	csWait = "ntdll!RtlpWaitOnCriticalSection"
)

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

// threadsWith lists the threads whose `~*kc` stack has a frame named exactly
// name: an independent count through the ~* prefix and kc.
func threadsWith(t *testing.T, c *Ctx, out *bytes.Buffer, name string) []int {
	t.Helper()
	var got []int
	cur := -1
	head := regexp.MustCompile(`^[ .#]\s*(\d+)  Id: `)
	for _, l := range lines(run(t, c, out, "~*kc")) {
		if m := head.FindStringSubmatch(l); m != nil {
			cur, _ = strconv.Atoi(m[1])
			continue
		}
		if f := strings.Fields(l); len(f) == 2 && f[1] == name && (len(got) == 0 || got[len(got)-1] != cur) {
			got = append(got, cur)
		}
	}
	return got
}

// The row layout of !runaway against the reference sample (windbg-reference.md
// §3.22: `    4:29f8     0 days 0:00:47.687` under `  Thread       Time`), and
// the column it keeps for wide indices and thread ids.
func TestRunawayRowLayout(t *testing.T) {
	if got, want := runawayRow(4, 0x29f8, 476_870_000), "    4:29f8     0 days 0:00:47.687"; got != want {
		t.Errorf("row:\n got %q\nwant %q", got, want)
	}
	if got, want := runawayRow(0, 0x26a8, 150_000), "    0:26a8     0 days 0:00:00.015"; got != want {
		t.Errorf("row:\n got %q\nwant %q", got, want)
	}
	header := "  Thread       Time"
	col := strings.Index(header, "Time")
	for _, tc := range []struct {
		idx int
		tid uint32
	}{{182, 0xc0c}, {99, 0x12345678}, {7, 0x1}, {12345, 0xffffffff}} {
		r := runawayRow(tc.idx, tc.tid, 0)
		if r[col-1] != ' ' || r[col] != '0' || strings.TrimRight(r[:col], " ") != fmt.Sprintf("%5d:%x", tc.idx, tc.tid) {
			t.Errorf("time does not start in column %d: %q", col, r)
		}
	}
	if got := runawayRow(7, 0x1, 864_000_000_000+10_000); got != "    7:1        1 days 0:00:00.001" {
		t.Errorf("a day: %q", got)
	}
}

var runawayRe = regexp.MustCompile(`^ {0,4}(\d+):([0-9a-f]+) +(\d+) days (\d+):(\d\d):(\d\d)\.(\d\d\d)$`)

func TestRunawayHyperV(t *testing.T) {
	c, out, tg := hypervCtx(t, nil)
	// What the dump says, read from the target, not through the command.
	type times struct {
		tid              uint32
		user, kern, elap int64 // ms
	}
	want := map[int]times{}
	session := tg.System().SessionTime.Unix()
	for _, th := range tg.Threads() {
		if th.Info == nil {
			t.Fatalf("thread %d has no ThreadInfo", th.Index)
		}
		// FILETIME: 100ns ticks since 1601; 11644473600 s separate 1601 from 1970.
		elapsedMs := (int64(session+11644473600)*10_000_000 - int64(th.Info.CreateTime)) / 10_000
		want[th.Index] = times{th.ID, int64(th.Info.UserTime / 10_000), int64(th.Info.KernelTime / 10_000), elapsedMs}
	}
	if len(want) != 183 {
		t.Fatalf("%d threads, want 183", len(want))
	}
	got := run(t, c, out, "!runaway 7")
	ls := lines(got)
	titles := []string{" User Mode Time", " Kernel Mode Time", " Elapsed Time"}
	if len(ls) != 3*(2+183) {
		t.Fatalf("!runaway 7: %d lines, want %d:\n%s", len(ls), 3*185, got)
	}
	for s, title := range titles {
		sec := ls[s*185 : (s+1)*185]
		if sec[0] != title || sec[1] != "  Thread       Time" {
			t.Errorf("section %d starts %q / %q", s, sec[0], sec[1])
		}
		seen := map[int]bool{}
		prev := int64(1 << 62)
		prevIdx := -1
		for _, r := range sec[2:] {
			m := runawayRe.FindStringSubmatch(r)
			if m == nil || len(r) < 16 || r[14] != ' ' {
				t.Fatalf("%s: bad row %q", title, r)
			}
			idx, _ := strconv.Atoi(m[1])
			tid, _ := strconv.ParseUint(m[2], 16, 32)
			var p [5]int64
			for k := range p {
				p[k], _ = strconv.ParseInt(m[3+k], 10, 64)
			}
			v := (((p[0]*24+p[1])*60+p[2])*60+p[3])*1000 + p[4]
			w := want[idx]
			if uint32(tid) != w.tid || seen[idx] {
				t.Errorf("%s: row %q: thread %d is %x (seen %v)", title, r, idx, w.tid, seen[idx])
			}
			seen[idx] = true
			exp := [3]int64{w.user, w.kern, w.elap}[s]
			if v != exp {
				t.Errorf("%s: thread %d shows %d ms, the dump says %d", title, idx, v, exp)
			}
			if v > prev || (v == prev && idx < prevIdx) {
				t.Errorf("%s: %q is out of order", title, r)
			}
			prev, prevIdx = v, idx
		}
		if len(seen) != 183 {
			t.Errorf("%s lists %d threads", title, len(seen))
		}
	}
	// Flags pick sections; the default is user time only.
	if got := run(t, c, out, "!runaway"); !strings.HasPrefix(got, " User Mode Time\n") || strings.Count(got, "\n") != 185 {
		t.Errorf("!runaway: %d lines", strings.Count(got, "\n"))
	}
	if got := run(t, c, out, "!runaway 2"); !strings.HasPrefix(got, " Kernel Mode Time\n") || strings.Count(got, "\n") != 185 {
		t.Errorf("!runaway 2: %d lines", strings.Count(got, "\n"))
	}
	if got := run(t, c, out, "!runaway 0"); got != "" {
		t.Errorf("!runaway 0: %q", got)
	}
}

// The symbol rule against the examples of -findstack.md: `wininet!CFsm::Run 0`
// gives Thread 020 2 frames and Thread 023 3; `wininet!CFsm 0` gives 3 and 5;
// `wininet` matches all 6 and 9 frames.
func TestFindstackMatchRule(t *testing.T) {
	t20 := []string{"wininet!CheckForNoNetOverride", "wininet!InternetAutodialIfNotLocalHost", "wininet!ParseUrlForHttp_Fsm",
		"wininet!CFsm_ParseUrlForHttp::RunSM", "wininet!CFsm::Run", "wininet!CFsm::RunWorkItem", "ntdll!RtlpWorkerCallout"}
	t23 := []string{"wininet!ICSocket::Connect_Start", "wininet!CFsm_SocketConnect::RunSM", "wininet!CFsm::Run", "wininet!DoFsm",
		"wininet!ICSocket::Connect", "wininet!HTTP_REQUEST_HANDLE_OBJECT::OpenConnection_Fsm", "wininet!CFsm_OpenConnection::RunSM",
		"wininet!CFsm::Run", "wininet!CFsm::RunWorkItem", "kernel32!BaseThreadStart"}
	count := func(frames []string, sym string) int {
		n := 0
		for _, f := range frames {
			if frameMatches(f, sym) {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		sym      string
		n20, n23 int
	}{{"wininet!CFsm::Run", 2, 3}, {"wininet!CFsm", 3, 5}, {"wininet", 6, 9}, {"WININET!cfsm::run", 2, 3}, {"wininetx", 0, 0}, {"kernel32!BaseThreadStart", 0, 1}} {
		if a, b := count(t20, tc.sym), count(t23, tc.sym); a != tc.n20 || b != tc.n23 {
			t.Errorf("%s: %d and %d frames, want %d and %d", tc.sym, a, b, tc.n20, tc.n23)
		}
	}
	if frameMatches("0x12345678", "ntdll") || frameMatches("wininet", "wininet!x") {
		t.Error("an unnamed frame matched")
	}
}

func TestFindstackHyperV(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	want := threadsWith(t, c, out, csWait)
	if len(want) != 104 {
		t.Fatalf("~*kc shows %s on %d threads, want 104", csWait, len(want))
	}
	got := run(t, c, out, "!findstack "+csWait+" 0")
	ls := lines(got)
	if len(ls) != 105 || ls[104] != "Total: 104 thread(s) match" {
		t.Fatalf("!findstack 0: %d lines, last %q", len(ls), ls[len(ls)-1])
	}
	for k, l := range ls[:104] {
		// -findstack.md: `Thread 020, 2 frame(s) match`.
		if w := fmt.Sprintf("Thread %03d, 1 frame(s) match", want[k]); l != w {
			t.Errorf("line %d: %q, want %q", k, l, w)
		}
	}
	// Level 1 (default): the frame as a k row after `        * `, decimal frame number.
	got = run(t, c, out, "!findstack ntdll!NtDeviceIoControlFile")
	w := "Thread 020, 1 frame(s) match\n" +
		"        * 00 00000092`d3afd738 00007fff`97091064     ntdll!NtDeviceIoControlFile+0xa\n\nTotal: 1 thread(s) match\n"
	if got != w {
		t.Errorf("level 1:\n got %q\nwant %q", got, w)
	}
	// Level 2: thread 20's whole stack, the same rows as ~20k, one marked.
	k := lines(run(t, c, out, "~20k"))[1:]
	got = run(t, c, out, "!findstack nsi 2")
	ls = lines(got)
	if len(ls) != len(k)+3 || ls[0] != "Thread 020, 1 frame(s) match" || ls[len(ls)-1] != "Total: 1 thread(s) match" {
		t.Fatalf("level 2:\n%s", got)
	}
	for i, row := range k {
		mark := "          "
		if strings.Contains(row, " nsi!") {
			mark = "        * "
		}
		if w := mark + fmt.Sprintf("%02d", i) + row[2:]; ls[1+i] != w {
			t.Errorf("level 2 row %d:\n got %q\nwant %q", i, ls[1+i], w)
		}
	}
	// A module alone matches every frame in it; the case does not matter.
	got = run(t, c, out, "!findstack VMMS 0")
	if !strings.Contains(got, "Thread 020, 13 frame(s) match\n") {
		t.Errorf("!findstack VMMS 0 lacks thread 20's 13 vmms frames:\n%s", got)
	}
}

type uniqGroup struct {
	n       int
	threads []int
	stack   []string
}

func parseGroups(t *testing.T, s string) ([]uniqGroup, string) {
	t.Helper()
	head := regexp.MustCompile(`^--- (\d+) threads?: (.*)$`)
	var gs []uniqGroup
	ls := lines(s)
	if ls[0] != "Processing 183 threads, please wait" {
		t.Errorf("first line %q", ls[0])
	}
	for i := 1; i < len(ls); i++ {
		if m := head.FindStringSubmatch(ls[i]); m != nil {
			g := uniqGroup{}
			g.n, _ = strconv.Atoi(m[1])
			for _, x := range strings.Split(m[2], ", ") {
				v, _ := strconv.Atoi(x)
				g.threads = append(g.threads, v)
			}
			if ls[i+1] != " # Call Site" || ls[i-1] != "" {
				t.Errorf("group %q: not blank line, head, ` # Call Site`", ls[i])
			}
			for i += 2; i < len(ls) && ls[i] != ""; i++ {
				g.stack = append(g.stack, ls[i])
			}
			gs = append(gs, g)
		}
	}
	return gs, ls[len(ls)-1]
}

func TestUniqstackGroupsHyperV(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	gs, last := parseGroups(t, run(t, c, out, "!uniqstack -c"))
	if last != fmt.Sprintf("Total threads: 183, unique stacks: %d", len(gs)) {
		t.Errorf("last line %q with %d groups", last, len(gs))
	}
	seen := map[int]bool{}
	var cs []int
	sum := 0
	for i, g := range gs {
		if g.n != len(g.threads) || !sort.IntsAreSorted(g.threads) {
			t.Errorf("group %d: %d threads listed as %v", i, g.n, g.threads)
		}
		if i > 0 && (g.n > gs[i-1].n || (g.n == gs[i-1].n && g.threads[0] < gs[i-1].threads[0])) {
			t.Errorf("group %d (%d threads) after a group of %d", i, g.n, gs[i-1].n)
		}
		for _, th := range g.threads {
			if seen[th] {
				t.Errorf("thread %d in two groups", th)
			}
			seen[th] = true
		}
		for _, f := range g.stack {
			if strings.HasSuffix(f, " "+csWait) {
				cs = append(cs, g.n)
				sum += g.n
				break
			}
		}
		// The stack is the representative's kcn.
		if kcn := run(t, c, out, fmt.Sprintf("~%dkcn", g.threads[0])); kcn != " # Call Site\n"+strings.Join(g.stack, "\n")+"\n" {
			t.Errorf("group %d: stack differs from ~%dkcn", i, g.threads[0])
		}
	}
	if len(seen) != 183 {
		t.Errorf("%d threads grouped", len(seen))
	}
	if sum != 104 || fmt.Sprint(cs) != "[38 27 18 12 9]" {
		t.Errorf("critical-section groups %v (sum %d), want [38 27 18 12 9]", cs, sum)
	}
	if gs[0].n != 38 {
		t.Errorf("first group has %d threads", gs[0].n)
	}
	// The threads of the waiting groups are exactly those ~*kc shows waiting.
	var inCS []int
	for _, g := range gs {
		for _, f := range g.stack {
			if strings.HasSuffix(f, " "+csWait) {
				inCS = append(inCS, g.threads...)
				break
			}
		}
	}
	sort.Ints(inCS)
	if fmt.Sprint(inCS) != fmt.Sprint(threadsWith(t, c, out, csWait)) {
		t.Error("the grouped waiters are not the threads ~*kc shows waiting")
	}
}

func TestUniqstackHyperV(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	got := run(t, c, out, "!uniqstack")
	ls := lines(got)
	if ls[0] != "Processing 183 threads, please wait" {
		t.Errorf("first line %q", ls[0])
	}
	head := regexp.MustCompile(`^[.# ]\s*(\d+)  Id: c08\.[0-9a-f]+ Suspend: \d+ Teb: [0-9a-f]{8}` + "`" + `[0-9a-f]{8} Unfrozen$`)
	var shown []int
	for i, l := range ls {
		if m := head.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			shown = append(shown, n)
			if ls[i-1] != "" || !strings.HasPrefix(l, ".") {
				t.Errorf("thread line %q: not after a blank line, or not marked current", l)
			}
		}
	}
	n := len(ls)
	if ls[n-4] != "" || ls[n-3] != "Total threads: 183" {
		t.Fatalf("tail:\n%s", strings.Join(ls[n-4:], "\n"))
	}
	var dups int
	if _, err := fmt.Sscanf(ls[n-2], "Duplicate callstacks: %d (windbg thread #s follow):", &dups); err != nil {
		t.Fatalf("%q: %v", ls[n-2], err)
	}
	if dups != 183-len(shown) || len(strings.Split(ls[n-1], ", ")) != dups {
		t.Errorf("%d duplicates listed as %d, %d stacks shown", dups, len(strings.Split(ls[n-1], ", ")), len(shown))
	}
	gs, _ := parseGroups(t, run(t, c, out, "!uniqstack -c"))
	if len(gs) != len(shown) {
		t.Errorf("!uniqstack shows %d stacks, -c groups %d", len(shown), len(gs))
	}
	// Thread 20 (43d8), stuck in NtDeviceIoControlFile, is unique: its block is
	// the ~ line, Start, Priority, then exactly what ~20k prints.
	k20 := run(t, c, out, "~20k")
	got = run(t, c, out, "!uniqstack")
	want := "\n. 20  Id: c08.43d8 Suspend: 0 Teb: "
	i := strings.Index(got, want)
	if i < 0 {
		t.Fatalf("no thread 20 block")
	}
	block := got[i+1:]
	block = block[:strings.Index(block, "\n\n")+1]
	bl := lines(block)
	if !strings.HasPrefix(bl[1], "      Start: ") || !strings.HasPrefix(bl[2], "      Priority: ") ||
		strings.Join(bl[3:], "\n")+"\n" != k20 {
		t.Errorf("thread 20 block:\n%s\nwant its ~20k:\n%s", block, k20)
	}
	if !strings.Contains(got, "\n.  0  Id: c08.c0c Suspend: 0 Teb: 00007ff7`765ae000 Unfrozen\n"+
		"      Start: vmms!wmainCRTStartup (00007ff7`76a41750)\n"+
		"      Priority: 0  Priority class: 32  Affinity: ffffffff\n # Child-SP          RetAddr               Call Site\n") {
		t.Errorf("thread 0 block:\n%s", got[:600])
	}
	// -b shows kb's layout; the current thread is what it was.
	c.S.SetThread(5)
	got = run(t, c, out, "!uniqstack -b -n")
	if !strings.Contains(got, "\n # RetAddr               : Args to Child") || c.S.CurThread != 5 {
		t.Errorf("-b: thread %d now current, or no kb header", c.S.CurThread)
	}
}

func TestStackscanDemoErrors(t *testing.T) {
	c, out := newCtx(t)
	for _, tc := range []struct{ line, want string }{
		{"!findstack nosuch!thing", "Total: 0 thread(s) match\n"},
		{"!findstack nosuch!thing 0", "Total: 0 thread(s) match\n"},
		{"!runaway zz", "Couldn't resolve error at 'zz'\n"},
		// The demo dump has no ThreadInfoList stream.
		{"!runaway 7", "ERROR: unable to get thread times - dump has no thread information\n"},
		{"!uniqstack -x", "!uniqstack: unknown option '-x'; usage: !uniqstack [-b | -v | -p] [-n] | -c\n"},
		{"!uniqstack -c -p", "!uniqstack: -c does not combine with -b, -v or -p\n"},
	} {
		if got := run(t, c, out, tc.line); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.line, got, tc.want)
		}
	}
	for _, line := range []string{"!findstack", "!findstack ntdll 9", "!findstack -?", "!runaway -1", "!runaway 1 2", "!uniqstack zz", "!uniqstack -"} {
		got := run(t, c, out, line)
		if got == "" || strings.Contains(got, "internal error") {
			t.Errorf("%s: %q", line, got)
		}
	}
	// The demo's uniqstack: threads 1 and 3 repeat thread 0's stack; no
	// ThreadInfoList, so no Start line and no affinity.
	got := run(t, c, out, "!uniqstack")
	if !strings.HasSuffix(got, "\nTotal threads: 5\nDuplicate callstacks: 2 (windbg thread #s follow):\n1, 3\n") ||
		strings.Contains(got, "Start:") || !strings.Contains(got, "\n      Priority: 0  Priority class: 32\n") {
		t.Errorf("demo !uniqstack:\n%s", got)
	}
}
