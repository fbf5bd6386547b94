package commands

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/unwind"
)

// Whole-process stack scans (uext's !runaway, !findstack, !uniqstack): each
// walks every thread of the dump with the same bounded unwinder `k` uses.

func init() {
	Register(&Command{Name: "!runaway", Family: "stacks", Syntax: "!runaway [Flags]",
		Summary: "show the user, kernel and elapsed time of every thread, longest first",
		Help: "Flags (default 1) add sections: bit 0 (1) user-mode time, bit 1 (2) kernel-mode time, bit 2 (4) elapsed\n" +
			"time since the thread was created (the dump's session time minus the thread's create time); `7` shows all\n" +
			"three. Each section lists `index:tid` (decimal debugger index, hex thread id) and `D days H:MM:SS.mmm`, sorted\n" +
			"by time, longest first (equal times by thread index). The times come from the dump's ThreadInfoList stream\n" +
			"(`.dump /ma` or `/mt`, procdump -ma, Task Manager); threads the stream does not list are left out. Without the\n" +
			"stream ntdbg prints `ERROR: unable to get thread times - dump has no thread information` (ntdbg's wording).\n" +
			"Flags is read like any expression (current radix).",
		Needs: Needs{User: true}, Run: cmdRunaway})
	Register(&Command{Name: "!findstack", Family: "stacks", Syntax: "!findstack Symbol [DisplayLevel]",
		Summary: "list the threads whose stack contains a symbol or module",
		Help: "Symbol is `module` (every frame in that module) or `module!name`, matched case-insensitively as a prefix of\n" +
			"the frame's `module!function`, as uext does: `wininet!CFsm::Run` also matches `wininet!CFsm::RunWorkItem`, and\n" +
			"`wininet!CFsm` matches `wininet!CFsm_SocketConnect::RunSM`. DisplayLevel 0 prints one `Thread NNN, N frame(s)\n" +
			"match` line per thread (NNN is the decimal debugger index); 1 (the default) adds each matching frame as a `k`\n" +
			"row after `        * `; 2 prints the thread's whole stack with `*` marking the matching frames. As in uext,\n" +
			"the frame numbers here are decimal (k's are hex). Threads whose stack cannot be unwound are skipped. The last\n" +
			"line, `Total: N thread(s) match`, is ntdbg's addition. `!findstack -?` prints the syntax.",
		Needs: Needs{User: true}, Run: cmdFindstack})
	Register(&Command{Name: "!uniqstack", Family: "stacks", Syntax: "!uniqstack [-b | -v | -p] [-n] | -c",
		Summary: "show each distinct stack once, then the threads whose stacks duplicate one shown",
		Help: "Like `~*k`, but a thread whose stack (the sequence of frame instruction pointers) equals an earlier thread's\n" +
			"is not shown; its index is listed under `Duplicate callstacks:` at the end. Each shown thread gets its `~`\n" +
			"line (printed while it is the current thread, so it carries `.` as in uext), `Start: module!function\n" +
			"(address)` and `Priority: P  Priority class: C  Affinity: A` when the dump records them, then its stack as\n" +
			"`k` prints it: -b as `kb`, -v as `kv`, -p as `kp`; -n is accepted (frame numbers are always shown).\n" +
			"ntdbg's addition, `-c`: group the threads by identical stack, largest group first (equal sizes: lowest thread\n" +
			"index first); each group is a line `--- N thread(s): i, j, k` (every member's decimal index, the first one is\n" +
			"the representative) followed by the representative's stack as `kcn` prints it, and the listing ends with\n" +
			"`Total threads: N, unique stacks: U`. -c does not combine with -b, -v or -p.",
		Needs: Needs{User: true}, Run: cmdUniqstack})
}

// stackDepth is how many frames the scans unwind: k's default count.
const stackDepth = 0x100

// threadFrames unwinds thread i from its own context (not the current
// thread's override). ok is false when the thread has no usable context.
func (c *Ctx) threadFrames(i int) ([]unwind.Frame, bool) {
	th := c.S.Target.Threads()[i]
	regs, err := th.Registers()
	if err != nil || regs == nil {
		return nil, false
	}
	frames := c.S.Unwind(regs, stackDepth)
	return frames, len(frames) > 0
}

// ---- !runaway

// filetimeEpoch is 1601-01-01 in Unix seconds (FILETIME's origin).
const filetimeEpoch = 11644473600

func cmdRunaway(c *Ctx, inv *Invocation) error {
	flags := uint64(1)
	if a := strings.TrimSpace(inv.Args); a != "" {
		v, err := c.Eval(a)
		if err != nil {
			return shiftErr(err, inv.ArgsOff+strings.Index(inv.Args, a))
		}
		flags = v
	}
	type row struct {
		idx int
		tid uint32
		t   [3]uint64 // user, kernel, elapsed (100ns)
	}
	var rows []row
	// The dump's session time as a FILETIME (the header's time stamp, whole seconds).
	now := uint64(c.S.Target.System().SessionTime.Unix()+filetimeEpoch) * 10_000_000
	for _, th := range c.S.Target.Threads() {
		in := th.Info
		if in == nil {
			continue
		}
		var el uint64
		if in.CreateTime != 0 && in.CreateTime < now {
			el = now - in.CreateTime
		}
		rows = append(rows, row{th.Index, th.ID, [3]uint64{in.UserTime, in.KernelTime, el}})
	}
	if len(rows) == 0 {
		return fmt.Errorf("ERROR: unable to get thread times - dump has no thread information")
	}
	titles := [3]string{" User Mode Time", " Kernel Mode Time", " Elapsed Time"}
	for k := range 3 {
		if flags&(1<<k) == 0 {
			continue
		}
		sort.SliceStable(rows, func(i, j int) bool {
			if rows[i].t[k] != rows[j].t[k] {
				return rows[i].t[k] > rows[j].t[k]
			}
			return rows[i].idx < rows[j].idx
		})
		c.Println(titles[k])
		c.Println("  Thread       Time")
		for _, r := range rows {
			c.Println(runawayRow(r.idx, r.tid, r.t[k]))
		}
	}
	return nil
}

// runawayRow is one !runaway line. The reference sample is
// `    4:29f8     0 days 0:00:47.687` under `  Thread       Time`: the index
// is right-aligned in 5 columns, the tid left-justified in 8 (the widest
// thread id), then one space, so the time always starts in column 15, under
// `Time`, for indices up to 99999 and any 32-bit thread id.
func runawayRow(idx int, tid uint32, t100ns uint64) string {
	return fmt.Sprintf("%5d:%-8x %s", idx, tid, uptime(time.Duration(t100ns)*100))
}

// ---- !findstack

// frameMatches reports whether a frame named name (`module!function`,
// `module` or `0x...`, as kc names it) matches the !findstack symbol sym.
func frameMatches(name, sym string) bool {
	name, sym = strings.ToLower(name), strings.ToLower(sym)
	if !strings.Contains(sym, "!") {
		mod, _, _ := strings.Cut(name, "!")
		return mod == sym
	}
	return strings.HasPrefix(name, sym)
}

func cmdFindstack(c *Ctx, inv *Invocation) error {
	args := strings.Fields(inv.Args)
	usage := "Usage: !findstack Symbol [DisplayLevel]  (DisplayLevel 0: thread lines only, 1: matching frames (default), 2: whole stacks)"
	if len(args) == 1 && args[0] == "-?" {
		c.Println(usage)
		return nil
	}
	if len(args) == 0 || len(args) > 2 {
		return fmt.Errorf("%s", usage)
	}
	sym := args[0]
	level := 1
	if len(args) == 2 {
		v, err := strconv.Atoi(args[1])
		if err != nil || v < 0 || v > 2 {
			return fmt.Errorf("!findstack: bad DisplayLevel '%s' (0, 1 or 2)\n%s", target.Sanitize(args[1]), usage)
		}
		level = v
	}
	found := 0
	for i := range c.S.Target.Threads() {
		frames, ok := c.threadFrames(i)
		if !ok {
			continue
		}
		var hit []bool
		n := 0
		for k := range frames {
			m := frameMatches(c.callSite(&frames[k], true), sym)
			hit = append(hit, m)
			if m {
				n++
			}
		}
		if n == 0 {
			continue
		}
		found++
		c.Printf("Thread %03d, %d frame(s) match\n", i, n)
		if level == 0 {
			continue
		}
		for k := range frames {
			if !hit[k] && level < 2 {
				continue
			}
			mark := ' '
			if hit[k] {
				mark = '*'
			}
			c.Printf("        %c %s\n", mark, c.findstackRow(frames, k))
		}
		c.Println()
	}
	c.Printf("Total: %d thread(s) match\n", found)
	return nil
}

// findstackRow is a k row (Child-SP, RetAddr, call site on x64; ChildEBP,
// RetAddr on x86) with the frame number in decimal, as uext prints it.
func (c *Ctx) findstackRow(frames []unwind.Frame, k int) string {
	row := c.frameLine(frames, k, kOpts{}, c.callSite(&frames[k], false))
	if sp := strings.IndexByte(row, ' '); sp >= 0 {
		row = row[sp:]
	}
	return fmt.Sprintf("%02d%s", k, row)
}

// ---- !uniqstack

type stackGroup struct {
	key     string
	threads []int // ascending; threads[0] is the representative
}

// stackGroups groups the threads by the sequence of their frames'
// instruction pointers, in order of each group's first thread. A thread
// without a usable context is a group of its own.
func (c *Ctx) stackGroups() []*stackGroup {
	var groups []*stackGroup
	byKey := map[string]*stackGroup{}
	for i := range c.S.Target.Threads() {
		frames, ok := c.threadFrames(i)
		key := fmt.Sprintf("no-context %d", i)
		if ok {
			var b strings.Builder
			for k := range frames {
				fmt.Fprintf(&b, "%x,", frames[k].IP)
			}
			key = b.String()
		}
		g := byKey[key]
		if g == nil {
			g = &stackGroup{key: key}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.threads = append(g.threads, i)
	}
	return groups
}

func cmdUniqstack(c *Ctx, inv *Invocation) error {
	letters, group := "", false
	for _, a := range strings.Fields(inv.Args) {
		if len(a) < 2 || (a[0] != '-' && a[0] != '/') {
			return fmt.Errorf("!uniqstack: unknown argument '%s'; usage: !uniqstack [-b | -v | -p] [-n] | -c", target.Sanitize(a))
		}
		for _, ch := range a[1:] {
			switch ch {
			case 'b', 'v', 'p':
				if !strings.ContainsRune(letters, ch) {
					letters += string(ch)
				}
			case 'n':
			case 'c':
				group = true
			default:
				return fmt.Errorf("!uniqstack: unknown option '-%c'; usage: !uniqstack [-b | -v | -p] [-n] | -c", ch)
			}
		}
	}
	if group && letters != "" {
		return fmt.Errorf("!uniqstack: -c does not combine with -b, -v or -p")
	}
	threads := c.S.Target.Threads()
	defer c.S.Save()()
	c.Printf("Processing %d threads, please wait\n", len(threads))
	groups := c.stackGroups()
	if group {
		sort.SliceStable(groups, func(i, j int) bool {
			if len(groups[i].threads) != len(groups[j].threads) {
				return len(groups[i].threads) > len(groups[j].threads)
			}
			return groups[i].threads[0] < groups[j].threads[0]
		})
		for _, g := range groups {
			idx := make([]string, len(g.threads))
			for k, t := range g.threads {
				idx[k] = strconv.Itoa(t)
			}
			noun := "threads"
			if len(g.threads) == 1 {
				noun = "thread"
			}
			c.Println()
			c.Printf("--- %d %s: %s\n", len(g.threads), noun, strings.Join(idx, ", "))
			c.uniqstackStack(g.threads[0], "cn")
		}
		c.Println()
		c.Printf("Total threads: %d, unique stacks: %d\n", len(threads), len(groups))
		return nil
	}
	var dups []int
	for _, g := range groups {
		dups = append(dups, g.threads[1:]...)
		i := g.threads[0]
		c.S.SetThread(i)
		c.Println()
		c.threadLine(i)
		th := threads[i]
		if th.Info != nil && th.Info.StartAddress != 0 {
			if s := c.symbolize(th.Info.StartAddress); s != "" {
				c.Printf("      Start: %s (%s)\n", s, c.ptr(th.Info.StartAddress))
			} else {
				c.Printf("      Start: %s\n", c.ptr(th.Info.StartAddress))
			}
		}
		// A minidump's MINIDUMP_THREAD always carries the priorities; the
		// affinity comes from the ThreadInfoList.
		if th.Info != nil {
			c.Printf("      Priority: %d  Priority class: %d  Affinity: %x\n", int32(th.Priority), th.PrioCls, th.Info.Affinity)
		} else {
			c.Printf("      Priority: %d  Priority class: %d\n", int32(th.Priority), th.PrioCls)
		}
		c.uniqstackStack(i, letters)
	}
	sort.Ints(dups)
	c.Println()
	c.Printf("Total threads: %d\n", len(threads))
	c.Printf("Duplicate callstacks: %d (windbg thread #s follow):\n", len(dups))
	if len(dups) > 0 {
		idx := make([]string, len(dups))
		for k, t := range dups {
			idx[k] = strconv.Itoa(t)
		}
		c.Println(strings.Join(idx, ", "))
	}
	return nil
}

// uniqstackStack prints thread i's stack exactly as `k<letters>` prints it,
// by running k's own handler with that thread current.
func (c *Ctx) uniqstackStack(i int, letters string) {
	c.S.SetThread(i)
	if err := cmdK(c, &Invocation{Name: "k", Typed: "k" + letters, Text: "k" + letters}); err != nil {
		c.Errorf("%s", err.Error())
	}
}
