// Package kbench writes large synthetic kernel dumps for benchmarks: the
// scenario's ntoskrnl.exe mapped at its base (so its PDB gives the types),
// PsActiveProcessHead with any number of processes, each with any number
// of waiting threads, all with real x64 page tables, laid out with the
// Windows 8.1 layouts of testdata/gen/hyperv's kernel_layout.json. Test
// tooling: it shares no code with the reader (images are mapped with the
// scenario writer's image loader).
package kbench

import (
	"encoding/binary"
	"fmt"

	"github.com/ntdbg/ntdbg/testdata/gen/hyperv"
	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

const (
	dirBase   = 0x1000
	poolBase  = 0xffffe000_10000000
	stackPage = 0xffffd000_20000000
)

type writer struct {
	d     *kdw.Dump
	next  uint64 // next free page frame
	pages map[uint64]uint64
}

func (w *writer) frame() uint64 {
	pfn := w.next
	w.next++
	w.d.Pages[pfn] = make([]byte, 0x1000)
	return pfn
}

func (w *writer) entry(table, idx uint64) uint64 {
	b := w.d.Pages[table]
	e := binary.LittleEndian.Uint64(b[idx*8:])
	if e&1 == 0 {
		e = w.frame()<<12 | 0x63
		binary.LittleEndian.PutUint64(b[idx*8:], e)
	}
	return e >> 12
}

// page is the frame holding va, mapped on first use.
func (w *writer) page(va uint64) []byte {
	va &^= 0xfff
	if pfn, ok := w.pages[va]; ok {
		return w.d.Pages[pfn]
	}
	pt := w.entry(w.entry(w.entry(dirBase>>12, va>>39&0x1ff), va>>30&0x1ff), va>>21&0x1ff)
	pfn := w.frame()
	binary.LittleEndian.PutUint64(w.d.Pages[pt][(va>>12&0x1ff)*8:], pfn<<12|0x63)
	w.pages[va] = pfn
	return w.d.Pages[pfn]
}

func (w *writer) write(va uint64, b []byte) {
	for len(b) > 0 {
		n := copy(w.page(va)[va&0xfff:], b)
		va, b = va+uint64(n), b[n:]
	}
}

func (w *writer) u64(va, v uint64) { w.write(va, binary.LittleEndian.AppendUint64(nil, v)) }

func off(typ, path string) uint64 {
	s := hyperv.KernelLayout().Types[typ]
	f, ok := s.Fields[path]
	if !ok {
		panic("kernel_layout.json lacks " + typ + "." + path)
	}
	return f.Offset
}

func size(typ string) uint64 { return hyperv.KernelLayout().Types[typ].Size }

// link makes head's list hold entries, in order.
func (w *writer) link(head uint64, entries []uint64) {
	all := append([]uint64{head}, entries...)
	for i, e := range all {
		w.u64(e, all[(i+1)%len(all)])
		w.u64(e+8, all[(i+len(all)-1)%len(all)])
	}
}

// Build returns a bitmap kernel dump of procs processes with threads
// threads each, with the scenario's ntoskrnl.exe (testdata/gen/hyperv's
// image loader, which maps it from bin/).
func Build(procs, threads int) (*kdw.Dump, error) {
	img, err := hyperv.LoadImage("ntoskrnl.exe", `\SystemRoot\system32\ntoskrnl.exe`)
	if err != nil {
		return nil, err
	}
	ctx := make([]byte, 0x4d0)
	binary.LittleEndian.PutUint32(ctx[0x30:], 0x10001f)
	w := &writer{d: &kdw.Dump{MinorVersion: 9600, NumberProcessors: 1, DirectoryTableBase: dirBase, ProductType: 3,
		Context: ctx, Pages: map[uint64][]byte{}, MemoryPages: 1 << 20}, next: 2, pages: map[uint64]uint64{}}
	w.d.Pages[1] = make([]byte, 0x1000)
	base := img.Base
	w.write(base, img.Mapped)
	sym := func(n string) uint64 { return img.Sym(n) }
	// The loaded-module list: nt only.
	ldr := uint64(poolBase)
	w.u64(ldr+0x30, base)
	w.write(ldr+0x40, binary.LittleEndian.AppendUint32(nil, img.Size))
	name := []byte{}
	for _, r := range "ntoskrnl.exe" {
		name = binary.LittleEndian.AppendUint16(name, uint16(r))
	}
	w.write(ldr+0x100, name)
	for _, us := range []uint64{ldr + 0x48, ldr + 0x58} {
		w.write(us, binary.LittleEndian.AppendUint16(nil, uint16(len(name))))
		w.write(us+2, binary.LittleEndian.AppendUint16(nil, uint16(len(name))))
		w.u64(us+8, ldr+0x100)
	}
	w.link(sym("PsLoadedModuleList"), []uint64{ldr})
	// One kernel stack page shared by every thread: its switch frame
	// returns to address 0, so each walk ends at once.
	w.write(stackPage, make([]byte, 0x1000))
	eproc, ethr := size("_EPROCESS"), size("_ETHREAD")
	next := uint64(poolBase + 0x1000)
	var active []uint64
	for i := range procs {
		p := next
		next += (eproc + 0xff) &^ 0xff
		active = append(active, p+off("_EPROCESS", "ActiveProcessLinks"))
		w.write(p, []byte{3}) // Pcb.Header.Type: ProcessObject (the dispatcher header leads the structure)
		w.u64(p+off("_EPROCESS", "UniqueProcessId"), uint64(8+4*i))
		w.u64(p+off("_EPROCESS", "InheritedFromUniqueProcessId"), 4)
		w.u64(p+off("_EPROCESS", "Pcb.DirectoryTableBase"), dirBase)
		w.write(p+off("_EPROCESS", "ImageFileName"), []byte(fmt.Sprintf("bench%05d.exe", i)))
		var links []uint64
		for j := range threads {
			t := next
			next += (ethr + 0xff) &^ 0xff
			links = append(links, t+off("_ETHREAD", "ThreadListEntry"))
			w.write(t, []byte{6}) // Tcb.Header.Type: ThreadObject
			w.u64(t+off("_ETHREAD", "Cid.UniqueProcess"), uint64(8+4*i))
			w.u64(t+off("_ETHREAD", "Cid.UniqueThread"), uint64(0x1000+4*(i*threads+j)))
			w.write(t+off("_ETHREAD", "Tcb.State"), []byte{5})
			w.u64(t+off("_ETHREAD", "Tcb.Process"), p)
			w.u64(t+off("_ETHREAD", "Tcb.KernelStack"), stackPage+0x100)
		}
		w.link(p+off("_EPROCESS", "ThreadListHead"), links)
	}
	w.link(sym("PsActiveProcessHead"), active)
	w.d.PsLoadedModuleList, w.d.PsActiveProcessHead = sym("PsLoadedModuleList"), sym("PsActiveProcessHead")
	return w.d, nil
}
