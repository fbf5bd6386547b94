package commands

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ntdbg/ntdbg/dumpfmt/pe"
	"github.com/ntdbg/ntdbg/engine/target"
)

// !dh: an image's headers as dbghelp's header dump prints them (msdocs
// -dh.md: -f file headers, -s section headers, -a everything, the default).

func init() {
	Register(&Command{Name: "!dh", Family: "modules and target", Syntax: "!dh [-f | -s | -a] Address|Module",
		Summary: "display an image's file, optional and section headers and its debug directories",
		Help:    "The headers are read from the dump, or from the image file on the image or symbol path when the dump lacks them.",
		Run:     cmdDH})
}

// sessionImage reads an image laid out in the current address space.
type sessionImage struct {
	c    *Ctx
	base uint64
}

func (s sessionImage) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.c.S.Mem().ReadVirtual(p, s.base+uint64(off))
	if n < len(p) && err == nil {
		err = io.EOF
	}
	return n, err
}

func cmdDH(c *Ctx, inv *Invocation) error {
	fileHdr, sections := true, true
	var target_ string
	for _, tok := range strings.Fields(inv.Args) {
		switch tok {
		case "-f":
			fileHdr, sections = true, false
		case "-s":
			fileHdr, sections = false, true
		case "-a":
			fileHdr, sections = true, true
		case "-h", "-?":
			c.Println("!dh [-f | -s | -a] <address>  display the headers of the image at <address>")
			return nil
		default:
			target_ = tok
		}
	}
	if target_ == "" {
		return fmt.Errorf("!dh: an image address or module name is needed")
	}
	var base, size uint64
	if m := c.S.ModuleByName(target_); m != nil {
		base, size = m.Base, m.Size
	} else {
		v, err := c.Eval(target_)
		if err != nil {
			return err
		}
		base, size = v, 0x10000000
		if m := target.ModuleAt(c.S.Target.Modules(), v); m != nil && m.Base == v {
			size = m.Size
		}
	}
	f, err := pe.NewFile(sessionImage{c, base}, int64(size), true)
	if err != nil {
		return fmt.Errorf("Can't read the image headers at %s: %v", c.ptr(base), err)
	}
	h, err := f.Headers()
	if err != nil {
		return fmt.Errorf("Can't read the image headers at %s: %v", c.ptr(base), err)
	}
	c.Println()
	kind := "EXECUTABLE IMAGE"
	if h.Characteristics&0x2000 != 0 {
		kind = "DLL"
	}
	c.Printf("File Type: %s\n", kind)
	if fileHdr {
		c.dhFileHeader(h)
	}
	if sections {
		c.dhSections(h)
	}
	if fileHdr {
		c.dhDebugDirs(f)
	}
	return nil
}

var machineNames = map[uint16]string{0x8664: "X64", 0x14c: "i386", 0xaa64: "ARM64", 0x1c4: "ARMNT", 0x200: "IA64"}

func flagLines(v uint32, names []struct {
	bit  uint32
	name string
}) []string {
	var out []string
	for _, n := range names {
		if v&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

type bitName = struct {
	bit  uint32
	name string
}

var fileCharacteristics = []bitName{{0x1, "Relocations stripped"}, {0x2, "Executable"}, {0x4, "Line numbers stripped"},
	{0x8, "Symbols stripped"}, {0x20, "App can handle >2gb addresses"}, {0x100, "32 bit word machine"},
	{0x200, "Debug information stripped"}, {0x400, "Removable run from swap"}, {0x800, "Net run from swap"},
	{0x1000, "System"}, {0x2000, "DLL"}, {0x4000, "Uniprocessor only"}}

var dllCharacteristics = []bitName{{0x20, "High entropy VA supported"}, {0x40, "Dynamic base"}, {0x80, "Force integrity"},
	{0x100, "NX compatible"}, {0x200, "No isolation"}, {0x400, "No structured exception handling"}, {0x800, "Do not bind"},
	{0x1000, "AppContainer"}, {0x2000, "WDM driver"}, {0x4000, "Guard"}, {0x8000, "Terminal server aware"}}

var subsystems = map[uint16]string{1: "Native", 2: "Windows GUI", 3: "Windows CUI", 5: "OS/2 CUI", 7: "POSIX CUI", 9: "Windows CE GUI",
	10: "EFI Application", 11: "EFI Boot Service Driver", 12: "EFI Runtime Driver", 13: "EFI ROM", 14: "Xbox", 16: "Windows Boot Application"}

var dirNames = []string{"Export Directory", "Import Directory", "Resource Directory", "Exception Directory", "Security Directory",
	"Base Relocation Directory", "Debug Directory", "Description Directory", "Special Directory", "Thread Storage Directory",
	"Load Configuration Directory", "Bound Import Directory", "Import Address Table Directory", "Delay Import Directory",
	"COR20 Header Directory", "Reserved Directory"}

func (c *Ctx) dhFileHeader(h *pe.Headers) {
	c.Println("FILE HEADER VALUES")
	c.Printf("%8X machine (%s)\n", h.Machine, machineNames[h.Machine])
	c.Printf("%8X number of sections\n", h.NumberOfSections)
	c.Printf("%8X time date stamp %s\n", h.TimeDateStamp, c.localTime(time.Unix(int64(h.TimeDateStamp), 0)).Format("Mon Jan _2 15:04:05 2006"))
	c.Println()
	c.Printf("%8X file pointer to symbol table\n", h.PointerToSymbolTable)
	c.Printf("%8X number of symbols\n", h.NumberOfSymbols)
	c.Printf("%8X size of optional header\n", h.SizeOfOptionalHeader)
	c.Printf("%8X characteristics\n", h.Characteristics)
	for _, n := range flagLines(uint32(h.Characteristics), fileCharacteristics) {
		c.Printf("            %s\n", n)
	}
	c.Println()
	c.Println("OPTIONAL HEADER VALUES")
	c.Printf("%8X magic #\n", h.Magic)
	c.Printf("%5d.%02d linker version\n", h.MajorLinker, h.MinorLinker)
	c.Printf("%8X size of code\n", h.SizeOfCode)
	c.Printf("%8X size of initialized data\n", h.SizeOfInitData)
	c.Printf("%8X size of uninitialized data\n", h.SizeOfUninitData)
	c.Printf("%8X address of entry point\n", h.EntryPoint)
	c.Printf("%8X base of code\n", h.BaseOfCode)
	c.Println("         ----- new -----")
	if h.Magic == 0x20B {
		c.Printf("%016x image base\n", h.ImageBase)
	} else {
		c.Printf("%08x image base\n", h.ImageBase)
	}
	c.Printf("%8X section alignment\n", h.SectionAlignment)
	c.Printf("%8X file alignment\n", h.FileAlignment)
	c.Printf("%8X subsystem (%s)\n", h.Subsystem, subsystems[h.Subsystem])
	c.Printf("%5d.%02d operating system version\n", h.MajorOS, h.MinorOS)
	c.Printf("%5d.%02d image version\n", h.MajorImage, h.MinorImage)
	c.Printf("%5d.%02d subsystem version\n", h.MajorSubsystem, h.MinorSubsystem)
	c.Printf("%8X size of image\n", h.SizeOfImage)
	c.Printf("%8X size of headers\n", h.SizeOfHeaders)
	c.Printf("%8X checksum\n", h.CheckSum)
	w := 8
	if h.Magic == 0x20B {
		w = 16
	}
	c.Printf("%0*X size of stack reserve\n", w, h.StackReserve)
	c.Printf("%0*X size of stack commit\n", w, h.StackCommit)
	c.Printf("%0*X size of heap reserve\n", w, h.HeapReserve)
	c.Printf("%0*X size of heap commit\n", w, h.HeapCommit)
	c.Printf("%8X  DLL characteristics\n", h.DllCharacteristics)
	for _, n := range flagLines(uint32(h.DllCharacteristics), dllCharacteristics) {
		c.Printf("            %s\n", n)
	}
	for i, d := range h.Dirs {
		c.Printf("%8X [%8X] address [size] of %s\n", d.RVA, d.Size, dirNames[i])
	}
	c.Println()
}

func (c *Ctx) dhSections(h *pe.Headers) {
	for i, s := range h.Sections {
		c.Println()
		c.Printf("SECTION HEADER #%X\n", i+1)
		c.Printf("%8s name\n", target.Sanitize(s.Name))
		c.Printf("%8X virtual size\n", s.VirtualSize)
		c.Printf("%8X virtual address\n", s.VirtualAddress)
		c.Printf("%8X size of raw data\n", s.SizeOfRawData)
		c.Printf("%8X file pointer to raw data\n", s.PointerToRawData)
		c.Printf("%8X file pointer to relocation table\n", s.PointerToRelocations)
		c.Printf("%8X file pointer to line numbers\n", s.PointerToLines)
		c.Printf("%8X number of relocations\n", s.NumberOfRelocations)
		c.Printf("%8X number of line numbers\n", s.NumberOfLines)
		c.Printf("%8X flags\n", s.Characteristics)
		for _, n := range flagLines(s.Characteristics, []bitName{{0x20, "Code"}, {0x40, "Initialized Data"}, {0x80, "Uninitialized Data"},
			{0x02000000, "Discardable"}, {0x04000000, "Not Cached"}, {0x08000000, "Not Paged"}, {0x10000000, "Shared"}}) {
			c.Printf("         %s\n", n)
		}
		if a := s.Characteristics >> 20 & 0xf; a == 0 {
			c.Println("         (no align specified)")
		} else {
			c.Printf("         %d byte align\n", 1<<(a-1))
		}
		var rwx []string
		if s.Characteristics&0x20000000 != 0 {
			rwx = append(rwx, "Execute")
		}
		if s.Characteristics&0x40000000 != 0 {
			rwx = append(rwx, "Read")
		}
		if s.Characteristics&0x80000000 != 0 {
			rwx = append(rwx, "Write")
		}
		if len(rwx) == 1 && rwx[0] == "Read" {
			rwx = []string{"Read Only"}
		}
		if len(rwx) > 0 {
			c.Printf("         %s\n", strings.Join(rwx, " "))
		}
	}
	c.Println()
}

func (c *Ctx) dhDebugDirs(f *pe.File) {
	dirs, err := f.DebugDirectories()
	if err != nil || len(dirs) == 0 {
		return
	}
	c.Println()
	c.Printf("Debug Directories(%d)\n", len(dirs))
	c.Println("\tType       Size     Address  Pointer")
	names := map[uint32]string{1: "coff", 2: "cv", 3: "fpo", 4: "misc", 5: "exception", 6: "fixup", 9: "borland", 12: "vc_feature", 13: "pogo",
		14: "iltcg", 16: "repro", 20: "ex_dllchar"}
	cv, _ := f.CodeView()
	for _, d := range dirs {
		n := names[d.Type]
		if n == "" {
			n = fmt.Sprintf("%x", d.Type)
		}
		line := fmt.Sprintf("\t%-10s %4x %11x %8x", n, d.SizeOfData, d.AddressOfRawData, d.PointerToRaw)
		if d.Type == 2 && cv != nil {
			line += fmt.Sprintf("\tFormat: RSDS, guid, %d, %s", cv.Age, target.Sanitize(cv.PdbName))
		}
		c.Println(line)
	}
}
