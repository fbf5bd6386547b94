package commands

import (
	"fmt"
	"os"
	"strings"
)

func init() {
	Register(&Command{Name: ".echo", Family: "session", Syntax: ".echo [String | \"String\"]",
		Summary: "print a string", Run: cmdEcho})
	Register(&Command{Name: ".cls", Family: "session", Syntax: ".cls", Summary: "clear the screen",
		Run: func(c *Ctx, inv *Invocation) error { c.Host.Clear(); return nil }})
	Register(&Command{Name: "q", Aliases: []string{"qq", "qd"}, Family: "session", Syntax: "q",
		Summary: "end the session (closes any open log first)",
		Run: func(c *Ctx, inv *Invocation) error {
			c.Println("quit:")
			c.Host.Quit()
			return ErrQuit
		}})
	Register(&Command{Name: "$<", Aliases: []string{"$><", "$$<", "$$><"}, Family: "session", Syntax: "$<File | $><File",
		Summary: "run a command script (`$><` runs it condensed into one command line)",
		Help:    "Each script command is echoed with the prompt before its output, as cdb does. Scripts may nest.",
		Run:     func(c *Ctx, inv *Invocation) error { return nil }})
	Register(&Command{Name: ".logopen", Family: "session", Syntax: ".logopen [/t] [/u] [/j] [File]",
		Summary: "open a log file (overwrite); /t adds the process id and time to the name; /j (ntdbg's) also a JSON Lines log, File.jsonl", Run: cmdLogOpen})
	Register(&Command{Name: ".logappend", Family: "session", Syntax: ".logappend [/u] [File]",
		Summary: "open a log file for appending", Run: cmdLogOpen})
	Register(&Command{Name: ".logclose", Family: "session", Syntax: ".logclose", Summary: "close the log file",
		Run: func(c *Ctx, inv *Invocation) error {
			if name, ok := c.Host.CloseLog(); ok {
				c.Printf("Closing open log file %s\n", name)
			}
			closeJSONLog(c)
			return nil
		}})
	Register(&Command{Name: ".logfile", Family: "session", Syntax: ".logfile", Summary: "show the log file's state",
		Run: func(c *Ctx, inv *Invocation) error {
			if name, ok := c.Host.LogName(); ok {
				c.Printf("Log '%s' open\n", name)
			} else {
				c.Println("No log file open")
			}
			return nil
		}})
	Register(&Command{Name: ".help", Family: "help", Syntax: ".help", Summary: "list the meta (dot) commands and everything else ntdbg knows", Run: cmdHelp})
	Register(&Command{Name: ".hh", Family: "help", Syntax: ".hh [Command]", Summary: "show the help page of a command", Run: cmdHH})
}

func cmdEcho(c *Ctx, inv *Invocation) error {
	s := strings.TrimSpace(inv.Args)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	c.Println(s)
	return nil
}

func cmdLogOpen(c *Ctx, inv *Invocation) error {
	appendMode := inv.Name == ".logappend"
	rest := strings.TrimSpace(inv.Args)
	stamp, jsonLog := false, false
	// Options come first; the file name is the rest of the line, and a
	// quoted name keeps its spaces: .logopen "C:\my logs\a.log".
	for {
		low := strings.ToLower(rest)
		if strings.HasPrefix(low, "/t") && (len(rest) == 2 || rest[2] == ' ') {
			stamp, rest = true, strings.TrimSpace(rest[2:])
			continue
		}
		if strings.HasPrefix(low, "/u") && (len(rest) == 2 || rest[2] == ' ') {
			rest = strings.TrimSpace(rest[2:]) // the log is UTF-8 either way; /u is accepted for scripts
			continue
		}
		if strings.HasPrefix(low, "/j") && (len(rest) == 2 || rest[2] == ' ') {
			jsonLog, rest = true, strings.TrimSpace(rest[2:])
			continue
		}
		break
	}
	name := rest
	if strings.HasPrefix(name, "\"") {
		end := strings.IndexByte(name[1:], '"')
		if end < 0 {
			return fmt.Errorf("Missing closing quote in '%s'", name)
		}
		name = name[1 : 1+end]
	}
	if name == "" {
		name = "Dbgeng.log"
	}
	if stamp {
		ext := ""
		if i := strings.LastIndexByte(name, '.'); i > 0 {
			name, ext = name[:i], name[i:]
		}
		name = fmt.Sprintf("%s_%04X_%s%s", name, c.pid(), c.now().Format("2006-01-02_15-04-05-000"), ext)
	}
	// The new log is opened before the old one closes: a log that cannot
	// be opened leaves the open one as it was.
	old, hadOld := c.Host.LogName()
	path, err := c.Host.OpenLog(name, appendMode)
	if err != nil {
		if hadOld {
			return fmt.Errorf("Unable to open log file '%s', %v; log file '%s' stays open", name, err, old)
		}
		return fmt.Errorf("Unable to open log file '%s', %v", name, err)
	}
	if hadOld {
		c.Printf("Closing open log file %s\n", old)
	}
	c.Printf("Opened log file '%s'\n", path)
	if jsonLog {
		return openJSONLog(c, path, appendMode)
	}
	return nil
}

func cmdHelp(c *Ctx, inv *Invocation) error {
	for _, cmd := range c.reg().Commands() {
		name := cmd.Name
		if len(cmd.Aliases) > 0 {
			name += ", " + strings.Join(cmd.Aliases, ", ")
		}
		c.Printf("%-22s - %s\n", name, cmd.Summary)
	}
	return nil
}

func cmdHH(c *Ctx, inv *Invocation) error {
	name := strings.TrimSpace(inv.Args)
	if name == "" {
		return cmdHelp(c, inv)
	}
	cmd := c.reg().Lookup(name)
	if cmd == nil {
		// Glued forms (`kcn`, `lmvm`) and thread prefixes resolve to their command.
		cmd, _ = c.commandName(strings.TrimLeft(name, "~*0123456789.#"))
	}
	if cmd == nil {
		return fmt.Errorf("No help for '%s'. Type .help for the list of commands.", name)
	}
	c.Printf("%s\n\n  %s\n", cmd.Syntax, cmd.Summary)
	if cmd.Help != "" {
		for _, l := range strings.Split(cmd.Help, "\n") {
			c.Printf("  %s\n", l)
		}
	}
	return nil
}

// printHelpPage is what `?` alone prints: the command families.
func (c *Ctx) printHelpPage() {
	fam := ""
	for _, cmd := range c.reg().Commands() {
		if cmd.Family != fam {
			fam = cmd.Family
			c.Printf("\n%s:\n", strings.ToUpper(fam[:1])+fam[1:])
		}
		c.Printf("  %-40s %s\n", cmd.Syntax, cmd.Summary)
	}
	c.Println()
	c.Println("Type .hh <command> for a command's help page.")
}

const maxScriptDepth = 32

// runScriptCommand runs `$<file` (each line echoed and run) or `$><file`
// (the file condensed into one command line).
// maxScriptSteps bounds the script lines one top-level command may run.
const maxScriptSteps = 100000

func (c *Ctx) runScriptCommand(text string) error {
	condensed := strings.HasPrefix(text, "$><") || strings.HasPrefix(text, "$$><")
	i := strings.IndexByte(text, '<')
	name := strings.TrimSpace(text[i+1:])
	if strings.HasPrefix(text, "$$") {
		// `$$<file; more` : the file name ends at ';' (splitCommands already cut it).
		name = strings.TrimSpace(strings.SplitN(name, ";", 2)[0])
	}
	if c.depth >= maxScriptDepth {
		return fmt.Errorf("Script nesting too deep (more than %d levels)", maxScriptDepth)
	}
	if err := c.CheckFile("read", name); err != nil {
		return err
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("Couldn't open script file '%s'", name)
	}
	if c.depth == 0 {
		c.scriptSteps = 0
	}
	c.depth++
	defer func() { c.depth-- }()
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if condensed {
		if c.scriptSteps += len(lines); c.scriptSteps > maxScriptSteps {
			return fmt.Errorf("Script stopped: it ran more than %d commands (does it run itself?)", maxScriptSteps)
		}
		line := strings.Join(lines, ";")
		c.Printf("%s%s\n", c.Host.Prompt(), line)
		return c.Execute(line)
	}
	for _, l := range lines {
		// Nesting is capped, but a script that runs itself twice a line
		// would still double at every level: the commands one script run
		// may execute are counted too.
		if c.scriptSteps++; c.scriptSteps > maxScriptSteps {
			return fmt.Errorf("Script stopped: it ran more than %d commands (does it run itself?)", maxScriptSteps)
		}
		c.Printf("%s%s\n", c.Host.Prompt(), l)
		if err := c.Execute(l); err == ErrQuit {
			return ErrQuit
		}
	}
	return nil
}
