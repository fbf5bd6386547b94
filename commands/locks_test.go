package commands

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// The seed's record of the held section (../shared/seeds/000_de47b5627e959549.txt),
// in the column layout of msdocs debuggercmds/-cs.md.
const seedRecord = `-----------------------------------------
DebugInfo          = 0x00000092cfd20960
Critical section   = 0x00000092cf31fb38 (+0x92CF31FB38)
LOCKED
LockCount          = 0x68
WaiterWoken        = No
OwningThread       = 0x00000000000043d8
RecursionCount     = 0x1
LockSemaphore      = 0x1B48
SpinCount          = 0x00000000020007d0
`

func TestCSListsEverySection(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	got := run(t, c, out, "!cs")
	if n := strings.Count(got, "-----------------------------------------\n"); n != 7 {
		t.Errorf("!cs shows %d sections, the list holds 7:\n%s", n, got)
	}
	if !strings.Contains(got, seedRecord) {
		t.Errorf("the held section's record differs from the seed:\n%s", got)
	}
	for _, want := range []string{"Critical section   = 0x00007fff97c33360 (ntdll!LdrpLoaderLock+0x0)\nNOT LOCKED\nLockSemaphore      = 0x18\n",
		"(ntdll!FastPebLock+0x0)", "(ntdll!RtlCriticalSectionLock+0x0)"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q", want)
		}
	}
	// Only one is held; the sections outside the list (g_TraceBufferLock)
	// are not in a list walk.
	if l := run(t, c, out, "!cs -l"); l != seedRecord {
		t.Errorf("!cs -l:\n%s", l)
	}
	if strings.Contains(got, "g_TraceBufferLock") {
		t.Error("a section without debug info came from the list")
	}
}

func TestCSOwnerAndAddressForms(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	got := run(t, c, out, "!cs -o 0x00000092cf31fb38")
	if !strings.HasPrefix(got, "Critical section   = 0x00000092cf31fb38 (+0x92CF31FB38)\nDebugInfo          = 0x00000092cfd20960\nLOCKED\n") {
		t.Errorf("!cs addr starts with the section, then DebugInfo:\n%s", got)
	}
	if !strings.Contains(got, "OwningThread DbgId = ~20s\nOwningThread Stack =\n\t # Child-SP ") ||
		!strings.Contains(got, "\t00 00000092`d3afd738 00007fff`97091064     ntdll!NtDeviceIoControlFile+0xa\n") ||
		!strings.Contains(got, "vmms!ComVmmsClusterManager::IsVmHealthy+0x1c\n") {
		t.Errorf("!cs -o lacks thread 20's stack:\n%s", got)
	}
	if c.S.CurThread != 0 {
		t.Errorf("!cs -o left the current thread at %d", c.S.CurThread)
	}
	if got := run(t, c, out, "!cs -d 92`cfd20960"); !strings.HasPrefix(got, "DebugInfo          = 0x00000092cfd20960\nCritical section   = 0x00000092cf31fb38") {
		t.Errorf("!cs -d:\n%s", got)
	}
	// A section created without debug info, held by thread 110.
	got = run(t, c, out, "!cs vmms!g_TraceBufferLock")
	if !strings.Contains(got, "(vmms!g_TraceBufferLock+0x0)\nDebugInfo          = 0xffffffffffffffff\nLOCKED\nLockCount          = 0x0\n") ||
		!strings.Contains(got, "OwningThread       = 0x0000000000004260\n") {
		t.Errorf("!cs g_TraceBufferLock:\n%s", got)
	}
	// The range form finds the three heap sections that point back.
	got = run(t, c, out, "!cs 92`cf31fb00 92`cf33a100")
	if n := strings.Count(got, "Critical section   = "); n != 3 {
		t.Errorf("range search found %d sections:\n%s", n, got)
	}
	// Only critical sections: ntdll's other doubly linked lists (the list
	// head itself, PebLdr's module lists) point back too but are not.
	if got := run(t, c, out, "!cs 0x7fff97c00000 0x7fff97cfffff"); strings.Count(got, "Critical section   = ") != 3 || strings.Contains(got, "PebLdr") || strings.Contains(got, "RtlCriticalSectionList") {
		t.Errorf("ntdll range:\n%s", got)
	}
	// A range at the top of the address space ends.
	for _, r := range []string{"0xffffffffffff0000 0xffffffffffffffff", "0xfffffffffffffff9 0xffffffffffffffff"} {
		if got := run(t, c, out, "!cs "+r); got != "" {
			t.Errorf("!cs %s: %q", r, got)
		}
	}
	// An expression with spaces is one address.
	if got := run(t, c, out, "!cs 0x92cf31fb38 + 0"); !strings.HasPrefix(got, "Critical section   = 0x00000092cf31fb38") {
		t.Errorf("!cs with an expression: %q", got)
	}
	if got := run(t, c, out, "!cs 1 2 3"); !strings.Contains(got, "Bad arguments") {
		t.Errorf("three addresses: %q", got)
	}
	if got := run(t, c, out, "!cs 0x1230000"); !strings.Contains(got, "Cannot read the critical section at 0x0000000001230000") {
		t.Errorf("unreadable: %q", got)
	}
}

func TestLocksAndCritsec(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	// ntsdexts' layout (msdocs debuggercmds/-locks---ntsdexts-locks-.md).
	want := "\nCritSec +92cf31fb38 at 00000092cf31fb38\nWaiterWoken        No\nLockCount          68\nRecursionCount     1\n" +
		"OwningThread       43d8\nEntryCount         0\nContentionCount    a27\n*** Locked\n\nScanned 7 critical sections\n"
	if got := run(t, c, out, "!locks"); got != want {
		t.Errorf("!locks:\n%s", got)
	}
	if got := run(t, c, out, "!locks -v"); strings.Count(got, "CritSec ") != 7 || !strings.Contains(got, "CritSec ntdll!LdrpLoaderLock+0 at 00007fff97c33360\n") {
		t.Errorf("!locks -v:\n%s", got)
	}
	if got := run(t, c, out, "!critsec 92`cf31fb38"); !strings.HasSuffix(want, strings.TrimSuffix(got, "\n")+"\n\nScanned 7 critical sections\n") {
		t.Errorf("!critsec:\n%s", got)
	}
}

// Memory the dump lacks inside the scanned range does not hide the
// sections after it.
func TestCSRangeAcrossAHole(t *testing.T) {
	c, out, _ := hypervCtx(t, map[uint64]uint64{})
	c.S.Target.(*patched).holes[0x92cf332000] = true
	got := run(t, c, out, "!cs 0x92cf331000 0x92cf33b000")
	if strings.Count(got, "Critical section   = ") != 2 || !strings.Contains(got, "0x00000092cf33a0d0") {
		t.Errorf("range across a hole:\n%s", got)
	}
}

// Broken lists end with what could be read and why, and never hang.
func TestCSBrokenLists(t *testing.T) {
	const (
		vmLockDebug = 0x92cfd20960 // fifth in the list
		locksList   = 0x10         // ProcessLocksList in _RTL_CRITICAL_SECTION_DEBUG (x64)
		thirdDebug  = 0x7fff97c33080
		sixthCS     = 0x92cf33a0a8
	)
	cases := []struct {
		name    string
		patches map[uint64]uint64
		records int
		want    *regexp.Regexp
	}{
		{"cycle", map[uint64]uint64{vmLockDebug + locksList: thirdDebug + locksList}, 5,
			regexp.MustCompile(`stops after 5 entries: the list loops back on itself`)},
		{"bad flink", map[uint64]uint64{vmLockDebug + locksList: 0x1234500010}, 5,
			regexp.MustCompile(`SpinCount          = 0x00000000020007d0\nthe critical section list from 0x7fff97c33320 stops after 5 entries: Flink of entry 0x1234500010 unreadable: memory at 0x1234500010 is not in the dump\n$`)},
		{"no back pointer", map[uint64]uint64{sixthCS: 0x92d2fc0000}, 7,
			regexp.MustCompile(`Critical section   = 0x00000092cf33a0a8 \(\+0x92CF33A0A8\)\nThe critical section's DebugInfo is 0x00000092d2fc0000, not 0x00000092d2fc0190: a stale or corrupt list entry, skipped\n-----`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, out, _ := hypervCtx(t, tc.patches)
			got := run(t, c, out, "!cs")
			if n := strings.Count(got, "-----------------------------------------\n"); n != tc.records {
				t.Errorf("%d records, want %d:\n%s", n, tc.records, got)
			}
			if !tc.want.MatchString(got) {
				t.Errorf("want %s in:\n%s", tc.want, got)
			}
			if !strings.Contains(got, seedRecord) {
				t.Errorf("the held section is lost:\n%s", got)
			}
			if l := run(t, c, out, "!locks -o"); tc.name == "no back pointer" && !strings.Contains(l, "Orphaned DebugInfo at 00000092d2fc0190") {
				t.Errorf("!locks -o:\n%s", l)
			}
		})
	}
}

func BenchmarkCSColdOpen(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		c, out, closeAll := openHyperv(b, nil)
		c.Execute("!cs")
		if !strings.Contains(out.String(), "LockCount          = 0x68") {
			b.Fatal(out.String())
		}
		closeAll()
	}
}

// Every waiter's frames keep the section where the compiler said (RSI over
// the wait, per ntdll.pdb's S_DEFRANGE_REGISTER ranges), so kP names it.
func TestWaitersShowTheSectionInKP(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	waiters := 0
	for i := range c.S.Target.Threads() {
		got := run(t, c, out, fmt.Sprintf("~%dkP", i))
		if !strings.Contains(got, "ntdll!RtlpWaitOnCriticalSection(") {
			continue
		}
		waiters++
		if !strings.Contains(got, "RtlpWaitOnCriticalSection(\n\t\t\tstruct _RTL_CRITICAL_SECTION * CriticalSection = 0x00000092`cf31fb38, \n\t\t\tunsigned long Increment = 0x2)") {
			t.Errorf("thread %d:\n%s", i, got)
		}
	}
	if waiters != 104 {
		t.Errorf("%d waiters, want 104", waiters)
	}
}

// ~*kcn over all 183 threads, from opening the dump (symbols load lazily
// inside the loop, as in a fresh session).
func BenchmarkAllStacksColdOpen(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		c, out, closeAll := openHyperv(b, nil)
		c.Execute("~*kcn")
		if n := strings.Count(out.String(), " # Call Site\n"); n != 183 {
			b.Fatalf("%d stacks", n)
		}
		closeAll()
	}
}

// FuzzCSList rewrites pointer-sized words of the critical-section list and
// its sections on the Hyper-V dump: !cs and !locks may report a broken list,
// never panic or loop.
func FuzzCSList(f *testing.F) {
	f.Add(uint8(4), uint64(0x7fff97c33090))
	f.Add(uint8(0), uint64(0))
	f.Add(uint8(9), uint64(0x92cfd20960))
	f.Add(uint8(12), uint64(0xffffffffffffffff))
	// Words the walk reads: the head, each debug block's links and back
	// pointer, each section's DebugInfo and LockCount.
	targets := []uint64{0x7fff97c33320, 0x7fff97c33328}
	for _, d := range []uint64{0x7fff97c33020, 0x7fff97c33050, 0x7fff97c33080, 0x92d31a0e10, 0x92cfd20960, 0x92d2fc0190, 0x92d2fc01c0} {
		targets = append(targets, d+8, d+0x10, d+0x18)
	}
	for _, cs := range []uint64{0x7fff97c33360, 0x92cf31fb38, 0x92cf33a0a8} {
		targets = append(targets, cs, cs+8)
	}
	c, out, closeAll := openHyperv(f, map[uint64]uint64{})
	defer closeAll()
	f.Fuzz(func(t *testing.T, which uint8, v uint64) {
		c.S.Target.(*patched).patches[targets[int(which)%len(targets)]] = v
		defer clear(c.S.Target.(*patched).patches)
		for _, cmd := range []string{"!cs", "!locks -v", "!locks -o", "!cs -l"} {
			out.Reset()
			c.Execute(cmd)
			if strings.Contains(out.String(), "ntdbg: internal error") {
				t.Fatalf("%s with [%#x] = %#x:\n%s", cmd, targets[int(which)%len(targets)], v, out.String())
			}
		}
	})
}
