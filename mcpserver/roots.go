package mcpserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ntdbg/ntdbg/engine/symbols"
)

// The server opens dumps and scripts, and writes logs and reports, only
// under the roots it was given (--root, default the current directory);
// symbol downloads go only to the caches its own symbol path names, the
// default cache, or under a root.

// fence holds the resolved roots and symbol caches.
type fence struct {
	roots  []string // absolute, symlinks resolved
	caches []string
}

func newFence(roots []string, symPath string) (*fence, error) {
	f := &fence{}
	for _, r := range roots {
		abs, err := resolve(r)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("root %s: %v", r, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("root %s is not a directory", r)
		}
		f.roots = append(f.roots, abs)
	}
	if len(f.roots) == 0 {
		return nil, errors.New("no root")
	}
	caches := []string{symbols.DefaultCacheDir()}
	caches = append(caches, symCaches(symPath)...)
	for _, c := range caches {
		if abs, err := resolve(c); err == nil {
			f.caches = append(f.caches, abs)
		}
	}
	return f, nil
}

// resolve makes p absolute with its symbolic links resolved, as far as it
// exists (a file about to be written need not).
func resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	cur := abs
	for {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

func under(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// inRoots reports whether path (relative to the current directory) lies
// under a root; it returns the resolved path.
func (f *fence) inRoots(path string) (string, bool) {
	abs, err := resolve(path)
	if err != nil {
		return "", false
	}
	for _, r := range f.roots {
		if under(r, abs) {
			return abs, true
		}
	}
	return abs, false
}

func (f *fence) outside(path string) error {
	return fmt.Errorf("%s is outside the roots this MCP server was given (%s)", path, strings.Join(f.roots, ", "))
}

// check answers commands.FileGuard.CheckFile.
func (f *fence) check(op, path string) error {
	switch op {
	case "sympath":
		for _, c := range symCaches(path) {
			abs, err := resolve(c)
			if err != nil {
				return fmt.Errorf("symbol cache %s: %v", c, err)
			}
			ok := false
			for _, d := range f.caches {
				ok = ok || under(d, abs)
			}
			for _, r := range f.roots {
				ok = ok || under(r, abs)
			}
			if !ok {
				return fmt.Errorf("symbol cache %s is outside the roots and the symbol caches this MCP server was given", c)
			}
		}
		return nil
	default:
		if _, ok := f.inRoots(path); !ok {
			return f.outside(path)
		}
		return nil
	}
}

// symCaches are the local directories a symbol path may write: every
// local tier of a srv* chain and every cache*dir.
func symCaches(symPath string) []string {
	var out []string
	for _, e := range symbols.ParseSymbolPath(symPath) {
		if e.Cache != "" {
			out = append(out, e.Cache)
		}
		for _, t := range e.Tiers {
			l := strings.ToLower(t)
			if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(t, symbols.BundlePrefix) {
				continue
			}
			out = append(out, t)
		}
	}
	return out
}
