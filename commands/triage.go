package commands

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ntdbg/ntdbg/engine/target"
)

// Triage commands over what a user dump records besides memory: the
// MemoryInfoList (!address), the HandleData stream (!handle), and the
// debugger's own state (version, .chain, .extpath, n).

func init() {
	Register(&Command{Name: "!address", Family: "registers and memory", Syntax: "!address [Address | -summary]", Needs: Needs{User: true},
		Summary: "show the memory region holding an address, every region, or a summary by usage, type, state and protection",
		Help: "Regions come from the dump's MemoryInfoList stream. Usage is Image (a module), Stack, TEB and PEB (from the threads\n" +
			"and the PEB), Free, or <unknown>; heaps are not walked yet, so heap memory counts as <unknown>.",
		Run: cmdAddress})
	Register(&Command{Name: "!handle", Family: "process structures", Syntax: "!handle [Handle [UMFlags [TypeName]]]", Needs: Needs{User: true},
		Summary: "show the handles the dump recorded (HandleData stream)",
		Help: "UMFlags: 1 type, 2 basic information, 4 name, 8 object-specific information (not recorded in dumps); default 1.\n" +
			"Handle 0 or -1 (or none) shows every handle, then a count by type.",
		Run: cmdHandle})
	Register(&Command{Name: "version", Family: "modules and target", Syntax: "version",
		Summary: "show the target's version, then the debugger's and its extensions'", Run: cmdVersion})
	Register(&Command{Name: ".chain", Family: "session", Syntax: ".chain",
		Summary: "list the extension search path and the loaded extensions", Run: cmdChain})
	Register(&Command{Name: ".extpath", Family: "session", Syntax: ".extpath [Path]",
		Summary: "show or set the extension search path (extensions are built in; the path is recorded and shown)",
		Run:     cmdExtpath})
	Register(&Command{Name: "n", Family: "expressions and events", Syntax: "n [Radix]",
		Summary: "show or set the default radix (8, 10 or 16) for numbers without a prefix", Run: cmdRadix})
}

// Version is ntdbg's version, shown in the banner and by `version`.
const Version = "0.9.0"

// VersionBanner is cdb's first two lines with ntdbg's own name in them.
func VersionBanner() []string {
	return []string{
		fmt.Sprintf("ntdbg Windows Debugger Version %s AMD64", Version),
		"Copyright (c) the ntdbg authors. All rights reserved.",
	}
}

const (
	memCommit  = 0x1000
	memReserve = 0x2000
	memFree    = 0x10000
	memPrivate = 0x20000
	memMapped  = 0x40000
	memImage   = 0x1000000
)

func memStateName(s uint32) string {
	switch s {
	case memCommit:
		return "MEM_COMMIT"
	case memReserve:
		return "MEM_RESERVE"
	case memFree:
		return "MEM_FREE"
	}
	return ""
}

func memTypeName(t uint32) string {
	switch t {
	case memPrivate:
		return "MEM_PRIVATE"
	case memMapped:
		return "MEM_MAPPED"
	case memImage:
		return "MEM_IMAGE"
	}
	return ""
}

// protectName spells a PAGE_* protection as WinDbg does, modifiers joined by |.
func protectName(p uint32) string {
	base := map[uint32]string{0x01: "PAGE_NOACCESS", 0x02: "PAGE_READONLY", 0x04: "PAGE_READWRITE", 0x08: "PAGE_WRITECOPY",
		0x10: "PAGE_EXECUTE", 0x20: "PAGE_EXECUTE_READ", 0x40: "PAGE_EXECUTE_READWRITE", 0x80: "PAGE_EXECUTE_WRITECOPY"}
	var parts []string
	if n, ok := base[p&0xff]; ok {
		parts = append(parts, n)
	} else if p&0xff != 0 {
		parts = append(parts, fmt.Sprintf("%x", p&0xff))
	}
	for _, m := range []struct {
		bit  uint32
		name string
	}{{0x100, "PAGE_GUARD"}, {0x200, "PAGE_NOCACHE"}, {0x400, "PAGE_WRITECOMBINE"}} {
		if p&m.bit != 0 {
			parts = append(parts, m.name)
		}
	}
	return strings.Join(parts, "|")
}

// regionUsage classifies the process's regions: which is a module, a
// thread's stack or TEB, or the PEB. The labels follow !address's.
type regionUsage struct {
	usage, detail string
	module        *target.Module
}

func (c *Ctx) classifyRegions(rs []target.Region) []regionUsage {
	out := make([]regionUsage, len(rs))
	find := func(a uint64) int {
		i := sort.Search(len(rs), func(i int) bool { return rs[i].Base+rs[i].Size > a })
		if i < len(rs) && rs[i].Base <= a {
			return i
		}
		return -1
	}
	ps := uint64(c.S.Target.Arch().PtrSize())
	stackAlloc := map[uint64]string{}
	tebAt := map[int]string{}
	pid := c.pid()
	for _, th := range c.S.Target.Threads() {
		label := fmt.Sprintf("[~%d; %x.%x]", th.Index, pid, th.ID)
		if i := find(th.Teb); i >= 0 && th.Teb != 0 {
			tebAt[i] = label
		}
		base, err := c.S.ReadPointer(th.Teb + ps) // NT_TIB.StackBase
		if err != nil || base == 0 {
			continue
		}
		if i := find(base - 1); i >= 0 {
			stackAlloc[rs[i].AllocBase] = label
		}
	}
	peb, _ := c.S.PEB()
	pebAt := -1
	if peb != 0 {
		pebAt = find(peb)
	}
	for i, r := range rs {
		switch {
		case r.State == memFree:
			out[i].usage = "Free"
		case r.Type == memImage || c.S.Target.Kind().IsUser() && c.moduleAt(r.Base) != nil:
			out[i].usage = "Image"
			if m := c.moduleAt(r.Base); m != nil {
				out[i].module = m
				out[i].detail = "[" + m.Name + "; \"" + m.Path + "\"]"
			}
		case tebAt[i] != "":
			out[i].usage, out[i].detail = "TEB", tebAt[i]
		case i == pebAt:
			out[i].usage, out[i].detail = "PEB", fmt.Sprintf("[%x]", pid)
		case stackAlloc[r.AllocBase] != "":
			out[i].usage, out[i].detail = "Stack", stackAlloc[r.AllocBase]
		default:
			out[i].usage = "<unknown>"
		}
	}
	return out
}

func (c *Ctx) moduleAt(a uint64) *target.Module {
	for _, m := range c.S.Target.Modules() {
		if m.Contains(a) {
			return m
		}
	}
	return nil
}

func (c *Ctx) regions() ([]target.Region, error) {
	u, ok := c.S.Target.(*target.UserTarget)
	if !ok {
		return nil, fmt.Errorf("!address: this dump holds no memory region list")
	}
	rs, err := u.Regions()
	if err != nil {
		return nil, fmt.Errorf("!address needs the MemoryInfoList stream, which this dump does not hold (%v)", err)
	}
	rs = append([]target.Region(nil), rs...)
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Base < rs[j].Base })
	return rs, nil
}

// shortPtr prints an address as !address's tables do: high`low with the
// high part unpadded.
func (c *Ctx) shortPtr(v uint64) string {
	if c.S.Target.Arch().PtrSize() == 4 {
		return fmt.Sprintf("%08x", v)
	}
	return fmt.Sprintf("%x`%08x", v>>32, uint32(v))
}

// sizeText is the parenthesised size !address prints: ( 127.994 TB).
func sizeText(n uint64) string {
	units := []string{"kB", "MB", "GB", "TB"}
	v := float64(n) / 1024
	u := 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return fmt.Sprintf("(%8.3f %s)", v, units[u])
}

func cmdAddress(c *Ctx, inv *Invocation) error {
	args := strings.TrimSpace(inv.Args)
	rs, err := c.regions()
	if err != nil {
		return err
	}
	use := c.classifyRegions(rs)
	switch {
	case args == "-summary" || args == "-summ":
		c.addressSummary(rs, use)
		return nil
	case args == "":
		c.addressTable(rs, use)
		c.addressSummary(rs, use)
		return nil
	case strings.HasPrefix(args, "-"):
		return fmt.Errorf("!address: option %s is not supported (use an address, -summary, or nothing)", args)
	}
	a, err := c.Eval(args)
	if err != nil {
		return shiftErr(err, inv.ArgsOff)
	}
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Base+rs[i].Size > a })
	if i == len(rs) || rs[i].Base > a {
		c.Printf("Usage:                  <unknown>\n")
		c.Printf("No region of the dump's memory information holds %s\n", c.ptr(a))
		return nil
	}
	r, u := rs[i], use[i]
	c.Printf("Usage:                  %s\n", u.usage)
	c.Printf("Base Address:           %s\n", c.ptr(r.Base))
	c.Printf("End Address:            %s\n", c.ptr(r.Base+r.Size))
	c.Printf("Region Size:            %s %s\n", c.ptr(r.Size), sizeText(r.Size))
	c.Printf("State:                  %08x          %s\n", r.State, memStateName(r.State))
	if r.State != memFree {
		c.Printf("Protect:                %08x          %s\n", r.Protect, protectName(r.Protect))
		c.Printf("Type:                   %08x          %s\n", r.Type, memTypeName(r.Type))
		c.Printf("Allocation Base:        %s\n", c.ptr(r.AllocBase))
		c.Printf("Allocation Protect:     %08x          %s\n", r.AllocProtect, protectName(r.AllocProtect))
	} else {
		c.Printf("Protect:                %08x          %s\n", r.Protect, protectName(r.Protect))
	}
	switch u.usage {
	case "Image":
		if m := u.module; m != nil {
			c.Printf("Image Path:             %s\n", m.Path)
			c.Printf("Module Name:            %s\n", m.Name)
			c.Printf("Loaded Image Name:      %s\n", m.Path)
			c.Printf("Mapped Image Name:      \n")
			c.Printf("More info:              lmv m %s\n", m.Name)
			c.Printf("More info:              !lmi %s\n", m.Name)
			c.Printf("More info:              ln %#x\n", a)
			c.Printf("More info:              !dh %#x\n", m.Base)
		}
	case "Stack", "TEB":
		c.Printf("More info:              ~%ss\n", strings.TrimPrefix(strings.SplitN(u.detail, ";", 2)[0], "[~"))
	case "PEB":
		c.Printf("More info:              !peb\n")
	}
	c.Println()
	c.Println()
	if r.State == memCommit {
		c.Printf("Content source: 1 (target), length: %x\n", r.Base+r.Size-a)
	} else {
		c.Printf("Content source: 0 (invalid), length: %x\n", r.Base+r.Size-a)
	}
	return nil
}

func (c *Ctx) addressTable(rs []target.Region, use []regionUsage) {
	c.Println()
	c.Printf("        BaseAddress      EndAddress+1        RegionSize     Type       State                 Protect             Usage\n")
	c.Println(strings.Repeat("-", 122))
	for i, r := range rs {
		mark := " "
		if r.State != memFree && (i == 0 || rs[i-1].AllocBase != r.AllocBase || rs[i-1].State == memFree) {
			mark = "+"
		} else if r.State == memFree {
			mark = "+"
		}
		prot := ""
		if r.State == memCommit || r.State == memFree {
			prot = protectName(r.Protect)
		}
		line := fmt.Sprintf("%s%18s%18s%18s %-11s %-11s %-34s %-10s %s", mark, c.shortPtr(r.Base), c.shortPtr(r.Base+r.Size), c.shortPtr(r.Size),
			memTypeName(r.Type), memStateName(r.State), prot, use[i].usage, use[i].detail)
		c.Println(strings.TrimRight(line, " "))
	}
}

type summaryRow struct {
	name         string
	count        int
	total        uint64
	largest      uint64
	largestStart uint64
}

func (c *Ctx) addressSummary(rs []target.Region, use []regionUsage) {
	var all, busy uint64
	group := func(key func(int) (string, bool)) []*summaryRow {
		m := map[string]*summaryRow{}
		var order []*summaryRow
		for i, r := range rs {
			k, ok := key(i)
			if !ok {
				continue
			}
			row := m[k]
			if row == nil {
				row = &summaryRow{name: k}
				m[k] = row
				order = append(order, row)
			}
			row.count++
			row.total += r.Size
			if r.Size > row.largest {
				row.largest, row.largestStart = r.Size, r.Base
			}
		}
		sort.SliceStable(order, func(i, j int) bool { return order[i].total > order[j].total })
		return order
	}
	for i, r := range rs {
		all += r.Size
		if use[i].usage != "Free" {
			busy += r.Size
		}
	}
	pct := func(n, of uint64) string {
		if of == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(of))
	}
	print := func(title string, rows []*summaryRow, ofBusy bool) {
		c.Println(title)
		for _, r := range rows {
			b := ""
			if ofBusy && r.name != "Free" && r.name != "MEM_FREE" {
				b = pct(r.total, busy)
			}
			c.Printf("%-32s %8d %17s %s %8s %8s\n", r.name, r.count, c.shortPtr(r.total), sizeText(r.total), b, pct(r.total, all))
		}
		c.Println()
	}
	c.Println()
	c.Println()
	print("--- Usage Summary ---------------- RgnCount ----------- Total Size -------- %ofBusy %ofTotal",
		group(func(i int) (string, bool) { return use[i].usage, true }), true)
	print("--- Type Summary (for busy) ------ RgnCount ----------- Total Size -------- %ofBusy %ofTotal",
		group(func(i int) (string, bool) {
			return memTypeName(rs[i].Type), rs[i].State != memFree && memTypeName(rs[i].Type) != ""
		}), true)
	print("--- State Summary ---------------- RgnCount ----------- Total Size -------- %ofBusy %ofTotal",
		group(func(i int) (string, bool) { return memStateName(rs[i].State), memStateName(rs[i].State) != "" }), true)
	print("--- Protect Summary (for commit) - RgnCount ----------- Total Size -------- %ofBusy %ofTotal",
		group(func(i int) (string, bool) { return protectName(rs[i].Protect), rs[i].State == memCommit }), true)
	c.Println("--- Largest Region by Usage ----------- Base Address -------- Region Size ----------")
	for _, r := range group(func(i int) (string, bool) { return use[i].usage, true }) {
		c.Printf("%-32s %17s %17s %s\n", r.name, c.shortPtr(r.largestStart), c.shortPtr(r.largest), sizeText(r.largest))
	}
	c.Println()
}

// accessNames decodes the standard access rights and the type-specific
// ones !handle knows for the common object types.
func accessNames(typ string, mask uint32) []string {
	var std []string
	for _, r := range []struct {
		bit  uint32
		name string
	}{{0x10000, "Delete"}, {0x20000, "ReadControl"}, {0x40000, "WriteDac"}, {0x80000, "WriteOwner"}, {0x100000, "Synch"}} {
		if mask&r.bit != 0 {
			std = append(std, r.name)
		}
	}
	specific := map[string][]string{
		"Event":     {"QueryState", "ModifyState"},
		"Mutant":    {"QueryState"},
		"Semaphore": {"QueryState", "ModifyState"},
		"Key":       {"QueryValue", "SetValue", "CreateSubKey", "EnumSubKey", "Notify", "CreateLink"},
		"File":      {"Read/List", "Write/Add", "Append/SubDir/CreatePipe", "ReadEA", "WriteEA", "Execute/Traverse", "DelChild", "ReadAttr", "WriteAttr"},
		"Thread":    {"Terminate", "Suspend", "Alert", "GetContext", "SetContext", "SetInfo", "QueryInfo", "SetToken", "Impersonate", "DirectImpersonate"},
		"Process":   {"Terminate", "CreateThread", "", "VMOp", "VMRead", "VMWrite", "DupHandle", "CreateProcess", "SetQuota", "SetInfo", "QueryInfo", "SetPort"},
		"Directory": {"Query", "Traverse", "Create", "CreateSubdir"},
		"Section":   {"Query", "MapWrite", "MapRead", "MapExecute", "Extend"},
	}[typ]
	var spec []string
	for i, n := range specific {
		if n != "" && mask&(1<<i) != 0 {
			spec = append(spec, n)
		}
	}
	var out []string
	if len(std) > 0 {
		out = append(out, strings.Join(std, ","))
	}
	if len(spec) > 0 {
		out = append(out, strings.Join(spec, ","))
	}
	return out
}

func cmdHandle(c *Ctx, inv *Invocation) error {
	u, ok := c.S.Target.(*target.UserTarget)
	if !ok {
		return fmt.Errorf("!handle: kernel handle tables are not read yet")
	}
	f := strings.Fields(inv.Args)
	want, flags, typeName := int64(-1), uint64(1), ""
	if len(f) > 0 {
		v, err := c.Eval(f[0])
		if err != nil {
			return err
		}
		want = int64(v)
		if v == 0 || v == ^uint64(0) || c.S.Target.Arch().PtrSize() == 4 && v == 0xffffffff {
			want = -1
		}
	}
	if len(f) > 1 {
		v, err := c.Eval(f[1])
		if err != nil {
			return err
		}
		flags = v
	}
	if len(f) > 2 {
		typeName = f[2]
	}
	hs, err := u.Handles()
	if err != nil {
		var ns interface{ Error() string }
		if errors.As(err, &ns) {
			return fmt.Errorf("Unable to read handle information (this dump holds no HandleDataStream; write it with .dump /mh)")
		}
		return err
	}
	counts := map[string]int{}
	var order []string
	shown := 0
	for _, h := range hs {
		if want >= 0 && h.Handle != uint64(want) || typeName != "" && h.Type != typeName {
			continue
		}
		shown++
		if counts[h.Type] == 0 {
			order = append(order, h.Type)
		}
		counts[h.Type]++
		c.Printf("Handle %x\n", h.Handle)
		if flags&1 != 0 {
			c.Printf("  %-14s%s\n", "Type", orNone(h.Type))
		}
		if flags&2 != 0 {
			c.Printf("  %-14s%x\n", "Attributes", h.Attributes)
			c.Printf("  %-14s%#x:\n", "GrantedAccess", h.GrantedAccess)
			for _, l := range accessNames(h.Type, h.GrantedAccess) {
				c.Printf("         %s\n", l)
			}
			c.Printf("  %-14s%d\n", "HandleCount", h.HandleCount)
			c.Printf("  %-14s%d\n", "PointerCount", h.PointerCount)
		}
		if flags&4 != 0 {
			c.Printf("  %-14s%s\n", "Name", orNone(h.Name))
		}
		if flags&8 != 0 {
			c.Printf("  No object specific information available\n")
		}
	}
	if want >= 0 {
		if shown == 0 {
			c.Printf("Handle %x is not in the dump's handle data\n", want)
		}
		return nil
	}
	c.Printf("%d Handles\n", shown)
	c.Printf("%-16sCount\n", "Type")
	sort.SliceStable(order, func(i, j int) bool { return counts[order[i]] > counts[order[j]] })
	for _, t := range order {
		c.Printf("%-15s %d\n", orNone(t), counts[t])
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func cmdVersion(c *Ctx, inv *Invocation) error {
	if err := cmdVertarget(c, inv); err != nil {
		return err
	}
	c.Println()
	for _, l := range VersionBanner() {
		c.Println(l)
	}
	c.Println()
	c.Printf("dump file: '%s'\n", target.Sanitize(c.S.Target.Path()))
	c.Println("ntdbg engine: built in, readers for MDMP minidumps, PAGEDU64 kernel dumps, PE32/PE32+, MSF 7.00 PDBs, ISF")
	c.chainBody()
	return nil
}

func (c *Ctx) chainBody() {
	c.Println("Extension DLL search Path:")
	c.Printf("    %s\n", c.extPath)
	c.Println("Extension DLL chain:")
	reg := c.Registry
	if reg == nil {
		reg = Default()
	}
	seen := map[string]bool{}
	for _, cmd := range reg.Commands() {
		if !strings.HasPrefix(cmd.Family, "extension ") {
			continue
		}
		ext := strings.TrimPrefix(cmd.Family, "extension ")
		if seen[ext] {
			continue
		}
		seen[ext] = true
		c.Printf("    %s: image %s, API 1.0.0, built in\n        [path: ntdbg plug-in %s]\n", ext, Version, ext)
	}
	for _, b := range []struct{ name, what string }{{"exts", "!teb !peb !cs !gle !error !handle !address"}, {"uext", "!uniqstack !findstack !runaway"},
		{"ntsdexts", "!locks !critsec"}, {"kdexts", "!process !thread !stacks !irp !object !pcr !prcb"}} {
		c.Printf("    %s: image %s, API 1.0.0, built in\n        [commands: %s]\n", b.name, Version, b.what)
	}
}

func cmdChain(c *Ctx, inv *Invocation) error {
	c.chainBody()
	return nil
}

func cmdExtpath(c *Ctx, inv *Invocation) error {
	if a := strings.TrimSpace(inv.Args); a != "" {
		c.extPath = a
	}
	c.Printf("Extension search path is: %s\n", c.extPath)
	return nil
}

func cmdRadix(c *Ctx, inv *Invocation) error {
	a := strings.TrimSpace(inv.Args)
	if a != "" {
		v, ok := parseNumberIn(a, 10)
		if !ok || v != 8 && v != 10 && v != 16 {
			return fmt.Errorf("Invalid radix: %s", a)
		}
		c.radix = int(v)
		return nil
	}
	c.Printf("base is %d\n", c.currentRadix())
	return nil
}

func (c *Ctx) currentRadix() int {
	if c.radix == 0 {
		return 16
	}
	return c.radix
}
