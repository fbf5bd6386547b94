package commands

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
)

func init() {
	Register(&Command{Name: "lm", Family: "modules and target", Glued: true,
		Syntax:  "lm[v][o][l][1m][sm][t|f|i|n|p] [m Pattern | M Pattern | a Address]",
		Summary: "list loaded and unloaded modules",
		Help: "Options may be glued: `lmvm ntdll` == `lm v m ntdll`. `m` matches the module name with wildcards (* ? [] #),\n" +
			"`M` the image path, `a` the module holding an address; `v` adds the version block, `o` loaded modules only,\n" +
			"`l` modules whose symbols loaded, `1m` module names only, `sm` sorted by module name; one of `t` (time\n" +
			"stamps), `f` (full image paths), `i` (image file names), `n` (image names), `p` (mapped image files) replaces\n" +
			"the symbol file column.",
		Run: cmdLM})
	Register(&Command{Name: "vertarget", Family: "modules and target", Syntax: "vertarget",
		Summary: "show the target's OS version, session time and uptimes", Run: cmdVertarget})
}

type lmOpts struct {
	verbose, loadedOnly, symsOnly bool
	namesOnly, sortByName         bool
	// column is the one of t, f, i, n, p that replaces the symbol file
	// column (0: the symbol file).
	column               byte
	pattern, pathPattern string
	hasAddr              bool
	addr                 uint64
}

func parseLM(c *Ctx, inv *Invocation) (lmOpts, error) {
	var o lmOpts
	text := inv.options() + inv.Args
	base := inv.ArgsOff - len(inv.options())
	i := 0
	for i < len(text) {
		ch := text[i]
		switch {
		case ch == ' ' || ch == '\t':
			i++
		case ch == 'v':
			o.verbose = true
			i++
		case ch == 'o':
			o.loadedOnly = true
			i++
		case ch == 't' || ch == 'i' || ch == 'f' || ch == 'n' || ch == 'p':
			o.column = ch
			i++
		case (ch == '1' || ch == 's') && i+1 < len(text) && text[i+1] == 'm':
			if ch == '1' {
				o.namesOnly = true
			} else {
				o.sortByName = true
			}
			i += 2
		case ch == 'l' || ch == 'e' || ch == 'c' || ch == 'u' || ch == 'k' || ch == 'D':
			if ch == 'l' {
				o.symsOnly = true
			}
			i++
		case ch == 'm' || ch == 'M':
			j := i + 1
			for j < len(text) && text[j] == ' ' {
				j++
			}
			k := j
			for k < len(text) && text[k] != ' ' {
				k++
			}
			if k == j {
				return o, &SyntaxError{Kind: "Syntax", Pos: base + j}
			}
			if ch == 'm' {
				o.pattern = text[j:k]
			} else {
				o.pathPattern = text[j:k]
			}
			i = k
		case ch == 'a':
			v, n, err := c.EvalPrefix(text[i+1:])
			if err != nil {
				return o, shiftErr(err, base+i+1)
			}
			o.addr, o.hasAddr = v, true
			i += 1 + n
		default:
			return o, &SyntaxError{Kind: "Syntax", Pos: base + i + 1}
		}
	}
	return o, nil
}

// wildMatch matches WinDbg's module wildcards (* ? [set] #), case-insensitively.
func wildMatch(pattern, s string) bool {
	p := strings.ToLower(pattern)
	s = strings.ToLower(s)
	p = strings.ReplaceAll(p, "#", "*")
	ok, err := path.Match(p, s)
	return err == nil && ok
}

func cmdLM(c *Ctx, inv *Invocation) error {
	o, err := parseLM(c, inv)
	if err != nil {
		return err
	}
	match := func(m *target.Module) bool {
		if o.pattern != "" && !wildMatch(o.pattern, m.Name) {
			return false
		}
		if o.pathPattern != "" && !wildMatch(o.pathPattern, m.Path) {
			return false
		}
		if o.hasAddr && !m.Contains(o.addr) {
			return false
		}
		if o.symsOnly {
			if st := c.S.Symbols.Get(m).State; st == symbols.SymDeferred || st == symbols.SymNone {
				return false
			}
		}
		return true
	}
	var mods []*target.Module
	for _, m := range c.modules() {
		if match(m) {
			mods = append(mods, m)
		}
	}
	if o.sortByName {
		// lm sm sorts case-insensitively: ADVAPI32, kernel32, msvcrt, ntdll,
		// RPCRT4 (msdocs/debuggercmds/lm--list-loaded-modules-.md, Example 2).
		sort.SliceStable(mods, func(i, j int) bool { return strings.ToLower(mods[i].Name) < strings.ToLower(mods[j].Name) })
	}
	if o.namesOnly {
		// lm1m: nothing but the module names, for .foreach.
		for _, m := range mods {
			c.Println(m.Name)
		}
		return nil
	}
	if o.verbose && (o.pattern != "" || o.pathPattern != "") {
		c.Println("Browse full module list")
	}
	if c.S.Target.Arch().PtrSize() == 8 {
		c.Println("start             end                 module name")
	} else {
		c.Println("start    end        module name")
	}
	for _, m := range mods {
		if o.column != 0 {
			c.Printf("%s %s   %-8s %s\n", c.ptr(m.Base), c.ptr(m.End()), m.Name, c.lmColumn(m, o.column))
		} else {
			status, file := c.symbolStatus(m)
			c.Printf("%s %s   %-8s %c %-23s%s\n", c.ptr(m.Base), c.ptr(m.End()), m.Name, c.moduleFlag(m), status, file)
		}
		if o.verbose {
			c.moduleDetails(m)
		}
		if c.Recording() {
			c.Record("module", c.moduleRecord(m, false))
		}
	}
	if o.loadedOnly || o.hasAddr || o.symsOnly {
		return nil
	}
	var un []*target.Module
	for _, m := range c.S.Target.UnloadedModules() {
		if o.pattern == "" || wildMatch(o.pattern, m.Name) {
			un = append(un, m)
		}
	}
	if len(un) > 0 {
		c.Println()
		c.Println("Unloaded modules:")
		for _, m := range un {
			c.Printf("%s %s   %s\n", c.ptr(m.Base), c.ptr(m.End()), m.ImageName)
			if c.Recording() {
				c.Record("module", c.moduleRecord(m, true))
			}
			if o.verbose {
				c.Printf("    Timestamp:        %s\n", c.stampText(m.TimeDateStamp))
				c.Printf("    Checksum:         %08X\n", m.CheckSum)
				c.Printf("    ImageSize:        %08X\n", m.Size)
			}
		}
	}
	return nil
}

// modules is the module list less the modules `.reload /u` unloaded.
func (c *Ctx) modules() []*target.Module {
	var out []*target.Module
	for _, m := range c.S.Target.Modules() {
		if !c.S.Symbols.Get(m).Unloaded {
			out = append(out, m)
		}
	}
	return out
}

// lmColumn is what lmt, lmf, lmi, lmn and lmp print after the module name
// in place of the symbol status and file.
func (c *Ctx) lmColumn(m *target.Module, col byte) string {
	switch col {
	case 't':
		return c.moduleStamp(m)
	case 'f':
		return m.Path
	case 'n':
		return m.ImageName
	case 'p':
		return target.Sanitize(c.S.Symbols.Get(m).ImageFile())
	}
	// i: the symbol status and the image file the symbols were loaded for
	// (lmv's `Loaded symbol image file`).
	status, _ := c.symbolStatus(m)
	file := ""
	if c.S.Symbols.Get(m).State != symbols.SymDeferred {
		file = m.ImageName
	}
	return fmt.Sprintf("%-23s%s", status, file)
}

// symbolStatus is lm's symbol column: the state and the file it came from.
func (c *Ctx) symbolStatus(m *target.Module) (string, string) {
	ms := c.S.Symbols.Get(m)
	switch ms.State {
	case symbols.SymPDB:
		return "(pdb symbols)", target.Sanitize(ms.PdbPath)
	case symbols.SymPrivatePDB:
		return "(private pdb symbols)", target.Sanitize(ms.PdbPath)
	case symbols.SymExport:
		return "(export symbols)", m.ImageName
	case symbols.SymISF:
		return "(isf symbols)", target.Sanitize(ms.ISFPath)
	case symbols.SymNone:
		return "(no symbols)", ""
	}
	return "(deferred)", ""
}

// moduleFlag is the letter lm prints between name and status: C for a module
// whose checksum is zero, T for one without a time stamp, else a space
// (msdocs/debugger/symbol-status-abbreviations.md). A /Brepro image with a
// zero stamp and checksum shows C, as WinDbg prints `bootmgfw C (pdb symbols)`.
// Only a user dump's module list carries the checksum (MINIDUMP_MODULE);
// ntdbg's kernel module lists do not read it, so there no C is shown.
func (c *Ctx) moduleFlag(m *target.Module) byte {
	if m.CheckSum == 0 && c.S.Target.Kind().IsUser() {
		return 'C'
	}
	if m.TimeDateStamp == 0 {
		return 'T'
	}
	return ' '
}

// moduleStamp is a module's time stamp as lmv and lmt show it: a /Brepro
// image's is a hash, not a time.
func (c *Ctx) moduleStamp(m *target.Module) string {
	if c.S.Symbols.Reproducible(m) {
		return fmt.Sprintf("%08X (This is a reproducible build file hash, not a timestamp)", m.TimeDateStamp)
	}
	return c.stampText(m.TimeDateStamp)
}

func (c *Ctx) stampText(ts uint32) string {
	if ts == 0 || ts == 0xffffffff {
		return fmt.Sprintf("%08X (This is a reproducible build file hash, not a timestamp)", ts)
	}
	t := c.localTime(time.Unix(int64(ts), 0))
	return fmt.Sprintf("%s (%08X)", t.Format("Mon Jan _2 15:04:05 2006"), ts)
}

// localTime shows a UTC instant in the dump's time zone (standard bias).
func (c *Ctx) localTime(t time.Time) time.Time {
	sys := c.S.Target.System()
	return t.UTC().Add(-time.Duration(sys.TZBias) * time.Minute)
}

var fileOS = map[uint32]string{0: "Unknown", 0x1: "Windows16", 0x2: "PM16", 0x3: "PM32", 0x4: "Win32",
	0x10000: "DOS", 0x20000: "OS/2 16", 0x30000: "OS/2 32", 0x40000: "NT"}
var fileType = map[uint32]string{0: "Unknown", 1: "App", 2: "Dll", 3: "Driver", 4: "Font", 5: "VXD", 7: "Static library"}

func osText(v uint32) string {
	hi, lo := v&0xffff0000, v&0xffff
	h, ok1 := fileOS[hi]
	l, ok2 := fileOS[lo]
	if !ok1 || !ok2 {
		return "Unknown"
	}
	if hi == 0 {
		return "Unknown " + l
	}
	if lo == 0 {
		return h
	}
	return h + " " + l
}

func versionText(ms, ls uint32) string {
	return fmt.Sprintf("%d.%d.%d.%d", ms>>16, ms&0xffff, ls>>16, ls&0xffff)
}

func (c *Ctx) moduleDetails(m *target.Module) {
	// The symbol file is on the module line; this line names the image the
	// symbols were loaded for, whatever they are (msdocs lm: "the same as
	// the image name"), once they have been looked for.
	repro := c.S.Symbols.Reproducible(m) // maps the image when it is to be found
	ms := c.S.Symbols.Get(m)
	if ms.State != symbols.SymDeferred {
		c.Printf("    Loaded symbol image file: %s\n", m.ImageName)
	}
	if f := ms.ImageFile(); f != "" {
		c.Printf("    Mapped memory image file: %s\n", target.Sanitize(f))
	}
	c.Printf("    Image path: %s\n", m.Path)
	c.Printf("    Image name: %s\n", m.ImageName)
	c.Println("    Browse all global symbols  functions  data")
	if repro {
		c.Println("    Image was built with /Brepro flag.")
	}
	c.Printf("    Timestamp:        %s\n", c.moduleStamp(m))
	c.Printf("    CheckSum:         %08X\n", m.CheckSum)
	c.Printf("    ImageSize:        %08X\n", m.Size)
	if v := m.Version; v != nil {
		c.Printf("    File version:     %s\n", versionText(v.FileMS, v.FileLS))
		c.Printf("    Product version:  %s\n", versionText(v.ProductMS, v.ProductLS))
		c.Printf("    File flags:       %X (Mask %X)%s\n", v.Flags, v.FlagsMask, fileFlagNames(v.Flags&v.FlagsMask))
		c.Printf("    File OS:          %X %s\n", v.OS, osText(v.OS))
		t := fileType[v.Type]
		if t == "" {
			t = "Unknown"
		}
		c.Printf("    File type:        %X.%X %s\n", v.Type, v.Subtype, t)
		c.Printf("    File date:        %08X.%08X\n", v.DateMS, v.DateLS)
	}
	if ver, ok := c.S.Symbols.VersionResource(m); ok {
		var tr []string
		for _, t := range ver.Translations {
			tr = append(tr, fmt.Sprintf("%04x.%04x", t>>16, t&0xffff))
		}
		if len(tr) > 0 {
			c.Printf("    Translations:     %s\n", strings.Join(tr, " "))
		}
		if len(ver.Strings) > 0 {
			c.Println("    Information from resource tables:")
			for _, kv := range ver.Strings {
				c.Printf("        %-18s%s\n", target.Sanitize(kv.Key)+":", target.Sanitize(kv.Value))
			}
		}
	}
}

func fileFlagNames(f uint32) string {
	names := []string{"Debug", "Pre-release", "Patched", "Private", "Info-inferred", "Special"}
	var out []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return " " + strings.Join(out, " ")
}

func osName(major, minor uint32) string {
	switch {
	case major >= 10:
		return fmt.Sprintf("Windows %d", major)
	case major == 6 && minor == 3:
		return "Windows 8.1"
	case major == 6 && minor == 2:
		return "Windows 8"
	case major == 6 && minor == 1:
		return "Windows 7"
	case major == 6 && minor == 0:
		return "Windows Vista"
	case major == 5 && minor == 2:
		return "Windows Server 2003"
	case major == 5 && minor == 1:
		return "Windows XP"
	case major == 5 && minor == 0:
		return "Windows 2000"
	}
	return fmt.Sprintf("Windows NT %d.%d", major, minor)
}

var suiteNames = []string{"SmallBusiness", "Enterprise", "BackOffice", "CommunicationServer", "TerminalServer",
	"SmallBusinessRestricted", "EmbeddedNT", "DataCenter", "SingleUserTS", "Personal", "Blade", "EmbeddedRestricted",
	"SecurityAppliance", "StorageServer", "ComputeServer", "WHServer"}

// versionLines are the OS lines shared by the banner and vertarget.
func (c *Ctx) versionLines(kernel bool) []string {
	sys := c.S.Target.System()
	kind := "Version"
	if kernel {
		kind = "Kernel Version"
	}
	sp := ""
	if sys.CSDVersion != "" && strings.HasPrefix(sys.CSDVersion, "Service Pack") {
		sp = " (" + sys.CSDVersion + ")"
	}
	mp := "MP"
	if sys.Processors == 1 {
		mp = "UP"
	}
	arch := "x64"
	switch sys.Arch {
	case target.ArchX86:
		arch = "x86 compatible"
	case target.ArchARM64:
		arch = "ARM 64-bit (AArch64)"
	}
	procs := fmt.Sprintf(" (%d procs)", sys.Processors)
	if sys.Processors == 1 {
		procs = "" // `UP Free x86`, as WinDbg prints a single processor
	}
	lines := []string{fmt.Sprintf("%s %s %d%s %s%s Free %s", osName(sys.Major, sys.Minor), kind, sys.Build, sp, mp, procs, arch)}
	product := map[uint8]string{1: "WinNt", 2: "LanManNt", 3: "Server"}[sys.ProductType]
	if product == "" {
		product = "WinNt"
	}
	var suites []string
	for i, n := range suiteNames {
		if sys.SuiteMask&(1<<i) != 0 {
			suites = append(suites, n)
		}
	}
	if len(suites) > 0 {
		lines = append(lines, fmt.Sprintf("Product: %s, suite: %s", product, strings.Join(suites, " ")))
	} else {
		lines = append(lines, "Product: "+product)
	}
	if sys.BuildLab != "" {
		lines = append(lines, "Edition build lab: "+sys.BuildLab)
	}
	lines = append(lines, "Machine Name:")
	if kd := kernelDesc(c); kd != nil {
		lines = append(lines, fmt.Sprintf("Kernel base = 0x%s PsLoadedModuleList = 0x%s", c.ptr(kd.KernBase), c.ptr(kd.PsLoadedModuleList)))
		lines = append(lines, "Debug session time: "+c.sessionTime())
		lines = append(lines, "System Uptime: "+uptime(sys.Uptime))
		return lines
	}
	lines = append(lines, "Debug session time: "+c.sessionTime())
	lines = append(lines, "System Uptime: not available")
	if !sys.ProcessCreate.IsZero() {
		lines = append(lines, "Process Uptime: "+uptime(sys.SessionTime.Sub(sys.ProcessCreate)))
	} else {
		lines = append(lines, "Process Uptime: not available")
	}
	return lines
}

func (c *Ctx) sessionTime() string {
	sys := c.S.Target.System()
	t := c.localTime(sys.SessionTime)
	off := -int(sys.TZBias)
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s (UTC %s %d:%02d)", t.Format("Mon Jan _2 15:04:05.000 2006"), sign, off/60, off%60)
}

func uptime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	ms := d.Milliseconds()
	days := ms / 86400000
	ms %= 86400000
	return fmt.Sprintf("%d days %d:%02d:%02d.%03d", days, ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

func cmdVertarget(c *Ctx, inv *Invocation) error {
	for _, l := range c.versionLines(kernelDesc(c) != nil) {
		c.Println(l)
	}
	sys := c.S.Target.System()
	if sys.HasTimes {
		c.Printf("  Kernel time: %s\n", uptime(time.Duration(sys.KernelTime)*time.Second))
		c.Printf("  User time: %s\n", uptime(time.Duration(sys.UserTime)*time.Second))
	}
	return nil
}

// BannerLines are the lines printed when a dump is opened, after the
// `Loading Dump File` line, up to the event and location display.
func (c *Ctx) Banner(symPath, imagePath string) {
	t := c.S.Target
	if kernelDesc(c) != nil {
		c.kernelBanner(symPath, imagePath)
		return
	}
	c.Println(dumpKindLine(t))
	if cm := t.System().Comment; cm != "" {
		c.Printf("Comment: '%s'\n", cm)
	}
	c.Println()
	c.symbolPathLine(symPath)
	c.Printf("Executable search path is: %s\n", imagePath)
	for _, l := range c.versionLines(false) {
		c.Println(l)
	}
	c.Println(loadDots(len(t.Modules())))
	if len(t.UnloadedModules()) > 0 {
		c.Println("Loading unloaded module list")
		c.Println(loadDots(len(t.UnloadedModules())))
	}
	if ev := t.Event(); ev != nil {
		if ev.Code == 0x80000003 {
			// A breakpoint dump (.dump, procdump) has no event line.
			c.Println("This dump file has a breakpoint exception stored in it.")
			c.Println("The stored exception information can be accessed via .ecxr.")
		} else {
			c.Println("This dump file has an exception of interest stored in it.")
			c.Println("The stored exception information can be accessed via .ecxr.")
			c.Printf("(%x.%x): %s - code %08x (first/second chance not available)\n", c.pid(), ev.ThreadID, exceptionName(ev.Code), ev.Code)
		}
	}
	c.Println("For analysis of this file, run !analyze -v")
	if len(t.Threads()) > 0 {
		if err := c.showLocation(); err != nil {
			c.Println(err.Error())
		}
	}
}

// loadDots prints one dot per module, 64 to a line.
func loadDots(n int) string {
	var lines []string
	for n > 64 {
		lines = append(lines, strings.Repeat(".", 64))
		n -= 64
	}
	lines = append(lines, strings.Repeat(".", n))
	return strings.Join(lines, "\n")
}

// symbolPathLine is the banner's symbol path; an unset one is WinDbg's
// `*** Invalid ***` with its warning box.
func (c *Ctx) symbolPathLine(symPath string) {
	if symPath != "" {
		c.Printf("Symbol search path is: %s\n", symPath)
		return
	}
	c.Println("Symbol search path is: *** Invalid ***")
	c.Println("****************************************************************************")
	c.Println("* Symbol loading may be unreliable without a symbol search path.           *")
	c.Println("* Use .symfix to have the debugger choose a symbol path.                   *")
	c.Println("* After setting your symbol path, use .reload to refresh symbol locations. *")
	c.Println("****************************************************************************")
}
