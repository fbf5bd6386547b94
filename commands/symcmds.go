package commands

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
)

func init() {
	Register(&Command{Name: "x", Family: "symbols", Syntax: "x Module!Pattern",
		Summary: "list symbols matching a wildcard pattern (case-insensitive)", Run: cmdX})
	Register(&Command{Name: "ln", Family: "symbols", Syntax: "ln Address",
		Summary: "show the symbols nearest to an address", Run: cmdLN})
	Register(&Command{Name: ".sympath", Family: "symbols", Syntax: ".sympath[+] [Path[;...]]",
		Summary: "show, set or extend the symbol path (srv*cache*url, cache*dir, folders, isf*dir)",
		Help: "Elements, separated by `;`: `srv*[cache*]url` (a symbol server and its downstream store), `cache*dir`,\n" +
			"plain folders (searched flat and as dir/symbols/<ext>), and ntdbg's addition `isf*dir`: a folder of Volatility 3\n" +
			"ISF files (`windows/ntkrnlmp.pdb/<GUID>-<age>.json.xz`, as the Volatility symbol packs lay them out), used for\n" +
			"types and symbols where no PDB is found. The file is chosen by the module's PDB GUID and age; for a kernel\n" +
			"whose image lacks its debug directory, by the dump header's PsLoadedModuleList, PsActiveProcessHead and\n" +
			"KdDebuggerDataBlock (`!sym noisy` says which file and why).",
		Run: cmdSympath})
	Register(&Command{Name: ".exepath", Family: "symbols", Syntax: ".exepath[+] [Path[;...]]",
		Summary: "show, set or extend the executable image path (where images missing from a minidump are found)", Run: cmdExepath})
	Register(&Command{Name: ".symfix", Family: "symbols", Syntax: ".symfix[+] [LocalCache]",
		Summary: "use (or add) Microsoft's symbol server with a local cache", Run: cmdSymfix})
	Register(&Command{Name: ".reload", Family: "symbols", Syntax: ".reload [/f] [/u] [/w] [Module]",
		Summary: "drop loaded symbols so they load again (lazily, or now with /f); /u unloads a module",
		Help: "Module is an image name (ntdll.dll) or a module name (ntdll), with wildcards unless /w. `/u Module` unloads\n" +
			"its symbols and takes it out of the module list (lm, x, ln) until a later .reload.", Run: cmdReload})
	Register(&Command{Name: "!sym", Family: "symbols", Syntax: "!sym [noisy | quiet | prompts | prompts off | offline | online | timeout [Seconds] | cap [Megabytes]]",
		Summary: "turn the symbol search trace (and symbol server prompts) on or off, or show the state; bound symbol downloads",
		Help: "ntdbg's additions: `!sym offline` asks no symbol server (caches and folders still answer; NTDBG_OFFLINE=1 starts so),\n" +
			"`!sym online` asks them again. `!sym timeout [Seconds]` shows or sets how long a server may take to answer and to send\n" +
			"each next piece (default 10; connecting at most 5): a server that times out or refuses is not asked again this session.\n" +
			"`!sym cap [Megabytes]` shows or sets how much downloads may write per session (default 4096).\n" +
			"Downloads run in the background, four at once: a command waits for them up to 2 s, then prints module+offset\n" +
			"frames with `*** Symbols for <module> are being downloaded; run the command again for names`; the next command\n" +
			"uses what arrived. `.reload /f` waits for them. Ctrl-C cancels the command and its downloads, never the session.",
		Run: cmdSym})
	Register(&Command{Name: ".lines", Family: "symbols", Syntax: ".lines [-e | -d | -t]",
		Summary: "turn source line support on (-e), off (-d) or over (-t, the default)",
		Help: "Off at start, as in cdb and kd (WinDbg's GUI starts with it on); `ntdbg -lines` starts with it on.\n" +
			"While it is on, `k` and `.frame` end frames that private symbols place with ` [file @ line] `.",
		Run: cmdLines})
}

func cmdLines(c *Ctx, inv *Invocation) error {
	if err := c.needSymbols(); err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(inv.Args)) {
	case "", "-t":
		c.SymConfig.Lines = !c.SymConfig.Lines
	case "-e":
		c.SymConfig.Lines = true
	case "-d":
		c.SymConfig.Lines = false
	default:
		return &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff}
	}
	if c.SymConfig.Lines {
		c.Println("Line number information will be loaded")
	} else {
		c.Println("Line number information will not be loaded")
	}
	return nil
}

func (c *Ctx) needSymbols() error {
	if c.SymConfig == nil {
		return fmt.Errorf("no symbol layer")
	}
	return nil
}

// splitModulePattern splits `mod!pat`; a pattern without `!` applies to every module.
func splitModulePattern(s string) (string, string) {
	if m, p, ok := strings.Cut(s, "!"); ok {
		return m, p
	}
	return "*", s
}

func wildName(pattern, s string) bool {
	p := strings.ToLower(pattern)
	n := strings.ToLower(s)
	// One leading underscore in the pattern matches any number of them.
	if strings.HasPrefix(p, "_") && !strings.HasPrefix(p, "__") {
		p = strings.TrimLeft(p, "_")
		n = strings.TrimLeft(n, "_")
	}
	p = strings.NewReplacer("[", "\\[", "]", "\\]").Replace(p)
	ok, err := path.Match(p, n)
	return err == nil && ok
}

func cmdX(c *Ctx, inv *Invocation) error {
	if err := c.needSymbols(); err != nil {
		return err
	}
	arg := strings.TrimSpace(inv.Args)
	for strings.HasPrefix(arg, "/") {
		f := strings.Fields(arg)
		arg = strings.TrimSpace(strings.TrimPrefix(arg, f[0]))
	}
	if arg == "" {
		return &SyntaxError{Kind: "Syntax", Pos: inv.ArgsOff + len(inv.Args)}
	}
	modPat, symPat := splitModulePattern(arg)
	found := false
	for _, m := range c.modules() {
		if !wildMatch(modPat, m.Name) {
			continue
		}
		found = true
		for _, s := range c.S.Symbols.Match(m, func(n string) bool { return wildName(symPat, n) }) {
			c.Printf("%s %s!%s%s\n", c.ptr(s.Addr), m.Name, target.Sanitize(s.Name), c.signatureSuffix(s))
		}
	}
	if !found {
		return fmt.Errorf("Couldn't resolve error at '%s'", arg)
	}
	return nil
}

func cmdLN(c *Ctx, inv *Invocation) error {
	if err := c.needSymbols(); err != nil {
		return err
	}
	addr, err := c.Eval(inv.Args)
	if err != nil {
		return shiftErr(err, inv.ArgsOff)
	}
	m := c.S.ModuleAt(addr)
	if m == nil {
		return nil
	}
	var below, above *symbols.SymbolInfo
	all := c.S.Symbols.Match(m, func(string) bool { return true })
	for _, s := range all {
		s := s
		if s.Data {
			continue
		}
		if s.Addr > addr && (above == nil || s.Addr < above.Addr) {
			above = &s
		}
	}
	// The symbol below is the one every command names (k, r, u): one
	// nearest-symbol rule.
	if nm, sym, disp, ok := c.S.Symbols.Nearest(addr); ok && nm == m && sym != "" {
		below = &symbols.SymbolInfo{Module: m, Name: sym, Addr: addr - disp}
		for _, s := range all {
			if s.Name == sym && s.Addr == below.Addr {
				s := s
				below = &s
				break
			}
		}
	}
	c.Println("Browse module")
	c.Println("Set bu breakpoint")
	c.Println()
	left := fmt.Sprintf("(%s)   %s", c.ptr(m.Base), m.Name)
	if below != nil {
		left = fmt.Sprintf("(%s)   %s!%s", c.ptr(below.Addr), m.Name, below.Name)
		if addr != below.Addr {
			left += fmt.Sprintf("+0x%x", addr-below.Addr)
		}
	} else {
		left += fmt.Sprintf("+0x%x", addr-m.Base)
	}
	if above != nil {
		c.Printf("%s   |  (%s)   %s!%s\n", left, c.ptr(above.Addr), m.Name, above.Name)
	} else {
		c.Println(left)
	}
	if below != nil && below.Addr == addr {
		c.Println("Exact matches:")
		c.Printf("    %s!%s%s\n", m.Name, below.Name, c.signatureSuffix(*below))
	}
	return nil
}

func (c *Ctx) printSympath() {
	c.Printf("Symbol search path is: %s\n", c.SymConfig.PathText)
	var exp []string
	for _, e := range c.SymConfig.Path {
		if e.IsServer() {
			exp = append(exp, "srv*"+strings.Join(e.Tiers, "*"))
		} else if e.ISF != "" {
			exp = append(exp, "isf*"+e.ISF)
		} else {
			exp = append(exp, e.Dir)
		}
	}
	// WinDbg prints the expanded path in lower case.
	c.Printf("Expanded Symbol search path is: %s\n", strings.ToLower(strings.Join(exp, ";")))
	c.Println()
	c.Println("************* Path validation summary **************")
	c.Println("Response                         Time (ms)     Location")
	for _, e := range c.SymConfig.Path {
		status := "Deferred"
		if !e.IsServer() {
			status = "OK"
			if !c.SymConfig.PathExists(e.Dir) {
				status = "Error"
			}
		}
		c.Printf("%-46s %s\n", status, e.Raw)
	}
}

func cmdSympath(c *Ctx, inv *Invocation) error {
	if err := c.needSymbols(); err != nil {
		return err
	}
	arg := strings.TrimSpace(inv.Args)
	if arg != "" {
		if strings.HasPrefix(arg, "+") {
			arg = strings.TrimSpace(arg[1:])
			if c.SymConfig.PathText != "" {
				arg = c.SymConfig.PathText + ";" + arg
			}
		}
		if err := c.CheckFile("sympath", arg); err != nil {
			return err
		}
		c.SymConfig.SetPath(arg)
	}
	c.printSympath()
	return nil
}

func cmdSymfix(c *Ctx, inv *Invocation) error {
	if err := c.needSymbols(); err != nil {
		return err
	}
	arg := strings.TrimSpace(inv.Args)
	appendMode := strings.HasPrefix(arg, "+")
	arg = strings.TrimSpace(strings.TrimPrefix(arg, "+"))
	elem := "srv*"
	if arg != "" {
		elem = "srv*" + arg + "*" + symbols.DefaultSymbolServer
	}
	if appendMode && c.SymConfig.PathText != "" {
		elem = c.SymConfig.PathText + ";" + elem
	}
	if err := c.CheckFile("sympath", elem); err != nil {
		return err
	}
	c.SymConfig.SetPath(elem)
	return nil
}

func cmdReload(c *Ctx, inv *Invocation) error {
	if err := c.needSymbols(); err != nil {
		return err
	}
	force, unload, literal := false, false, false
	var which string
	for _, f := range strings.Fields(inv.Args) {
		switch strings.ToLower(f) {
		case "/f", "/i":
			force = true
		case "/u":
			unload = true
		case "/w":
			literal = true
		case "/d", "/s", "/user", "/n", "/v", "/o", "/l", "/unl":
		default:
			if !strings.HasPrefix(f, "/") {
				which = f
			}
		}
	}
	// A module is named by its image name (ntdll.dll) or its module name
	// (hal), with wildcards unless /w (msdocs .reload: /u, /w, Module).
	named := func(m *target.Module) bool {
		if literal {
			return strings.EqualFold(m.ImageName, which) || strings.EqualFold(m.Name, which)
		}
		return wildMatch(which, m.ImageName) || wildMatch(which, m.Name)
	}
	var mods []*target.Module
	for _, m := range c.S.Target.Modules() {
		if which == "" || named(m) {
			mods = append(mods, m)
		}
	}
	if which != "" && len(mods) == 0 {
		return fmt.Errorf("\"%s\" was not found in the image list.", target.Sanitize(which))
	}
	if unload && which != "" {
		// `.reload /u ntdll.dll` -> `Unloaded ntdll.dll`: the symbols go and
		// the module leaves the debugger's list until a .reload brings it
		// back (msdocs/debuggercmds/-reload--reload-module-.md).
		for _, m := range mods {
			c.SymConfig.Detach(m)
		}
		c.Printf("Unloaded %s\n", target.Sanitize(which))
		return nil
	}
	for _, m := range mods {
		c.SymConfig.Unload(m)
	}
	if which == "" {
		c.reloadDots()
	}
	if force {
		c.SymConfig.ReloadNow(mods)
		if c.SymConfig.Cancelled() {
			return errCancelled
		}
	}
	return nil
}

// errCancelled ends a command that Ctrl-C cancelled while it waited.
var errCancelled = fmt.Errorf("Command cancelled by Ctrl-C")

// reloadDots is what `.reload` prints on a dump: the module list read
// again as the banner reads it, one dot a module, then the unloaded-module
// list (windbg-reference.md §1.1, §1.2 and §3.27).
func (c *Ctx) reloadDots() {
	t := c.S.Target
	if kernelDesc(c) != nil {
		c.Println("Loading Kernel Symbols")
		c.Println(loadDots(len(t.Modules())))
		c.Println("Loading User Symbols")
	} else {
		c.Println(loadDots(len(t.Modules())))
	}
	if len(t.UnloadedModules()) > 0 {
		c.Println("Loading unloaded module list")
		c.Println(loadDots(len(t.UnloadedModules())))
	}
}

// cmdSym is dbghelp's !sym: every form prints the state it leaves, as
// `noisy mode - symbol prompts on`; with no argument the usage comes first
// (`!sym <noisy/quiet - prompts/prompts off> - quiet mode - symbol prompts
// on`). Prompts stay on until `!sym prompts off` (msdocs/debuggercmds/-sym.md).
func cmdSym(c *Ctx, inv *Invocation) error {
	if err := c.needSymbols(); err != nil {
		return err
	}
	usage := false
	words := strings.Fields(strings.ToLower(inv.Args))
	if len(words) > 0 {
		switch words[0] {
		case "offline", "online", "timeout", "cap":
			return symNet(c, words)
		}
	}
	switch strings.Join(words, " ") {
	case "noisy", "noisy on":
		c.SymConfig.Noisy = true
	case "quiet":
		c.SymConfig.Noisy = false
	case "prompts", "prompts on":
		c.SymConfig.PromptsOff = false
	case "prompts off":
		c.SymConfig.PromptsOff = true
	default:
		usage = true
	}
	state := "quiet mode"
	if c.SymConfig.Noisy {
		state = "noisy mode"
	}
	if c.SymConfig.PromptsOff {
		state += " - symbol prompts off"
	} else {
		state += " - symbol prompts on"
	}
	if usage {
		c.Println("!sym <noisy/quiet - prompts/prompts off> - " + state)
	} else {
		c.Println(state)
	}
	return nil
}

// symNet is ntdbg's !sym offline, online, timeout and cap.
func symNet(c *Ctx, words []string) error {
	sc := c.SymConfig
	switch words[0] {
	case "offline", "online":
		if len(words) > 1 {
			return fmt.Errorf("!sym %s takes no argument", words[0])
		}
		sc.Offline = words[0] == "offline"
	case "timeout":
		if len(words) > 2 {
			return fmt.Errorf("!sym timeout [Seconds]")
		}
		if len(words) == 2 {
			secs, err := strconv.ParseFloat(words[1], 64)
			if err != nil || secs <= 0 || secs > 3600 {
				return fmt.Errorf("!sym timeout: give the seconds a symbol server may take to answer (more than 0, at most 3600)")
			}
			sc.SetTimeout(time.Duration(secs * float64(time.Second)))
		}
		c.Printf("Symbol server timeouts: connect %v, answer and each read %v\n", sc.ConnectTimeout, sc.ReplyTimeout)
		return nil
	case "cap":
		if len(words) > 2 {
			return fmt.Errorf("!sym cap [Megabytes]")
		}
		if len(words) == 2 {
			mb, err := strconv.ParseUint(words[1], 10, 32)
			if err != nil || mb == 0 {
				return fmt.Errorf("!sym cap: give the megabytes downloads may write per session (1 or more)")
			}
			sc.SessionCap = int64(mb) << 20
		}
		capMB := sc.SessionCap >> 20
		if sc.SessionCap <= 0 {
			capMB = symbols.DefaultSessionCap >> 20
		}
		c.Printf("Symbol downloads may write %d MB per session (%d MB written)\n", capMB, sc.Written()>>20)
		return nil
	}
	if sc.Offline {
		c.Println("Symbol servers off: offline (!sym online asks them again)")
	} else {
		c.Println("Symbol servers on: online")
	}
	return nil
}

func cmdExepath(c *Ctx, inv *Invocation) error {
	if err := c.needSymbols(); err != nil {
		return err
	}
	arg := strings.TrimSpace(inv.Args)
	if arg != "" {
		appendMode := strings.HasPrefix(arg, "+")
		arg = strings.TrimSpace(strings.TrimPrefix(arg, "+"))
		var dirs []string
		if appendMode {
			dirs = append(dirs, c.SymConfig.ImagePath...)
		}
		for _, d := range strings.Split(arg, ";") {
			if d = strings.TrimSpace(d); d != "" {
				dirs = append(dirs, d)
			}
		}
		c.SymConfig.ImagePath = dirs
		c.SymConfig.ResetImages()
	}
	p := strings.Join(c.SymConfig.ImagePath, ";")
	c.Printf("Executable image search path is: %s\n", p)
	c.Printf("Expanded Executable image search path is: %s\n", p)
	return nil
}
