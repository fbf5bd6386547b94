package commands

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/ntdbg/ntdbg/engine/nt"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/unwind"
)

// Relating a user dump to a kernel dump of the same machine: the process
// by pid, image name and create time (and the PEB address), its threads by
// thread id (and TEB and create time). Nothing else in the session changes.

func init() {
	Register(&Command{Name: "!correlate", Family: "process structures", Syntax: "!correlate",
		Summary: "match the user dump's process and threads to the kernel dump of the same machine (ntdbg's addition)",
		Help: "Needs a session with a user dump and a kernel dump (-demo hang, two -z, or .opendump). The process is matched by\n" +
			"pid, image name and create time, and the PEB address where the kernel dump has it; threads by id, with TEB and\n" +
			"create time checked. A pair that cannot be one machine at one boot is refused with the reason.",
		Run: cmdCorrelate})
	Register(&Command{Name: "!fullstack", Family: "stacks", Syntax: "!fullstack [c] [n] [b]",
		Summary: "the current user thread's whole stack: its kernel frames from the kernel dump over its user frames (ntdbg's addition)",
		Help:    "Options as k has them: c call sites only, n frame numbers, b three arguments. Use a thread prefix: ~20 !fullstack.",
		Run:     cmdFullStack})
}

// on is a view of the context on another system (same output and host).
func (c *Ctx) on(sys *System) *Ctx {
	cc := *c
	cc.S, cc.SymConfig = sys.S, sys.Syms
	return &cc
}

// correlation is a user dump's process matched in a kernel dump.
type correlation struct {
	userIdx, kernIdx int
	user, kern       *Ctx
	proc             *nt.Process
	threads          map[uint64]*nt.Thread // by thread id
	facts            []string              // what the match rests on
}

const filetimeEpochDiff = 116444736000000000 // 1601 to 1970 in 100 ns

func fromFiletime(ft uint64) time.Time {
	if ft < filetimeEpochDiff {
		return time.Time{}
	}
	return time.Unix(0, int64(ft-filetimeEpochDiff)*100).UTC()
}

// correlate finds the session's user and kernel systems and matches them;
// the error says why a pair is refused.
func (c *Ctx) correlate() (*correlation, error) {
	r := &correlation{userIdx: -1, kernIdx: -1}
	for i, sys := range c.Systems() {
		if sys.S.Target.Kind().IsUser() {
			if r.userIdx < 0 {
				r.userIdx, r.user = i, c.on(sys)
			}
		} else if r.kernIdx < 0 {
			r.kernIdx, r.kern = i, c.on(sys)
		}
	}
	if r.user == nil || r.kern == nil {
		return nil, fmt.Errorf("!correlate needs a user dump and a kernel dump in the session (|| lists %d system(s); .opendump adds one)", len(c.Systems()))
	}
	if r.user == nil || r.user.S.Process == nil {
		return nil, fmt.Errorf("the user dump names no process")
	}
	up := r.user.S.Process
	kc := r.kern.kernel()
	procs, err := kc.processes()
	if err != nil {
		return nil, fmt.Errorf("the kernel dump's processes cannot be read: %v", err)
	}
	image := strings.ToLower(path.Base(strings.ReplaceAll(up.Image, `\`, "/")))
	var cands []*nt.Process
	for _, p := range procs {
		if uint32(p.Cid) == up.ID {
			cands = append(cands, p)
		}
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("not the same machine and boot: pid %x (%s) is not among the kernel dump's %d processes", up.ID, image, len(procs))
	}
	p := cands[0]
	kimg := strings.ToLower(p.Image)
	if want := image; len(want) > 15 {
		image = want[:15] // ImageFileName keeps 15 characters
	}
	if kimg != image {
		return nil, fmt.Errorf("not the same process: pid %x is %s in the kernel dump, %s in the user dump", up.ID, p.Image, image)
	}
	r.proc = p
	r.facts = append(r.facts, fmt.Sprintf("pid %x and image name %s agree", up.ID, p.Image))
	usys, ksys := r.user.S.Target.System(), r.kern.S.Target.System()
	if po, err := kc.k.At("_EPROCESS", p.Addr); err == nil {
		if ft, err := po.Uint("CreateTime"); err == nil && !usys.ProcessCreate.IsZero() {
			kt := fromFiletime(ft)
			d := kt.Sub(usys.ProcessCreate)
			if d < -time.Second || d > time.Second {
				return nil, fmt.Errorf("not the same process: created %s by the kernel dump, %s by the user dump", kt.Format(time.RFC3339), usys.ProcessCreate.Format(time.RFC3339))
			}
			r.facts = append(r.facts, fmt.Sprintf("create time %s agrees (EPROCESS.CreateTime and the user dump's MiscInfo)", kt.Format("2006-01-02 15:04:05")))
		} else {
			r.facts = append(r.facts, "create time not compared (not in one of the dumps)")
		}
	}
	if !usys.ProcessCreate.IsZero() && !ksys.SessionTime.IsZero() && ksys.SessionTime.Before(usys.ProcessCreate) {
		return nil, fmt.Errorf("not the same boot: the kernel dump was written %s, before the process began %s", ksys.SessionTime.Format(time.RFC3339), usys.ProcessCreate.Format(time.RFC3339))
	}
	if peb, err := r.user.S.PEB(); err == nil && p.Peb != 0 {
		if peb != p.Peb {
			return nil, fmt.Errorf("not the same process: its PEB is %x in the kernel dump, %x in the user dump", p.Peb, peb)
		}
		r.facts = append(r.facts, fmt.Sprintf("PEB %x agrees", peb))
	}
	if !ksys.SessionTime.IsZero() && !usys.SessionTime.IsZero() {
		d := ksys.SessionTime.Sub(usys.SessionTime)
		r.facts = append(r.facts, fmt.Sprintf("dump times: the kernel dump %s the user dump", relTime(d)))
	}
	kthreads, _ := kc.k.Threads(p)
	r.threads = map[uint64]*nt.Thread{}
	for _, t := range kthreads {
		r.threads[t.Tid] = t
	}
	return r, nil
}

func relTime(d time.Duration) string {
	switch {
	case d > time.Second:
		return fmt.Sprintf("%s after", d.Round(time.Second))
	case d < -time.Second:
		return fmt.Sprintf("%s before", (-d).Round(time.Second))
	}
	return "within a second of"
}

// threadMatch checks one user thread against its ETHREAD.
func (r *correlation) threadMatch(th *target.Thread) (*nt.Thread, []string) {
	kt := r.threads[uint64(th.ID)]
	if kt == nil {
		return nil, []string{"no ETHREAD with this id in the kernel dump"}
	}
	var diff []string
	if kt.Teb != th.Teb {
		diff = append(diff, fmt.Sprintf("TEB %x in the kernel dump, %x in the user dump", kt.Teb, th.Teb))
	}
	if th.Info != nil && th.Info.CreateTime != 0 {
		if o, err := r.kern.kernel().k.At("_ETHREAD", kt.Addr); err == nil {
			if ft, err := o.Uint("CreateTime"); err == nil && ft != 0 {
				if d := fromFiletime(ft).Sub(fromFiletime(th.Info.CreateTime)); d < -time.Second || d > time.Second {
					diff = append(diff, "create times differ")
				}
			}
		}
	}
	return kt, diff
}

func cmdCorrelate(c *Ctx, inv *Invocation) error {
	r, err := c.correlate()
	if err != nil {
		return fmt.Errorf("!correlate: %v", err)
	}
	up := r.user.S.Process
	c.Printf("User dump   (system %d): %s\n", r.userIdx, target.Sanitize(r.user.S.Target.Path()))
	c.Printf("Kernel dump (system %d): %s\n", r.kernIdx, target.Sanitize(r.kern.S.Target.Path()))
	c.Printf("Process %s  pid %x  =  PROCESS %s  Cid %04x  Image: %s\n", target.Sanitize(path.Base(strings.ReplaceAll(up.Image, `\`, "/"))), up.ID, p16(r.proc.Addr), r.proc.Cid, target.Sanitize(r.proc.Image))
	for _, f := range r.facts {
		c.Printf("    %s\n", f)
	}
	threads := r.user.S.Target.Threads()
	matched, tebs, missing := 0, 0, 0
	var odd []string
	for _, th := range threads {
		kt, diff := r.threadMatch(th)
		switch {
		case kt == nil:
			missing++
			odd = append(odd, fmt.Sprintf("~%d (tid %x): %s", th.Index, th.ID, diff[0]))
		case len(diff) > 0:
			matched++
			odd = append(odd, fmt.Sprintf("~%d (tid %x): %s", th.Index, th.ID, strings.Join(diff, "; ")))
		default:
			matched++
			tebs++
		}
	}
	c.Printf("Threads: %d of %d matched by thread id; TEB and create time agree for %d\n", matched, len(threads), tebs)
	for i, o := range odd {
		if i == 20 {
			c.Printf("    ... %d more\n", len(odd)-i)
			break
		}
		c.Printf("    %s\n", o)
	}
	if missing > 0 {
		c.Printf("%d user thread(s) have no ETHREAD: they ended between the two dumps, or the dumps are of different moments\n", missing)
	}
	return nil
}

// kernelFrames unwinds a kernel thread from its saved context in the
// kernel dump and keeps the frames that run in kernel space.
func (r *correlation) kernelFrames(kt *nt.Thread) ([]unwind.Frame, error) {
	regs, err := r.kern.S.ThreadRegisters(kt)
	if err != nil {
		return nil, err
	}
	all := r.kern.S.Unwind(regs, 0x100)
	var out []unwind.Frame
	for _, f := range all {
		if f.IP < 0xffff800000000000 {
			break
		}
		out = append(out, f)
	}
	return out, nil
}

func cmdFullStack(c *Ctx, inv *Invocation) error {
	var o struct{ clean, numbers, args bool }
	for _, ch := range strings.ToLower(strings.ReplaceAll(inv.Args, " ", "")) {
		switch ch {
		case 'c':
			o.clean = true
		case 'n':
			o.numbers = true
		case 'b':
			o.args = true
		default:
			return fmt.Errorf("!fullstack: unknown option %c (c, n, b)", ch)
		}
	}
	r, err := c.correlate()
	if err != nil {
		return fmt.Errorf("!fullstack: %v; no stack is stitched", err)
	}
	if !c.S.Target.Kind().IsUser() {
		return fmt.Errorf("!fullstack runs on a user thread: make the user dump current (||%d s) and pick a thread", r.userIdx)
	}
	th, err := c.S.Thread()
	if err != nil {
		return err
	}
	kt, diff := r.threadMatch(th)
	if kt == nil {
		return fmt.Errorf("!fullstack: thread %x has no ETHREAD in the kernel dump; its kernel part is unknown", th.ID)
	}
	if len(diff) > 0 {
		return fmt.Errorf("!fullstack: thread %x does not match its ETHREAD (%s); no stack is stitched", th.ID, strings.Join(diff, "; "))
	}
	kframes, err := r.kernelFrames(kt)
	if err != nil {
		return fmt.Errorf("!fullstack: the kernel thread's context cannot be read: %v", err)
	}
	uframes, err := c.frames(0x100)
	if err != nil {
		return err
	}
	header := " # Child-SP          RetAddr               Call Site"
	if o.clean {
		header = " # Call Site"
	} else if o.args {
		header = " # RetAddr               : Args to Child                                                           : Call Site"
	}
	if !o.numbers {
		header = strings.TrimPrefix(header, " #")
		header = strings.TrimPrefix(header, " ")
	}
	c.Println(header)
	n := 0
	line := func(cc *Ctx, f *unwind.Frame) {
		var b strings.Builder
		if o.numbers {
			fmt.Fprintf(&b, "%02x ", n)
		}
		switch {
		case o.clean:
			b.WriteString(cc.callSite(f, true))
		case o.args:
			var args []string
			for k := uint64(1); k <= 3; k++ {
				v, err := cc.S.ReadPointer(f.SP + 8*k)
				if err != nil {
					args = append(args, "????????`????????")
				} else {
					args = append(args, cc.ptr(v))
				}
			}
			fmt.Fprintf(&b, "%s     : %s : %s", cc.ptr(f.RetAddr), strings.Join(args, " "), cc.callSite(f, false))
		default:
			fmt.Fprintf(&b, "%s %s     %s", cc.ptr(f.SP), cc.ptr(f.RetAddr), cc.callSite(f, false))
		}
		c.Println(b.String())
		n++
	}
	for i := range kframes {
		line(r.kern, &kframes[i])
	}
	c.Printf("   ---- kernel mode above (system %d, THREAD %s), user mode below (system %d, ~%d) ----\n", r.kernIdx, p16(kt.Addr), r.userIdx, th.Index)
	for i := range uframes {
		line(c, &uframes[i])
	}
	return nil
}
