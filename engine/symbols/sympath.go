package symbols

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultSymbolServer is Microsoft's public symbol server, what `srv*` and
// `.symfix` use when no server is named.
const DefaultSymbolServer = "https://msdl.microsoft.com/download/symbols"

// PathElem is one `;`-separated element of a symbol path.
type PathElem struct {
	Raw string
	// Dir is a plain directory (searched flat, and as dir/symbols/<ext>).
	Dir string
	// Tiers are a symbol server chain: local store directories and http(s)
	// URLs in search order. The first local tier is the downstream cache.
	Tiers []string
	// Cache is set by `cache*dir` for the elements that follow it.
	Cache string
	// ISF is an `isf*dir` folder of Volatility ISF files.
	ISF string
}

// IsServer reports a srv* element.
func (e PathElem) IsServer() bool { return len(e.Tiers) > 0 }

// DefaultCacheDir is where `srv*` and `.symfix` put downloads when no cache
// is named: DBGHELP_HOMEDIR/sym, else the user's cache directory.
func DefaultCacheDir() string {
	if h := os.Getenv("DBGHELP_HOMEDIR"); h != "" {
		return filepath.Join(h, "sym")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "ntdbg", "sym")
	}
	return filepath.Join(os.TempDir(), "ntdbg-sym")
}

// ParseSymbolPath splits a WinDbg symbol path: `srv*cache*url`, `srv*url`,
// `symsrv*symsrv.dll*...`, `cache*dir`, plain directories, `;` between.
func ParseSymbolPath(s string) []PathElem {
	var out []PathElem
	cache := ""
	for _, raw := range strings.Split(s, ";") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		parts := strings.Split(raw, "*")
		head := strings.ToLower(parts[0])
		switch {
		case head == "srv" || head == "symsrv":
			rest := parts[1:]
			if head == "symsrv" && len(rest) > 0 {
				rest = rest[1:] // the symsrv.dll name
			}
			var tiers []string
			for _, t := range rest {
				if t != "" {
					tiers = append(tiers, t)
				}
			}
			if len(tiers) == 0 {
				tiers = []string{DefaultSymbolServer}
			}
			// A server with no local store in front downloads into the cache
			// named by `cache*`, else the default downstream store.
			if !hasLocalTier(tiers) {
				c := cache
				if c == "" {
					c = DefaultCacheDir()
				}
				tiers = append([]string{c}, tiers...)
			}
			out = append(out, PathElem{Raw: raw, Tiers: tiers, Cache: cache})
		case head == "cache":
			cache = ""
			if len(parts) > 1 && parts[1] != "" {
				cache = parts[1]
			} else {
				cache = DefaultCacheDir()
			}
		case head == "isf":
			// Our addition: a folder of Volatility ISF files
			// (windows/<pdb>/<GUID>-<age>.json[.xz]), read as type and
			// symbol information where no PDB is found.
			if len(parts) > 1 && parts[1] != "" {
				out = append(out, PathElem{Raw: raw, ISF: strings.Join(parts[1:], "*")})
			}
		default:
			out = append(out, PathElem{Raw: raw, Dir: raw, Cache: cache})
		}
	}
	return out
}

func isURL(t string) bool {
	l := strings.ToLower(t)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

func hasLocalTier(tiers []string) bool {
	for _, t := range tiers {
		if !isURL(t) {
			return true
		}
	}
	return false
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_.\-+~$ ()\[\]{}#@!,']{1,200}$`)
var safeIndex = regexp.MustCompile(`^[0-9A-Fa-f]{1,64}$`)

// StoreRelPath builds `<name>/<index>/<name>` for a symbol store, refusing
// names that could leave the store (`..`, separators, drive letters).
func StoreRelPath(name, index string) (string, bool) {
	if !safeName.MatchString(name) || name == "." || name == ".." || strings.Contains(name, "..") || !safeIndex.MatchString(index) {
		return "", false
	}
	return filepath.Join(name, index, name), true
}

// BaseName strips a Windows or POSIX directory from a recorded file name
// (CodeView PDB names are often full build paths).
func BaseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// PathsFromFlags are the symbol and image paths a front end uses: the
// flags when given, else _NT_ALT_SYMBOL_PATH;_NT_SYMBOL_PATH and
// _NT_EXECUTABLE_IMAGE_PATH, as the debuggers read them.
func PathsFromFlags(sym, img string) (string, string) {
	if sym == "" {
		sym = strings.Trim(os.Getenv("_NT_ALT_SYMBOL_PATH")+";"+os.Getenv("_NT_SYMBOL_PATH"), ";")
	}
	if img == "" {
		img = os.Getenv("_NT_EXECUTABLE_IMAGE_PATH")
	}
	return sym, img
}
