package demo

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

	"golang.org/x/arch/x86/x86asm"
)

// The generator reads the fixture images with the standard library's
// debug/pe and the linker's map files, and decodes unwind data itself: none
// of ntdbg's own readers are involved, so a bug in them cannot hide here.

// FixtureDir is testdata/fixtures/bin, found from this source file.
func FixtureDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures", "bin")
}

// Image is one fixture module.
type Image struct {
	File      string // file name in bin/
	Path      string // the path the dump records
	Base      uint64
	Size      uint32
	Stamp     uint32
	CheckSum  uint32
	Mapped    []byte // the image as the loader maps it (headers + sections at their RVAs)
	Symbols   map[string]uint64
	PdbName   string
	PdbGUID   [16]byte
	PdbAge    uint32
	pdata     []rtFunc
	symByAddr []symAddr
}

type rtFunc struct{ begin, end, unwind uint32 }
type symAddr struct {
	addr uint64
	name string
}

// mappedPE is a fixture image laid out as the loader maps it.
type mappedPE struct {
	base             uint64
	size, stamp, sum uint32
	mapped           []byte
	dirs             []pe.DataDirectory
	pdbName          string
	pdbGUID          [16]byte
	pdbAge           uint32
}

// mapPE reads a PE32 or PE32+ fixture and maps it: headers, then each
// section at its RVA, plus the CodeView record of its debug directory.
func mapPE(path string) (*mappedPE, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := pe.NewFile(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	m := &mappedPE{stamp: f.TimeDateStamp}
	var headers uint32
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader64:
		m.base, m.size, m.sum, headers, m.dirs = oh.ImageBase, oh.SizeOfImage, oh.CheckSum, oh.SizeOfHeaders, oh.DataDirectory[:]
	case *pe.OptionalHeader32:
		m.base, m.size, m.sum, headers, m.dirs = uint64(oh.ImageBase), oh.SizeOfImage, oh.CheckSum, oh.SizeOfHeaders, oh.DataDirectory[:]
	default:
		return nil, fmt.Errorf("%s has no optional header", path)
	}
	m.mapped = make([]byte, m.size)
	copy(m.mapped, raw[:headers])
	for _, s := range f.Sections {
		data, err := s.Data()
		if err != nil {
			return nil, err
		}
		n := len(data)
		if uint32(n) > s.VirtualSize && s.VirtualSize != 0 {
			n = int(s.VirtualSize)
		}
		copy(m.mapped[s.VirtualAddress:], data[:n])
	}
	dbg := m.dirs[pe.IMAGE_DIRECTORY_ENTRY_DEBUG]
	for off := dbg.VirtualAddress; off+28 <= dbg.VirtualAddress+dbg.Size; off += 28 {
		e := m.mapped[off:]
		if binary.LittleEndian.Uint32(e[12:]) == 2 {
			cv := m.mapped[binary.LittleEndian.Uint32(e[20:]):]
			copy(m.pdbGUID[:], cv[4:20])
			m.pdbAge = binary.LittleEndian.Uint32(cv[20:])
			m.pdbName = string(cv[24 : 24+bytes.IndexByte(cv[24:], 0)])
		}
	}
	return m, nil
}

// LoadImage maps a fixture image and reads its linker map.
func LoadImage(file, recordedPath string) (*Image, error) {
	dir := FixtureDir()
	m, err := mapPE(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	img := &Image{File: file, Path: recordedPath, Base: m.base, Size: m.size, Stamp: m.stamp, CheckSum: m.sum, Mapped: m.mapped,
		Symbols: map[string]uint64{}, PdbName: m.pdbName, PdbGUID: m.pdbGUID, PdbAge: m.pdbAge}
	exc := m.dirs[pe.IMAGE_DIRECTORY_ENTRY_EXCEPTION]
	for off := exc.VirtualAddress; off+12 <= exc.VirtualAddress+exc.Size; off += 12 {
		le := binary.LittleEndian
		img.pdata = append(img.pdata, rtFunc{le.Uint32(img.Mapped[off:]), le.Uint32(img.Mapped[off+4:]), le.Uint32(img.Mapped[off+8:])})
	}
	if err := img.readMap(filepath.Join(dir, strings.TrimSuffix(file, filepath.Ext(file))+".map")); err != nil {
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
		// " 0001:00000040       RtlEnterCriticalSection    00007fff97c01040     ntdll.obj"
		if len(f) >= 3 && strings.Contains(f[0], ":") && len(f[2]) == 16 {
			if va, err := strconv.ParseUint(f[2], 16, 64); err == nil && va >= img.Base {
				img.Symbols[f[1]] = va
				img.symByAddr = append(img.symByAddr, symAddr{va, f[1]})
			}
		}
	}
	sort.Slice(img.symByAddr, func(i, j int) bool { return img.symByAddr[i].addr < img.symByAddr[j].addr })
	return sc.Err()
}

// Sym returns a symbol's address or panics (fixture names are constants).
func (img *Image) Sym(name string) uint64 {
	v, ok := img.Symbols[name]
	if !ok {
		panic("fixture " + img.File + " has no symbol " + name)
	}
	return v
}

// funcBounds returns [start, end) of the function at addr: its .pdata entry,
// or up to the next symbol for leaf code.
func (img *Image) funcBounds(addr uint64) (uint64, uint64) {
	rva := uint32(addr - img.Base)
	for _, f := range img.pdata {
		if rva >= f.begin && rva < f.end {
			return img.Base + uint64(f.begin), img.Base + uint64(f.end)
		}
	}
	for i, s := range img.symByAddr {
		if s.addr == addr && i+1 < len(img.symByAddr) {
			return addr, img.symByAddr[i+1].addr
		}
	}
	return addr, addr + 0x40
}

// callSites lists the addresses just after each call instruction in a
// function, with the direct target when there is one (0 for indirect calls).
func (img *Image) callSites(fn uint64) [][2]uint64 {
	start, end := img.funcBounds(fn)
	code := img.Mapped[start-img.Base : end-img.Base]
	var out [][2]uint64
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			off++
			continue
		}
		pc := start + uint64(off)
		if inst.Op == x86asm.CALL {
			var target uint64
			if rel, ok := inst.Args[0].(x86asm.Rel); ok {
				target = pc + uint64(inst.Len) + uint64(int64(rel))
			}
			out = append(out, [2]uint64{pc + uint64(inst.Len), target})
		}
		off += inst.Len
	}
	return out
}

// instructionAfter returns the address of the instruction that follows the
// prolog (for a frame interrupted by a machine frame).
func (img *Image) bodyInstruction(fn uint64) uint64 {
	u := img.unwindAt(fn)
	return fn + uint64(u.prolog)
}

// ---- unwind data, decoded here independently of dumpfmt/pe ----

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
	begin    uint32
}

func (img *Image) entryFor(addr uint64) (rtFunc, bool) {
	rva := uint32(addr - img.Base)
	best, found := rtFunc{}, false
	for _, f := range img.pdata {
		if rva >= f.begin && rva < f.end && (!found || f.begin > best.begin) {
			best, found = f, true
		}
	}
	return best, found
}

func (img *Image) decode(f rtFunc) *uwInfo {
	b := img.Mapped[f.unwind:]
	u := &uwInfo{prolog: b[1], frameReg: b[3] & 15, frameOff: b[3] >> 4, begin: f.begin}
	n := int(b[2])
	slot := func(i int) uint32 { return uint32(binary.LittleEndian.Uint16(b[4+2*i:])) }
	for i := 0; i < n; {
		c := uwCode{offset: b[4+2*i], op: b[5+2*i] & 15, info: b[5+2*i] >> 4}
		step := 1
		switch c.op {
		case 1:
			if c.info == 0 {
				c.operand, step = slot(i+1)*8, 2
			} else {
				c.operand, step = slot(i+1)|slot(i+2)<<16, 3
			}
		case 2:
			c.operand = uint32(c.info)*8 + 8
		case 4:
			c.operand, step = slot(i+1)*8, 2
		case 5, 9:
			c.operand, step = slot(i+1)|slot(i+2)<<16, 3
		case 8:
			c.operand, step = slot(i+1)*16, 2
		}
		u.codes = append(u.codes, c)
		i += step
	}
	if b[0]>>3&4 != 0 {
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
