package pdb

import (
	"encoding/binary"
	"sort"
)

// FPO is an old-style FPO_DATA record (x86 frame-pointer-omission data),
// decoded with the documented bit fields: cbProlog:8 cbRegs:3 fHasSEH:1
// fUseBP:1 reserved:1 cbFrame:2.
type FPO struct {
	Start, Size uint32 // RVA and length of the code it covers
	Locals      uint32 // dwords of locals
	Params      uint16 // dwords of parameters
	Prolog      uint8
	Regs        uint8 // saved registers
	HasSEH      bool
	UseBP       bool
	Frame       uint8  // 0 FPO, 1 trap, 2 TSS, 3 non-FPO
	Attr        uint16 // the packed bit fields as stored
}

// FrameData is a FRAMEDATA record ("new FPO"), with its frame program.
type FrameData struct {
	Start, Size     uint32
	Locals, Params  uint32
	MaxStack        uint32
	Program         string
	Prolog          uint16
	SavedRegs       uint16
	HasSEH, HasEH   bool
	IsFunctionStart bool
}

// OldFPO reads the DBI's FPO stream, sorted by start.
func (f *File) OldFPO() ([]FPO, error) {
	d, err := f.DBI()
	if err != nil {
		return nil, err
	}
	s, ok := f.m.stream(d.FPOStream)
	if !ok {
		return nil, nil
	}
	b, err := s.all("FPO stream")
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	var out []FPO
	for i := 0; i+16 <= len(b); i += 16 {
		attr := le.Uint16(b[i+14:])
		out = append(out, FPO{Start: le.Uint32(b[i:]), Size: le.Uint32(b[i+4:]), Locals: le.Uint32(b[i+8:]), Params: le.Uint16(b[i+12:]),
			Prolog: uint8(attr), Regs: uint8(attr>>8) & 7, HasSEH: attr&0x800 != 0, UseBP: attr&0x1000 != 0, Frame: uint8(attr >> 14), Attr: attr})
	}
	sort.SliceStable(out, func(a, c int) bool { return out[a].Start < out[c].Start })
	return out, nil
}

// NewFPO reads the DBI's new-FPO stream of FRAMEDATA records (their
// programs are in /names), sorted by start.
func (f *File) NewFPO() ([]FrameData, error) {
	d, err := f.DBI()
	if err != nil {
		return nil, err
	}
	s, ok := f.m.stream(d.NewFPOStream)
	if !ok {
		return nil, nil
	}
	b, err := s.all("new FPO stream")
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	var out []FrameData
	for i := 0; i+32 <= len(b); i += 32 {
		flags := le.Uint32(b[i+28:])
		out = append(out, FrameData{Start: le.Uint32(b[i:]), Size: le.Uint32(b[i+4:]), Locals: le.Uint32(b[i+8:]), Params: le.Uint32(b[i+12:]),
			MaxStack: le.Uint32(b[i+16:]), Program: f.nameAt(le.Uint32(b[i+20:])), Prolog: le.Uint16(b[i+24:]), SavedRegs: le.Uint16(b[i+26:]),
			HasSEH: flags&1 != 0, HasEH: flags&2 != 0, IsFunctionStart: flags&4 != 0})
	}
	sort.SliceStable(out, func(a, c int) bool { return out[a].Start < out[c].Start })
	return out, nil
}
