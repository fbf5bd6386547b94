package hyperv

import (
	"fmt"
	"sort"
)

// vmms's handle table and the objects its handles name: every handle of
// vmms.dmp's handle stream is an entry of the process's HANDLE_TABLE (as
// Windows 8.1 x64 lays it out: TableCode a level-1 table, a page of
// pointers to pages of 256 HANDLE_TABLE_ENTRYs), and its object a pool
// block with its OBJECT_HEADER, whose TypeIndex names an OBJECT_TYPE of
// nt!ObTypeIndexTable. The threads' waits are on these objects: the 104
// waiters' wait blocks point at the event of handle 0x1B48 (the VM lock's
// LockSemaphore).

// objectTypeIndex is Windows 8.1's ObTypeIndexTable order (0 and 1 are
// reserved).
var objectTypeIndex = map[string]uint64{
	"Type": 2, "Directory": 3, "SymbolicLink": 4, "Token": 5, "Job": 6, "Process": 7, "Thread": 8,
	"UserApcReserve": 9, "IoCompletionReserve": 10, "DebugObject": 11, "Event": 12, "Mutant": 13,
	"Callback": 14, "Semaphore": 15, "Timer": 16, "IRTimer": 17, "Profile": 18, "KeyedEvent": 19,
	"WindowStation": 20, "Desktop": 21, "Composition": 22, "TpWorkerFactory": 23, "Adapter": 24,
	"Controller": 25, "Device": 26, "Driver": 27, "IoCompletion": 28, "WaitCompletionPacket": 29,
	"File": 30, "TmTm": 31, "TmTx": 32, "TmRm": 33, "TmEn": 34, "Section": 35, "Session": 36,
	"Key": 37, "ALPC Port": 38,
}

// handleEntriesPerPage is a low-level table's entry count (PAGE_SIZE /
// sizeof(HANDLE_TABLE_ENTRY)).
const handleEntriesPerPage = pageSize / 16

// objectType is the OBJECT_TYPE of a type name, written (with its
// ObTypeIndexTable slot) the first time it is asked for.
func (k *KernelScenario) objectType(name string) (uint64, uint64) {
	idx, ok := objectTypeIndex[name]
	if !ok {
		panic("no object type index for " + name)
	}
	slot := k.nt().Sym("ObTypeIndexTable") + 8*idx
	if a := leUint(k.ks.Read(slot, 8)); a != 0 {
		return a, idx
	}
	a := k.poolAlloc("npp2", 0x40+sizeOf("_OBJECT_TYPE")) + 0x40
	k.ks.U64(slot, a)
	o := kobj{k.ks, "_OBJECT_TYPE", a}
	o.emptyList("TypeList")
	k.unicodeString(o.at("Name"), name, "npp2")
	o.set("Index", idx)
	if name != "Type" {
		typ, ti := k.objectType("Type")
		k.objectHeader(a, ti, 1, 1)
		_ = typ
	} else {
		k.objectHeader(a, idx, 0, 1)
	}
	return a, idx
}

// countObject adds an object and its handles to its type's totals.
func (k *KernelScenario) countObject(typ uint64, handles uint64) {
	o := kobj{k.ks, "_OBJECT_TYPE", typ}
	add := func(f string, n uint64) { o.set(f, leUint(k.ks.Read(o.at(f), 4))+n) }
	add("TotalNumberOfObjects", 1)
	add("TotalNumberOfHandles", handles)
}

// objectHeader writes the OBJECT_HEADER of the object whose body is at body.
func (k *KernelScenario) objectHeader(body, typeIdx, handles, pointers uint64) {
	h := kobj{k.ks, "_OBJECT_HEADER", body - off("_OBJECT_HEADER", "Body")}
	h.set("PointerCount", pointers)
	h.set("HandleCount", handles)
	h.set("TypeIndex", typeIdx)
	h.set("InfoMask", 0)
}

// typedObject allocates an object of a type with its header: size bytes of
// body after POOL_HEADER and OBJECT_HEADER.
func (k *KernelScenario) typedObject(typ string, size, handles, pointers uint64) uint64 {
	t, idx := k.objectType(typ)
	body := k.poolAlloc("npp2", 0x40+size) + 0x40
	k.objectHeader(body, idx, handles, pointers)
	k.countObject(t, handles)
	return body
}

// vmmsHandleObjects makes the objects of vmms.dmp's handles (a Thread
// handle's object is a thread's ETHREAD: handleThreads fills it in once
// the threads exist).
func (k *KernelScenario) vmmsHandleObjects() {
	k.HandleObjects = map[uint64]uint64{}
	for _, h := range k.User.Dump.Handles {
		hc, pc := uint64(h.HandleCount), uint64(h.PointerCount)
		var body uint64
		switch h.TypeName {
		case "Event":
			body = k.typedObject("Event", sizeOf("_KEVENT"), hc, pc)
			typ := uint64(typeNotification)
			if k.isLockSemaphore(h.Handle) {
				typ = typeSynchronizaton // a critical section's event is auto-reset
			}
			k.dispatcherObject(body, typ, sizeOf("_KEVENT")/4)
		case "Timer":
			body = k.typedObject("Timer", 0x100, hc, pc) // an ETIMER, its KTIMER first
			k.dispatcherObject(body, typeTimerNotif, sizeOf("_KTIMER")/4)
			o := kobj{k.ks, "_KTIMER", body}
			o.set("DueTime", uint64(upTime100ns)+30*10_000_000)
			o.emptyList("TimerListEntry")
		case "IoCompletion":
			body = k.typedObject("IoCompletion", 0x40, hc, pc) // a KQUEUE
			k.dispatcherObject(body, typeQueue, 0x40/4)
		case "File":
			// \Device\Nsi's file object, at the address the owner's IRP names.
			body = nsiFileObject
			t, idx := k.objectType("File")
			k.objectHeader(body, idx, hc, pc)
			k.countObject(t, hc)
			o := kobj{k.ks, "_FILE_OBJECT", body}
			o.set("Type", 5) // IO_TYPE_FILE
			o.set("Size", sizeOf("_FILE_OBJECT"))
			o.set("DeviceObject", nsiDeviceObject)
		case "Thread":
			continue
		default:
			body = k.typedObject(h.TypeName, 0x40, hc, pc)
		}
		k.HandleObjects[h.Handle] = body
	}
}

// isLockSemaphore tells whether a handle is a critical section's LockSemaphore.
func (k *KernelScenario) isLockSemaphore(h uint64) bool {
	for _, s := range k.User.Sections {
		if s.LockSemaphore == h {
			return true
		}
	}
	return false
}

// handleThreads gives the Thread handles their object: vmms's main
// thread (the handle the service keeps on it).
func (k *KernelScenario) handleThreads(p *KProcess) {
	for _, h := range k.User.Dump.Handles {
		if h.TypeName != "Thread" {
			continue
		}
		t := p.Threads[0]
		_, idx := k.objectType("Thread")
		k.objectHeader(t.EThread, idx, uint64(h.HandleCount), uint64(h.PointerCount))
		typ, _ := k.objectType("Thread")
		k.countObject(typ, uint64(h.HandleCount))
		k.HandleObjects[h.Handle] = t.EThread
	}
}

// writeHandleTable writes vmms's HANDLE_TABLE: its header at the seed's
// ObjectTable (paged out unless ResidentHandleTable: the seed's !process
// cannot read it), a level-1 table and the level-0 pages of its entries in
// paged pool (resident).
func (k *KernelScenario) writeHandleTable(p *KProcess) {
	s := p.Spec
	k.handleThreads(p)
	var values []uint64
	for h := range k.HandleObjects {
		values = append(values, h)
	}
	sort.Slice(values, func(i, j int) bool { return values[i] < values[j] })
	pages := values[len(values)-1]/4/handleEntriesPerPage + 1
	level1 := k.vas["pph"].take(pageSize, pageSize)
	low := make([]uint64, pages)
	used := map[uint64]bool{}
	for _, h := range values {
		used[h/4/handleEntriesPerPage] = true
	}
	for i := range low {
		low[i] = k.vas["pph"].take(pageSize, pageSize)
		k.ks.U64(level1+8*uint64(i), low[i])
		if used[uint64(i)] {
			k.ks.Write(low[i], make([]byte, pageSize)) // free entries are zero
		} else {
			// The pages of handles long closed are paged out.
			k.sys.setPTE(low[i], pagefilePTE(0x2e720+uint64(i)))
		}
	}
	access := map[uint64]uint32{}
	for _, h := range k.User.Dump.Handles {
		access[h.Handle] = h.GrantedAccess
	}
	for _, h := range values {
		i := h / 4
		e := kobj{k.ks, "_HANDLE_TABLE_ENTRY", low[i/handleEntriesPerPage] + (i%handleEntriesPerPage)*sizeOf("_HANDLE_TABLE_ENTRY")}
		hdr := k.HandleObjects[h] - off("_OBJECT_HEADER", "Body")
		if hdr>>48 != 0xffff {
			panic(fmt.Sprintf("handle %#x: object header %#x is not a kernel address", h, hdr))
		}
		e.set("Unlocked", 1)
		e.set("ObjectPointerBits", hdr>>4)
		e.set("GrantedAccessBits", uint64(access[h]))
	}
	k.HandleTableCode = level1 | 1
	if !k.Opts.ResidentHandleTable {
		k.sys.setPTE(s.objTable, pagefilePTE(0x2e71b))
		return
	}
	h := kobj{k.ks, "_HANDLE_TABLE", s.objTable}
	h.set("NextHandleNeedingPool", pages*handleEntriesPerPage*4)
	h.set("TableCode", k.HandleTableCode)
	h.set("QuotaProcess", s.eprocess)
	h.set("UniqueProcessId", s.pid)
	h.set("FreeLists[0].HandleCount", uint64(len(values)))
	h.set("FreeLists[0].HighWaterMark", uint64(len(values)))
}

// HandleObject decodes a HANDLE_TABLE_ENTRY's object (Windows 8.1 x64:
// the header is ObjectPointerBits << 4 with the top 16 bits set), as the
// body's address.
func HandleObject(lowValue uint64) uint64 {
	f := field("_HANDLE_TABLE_ENTRY", "ObjectPointerBits")
	bits := lowValue >> f.BitPos & (1<<f.BitLen - 1)
	return bits<<4 | 0xffff000000000000 + off("_OBJECT_HEADER", "Body")
}
