package pe

import "encoding/binary"

// Headers is every field of the file header, the optional header and the
// section headers, as stored (for a header dump such as !dh).
type Headers struct {
	Machine, NumberOfSections             uint16
	TimeDateStamp                         uint32
	PointerToSymbolTable, NumberOfSymbols uint32
	SizeOfOptionalHeader, Characteristics uint16
	Magic                                 uint16
	MajorLinker, MinorLinker              uint8
	SizeOfCode, SizeOfInitData            uint32
	SizeOfUninitData, EntryPoint          uint32
	BaseOfCode, BaseOfData                uint32 // BaseOfData: PE32 only
	ImageBase                             uint64
	SectionAlignment, FileAlignment       uint32
	MajorOS, MinorOS                      uint16
	MajorImage, MinorImage                uint16
	MajorSubsystem, MinorSubsystem        uint16
	Win32Version, SizeOfImage             uint32
	SizeOfHeaders, CheckSum               uint32
	Subsystem, DllCharacteristics         uint16
	StackReserve, StackCommit             uint64
	HeapReserve, HeapCommit               uint64
	LoaderFlags, NumberOfRvaAndSizes      uint32
	Dirs                                  [16]DataDir
	Sections                              []SectionHeader
}

// SectionHeader is a whole IMAGE_SECTION_HEADER.
type SectionHeader struct {
	Name                                 string
	VirtualSize, VirtualAddress          uint32
	SizeOfRawData, PointerToRawData      uint32
	PointerToRelocations, PointerToLines uint32
	NumberOfRelocations, NumberOfLines   uint16
	Characteristics                      uint32
}

// Headers decodes the headers again, every field. NewFile has checked
// their sizes, so this reads the same bounded ranges.
func (f *File) Headers() (*Headers, error) {
	le := binary.LittleEndian
	dos := make([]byte, 0x40)
	if err := f.readAt(dos, 0, "IMAGE_DOS_HEADER"); err != nil {
		return nil, err
	}
	lfanew := int64(le.Uint32(dos[0x3C:]))
	nt := make([]byte, 0x18)
	if err := f.readAt(nt, lfanew, "IMAGE_NT_HEADERS"); err != nil {
		return nil, err
	}
	h := &Headers{Machine: le.Uint16(nt[4:]), NumberOfSections: le.Uint16(nt[6:]), TimeDateStamp: le.Uint32(nt[8:]),
		PointerToSymbolTable: le.Uint32(nt[12:]), NumberOfSymbols: le.Uint32(nt[16:]), SizeOfOptionalHeader: le.Uint16(nt[20:]),
		Characteristics: le.Uint16(nt[22:])}
	n := int(h.SizeOfOptionalHeader)
	if n < 0x60 || n > 0x1000 || h.NumberOfSections > 96 {
		return nil, errf(uint64(lfanew)+0x14, "IMAGE_FILE_HEADER", "optional header size 0x%x, %d sections", n, h.NumberOfSections)
	}
	opt := make([]byte, n)
	if err := f.readAt(opt, lfanew+0x18, "IMAGE_OPTIONAL_HEADER"); err != nil {
		return nil, err
	}
	h.Magic = le.Uint16(opt)
	h.MajorLinker, h.MinorLinker = opt[2], opt[3]
	h.SizeOfCode, h.SizeOfInitData, h.SizeOfUninitData = le.Uint32(opt[4:]), le.Uint32(opt[8:]), le.Uint32(opt[12:])
	h.EntryPoint, h.BaseOfCode = le.Uint32(opt[16:]), le.Uint32(opt[20:])
	var o int // offset of the fields after ImageBase
	if h.Magic == 0x20B {
		if n < 0x70 {
			return nil, errf(uint64(lfanew)+0x14, "IMAGE_FILE_HEADER", "optional header size 0x%x is too small for PE32+", n)
		}
		h.ImageBase = le.Uint64(opt[24:])
		o = 32
	} else {
		h.BaseOfData, h.ImageBase = le.Uint32(opt[24:]), uint64(le.Uint32(opt[28:]))
		o = 32
	}
	h.SectionAlignment, h.FileAlignment = le.Uint32(opt[o:]), le.Uint32(opt[o+4:])
	h.MajorOS, h.MinorOS = le.Uint16(opt[o+8:]), le.Uint16(opt[o+10:])
	h.MajorImage, h.MinorImage = le.Uint16(opt[o+12:]), le.Uint16(opt[o+14:])
	h.MajorSubsystem, h.MinorSubsystem = le.Uint16(opt[o+16:]), le.Uint16(opt[o+18:])
	h.Win32Version, h.SizeOfImage = le.Uint32(opt[o+20:]), le.Uint32(opt[o+24:])
	h.SizeOfHeaders, h.CheckSum = le.Uint32(opt[o+28:]), le.Uint32(opt[o+32:])
	h.Subsystem, h.DllCharacteristics = le.Uint16(opt[o+36:]), le.Uint16(opt[o+38:])
	p := o + 40
	if h.Magic == 0x20B {
		h.StackReserve, h.StackCommit = le.Uint64(opt[p:]), le.Uint64(opt[p+8:])
		h.HeapReserve, h.HeapCommit = le.Uint64(opt[p+16:]), le.Uint64(opt[p+24:])
		p += 32
	} else {
		h.StackReserve, h.StackCommit = uint64(le.Uint32(opt[p:])), uint64(le.Uint32(opt[p+4:]))
		h.HeapReserve, h.HeapCommit = uint64(le.Uint32(opt[p+8:])), uint64(le.Uint32(opt[p+12:]))
		p += 16
	}
	h.LoaderFlags, h.NumberOfRvaAndSizes = le.Uint32(opt[p:]), le.Uint32(opt[p+4:])
	p += 8
	for i := 0; i < 16 && i < int(h.NumberOfRvaAndSizes) && p+8*i+8 <= n; i++ {
		h.Dirs[i] = DataDir{le.Uint32(opt[p+8*i:]), le.Uint32(opt[p+8*i+4:])}
	}
	sh := make([]byte, 40*int(h.NumberOfSections))
	if err := f.readAt(sh, lfanew+0x18+int64(n), "IMAGE_SECTION_HEADER"); err != nil {
		return nil, err
	}
	for i := 0; i < int(h.NumberOfSections); i++ {
		s := sh[40*i:]
		k := 0
		for k < 8 && s[k] != 0 {
			k++
		}
		h.Sections = append(h.Sections, SectionHeader{Name: string(s[:k]), VirtualSize: le.Uint32(s[8:]), VirtualAddress: le.Uint32(s[12:]),
			SizeOfRawData: le.Uint32(s[16:]), PointerToRawData: le.Uint32(s[20:]), PointerToRelocations: le.Uint32(s[24:]),
			PointerToLines: le.Uint32(s[28:]), NumberOfRelocations: le.Uint16(s[32:]), NumberOfLines: le.Uint16(s[34:]),
			Characteristics: le.Uint32(s[36:])})
	}
	return h, nil
}

// DebugDirectory is one IMAGE_DEBUG_DIRECTORY entry.
type DebugDirectory struct {
	Characteristics, TimeDateStamp uint32
	Major, Minor                   uint16
	Type, SizeOfData               uint32
	AddressOfRawData, PointerToRaw uint32
}

// DebugDirectories lists the debug directory (at most 64 entries).
func (f *File) DebugDirectories() ([]DebugDirectory, error) {
	d := f.Dirs[6]
	if d.RVA == 0 || d.Size == 0 {
		return nil, nil
	}
	n := d.Size / 28
	if n > 64 {
		n = 64
	}
	b := make([]byte, 28*n)
	if err := f.ReadRVA(b, d.RVA, "IMAGE_DEBUG_DIRECTORY"); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	out := make([]DebugDirectory, n)
	for i := range out {
		e := b[28*i:]
		out[i] = DebugDirectory{le.Uint32(e), le.Uint32(e[4:]), le.Uint16(e[8:]), le.Uint16(e[10:]), le.Uint32(e[12:]), le.Uint32(e[16:]), le.Uint32(e[20:]), le.Uint32(e[24:])}
	}
	return out, nil
}
