// Package repl is ntdbg's front end: the startup banner, the interactive
// readline loop, stdin batch mode, colour, history, completion and logging.
package repl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chzyer/readline"
	"github.com/fatih/color"
	"github.com/mattn/go-isatty"

	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/engine"
	"github.com/ntdbg/ntdbg/engine/symbols"
	"github.com/ntdbg/ntdbg/engine/target"
)

// Options are the cdb-like command-line settings.
type Options struct {
	DumpPath   string // shown in `Loading Dump File [..]`
	Target     target.Target
	Commands   string // -c
	ScriptFile string // -cf
	LogFile    string // -logo
	SymbolPath string
	ImagePath  string
	Lines      bool // -lines: source line support from the start
	// SymbolBundle is the symbol store built into ntdbg (path elements
	// starting with symbols.BundlePrefix read from it).
	SymbolBundle fs.FS
	Stdin        io.Reader
	Stdout       io.Writer
	Interactive  bool // stdin and stdout are terminals
	Color        bool
	Notice       string // printed before the banner (the demo-dump note)
	// Progress receives symbol download progress (stderr, when it is a terminal).
	Progress io.Writer
	// Registry is the command set (nil: the core commands).
	Registry *commands.Registry
	// Offline: no symbol server is asked (NTDBG_OFFLINE=1; !sym online
	// turns them on).
	Offline bool
	// More are further dumps of the session (several -z): each a system.
	More []Dump
	// JSON (-json): each command's output is one JSON object (JSON Lines)
	// on Stdout instead of its text (.json on|off toggles it).
	JSON bool
}

// Dump is one more dump for a session.
type Dump struct {
	Path   string
	Target target.Target
}

// Version is ntdbg's version, shown in the banner.
const Version = commands.Version

// Session is one running front end.
type Session struct {
	last string // what an empty line repeats
	opts Options
	out  *Output
	ctx  *commands.Ctx
	quit bool
	// cancel cancels the running command (nil between commands).
	mu     sync.Mutex
	cancel context.CancelFunc
	json   jsonState
}

// Prompt is WinDbg's user-mode prompt: process index, thread index.
func (s *Session) Prompt() string { return s.ctx.PromptText() }

func (s *Session) OpenLog(path string, appendMode bool) (string, error) {
	return s.out.OpenLog(path, appendMode)
}
func (s *Session) CloseLog() (string, bool) { return s.out.CloseLog() }
func (s *Session) LogName() (string, bool)  { return s.out.LogName() }
func (s *Session) Quit()                    { s.quit = true }
func (s *Session) Clear() {
	if s.opts.Interactive {
		fmt.Fprint(s.out.term, "\x1b[H\x1b[2J")
	}
}

// New builds a session around an open target.
func New(opts Options) *Session {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	s := &Session{opts: opts, out: &Output{term: opts.Stdout}}
	s.ctx = &commands.Ctx{S: engine.NewSession(opts.Target), Out: s.out, Host: s, Registry: opts.Registry}
	s.ctx.SetSymbols(s.newSymbols(opts.Target))
	if opts.Color {
		s.out.Colour = colourKind
	}
	// DML links show in an interactive terminal, not in pipes, -c scripts or logs.
	s.out.DML = opts.Interactive
	return s
}

// newSymbols is the symbol layer of one dump, configured from the options.
func (s *Session) newSymbols(t target.Target) *symbols.Symbols {
	opts := s.opts
	syms := symbols.NewSymbols(t, opts.SymbolPath)
	syms.Lines = opts.Lines
	syms.Bundle = opts.SymbolBundle
	for _, d := range strings.Split(opts.ImagePath, ";") {
		if d = strings.TrimSpace(d); d != "" {
			syms.ImagePath = append(syms.ImagePath, d)
		}
	}
	syms.Notify = func(msg string) { fmt.Fprintln(s.out, msg) }
	syms.Warn = func(sev symbols.Severity, msg string) {
		k := commands.KindWarning
		if sev == symbols.SevError {
			k = commands.KindError
		}
		s.out.Emit(k, msg+"\n", "")
	}
	if opts.Progress != nil {
		syms.Progress = progressBar(opts.Progress)
	}
	// Downloads go on in the background: a command waits for them a
	// moment, then prints what it has (module+offset) and says so.
	syms.Background = true
	syms.Offline = opts.Offline
	return syms
}

// Ctx exposes the command context (tests and extensions).
func (s *Session) Ctx() *commands.Ctx { return s.ctx }

// Run prints the banner, runs -logo/-c/-cf, then reads commands until `q` or
// the end of input. It returns the process exit code.
func (s *Session) Run() int {
	defer s.out.CloseLog()
	s.startJSON()
	defer func() {
		for _, sys := range s.ctx.Systems() {
			if sys.Syms != nil {
				sys.Syms.Close()
			}
		}
	}()
	if s.opts.LogFile != "" {
		if _, err := s.out.OpenLog(s.opts.LogFile, false); err != nil {
			fmt.Fprintf(s.out, "Unable to open log file '%s', %v\n", s.opts.LogFile, err)
		} else {
			fmt.Fprintf(s.out, "Opened log file '%s'\n", s.opts.LogFile)
		}
	}
	if s.opts.Notice != "" {
		fmt.Fprintln(s.out, s.opts.Notice)
	}
	// cdb's first lines, with ntdbg's own name and version in them.
	fmt.Fprintf(s.out, "\n%s\n", strings.Join(commands.VersionBanner(), "\n"))
	s.loadDumps("\n\n")
	if s.opts.Commands != "" {
		// As cdb echoes its -c argument.
		s.out.Emit(commands.KindPrompt, s.Prompt(), "")
		fmt.Fprintf(s.out, "cdb: Reading initial command '%s'\n", target.Sanitize(s.opts.Commands))
		if s.runLine(s.opts.Commands, false) {
			return s.finish()
		}
	}
	if s.opts.ScriptFile != "" {
		if s.runLine("$<"+s.opts.ScriptFile, false) {
			return s.finish()
		}
	}
	if s.opts.Interactive {
		s.interactive()
	} else {
		s.batch()
	}
	return s.finish()
}

func (s *Session) finish() int {
	s.endJSON()
	if name, ok := s.out.CloseLog(); ok && !s.json.on {
		fmt.Fprintf(s.opts.Stdout, "Closing open log file %s\n", name)
	}
	return 0
}

// runLine echoes (when asked) and runs one input line; true means quit.
func (s *Session) runLine(line string, echo bool) bool {
	var quit bool
	s.command(func() { quit = s.runCommand(line, echo) })
	return quit
}

// Interrupt cancels the running command, its downloads and its output
// (Ctrl-C); it reports false when no command runs.
func (s *Session) Interrupt() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return false
	}
	s.cancel()
	return true
}

// command runs fn as one command: a Ctrl-C (SIGINT) while it runs cancels
// it through its context, which the symbol layer's waits and downloads and
// the output's guard heed; the session goes on. Between commands SIGINT is
// left as it was (readline reads Ctrl-C at the prompt itself).
func (s *Session) command(fn func()) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-sig:
				s.Interrupt()
			case <-stop:
				return
			}
		}
	}()
	s.ctx.Interrupted = func() bool { return ctx.Err() != nil }
	syms := s.ctx.SymConfig
	if syms != nil {
		syms.Begin(ctx)
	}
	defer func() {
		if syms != nil {
			syms.End()
		}
		signal.Stop(sig)
		close(stop)
		wg.Wait()
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
		s.ctx.Interrupted = nil
	}()
	fn()
}

// runCommand echoes (when asked) and runs one input line; true means quit.
func (s *Session) runCommand(line string, echo bool) bool {
	if echo && s.json.on {
		s.out.LogOnly(s.Prompt() + line + "\n")
	} else if echo {
		s.out.Emit(commands.KindPrompt, s.Prompt(), "")
		fmt.Fprintf(s.out, "%s\n", line)
	}
	// An empty line repeats the last command; a display or disassembly
	// command repeats as its bare name, which goes on where it stopped.
	if strings.TrimSpace(line) == "" {
		if s.last == "" {
			return false
		}
		line = s.last
	} else {
		s.last = repeatForm(line)
	}
	if t := strings.TrimSpace(line); !strings.HasPrefix(t, ".link") {
		s.out.ResetLinks()
	}
	var err error
	if s.json.on || s.json.log != nil {
		err = s.executeJSON(line)
	} else {
		err = s.ctx.Execute(line)
	}
	return err == commands.ErrQuit || s.quit
}

// repeatForm is what an empty line after line runs: `u`, `d*` and `dps`
// continue (their bare name), anything else runs again.
func repeatForm(line string) string {
	t := strings.TrimSpace(line)
	if strings.Contains(t, ";") {
		return line
	}
	word := strings.ToLower(strings.Fields(t)[0])
	switch word {
	case "u", "ub", "d", "db", "dw", "dd", "dq", "dp", "dc", "da", "du", "dps", "dqs", "dds", "dpp", "dyb", "df", "dD":
		return word
	}
	return line
}

// PreferDML and SetPreferDML are .prefer_dml's state; LinkCommand is what
// `.link N` runs (commands.DMLHost).
func (s *Session) PreferDML() bool     { return s.out.DML }
func (s *Session) SetPreferDML(b bool) { s.out.DML = b }
func (s *Session) LinkCommand(n int) (string, bool) {
	return s.out.LinkCommand(n)
}

// colorPrompt is the prompt readline shows (it draws it itself).
func (s *Session) colorPrompt() string {
	if !s.opts.Color {
		return s.Prompt()
	}
	return colourKind(commands.KindPrompt, s.Prompt())
}

// batch reads commands from a pipe or file: each is echoed after the prompt
// so the transcript reads like a WinDbg log.
func (s *Session) batch() {
	sc := bufio.NewScanner(s.opts.Stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if s.runLine(strings.TrimRight(sc.Text(), "\r"), true) {
			return
		}
	}
}

func historyPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	dir = filepath.Join(dir, "ntdbg")
	if os.MkdirAll(dir, 0o755) != nil {
		return ""
	}
	return filepath.Join(dir, "history")
}

func (s *Session) completer() readline.AutoCompleter {
	var items []readline.PrefixCompleterInterface
	for _, n := range s.ctx.Reg().Names() {
		items = append(items, readline.PcItem(n))
	}
	return readline.NewPrefixCompleter(items...)
}

func (s *Session) interactive() {
	cfg := &readline.Config{
		Prompt:          s.colorPrompt(),
		HistoryFile:     historyPath(),
		AutoComplete:    s.completer(),
		InterruptPrompt: "^C",
		EOFPrompt:       "q",
		Stdout:          s.opts.Stdout,
	}
	// The terminal is the one the session was given (os.Stdin unless a
	// front end or a test passes another).
	if in, ok := s.opts.Stdin.(*os.File); ok && in != os.Stdin {
		fd := int(in.Fd())
		var saved *readline.State
		cfg.Stdin = in
		cfg.FuncIsTerminal = func() bool { return readline.IsTerminal(fd) }
		cfg.FuncMakeRaw = func() error {
			st, err := readline.MakeRaw(fd)
			saved = st
			return err
		}
		cfg.FuncExitRaw = func() error {
			if saved == nil {
				return nil
			}
			return readline.Restore(fd, saved)
		}
		cfg.FuncGetWidth = func() int {
			if w, _, err := readline.GetSize(fd); err == nil {
				return w
			}
			return 80
		}
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		s.batch()
		return
	}
	defer rl.Close()
	for {
		rl.SetPrompt(s.colorPrompt())
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			continue
		}
		if err != nil {
			return
		}
		s.out.LogOnly(s.Prompt() + line + "\n")
		if s.runLine(line, false) {
			return
		}
	}
}

// progressBar draws symbol downloads on one line of w (stderr on a terminal).
func progressBar(w io.Writer) func(name string, done, total int64) {
	return func(name string, done, total int64) {
		switch {
		case done < 0:
			fmt.Fprintf(w, "\r%s\r", strings.Repeat(" ", 60))
		case total > 0:
			fmt.Fprintf(w, "\rDownloading %s: %3d%% (%d of %d KB)", name, done*100/total, done>>10, total>>10)
		default:
			fmt.Fprintf(w, "\rDownloading %s: %d KB", name, done>>10)
		}
	}
}

var (
	promptColour = color.New(color.FgCyan, color.Bold)
	errColour    = color.New(color.FgRed, color.Bold)
	warnColour   = color.New(color.FgYellow)
)

// colourKind marks errors red and warnings yellow on a terminal.
func colourKind(k commands.Kind, l string) string {
	switch k {
	case commands.KindError:
		return errColour.Sprint(l)
	case commands.KindWarning:
		return warnColour.Sprint(l)
	case commands.KindPrompt:
		return promptColour.Sprint(l)
	}
	return l
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// loadDumps prints the dump's Loading line, its warnings and the banner,
// then opens the further dumps as more systems (several -z, -demo hang):
// the first stays current, as WinDbg starts on it. lead is what comes
// before the Loading line.
func (s *Session) loadDumps(lead string) {
	fmt.Fprintf(s.out, "%sLoading Dump File [%s]\n", lead, target.Sanitize(s.opts.DumpPath))
	for _, w := range s.opts.Target.Warnings() {
		s.out.Emit(commands.KindWarning, fmt.Sprintf("WARNING: %s\n", target.Sanitize(w)), "")
	}
	// The banner names what it can without the network (module+offset,
	// or what the cache and folders hold); downloads wait for a command.
	s.command(func() {
		if s.ctx.SymConfig != nil {
			s.ctx.SymConfig.NoNetwork(func() { s.ctx.Banner(s.opts.SymbolPath, s.opts.ImagePath) })
		} else {
			s.ctx.Banner(s.opts.SymbolPath, s.opts.ImagePath)
		}
	})
	for _, d := range s.opts.More {
		if len(s.ctx.Systems()) == 1 {
			s.ctx.AddSystem(s.ctx.S, s.ctx.SymConfig, s.opts.DumpPath)
		}
		fmt.Fprintf(s.out, "\nLoading Dump File [%s]\n%s\n", target.Sanitize(d.Path), commands.DumpKindLine(d.Target))
		s.ctx.AddSystem(engine.NewSession(d.Target), s.newSymbols(d.Target), d.Path)
		fmt.Fprintf(s.out, "Opened '%s' as system %d (||%d s makes it current)\n", target.Sanitize(d.Path), len(s.ctx.Systems())-1, len(s.ctx.Systems())-1)
	}
}
