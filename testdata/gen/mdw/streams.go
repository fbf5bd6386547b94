package mdw

import (
	"bytes"
	"unicode/utf16"
)

// Stream writers shared by Dump.Bytes and Full.Bytes. Each appends one
// stream at the end of w and returns its RVA and size for the directory.

// threadList writes MINIDUMP_THREAD entries whose contexts are at ctxs. The
// stack descriptors' RVAs are written as 0; stackRvaAt says where each one
// is, for writers that place stack bytes later.
func (w *buf) threadList(threads []Thread, ctxs []uint32, ctxSize uint32) (at, size uint32, stackRvaAt []uint32) {
	w.align(4)
	at = w.off()
	w.u32(uint32(len(threads)))
	stackRvaAt = make([]uint32, len(threads))
	for i, t := range threads {
		w.u32(t.ID)
		w.u32(t.Suspend)
		w.u32(0x20) // NORMAL_PRIORITY_CLASS
		w.u32(0)
		w.u64(t.Teb)
		w.u64(t.StackStart)
		w.u32(t.StackSize)
		stackRvaAt[i] = w.off()
		w.u32(0) // full-memory dumps keep stack bytes in the Memory64List
		w.u32(ctxSize)
		w.u32(ctxs[i])
	}
	return at, w.off() - at, stackRvaAt
}

// moduleList writes the module names, CodeView records and
// MINIDUMP_MODULE entries; fileType gives each module's dwFileType.
func (w *buf) moduleList(mods []Module, fileType func(i int) uint32) (at, size uint32) {
	type modAux struct{ name, cv, cvSize uint32 }
	aux := make([]modAux, len(mods))
	for i, m := range mods {
		aux[i].name = w.str(m.Path)
		if m.PdbName != "" {
			w.align(4)
			aux[i].cv = w.off()
			w.u32(0x53445352)
			w.raw(m.PdbGUID[:])
			w.u32(m.PdbAge)
			w.raw([]byte(m.PdbName))
			w.raw([]byte{0})
			aux[i].cvSize = w.off() - aux[i].cv
		}
	}
	w.align(4)
	at = w.off()
	w.u32(uint32(len(mods)))
	for i, m := range mods {
		w.u64(m.Base)
		w.u32(m.Size)
		w.u32(m.CheckSum)
		w.u32(m.TimeDateStamp)
		w.u32(aux[i].name)
		v := m.FileVersion
		w.u32(0xFEEF04BD)
		w.u32(0x10000)
		w.u32(uint32(v[0])<<16 | uint32(v[1]))
		w.u32(uint32(v[2])<<16 | uint32(v[3]))
		w.u32(uint32(v[0])<<16 | uint32(v[1]))
		w.u32(uint32(v[2])<<16 | uint32(v[3]))
		w.u32(0x3F)
		w.u32(0)
		w.u32(0x40004)
		w.u32(fileType(i))
		w.u32(0)
		w.u32(0)
		w.u32(0)
		w.u32(aux[i].cvSize)
		w.u32(aux[i].cv)
		w.zeros(8 + 16)
	}
	return at, w.off() - at
}

// unloadedList writes MINIDUMP_UNLOADED_MODULE_LIST.
func (w *buf) unloadedList(mods []Module) (at, size uint32) {
	names := make([]uint32, len(mods))
	for i, m := range mods {
		names[i] = w.str(m.Path)
	}
	w.align(4)
	at = w.off()
	w.u32(12)
	w.u32(0x18)
	w.u32(uint32(len(mods)))
	for i, m := range mods {
		w.u64(m.Base)
		w.u32(m.Size)
		w.u32(m.CheckSum)
		w.u32(m.TimeDateStamp)
		w.u32(names[i])
	}
	return at, w.off() - at
}

// exception writes MINIDUMP_EXCEPTION_STREAM (and its x64 context).
func (w *buf) exception(e *Exception) (at, size uint32) {
	var ctx, ctxSize uint32
	if e.Ctx32 != nil {
		ctx, ctxSize = w.context32(e.Ctx32), 0x2CC
	} else if e.Ctx != nil {
		ctx, ctxSize = w.context(e.Ctx), 0x4D0
	}
	w.align(4)
	at = w.off()
	w.u32(e.ThreadID)
	w.u32(0)
	w.u32(e.Code)
	w.u32(0)
	w.u64(0)
	w.u64(e.Address)
	w.u32(uint32(len(e.Params)))
	w.u32(0)
	for i := 0; i < 15; i++ {
		var p uint64
		if i < len(e.Params) {
			p = e.Params[i]
		}
		w.u64(p)
	}
	w.u32(ctxSize)
	w.u32(ctx)
	return at, w.off() - at
}

// comment writes CommentStreamW.
func (w *buf) comment(s string) (at, size uint32) {
	at = w.off()
	for _, c := range utf16.Encode([]rune(s)) {
		w.u16(c)
	}
	w.u16(0)
	return at, w.off() - at
}

// memory64List writes the Memory64List descriptors; baseRvaAt is where
// memoryData patches the RVA of the data.
func (w *buf) memory64List(regions []Region) (at, size, baseRvaAt uint32) {
	w.align(8)
	at = w.off()
	w.u64(uint64(len(regions)))
	baseRvaAt = w.off()
	w.u64(0)
	for _, r := range regions {
		w.u64(r.Addr)
		w.u64(uint64(len(r.Data)))
	}
	return at, w.off() - at, baseRvaAt
}

// memoryData appends the Memory64List data (16-byte aligned), patches its
// RVA, and returns each region's file offset.
func (w *buf) memoryData(regions []Region, baseRvaAt uint32) []uint64 {
	w.align(16)
	base := w.off()
	w.put64(baseRvaAt, uint64(base))
	var data bytes.Buffer
	where := make([]uint64, len(regions))
	for i, r := range regions {
		where[i] = uint64(base) + uint64(data.Len())
		data.Write(r.Data)
	}
	w.raw(data.Bytes())
	return where
}
