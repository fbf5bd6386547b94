package hyperv

import (
	"bufio"
	"bytes"
	"debug/pe"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// The writer reads the scenario's images with the standard library's
// debug/pe, the linker's map files and the call-site lists build.sh made with
// llvm-objdump, and decodes unwind data itself: none of ntdbg's readers are
// involved, so a bug in them cannot hide here.

// ScenarioDir is testdata/scenarios/hyperv-hang, found from this source file.
func ScenarioDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scenarios", "hyperv-hang")
}

// Image is one module of the scenario, mapped as the loader maps it.
type Image struct {
	File     string // file name in bin/
	Path     string // the path the dump records
	Base     uint64
	Size     uint32
	Stamp    uint32
	CheckSum uint32
	Mapped   []byte
	Sections []Section
	Symbols  map[string]uint64 // the module's own public symbols
	Imports  map[uint64]Import // IAT slot address -> imported function
	PdbName  string
	PdbGUID  [16]byte
	PdbAge   uint32
	pdata    []rtFunc
	calls    []callSite
	byAddr   []symAddr
}

// Section is one section header, for the memory map.
type Section struct {
	Name            string
	RVA, Size       uint32
	Characteristics uint32
}

// Import is one IAT slot: the function and the module it comes from.
type Import struct {
	Name, Module string
}

type rtFunc struct{ begin, end, unwind uint32 }

type symAddr struct {
	addr uint64
	name string
}

// callSite is one call instruction: the address after it and its target
// (direct: target; through memory: mem; through a register: neither).
type callSite struct {
	at, ret, target, mem uint64
}

// LoadImage maps bin/<file> and reads its map and call-site list.
func LoadImage(file, recordedPath string) (*Image, error) {
	dir := filepath.Join(ScenarioDir(), "bin")
	raw, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	f, err := pe.NewFile(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		return nil, fmt.Errorf("%s is not PE32+", file)
	}
	img := &Image{File: file, Path: recordedPath, Base: oh.ImageBase, Size: oh.SizeOfImage, Stamp: f.TimeDateStamp,
		CheckSum: oh.CheckSum, Symbols: map[string]uint64{}, Imports: map[uint64]Import{}}
	img.Mapped = make([]byte, img.Size)
	copy(img.Mapped, raw[:oh.SizeOfHeaders])
	for _, s := range f.Sections {
		data, err := s.Data()
		if err != nil {
			return nil, err
		}
		n := len(data)
		if uint32(n) > s.VirtualSize && s.VirtualSize != 0 {
			n = int(s.VirtualSize)
		}
		copy(img.Mapped[s.VirtualAddress:], data[:n])
		img.Sections = append(img.Sections, Section{s.Name, s.VirtualAddress, s.VirtualSize, s.Characteristics})
	}
	le := binary.LittleEndian
	dbg := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_DEBUG]
	for off := dbg.VirtualAddress; off+28 <= dbg.VirtualAddress+dbg.Size; off += 28 {
		e := img.Mapped[off:]
		if le.Uint32(e[12:]) == 2 {
			cv := img.Mapped[le.Uint32(e[20:]):]
			copy(img.PdbGUID[:], cv[4:20])
			img.PdbAge = le.Uint32(cv[20:])
			img.PdbName = string(cv[24 : 24+bytes.IndexByte(cv[24:], 0)])
		}
	}
	exc := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_EXCEPTION]
	for off := exc.VirtualAddress; off+12 <= exc.VirtualAddress+exc.Size; off += 12 {
		img.pdata = append(img.pdata, rtFunc{le.Uint32(img.Mapped[off:]), le.Uint32(img.Mapped[off+4:]), le.Uint32(img.Mapped[off+8:])})
	}
	stem := strings.TrimSuffix(file, filepath.Ext(file))
	if err := img.readMap(filepath.Join(dir, stem+".map")); err != nil {
		return nil, err
	}
	if err := img.readCalls(filepath.Join(dir, file+".calls")); err != nil {
		return nil, err
	}
	return img, nil
}

func (img *Image) readMap(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// " 0001:00000240       NtDeviceIoControlFile      00007fff97c31240     ntdll_stubs.obj"
		// " 0002:00000130       __imp_RtlEnterCriticalSection 00007ff776a42130     ntdll:ntdll.dll"
		if len(f) < 4 || !strings.Contains(f[0], ":") || len(f[2]) != 16 {
			continue
		}
		va, err := strconv.ParseUint(f[2], 16, 64)
		if err != nil || va < img.Base {
			continue
		}
		if lib, dll, imported := strings.Cut(f[3], ":"); imported && lib != "" {
			if name, ok := strings.CutPrefix(f[1], "__imp_"); ok {
				img.Imports[va] = Import{name, dll}
			}
			continue // import thunks and IAT slots are not the module's functions
		}
		img.Symbols[f[1]] = va
		img.byAddr = append(img.byAddr, symAddr{va, f[1]})
	}
	sort.Slice(img.byAddr, func(i, j int) bool { return img.byAddr[i].addr < img.byAddr[j].addr })
	return sc.Err()
}

func (img *Image) readCalls(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			return fmt.Errorf("%s: bad line %q", path, l)
		}
		var c callSite
		c.at, _ = strconv.ParseUint(f[0], 16, 64)
		c.ret, _ = strconv.ParseUint(f[1], 16, 64)
		switch t := f[2]; {
		case strings.HasPrefix(t, "*0x"):
			c.mem, _ = strconv.ParseUint(t[3:], 16, 64)
		case strings.HasPrefix(t, "0x"):
			c.target, _ = strconv.ParseUint(t[2:], 16, 64)
		}
		img.calls = append(img.calls, c)
	}
	return nil
}

// Sym returns a symbol's address or panics (the scenario's names are constants).
func (img *Image) Sym(name string) uint64 {
	v, ok := img.Symbols[name]
	if !ok {
		panic("scenario image " + img.File + " has no symbol " + name)
	}
	return v
}

// funcBounds returns [start, end) of the function at addr: its .pdata entry,
// or up to the next symbol for leaf code.
func (img *Image) funcBounds(addr uint64) (uint64, uint64) {
	if f, ok := img.entryFor(addr); ok {
		return img.Base + uint64(f.begin), img.Base + uint64(f.end)
	}
	for i, s := range img.byAddr {
		if s.addr == addr && i+1 < len(img.byAddr) {
			return addr, img.byAddr[i+1].addr
		}
	}
	return addr, addr + 0x10
}

// callSitesIn lists the call instructions inside the function at fn.
func (img *Image) callSitesIn(fn uint64) []callSite {
	start, end := img.funcBounds(fn)
	var out []callSite
	for _, c := range img.calls {
		if c.at >= start && c.at < end {
			out = append(out, c)
		}
	}
	return out
}

// ResolveImports writes each IAT slot's target address, as the loader does.
func (img *Image) ResolveImports(mods map[string]*Image) {
	for slot, imp := range img.Imports {
		from := mods[strings.ToLower(imp.Module)]
		if from == nil {
			panic(img.File + " imports from unknown " + imp.Module)
		}
		binary.LittleEndian.PutUint64(img.Mapped[slot-img.Base:], from.Sym(imp.Name))
	}
}

// ---- unwind data ----

type uwCode struct {
	offset  uint8
	op      uint8
	info    uint8
	operand uint32
}

type uwInfo struct {
	prolog   uint8
	frameReg uint8
	frameOff uint8
	codes    []uwCode
	chained  *rtFunc
}

func (img *Image) entryFor(addr uint64) (rtFunc, bool) {
	if addr < img.Base {
		return rtFunc{}, false
	}
	rva := uint32(addr - img.Base)
	for _, f := range img.pdata {
		if rva >= f.begin && rva < f.end {
			return f, true
		}
	}
	return rtFunc{}, false
}

func (img *Image) decode(f rtFunc) *uwInfo {
	b := img.Mapped[f.unwind:]
	u := &uwInfo{prolog: b[1], frameReg: b[3] & 15, frameOff: b[3] >> 4}
	n := int(b[2])
	slot := func(i int) uint32 { return uint32(binary.LittleEndian.Uint16(b[4+2*i:])) }
	for i := 0; i < n; {
		c := uwCode{offset: b[4+2*i], op: b[5+2*i] & 15, info: b[5+2*i] >> 4}
		step := 1
		switch c.op {
		case 1: // UWOP_ALLOC_LARGE
			if c.info == 0 {
				c.operand, step = slot(i+1)*8, 2
			} else {
				c.operand, step = slot(i+1)|slot(i+2)<<16, 3
			}
		case 2: // UWOP_ALLOC_SMALL
			c.operand = uint32(c.info)*8 + 8
		case 4: // UWOP_SAVE_NONVOL
			c.operand, step = slot(i+1)*8, 2
		case 5: // UWOP_SAVE_NONVOL_FAR
			c.operand, step = slot(i+1)|slot(i+2)<<16, 3
		case 8: // UWOP_SAVE_XMM128
			c.operand, step = slot(i+1)*16, 2
		case 9: // UWOP_SAVE_XMM128_FAR
			c.operand, step = slot(i+1)|slot(i+2)<<16, 3
		case 10: // UWOP_PUSH_MACHFRAME
		case 0, 3: // UWOP_PUSH_NONVOL, UWOP_SET_FPREG
		default:
			panic(fmt.Sprintf("%s: unwind op %d not handled", img.File, c.op))
		}
		u.codes = append(u.codes, c)
		i += step
	}
	if b[0]>>3&4 != 0 { // UNW_FLAG_CHAININFO
		t := 4 + 2*((n+1)&^1)
		le := binary.LittleEndian
		u.chained = &rtFunc{le.Uint32(b[t:]), le.Uint32(b[t+4:]), le.Uint32(b[t+8:])}
	}
	return u
}

// unwindAt returns the unwind info of the function holding addr (nil for leaf code).
func (img *Image) unwindAt(addr uint64) *uwInfo {
	f, ok := img.entryFor(addr)
	if !ok {
		return nil
	}
	return img.decode(f)
}
