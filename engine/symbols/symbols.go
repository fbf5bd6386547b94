package symbols

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ntdbg/ntdbg/dumpfmt/cab"
	"github.com/ntdbg/ntdbg/dumpfmt/codeview"
	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
	"github.com/ntdbg/ntdbg/dumpfmt/pe"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/symbols/undname"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

// Symbol states, as lm shows them.
const (
	SymDeferred = iota
	SymPDB
	SymPrivatePDB
	SymExport
	SymNone
	// SymISF: types and symbols from a Volatility ISF file (isf*dir).
	SymISF
)

// Symbols finds, downloads, caches and answers from module symbols.
type Symbols struct {
	target    target.Target
	Path      []PathElem
	PathText  string
	ImagePath []string
	Client    *http.Client
	// Progress, when set, is told how a download goes (done bytes of
	// total, total 0 when unknown); done < 0 means the download ended.
	// The front end draws the bar.
	Progress func(name string, done, total int64)
	// Notify receives the search trace when Noisy (and warnings when Warn is nil).
	Notify func(string)
	// PromptsOff is `!sym prompts off`: symbol servers may not ask for
	// credentials (ntdbg never prompts; the state is kept for !sym).
	PromptsOff bool
	// Warn receives warnings and errors (symbol files not found, bad
	// downloads) with their severity.
	Warn  func(Severity, string)
	Noisy bool
	// Lines is source line support (SYMOPT_LOAD_LINES): off by default, as
	// in cdb and kd; -lines and .lines turn it on. Line answers nothing
	// while it is off.
	Lines bool
	// Bundle holds the symbol files built into ntdbg, reached through path
	// elements that start with BundlePrefix.
	Bundle fs.FS
	// Offline: no symbol server is asked (`!sym offline`, NTDBG_OFFLINE=1);
	// caches and folders still answer.
	Offline bool
	// ConnectTimeout and ReplyTimeout bound each request (SetTimeout sets
	// both and the client): connecting, and waiting for the first byte of
	// the answer and for each read after it.
	ConnectTimeout, ReplyTimeout time.Duration
	// SessionCap bounds the bytes downloads write per session (0: the default).
	SessionCap int64
	// Background: a lookup waits at most Grace for its download (measured
	// from Begin); the module shows module+offset names until a later
	// command finds the file arrived. Without it, lookups wait.
	Background bool
	Grace      time.Duration
	net        *netState
	mods       map[uint64]*ModSyms
	// pdbs are the open PDB files, shared by the modules that name them.
	pdbs map[string]*sharedPDB
	gen  uint64
}

// ModSyms is the symbol state of one module.
type ModSyms struct {
	Mod      *target.Module
	State    int
	PdbPath  string
	PDB      *pdb.File
	dbi      *pdb.DBI
	image    *pe.File
	imgTried bool
	imgFile  string
	headers  *pe.File // headers only, from memory or the image file
	hdrTried bool
	// disk is the image file found on the image or symbol path, opened to
	// fill what the dump does not hold (ReadImage); diskTried once looked.
	// shared is the PDB this module shares with others naming the same file.
	shared    *sharedPDB
	disk      *pe.File
	diskTried bool
	diskPath  string
	entries   []symEntry // by RVA
	byName    map[string][]int
	globals   []symEntry
	tpi       *pdb.TypeTable
	isf       *types.ISFTable
	// ISFPath is the ISF file the module's types came from.
	ISFPath string
	// Unloaded: `.reload /u` took the module out of the debugger's list;
	// its symbols stay unloaded and it answers no lookups until a
	// `.reload` brings it back.
	Unloaded bool
	// x86 FPO data, read on first use
	fpoLoaded bool
	newFPO    []pdb.FrameData
	oldFPO    []pdb.FPO
	// jobs are downloads a lookup left running; provisional: a lookup did
	// not ask the network (the banner). Begin loads such a module afresh.
	jobs        []*job
	provisional bool
}

type symEntry struct {
	rva, size uint32
	name      string
	pdbMod    int // module index for line lookups; -1 for publics/exports
	seg       uint16
	off       uint32
	data      bool
	typ       uint32 // TPI type index (0 when unknown)
	proc      *pdb.Proc
}

// ImageFile is the image file used for the module ("" when the image came
// from dump memory or was not found).
func (ms *ModSyms) ImageFile() string { return ms.imgFile }

// NewSymbols creates the symbol layer for a target.
func NewSymbols(t target.Target, path string) *Symbols {
	s := &Symbols{target: t, mods: map[uint64]*ModSyms{}, net: newNetState(), Grace: DefaultGrace}
	s.SetTimeout(DefaultReplyTimeout)
	s.SetPath(path)
	return s
}

// SetPath replaces the symbol path; loaded symbols stay until .reload.
func (s *Symbols) SetPath(p string) {
	s.PathText = p
	s.Path = ParseSymbolPath(p)
	s.gen++
}

func (s *Symbols) say(format string, a ...any) {
	if s.Notify != nil {
		s.Notify(fmt.Sprintf(format, a...))
	}
}

// Severity says whether a report is a warning or an error.
type Severity int

const (
	SevWarning Severity = iota
	SevError
)

// report sends a warning or error line to Warn when set, else to Notify.
func (s *Symbols) report(sev Severity, format string, a ...any) {
	if s.Warn != nil {
		s.Warn(sev, fmt.Sprintf(format, a...))
		return
	}
	s.say(format, a...)
}

func (s *Symbols) noisy(format string, a ...any) {
	if s.Noisy {
		s.say(format, a...)
	}
}

// Get returns the state of a module without loading anything.
func (s *Symbols) Get(m *target.Module) *ModSyms {
	ms := s.mods[m.Base]
	if ms == nil {
		ms = &ModSyms{Mod: m, State: SymDeferred}
		s.mods[m.Base] = ms
	}
	return ms
}

// ResetImages forgets which images were looked for, so that a new image
// path is searched again.
func (s *Symbols) ResetImages() {
	for _, ms := range s.mods {
		if ms.image == nil {
			ms.imgTried, ms.hdrTried = false, false
		}
	}
}

// Unload forgets a module's symbols (.reload).
func (s *Symbols) Unload(m *target.Module) {
	if ms := s.mods[m.Base]; ms != nil {
		ms.close()
	}
	delete(s.mods, m.Base)
	s.gen++
}

// Detach unloads a module's symbols and takes the module out of the
// debugger's list (.reload /u): Get reports it Unloaded and lookups skip it
// until Unload (a later .reload) forgets that.
func (s *Symbols) Detach(m *target.Module) {
	s.Unload(m)
	s.mods[m.Base] = &ModSyms{Mod: m, State: SymDeferred, Unloaded: true}
}

// close closes the files a module's symbols hold open.
func (ms *ModSyms) close() {
	if ms.shared != nil {
		ms.shared.release()
		ms.shared = nil
	} else if ms.PDB != nil {
		ms.PDB.Close()
	}
	if ms.image != nil {
		ms.image.Close()
	}
	if ms.headers != nil {
		ms.headers.Close()
	}
	if ms.disk != nil && ms.disk != ms.image {
		ms.disk.Close()
	}
}

// Close closes every symbol and image file the layer opened.
func (s *Symbols) Close() error {
	s.closeNet()
	for _, ms := range s.mods {
		ms.close()
	}
	s.mods = map[uint64]*ModSyms{}
	s.gen++
	return nil
}

// Generation changes whenever symbols may answer differently (a new path,
// an unloaded module), so what was derived from them can be worked out again.
func (s *Symbols) Generation() uint64 { return s.gen }

// Load loads a module's symbols now, if they are deferred.
func (s *Symbols) Load(m *target.Module) *ModSyms {
	ms := s.Get(m)
	if ms.State != SymDeferred || ms.Unloaded {
		return ms
	}
	ms.State = SymNone
	if !s.imageLoads(ms) && !ms.awaiting() {
		// WinDbg maps the image before it loads symbols; one it cannot
		// find is reported so (windbg-reference.md §7.4).
		s.report(SevWarning, "Unable to load image %s, Win32 error 0n2", m.Path)
		s.report(SevWarning, "*** WARNING: Unable to verify timestamp for %s", m.ImageName)
	}
	if m.PdbGUID == "" {
		// No debug record in the dump (a triage dump's driver list): the
		// image, found by its time stamp and size, names the PDB.
		if img := s.imageFor(ms); img != nil {
			if cv, err := img.CodeView(); err == nil && cv != nil {
				m.PdbName, m.PdbFile, m.PdbAge = target.Sanitize(cv.PdbName), target.PdbBase(cv.PdbName), cv.Age
				if cv.Signature == codeview.RSDS {
					m.PdbGUID = cv.GUIDString()
				} else {
					m.PdbGUID = fmt.Sprintf("%08X", cv.TimeStamp)
				}
				s.noisy("DBGHELP: %s - the image names %s", m.Name, m.PdbName)
			}
		}
	}
	if m.PdbName != "" && m.PdbGUID != "" {
		name := m.PdbFile
		if name == "" {
			name = BaseName(m.PdbName)
		}
		index := fmt.Sprintf("%s%X", m.PdbGUID, m.PdbAge)
		guid := m.PdbGUID
		path := s.lookup(ms, func() string { return s.find(name, index, func(p string) bool { return s.validPDB(p, guid) }) })
		if path != "" {
			if sh, err := s.sharedPDB(path); err == nil {
				// Modules that name the same PDB file share one open copy
				// and one parsed index (symbols are kept by RVA).
				sh.refs++
				ms.shared = sh
				ms.PDB, ms.PdbPath, ms.dbi = sh.file, path, sh.dbi
				ms.State = SymPDB
				if sh.private {
					ms.State = SymPrivatePDB
				}
				s.noisy("DBGHELP: %s - %s", m.Name, map[bool]string{true: "private symbols & lines", false: "public symbols"}[ms.State == SymPrivatePDB])
				if !sh.built {
					s.buildPDBEntries(ms)
					sh.entries, sh.byName, sh.globals, sh.built = ms.entries, ms.byName, ms.globals, true
				} else {
					ms.entries, ms.byName, ms.globals = sh.entries, sh.byName, sh.globals
				}
				return ms
			}
		}
	}
	if s.loadISF(ms) {
		return ms
	}
	if len(ms.jobs) > 0 {
		// Until the download ends, frames are module+offset.
		if !s.net.noNote {
			s.report(SevWarning, "*** Symbols for %s are being downloaded; run the command again for names", m.Name)
		}
		return ms
	}
	img := s.imageFor(ms)
	if ms.provisional {
		// The banner: exports name what they can, silently; the next
		// command looks again with the network.
		if img != nil {
			s.loadExports(ms, img)
		}
		return ms
	}
	if img != nil {
		if s.loadExports(ms, img) {
			s.report(SevError, "*** ERROR: Symbol file could not be found.  Defaulted to export symbols for %s - ", m.ImageName)
			return ms
		}
	}
	s.report(SevError, "*** ERROR: Module load completed but symbols could not be loaded for %s", m.ImageName)
	return ms
}

// loadExports names the module from its image's exports.
func (s *Symbols) loadExports(ms *ModSyms, img *pe.File) bool {
	exps, err := img.Exports()
	if err != nil || len(exps) == 0 {
		return false
	}
	ms.State = SymExport
	for _, e := range exps {
		if e.Forwarder != "" || e.Name == "" {
			continue
		}
		ms.entries = append(ms.entries, symEntry{rva: e.RVA, name: target.SanitizeName(e.Name), pdbMod: -1})
	}
	s.index(ms)
	return true
}

// lookup runs a search for one of ms's files and keeps on ms what it left
// open: downloads still running, or the network not asked.
func (s *Symbols) lookup(ms *ModSyms, find func() string) string {
	n := s.net
	pend, prov, jobs := n.pend, n.prov, n.pendJobs
	n.pend, n.prov, n.pendJobs = false, false, nil
	p := find()
	ms.jobs = append(ms.jobs, n.pendJobs...)
	if n.prov {
		ms.provisional = true
	}
	n.pend, n.prov, n.pendJobs = pend, prov, jobs
	return p
}

// awaiting: the module's files may yet come (a download runs, or the
// network was not asked), so no final answer is given now.
func (ms *ModSyms) awaiting() bool { return len(ms.jobs) > 0 || ms.provisional }

func hasPrivateSymbols(f *pdb.File, d *pdb.DBI) bool {
	for _, m := range d.Modules {
		if m.Stream >= 0 && m.SymBytes > 4 {
			return true
		}
	}
	return false
}

// openCached opens a file behind a block cache. Symbol files stay open for
// the session (streams are read on demand); callers that only check a file
// close it.
func (s *Symbols) openCached(path string, blocks int) (*mem.CachedReader, io.Closer, error) {
	var fh interface {
		io.ReaderAt
		io.Closer
		Stat() (fs.FileInfo, error)
	}
	if name, ok := s.bundled(path); ok {
		f, err := s.Bundle.Open(name)
		if err != nil {
			return nil, nil, err
		}
		ra, ok := f.(interface {
			io.ReaderAt
			io.Closer
			Stat() (fs.FileInfo, error)
		})
		if !ok {
			f.Close()
			return nil, nil, fmt.Errorf("%s: the bundle's files cannot be read at an offset", path)
		}
		fh = ra
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		fh = f
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	return mem.NewCachedReader(fh, st.Size(), 16<<10, blocks), fh, nil
}

// BundlePrefix starts the symbol path elements that name folders of Bundle,
// the symbol files built into ntdbg for its bundled dumps (`bundled:symbols`).
const BundlePrefix = "bundled:"

// bundled maps a path under BundlePrefix to its name in Bundle.
func (s *Symbols) bundled(p string) (string, bool) {
	if s.Bundle == nil || !strings.HasPrefix(p, BundlePrefix) {
		return "", false
	}
	name := path.Clean(filepath.ToSlash(strings.TrimPrefix(p, BundlePrefix)))
	return name, fs.ValidPath(name)
}

// sharedPDB is one open PDB file and what was parsed from it, shared by
// every module that names it (a process that maps one DLL under many
// names: 1,000 copies cost one).
type sharedPDB struct {
	owner   map[string]*sharedPDB
	key     string
	file    *pdb.File
	dbi     *pdb.DBI
	private bool
	refs    int
	built   bool
	entries []symEntry
	byName  map[string][]int
	globals []symEntry
	tpi     *pdb.TypeTable
}

func (s *Symbols) sharedPDB(path string) (*sharedPDB, error) {
	key := filepath.Clean(path)
	if sh := s.pdbs[key]; sh != nil {
		return sh, nil
	}
	f, err := s.openPDBFile(path)
	if err != nil {
		return nil, err
	}
	if s.pdbs == nil {
		s.pdbs = map[string]*sharedPDB{}
	}
	sh := &sharedPDB{owner: s.pdbs, key: key, file: f}
	sh.dbi, _ = f.DBI()
	sh.private = sh.dbi != nil && hasPrivateSymbols(f, sh.dbi)
	s.pdbs[key] = sh
	return sh, nil
}

// release drops one module's hold; the last one closes the file.
func (sh *sharedPDB) release() {
	if sh.refs--; sh.refs > 0 {
		return
	}
	sh.file.Close()
	if sh.owner[sh.key] == sh {
		delete(sh.owner, sh.key)
	}
}

func (s *Symbols) openPDBFile(path string) (*pdb.File, error) {
	cr, fh, err := s.openCached(path, 256)
	if err != nil {
		return nil, err
	}
	f, err := pdb.NewFile(cr, cr.Size())
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.Own(fh)
	return f, nil
}

func (s *Symbols) validPDB(path, guid string) bool {
	cr, fh, err := s.openCached(path, 4)
	if err != nil {
		return false
	}
	defer fh.Close()
	f, err := pdb.NewFile(cr, cr.Size())
	return err == nil && strings.EqualFold(f.GUIDString(), guid)
}

func (s *Symbols) buildPDBEntries(ms *ModSyms) {
	d := ms.dbi
	if d == nil {
		return
	}
	covered := map[uint32]bool{}
	if procs, err := ms.PDB.Procs(); err == nil {
		for _, p := range procs {
			rva, ok := d.RVA(p.Seg, p.Off)
			if !ok {
				continue
			}
			pc := p
			ms.entries = append(ms.entries, symEntry{rva: rva, size: p.Len, name: target.SanitizeName(p.Name), pdbMod: p.Module, seg: p.Seg, off: p.Off, typ: s.procType(ms, p), proc: &pc})
			covered[rva] = true
		}
	}
	if pubs, err := ms.PDB.Publics(); err == nil {
		for _, p := range pubs {
			rva, ok := d.RVA(p.Seg, p.Off)
			if !ok || covered[rva] {
				continue
			}
			ms.entries = append(ms.entries, symEntry{rva: rva, name: target.SanitizeName(undname.Undecorate(p.Name)), pdbMod: -1, seg: p.Seg, off: p.Off, data: p.Flags&2 == 0})
		}
	}
	if globals, err := ms.PDB.Globals(); err == nil {
		for _, g := range globals {
			if rva, ok := d.RVA(g.Seg, g.Off); ok {
				ms.globals = append(ms.globals, symEntry{rva: rva, name: target.SanitizeName(g.Name), pdbMod: -1, data: true, typ: g.Type})
			}
		}
	}
	s.index(ms)
}

// procType returns the TPI function type of a procedure, following an IPI
// function id to its type.
func (s *Symbols) procType(ms *ModSyms, p pdb.Proc) uint32 {
	if !p.IsID {
		return p.Type
	}
	ipi, err := ms.PDB.IPI()
	if err != nil {
		return 0
	}
	id, err := ipi.Type(p.Type)
	if err != nil {
		return 0
	}
	return id.Elem
}

func (s *Symbols) index(ms *ModSyms) {
	sort.SliceStable(ms.entries, func(i, j int) bool { return ms.entries[i].rva < ms.entries[j].rva })
	ms.byName = map[string][]int{}
	for i, e := range ms.entries {
		k := strings.ToLower(e.name)
		ms.byName[k] = append(ms.byName[k], i)
	}
}

// find searches the symbol path for a file with a store index; validate
// decides whether a candidate is the right file.
func (s *Symbols) find(name, index string, validate func(string) bool) string {
	rel, ok := StoreRelPath(name, index)
	if !ok {
		s.noisy("SYMSRV:  refusing unsafe file name %q", name)
		return ""
	}
	for _, e := range s.Path {
		if !e.IsServer() {
			// An element may name the file itself (-y c:\syms\app.pdb).
			if s.fileExists(e.Dir) && strings.EqualFold(filepath.Base(e.Dir), name) {
				if validate(e.Dir) {
					return e.Dir
				}
				continue
			}
			ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), ".")
			for _, c := range []string{filepath.Join(e.Dir, name), filepath.Join(e.Dir, "symbols", ext, name), filepath.Join(e.Dir, ext, name), filepath.Join(e.Dir, rel)} {
				if s.fileExists(c) {
					if validate(c) {
						return c
					}
					s.noisy("DBGHELP: %s - mismatched symbol file", c)
				}
			}
			continue
		}
		if p := s.fromServer(e, name, index, rel, validate); p != "" {
			return p
		}
	}
	return ""
}

// PathExists reports whether a symbol path folder or file exists (on disk,
// or in the bundle).
func (s *Symbols) PathExists(p string) bool {
	if name, ok := s.bundled(p); ok {
		_, err := fs.Stat(s.Bundle, name)
		return err == nil
	}
	_, err := os.Stat(p)
	return err == nil
}

func (s *Symbols) fileExists(p string) bool {
	if name, ok := s.bundled(p); ok {
		st, err := fs.Stat(s.Bundle, name)
		return err == nil && st.Mode().IsRegular()
	}
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func (s *Symbols) fromServer(e PathElem, name, index, rel string, validate func(string) bool) string {
	cache := ""
	for _, t := range e.Tiers {
		if !isURL(t) {
			if cache == "" {
				cache = t
			}
			for _, c := range []string{filepath.Join(t, rel), filepath.Join(t, name[:min(2, len(name))], rel)} {
				if s.fileExists(c) {
					if validate(c) {
						return c
					}
					s.noisy("SYMSRV:  %s - mismatched file", c)
				}
			}
			s.noisy("SYMSRV:  UNC: %s - path not found", filepath.Join(t, rel))
			continue
		}
		if cache == "" {
			cache = filepath.Join(os.TempDir(), "ntdbg-sym")
		}
		if p := s.fromURL(t, cache, name, index, rel, validate); p != "" {
			return p
		}
		if s.net.pend {
			return "" // the next command asks again
		}
	}
	return ""
}

// unpackCab extracts the single file of a downloaded cabinet, streaming it
// into dst (memory is one cabinet block); dst is removed on failure.
func unpackCab(src, dst string, limit int64) (int64, error) {
	fh, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return 0, err
	}
	out, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	_, n, err := cab.Extract(out, fh, st.Size(), limit)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
	}
	return n, err
}

const maxDownload = 2 << 30

// memImage is a module image read straight from dump memory.
type memImage struct {
	mem  mem.Memory
	base uint64
}

func (m memImage) ReadAt(p []byte, off int64) (int, error) {
	n, err := m.mem.ReadVirtual(p, m.base+uint64(off))
	if n < len(p) && err == nil {
		err = io.EOF
	}
	return n, err
}

// Image implements ImageProvider: the module's image from dump memory when
// its headers and unwind data are there, else from the image path or the
// symbol path (name/TimeDateStampSizeOfImage/name).
func (s *Symbols) Image(m *target.Module) *pe.File {
	return s.imageFor(s.Get(m))
}

func (s *Symbols) imageFor(ms *ModSyms) *pe.File {
	if ms.imgTried {
		return ms.image
	}
	ms.imgTried = true
	m := ms.Mod
	if f, err := pe.NewFile(memImage{s.target.AddressSpace(nil), m.Base}, int64(m.Size), true); err == nil {
		if _, err := f.RuntimeFunctions(); err == nil {
			ms.image = f
			return f
		}
	}
	if path := s.lookup(ms, func() string { return s.findImageFile(m) }); path != "" {
		if f, err := s.openImageFile(path); err == nil {
			ms.image, ms.imgFile = f, path
		}
	}
	return ms.image
}

// findImageFile looks for the module's image on the image path, then on the
// symbol path (name/TimeDateStampSizeOfImage/name); only a file whose
// timestamp and size match the module's counts.
func (s *Symbols) findImageFile(m *target.Module) string {
	index := fmt.Sprintf("%08X%x", m.TimeDateStamp, m.Size)
	valid := func(p string) bool {
		cr, fh, err := s.openCached(p, 4)
		if err != nil {
			return false
		}
		defer fh.Close()
		f, err := pe.NewFile(cr, cr.Size(), false)
		return err == nil && f.TimeDateStamp == m.TimeDateStamp && uint64(f.SizeOfImage) == m.Size
	}
	var path string
	for _, dir := range s.ImagePath {
		for _, c := range []string{filepath.Join(dir, m.ImageName)} {
			if s.fileExists(c) && valid(c) {
				path = c
			}
		}
		if path != "" {
			break
		}
	}
	if path == "" {
		path = s.find(m.ImageName, index, valid)
	}
	return path
}

// ReadImage fills p from the module's image file at the given offset from
// its base, as WinDbg maps an image found on disk over a dump that lacks
// those pages. It reports false when no matching image file was found or
// the range is not in the image.
func (s *Symbols) ReadImage(m *target.Module, p []byte, off uint64) bool {
	if off >= m.Size || uint64(len(p)) > m.Size-off {
		return false
	}
	ms := s.Get(m)
	if !ms.diskTried {
		ms.diskTried = true
		if ms.imgFile != "" {
			ms.disk, ms.diskPath = ms.image, ms.imgFile
		} else if path := s.lookup(ms, func() string { return s.findImageFile(m) }); path != "" {
			if f, err := s.openImageFile(path); err == nil {
				ms.disk, ms.diskPath = f, path
			}
		}
	}
	if ms.disk == nil {
		return false
	}
	return ms.disk.ReadRVA(p, uint32(off), "image") == nil
}

// MappedImageFile is the image file ReadImage maps for a module ("" when
// none was looked for or found), for lmv's `Mapped memory image file:`.
func (ms *ModSyms) MappedImageFile() string { return ms.diskPath }

// imageLoads reports whether the module's image is to be had as WinDbg
// loads it: from a file on the image or symbol path, or, in a full-memory
// or kernel dump, from memory. A minidump's memory holds pieces of images
// at most, so there only a file counts.
func (s *Symbols) imageLoads(ms *ModSyms) bool {
	if s.imageFor(ms) != nil && (ms.imgFile != "" || s.target.Kind() != target.UserMini) {
		return true
	}
	if s.target.Kind() == target.UserMini {
		return false
	}
	f, err := pe.NewFile(memImage{s.target.AddressSpace(nil), ms.Mod.Base}, int64(ms.Mod.Size), true)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// IsCode implements ImageProvider.IsCode from the section table.
func (s *Symbols) IsCode(m *target.Module, addr uint64) (bool, bool) {
	ms := s.Get(m)
	if !ms.hdrTried {
		ms.hdrTried = true
		if img := s.imageFor(ms); img != nil {
			ms.headers = img
		} else if f, err := pe.NewFile(memImage{s.target.AddressSpace(nil), m.Base}, int64(m.Size), true); err == nil {
			ms.headers = f
		}
	}
	rva := uint32(addr - m.Base)
	if ms.headers == nil {
		// The PDB keeps a copy of the section table.
		if ld := s.Load(m); ld.dbi != nil && len(ld.dbi.Sections) > 0 {
			for _, sec := range ld.dbi.Sections {
				if rva >= sec.VirtualAddress && rva < sec.VirtualAddress+max(sec.VirtualSize, sec.SizeOfRawData) {
					return sec.Characteristics&0x20000000 != 0, true
				}
			}
			return false, true
		}
		return false, false
	}
	for _, sec := range ms.headers.Sections {
		if rva >= sec.VirtualAddress && rva < sec.VirtualAddress+max(sec.VirtualSize, sec.SizeOfRawData) {
			return sec.Characteristics&0x20000000 != 0, true
		}
	}
	return false, true
}

func (s *Symbols) openImageFile(path string) (*pe.File, error) {
	cr, fh, err := s.openCached(path, 64)
	if err != nil {
		return nil, err
	}
	f, err := pe.NewFile(cr, cr.Size(), false)
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.Own(fh)
	return f, nil
}

// Nearest names an address: the function holding it (with private
// symbols), else the closest public or export below it.
func (s *Symbols) Nearest(addr uint64) (*target.Module, string, uint64, bool) {
	var m *target.Module
	for _, mm := range s.target.Modules() {
		if mm.Contains(addr) {
			m = mm
		}
	}
	if m == nil || s.Get(m).Unloaded {
		return nil, "", 0, false
	}
	ms := s.Load(m)
	rva := uint32(addr - m.Base)
	i := sort.Search(len(ms.entries), func(i int) bool { return ms.entries[i].rva > rva }) - 1
	if i < 0 {
		return m, "", addr - m.Base, true
	}
	e := ms.entries[i]
	if e.size != 0 && rva >= e.rva+e.size {
		// Past the end of a sized function: only a public below it can name it.
		for j := i - 1; j >= 0 && j > i-16; j-- {
			if ms.entries[j].size == 0 && ms.entries[j].rva <= rva {
				e = ms.entries[j]
				break
			}
		}
		if e.size != 0 && rva >= e.rva+e.size {
			return m, "", addr - m.Base, true
		}
	}
	return m, e.name, uint64(rva - e.rva), true
}

// Line returns the source line of an address, when private symbols have it
// and line support is on.
func (s *Symbols) Line(addr uint64) (Line, bool) {
	if !s.Lines {
		return Line{}, false
	}
	var m *target.Module
	for _, mm := range s.target.Modules() {
		if mm.Contains(addr) {
			m = mm
		}
	}
	if m == nil {
		return Line{}, false
	}
	ms := s.Load(m)
	if ms.PDB == nil {
		return Line{}, false
	}
	rva := uint32(addr - m.Base)
	i := sort.Search(len(ms.entries), func(i int) bool { return ms.entries[i].rva > rva }) - 1
	if i < 0 || ms.entries[i].pdbMod < 0 || rva-ms.entries[i].rva >= ms.entries[i].size {
		return Line{}, false
	}
	e := ms.entries[i]
	l, ok := ms.PDB.LineAt(e.pdbMod, e.seg, e.off+(rva-e.rva))
	return Line{File: target.Sanitize(l.File), Line: l.Line}, ok
}

// locatedAt gives a parameter the location its records give for
// section:offset. Outside every range, a register location says nothing
// (the register has moved on: <value unavailable>), while a stack slot
// (the first memory location) still holds what was stored there.
func locatedAt(p pdb.Param, seg uint16, off uint32) pdb.Param {
	if len(p.Locs) == 0 {
		return p
	}
	for _, l := range p.Locs {
		if l.Covers(seg, off) {
			p.Kind, p.Reg, p.Offset, p.FrameReg = l.Kind, l.Reg, l.Offset, l.FrameReg
			return p
		}
	}
	for _, l := range p.Locs {
		if l.Kind == pdb.LocFrameRel || l.Kind == pdb.LocRegRel {
			p.Kind, p.Reg, p.Offset, p.FrameReg = l.Kind, l.Reg, l.Offset, l.FrameReg
			return p
		}
	}
	p.Kind = pdb.LocNone
	return p
}

// Params returns the parameters of the function holding addr, from private
// symbols, with the type table to read them by. Only records flagged as
// parameters, or (MSVC's S_REGREL32) the first N for an N-argument function.
func (s *Symbols) Params(addr uint64) ([]Param, *types.Ref, bool) { return s.variables(addr, false) }

// Locals lists a function's parameters (IsParam set) and then its other
// local variables, located at addr, for dv.
func (s *Symbols) Locals(addr uint64) ([]Param, *types.Ref, bool) { return s.variables(addr, true) }

func (s *Symbols) variables(addr uint64, locals bool) ([]Param, *types.Ref, bool) {
	var m *target.Module
	for _, mm := range s.target.Modules() {
		if mm.Contains(addr) {
			m = mm
		}
	}
	if m == nil {
		return nil, nil, false
	}
	ms := s.Load(m)
	if ms.PDB == nil {
		return nil, nil, false
	}
	rva := uint32(addr - m.Base)
	i := sort.Search(len(ms.entries), func(i int) bool { return ms.entries[i].rva > rva }) - 1
	if i < 0 || ms.entries[i].proc == nil || rva-ms.entries[i].rva >= ms.entries[i].size {
		return nil, nil, false
	}
	e := ms.entries[i]
	all, err := ms.PDB.Params(*e.proc)
	if err != nil {
		return nil, nil, false
	}
	ref, err := s.TypeRefFor(m, e.typ)
	if err != nil {
		return nil, nil, false
	}
	nargs := -1
	if args, ok := ref.Args(ref.Index()); ok {
		nargs = len(args)
	}
	var out []pdb.Param
	off := e.off + (rva - e.rva)
	taken := make([]bool, len(all))
	for i, p := range all {
		if p.IsParam || (p.Kind == pdb.LocRegRel && !anyFlagged(all) && nargs >= 0 && len(out) < nargs) {
			p.IsParam = true
			out = append(out, locatedAt(p, e.seg, off))
			taken[i] = true
		}
	}
	if locals {
		// dv: after the parameters, every other variable of the function's
		// outer scope, each located at this address.
		for i, p := range all {
			if !taken[i] {
				p.IsParam = false
				out = append(out, locatedAt(p, e.seg, off))
			}
		}
	}
	return convertParams(s.target.Arch(), out), ref, true
}

func anyFlagged(ps []pdb.Param) bool {
	for _, p := range ps {
		if p.IsParam {
			return true
		}
	}
	return false
}

// Lookup resolves `module!symbol` (case-insensitive) to an address.
func (s *Symbols) Lookup(name string) (uint64, bool) {
	modName, sym, ok := strings.Cut(name, "!")
	if !ok {
		return 0, false
	}
	for _, m := range s.target.Modules() {
		if !strings.EqualFold(m.Name, modName) {
			continue
		}
		ms := s.Load(m)
		if idx, ok := ms.byName[strings.ToLower(sym)]; ok {
			return m.Base + uint64(ms.entries[idx[0]].rva), true
		}
		for _, g := range ms.globals {
			if strings.EqualFold(g.name, sym) {
				return m.Base + uint64(g.rva), true
			}
		}
	}
	return 0, false
}

// SymbolInfo is one symbol for `x`.
type SymbolInfo struct {
	Module *target.Module
	Name   string
	Addr   uint64
	Size   uint32
	Data   bool
	Type   uint32 // TPI type index, 0 when the PDB has none
}

// Match lists the symbols of a module whose names match a wildcard pattern.
func (s *Symbols) Match(m *target.Module, match func(string) bool) []SymbolInfo {
	ms := s.Load(m)
	var out []SymbolInfo
	seen := map[string]bool{}
	// Typed globals first, so that they win over the untyped public of the same address.
	for _, e := range append(append([]symEntry(nil), ms.globals...), ms.entries...) {
		k := fmt.Sprintf("%s@%x", e.name, e.rva)
		if seen[k] || !match(e.name) {
			continue
		}
		seen[k] = true
		out = append(out, SymbolInfo{Module: m, Name: e.name, Addr: m.Base + uint64(e.rva), Size: e.size, Data: e.data, Type: e.typ})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}

// Types returns the type table of a module's PDB, loading symbols if needed.
func (s *Symbols) Types(m *target.Module) (types.Table, error) {
	ms := s.Load(m)
	if ms.isf != nil {
		return ms.isf, nil
	}
	if ms.PDB == nil {
		return nil, fmt.Errorf("no type information for %s", m.Name)
	}
	if ms.tpi == nil {
		if sh := ms.shared; sh != nil && sh.tpi != nil {
			ms.tpi = sh.tpi
			return ms.tpi, nil
		}
		t, err := ms.PDB.TPI()
		if err != nil {
			return nil, err
		}
		ms.tpi = t
		if ms.shared != nil {
			ms.shared.tpi = t
		}
	}
	return ms.tpi, nil
}

// Loaded returns every module whose symbols are loaded (not deferred).
func (s *Symbols) Loaded() []*ModSyms {
	var out []*ModSyms
	for _, m := range s.target.Modules() {
		if ms := s.mods[m.Base]; ms != nil && ms.State != SymDeferred {
			out = append(out, ms)
		}
	}
	return out
}
