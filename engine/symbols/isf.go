package symbols

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ulikunitz/xz"

	"github.com/ntdbg/ntdbg/dumpfmt/isf"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

// loadISF gives a module without a PDB the types and symbols of a
// Volatility ISF file from an `isf*dir` path element: chosen by the PDB
// GUID and age the module's debug directory names, as a PDB would be, or,
// for the kernel of a dump whose image lacks its debug directory, by the
// header's signature (openISFBySignature).
func (s *Symbols) loadISF(ms *ModSyms) bool {
	m := ms.Mod
	for _, e := range s.Path {
		if e.ISF == "" {
			continue
		}
		var path string
		var f *isf.File
		if m.PdbName != "" && m.PdbGUID != "" {
			base := m.PdbFile
			if base == "" {
				base = BaseName(m.PdbName)
			}
			name := strings.ToLower(base)
			if _, ok := StoreRelPath(name, fmt.Sprintf("%s%X", m.PdbGUID, m.PdbAge)); !ok {
				continue
			}
			file := fmt.Sprintf("%s-%d", strings.ToUpper(m.PdbGUID), m.PdbAge)
			for _, c := range []string{filepath.Join(e.ISF, "windows", name, file), filepath.Join(e.ISF, name, file), filepath.Join(e.ISF, file)} {
				for _, ext := range []string{".json.xz", ".json"} {
					s.noisy("ISF: trying %s", c+ext)
					if g, err := readISF(c + ext); err == nil && strings.EqualFold(g.PDB.GUID, m.PdbGUID) && g.PDB.Age == m.PdbAge {
						path, f = c+ext, g
						break
					}
				}
				if f != nil {
					break
				}
			}
		} else if m.Name == "nt" {
			path, f = s.isfBySignature(e.ISF, m)
		}
		if f == nil {
			continue
		}
		ms.isf, ms.ISFPath, ms.State = types.NewISFTable(f), path, SymISF
		// Names in reverse order: of aliases at one address (KiStartSystemThread,
		// KxStartSystemThread), the lookup then names the first in order.
		names := make([]string, 0, len(f.Symbols))
		for name := range f.Symbols {
			names = append(names, name)
		}
		sort.Sort(sort.Reverse(sort.StringSlice(names)))
		for _, name := range names {
			if sym := f.Symbols[name]; sym.Address < m.Size {
				ms.entries = append(ms.entries, symEntry{rva: uint32(sym.Address), name: target.SanitizeName(name), pdbMod: -1})
			}
		}
		s.index(ms)
		s.noisy("ISF: %s - types and symbols for %s (%s)", path, m.Name, f.PDB.Database)
		return true
	}
	return false
}

// maxISFFile bounds a compressed or plain ISF file.
const maxISFFile = 64 << 20

func readISF(path string) (*isf.File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var r io.Reader = io.LimitReader(fh, maxISFFile)
	if strings.HasSuffix(path, ".xz") {
		x, err := xz.NewReader(r)
		if err != nil {
			return nil, err
		}
		r = x
	}
	return isf.Parse(r)
}

// kernelHeader is a target that knows its kernel dump header.
type kernelHeader interface {
	Kernel() *target.KernelDesc
}

// isfBySignature picks, among the ntkrnlmp ISF files of dir, the one whose
// symbols put PsLoadedModuleList, PsActiveProcessHead and
// KdDebuggerDataBlock where the dump header says they are, relative to the
// kernel's base.
func (s *Symbols) isfBySignature(dir string, m *target.Module) (string, *isf.File) {
	kh, ok := s.target.(kernelHeader)
	if !ok {
		return "", nil
	}
	kd := kh.Kernel()
	var files []string
	for _, sub := range []string{filepath.Join(dir, "windows", "ntkrnlmp.pdb"), filepath.Join(dir, "ntkrnlmp.pdb"), dir} {
		for _, ext := range []string{"*.json.xz", "*.json"} {
			g, _ := filepath.Glob(filepath.Join(sub, ext))
			files = append(files, g...)
		}
	}
	for _, p := range files {
		f, err := readISF(p)
		if err != nil {
			continue
		}
		agree, checked := 0, 0
		for name, want := range map[string]uint64{"PsLoadedModuleList": kd.PsLoadedModuleList, "PsActiveProcessHead": kd.ActiveHead, "KdDebuggerDataBlock": kd.KdDebuggerDataBlock} {
			sym, ok := f.Symbols[name]
			if !ok || want == 0 {
				continue
			}
			checked++
			if m.Base+sym.Address == want {
				agree++
			}
		}
		if checked > 0 && agree == checked {
			s.noisy("ISF: %s - chosen for nt: PsLoadedModuleList, PsActiveProcessHead and KdDebuggerDataBlock agree with the dump header", p)
			return p, f
		}
		s.noisy("ISF: %s - %d of %d header symbols agree; not this kernel", p, agree, checked)
	}
	return "", nil
}
