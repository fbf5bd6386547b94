package commands

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/engine/nt"
	"github.com/ntdbg/ntdbg/engine/target"
)

func init() {
	Register(&Command{Name: "!cs", Family: "locks", Needs: Needs{User: true},
		Syntax:  "!cs [-s] [-l] [-o] [Address | StartAddress EndAddress | -d InfoAddress] | !cs -t [TreeAddress]",
		Summary: "display critical sections: every one in the process's list, one, those in a range, or by DebugInfo",
		Help: "With no address, walks ntdll!RtlCriticalSectionList through each DebugInfo's ProcessLocksList (needs ntdll's\n" +
			"symbols for the list head). `-l` keeps the locked ones, `-o` adds the owner's stack, `-s` the initialization stack.\n" +
			"LockCount is decoded as Windows Server 2003 SP1 and later keep it: bit 0 clear = locked, bit 1 clear = a waiter\n" +
			"was woken, the remaining bits the ones' complement of the waiter count. Each section's DebugInfo must point back\n" +
			"to it; an entry that does not is reported and skipped. A broken or cyclic list ends with what was read and why.\n" +
			"ntdbg's wording: the messages for a broken list, a stale entry, a missing stack trace (`-s`) and `-t` without\n" +
			"Application Verifier; the owner's stack under `-o` uses `k`'s layout.",
		Run: cmdCS})
	Register(&Command{Name: "!locks", Family: "locks", Needs: Needs{User: true},
		Syntax:  "!locks [-v] [-o]",
		Summary: "list the locked critical sections in ntsdexts' layout (-v: all of them, -o: orphaned list entries)",
		Help:    "The user-mode !locks (ntsdexts); kernel dumps get the ERESOURCE one. LockCount shows the decoded waiter count.",
		Run:     cmdLocks})
	Register(&Command{Name: "!critsec", Family: "locks", Needs: Needs{User: true},
		Syntax: "!critsec Address", Summary: "display one critical section in ntsdexts' layout", Run: cmdCritsec})
}

// csWalk is what the commands need to read critical sections.
type csWalk struct {
	c   *Ctx
	l   *nt.Layout
	ptr int
}

func (c *Ctx) csWalk() csWalk {
	ptr := 8
	if c.S.Target.Arch() == target.ArchX86 {
		ptr = 4
	}
	return csWalk{c: c, l: c.S.Layout(), ptr: ptr}
}

// hexPtr is `0x` and the full pointer width: 0x00000092cfd20960.
func (w csWalk) hexPtr(v uint64) string {
	if w.ptr == 4 {
		return fmt.Sprintf("0x%08x", uint32(v))
	}
	return fmt.Sprintf("0x%016x", v)
}

// symText is `(module!sym+0xOFF)` with the offset in upper case, or
// `(+0xADDR)` where no symbol names the address.
func (w csWalk) symText(addr uint64) string {
	if m, sym, disp, ok := w.c.S.Symbols.Nearest(addr); ok && sym != "" {
		return fmt.Sprintf("(%s!%s+0x%X)", m.Name, target.Sanitize(sym), disp)
	}
	if m := w.c.S.ModuleAt(addr); m != nil {
		return fmt.Sprintf("(%s+0x%X)", m.Name, addr-m.Base)
	}
	return fmt.Sprintf("(+0x%X)", addr)
}

// listHead finds ntdll!RtlCriticalSectionList.
func (w csWalk) listHead() (uint64, error) {
	if a, ok := w.c.S.Symbols.Lookup("ntdll!RtlCriticalSectionList"); ok {
		return a, nil
	}
	return 0, fmt.Errorf("Unable to find ntdll!RtlCriticalSectionList: !cs without an address needs ntdll's symbols (.sympath, .reload)")
}

type csOpts struct {
	stack, locked, owner, tree, byDebug bool
	args                                []uint64
}

func parseCS(c *Ctx, inv *Invocation) (csOpts, error) {
	var o csOpts
	rest := strings.TrimSpace(inv.Args)
	for strings.HasPrefix(rest, "-") && len(rest) > 1 && !isNumberStart(rest[1]) {
		tok, tail, _ := strings.Cut(rest, " ")
		for _, ch := range tok[1:] {
			switch ch {
			case 's':
				o.stack = true
			case 'l':
				o.locked = true
			case 'o':
				o.owner = true
			case 't':
				o.tree = true
			case 'd':
				o.byDebug = true
			case '?':
				return o, errHelp
			default:
				return o, fmt.Errorf("Unknown option '-%s'. Type !cs -? for help", target.Sanitize(string(ch)))
			}
		}
		rest = strings.TrimSpace(tail)
	}
	// The rest is one or two expressions, each as long as it can be
	// (`!cs poi(x) - 10` is one address).
	for rest != "" {
		v, n, err := c.EvalPrefix(rest)
		if err != nil {
			return o, err
		}
		o.args = append(o.args, v)
		if len(o.args) > 2 || n == 0 {
			break
		}
		rest = strings.TrimSpace(rest[n:])
	}
	if len(o.args) > 2 || (o.byDebug && len(o.args) != 1) {
		return o, fmt.Errorf("Bad arguments. Type !cs -? for help")
	}
	return o, nil
}

func isNumberStart(b byte) bool { return b >= '0' && b <= '9' }

var errHelp = fmt.Errorf("help")

const csHelp = `!cs [-s] [-l] [-o]                           - dump all the active critical sections in the current process
!cs [-s] [-o] address                        - dump the critical section at address
!cs [-s] [-l] [-o] address1 address2         - dump all the critical sections in the range [address1, address2]
!cs [-s] [-o] -d address                     - dump the critical section whose DebugInfo is at address
!cs [-s] -t [address]                        - display the verifier's critical section tree
-s : dump the initialization stack trace, if available
-l : show only the locked critical sections
-o : show the owner's stack for locked critical sections
`

func cmdCS(c *Ctx, inv *Invocation) error {
	o, err := parseCS(c, inv)
	if err == errHelp {
		c.Printf("%s", csHelp)
		return nil
	}
	if err != nil {
		return err
	}
	w := c.csWalk()
	switch {
	case o.tree:
		if c.S.ModuleByName("verifier") == nil {
			c.Errorf("!cs -t shows Application Verifier's lock tree: verifier.dll is not loaded in this process (enable its Locks checks)")
			return nil
		}
		c.Errorf("!cs -t: reading Application Verifier's lock tree is not supported yet")
		return nil
	case o.byDebug:
		return w.showByDebug(o, o.args[0])
	case len(o.args) == 1:
		return w.showSection(o, o.args[0])
	case len(o.args) == 2:
		return w.searchRange(o, o.args[0], o.args[1])
	}
	head, err := w.listHead()
	if err != nil {
		return err
	}
	debugs, walkErr := nt.ProcessLocks(c.S.Mem(), w.l, w.ptr, head)
	for _, d := range debugs {
		w.listed(o, d)
	}
	if walkErr != nil {
		c.Errorf("%v", walkErr)
	}
	return nil
}

// listed prints the record for a debug block from the list.
func (w csWalk) listed(o csOpts, debugAddr uint64) {
	c := w.c
	d, err := nt.ReadCritSecDebug(c.S.Mem(), w.l, w.ptr, debugAddr)
	if err != nil {
		c.Println(sep)
		c.Printf("DebugInfo          = %s\n", w.hexPtr(debugAddr))
		c.Errorf("Cannot read the DebugInfo at %s: %v", w.hexPtr(debugAddr), err)
		return
	}
	cs, err := nt.ReadCritSec(c.S.Mem(), w.l, w.ptr, d.Section)
	if err != nil {
		c.Println(sep)
		c.Printf("DebugInfo          = %s\n", w.hexPtr(debugAddr))
		c.Printf("Critical section   = %s %s\n", w.hexPtr(d.Section), w.symText(d.Section))
		c.Errorf("Cannot read the critical section at %s: %v", w.hexPtr(d.Section), err)
		return
	}
	if cs.DebugInfo != debugAddr {
		c.Println(sep)
		c.Printf("DebugInfo          = %s\n", w.hexPtr(debugAddr))
		c.Printf("Critical section   = %s %s\n", w.hexPtr(d.Section), w.symText(d.Section))
		c.Errorf("The critical section's DebugInfo is %s, not %s: a stale or corrupt list entry, skipped", w.hexPtr(cs.DebugInfo), w.hexPtr(debugAddr))
		return
	}
	if o.locked && !cs.Locked() {
		return
	}
	c.Println(sep)
	c.Printf("DebugInfo          = %s\n", w.hexPtr(debugAddr))
	c.Printf("Critical section   = %s %s\n", w.hexPtr(cs.Addr), w.symText(cs.Addr))
	w.body(o, cs, &d)
}

const sep = "-----------------------------------------"

// body prints the lock state and what the options add.
func (w csWalk) body(o csOpts, cs nt.CritSec, d *nt.CritSecDebug) {
	c := w.c
	if c.Recording() {
		c.Record("critical_section", c.csRecord(cs))
	}
	if !cs.Locked() {
		c.Println("NOT LOCKED")
	} else {
		c.Println("LOCKED")
		c.Printf("LockCount          = 0x%X\n", cs.Waiters())
		c.Printf("WaiterWoken        = %s\n", yesNo(b2u(cs.WaiterWoken())))
		c.Printf("OwningThread       = %s\n", w.hexPtr(cs.Owner))
		c.Printf("RecursionCount     = 0x%X\n", uint32(cs.Recursion))
	}
	c.Printf("LockSemaphore      = 0x%X\n", cs.Semaphore)
	c.Printf("SpinCount          = %s\n", w.hexPtr(cs.SpinCnt))
	if o.owner && cs.Locked() {
		w.ownerStack(cs.Owner)
	}
	if o.stack && d != nil {
		c.Printf("Stack trace for DebugInfo = %s:\n", w.hexPtr(d.Addr))
		if d.BackTrace == 0 {
			c.Println("(none recorded: CreatorBackTraceIndex is 0; the user-mode stack trace database (gflags +ust) was off)")
		} else {
			c.Printf("(CreatorBackTraceIndex 0x%x: reading the stack trace database is not supported yet)\n", d.BackTrace)
		}
	}
}

// ownerStack prints the owner's debugger thread number and its stack, each
// stack line indented by a tab.
func (w csWalk) ownerStack(owner uint64) {
	c := w.c
	idx := -1
	for i, th := range c.S.Target.Threads() {
		if uint64(th.ID) == owner {
			idx = i
			break
		}
	}
	if idx < 0 {
		c.Printf("OwningThread %s is not a thread of this dump\n", w.hexPtr(owner))
		return
	}
	c.Printf("OwningThread DbgId = ~%ds\n", idx)
	c.Println("OwningThread Stack =")
	var buf bytes.Buffer
	sub := *c
	sub.Out = &buf
	err := func() error {
		defer c.S.Save()()
		if err := c.S.SetThread(idx); err != nil {
			return err
		}
		return cmdK(&sub, &Invocation{Name: "k", Typed: "k", Text: "k"})
	}()
	for _, l := range strings.SplitAfter(buf.String(), "\n") {
		if l != "" {
			c.Printf("\t%s", l)
		}
	}
	if err != nil {
		c.Errorf("\t%v", err)
	}
}

// showSection is `!cs Address`: Critical section first, then DebugInfo.
func (w csWalk) showSection(o csOpts, addr uint64) error {
	c := w.c
	cs, err := nt.ReadCritSec(c.S.Mem(), w.l, w.ptr, addr)
	if err != nil {
		return fmt.Errorf("Cannot read the critical section at %s: %v", w.hexPtr(addr), err)
	}
	c.Printf("Critical section   = %s %s\n", w.hexPtr(addr), w.symText(addr))
	c.Printf("DebugInfo          = %s\n", w.hexPtr(cs.DebugInfo))
	d := w.debugFor(cs)
	w.body(o, cs, d)
	return nil
}

// debugFor reads a section's debug block when it has one that points back.
func (w csWalk) debugFor(cs nt.CritSec) *nt.CritSecDebug {
	if cs.DebugInfo == 0 || cs.DebugInfo == nt.NoDebugInfo {
		return nil
	}
	d, err := nt.ReadCritSecDebug(w.c.S.Mem(), w.l, w.ptr, cs.DebugInfo)
	if err != nil {
		w.c.Errorf("Cannot read the DebugInfo at %s: %v", w.hexPtr(cs.DebugInfo), err)
		return nil
	}
	if d.Section != cs.Addr {
		w.c.Errorf("The DebugInfo's CriticalSection is %s, not this section", w.hexPtr(d.Section))
		return nil
	}
	return &d
}

// showByDebug is `!cs -d InfoAddress`.
func (w csWalk) showByDebug(o csOpts, debugAddr uint64) error {
	c := w.c
	d, err := nt.ReadCritSecDebug(c.S.Mem(), w.l, w.ptr, debugAddr)
	if err != nil {
		return fmt.Errorf("Cannot read the DebugInfo at %s: %v", w.hexPtr(debugAddr), err)
	}
	cs, err := nt.ReadCritSec(c.S.Mem(), w.l, w.ptr, d.Section)
	if err != nil {
		return fmt.Errorf("Cannot read the critical section at %s: %v", w.hexPtr(d.Section), err)
	}
	c.Printf("DebugInfo          = %s\n", w.hexPtr(debugAddr))
	c.Printf("Critical section   = %s %s\n", w.hexPtr(cs.Addr), w.symText(cs.Addr))
	if cs.DebugInfo != debugAddr {
		c.Errorf("The critical section's DebugInfo is %s, not %s", w.hexPtr(cs.DebugInfo), w.hexPtr(debugAddr))
	}
	w.body(o, cs, &d)
	return nil
}

// maxCSRange bounds `!cs Start End`.
const maxCSRange = 1 << 28

// searchRange finds the sections in [start, end]: pointer-aligned places
// whose DebugInfo is a critical-section debug block (Type 0, readable list
// links) whose CriticalSection points back at them.
func (w csWalk) searchRange(o csOpts, start, end uint64) error {
	c := w.c
	if end < start {
		return fmt.Errorf("Bad arguments: the end address %s is below the start", w.hexPtr(end))
	}
	if end-start > maxCSRange {
		return fmt.Errorf("Range too large: !cs searches at most 0x%x bytes", maxCSRange)
	}
	m := c.S.Mem()
	align := uint64(w.ptr)
	a := start
	if r := a % align; r != 0 {
		if a += align - r; a < start || a > end {
			return nil
		}
	}
	chunk := make([]byte, 0x10000)
	for a <= end {
		want := min(uint64(len(chunk)), end-a+1)
		n, _ := m.ReadVirtual(chunk[:want], a)
		for off := 0; off+w.ptr <= n; off += w.ptr {
			addr := a + uint64(off)
			var di uint64
			for i := w.ptr - 1; i >= 0; i-- {
				di = di<<8 | uint64(chunk[off+i])
			}
			if w.isSection(addr, di) {
				cs, err := nt.ReadCritSec(m, w.l, w.ptr, addr)
				if err != nil || (o.locked && !cs.Locked()) {
					continue
				}
				c.Println(sep)
				c.Printf("Critical section   = %s %s\n", w.hexPtr(addr), w.symText(addr))
				c.Printf("DebugInfo          = %s\n", w.hexPtr(di))
				w.body(o, cs, w.debugFor(cs))
			}
		}
		next := a + want
		if uint64(n) < want {
			// Unreadable from a+n: go on at the next page.
			next = (a + uint64(n)) | 0xfff
			next++
		}
		if next <= a { // wrapped past the top of the address space
			break
		}
		a = next
	}
	return nil
}

// isSection reports whether addr holding DebugInfo di is a critical
// section: di is an aligned pointer to a debug block of type 0 whose links
// can be read and whose CriticalSection is addr. (Any doubly linked
// LIST_ENTRY points back the same way; its Flink's low word is rarely 0.)
func (w csWalk) isSection(addr, di uint64) bool {
	if di == 0 || di%uint64(w.ptr) != 0 || (w.ptr == 4 && di == 0xffffffff) || di == nt.NoDebugInfo {
		return false
	}
	d, err := nt.ReadCritSecDebug(w.c.S.Mem(), w.l, w.ptr, di)
	if err != nil || d.Section != addr || d.Type != 0 || d.Flink == 0 || d.Blink == 0 {
		return false
	}
	_, err1 := w.c.S.ReadUint(d.Flink, w.ptr)
	_, err2 := w.c.S.ReadUint(d.Blink, w.ptr)
	return err1 == nil && err2 == nil
}

// locksRecord prints one section in ntsdexts' layout.
func (w csWalk) locksRecord(cs nt.CritSec, d *nt.CritSecDebug) {
	c := w.c
	name := "+" + fmt.Sprintf("%x", cs.Addr)
	if m, sym, disp, ok := c.S.Symbols.Nearest(cs.Addr); ok && sym != "" {
		name = fmt.Sprintf("%s!%s+%x", m.Name, target.Sanitize(sym), disp)
	} else if m := c.S.ModuleAt(cs.Addr); m != nil {
		name = fmt.Sprintf("%s+%x", m.Name, cs.Addr-m.Base)
	}
	c.Println("")
	c.Printf("CritSec %s at %s\n", name, c.plainPtr(cs.Addr))
	c.Printf("WaiterWoken        %s\n", yesNo(b2u(cs.Locked() && cs.WaiterWoken())))
	if cs.Locked() {
		c.Printf("LockCount          %x\n", cs.Waiters())
	} else {
		c.Println("LockCount          NOT LOCKED")
	}
	c.Printf("RecursionCount     %x\n", uint32(cs.Recursion))
	c.Printf("OwningThread       %x\n", cs.Owner)
	if d != nil {
		c.Printf("EntryCount         %x\n", d.EntryCount)
		c.Printf("ContentionCount    %x\n", d.Contention)
	}
	if cs.Locked() {
		c.Println("*** Locked")
	}
}

func cmdLocks(c *Ctx, inv *Invocation) error {
	all, orphans := false, false
	for _, tok := range strings.Fields(inv.Args) {
		switch strings.ToLower(tok) {
		case "-v":
			all = true
		case "-o":
			orphans = true
		default:
			return fmt.Errorf("Unknown option %s: !locks [-v] [-o]", target.Sanitize(tok))
		}
	}
	w := c.csWalk()
	head, err := w.listHead()
	if err != nil {
		return err
	}
	debugs, walkErr := nt.ProcessLocks(c.S.Mem(), w.l, w.ptr, head)
	for _, da := range debugs {
		d, err := nt.ReadCritSecDebug(c.S.Mem(), w.l, w.ptr, da)
		var cs nt.CritSec
		if err == nil {
			cs, err = nt.ReadCritSec(c.S.Mem(), w.l, w.ptr, d.Section)
		}
		orphan := err != nil || cs.DebugInfo != da
		switch {
		case orphans:
			switch {
			case !orphan:
			case err != nil:
				c.Println("")
				c.Printf("Orphaned DebugInfo at %s: %v\n", c.plainPtr(da), err)
			default:
				c.Println("")
				c.Printf("Orphaned DebugInfo at %s: its critical section (%s) does not point back\n", c.plainPtr(da), c.plainPtr(d.Section))
			}
		case orphan:
		case all || cs.Locked():
			w.locksRecord(cs, &d)
		}
	}
	c.Println("")
	c.Printf("Scanned %d critical sections\n", len(debugs))
	if walkErr != nil {
		c.Errorf("%v", walkErr)
	}
	return nil
}

func cmdCritsec(c *Ctx, inv *Invocation) error {
	a := strings.TrimSpace(inv.Args)
	if a == "" {
		return fmt.Errorf("Usage: !critsec Address")
	}
	addr, err := c.Eval(a)
	if err != nil {
		return err
	}
	w := c.csWalk()
	cs, err := nt.ReadCritSec(c.S.Mem(), w.l, w.ptr, addr)
	if err != nil {
		return fmt.Errorf("Cannot read the critical section at %s: %v", w.hexPtr(addr), err)
	}
	w.locksRecord(cs, w.debugFor(cs))
	return nil
}
