package pe

import (
	"encoding/binary"
	"sort"
)

// RuntimeFunction is one .pdata entry.
type RuntimeFunction struct {
	Begin, End, UnwindData uint32
}

// Unwind operations.
const (
	UwopPushNonvol    = 0
	UwopAllocLarge    = 1
	UwopAllocSmall    = 2
	UwopSetFPReg      = 3
	UwopSaveNonvol    = 4
	UwopSaveNonvolFar = 5
	UwopEpilog        = 6
	UwopSpareCode     = 7
	UwopSaveXMM128    = 8
	UwopSaveXMM128Far = 9
	UwopPushMachframe = 10
)

// Unwind flags.
const (
	UnwFlagEHandler  = 1
	UnwFlagUHandler  = 2
	UnwFlagChainInfo = 4
)

// UnwindCode is one decoded operation, with its operand already assembled
// from the following slots.
type UnwindCode struct {
	CodeOffset uint8
	Op         uint8
	Info       uint8
	Operand    uint32 // ALLOC_*: bytes; SAVE_*: offset in bytes
}

// Epilog is a version-2 epilog location: its offset from the function start.
type Epilog struct {
	Offset uint32
	Size   uint32
}

// UnwindInfo is a decoded UNWIND_INFO.
type UnwindInfo struct {
	RVA           uint32
	Version       uint8
	Flags         uint8
	SizeOfProlog  uint8
	FrameRegister uint8
	FrameOffset   uint8 // scaled: bytes = 16 * FrameOffset
	Codes         []UnwindCode
	Epilogs       []Epilog // version 2 only
	EpilogAtEnd   bool
	Handler       uint32
	Chained       *RuntimeFunction
}

// RuntimeFunctions reads the exception directory once, sorted by Begin.
func (f *File) RuntimeFunctions() ([]RuntimeFunction, error) {
	if f.funcsDone {
		return f.funcs, f.funcsErr
	}
	f.funcsDone = true
	d := f.Dirs[DirException]
	if f.Machine != MachineAMD64 || d.RVA == 0 || d.Size < 12 {
		return nil, nil
	}
	b, err := f.rvaBytes(d.RVA, d.Size-d.Size%12, "exception directory")
	if err != nil {
		f.funcsErr = err
		return nil, err
	}
	le := binary.LittleEndian
	for i := 0; i+12 <= len(b); i += 12 {
		rf := RuntimeFunction{le.Uint32(b[i:]), le.Uint32(b[i+4:]), le.Uint32(b[i+8:])}
		if rf.Begin == 0 && rf.End == 0 {
			continue
		}
		f.funcs = append(f.funcs, rf)
	}
	sort.Slice(f.funcs, func(a, c int) bool { return f.funcs[a].Begin < f.funcs[c].Begin })
	return f.funcs, nil
}

// LookupFunction finds the .pdata entry covering rva, following indirect
// entries. ok is false for leaf code (no entry).
func (f *File) LookupFunction(rva uint32) (RuntimeFunction, bool) {
	funcs, _ := f.RuntimeFunctions()
	// Entries are sorted by Begin. Linkers may emit a chained secondary
	// entry inside its primary's range, so the innermost (latest-starting)
	// entry that holds rva wins.
	i := sort.Search(len(funcs), func(i int) bool { return funcs[i].Begin > rva }) - 1
	found := -1
	for j := i; j >= 0 && j > i-8; j-- {
		if funcs[j].Begin <= rva && rva < funcs[j].End {
			found = j
			break
		}
	}
	if found < 0 {
		return RuntimeFunction{}, false
	}
	rf := funcs[found]
	for hops := 0; rf.UnwindData&1 != 0 && hops < 4; hops++ {
		b, err := f.rvaBytes(rf.UnwindData&^1, 12, "indirect RUNTIME_FUNCTION")
		if err != nil {
			return RuntimeFunction{}, false
		}
		le := binary.LittleEndian
		rf = RuntimeFunction{le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:])}
	}
	return rf, true
}

// ReadUnwindInfo decodes the UNWIND_INFO at rva.
func (f *File) ReadUnwindInfo(rva uint32) (*UnwindInfo, error) {
	hdr, err := f.rvaBytes(rva, 4, "UNWIND_INFO")
	if err != nil {
		return nil, err
	}
	n := uint32(hdr[2])
	slots := (n + 1) &^ 1
	body, err := f.rvaBytes(rva, 4+2*slots+12, "UNWIND_INFO")
	if err != nil {
		// The trailer (handler or chain) may be absent at a section end.
		body, err = f.rvaBytes(rva, 4+2*slots, "UNWIND_INFO")
		if err != nil {
			return nil, err
		}
	}
	return ParseUnwindInfo(rva, body)
}

// ParseUnwindInfo decodes an UNWIND_INFO from its bytes.
func ParseUnwindInfo(rva uint32, b []byte) (*UnwindInfo, error) {
	if len(b) < 4 {
		return nil, errf(uint64(rva), "UNWIND_INFO", "%d bytes", len(b))
	}
	u := &UnwindInfo{RVA: rva, Version: b[0] & 7, Flags: b[0] >> 3, SizeOfProlog: b[1], FrameRegister: b[3] & 0xF, FrameOffset: b[3] >> 4}
	if u.Version != 1 && u.Version != 2 {
		return nil, errf(uint64(rva), "UNWIND_INFO", "version %d is not supported", u.Version)
	}
	n := int(b[2])
	if len(b) < 4+2*n {
		return nil, errf(uint64(rva), "UNWIND_INFO", "%d unwind codes do not fit in %d bytes", n, len(b))
	}
	le := binary.LittleEndian
	slot := func(i int) uint16 { return le.Uint16(b[4+2*i:]) }
	firstEpilog := true
	for i := 0; i < n; {
		c := UnwindCode{CodeOffset: b[4+2*i], Op: b[5+2*i] & 0xF, Info: b[5+2*i] >> 4}
		need := 1
		switch c.Op {
		case UwopPushNonvol, UwopAllocSmall, UwopSetFPReg, UwopPushMachframe:
			if c.Op == UwopAllocSmall {
				c.Operand = uint32(c.Info)*8 + 8
			}
		case UwopAllocLarge:
			if c.Info == 0 {
				need = 2
				if i+1 < n {
					c.Operand = uint32(slot(i+1)) * 8
				}
			} else {
				need = 3
				if i+2 < n {
					c.Operand = uint32(slot(i+1)) | uint32(slot(i+2))<<16
				}
			}
		case UwopSaveNonvol:
			need = 2
			if i+1 < n {
				c.Operand = uint32(slot(i+1)) * 8
			}
		case UwopSaveNonvolFar, UwopSaveXMM128Far:
			need = 3
			if i+2 < n {
				c.Operand = uint32(slot(i+1)) | uint32(slot(i+2))<<16
			}
		case UwopSaveXMM128:
			need = 2
			if i+1 < n {
				c.Operand = uint32(slot(i+1)) * 16
			}
		case UwopEpilog:
			if u.Version == 2 {
				if firstEpilog {
					firstEpilog = false
					u.EpilogAtEnd = c.Info&1 != 0
					u.Epilogs = append(u.Epilogs, Epilog{Size: uint32(c.CodeOffset)})
				} else if d := uint32(c.Info)<<8 | uint32(c.CodeOffset); d != 0 {
					u.Epilogs = append(u.Epilogs, Epilog{Offset: d})
				}
				i++
				continue
			}
			need = 2 // version 1: SAVE_XMM (obsolete), two slots
		case UwopSpareCode:
			need = 2
		default:
			return nil, errf(uint64(rva), "UNWIND_INFO", "unknown unwind operation %d", c.Op)
		}
		if i+need > n {
			return nil, errf(uint64(rva), "UNWIND_INFO", "operation %d at slot %d needs %d slots, %d remain", c.Op, i, need, n-i)
		}
		u.Codes = append(u.Codes, c)
		i += need
	}
	tail := 4 + 2*((n+1)&^1)
	if u.Flags&UnwFlagChainInfo != 0 {
		if len(b) < tail+12 {
			return nil, errf(uint64(rva), "UNWIND_INFO", "chained entry missing")
		}
		u.Chained = &RuntimeFunction{le.Uint32(b[tail:]), le.Uint32(b[tail+4:]), le.Uint32(b[tail+8:])}
	} else if u.Flags&(UnwFlagEHandler|UnwFlagUHandler) != 0 && len(b) >= tail+4 {
		u.Handler = le.Uint32(b[tail:])
	}
	return u, nil
}
