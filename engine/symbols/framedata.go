package symbols

import (
	"sort"

	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
	"github.com/ntdbg/ntdbg/engine/target"
)

// FrameData implements FrameDataProvider from the module's PDB: the
// innermost FRAMEDATA record covering rva, else an old FPO record turned
// into the equivalent program.
func (s *Symbols) FrameData(m *target.Module, rva uint32) (*pdb.FrameData, bool) {
	ms := s.Load(m)
	if ms.PDB == nil {
		return nil, false
	}
	if !ms.fpoLoaded {
		ms.fpoLoaded = true
		ms.newFPO, _ = ms.PDB.NewFPO()
		ms.oldFPO, _ = ms.PDB.OldFPO()
	}
	i := sort.Search(len(ms.newFPO), func(i int) bool { return ms.newFPO[i].Start > rva }) - 1
	for k := i; k >= 0 && k > i-64; k-- {
		if fd := &ms.newFPO[k]; rva < fd.Start+fd.Size {
			return fd, true // the latest-starting record: the innermost prolog step
		}
	}
	j := sort.Search(len(ms.oldFPO), func(i int) bool { return ms.oldFPO[i].Start > rva }) - 1
	if j >= 0 && rva < ms.oldFPO[j].Start+ms.oldFPO[j].Size {
		o := ms.oldFPO[j]
		fd := &pdb.FrameData{Start: o.Start, Size: o.Size, Locals: 4 * o.Locals, Params: 4 * uint32(o.Params),
			SavedRegs: uint16(4 * uint32(o.Regs)), Prolog: uint16(o.Prolog)}
		if o.UseBP || o.Frame == 3 {
			fd.Program = "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + ="
		} else {
			fd.Program = "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + ="
		}
		return fd, true
	}
	return nil, false
}
