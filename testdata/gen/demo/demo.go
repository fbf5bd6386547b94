// Package demo builds the bundled demo dump: a small hung x64 service process
// modelled on the vmms.exe hang (threads waiting in ntdll, one thread in
// NtDeviceIoControlFile), written as a full-memory minidump with a
// Memory64List. cmd/gen writes it to testdata/demo/demo.dmp.
package demo

import (
	"time"

	"github.com/ntdbg/ntdbg/testdata/gen/mdw"
)

// Space is a sparse page map that becomes the dump's memory regions.
type Space = mdw.Pages

// NewSpace returns an empty address space.
func NewSpace() *Space { return mdw.NewPages() }

const (
	pid      = 0xc08
	pebAddr  = 0x00007ff7765ad000
	ldrAddr  = 0x00000092cf2a0c40
	params   = 0x00000092cf2a1c00
	heapAddr = 0x00000092cf280000
	csAddr   = 0x00000092cf31fb38
	csDebug  = 0x00000092cfd20960
)

// Module files of the fixture set and the paths the dump records for them.
var moduleFiles = []struct{ file, path string }{
	{"vmms.exe", `C:\Windows\System32\vmms.exe`},
	{"ntdll.dll", `C:\Windows\SYSTEM32\ntdll.dll`},
	{"kernel32.dll", `C:\Windows\system32\kernel32.dll`},
	{"IPHLPAPI.DLL", `C:\Windows\SYSTEM32\IPHLPAPI.DLL`},
	{"nsi.dll", `C:\Windows\system32\nsi.dll`},
	{"RPCRT4.dll", `C:\Windows\system32\RPCRT4.dll`},
}

// Scenario is the generated dump together with what a correct debugger must
// find in it.
type Scenario struct {
	Dump   *mdw.Dump
	Frames map[uint32][]ExpectedFrame // by thread id, innermost first
}

// Build returns the demo dump description.
func Build() *mdw.Dump { return BuildScenario().Dump }

// BuildScenario lays the fixture images into memory and builds each
// thread's stack from their unwind data.
func BuildScenario() *Scenario {
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
	imgs := map[string]*Image{}
	for i, m := range moduleFiles {
		img, err := LoadImage(m.file, m.path)
		if err != nil {
			panic(err)
		}
		imgs[m.file] = img
		sp.Write(img.Base, img.Mapped)
		d.Modules = append(d.Modules, mdw.Module{Base: img.Base, Size: img.Size, Path: m.path, TimeDateStamp: img.Stamp,
			CheckSum: img.CheckSum, FileVersion: [4]uint16{6, 3, 9600, uint16(17415 + i)}, PdbName: img.PdbName, PdbGUID: img.PdbGUID, PdbAge: img.PdbAge})
	}
	d.Unloaded = []mdw.Module{{Base: 0x00007fff8e2b0000, Size: 0x22000, Path: "wmiclnt.dll", TimeDateStamp: 0x5215f7c1, CheckSum: 0x2a1b1}}
	ntdll, k32, vmms, rpc := imgs["ntdll.dll"], imgs["kernel32.dll"], imgs["vmms.exe"], imgs["RPCRT4.dll"]
	iphlp, nsi := imgs["IPHLPAPI.DLL"], imgs["nsi.dll"]

	base := []Call{{Img: ntdll, Fn: "RtlUserThreadStart"}, {Img: k32, Fn: "BaseThreadInitThunk"}}
	waiter := append(append([]Call(nil), base...),
		Call{Img: vmms, Fn: "VmmsWorkerThread"},
		Call{Img: vmms, Fn: "?ProcessRequest@VmmsWorker@@QEAAJXZ"},
		Call{Img: vmms, Fn: "?LockVm@VmmsClusterManager@@QEAAJXZ"},
		Call{Img: ntdll, Fn: "RtlEnterCriticalSection"},
		Call{Img: ntdll, Fn: "RtlpWaitOnCriticalSection"},
		Call{Img: ntdll, Fn: "NtWaitForAlertByThreadId", At: 0xa})
	callback := append(append([]Call(nil), base...),
		Call{Img: vmms, Fn: "VmmsCallbackThread"},
		Call{Img: ntdll, Fn: "KiUserCallbackDispatcher"},
		Call{Img: ntdll, Fn: "KiUserCallbackDispatch"},
		Call{Img: ntdll, Fn: "RtlpChainedWorker"},
		Call{Img: ntdll, Fn: "NtWaitForAlertByThreadId", At: 0xa})
	owner := append(append([]Call(nil), base...),
		Call{Img: rpc, Fn: "DispatchToStubInC"},
		Call{Img: rpc, Fn: "NdrStubCall3"},
		Call{Img: rpc, Fn: "Ndr64StubWorker"},
		Call{Img: rpc, Fn: "Invoke"},
		Call{Img: vmms, Fn: "?IsVmHealthy@ComVmmsClusterManager@@SAJPEAX0@Z"},
		Call{Img: vmms, Fn: "?IsVmHealthy@VmmsClusterManager@@QEAAJXZ"},
		Call{Img: vmms, Fn: "?VerifyExternalSwitches@VmmsRealizedVirtualMachine@@QEAAJXZ"},
		Call{Img: vmms, Fn: "?GetSwitchConnectionStatus@VmEthernetConnectionProvider@@QEAAJXZ"},
		Call{Img: vmms, Fn: "?GetSwitchStatus@ExternalConnectionStatusRetriever@@QEAAJXZ"},
		Call{Img: vmms, Fn: "?GetExternalSwitchAdapterStatusInternal@ExternalConnectionStatusRetriever@@QEAAJXZ"},
		Call{Img: vmms, Fn: "?GetExternalSwitchAdapter@ExternalConnectionStatusRetriever@@QEAAJXZ"},
		Call{Img: vmms, Fn: "?GetConnectedLogicalAdapter@VmEthernetSwitchPort@@QEAAJXZ"},
		Call{Img: vmms, Fn: "?GetLogicalAdapterInternal@VmEthernetSwitchPort@@QEAAJXZ"},
		Call{Img: vmms, Fn: "?GetBridgedAdapterId@NvspWmiUtility@@SAJXZ"},
		Call{Img: vmms, Fn: "?GetNetworkBridgeAdapter@NetConfigHelper@@QEAAJXZ"},
		Call{Img: vmms, Fn: "?EnumerateNetworkAdapters@NvspWmiINetCfgHelper@@QEAAJXZ"},
		Call{Img: vmms, Fn: "?Initialize@VmNetworkInterfaceTable@@QEAAJXZ"},
		Call{Img: iphlp, Fn: "InternalGetIfTable2Ex"},
		Call{Img: nsi, Fn: "NsiAllocateAndGetTable"},
		Call{Img: ntdll, Fn: "NtDeviceIoControlFile", At: 0xa})

	type th struct {
		id    uint32
		teb   uint64
		stack uint64
		name  string
		chain []Call
	}
	ths := []th{
		{0xc0c, 0x00007ff7765ae000, 0x00000092cf400000, "", waiter},
		{0xc34, 0x00007ff7765a9000, 0x00000092cf600000, "RPC listener", waiter},
		{0x36a0, 0x00007ff776360000, 0x00000092d3400000, "", callback},
		{0x4c10, 0x00007ff77633a000, 0x00000092d3600000, "VmmsWorker", waiter},
		{0x43d8, 0x00007ff776460000, 0x00000092d1e00000, "", owner},
	}
	sc := &Scenario{Dump: d, Frames: map[uint32][]ExpectedFrame{}}
	for i, t := range ths {
		limit := t.stack - 0x6000
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
		// The whole committed stack is captured, as a full-memory dump does.
		sp.Write(limit, make([]byte, t.stack-limit))
		ctx, frames := BuildStack(sp, t.stack-0x100, t.chain, uint64(i+1)<<40)
		sc.Frames[t.id] = frames
		d.Threads = append(d.Threads, mdw.Thread{ID: t.id, Suspend: 1, Teb: t.teb, StackStart: limit, StackSize: uint32(t.stack - limit), Name: t.name, Ctx: ctx})
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
	// The critical section everyone waits on (RTL_CRITICAL_SECTION, 0x28
	// bytes) and its debug info (RTL_CRITICAL_SECTION_DEBUG).
	sp.U64(csAddr, csDebug)
	sp.U32(csAddr+8, 0xfffffe5e) // LockCount -418: locked, 104 waiters
	sp.U32(csAddr+0xC, 1)
	sp.U64(csAddr+0x10, 0x43d8)
	sp.U64(csAddr+0x18, 0x1b48)
	sp.U64(csAddr+0x20, 0x20007d0)
	sp.U64(csDebug+0x08, csAddr)
	sp.U64(csDebug+0x10, 0x00000092d2fc01a0)
	sp.U64(csDebug+0x18, 0x00000092d31a0e20)
	sp.U32(csDebug+0x24, 0xa27)
	// An exception record and the context it was raised in, as an
	// exception dispatcher leaves them (for .exr/.cxr with an address).
	const excAddr, ctxAddr = 0x00000092cf2b0000, 0x00000092cf2b0100
	ownerCtx := d.Threads[4].Ctx
	sp.U32(excAddr, 0xc0000005)
	sp.U64(excAddr+0x10, ownerCtx.Rip)
	sp.U32(excAddr+0x18, 2)
	sp.U64(excAddr+0x20, 0)
	sp.U64(excAddr+0x28, 0x20)
	sp.Write(ctxAddr, mdw.ContextBytes(&ownerCtx))
	d.Memory = sp.Regions()
	return sc
}

// StrippedScenario is the demo scenario without any module memory, as a
// plain (not full-memory) minidump would be.
func StrippedScenario() *Scenario {
	sc := BuildScenario()
	var kept []mdw.Region
	for _, r := range sc.Dump.Memory {
		inImage := false
		for _, m := range sc.Dump.Modules {
			if r.Addr < m.Base+uint64(m.Size) && r.Addr+uint64(len(r.Data)) > m.Base {
				inImage = true
			}
		}
		if !inImage {
			kept = append(kept, r)
		}
	}
	sc.Dump.Memory = kept
	return sc
}
