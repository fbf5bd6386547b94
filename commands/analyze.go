package commands

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/nt"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/unwind"
)

// !analyze: WinDbg's layout and field names (docs/windbg-reference.md
// §3.26, msdocs debuggercmds/-analyze.md) over what the dump records. The
// bucketing and the choice of the followup frame are ntdbg's own, written
// out in analyzeHelp; nothing here reads triage.ini or asks a server.

const analyzeHelp = "What it does (the bucket and followup logic is ntdbg's, not ext.dll's):\n" +
	"- User dump with an exception: CONTEXT (.ecxr), EXCEPTION_RECORD (.exr -1), PROCESS_NAME, READ_/WRITE_ADDRESS,\n" +
	"  ERROR_CODE, EXCEPTION_CODE_STR, EXCEPTION_PARAMETER1/2, STACK_TEXT (the stack of the exception context),\n" +
	"  SYMBOL_NAME, MODULE_NAME, IMAGE_NAME, STACK_COMMAND, FAILURE_BUCKET_ID, OS_VERSION, BUILDLAB_STR, OSNAME.\n" +
	"  The faulting frame is frame 0 for a processor fault (access violation, illegal instruction, divide, stack\n" +
	"  overflow...), skipping frames in the C runtime (ucrtbase, msvcrt, vcruntime*, msvcp*); for a raised exception\n" +
	"  (C++ throw, breakpoint, fail-fast, heap corruption, any other code) the first frame outside ntdll, KERNELBASE,\n" +
	"  kernel32 and the C runtime. Frames outside every module are skipped; with none left, frame 0.\n" +
	"  FAILURE_BUCKET_ID is CLASS_code_image!function: NULL_POINTER_READ/WRITE/EXECUTE (address 0),\n" +
	"  NULL_CLASS_PTR_* (below 0x10000), INVALID_POINTER_* (other access violations), STACK_OVERFLOW,\n" +
	"  INTEGER_DIVIDE_BY_ZERO, ILLEGAL_INSTRUCTION, PRIVILEGED_INSTRUCTION, STACK_BUFFER_OVERRUN, HEAP_CORRUPTION,\n" +
	"  BREAKPOINT, CPP_EXCEPTION, else APPLICATION_FAULT; the function is `Unknown` without symbols.\n" +
	"- Kernel dump: the bug check's name (every code in Microsoft's bug check reference and the live dump codes),\n" +
	"  its description and argument meanings for the common codes (0xA 0x1A 0x1E 0x3B 0x50 0x7E 0x7F 0x9F 0xC2 0xC4\n" +
	"  0xD1 0xE2 0xEF 0xFC 0x101 0x124 0x133 0x139 0x161), BUGCHECK_CODE, BUGCHECK_P1-P4, PROCESS_NAME, STACK_TEXT (the\n" +
	"  current processor's stack), SYMBOL_NAME, MODULE_NAME, IMAGE_NAME, FAILURE_BUCKET_ID (0xCODE_module!function).\n" +
	"  The followup frame is the first one past the bug check and trap machinery (KeBugCheck*, KiBugCheck*,\n" +
	"  KiPageFault, Ki*Fault, exception dispatch) that is not in nt or hal; with none, the first nt frame past it.\n" +
	"  Without -v: WinDbg's short form, the BugCheck line and `Probably caused by :`.\n" +
	"- User dump, -hang (or no exception stored): the blocking thread is the owner of the locked critical section\n" +
	"  with the most waiters (ntdll!RtlCriticalSectionList, as !cs walks it); with no locked section, the current\n" +
	"  thread. DEFAULT_BUCKET_ID and PRIMARY_PROBLEM_CLASS are APPLICATION_HANG_ plus what the blocking thread is in:\n" +
	"  BlockedOn_DeviceIo (NtDeviceIoControlFile), BlockedOn_FileIO, BlockedOn_LPC, BlockedOn_CriticalSection,\n" +
	"  BlockedOn_Wait, BlockedOn_Sleep, else BusyHang; its followup frame is the first outside ntdll, KERNELBASE,\n" +
	"  kernel32 and the C runtime.\n" +
	"What it does not do: triage.ini and known-issue files (-c), XML output (-xml...), heap, .NET or UMDF analysis,\n" +
	"FAILURE_ID_HASH, source lines (FAULTING_SOURCE_*), kernel -hang (locks and DPC queues: the bug check analysis is\n" +
	"printed instead). A hang with a kernel dump of the same machine in the session (!correlate) gets WAIT_CHAIN, the\n" +
	"blocking thread's chain as !waitchain prints it, and PROBABLY_CAUSED_BY, the driver the chain ends at. -v takes a level but\n" +
	"prints one level of detail; -vv is the same as -v. -f is accepted and changes nothing: a dump without an\n" +
	"exception gets the hang analysis."

func init() {
	Register(&Command{Name: "!analyze", Family: "expressions and events",
		Syntax:  "!analyze [-v[0..99] | -vv] [-f | -hang] | !analyze -show BugCheckCode [BugParameters]",
		Summary: "analyze the stored exception, the bug check, or (-hang) a hang; -v for the details",
		Help:    analyzeHelp,
		Run:     cmdAnalyze})
}

type analyzeOpts struct {
	verbose, hang, force, show bool
	showArgs                   []uint64
}

func parseAnalyze(c *Ctx, inv *Invocation) (analyzeOpts, error) {
	var o analyzeOpts
	f := strings.Fields(inv.Args)
	for i := 0; i < len(f); i++ {
		a := strings.ToLower(f[i])
		switch {
		case a == "-vv" || a == "-v" || (strings.HasPrefix(a, "-v") && isAllDigits(a[2:])):
			o.verbose = true
		case a == "-f":
			o.force = true
		case a == "-hang":
			o.hang = true
		case a == "-show":
			o.show = true
			for _, p := range f[i+1:] {
				v, err := c.Eval(p)
				if err != nil {
					return o, err
				}
				o.showArgs = append(o.showArgs, v)
			}
			if len(o.showArgs) == 0 {
				return o, fmt.Errorf("!analyze -show needs a bug check code")
			}
			return o, nil
		case a == "-xml" || a == "-xmi" || a == "-xcs" || a == "-xmf" || a == "-c":
			return o, fmt.Errorf("!analyze %s is not supported by ntdbg (no XML output, no known-issue files)", f[i])
		default:
			return o, fmt.Errorf("!analyze: unknown option '%s' (.hh !analyze)", f[i])
		}
	}
	return o, nil
}

func isAllDigits(s string) bool {
	if s == "" || len(s) > 2 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func cmdAnalyze(c *Ctx, inv *Invocation) error {
	o, err := parseAnalyze(c, inv)
	if err != nil {
		return err
	}
	if o.show {
		code := uint32(o.showArgs[0])
		var p [4]uint64
		copy(p[:], o.showArgs[1:])
		c.Println()
		c.bugcheckDescription(code, p, len(o.showArgs)-1)
		return nil
	}
	// Every analysis leaves the thread, frame and context as it found them
	// (WinDbg's `Resetting default scope`).
	defer c.S.Save()()
	if kernelDesc(c) != nil {
		return c.analyzeKernel(o)
	}
	ev := c.S.Target.Event()
	if o.hang || ev == nil {
		return c.analyzeHang(o, ev == nil && !o.hang)
	}
	return c.analyzeException(o, ev)
}

func (c *Ctx) analysisBanner(title string) {
	c.Println("*******************************************************************************")
	c.Println("*                                                                             *")
	c.Printf("*%s*\n", centerTitle(title))
	c.Println("*                                                                             *")
	c.Println("*******************************************************************************")
	c.Println()
}

// centerTitle places a banner title as WinDbg does: at column 25 of the
// 77 columns between the stars.
func centerTitle(t string) string {
	s := strings.Repeat(" ", 24) + t
	if len(s) < 77 {
		s += strings.Repeat(" ", 77-len(s))
	}
	return s
}

// key prints one `KEY:  value` section and the blank line after it.
func (c *Ctx) key(name, value string) {
	c.Printf("%s:  %s\n\n", name, value)
	if c.Recording() {
		c.Record("analysis_field", AnalysisFieldRecord{Key: name, Value: value})
	}
}

// hexWide is a value at the pointer width without a backtick, as the
// analysis fields print addresses (`0000000000000000`, `00000045`).
func (c *Ctx) hexWide(v uint64) string {
	if c.S.Target.Arch().PtrSize() == 8 {
		return fmt.Sprintf("%016x", v)
	}
	return fmt.Sprintf("%08x", uint32(v))
}

// analysisFrames is the stack of regs, in at most k's default frame count.
func (c *Ctx) analysisFrames(regs *target.Registers) []unwind.Frame {
	if regs == nil {
		return nil
	}
	return c.S.Unwind(regs, c.defaultFrames())
}

// stackText prints STACK_TEXT: kv's rows without the frame number (x64:
// Child-SP RetAddr : Args to Child : Call Site; x86: ChildEBP RetAddr Args).
func (c *Ctx) stackText(frames []unwind.Frame) {
	c.Println("STACK_TEXT:  ")
	o := kOpts{args: true, verbose: c.S.Target.Arch() == target.ArchAMD64}
	warned := false
	for i := range frames {
		if frames[i].How == unwind.Scan && !warned {
			c.Println("WARNING: Stack unwind information not available. Following frames may be wrong.")
			warned = true
		}
		row := c.frameLine(frames, i, o, c.callSite(&frames[i], false))
		if sp := strings.IndexByte(row, ' '); sp >= 0 {
			row = row[sp+1:]
		}
		c.Println(row)
	}
	if len(frames) == 0 {
		c.Println("(no frames: the stack could not be read)")
	}
	c.Println()
	c.Println()
}

// followup is the frame an analysis blames, and its names.
type followup struct {
	frame        int // -1: none
	symbol       string
	module, imag string
	function     string // for buckets: `Unknown` without symbols
	ok           bool
}

var crtModules = map[string]bool{"ucrtbase": true, "ucrtbased": true, "msvcrt": true, "vcruntime140": true,
	"vcruntime140d": true, "vcruntime140_1": true, "vcruntime140_1d": true, "msvcp140": true, "msvcp140d": true}

var loaderModules = map[string]bool{"ntdll": true, "kernelbase": true, "kernel32": true}

// bugcheckMachinery are the kernel frames a bug check or trap puts above
// the code that caused it.
var bugcheckMachinery = regexp.MustCompile(`^(KeBugCheck|KiBugCheck|KiPageFault|Ki[A-Za-z]*Fault|KiTrap|KiDoubleFault|KiExceptionDispatch|KiDispatchException|RtlDispatchException|RtlRaiseStatus|KiRaiseException|ExRaiseStatus|KiInterruptDispatch|KiSystemServiceHandler|KiIpiInterrupt|KiDpcInterrupt)`)

// pickFollowup chooses the frame to blame: the first one skip allows that
// lies in a module, else the first in a module, else frame 0.
func (c *Ctx) pickFollowup(frames []unwind.Frame, skip func(m *target.Module, fn string) bool) followup {
	first := -1
	for i := range frames {
		m := c.S.ModuleAt(frames[i].LookupIP())
		if m == nil {
			continue
		}
		if first < 0 {
			first = i
		}
		_, fn, _, _ := c.S.Symbols.Nearest(frames[i].LookupIP())
		if skip == nil || !skip(m, fn) {
			return c.followupAt(frames, i)
		}
	}
	if first >= 0 {
		return c.followupAt(frames, first)
	}
	if len(frames) > 0 {
		return c.followupAt(frames, 0)
	}
	return followup{frame: -1}
}

func (c *Ctx) followupAt(frames []unwind.Frame, i int) followup {
	f := &frames[i]
	look := f.LookupIP()
	fu := followup{frame: i, function: "Unknown"}
	if m, sym, disp, ok := c.S.Symbols.Nearest(look); ok && sym != "" {
		disp += f.IP - look
		fu.symbol = fmt.Sprintf("%s!%s+%x", m.Name, sym, disp)
		fu.module, fu.imag, fu.function, fu.ok = m.Name, m.ImageName, sym, true
		return fu
	}
	if m := c.S.ModuleAt(look); m != nil {
		fu.symbol = fmt.Sprintf("%s+%x", m.Name, f.IP-m.Base)
		fu.module, fu.imag, fu.ok = m.Name, m.ImageName, true
		return fu
	}
	fu.symbol = c.hexWide(f.IP)
	return fu
}

// printFollowup prints SYMBOL_NAME, MODULE_NAME and IMAGE_NAME.
func (c *Ctx) printFollowup(fu followup) {
	if fu.frame < 0 {
		c.key("SYMBOL_NAME", "(no frame to follow up: the stack could not be read)")
		return
	}
	c.key("SYMBOL_NAME", fu.symbol)
	if fu.ok {
		c.Printf("MODULE_NAME: %s\n\n", fu.module)
		c.analysisField("MODULE_NAME", fu.module)
		c.key("IMAGE_NAME", fu.imag)
	} else {
		c.Printf("MODULE_NAME: Unknown_Module\n\n")
		c.analysisField("MODULE_NAME", "Unknown_Module")
		c.key("IMAGE_NAME", "Unknown_Image")
	}
}

// bucketTail is `image!function` for a bucket.
func (fu followup) bucketTail() string {
	if !fu.ok {
		return "Unknown_Image!Unknown"
	}
	return fu.imag + "!" + fu.function
}

// trailingVersion is a build lab that ends in a four-part version.
var trailingVersion = regexp.MustCompile(`(\d+)\.(\d+)\.(\d+)\.(\d+)$`)

// osLines prints OS_VERSION, BUILDLAB_STR, OSPLATFORM_TYPE and OSNAME.
func (c *Ctx) osLines() {
	sys := c.S.Target.System()
	rev := "0"
	lab := ""
	if f := strings.Split(sys.BuildLab, "."); len(f) >= 4 && f[0] == strconv.Itoa(int(sys.Build)) {
		// 9600.17736.amd64fre.winblue_r9.150322-1500
		rev, lab = f[1], f[3]
	} else if m := trailingVersion.FindStringSubmatch(sys.BuildLab); m != nil && m[3] == strconv.Itoa(int(sys.Build)) {
		rev = m[4] // "Windows NT 10.0.22000.282"
	}
	c.key("OS_VERSION", fmt.Sprintf("%d.%d.%d.%s", sys.Major, sys.Minor, sys.Build, rev))
	if lab != "" {
		c.key("BUILDLAB_STR", lab)
	}
	plat := "x64"
	switch c.S.Target.Arch() {
	case target.ArchX86:
		plat = "x86"
	case target.ArchARM64:
		plat = "arm64"
	}
	c.key("OSPLATFORM_TYPE", plat)
	c.key("OSNAME", osName(sys.Major, sys.Minor))
	c.Println("Followup:     MachineOwner")
	c.Println("---------")
	c.Println()
}

// processImage is the current process's image file name (vmms.exe).
func (c *Ctx) processImage() string {
	name := c.processName()
	if i := strings.LastIndexAny(name, `\/`); i >= 0 {
		name = name[i+1:]
	}
	return target.Sanitize(name)
}

// ---- user-mode exceptions ----

var ntstatusText = map[uint32]string{
	0x80000002: "{EXCEPTION}  Alignment Fault  A datatype misalignment was detected in a load or store instruction.",
	0x80000003: "{EXCEPTION}  Breakpoint  A breakpoint has been reached.",
	0x80000004: "{EXCEPTION}  Single Step  A single step or trace operation has just been completed.",
	0xc0000005: "The instruction at 0x%p referenced memory at 0x%p. The memory could not be %s.",
	0xc0000006: "The instruction at 0x%p referenced memory at 0x%p. The required data was not placed into memory because of an I/O error status of 0x%x.",
	0xc000001d: "{EXCEPTION}  Illegal Instruction  An attempt was made to execute an illegal instruction.",
	0xc000008e: "{EXCEPTION}  Floating-point division by zero.",
	0xc0000094: "{EXCEPTION}  Integer division by zero.",
	0xc0000095: "{EXCEPTION}  Integer overflow.",
	0xc0000096: "{EXCEPTION}  Privileged instruction.",
	0xc00000fd: "A new guard page for the stack cannot be created.",
	0xc0000374: "A heap has been corrupted.",
	0xc0000409: "The system detected an overrun of a stack-based buffer in this application. This overrun could potentially allow a malicious user to gain control of this application.",
	0xc0000420: "An assertion failure has occurred.",
}

// hardwareFault is a code the processor raises at the faulting
// instruction (frame 0 is the culprit); the others are raised by software.
func hardwareFault(code uint32) bool {
	switch code {
	case 0xc0000005, 0xc0000006, 0xc000001d, 0xc000008c, 0xc000008e, 0xc0000094, 0xc0000095, 0xc0000096, 0xc00000fd, 0x80000002, 0x80000004:
		return true
	}
	return false
}

// exceptionClass is the first part of a user FAILURE_BUCKET_ID.
func exceptionClass(ev *target.Event) string {
	switch ev.Code {
	case 0xc0000005, 0xc0000006:
		if len(ev.Params) < 2 {
			return "INVALID_POINTER_READ"
		}
		kind := "READ"
		switch ev.Params[0] {
		case 1:
			kind = "WRITE"
		case 8:
			kind = "EXECUTE"
		}
		switch addr := ev.Params[1]; {
		case addr == 0:
			return "NULL_POINTER_" + kind
		case addr < 0x10000:
			return "NULL_CLASS_PTR_" + kind
		}
		return "INVALID_POINTER_" + kind
	case 0xc00000fd:
		return "STACK_OVERFLOW"
	case 0xc0000094:
		return "INTEGER_DIVIDE_BY_ZERO"
	case 0xc000001d:
		return "ILLEGAL_INSTRUCTION"
	case 0xc0000096:
		return "PRIVILEGED_INSTRUCTION"
	case 0xc0000409:
		return "STACK_BUFFER_OVERRUN"
	case 0xc0000374:
		return "HEAP_CORRUPTION"
	case 0x80000003:
		return "BREAKPOINT"
	case 0xe06d7363:
		return "CPP_EXCEPTION"
	}
	return "APPLICATION_FAULT"
}

func (c *Ctx) analyzeException(o analyzeOpts, ev *target.Event) error {
	c.analysisBanner("Exception Analysis")
	c.Println()
	av := (ev.Code == 0xc0000005 || ev.Code == 0xc0000006) && len(ev.Params) >= 2
	if o.verbose && av {
		fault := map[uint64]string{0: "Read", 1: "Write", 8: "Execute"}[ev.Params[0]]
		if fault != "" {
			c.Println("KEY_VALUES_STRING: 1")
			c.Println()
			c.Println("    Key  : AV.Fault")
			c.Printf("    Value: %s\n", fault)
			c.Println()
			c.Println()
		}
	}
	// The exception context, else the event thread's own registers.
	var regs *target.Registers
	ctxErr := "the dump has no exception context"
	if ev.Context != nil {
		r, err := ev.Context()
		if err == nil {
			regs = r
		} else {
			ctxErr = err.Error()
		}
	}
	if c.S.EventThread >= 0 {
		_ = c.S.SetThread(c.S.EventThread)
	}
	if o.verbose {
		if regs != nil {
			c.Println("CONTEXT:  (.ecxr)")
			c.printRegisters(regs)
			c.Println("Resetting default scope")
			c.Println()
		} else {
			c.Printf("CONTEXT:  (none: %s; the stack is the event thread's)\n\n", ctxErr)
		}
		c.Println("EXCEPTION_RECORD:  (.exr -1)")
		if err := cmdExr(c, &Invocation{Name: ".exr", Typed: ".exr", Args: "-1", Text: ".exr -1"}); err != nil {
			c.Println(err.Error())
		}
		c.Println()
	}
	if regs == nil {
		if r, err := c.S.Registers(); err == nil {
			regs = r
		}
	}
	if name := c.processImage(); name != "" {
		c.key("PROCESS_NAME", name)
	}
	if av {
		switch ev.Params[0] {
		case 0:
			c.Printf("READ_ADDRESS:  %s \n\n", c.hexWide(ev.Params[1]))
		case 1:
			c.Printf("WRITE_ADDRESS:  %s \n\n", c.hexWide(ev.Params[1]))
		}
	}
	text, ok := ntstatusText[ev.Code]
	if !ok {
		text = "<Unable to get error code text>"
	}
	c.Printf("ERROR_CODE: (NTSTATUS) 0x%x - %s\n\n", ev.Code, text)
	c.key("EXCEPTION_CODE_STR", fmt.Sprintf("%x", ev.Code))
	for i, p := range ev.Params {
		if i >= 4 {
			break
		}
		c.key(fmt.Sprintf("EXCEPTION_PARAMETER%d", i+1), c.hexWide(p))
	}
	frames := c.analysisFrames(regs)
	c.stackText(frames)
	var skip func(m *target.Module, fn string) bool
	if hardwareFault(ev.Code) {
		skip = func(m *target.Module, _ string) bool { return crtModules[strings.ToLower(m.Name)] }
	} else {
		skip = func(m *target.Module, _ string) bool {
			n := strings.ToLower(m.Name)
			return crtModules[n] || loaderModules[n]
		}
	}
	fu := c.pickFollowup(frames, skip)
	c.printFollowup(fu)
	c.key("STACK_COMMAND", fmt.Sprintf("~%ds ; .ecxr ; kb", c.S.EventThread))
	c.key("FAILURE_BUCKET_ID", fmt.Sprintf("%s_%x_%s", exceptionClass(ev), ev.Code, fu.bucketTail()))
	c.osLines()
	return nil
}

// ---- user-mode hangs ----

// hangBlocker is what the hang analysis found blocking the process.
type hangBlocker struct {
	thread  int // debugger thread index
	section uint64
	waiters uint32
	locked  int // locked sections seen
	reason  string
}

// findBlocker picks the owner of the locked critical section with the
// most waiters, walking ntdll!RtlCriticalSectionList as !cs does.
func (c *Ctx) findBlocker() hangBlocker {
	b := hangBlocker{thread: c.S.CurThread, section: 0}
	w := c.csWalk()
	head, err := w.listHead()
	if err != nil {
		b.reason = "the critical section list could not be walked (ntdll's symbols are needed for ntdll!RtlCriticalSectionList); the current thread is taken"
		return b
	}
	debugs, _ := nt.ProcessLocks(c.S.Mem(), w.l, w.ptr, head)
	var best *nt.CritSec
	for _, d := range debugs {
		dbg, err := nt.ReadCritSecDebug(c.S.Mem(), w.l, w.ptr, d)
		if err != nil {
			continue
		}
		cs, err := nt.ReadCritSec(c.S.Mem(), w.l, w.ptr, dbg.Section)
		if err != nil || cs.DebugInfo != d || !cs.Locked() || cs.Owner == 0 {
			continue
		}
		b.locked++
		if best == nil || cs.Waiters() > best.Waiters() {
			cs := cs
			best = &cs
		}
	}
	if best == nil {
		b.reason = "no critical section is locked; the current thread is taken"
		return b
	}
	for i, th := range c.S.Target.Threads() {
		if uint64(th.ID) == best.Owner {
			b.thread, b.section, b.waiters = i, best.Addr, best.Waiters()
			b.reason = fmt.Sprintf("owns critical section %s, the locked section with the most waiters (0n%d waiting; %d locked section(s) in the list)",
				c.ptr(best.Addr), best.Waiters(), b.locked)
			return b
		}
	}
	b.reason = fmt.Sprintf("critical section %s (0n%d waiting) is owned by thread id %x, which is not in this dump; the current thread is taken",
		c.ptr(best.Addr), best.Waiters(), best.Owner)
	return b
}

// hangClass names what the blocking thread is doing from its stack.
func (c *Ctx) hangClass(frames []unwind.Frame) string {
	onStack := func(name string) bool {
		for i := range frames {
			if _, fn, _, ok := c.S.Symbols.Nearest(frames[i].LookupIP()); ok && fn == name {
				return true
			}
		}
		return false
	}
	if len(frames) == 0 {
		return "APPLICATION_HANG"
	}
	_, top, _, _ := c.S.Symbols.Nearest(frames[0].LookupIP())
	top = strings.TrimPrefix(strings.TrimPrefix(top, "Zw"), "Nt")
	switch top {
	case "DeviceIoControlFile":
		return "APPLICATION_HANG_BlockedOn_DeviceIo"
	case "ReadFile", "WriteFile", "FlushBuffersFile", "QueryDirectoryFile", "CreateFile", "OpenFile", "LockFile":
		return "APPLICATION_HANG_BlockedOn_FileIO"
	case "AlpcSendWaitReceivePort", "RequestWaitReplyPort", "ReplyWaitReceivePort", "ConnectPort", "AlpcConnectPort":
		return "APPLICATION_HANG_BlockedOn_LPC"
	case "DelayExecution":
		return "APPLICATION_HANG_BlockedOn_Sleep"
	case "WaitForSingleObject", "WaitForMultipleObjects", "WaitForAlertByThreadId", "WaitForKeyedEvent", "RemoveIoCompletion", "RemoveIoCompletionEx", "WaitForWorkViaWorkerFactory":
		if onStack("RtlpWaitOnCriticalSection") || onStack("RtlEnterCriticalSection") {
			return "APPLICATION_HANG_BlockedOn_CriticalSection"
		}
		return "APPLICATION_HANG_BlockedOn_Wait"
	}
	return "APPLICATION_HANG_BusyHang"
}

func (c *Ctx) analyzeHang(o analyzeOpts, noEvent bool) error {
	c.analysisBanner("Exception Analysis")
	c.Println()
	if noEvent {
		c.Println("No exception is stored in this dump: a hang analysis follows (as !analyze -v -hang).")
		c.Println()
	}
	b := c.findBlocker()
	threads := c.S.Target.Threads()
	if b.thread < 0 || b.thread >= len(threads) {
		return engine.ErrNoThread
	}
	th := threads[b.thread]
	if name := c.processImage(); name != "" {
		c.key("PROCESS_NAME", name)
	}
	c.key("BLOCKING_THREAD", c.hexWide(uint64(th.ID)))
	if o.verbose {
		c.key("BLOCKING_THREAD_REASON", fmt.Sprintf("ntdbg: thread %d (%x) %s", b.thread, th.ID, b.reason))
	}
	if b.section != 0 {
		c.key("CRITICAL_SECTION", fmt.Sprintf("%s -- (!cs -s %s)", c.ptr(b.section), c.ptr(b.section)))
	}
	if err := c.S.SetThread(b.thread); err != nil {
		return err
	}
	regs, err := c.S.Registers()
	if err != nil {
		regs = nil
	}
	frames := c.analysisFrames(regs)
	class := c.hangClass(frames)
	c.key("DEFAULT_BUCKET_ID", class)
	c.key("PRIMARY_PROBLEM_CLASS", class)
	c.stackText(frames)
	// With a kernel dump of the same machine in the session, the blocking
	// thread's wait chain (as !waitchain prints it) and the driver it ends
	// at: the probable cause of the hang.
	c.analyzeWaitChain(b.thread, o.verbose)
	fu := c.pickFollowup(frames, func(m *target.Module, _ string) bool {
		n := strings.ToLower(m.Name)
		return crtModules[n] || loaderModules[n]
	})
	c.printFollowup(fu)
	c.key("STACK_COMMAND", fmt.Sprintf("~%ds ; kb", b.thread))
	c.key("FAILURE_BUCKET_ID", fmt.Sprintf("%s_cfffffff_%s", class, fu.bucketTail()))
	c.osLines()
	return nil
}

// ---- kernel bug checks ----

// kernelFollowup skips the bug check machinery and prefers a driver.
func (c *Ctx) kernelFollowup(frames []unwind.Frame) followup {
	start := 0
	for start < len(frames) {
		_, fn, _, ok := c.S.Symbols.Nearest(frames[start].LookupIP())
		m := c.S.ModuleAt(frames[start].LookupIP())
		if !ok || m == nil || !(isKernelCore(m) && bugcheckMachinery.MatchString(fn)) {
			break
		}
		start++
	}
	if start == len(frames) {
		start = 0
	}
	rest := frames[start:]
	fu := c.pickFollowup(rest, func(m *target.Module, _ string) bool { return isKernelCore(m) })
	if fu.frame >= 0 {
		fu.frame += start
	}
	return fu
}

func isKernelCore(m *target.Module) bool {
	n := strings.ToLower(m.Name)
	return n == "nt" || n == "hal"
}

func (c *Ctx) analyzeKernel(o analyzeOpts) error {
	kd := kernelDesc(c)
	p := kd.BugCheckParams
	c.analysisBanner("Bugcheck Analysis")
	regs, err := c.S.Registers()
	if err != nil {
		regs = nil
	}
	frames := c.analysisFrames(regs)
	fu := c.kernelFollowup(frames)
	if !o.verbose {
		c.Println("Use !analyze -v to get detailed debugging information.")
		c.Println()
		c.Printf("BugCheck %X, {%x, %x, %x, %x}\n", kd.BugCheck, p[0], p[1], p[2], p[3])
		c.Println()
		c.Println(c.probablyCausedBy(fu))
		c.Println()
		c.Println("Followup:     MachineOwner")
		c.Println("---------")
		c.Println()
		return nil
	}
	c.bugcheckDescription(kd.BugCheck, p, 4)
	if o.hang {
		c.Println("(-hang: ntdbg does not analyze kernel hangs (held locks, DPC queues) yet; the bug check analysis follows.)")
		c.Println()
	}
	c.Println("Debugging Details:")
	c.Println("------------------")
	c.Println()
	c.Println()
	c.key("BUGCHECK_CODE", fmt.Sprintf("%x", kd.BugCheck))
	for i := range p {
		c.Printf("BUGCHECK_P%d: %x\n\n", i+1, p[i])
	}
	if name := c.kernelProcessName(); name != "" {
		c.key("PROCESS_NAME", name)
	}
	c.stackText(frames)
	c.printFollowup(fu)
	c.key("STACK_COMMAND", ".thread ; .cxr ; kb")
	tail := "Unknown_Module!Unknown"
	if fu.ok {
		tail = fu.module + "!" + fu.function
	}
	c.key("FAILURE_BUCKET_ID", fmt.Sprintf("0x%X_%s", kd.BugCheck, tail))
	c.osLines()
	return nil
}

// kernelProcessName is the image name of the current thread's process
// (as !process -1 finds it), "" without the kernel's types.
func (c *Ctx) kernelProcessName() string {
	if c.S.Kernel() == nil {
		return ""
	}
	procs, _ := c.S.KernelProcesses()
	if p := c.kernel().current(procs); p != nil {
		return target.Sanitize(p.Image)
	}
	return ""
}

// probablyCausedBy is the short form's `Probably caused by : image ( sym )`
// line (the banner of a kernel dump may print it too).
func (c *Ctx) probablyCausedBy(fu followup) string {
	if fu.frame < 0 || !fu.ok {
		return "Probably caused by : Unknown_Image"
	}
	return fmt.Sprintf("Probably caused by : %s ( %s )", fu.imag, fu.symbol)
}

// bugcheckInfo is a bug check's description and what its arguments mean.
type bugcheckInfo struct {
	desc string
	args [4]string
}

func (c *Ctx) bugcheckDescription(code uint32, p [4]uint64, nargs int) {
	name, known := bugcheckNames[code]
	info, described := bugcheckDetails[code]
	if known {
		c.Printf("%s (%x)\n", name, code)
	} else {
		c.Printf("Unknown bugcheck code (%x)\n", code)
	}
	switch {
	case described:
		c.Println(info.desc)
	case known:
		c.Println("(ntdbg has no description of this bug check; see Microsoft's bug check code reference)")
	default:
		c.Println("Unknown bugcheck description")
	}
	if nargs > 0 {
		c.Println("Arguments:")
		for i := 0; i < nargs && i < 4; i++ {
			c.Printf("Arg%d: %016x, %s\n", i+1, p[i], info.args[i])
		}
	}
	c.Println()
}

var bugcheckDetails = map[uint32]bugcheckInfo{
	0x0a: {"An attempt was made to access a pageable (or completely invalid) address at an\n" +
		"interrupt request level (IRQL) that is too high.  This is usually\n" +
		"caused by drivers using improper addresses.\n" +
		"If a kernel debugger is available get the stack backtrace.",
		[4]string{"memory referenced", "IRQL", "bitfield :\n\tbit 0 : value 0 = read operation, 1 = write operation\n\tbit 3 : value 0 = not an execute operation, 1 = execute operation (only on chips which support this level of status)", "address which referenced memory"}},
	0x1a: {"    # Any other values for parameter 1 must be individually examined.",
		[4]string{"the subtype of the memory management violation (see the bug check reference)", "depends on Arg1", "depends on Arg1", "depends on Arg1"}},
	0x1e: {"This is a very common BugCheck.  Usually the exception address pinpoints\n" +
		"the driver/function that caused the problem.  Always note this address\n" +
		"as well as the link date of the driver/image that contains this address.",
		[4]string{"The exception code that was not handled", "The address that the exception occurred at", "Parameter 0 of the exception", "Parameter 1 of the exception"}},
	0x3b: {"An exception happened while executing a system service routine.",
		[4]string{"Exception code that caused the BugCheck", "Address of the instruction which caused the BugCheck", "Address of the context record for the exception that caused the BugCheck", "zero."}},
	0x50: {"Invalid system memory was referenced.  This cannot be protected by try-except.\n" +
		"Typically the address is just plain bad or it is pointing at freed memory.",
		[4]string{"memory referenced.", "value 0 = read operation, 1 = write operation.", "If non-zero, the instruction address which referenced the bad memory\n\taddress.", "(reserved)"}},
	0x7e: {"This is a very common BugCheck.  Usually the exception address pinpoints\n" +
		"the driver/function that caused the problem.  Always note this address\n" +
		"as well as the link date of the driver/image that contains this address.",
		[4]string{"The exception code that was not handled", "The address that the exception occurred at", "Exception Record Address", "Context Record Address"}},
	0x7f: {"This means a trap occurred in kernel mode, and it's a trap of a kind\n" +
		"that the kernel isn't allowed to have/catch (bound trap) or that\n" +
		"is always instant death (double fault).",
		[4]string{"The trap number (8: EXCEPTION_DOUBLE_FAULT)", "", "", ""}},
	0x9f: {"A driver has failed to complete a power IRP within a specific time.",
		[4]string{"the subtype (3: a device object has been blocking an Irp for too long a time)", "depends on Arg1 (3: Physical Device Object of the stack)", "depends on Arg1 (3: nt!_TRIAGE_9F_POWER on Win7 and higher)", "depends on Arg1 (3: The blocked IRP)"}},
	0xc2: {"The current thread is making a bad pool request.  Typically this is at a bad IRQL level or double freeing the same allocation, etc.",
		[4]string{"the type of violation (see the bug check reference)", "depends on Arg1", "depends on Arg1", "depends on Arg1"}},
	0xc4: {"A device driver attempting to corrupt the system has been caught.  This is\n" +
		"because the driver was specified in the registry as being suspect (by the\n" +
		"administrator) and the kernel has enabled substantial checking of this driver.",
		[4]string{"the type of violation (see the bug check reference)", "depends on Arg1", "depends on Arg1", "depends on Arg1"}},
	0xd1: {"An attempt was made to access a pageable (or completely invalid) address at an\n" +
		"interrupt request level (IRQL) that is too high.  This is usually\n" +
		"caused by drivers using improper addresses.\n" +
		"If kernel debugger is available get stack backtrace.",
		[4]string{"memory referenced", "IRQL", "value 0 = read operation, 1 = write operation", "address which referenced memory"}},
	0xe2: {"The user manually initiated this crash dump.",
		[4]string{"", "", "", ""}},
	0xef: {"        A critical system process died",
		[4]string{"Process object or thread object", "If this is 0, a process died. If this is 1, a thread died.", "", ""}},
	0xfc: {"An attempt was made to execute non-executable memory.  The guilty driver\n" +
		"is on the stack trace (and is typically the current instruction pointer).",
		[4]string{"Virtual address for the attempted execute.", "PTE contents.", "(reserved)", "(reserved)"}},
	0x101: {"An expected clock interrupt was not received on a secondary processor in an\n" +
		"MP system within the allocated interval. This indicates that the specified\n" +
		"processor is hung and not processing interrupts.",
		[4]string{"Clock interrupt time out interval in nominal clock ticks.", "0.", "The PRCB address of the hung processor.", "The index of the hung processor."}},
	0x124: {"A fatal hardware error has occurred. Parameter 1 identifies the type of error\n" +
		"source that reported the error. Parameter 2 holds the address of the\n" +
		"WHEA_ERROR_RECORD structure that describes the error condition.",
		[4]string{"The type of error source that reported the error", "Address of the WHEA_ERROR_RECORD structure.", "depends on Arg1", "depends on Arg1"}},
	0x133: {"The DPC watchdog detected a prolonged run time at an IRQL of DISPATCH_LEVEL\n" +
		"or above.",
		[4]string{"0: a single DPC or ISR exceeded its time allotment; 1: the system\n\tcumulatively spent an extended period of time at IRQL DISPATCH_LEVEL or above.", "depends on Arg1 (0: the DPC time count, in ticks)", "depends on Arg1 (0: the DPC time allotment, in ticks)", "depends on Arg1"}},
	0x139: {"A kernel component has corrupted a critical data structure.  The corruption\n" +
		"could potentially allow a malicious user to gain control of this machine.",
		[4]string{"Type of memory safety violation", "Address of the trap frame for the exception that caused the BugCheck", "Address of the exception record for the exception that caused the BugCheck", "Reserved"}},
	0x161: {"A live system memory dump was collected on request (the system kept running).\n" +
		"This code identifies a live kernel dump; it is never a real bug check.",
		[4]string{"Reserved", "Reserved", "Reserved", "Reserved"}},
}

// Bug check names from Microsoft's bug check code reference
// (debugger/bug-check-code-reference2.md), plus the live dump codes a
// live kernel dump carries.
var bugcheckNames = map[uint32]string{
	0x00000001: "APC_INDEX_MISMATCH",
	0x00000002: "DEVICE_QUEUE_NOT_BUSY",
	0x00000003: "INVALID_AFFINITY_SET",
	0x00000004: "INVALID_DATA_ACCESS_TRAP",
	0x00000005: "INVALID_PROCESS_ATTACH_ATTEMPT",
	0x00000006: "INVALID_PROCESS_DETACH_ATTEMPT",
	0x00000007: "INVALID_SOFTWARE_INTERRUPT",
	0x00000008: "IRQL_NOT_DISPATCH_LEVEL",
	0x00000009: "IRQL_NOT_GREATER_OR_EQUAL",
	0x0000000A: "IRQL_NOT_LESS_OR_EQUAL",
	0x0000000B: "NO_EXCEPTION_HANDLING_SUPPORT",
	0x0000000C: "MAXIMUM_WAIT_OBJECTS_EXCEEDED",
	0x0000000D: "MUTEX_LEVEL_NUMBER_VIOLATION",
	0x0000000E: "NO_USER_MODE_CONTEXT",
	0x0000000F: "SPIN_LOCK_ALREADY_OWNED",
	0x00000010: "SPIN_LOCK_NOT_OWNED",
	0x00000011: "THREAD_NOT_MUTEX_OWNER",
	0x00000012: "TRAP_CAUSE_UNKNOWN",
	0x00000013: "EMPTY_THREAD_REAPER_LIST",
	0x00000014: "CREATE_DELETE_LOCK_NOT_LOCKED",
	0x00000015: "LAST_CHANCE_CALLED_FROM_KMODE",
	0x00000016: "CID_HANDLE_CREATION",
	0x00000017: "CID_HANDLE_DELETION",
	0x00000018: "REFERENCE_BY_POINTER",
	0x00000019: "BAD_POOL_HEADER",
	0x0000001A: "MEMORY_MANAGEMENT",
	0x0000001B: "PFN_SHARE_COUNT",
	0x0000001C: "PFN_REFERENCE_COUNT",
	0x0000001D: "NO_SPIN_LOCK_AVAILABLE",
	0x0000001E: "KMODE_EXCEPTION_NOT_HANDLED",
	0x0000001F: "SHARED_RESOURCE_CONV_ERROR",
	0x00000020: "KERNEL_APC_PENDING_DURING_EXIT",
	0x00000021: "QUOTA_UNDERFLOW",
	0x00000022: "FILE_SYSTEM",
	0x00000023: "FAT_FILE_SYSTEM",
	0x00000024: "NTFS_FILE_SYSTEM",
	0x00000025: "NPFS_FILE_SYSTEM",
	0x00000026: "CDFS_FILE_SYSTEM",
	0x00000027: "RDR_FILE_SYSTEM",
	0x00000028: "CORRUPT_ACCESS_TOKEN",
	0x00000029: "SECURITY_SYSTEM",
	0x0000002A: "INCONSISTENT_IRP",
	0x0000002B: "PANIC_STACK_SWITCH",
	0x0000002C: "PORT_DRIVER_INTERNAL",
	0x0000002D: "SCSI_DISK_DRIVER_INTERNAL",
	0x0000002E: "DATA_BUS_ERROR",
	0x0000002F: "INSTRUCTION_BUS_ERROR",
	0x00000030: "SET_OF_INVALID_CONTEXT",
	0x00000031: "PHASE0_INITIALIZATION_FAILED",
	0x00000032: "PHASE1_INITIALIZATION_FAILED",
	0x00000033: "UNEXPECTED_INITIALIZATION_CALL",
	0x00000034: "CACHE_MANAGER",
	0x00000035: "NO_MORE_IRP_STACK_LOCATIONS",
	0x00000036: "DEVICE_REFERENCE_COUNT_NOT_ZERO",
	0x00000037: "FLOPPY_INTERNAL_ERROR",
	0x00000038: "SERIAL_DRIVER_INTERNAL",
	0x00000039: "SYSTEM_EXIT_OWNED_MUTEX",
	0x0000003A: "SYSTEM_UNWIND_PREVIOUS_USER",
	0x0000003B: "SYSTEM_SERVICE_EXCEPTION",
	0x0000003C: "INTERRUPT_UNWIND_ATTEMPTED",
	0x0000003D: "INTERRUPT_EXCEPTION_NOT_HANDLED",
	0x0000003E: "MULTIPROCESSOR_CONFIGURATION_NOT_SUPPORTED",
	0x0000003F: "NO_MORE_SYSTEM_PTES",
	0x00000040: "TARGET_MDL_TOO_SMALL",
	0x00000041: "MUST_SUCCEED_POOL_EMPTY",
	0x00000042: "ATDISK_DRIVER_INTERNAL",
	0x00000043: "NO_SUCH_PARTITION",
	0x00000044: "MULTIPLE_IRP_COMPLETE_REQUESTS",
	0x00000045: "INSUFFICIENT_SYSTEM_MAP_REGS",
	0x00000046: "DEREF_UNKNOWN_LOGON_SESSION",
	0x00000047: "REF_UNKNOWN_LOGON_SESSION",
	0x00000048: "CANCEL_STATE_IN_COMPLETED_IRP",
	0x00000049: "PAGE_FAULT_WITH_INTERRUPTS_OFF",
	0x0000004A: "IRQL_GT_ZERO_AT_SYSTEM_SERVICE",
	0x0000004B: "STREAMS_INTERNAL_ERROR",
	0x0000004C: "FATAL_UNHANDLED_HARD_ERROR",
	0x0000004D: "NO_PAGES_AVAILABLE",
	0x0000004E: "PFN_LIST_CORRUPT",
	0x0000004F: "NDIS_INTERNAL_ERROR",
	0x00000050: "PAGE_FAULT_IN_NONPAGED_AREA",
	0x00000051: "REGISTRY_ERROR",
	0x00000052: "MAILSLOT_FILE_SYSTEM",
	0x00000053: "NO_BOOT_DEVICE",
	0x00000054: "LM_SERVER_INTERNAL_ERROR",
	0x00000055: "DATA_COHERENCY_EXCEPTION",
	0x00000056: "INSTRUCTION_COHERENCY_EXCEPTION",
	0x00000057: "XNS_INTERNAL_ERROR",
	0x00000058: "FTDISK_INTERNAL_ERROR",
	0x00000059: "PINBALL_FILE_SYSTEM",
	0x0000005A: "CRITICAL_SERVICE_FAILED",
	0x0000005B: "SET_ENV_VAR_FAILED",
	0x0000005C: "HAL_INITIALIZATION_FAILED",
	0x0000005D: "UNSUPPORTED_PROCESSOR",
	0x0000005E: "OBJECT_INITIALIZATION_FAILED",
	0x0000005F: "SECURITY_INITIALIZATION_FAILED",
	0x00000060: "PROCESS_INITIALIZATION_FAILED",
	0x00000061: "HAL1_INITIALIZATION_FAILED",
	0x00000062: "OBJECT1_INITIALIZATION_FAILED",
	0x00000063: "SECURITY1_INITIALIZATION_FAILED",
	0x00000064: "SYMBOLIC_INITIALIZATION_FAILED",
	0x00000065: "MEMORY1_INITIALIZATION_FAILED",
	0x00000066: "CACHE_INITIALIZATION_FAILED",
	0x00000067: "CONFIG_INITIALIZATION_FAILED",
	0x00000068: "FILE_INITIALIZATION_FAILED",
	0x00000069: "IO1_INITIALIZATION_FAILED",
	0x0000006A: "LPC_INITIALIZATION_FAILED",
	0x0000006B: "PROCESS1_INITIALIZATION_FAILED",
	0x0000006C: "REFMON_INITIALIZATION_FAILED",
	0x0000006D: "SESSION1_INITIALIZATION_FAILED",
	0x0000006E: "SESSION2_INITIALIZATION_FAILED",
	0x0000006F: "SESSION3_INITIALIZATION_FAILED",
	0x00000070: "SESSION4_INITIALIZATION_FAILED",
	0x00000071: "SESSION5_INITIALIZATION_FAILED",
	0x00000072: "ASSIGN_DRIVE_LETTERS_FAILED",
	0x00000073: "CONFIG_LIST_FAILED",
	0x00000074: "BAD_SYSTEM_CONFIG_INFO",
	0x00000075: "CANNOT_WRITE_CONFIGURATION",
	0x00000076: "PROCESS_HAS_LOCKED_PAGES",
	0x00000077: "KERNEL_STACK_INPAGE_ERROR",
	0x00000078: "PHASE0_EXCEPTION",
	0x00000079: "MISMATCHED_HAL",
	0x0000007A: "KERNEL_DATA_INPAGE_ERROR",
	0x0000007B: "INACCESSIBLE_BOOT_DEVICE",
	0x0000007C: "BUGCODE_NDIS_DRIVER",
	0x0000007D: "INSTALL_MORE_MEMORY",
	0x0000007E: "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED",
	0x0000007F: "UNEXPECTED_KERNEL_MODE_TRAP",
	0x00000080: "NMI_HARDWARE_FAILURE",
	0x00000081: "SPIN_LOCK_INIT_FAILURE",
	0x00000082: "DFS_FILE_SYSTEM",
	0x00000085: "SETUP_FAILURE",
	0x0000008B: "MBR_CHECKSUM_MISMATCH",
	0x0000008E: "KERNEL_MODE_EXCEPTION_NOT_HANDLED",
	0x0000008F: "PP0_INITIALIZATION_FAILED",
	0x00000090: "PP1_INITIALIZATION_FAILED",
	0x00000092: "UP_DRIVER_ON_MP_SYSTEM",
	0x00000093: "INVALID_KERNEL_HANDLE",
	0x00000094: "KERNEL_STACK_LOCKED_AT_EXIT",
	0x00000096: "INVALID_WORK_QUEUE_ITEM",
	0x00000097: "BOUND_IMAGE_UNSUPPORTED",
	0x00000098: "END_OF_NT_EVALUATION_PERIOD",
	0x00000099: "INVALID_REGION_OR_SEGMENT",
	0x0000009A: "SYSTEM_LICENSE_VIOLATION",
	0x0000009B: "UDFS_FILE_SYSTEM",
	0x0000009C: "MACHINE_CHECK_EXCEPTION",
	0x0000009E: "USER_MODE_HEALTH_MONITOR",
	0x0000009F: "DRIVER_POWER_STATE_FAILURE",
	0x000000A0: "INTERNAL_POWER_ERROR",
	0x000000A1: "PCI_BUS_DRIVER_INTERNAL",
	0x000000A2: "MEMORY_IMAGE_CORRUPT",
	0x000000A3: "ACPI_DRIVER_INTERNAL",
	0x000000A4: "CNSS_FILE_SYSTEM_FILTER",
	0x000000A5: "ACPI_BIOS_ERROR",
	0x000000A7: "BAD_EXHANDLE",
	0x000000AC: "HAL_MEMORY_ALLOCATION",
	0x000000AD: "VIDEO_DRIVER_DEBUG_REPORT_REQUEST",
	0x000000B1: "BGI_DETECTED_VIOLATION",
	0x000000B4: "VIDEO_DRIVER_INIT_FAILURE",
	0x000000B8: "ATTEMPTED_SWITCH_FROM_DPC",
	0x000000B9: "CHIPSET_DETECTED_ERROR",
	0x000000BA: "SESSION_HAS_VALID_VIEWS_ON_EXIT",
	0x000000BB: "NETWORK_BOOT_INITIALIZATION_FAILED",
	0x000000BC: "NETWORK_BOOT_DUPLICATE_ADDRESS",
	0x000000BD: "INVALID_HIBERNATED_STATE",
	0x000000BE: "ATTEMPTED_WRITE_TO_READONLY_MEMORY",
	0x000000BF: "MUTEX_ALREADY_OWNED",
	0x000000C1: "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION",
	0x000000C2: "BAD_POOL_CALLER",
	0x000000C4: "DRIVER_VERIFIER_DETECTED_VIOLATION",
	0x000000C5: "DRIVER_CORRUPTED_EXPOOL",
	0x000000C6: "DRIVER_CAUGHT_MODIFYING_FREED_POOL",
	0x000000C7: "TIMER_OR_DPC_INVALID",
	0x000000C8: "IRQL_UNEXPECTED_VALUE",
	0x000000C9: "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
	0x000000CA: "PNP_DETECTED_FATAL_ERROR",
	0x000000CB: "DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS",
	0x000000CC: "PAGE_FAULT_IN_FREED_SPECIAL_POOL",
	0x000000CD: "PAGE_FAULT_BEYOND_END_OF_ALLOCATION",
	0x000000CE: "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS",
	0x000000CF: "TERMINAL_SERVER_DRIVER_MADE_INCORRECT_MEMORY_REFERENCE",
	0x000000D0: "DRIVER_CORRUPTED_MMPOOL",
	0x000000D1: "DRIVER_IRQL_NOT_LESS_OR_EQUAL",
	0x000000D2: "BUGCODE_ID_DRIVER",
	0x000000D3: "DRIVER_PORTION_MUST_BE_NONPAGED",
	0x000000D4: "SYSTEM_SCAN_AT_RAISED_IRQL_CAUGHT_IMPROPER_DRIVER_UNLOAD",
	0x000000D5: "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL",
	0x000000D6: "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION",
	0x000000D7: "DRIVER_UNMAPPING_INVALID_VIEW",
	0x000000D8: "DRIVER_USED_EXCESSIVE_PTES",
	0x000000D9: "LOCKED_PAGES_TRACKER_CORRUPTION",
	0x000000DA: "SYSTEM_PTE_MISUSE",
	0x000000DB: "DRIVER_CORRUPTED_SYSPTES",
	0x000000DC: "DRIVER_INVALID_STACK_ACCESS",
	0x000000DE: "POOL_CORRUPTION_IN_FILE_AREA",
	0x000000DF: "IMPERSONATING_WORKER_THREAD",
	0x000000E0: "ACPI_BIOS_FATAL_ERROR",
	0x000000E1: "WORKER_THREAD_RETURNED_AT_BAD_IRQL",
	0x000000E2: "MANUALLY_INITIATED_CRASH",
	0x000000E3: "RESOURCE_NOT_OWNED",
	0x000000E4: "WORKER_INVALID",
	0x000000E6: "DRIVER_VERIFIER_DMA_VIOLATION",
	0x000000E7: "INVALID_FLOATING_POINT_STATE",
	0x000000E8: "INVALID_CANCEL_OF_FILE_OPEN",
	0x000000E9: "ACTIVE_EX_WORKER_THREAD_TERMINATION",
	0x000000EA: "THREAD_STUCK_IN_DEVICE_DRIVER",
	0x000000EB: "DIRTY_MAPPED_PAGES_CONGESTION",
	0x000000EC: "SESSION_HAS_VALID_SPECIAL_POOL_ON_EXIT",
	0x000000ED: "UNMOUNTABLE_BOOT_VOLUME",
	0x000000EF: "CRITICAL_PROCESS_DIED",
	0x000000F0: "STORAGE_MINIPORT_ERROR",
	0x000000F1: "SCSI_VERIFIER_DETECTED_VIOLATION",
	0x000000F2: "HARDWARE_INTERRUPT_STORM",
	0x000000F3: "DISORDERLY_SHUTDOWN",
	0x000000F4: "CRITICAL_OBJECT_TERMINATION",
	0x000000F5: "FLTMGR_FILE_SYSTEM",
	0x000000F6: "PCI_VERIFIER_DETECTED_VIOLATION",
	0x000000F7: "DRIVER_OVERRAN_STACK_BUFFER",
	0x000000F8: "RAMDISK_BOOT_INITIALIZATION_FAILED",
	0x000000F9: "DRIVER_RETURNED_STATUS_REPARSE_FOR_VOLUME_OPEN",
	0x000000FA: "HTTP_DRIVER_CORRUPTED",
	0x000000FC: "ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY",
	0x000000FD: "DIRTY_NOWRITE_PAGES_CONGESTION",
	0x000000FE: "BUGCODE_USB_DRIVER",
	0x000000FF: "RESERVE_QUEUE_OVERFLOW",
	0x00000100: "LOADER_BLOCK_MISMATCH",
	0x00000101: "CLOCK_WATCHDOG_TIMEOUT",
	0x00000102: "DPC_WATCHDOG_TIMEOUT",
	0x00000103: "MUP_FILE_SYSTEM",
	0x00000104: "AGP_INVALID_ACCESS",
	0x00000105: "AGP_GART_CORRUPTION",
	0x00000106: "AGP_ILLEGALLY_REPROGRAMMED",
	0x00000108: "THIRD_PARTY_FILE_SYSTEM_FAILURE",
	0x00000109: "CRITICAL_STRUCTURE_CORRUPTION",
	0x0000010A: "APP_TAGGING_INITIALIZATION_FAILED",
	0x0000010C: "FSRTL_EXTRA_CREATE_PARAMETER_VIOLATION",
	0x0000010D: "WDF_VIOLATION",
	0x0000010E: "VIDEO_MEMORY_MANAGEMENT_INTERNAL",
	0x0000010F: "RESOURCE_MANAGER_EXCEPTION_NOT_HANDLED",
	0x00000111: "RECURSIVE_NMI",
	0x00000112: "MSRPC_STATE_VIOLATION",
	0x00000113: "VIDEO_DXGKRNL_FATAL_ERROR",
	0x00000114: "VIDEO_SHADOW_DRIVER_FATAL_ERROR",
	0x00000115: "AGP_INTERNAL",
	0x00000116: "VIDEO_TDR_FAILURE",
	0x00000117: "VIDEO_TDR_TIMEOUT_DETECTED",
	0x00000119: "VIDEO_SCHEDULER_INTERNAL_ERROR",
	0x0000011A: "EM_INITIALIZATION_FAILURE",
	0x0000011B: "DRIVER_RETURNED_HOLDING_CANCEL_LOCK",
	0x0000011C: "ATTEMPTED_WRITE_TO_CM_PROTECTED_STORAGE",
	0x0000011D: "EVENT_TRACING_FATAL_ERROR",
	0x0000011E: "TOO_MANY_RECURSIVE_FAULTS",
	0x0000011F: "INVALID_DRIVER_HANDLE",
	0x00000120: "BITLOCKER_FATAL_ERROR",
	0x00000121: "DRIVER_VIOLATION",
	0x00000122: "WHEA_INTERNAL_ERROR",
	0x00000123: "CRYPTO_SELF_TEST_FAILURE",
	0x00000124: "WHEA_UNCORRECTABLE_ERROR",
	0x00000125: "NMR_INVALID_STATE",
	0x00000126: "NETIO_INVALID_POOL_CALLER",
	0x00000127: "PAGE_NOT_ZERO",
	0x00000128: "WORKER_THREAD_RETURNED_WITH_BAD_IO_PRIORITY",
	0x00000129: "WORKER_THREAD_RETURNED_WITH_BAD_PAGING_IO_PRIORITY",
	0x0000012A: "MUI_NO_VALID_SYSTEM_LANGUAGE",
	0x0000012B: "FAULTY_HARDWARE_CORRUPTED_PAGE",
	0x0000012C: "EXFAT_FILE_SYSTEM",
	0x0000012D: "VOLSNAP_OVERLAPPED_TABLE_ACCESS",
	0x0000012E: "INVALID_MDL_RANGE",
	0x0000012F: "VHD_BOOT_INITIALIZATION_FAILED",
	0x00000130: "DYNAMIC_ADD_PROCESSOR_MISMATCH",
	0x00000131: "INVALID_EXTENDED_PROCESSOR_STATE",
	0x00000132: "RESOURCE_OWNER_POINTER_INVALID",
	0x00000133: "DPC_WATCHDOG_VIOLATION",
	0x00000134: "DRIVE_EXTENDER",
	0x00000135: "REGISTRY_FILTER_DRIVER_EXCEPTION",
	0x00000136: "VHD_BOOT_HOST_VOLUME_NOT_ENOUGH_SPACE",
	0x00000137: "WIN32K_HANDLE_MANAGER",
	0x00000138: "GPIO_CONTROLLER_DRIVER_ERROR",
	0x00000139: "KERNEL_SECURITY_CHECK_FAILURE",
	0x0000013A: "KERNEL_MODE_HEAP_CORRUPTION",
	0x0000013B: "PASSIVE_INTERRUPT_ERROR",
	0x0000013C: "INVALID_IO_BOOST_STATE",
	0x0000013D: "CRITICAL_INITIALIZATION_FAILURE",
	0x00000140: "STORAGE_DEVICE_ABNORMALITY_DETECTED",
	0x00000143: "PROCESSOR_DRIVER_INTERNAL",
	0x00000144: "BUGCODE_USB3_DRIVER",
	0x00000145: "SECURE_BOOT_VIOLATION",
	0x00000147: "ABNORMAL_RESET_DETECTED",
	0x00000149: "REFS_FILE_SYSTEM",
	0x0000014A: "KERNEL_WMI_INTERNAL",
	0x0000014B: "SOC_SUBSYSTEM_FAILURE",
	0x0000014C: "FATAL_ABNORMAL_RESET_ERROR",
	0x0000014D: "EXCEPTION_SCOPE_INVALID",
	0x0000014E: "SOC_CRITICAL_DEVICE_REMOVED",
	0x0000014F: "PDC_WATCHDOG_TIMEOUT",
	0x00000150: "TCPIP_AOAC_NIC_ACTIVE_REFERENCE_LEAK",
	0x00000151: "UNSUPPORTED_INSTRUCTION_MODE",
	0x00000152: "INVALID_PUSH_LOCK_FLAGS",
	0x00000153: "KERNEL_LOCK_ENTRY_LEAKED_ON_THREAD_TERMINATION",
	0x00000154: "UNEXPECTED_STORE_EXCEPTION",
	0x00000155: "OS_DATA_TAMPERING",
	0x00000157: "KERNEL_THREAD_PRIORITY_FLOOR_VIOLATION",
	0x00000158: "ILLEGAL_IOMMU_PAGE_FAULT",
	0x00000159: "HAL_ILLEGAL_IOMMU_PAGE_FAULT",
	0x0000015A: "SDBUS_INTERNAL_ERROR",
	0x0000015B: "WORKER_THREAD_RETURNED_WITH_SYSTEM_PAGE_PRIORITY_ACTIVE",
	0x00000160: "WIN32K_ATOMIC_CHECK_FAILURE",
	0x00000162: "KERNEL_AUTO_BOOST_INVALID_LOCK_RELEASE",
	0x00000163: "WORKER_THREAD_TEST_CONDITION",
	0x00000164: "WIN32K_CRITICAL_FAILURE",
	0x0000016C: "INVALID_RUNDOWN_PROTECTION_FLAGS",
	0x0000016D: "INVALID_SLOT_ALLOCATOR_FLAGS",
	0x0000016E: "ERESOURCE_INVALID_RELEASE",
	0x00000170: "CLUSTER_CSV_CLUSSVC_DISCONNECT_WATCHDOG",
	0x00000171: "CRYPTO_LIBRARY_INTERNAL_ERROR",
	0x00000173: "COREMSGCALL_INTERNAL_ERROR",
	0x00000174: "COREMSG_INTERNAL_ERROR",
	0x00000178: "ELAM_DRIVER_DETECTED_FATAL_ERROR",
	0x0000017B: "PROFILER_CONFIGURATION_ILLEGAL",
	0x0000017E: "MICROCODE_REVISION_MISMATCH",
	0x00000187: "VIDEO_DWMINIT_TIMEOUT_FALLBACK_BDD",
	0x00000189: "BAD_OBJECT_HEADER",
	0x0000018B: "SECURE_KERNEL_ERROR",
	0x0000018C: "HYPERGUARD_VIOLATION",
	0x0000018D: "SECURE_FAULT_UNHANDLED",
	0x0000018E: "KERNEL_PARTITION_REFERENCE_VIOLATION",
	0x00000191: "PF_DETECTED_CORRUPTION",
	0x00000192: "KERNEL_AUTO_BOOST_LOCK_ACQUISITION_WITH_RAISED_IRQL",
	0x00000196: "LOADER_ROLLBACK_DETECTED",
	0x00000197: "WIN32K_SECURITY_FAILURE",
	0x00000199: "KERNEL_STORAGE_SLOT_IN_USE",
	0x0000019A: "WORKER_THREAD_RETURNED_WHILE_ATTACHED_TO_SILO",
	0x0000019B: "TTM_FATAL_ERROR",
	0x0000019C: "WIN32K_POWER_WATCHDOG_TIMEOUT",
	0x000001A0: "TTM_WATCHDOG_TIMEOUT",
	0x000001A2: "WIN32K_CALLOUT_WATCHDOG_BUGCHECK",
	0x000001AA: "EXCEPTION_ON_INVALID_STACK",
	0x000001AB: "UNWIND_ON_INVALID_STACK",
	0x000001C6: "FAST_ERESOURCE_PRECONDITION_VIOLATION",
	0x000001C7: "STORE_DATA_STRUCTURE_CORRUPTION",
	0x000001C8: "MANUALLY_INITIATED_POWER_BUTTON_HOLD",
	0x000001CA: "SYNTHETIC_WATCHDOG_TIMEOUT",
	0x000001CB: "INVALID_SILO_DETACH",
	0x000001CD: "INVALID_CALLBACK_STACK_ADDRESS",
	0x000001CE: "INVALID_KERNEL_STACK_ADDRESS",
	0x000001CF: "HARDWARE_WATCHDOG_TIMEOUT",
	0x000001D0: "CPI_FIRMWARE_WATCHDOG_TIMEOUT",
	0x000001D2: "WORKER_THREAD_INVALID_STATE",
	0x000001D3: "WFP_INVALID_OPERATION",
	0x000001D5: "DRIVER_PNP_WATCHDOG",
	0x000001D6: "WORKER_THREAD_RETURNED_WITH_NON_DEFAULT_WORKLOAD_CLASS",
	0x000001D7: "EFS_FATAL_ERROR",
	0x000001D8: "UCMUCSI_FAILURE",
	0x000001D9: "HAL_IOMMU_INTERNAL_ERROR",
	0x000001DA: "HAL_BLOCKED_PROCESSOR_INTERNAL_ERROR",
	0x000001DB: "IPI_WATCHDOG_TIMEOUT",
	0x000001DC: "DMA_COMMON_BUFFER_VECTOR_ERROR",
	0x000001DD: "BUGCODE_MBBADAPTER_DRIVER",
	0x000001DE: "BUGCODE_WIFIADAPTER_DRIVER",
	0x000001DF: "PROCESSOR_START_TIMEOUT",
	0x000001E4: "VIDEO_DXGKRNL_SYSMM_FATAL_ERROR",
	0x000001E9: "ILLEGAL_ATS_INITIALIZATION",
	0x000001EA: "SECURE_PCI_CONFIG_SPACE_ACCESS_VIOLATION",
	0x000001EB: "DAM_WATCHDOG_TIMEOUT",
	0x000001ED: "HANDLE_ERROR_ON_CRITICAL_THREAD",
	0x000001F1: "KASAN_ENLIGHTENMENT_VIOLATION",
	0x000001F2: "KASAN_ILLEGAL_ACCESS",
	0x00000356: "XBOX_ERACTRL_CS_TIMEOUT",
	0x00000BFE: "BC_BLUETOOTH_VERIFIER_FAULT",
	0x00000BFF: "BC_BTHMINI_VERIFIER_FAULT",
	0x00020001: "HYPERVISOR_ERROR",
	0x1000007E: "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M",
	0x1000007F: "UNEXPECTED_KERNEL_MODE_TRAP_M",
	0x1000008E: "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M",
	0x100000EA: "THREAD_STUCK_IN_DEVICE_DRIVER_M",
	0x4000008A: "THREAD_TERMINATE_HELD_MUTEX",
	0xC0000218: "STATUS_CANNOT_LOAD_REGISTRY_FILE",
	0xC000021A: "WINLOGON_FATAL_ERROR",
	0xC0000221: "STATUS_IMAGE_CHECKSUM_MISMATCH",
	0xDEADDEAD: "MANUALLY_INITIATED_CRASH1",
	0x00000161: "LIVE_SYSTEM_DUMP",
	0x00000193: "VIDEO_DXGKRNL_LIVEDUMP",
	0x00000198: "UFX_LIVEDUMP",
}

// analyzeWaitChain prints the blocking thread's wait chain and the driver
// it ends at, when the session holds a kernel dump of the same machine.
func (c *Ctx) analyzeWaitChain(thread int, verbose bool) {
	corr, err := c.correlate()
	if err != nil {
		if len(c.Systems()) > 1 {
			c.key("WAIT_CHAIN", "not followed into the kernel: "+err.Error())
		}
		return
	}
	ch := chainer{c: c, corr: corr, user: corr.user, kern: corr.kern, drivers: map[string]driverEnd{}}
	w := ch.follow(thread)
	c.Println("WAIT_CHAIN: (ntdbg: !waitchain of the blocking thread)")
	for _, e := range w.edges {
		mark := "inferred"
		if e.Proved {
			mark = "proved"
		}
		c.Printf("    -> %s  [%s]\n", e.Text, mark)
	}
	if w.end != "" {
		c.Printf("    (end: %s)\n", w.end)
	}
	c.Println()
	for _, e := range w.edges {
		if e.Driver == "" {
			continue
		}
		image := e.Driver
		if m := corr.kern.S.ModuleByName(e.Driver); m != nil {
			image = m.ImageName
		}
		c.key("PROBABLY_CAUSED_BY", image)
		if verbose {
			c.key("PROBABLY_CAUSED_BY_REASON", "ntdbg: the blocking thread's wait chain ends at a request this driver's device holds pending ("+e.Evidence+")")
		}
		return
	}
}
