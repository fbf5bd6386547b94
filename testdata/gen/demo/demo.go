// Package demo builds the bundled demo dump: a small hung x64 service process
// modelled on the vmms.exe hang (threads waiting in ntdll, one thread in
// NtDeviceIoControlFile), written as a full-memory minidump with a
// Memory64List. cmd/gen writes it to testdata/demo/demo.dmp.
package demo

import (
	"encoding/binary"
	"sort"
	"time"
	"unicode/utf16"

	"ntdbg/testdata/gen/mdw"
)

// Space is a sparse page map that becomes the dump's memory regions.
type Space struct{ pages map[uint64][]byte }

// NewSpace returns an empty address space.
func NewSpace() *Space { return &Space{pages: map[uint64][]byte{}} }

func (s *Space) page(addr uint64) []byte {
	p := addr &^ 0xfff
	if s.pages[p] == nil {
		s.pages[p] = make([]byte, 0x1000)
	}
	return s.pages[p]
}

// Write copies b to addr, allocating pages as needed.
func (s *Space) Write(addr uint64, b []byte) {
	for len(b) > 0 {
		pg := s.page(addr)
		n := copy(pg[addr&0xfff:], b)
		b, addr = b[n:], addr+uint64(n)
	}
}

// U64 writes a little-endian quad word.
func (s *Space) U64(addr, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	s.Write(addr, b[:])
}

// U32 writes a little-endian double word.
func (s *Space) U32(addr uint64, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	s.Write(addr, b[:])
}

// UTF16 writes a NUL-terminated UTF-16 string and returns its byte length (without NUL).
func (s *Space) UTF16(addr uint64, str string) int {
	u := utf16.Encode([]rune(str))
	b := make([]byte, 2*len(u)+2)
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	s.Write(addr, b)
	return 2 * len(u)
}

// UnicodeString writes a UNICODE_STRING at addr whose buffer is at buf.
func (s *Space) UnicodeString(addr, buf uint64, str string) {
	n := s.UTF16(buf, str)
	var b [16]byte
	binary.LittleEndian.PutUint16(b[0:], uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n+2))
	binary.LittleEndian.PutUint64(b[8:], buf)
	s.Write(addr, b[:])
}

// Regions merges adjacent pages into regions, in address order.
func (s *Space) Regions() []mdw.Region {
	var addrs []uint64
	for a := range s.pages {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	var out []mdw.Region
	for _, a := range addrs {
		if n := len(out); n > 0 && out[n-1].Addr+uint64(len(out[n-1].Data)) == a {
			out[n-1].Data = append(out[n-1].Data, s.pages[a]...)
			continue
		}
		out = append(out, mdw.Region{Addr: a, Data: append([]byte(nil), s.pages[a]...)})
	}
	return out
}

const (
	pid      = 0xc08
	pebAddr  = 0x00007ff7765ad000
	ldrAddr  = 0x00007fff97d0a4c0
	params   = 0x00000092cf2a1c00
	heapAddr = 0x00000092cf280000
)

// Build returns the demo dump description.
func Build() *mdw.Dump {
	sp := NewSpace()
	d := &mdw.Dump{
		ProcessID:     pid,
		Time:          time.Date(2015, 6, 10, 14, 22, 31, 0, time.UTC),
		ProcessCreate: time.Date(2015, 6, 2, 8, 1, 12, 0, time.UTC),
		UserSeconds:   1234,
		KernelSeconds: 567,
		Major:         6, Minor: 3, Build: 9600,
		Processors:  16,
		ProductType: 3,
		SuiteMask:   0x110,
		TZBias:      -60,
		TZName:      "W. Europe Standard Time",
		BuildString: "9600.17415.amd64fre.winblue_r4.141028-1500",
		Comment:     "ntdbg demo: hung VM management service (task manager dump)",
	}
	d.Modules = []mdw.Module{
		{Base: 0x00007ff776a40000, Size: 0x3b1000, Path: `C:\Windows\System32\vmms.exe`, TimeDateStamp: 0x5452d8f6, CheckSum: 0x3a7b21, FileVersion: [4]uint16{6, 3, 9600, 17415}, PdbName: "vmms.pdb", PdbAge: 2, PdbGUID: guid(0x11)},
		{Base: 0x00007fff97c00000, Size: 0x1a9000, Path: `C:\Windows\SYSTEM32\ntdll.dll`, TimeDateStamp: 0x5450562d, CheckSum: 0x1ab5a3, FileVersion: [4]uint16{6, 3, 9600, 17420}, PdbName: "ntdll.pdb", PdbAge: 2, PdbGUID: guid(0x22)},
		{Base: 0x00007fff95140000, Size: 0x13d000, Path: `C:\Windows\system32\KERNELBASE.dll`, TimeDateStamp: 0x54505737, CheckSum: 0x13a6ec, FileVersion: [4]uint16{6, 3, 9600, 17415}, PdbName: "kernelbase.pdb", PdbAge: 1, PdbGUID: guid(0x33)},
		{Base: 0x00007fff94f20000, Size: 0x2a000, Path: `C:\Windows\SYSTEM32\IPHLPAPI.DLL`, TimeDateStamp: 0x5215f8d9, CheckSum: 0x2bc5e, FileVersion: [4]uint16{6, 3, 9600, 16384}, PdbName: "iphlpapi.pdb", PdbAge: 1, PdbGUID: guid(0x44)},
		{Base: 0x00007fff97090000, Size: 0xa000, Path: `C:\Windows\system32\nsi.dll`, TimeDateStamp: 0x5215f8c4, CheckSum: 0xd3a4, FileVersion: [4]uint16{6, 3, 9600, 16384}, PdbName: "nsi.pdb", PdbAge: 1, PdbGUID: guid(0x55)},
		{Base: 0x00007fff96f10000, Size: 0x122000, Path: `C:\Windows\system32\RPCRT4.dll`, TimeDateStamp: 0x5450541d, CheckSum: 0x12a0d5, FileVersion: [4]uint16{6, 3, 9600, 17415}, PdbName: "rpcrt4.pdb", PdbAge: 1, PdbGUID: guid(0x66)},
	}
	d.Unloaded = []mdw.Module{{Base: 0x00007fff8e2b0000, Size: 0x22000, Path: "wmiclnt.dll", TimeDateStamp: 0x5215f7c1, CheckSum: 0x2a1b1}}

	type th struct {
		id    uint32
		teb   uint64
		stack uint64
		ip    uint64
		name  string
	}
	ths := []th{
		{0xc0c, 0x00007ff7765ae000, 0x00000092cf400000, 0x00007fff97c3124a, ""},
		{0xc34, 0x00007ff7765a9000, 0x00000092cf600000, 0x00007fff97c30b0a, "RPC listener"},
		{0x36a0, 0x00007ff776360000, 0x00000092d3400000, 0x00007fff97c3314a, ""},
		{0x4c10, 0x00007ff77633a000, 0x00000092d3600000, 0x00007fff97c3314a, "VmmsWorker"},
		{0x43d8, 0x00007ff776460000, 0x00000092d1e00000, 0x00007fff97c3124a, ""},
	}
	for i, t := range ths {
		limit := t.stack - 0x3000
		rsp := t.stack - 0x688 - uint64(i)*0x40
		// NT_TIB and the TEB fields !teb shows.
		sp.U64(t.teb+0x08, t.stack)
		sp.U64(t.teb+0x10, limit)
		sp.U64(t.teb+0x20, 0x1e00)
		sp.U64(t.teb+0x30, t.teb)
		sp.U64(t.teb+0x40, pid)
		sp.U64(t.teb+0x48, uint64(t.id))
		sp.U64(t.teb+0x58, t.teb+0x58)
		sp.U64(t.teb+0x60, pebAddr)
		sp.U32(t.teb+0x1250, 0xc0000034)
		sp.U32(t.teb+0x68, uint32(2*i))
		// The top stack page with a return address at rsp.
		sp.U64(rsp, 0x00007fff97091f2e+uint64(i)*0x10)
		sp.U64(rsp+8, 0x00000092cf31fb38)
		sp.U64(rsp+0x10, 0)
		sp.U64(rsp+0x18, uint64(t.id))
		sp.Write(t.stack-0x1000+0x800, []byte("demo stack\x00"))
		d.Threads = append(d.Threads, mdw.Thread{ID: t.id, Suspend: 1, Teb: t.teb, StackStart: rsp, StackSize: uint32(t.stack - rsp), Name: t.name,
			Ctx: mdw.Context{Rip: t.ip, Rsp: rsp, Rbp: 0, Rax: 0x7, Rcx: 0x1b48, Rdx: 0, Rbx: 0x00000092cf31fb38, R8: uint64(i), R10: 0x00000092cf31fb38}})
	}
	// PEB, loader data and process parameters.
	sp.U64(pebAddr+0x10, d.Modules[0].Base)
	sp.U64(pebAddr+0x18, ldrAddr)
	sp.U64(pebAddr+0x20, params)
	sp.U64(pebAddr+0x30, heapAddr)
	sp.U32(ldrAddr+4, 1)
	// InMemoryOrder list of LDR_DATA_TABLE_ENTRYs, one per module.
	entries := uint64(0x00000092cf2a4000)
	var links []uint64
	for i := range d.Modules {
		links = append(links, entries+uint64(i)*0x200+0x10)
	}
	for i, m := range d.Modules {
		ent := entries + uint64(i)*0x200
		next, prev := uint64(ldrAddr+0x20), uint64(ldrAddr+0x20)
		if i+1 < len(links) {
			next = links[i+1]
		}
		if i > 0 {
			prev = links[i-1]
		}
		sp.U64(ent+0x10, next)
		sp.U64(ent+0x18, prev)
		sp.U64(ent+0x30, m.Base)
		sp.U32(ent+0x40, m.Size)
		sp.UnicodeString(ent+0x48, ent+0x100, m.Path)
		sp.U32(ent+0x80, m.TimeDateStamp)
	}
	sp.U64(ldrAddr+0x20, links[0])
	sp.U64(ldrAddr+0x28, links[len(links)-1])
	sp.UnicodeString(params+0x38, params+0x400, `C:\Windows\system32\`)
	sp.UnicodeString(params+0x60, params+0x500, `C:\Windows\system32\vmms.exe`)
	sp.UnicodeString(params+0x70, params+0x600, `C:\Windows\system32\vmms.exe`)
	sp.UnicodeString(params+0xB0, params+0x700, `C:\Windows\system32\vmms.exe`)
	// The critical section everyone waits on (RTL_CRITICAL_SECTION, 0x28 bytes).
	cs := uint64(0x00000092cf31fb38)
	sp.U64(cs, 0x00000092cfd20960)
	sp.U32(cs+8, 0xfffffe5e) // LockCount -418: locked, 104 waiters
	sp.U32(cs+0xC, 1)
	sp.U64(cs+0x10, 0x43d8)
	sp.U64(cs+0x18, 0x1b48)
	sp.U64(cs+0x20, 0x20007d0)
	d.Memory = sp.Regions()
	return d
}

func guid(seed byte) [16]byte {
	var g [16]byte
	for i := range g {
		g[i] = seed + byte(i)*0x11
	}
	return g
}
