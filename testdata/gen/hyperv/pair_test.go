package hyperv

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

// The pair's consistency, read back from the dumps' bytes: the user dump
// with rawDump (hyperv_test.go), the kernel dump with rawKernel
// (kernel_test.go). Field offsets are formats-spec.md's (kernel_test.go's
// constants) and, for the few it has not, kernel_layout.json's (checked
// against the 9600 ISF by TestKernelLayout).

// userThread is what vmms.dmp says of a thread.
type userThread struct {
	id         uint32
	teb        uint64
	r10, rip   uint64
	createTime uint64
}

type userSide struct {
	d          *rawDump
	threads    []userThread
	procCreate uint32 // MiscInfo's ProcessCreateTime (time_t)
}

func readUser(t *testing.T, b []byte) *userSide {
	t.Helper()
	le := binary.LittleEndian
	d := decode(t, b)
	u := &userSide{d: d}
	tl := d.streams[3]
	s := d.b[tl[1]:]
	for i := 0; i < int(le.Uint32(s)); i++ {
		e := s[4+0x30*i:]
		ctx := d.b[le.Uint32(e[0x2c:]):]
		u.threads = append(u.threads, userThread{id: le.Uint32(e), teb: le.Uint64(e[16:]), r10: le.Uint64(ctx[0xc8:]), rip: le.Uint64(ctx[0xf8:])})
	}
	ti := d.b[d.streams[17][1]:] // ThreadInfoListStream
	hdr, size, n := le.Uint32(ti), le.Uint32(ti[4:]), le.Uint32(ti[8:])
	created := map[uint32]uint64{}
	for i := uint32(0); i < n; i++ {
		e := ti[hdr+i*size:]
		created[le.Uint32(e)] = le.Uint64(e[0x10:])
	}
	for i := range u.threads {
		ct, ok := created[u.threads[i].id]
		if !ok {
			t.Fatalf("thread %x has no ThreadInfo", u.threads[i].id)
		}
		u.threads[i].createTime = ct
	}
	misc := d.b[d.streams[15][1]:]
	if le.Uint32(misc[4:])&2 == 0 { // MINIDUMP_MISC1_PROCESS_TIMES
		t.Fatal("MiscInfo has no process times")
	}
	u.procCreate = le.Uint32(misc[0xc:])
	return u
}

// kernelThread is what kernel.dmp says of an ETHREAD.
type kernelThread struct {
	ethread, teb, createTime uint64
	state, reason, mode      uint8
	objects                  []uint64
	irps                     int
}

type kernelSide struct {
	k        *rawKernel
	eprocess uint64
	threads  map[uint64]kernelThread // by thread id
}

func readKernel(t *testing.T, k *rawKernel, pid uint64) *kernelSide {
	t.Helper()
	le := binary.LittleEndian
	ks := &kernelSide{k: k, threads: map[uint64]kernelThread{}}
	for _, l := range k.list(t, le.Uint64(k.b[0x28:])) {
		if ep := l - epLinks; k.u64(t, ep+epPid) == pid {
			ks.eprocess = ep
		}
	}
	if ks.eprocess == 0 {
		t.Fatalf("no process %#x", pid)
	}
	wbCount := off("_ETHREAD", "Tcb.WaitBlockCount")
	for _, l := range k.list(t, ks.eprocess+epThreadList) {
		et := l - etThreadEntry
		kt := kernelThread{ethread: et, teb: k.u64(t, et+ktTeb), createTime: k.u64(t, et+off("_ETHREAD", "CreateTime")),
			state: k.u8(t, et+ktState), reason: k.u8(t, et+ktWaitReason), mode: k.u8(t, et+ktWaitMode)}
		wb := k.u64(t, et+ktWaitBlockList)
		for i := range uint64(k.u8(t, et+wbCount)) {
			kt.objects = append(kt.objects, k.u64(t, wb+i*0x30+wbObject))
		}
		kt.irps = len(k.list(t, et+etIrpList))
		ks.threads[k.u64(t, et+etCid+8)] = kt
	}
	return ks
}

// handleObject looks a handle up in a level-1 handle table (formats-spec
// and the ISF: 256 16-byte entries a page, the object header at
// ObjectPointerBits (bits 20-63) << 4 with the top 16 bits set, the body
// 0x30 after it) and returns the body and the header's TypeIndex.
func (k *rawKernel) handleObject(t *testing.T, tableCode, handle uint64) (uint64, uint8) {
	t.Helper()
	if tableCode&3 != 1 {
		t.Fatalf("TableCode %#x is not a level-1 table", tableCode)
	}
	i := handle / 4
	page := k.u64(t, tableCode&^3+8*(i/256))
	low := k.u64(t, page+(i%256)*16)
	if low&1 == 0 {
		t.Fatalf("handle %#x: entry %#x is locked or free", handle, low)
	}
	hdr := low>>20<<4 | 0xffff000000000000
	return hdr + 0x30, k.u8(t, hdr+0x18)
}

// typeName is the name of ObTypeIndexTable[idx].
func (k *rawKernel) typeName(t *testing.T, nt *Image, idx uint8) string {
	t.Helper()
	typ := k.u64(t, nt.Sym("ObTypeIndexTable")+8*uint64(idx))
	le := binary.LittleEndian
	n := le.Uint16(k.read(t, k.dtb, typ+0x10, 2))
	b := k.read(t, k.dtb, k.u64(t, typ+0x18), int(n))
	var s []rune
	for i := 0; i+1 < len(b); i += 2 {
		s = append(s, rune(le.Uint16(b[i:])))
	}
	return string(s)
}

// checkPair checks what every variant keeps: the same threads, TEBs and
// create times, the process create time, and every single-object wait on
// the object its handle names; it returns the two sides.
func checkPair(t *testing.T, u *userSide, ks *kernelSide, tableCode uint64, nt *Image) {
	t.Helper()
	k := ks.k
	if len(ks.threads) != len(u.threads) {
		t.Errorf("%d threads in the kernel, %d in vmms.dmp", len(ks.threads), len(u.threads))
	}
	ntdll, err := LoadImage("ntdll.dll", "")
	if err != nil {
		t.Fatal(err)
	}
	single := ntdll.Sym("NtWaitForSingleObject") + 0xa
	for i, ut := range u.threads {
		kt, ok := ks.threads[uint64(ut.id)]
		if !ok {
			t.Errorf("thread %d (%x) has no ETHREAD", i, ut.id)
			continue
		}
		if kt.teb != ut.teb || kt.createTime != ut.createTime {
			t.Errorf("thread %d (%x): kernel TEB %x created %x, vmms.dmp %x created %x", i, ut.id, kt.teb, kt.createTime, ut.teb, ut.createTime)
		}
		if ut.rip == single {
			obj, _ := k.handleObject(t, tableCode, ut.r10)
			if kt.state != stateWaiting || kt.mode != modeUser || len(kt.objects) != 1 || kt.objects[0] != obj {
				t.Errorf("thread %d (%x) in NtWaitForSingleObject(%#x): kernel state %d mode %d objects %x, the handle's object %x",
					i, ut.id, ut.r10, kt.state, kt.mode, kt.objects, obj)
			}
		}
	}
	ct := k.u64(t, ks.eprocess+off("_EPROCESS", "CreateTime"))
	if unix := (ct - 116444736000000000) / 10_000_000; unix != uint64(u.procCreate) {
		t.Errorf("EPROCESS.CreateTime %x is %d, MiscInfo's ProcessCreateTime %d", ct, unix, u.procCreate)
	}
}

// waitersOn are the user threads whose system call waits on handle h.
func waitersOn(u *userSide, h uint64, single uint64) []userThread {
	var out []userThread
	for _, ut := range u.threads {
		if ut.r10 == h && ut.rip == single {
			out = append(out, ut)
		}
	}
	return out
}

func ntImages(t *testing.T) (*Image, uint64) {
	t.Helper()
	nt, err := LoadImage("ntoskrnl.exe", "")
	if err != nil {
		t.Fatal(err)
	}
	ntdll, err := LoadImage("ntdll.dll", "")
	if err != nil {
		t.Fatal(err)
	}
	return nt, ntdll.Sym("NtWaitForSingleObject") + 0xa
}

// The committed pair: one machine at one moment.
func TestPairConsistent(t *testing.T) {
	ub, err := os.ReadFile(filepath.Join(ScenarioDir(), "vmms.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	u := readUser(t, ub)
	k := openRawKernel(t)
	ks := readKernel(t, k, PID)
	nt, single := ntImages(t)
	// The header of vmms's handle table is paged out, as the seed's
	// !process shows; its entries are resident at the writer's TableCode.
	if _, e, ok := k.walk(k.dtb, VmmsObjTable); ok || e == 0 {
		t.Errorf("vmms's HANDLE_TABLE at %#x is resident (entry %#x); the seed has it paged out", uint64(VmmsObjTable), e)
	}
	if got := k.u64(t, ks.eprocess+epObjectTable); got != VmmsObjTable {
		t.Errorf("ObjectTable %#x", got)
	}
	tableCode := BuildKernel().HandleTableCode
	checkPair(t, u, ks, tableCode, nt)

	// The VM lock's LockSemaphore names the event the 104 waiters wait on.
	sem := u.d.u64(t, VmLock+0x18)
	if sem != 0x1b48 {
		t.Fatalf("LockSemaphore %#x", sem)
	}
	ev, ti := k.handleObject(t, tableCode, sem)
	if name := k.typeName(t, nt, ti); name != "Event" {
		t.Errorf("handle 0x1b48's object %#x is a %q", ev, name)
	}
	if typ := k.u8(t, ev); typ != typeSynchronizaton {
		t.Errorf("handle 0x1b48's event %#x has DISPATCHER_HEADER.Type %d, want SynchronizationEvent", ev, typ)
	}
	t.Logf("TableCode %#x, handle 0x1b48: object header %#x, event %#x", tableCode, ev-0x30, ev)
	ws := waitersOn(u, sem, single)
	if len(ws) != 104 {
		t.Fatalf("%d threads wait on %#x in vmms.dmp, want 104", len(ws), sem)
	}
	for _, w := range ws {
		kt := ks.threads[uint64(w.id)]
		if kt.reason != wrUserRequest || kt.mode != modeUser || len(kt.objects) != 1 || kt.objects[0] != ev {
			t.Errorf("waiter %x: reason %d mode %d objects %x, want UserRequest UserMode on %#x", w.id, kt.reason, kt.mode, kt.objects, ev)
		}
	}
	// The owner: in NDIS, KernelMode Executive, with its IRP.
	o := ks.threads[OwnerTID]
	if u.d.u64(t, VmLock+0x10) != OwnerTID || o.reason != wrExecutive || o.mode != modeKernel || o.irps != 1 ||
		len(o.objects) != 1 || o.objects[0] != OwnerEvent {
		t.Errorf("owner 43d8: reason %d mode %d irps %d objects %x", o.reason, o.mode, o.irps, o.objects)
	}
}

// variant builds a variant pair and reads both back from their bytes.
func variant(t *testing.T, o Options) (*KernelScenario, *userSide, *kernelSide) {
	t.Helper()
	k := BuildKernelWith(o)
	kb, err := k.Dump.Bytes(kdw.BitmapFull)
	if err != nil {
		t.Fatal(err)
	}
	u := readUser(t, k.User.Dump.Bytes())
	nt, _ := ntImages(t)
	ks := readKernel(t, rawKernelOf(t, kb), PID)
	checkPair(t, u, ks, k.HandleTableCode, nt)
	return k, u, ks
}

// The resident variant's table is found from EPROCESS.ObjectTable alone.
func TestPairResidentHandleTable(t *testing.T) {
	o := Default()
	o.ResidentHandleTable = true
	_, u, ks := variant(t, o)
	k := ks.k
	table := k.u64(t, ks.eprocess+epObjectTable)
	code := k.u64(t, table+8)
	ev, _ := k.handleObject(t, code, 0x1b48)
	_, single := ntImages(t)
	for _, w := range waitersOn(u, 0x1b48, single) {
		if kt := ks.threads[uint64(w.id)]; kt.objects[0] != ev {
			t.Errorf("waiter %x waits on %x, handle 0x1b48 is %x", w.id, kt.objects[0], ev)
		}
	}
	if n := k.u32(t, table+off("_HANDLE_TABLE", "FreeLists[0].HandleCount")); n != 22 {
		t.Errorf("HandleCount %d, vmms.dmp has 22 handles", n)
	}
}

// (a) another thread owns the section and is the one in NDIS.
func TestPairOtherOwner(t *testing.T) {
	def := Build()
	idx := -1
	for _, p := range def.Threads {
		if strings.HasPrefix(p.Role, "wait") {
			idx = p.Index
			break
		}
	}
	o := Default()
	o.Owner = idx
	_, u, ks := variant(t, o)
	owner := u.threads[idx].id
	if got := u.d.u64(t, VmLock+0x10); got != uint64(owner) {
		t.Fatalf("VmLock owner %x, want thread %d's %x", got, idx, owner)
	}
	kt := ks.threads[uint64(owner)]
	if kt.irps != 1 || kt.reason != wrExecutive || kt.mode != modeKernel || kt.objects[0] != OwnerEvent {
		t.Errorf("new owner %x: irps %d reason %d objects %x", owner, kt.irps, kt.reason, kt.objects)
	}
	_, single := ntImages(t)
	if len(waitersOn(u, 0x1b48, single)) != 104 {
		t.Errorf("the waiters are not 104")
	}
	if w := ks.threads[OwnerTID]; w.irps != 0 || w.reason != wrUserRequest {
		t.Errorf("43d8 (now a waiter): irps %d reason %d", w.irps, w.reason)
	}
	if lc := int32(u.d.u32(t, VmLock+8)); lc != VmLockCount {
		t.Errorf("LockCount %d", lc)
	}
}

// (b) the owner waits in the kernel on an ERESOURCE FooDRV's thread holds.
func TestPairOwnerOnResource(t *testing.T) {
	o := Default()
	o.ResourceHolder = FooTID
	k, _, ks := variant(t, o)
	ow := ks.threads[OwnerTID]
	r := k.Resource
	ex := ks.k.u64(t, r+off("_ERESOURCE", "ExclusiveWaiters"))
	if ow.reason != wrResource || ow.mode != modeKernel || len(ow.objects) != 1 || ow.objects[0] != ex {
		t.Errorf("owner: reason %d mode %d objects %x, want WrResource KernelMode on %#x", ow.reason, ow.mode, ow.objects, ex)
	}
	if h := ks.k.u64(t, r+off("_ERESOURCE", "OwnerEntry.OwnerThread")); h != FooEThread {
		t.Errorf("the resource's owner is %#x, want FooDRV's thread %#x", h, uint64(FooEThread))
	}
	if f := ks.k.read(t, ks.k.dtb, r+off("_ERESOURCE", "Flag"), 2); f[0] != 0x80 {
		t.Errorf("Flag %#x, want ResourceOwnedExclusive", f[0])
	}
}

// (c) two threads wait on each other.
func TestPairDeadlock(t *testing.T) {
	o := Default()
	o.Deadlock = true
	k, u, ks := variant(t, o)
	a := u.threads[OwnerIdx]
	var b userThread
	for _, p := range k.User.Threads {
		if p.ID == uint32(u.d.u64(t, TaskLock+0x10)) {
			b = u.threads[p.Index]
		}
	}
	if b.id == 0 || u.d.u64(t, VmLock+0x10) != uint64(a.id) || u.d.u64(t, TaskLock+0x18) != TaskLockSem {
		t.Fatalf("sections: VmLock owner %x, TaskLock owner %x sem %x", u.d.u64(t, VmLock+0x10), u.d.u64(t, TaskLock+0x10), u.d.u64(t, TaskLock+0x18))
	}
	if a.r10 != TaskLockSem || b.r10 != 0x1b48 {
		t.Errorf("A waits on %#x, B on %#x", a.r10, b.r10)
	}
	evA, _ := ks.k.handleObject(t, k.HandleTableCode, TaskLockSem)
	evB, _ := ks.k.handleObject(t, k.HandleTableCode, 0x1b48)
	if ka, kb := ks.threads[uint64(a.id)], ks.threads[uint64(b.id)]; ka.objects[0] != evA || kb.objects[0] != evB || ka.irps != 0 {
		t.Errorf("A waits on %x (want %x, irps %d), B on %x (want %x)", ka.objects, evA, ka.irps, kb.objects, evB)
	}
	for id, kt := range ks.threads {
		if kt.irps != 0 {
			t.Errorf("thread %x has an IRP in the deadlock variant", id)
		}
	}
}
