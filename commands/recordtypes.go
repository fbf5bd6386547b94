package commands

import (
	"strconv"
	"strings"

	"github.com/ntdbg/ntdbg/engine/nt"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/unwind"
)

// The records commands attach to their output (issue 13), one Go type per
// kind. Field names are the JSON names; addresses are hex strings with 0x
// (lower case, no padding, no backtick: `schema:"hex"`), counts and ids
// are numbers, and a field that has no value is null, never omitted.
// docs/schemas/<kind>.schema.json is generated from these types
// (RecordSchema; TestRecordSchemaFiles keeps the files in step).

// RecordKinds maps each record kind to a value of its Go type.
var RecordKinds = map[string]any{
	"thread":           ThreadRecord{},
	"frame":            FrameRecord{},
	"module":           ModuleRecord{},
	"registers":        RegistersRecord{},
	"memory":           MemoryRecord{},
	"type_member":      TypeMemberRecord{},
	"critical_section": CritSecRecord{},
	"kprocess":         KProcessRecord{},
	"kthread":          KThreadRecord{},
	"kstack":           KStackRecord{},
	"wait_chain":       WaitChainRecord{},
	"analysis_field":   AnalysisFieldRecord{},
}

// AddRecordKind registers an extension's record kind for the
// schema files and their test.
func AddRecordKind(kind string, v any) { RecordKinds[kind] = v }

// ThreadRecord is one line of `~`.
type ThreadRecord struct {
	Index     int     `json:"index" doc:"the debugger's thread number (~N)"`
	ProcessID uint32  `json:"process_id" doc:"the process id"`
	ID        uint32  `json:"id" doc:"the thread id"`
	Teb       string  `json:"teb" schema:"hex" doc:"the thread environment block"`
	Suspend   uint32  `json:"suspend" doc:"the suspend count"`
	Current   bool    `json:"current" doc:"the current thread (. in the text)"`
	Event     bool    `json:"event" doc:"the event thread (# in the text)"`
	Name      *string `json:"name" doc:"the thread's description, when the dump records one"`
}

// FrameRecord is one frame of the k family (and of !cs -o's owner stack).
type FrameRecord struct {
	Thread             int     `json:"thread" doc:"the debugger's thread number whose stack this is (-1: a kernel thread by address)"`
	Frame              int     `json:"frame" doc:"the frame number"`
	ChildSP            string  `json:"child_sp" schema:"hex" doc:"the stack pointer in this frame (Child-SP)"`
	ChildEBP           *string `json:"child_ebp" schema:"hex" doc:"x86: the frame pointer (ChildEBP); null on x64"`
	ReturnAddress      string  `json:"return_address" schema:"hex" doc:"the return address (RetAddr)"`
	InstructionPointer string  `json:"instruction_pointer" schema:"hex" doc:"the frame's instruction pointer"`
	CallSite           string  `json:"call_site" doc:"the Call Site column as k prints it (kc: without offsets), before parameters and source"`
	Module             *string `json:"module" doc:"the module holding the instruction pointer"`
	Symbol             *string `json:"symbol" doc:"module!function, when symbols name the function"`
	Offset             *string `json:"offset" schema:"hex" doc:"from the function (or from the module's base when no function is named)"`
	SourceFile         *string `json:"source_file" doc:"the source file, from private symbols"`
	SourceLine         *int    `json:"source_line" doc:"the source line, from private symbols"`
	Trust              string  `json:"trust" doc:"how the frame's registers were found: context, unwind_data, frame_program, frame_pointer or scan"`
}

// ModuleRecord is one module of lm.
type ModuleRecord struct {
	Base      string  `json:"base" schema:"hex" doc:"the image base"`
	End       string  `json:"end" schema:"hex" doc:"the first address after the image"`
	Name      string  `json:"name" doc:"the module name (file name without extension)"`
	Image     string  `json:"image" doc:"the image file name"`
	Path      string  `json:"path" doc:"the image path as the dump records it"`
	Timestamp uint32  `json:"timestamp" doc:"the PE TimeDateStamp"`
	Checksum  uint32  `json:"checksum" doc:"the PE checksum"`
	Symbols   string  `json:"symbols" doc:"symbol state: pdb, private_pdb, export, isf, none or deferred"`
	PdbPath   *string `json:"pdb_path" doc:"the symbol file loaded (PDB or ISF), when one is"`
	Unloaded  bool    `json:"unloaded" doc:"from the unloaded module list"`
}

// RegistersRecord is what r shows: register (or pseudo-register) names to values.
type RegistersRecord struct {
	Thread    int               `json:"thread" doc:"the debugger's thread number"`
	Registers map[string]string `json:"registers" schema:"hex" doc:"name (rax, rip, efl, cs, $teb ...) to value"`
}

// MemoryRecord is one line of a d* command.
type MemoryRecord struct {
	Command     string    `json:"command" doc:"the display kind: db, dw, dd, dq, dp, dc, dps ..."`
	Address     string    `json:"address" schema:"hex" doc:"the line's first address"`
	ElementSize int       `json:"element_size" doc:"bytes per value"`
	Values      []*string `json:"values" schema:"hex" doc:"the values as read; null where the memory could not be read"`
	Symbols     []*string `json:"symbols" doc:"dps/dqs/dds: the symbol each value names (null: none); null for the other kinds"`
}

// TypeMemberRecord is one member line of dt.
type TypeMemberRecord struct {
	Type    string  `json:"type" doc:"the type that holds the member (the displayed type, or an expanded member's type)"`
	Address *string `json:"address" schema:"hex" doc:"the member's address; null when dt shows the type without an address"`
	Level   int     `json:"level" doc:"nesting depth (0: a member of the type itself)"`
	Offset  int     `json:"offset" doc:"the member's offset from its containing type"`
	Name    string  `json:"name" doc:"the member's name"`
	MType   string  `json:"member_type" doc:"the member's type name"`
	Value   *string `json:"value" doc:"the value text as dt prints it; null without an address"`
}

// CritSecRecord is one critical section of !cs.
type CritSecRecord struct {
	Address        string  `json:"address" schema:"hex" doc:"the RTL_CRITICAL_SECTION"`
	DebugInfo      string  `json:"debug_info" schema:"hex" doc:"its RTL_CRITICAL_SECTION_DEBUG"`
	Locked         bool    `json:"locked" doc:"held"`
	Waiters        *int    `json:"waiters" doc:"the LockCount shown: threads waiting (null when not locked)"`
	WaiterWoken    *bool   `json:"waiter_woken" doc:"a waiter has been woken (null when not locked)"`
	OwningThread   *string `json:"owning_thread" schema:"hex" doc:"the owner's thread id (null when not locked)"`
	OwnerIndex     *int    `json:"owner_index" doc:"the owner's debugger thread number, when a thread of the dump has its id"`
	RecursionCount *int    `json:"recursion_count" doc:"the RecursionCount (null when not locked)"`
	LockSemaphore  string  `json:"lock_semaphore" schema:"hex" doc:"the LockSemaphore handle"`
	SpinCount      string  `json:"spin_count" schema:"hex" doc:"the SpinCount"`
}

// KProcessRecord is one process of !process.
type KProcessRecord struct {
	Address     string `json:"address" schema:"hex" doc:"the EPROCESS"`
	SessionID   string `json:"session_id" doc:"the SessionId as printed (a number, or none)"`
	Cid         uint64 `json:"cid" doc:"the process id"`
	Peb         string `json:"peb" schema:"hex" doc:"the PEB"`
	ParentCid   uint64 `json:"parent_cid" doc:"the parent's process id"`
	DirBase     string `json:"dir_base" schema:"hex" doc:"the page directory base"`
	ObjectTable string `json:"object_table" schema:"hex" doc:"the handle table"`
	Image       string `json:"image" doc:"ImageFileName"`
}

// KThreadRecord is one thread of !thread (and of !process's thread lists).
type KThreadRecord struct {
	Address     string        `json:"address" schema:"hex" doc:"the ETHREAD"`
	Pid         uint64        `json:"pid" doc:"Cid.UniqueProcess"`
	Tid         uint64        `json:"tid" doc:"Cid.UniqueThread"`
	Teb         string        `json:"teb" schema:"hex" doc:"the TEB"`
	Process     string        `json:"process" schema:"hex" doc:"the owning EPROCESS"`
	Summary     string        `json:"summary" doc:"the THREAD line as printed (state, wait reason, mode)"`
	WaitObjects []string      `json:"wait_objects" doc:"the wait block lines as printed"`
	Irps        []string      `json:"irps" doc:"the IRP list lines as printed"`
	WaitTicks   *uint64       `json:"wait_ticks" doc:"ticks since the wait started, when the tick count is known"`
	Frames      []FrameRecord `json:"frames" doc:"the stack, when it is shown (null otherwise)"`
}

// KStackRecord is one thread of !stacks.
type KStackRecord struct {
	Process string   `json:"process" schema:"hex" doc:"the EPROCESS"`
	Image   string   `json:"image" doc:"the process's image name"`
	Pid     uint64   `json:"pid" doc:"the process id"`
	Tid     uint64   `json:"tid" doc:"the thread id"`
	Thread  string   `json:"thread" schema:"hex" doc:"the ETHREAD"`
	Ticks   int64    `json:"ticks" doc:"WaitTime - TickCount, as !stacks prints it in hex (negative: ticks ago)"`
	State   string   `json:"state" doc:"RUNNING, READY, Blocked ..."`
	Frames  []string `json:"frames" doc:"the call sites, top first (empty: the stack is paged out)"`
}

// WaitEdgeRecord is one step of a wait chain.
type WaitEdgeRecord struct {
	Text     string  `json:"text" doc:"what the step reaches, as printed"`
	Evidence string  `json:"evidence" doc:"what it rests on"`
	Proved   bool    `json:"proved" doc:"read from structures (false: inferred from a stack or a heuristic)"`
	Object   *string `json:"object" schema:"hex" doc:"the kernel object followed further, if any"`
	Driver   *string `json:"driver" doc:"the module whose threads end the chain, if any"`
}

// WaitChainRecord is one chain of !waitchain (for -all, one group of threads sharing it).
type WaitChainRecord struct {
	Start   string           `json:"start" doc:"the thread the chain starts from, as printed (for -all: the first of the group)"`
	Threads []int            `json:"threads" doc:"-all: the debugger thread numbers sharing the chain; null for one thread's chain"`
	Edges   []WaitEdgeRecord `json:"edges" doc:"the steps, in order"`
	Cycle   bool             `json:"cycle" doc:"the chain returns to a thread in it (a deadlock)"`
	Members []string         `json:"members" doc:"the threads of the cycle (null without one)"`
	End     *string          `json:"end" doc:"why the chain stops"`
}

// AnalysisFieldRecord is one KEY: value field of !analyze.
type AnalysisFieldRecord struct {
	Key   string `json:"key" doc:"the field name (BUGCHECK_CODE, SYMBOL_NAME, FAILURE_BUCKET_ID ...)"`
	Value string `json:"value" doc:"its value as printed"`
}

// Recording reports whether the running command's records are collected
// (records cost nothing in text mode).
func (c *Ctx) Recording() bool { return c.records != nil }

// Hex is an address as records give it: 0x and lower-case hex digits.
func Hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

func hexp(v uint64) *string { s := Hex(v); return &s }

func strp(s string) *string { return &s }

func trustTag(t unwind.Trust) string { return strings.ReplaceAll(t.String(), " ", "_") }

// frameRecord is the record of frame i of a k listing.
func (c *Ctx) frameRecord(thread int, frames []unwind.Frame, i int, clean bool) FrameRecord {
	f := &frames[i]
	r := FrameRecord{Thread: thread, Frame: i, ChildSP: Hex(f.SP), ReturnAddress: Hex(f.RetAddr),
		InstructionPointer: Hex(f.IP), CallSite: c.callSite(f, clean), Trust: trustTag(f.Trust)}
	if c.S.Target.Arch() == target.ArchX86 {
		r.ChildEBP = hexp(uint64(uint32(f.FP)))
		r.ReturnAddress = Hex(uint64(uint32(f.RetAddr)))
	}
	look := f.LookupIP()
	if m, sym, disp, ok := c.S.Symbols.Nearest(look); ok {
		r.Module = strp(m.Name)
		if sym != "" {
			r.Symbol = strp(m.Name + "!" + sym)
			r.Offset = hexp(disp + f.IP - look)
		} else {
			r.Offset = hexp(f.IP - m.Base)
		}
	} else if m := c.S.ModuleAt(look); m != nil {
		r.Module, r.Offset = strp(m.Name), hexp(f.IP-m.Base)
	}
	if l, ok := c.S.Symbols.Line(look); ok && l.File != "" {
		n := int(l.Line)
		r.SourceFile, r.SourceLine = strp(l.File), &n
	}
	return r
}

// threadRecord is the record of `~`'s line for thread i.
func (c *Ctx) threadRecord(i int) ThreadRecord {
	th := c.S.Target.Threads()[i]
	r := ThreadRecord{Index: i, ProcessID: c.pid(), ID: th.ID, Teb: Hex(th.Teb), Suspend: th.Suspend,
		Current: i == c.S.CurThread, Event: i == c.S.EventThread}
	if th.Name != "" {
		r.Name = strp(th.Name)
	}
	return r
}

// moduleRecord is lm's record of m.
func (c *Ctx) moduleRecord(m *target.Module, unloaded bool) ModuleRecord {
	r := ModuleRecord{Base: Hex(m.Base), End: Hex(m.End()), Name: m.Name, Image: m.ImageName, Path: m.Path,
		Timestamp: m.TimeDateStamp, Checksum: m.CheckSum, Symbols: "deferred", Unloaded: unloaded}
	if unloaded {
		r.Symbols = "none"
		return r
	}
	ms := c.S.Symbols.Get(m)
	switch ms.State {
	case symbols.SymPDB:
		r.Symbols, r.PdbPath = "pdb", strp(ms.PdbPath)
	case symbols.SymPrivatePDB:
		r.Symbols, r.PdbPath = "private_pdb", strp(ms.PdbPath)
	case symbols.SymExport:
		r.Symbols = "export"
	case symbols.SymISF:
		r.Symbols, r.PdbPath = "isf", strp(ms.ISFPath)
	case symbols.SymNone:
		r.Symbols = "none"
	}
	return r
}

// regRecord names every register printRegisters shows.
func regRecord(thread int, r *target.Registers) RegistersRecord {
	m := map[string]string{}
	if r.Arch == target.ArchAMD64 {
		names := []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
		for _, n := range names {
			if v, ok := r.Get(n); ok {
				m[n] = Hex(v)
			}
		}
		m["rip"] = Hex(r.IP)
	} else {
		for _, n := range []string{"eax", "ebx", "ecx", "edx", "esi", "edi", "esp", "ebp"} {
			if v, ok := r.Get(n); ok {
				m[n] = Hex(v)
			}
		}
		m["eip"] = Hex(r.IP)
	}
	m["efl"] = Hex(r.Flags)
	for n, v := range map[string]uint64{"cs": uint64(r.Cs), "ss": uint64(r.Ss), "ds": uint64(r.Ds), "es": uint64(r.Es), "fs": uint64(r.Fs), "gs": uint64(r.Gs)} {
		m[n] = Hex(v)
	}
	return RegistersRecord{Thread: thread, Registers: m}
}

// csRecord is !cs's record of one section.
func (c *Ctx) csRecord(cs nt.CritSec) CritSecRecord {
	r := CritSecRecord{Address: Hex(cs.Addr), DebugInfo: Hex(cs.DebugInfo), Locked: cs.Locked(),
		LockSemaphore: Hex(cs.Semaphore), SpinCount: Hex(cs.SpinCnt)}
	if cs.Locked() {
		w, woken, rec := int(cs.Waiters()), cs.WaiterWoken(), int(uint32(cs.Recursion))
		r.Waiters, r.WaiterWoken, r.OwningThread, r.RecursionCount = &w, &woken, hexp(cs.Owner), &rec
		for _, th := range c.S.Target.Threads() {
			if uint64(th.ID) == cs.Owner {
				idx := th.Index
				r.OwnerIndex = &idx
				break
			}
		}
	}
	return r
}

// waitChainRecord is !waitchain's record of w.
func waitChainRecord(w waitChain, threads []int) WaitChainRecord {
	r := WaitChainRecord{Start: w.start, Threads: threads, Edges: []WaitEdgeRecord{}, Cycle: w.cycle, Members: w.members}
	for _, e := range w.edges {
		er := WaitEdgeRecord{Text: e.Text, Evidence: e.Evidence, Proved: e.Proved}
		if e.Object != 0 {
			er.Object = hexp(e.Object)
		}
		if e.Driver != "" {
			er.Driver = strp(e.Driver)
		}
		r.Edges = append(r.Edges, er)
	}
	if w.end != "" {
		r.End = strp(w.end)
	}
	return r
}

// analysisField records a !analyze field printed other than through key.
func (c *Ctx) analysisField(key, value string) {
	if c.Recording() {
		c.Record("analysis_field", AnalysisFieldRecord{Key: key, Value: value})
	}
}

// memoryRecord is a d* line's record: got of the line's bytes were read.
func (c *Ctx) memoryRecord(kind string, addr uint64, buf []byte, elem, got uint64) MemoryRecord {
	r := MemoryRecord{Command: kind, Address: Hex(addr), ElementSize: int(elem), Values: []*string{}}
	sym := kind == "dps" || kind == "dqs" || kind == "dds"
	if sym {
		r.Symbols = []*string{}
	}
	for o := uint64(0); o+elem <= uint64(len(buf)); o += elem {
		if o+elem > got {
			r.Values = append(r.Values, nil)
			if sym {
				r.Symbols = append(r.Symbols, nil)
			}
			continue
		}
		v := le(buf[o : o+elem])
		r.Values = append(r.Values, hexp(v))
		if sym {
			var s *string
			if name := c.symbolize(v); name != "" {
				s = strp(name)
			}
			r.Symbols = append(r.Symbols, s)
		}
	}
	return r
}

func typeMemberRecord(typ string, base uint64, hasAddr bool, level int, off uint64, name, mtype string, val *string) TypeMemberRecord {
	r := TypeMemberRecord{Type: typ, Level: level, Offset: int(off), Name: name, MType: mtype, Value: val}
	if hasAddr {
		r.Address = hexp(base + off)
	}
	return r
}

func kthreadRecord(t *nt.Thread) *KThreadRecord {
	return &KThreadRecord{Address: Hex(t.Addr), Pid: t.Pid, Tid: t.Tid, Teb: Hex(t.Teb), Process: Hex(t.Process),
		Summary: threadLine(t), WaitObjects: []string{}, Irps: []string{}}
}
