package symbols

import (
	"fmt"

	"github.com/ntdbg/ntdbg/dumpfmt/pdb"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

// Provider answers symbol questions. *Symbols is the real one; Null answers
// nothing, so code that needs symbols works the same without a symbol layer.
type Provider interface {
	// Nearest names the symbol at or before addr: module, name, displacement.
	Nearest(addr uint64) (*target.Module, string, uint64, bool)
	// Lookup resolves module!name or name to an address.
	Lookup(name string) (uint64, bool)
	// Line is the source line of addr.
	Line(addr uint64) (Line, bool)
	// Params lists the parameters of the function holding addr, with the
	// type information that names their types.
	Params(addr uint64) ([]Param, *types.Ref, bool)
	// Locals is Params followed by the function's other local variables.
	Locals(addr uint64) ([]Param, *types.Ref, bool)
	// Match lists a module's symbols whose names match.
	Match(m *target.Module, match func(string) bool) []SymbolInfo
	// FindType finds a structure, union or enum by name ("" module: all modules).
	FindType(module, name string) (*types.Ref, error)
	// TypeNames lists a module's type names that match (for `dt mod!pat*`).
	TypeNames(m *target.Module, match func(string) bool) ([]string, error)
	// TypeRefFor wraps a type index of a module's type information.
	TypeRefFor(m *target.Module, ti uint32) (*types.Ref, error)
	// Get is a module's symbol state, without loading anything.
	Get(m *target.Module) *ModSyms
	// FunctionExtent is the [start, end) of the function holding addr from
	// the image's unwind data (chained entries followed to the primary).
	FunctionExtent(m *target.Module, addr uint64) (start, end uint64, ok bool)
	// Reproducible reports whether the module's image was linked with /Brepro.
	Reproducible(m *target.Module) bool
	// VersionResource is the image's version resource (strings and translations).
	VersionResource(m *target.Module) (*VersionResource, bool)
	// Generation changes when answers may change (a new symbol path, a
	// module unloaded), so derived state can be worked out again.
	Generation() uint64
}

// VersionResource is what an image's RT_VERSION says beyond the fixed file info.
type VersionResource struct {
	Strings      []KeyValue // from the first StringTable
	Translations []uint32   // lang<<16 | codepage
}

// KeyValue is one StringFileInfo string.
type KeyValue struct{ Key, Value string }

// VersionResource implements Provider.
func (s *Symbols) VersionResource(m *target.Module) (*VersionResource, bool) {
	img := s.Image(m)
	if img == nil {
		return nil, false
	}
	v, err := img.Version()
	if err != nil {
		return nil, false
	}
	out := &VersionResource{Translations: v.Translations}
	for _, kv := range v.Strings {
		out.Strings = append(out.Strings, KeyValue{kv.Key, kv.Value})
	}
	return out, true
}

// VersionResource implements Provider.
func (Null) VersionResource(*target.Module) (*VersionResource, bool) { return nil, false }

// Line is a source position.
type Line struct {
	File string
	Line uint32
}

// Where a parameter or local lives.
type LocKind int

const (
	LocNone     LocKind = iota // not recorded (optimized away)
	LocRegRel                  // [Reg + Offset]
	LocFrameRel                // [frame base + Offset]; FrameReg says which base
	LocRegister                // in Reg
)

// Param is a parameter or local of a function.
type Param struct {
	Name    string
	Type    uint32 // type index in the module's type information
	IsParam bool
	Kind    LocKind
	// Reg is the register (target.Reg* index) for LocRegRel and LocRegister;
	// RegKnown is false for registers ntdbg does not track.
	Reg      int
	RegKnown bool
	Offset   int32
	// FrameReg is S_FRAMEPROC's encoded base for LocFrameRel (1 VFRAME/RSP,
	// 2 EBP/RBP, 3 EBX/R13).
	FrameReg uint8
}

func convertParams(arch target.Arch, ps []pdb.Param) []Param {
	out := make([]Param, 0, len(ps))
	for _, p := range ps {
		q := Param{Name: target.SanitizeName(p.Name), Type: p.Type, IsParam: p.IsParam, Offset: p.Offset, FrameReg: p.FrameReg}
		switch p.Kind {
		case pdb.LocRegRel:
			q.Kind = LocRegRel
		case pdb.LocFrameRel:
			q.Kind = LocFrameRel
		case pdb.LocRegister:
			q.Kind = LocRegister
		}
		q.Reg, q.RegKnown = target.CodeViewRegister(arch, p.Reg)
		out = append(out, q)
	}
	return out
}

// Null is the provider with no symbols.
type Null struct{}

func (Null) Nearest(uint64) (*target.Module, string, uint64, bool) { return nil, "", 0, false }
func (Null) Lookup(string) (uint64, bool)                          { return 0, false }
func (Null) Line(uint64) (Line, bool)                              { return Line{}, false }
func (Null) Params(uint64) ([]Param, *types.Ref, bool)             { return nil, nil, false }
func (Null) Match(*target.Module, func(string) bool) []SymbolInfo  { return nil }
func (Null) FindType(_, name string) (*types.Ref, error) {
	return nil, fmt.Errorf("Symbol %s not found.", name)
}
func (Null) TypeRefFor(*target.Module, uint32) (*types.Ref, error) {
	return nil, fmt.Errorf("no symbols")
}
func (Null) Get(m *target.Module) *ModSyms { return &ModSyms{Mod: m, State: SymDeferred} }
func (Null) FunctionExtent(*target.Module, uint64) (uint64, uint64, bool) {
	return 0, 0, false
}
func (Null) Reproducible(*target.Module) bool { return false }
func (Null) Generation() uint64               { return 0 }

// FunctionExtent implements Provider from the image's .pdata.
func (s *Symbols) FunctionExtent(m *target.Module, addr uint64) (uint64, uint64, bool) {
	img := s.Image(m)
	if img == nil {
		return 0, 0, false
	}
	rf, ok := img.LookupFunction(uint32(addr - m.Base))
	if !ok {
		return 0, 0, false
	}
	for rf2 := rf; ; {
		ui, err := img.ReadUnwindInfo(rf2.UnwindData)
		if err != nil || ui.Chained == nil {
			break
		}
		rf2 = *ui.Chained
		rf.Begin = rf2.Begin
	}
	return m.Base + uint64(rf.Begin), m.Base + uint64(rf.End), true
}

// Reproducible implements Provider.
func (s *Symbols) Reproducible(m *target.Module) bool {
	img := s.Image(m)
	return img != nil && img.Reproducible()
}

func (Null) TypeNames(*target.Module, func(string) bool) ([]string, error) { return nil, nil }

func (Null) Locals(uint64) ([]Param, *types.Ref, bool) { return nil, nil, false }
