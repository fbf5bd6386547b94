package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// seedUserSide is every debugger line the seed (../shared/seeds/
// 000_de47b5627e959549.txt, a hung Hyper-V host) shows for the user dump, in
// the order it shows them, grouped by the command that printed them. The
// blog collapsed runs of spaces and turned "-" into an en dash; normalize
// undoes that on both sides. The ". 20" line is the seed's quote of the `~`
// output it ran earlier, so it sits in that block.
var seedUserSide = [][]string{
	{
		"0:020> ~",
		"# 0 Id: c08.c0c Suspend: 0 Teb: 00007ff7`765ae000 Unfrozen",
		"1 Id: c08.c34 Suspend: 0 Teb: 00007ff7`765a9000 Unfrozen",
		". 20 Id: c08.43d8 Suspend: 0 Teb: 00007ff7`76460000 Unfrozen",
		"181 Id: c08.36a0 Suspend: 0 Teb: 00007ff7`76360000 Unfrozen",
		"182 Id: c08.4c10 Suspend: 0 Teb: 00007ff7`7633a000 Unfrozen",
	},
	{
		"DebugInfo = 0x00000092cfd20960",
		"Critical section = 0x00000092cf31fb38 (+0x92CF31FB38)",
		"LOCKED",
		"LockCount = 0x68",
		"WaiterWoken = No",
		"OwningThread = 0x00000000000043d8",
		"RecursionCount = 0x1",
		"LockSemaphore = 0x1B48",
		"SpinCount = 0x00000000020007d0",
	},
	{
		"0:000> dt _RTL_CRITICAL_SECTION_DEBUG 0x00000092cfd20960",
		"vmms!_RTL_CRITICAL_SECTION_DEBUG",
		"+0x000 Type : 0",
		"+0x002 CreatorBackTraceIndex : 0",
		"+0x008 CriticalSection : 0x00000092`cf31fb38 _RTL_CRITICAL_SECTION",
		"+0x010 ProcessLocksList : _LIST_ENTRY [ 0x00000092`d2fc01a0 – 0x00000092`d31a0e20 ]",
		"+0x020 EntryCount : 0",
		"+0x024 ContentionCount : 0xa27",
		"+0x028 Flags : 0",
		"+0x02c CreatorBackTraceIndexHigh : 0",
		"+0x02e SpareUSHORT : 0",
	},
	{
		"0:020> ~20s",
		"ntdll!NtDeviceIoControlFile+0xa:",
		"00007fff`97c3124a c3 ret",
		"0:020> kcn",
		"# Call Site",
		"00 ntdll!NtDeviceIoControlFile",
		"01 nsi!NsiAllocateAndGetTable",
		"02 IPHLPAPI!InternalGetIfTable2Ex",
		"03 vmms!VmNetworkInterfaceTable::Initialize",
		"04 vmms!NvspWmiINetCfgHelper::EnumerateNetworkAdapters",
		"05 vmms!NetConfigHelper::GetNetworkBridgeAdapter",
		"06 vmms!NvspWmiUtility::GetBridgedAdapterId",
		"07 vmms!VmEthernetSwitchPort::GetLogicalAdapterInternal",
		"08 vmms!VmEthernetSwitchPort::GetConnectedLogicalAdapter",
		"09 vmms!ExternalConnectionStatusRetriever::GetExternalSwitchAdapter",
		"0a vmms!ExternalConnectionStatusRetriever::GetExternalSwitchAdapterStatusInternal",
		"0b vmms!ExternalConnectionStatusRetriever::GetSwitchStatus",
		"0c vmms!VmEthernetConnectionProvider::GetSwitchConnectionStatus",
		"0d vmms!VmmsRealizedVirtualMachine::VerifyExternalSwitches",
		"0e vmms!VmmsClusterManager::IsVmHealthy",
		"0f vmms!ComVmmsClusterManager::IsVmHealthy",
		"10 rpcrt4!Invoke",
		"11 rpcrt4!Ndr64StubWorker",
		"12 rpcrt4!NdrStubCall3",
	},
}

// seedKernelSide is the same for the kernel dump's commands (the seed's
// `!process 0 2 vmms.exe` line is the command without its prompt, left out).
var seedKernelSide = [][]string{
	{
		"0: kd> !process 0 0 vmms.exe",
		"PROCESS ffffe0005c21c080",
		"SessionId: 0 Cid: 0c08 Peb: 7ff7765ad000 ParentCid: 0554",
		"DirBase: 3705e000 ObjectTable: ffffc000717c3040 HandleCount: <Data Not Accessible>",
		"Image: vmms.exe",
	},
	{
		"0: kd> .process /p /r ffffe0005c21c080",
		"Implicit process is now ffffe000`5c21c080",
		"Loading User Symbols",
		"PEB is paged out (Peb.Ldr = 00007ff7`765ad018). Type “.hh dbgerr001″ for details",
	},
	{
		"THREAD ffffe00069cdb880 Cid 0c08.43d8 Teb: 00007ff776460000 Win32Thread: 0000000000000000 WAIT: (Executive) KernelMode Non-Alertable",
		"ffffd001b8931ed0 NotificationEvent",
	},
	{
		"0: kd> .thread ffffe00069cdb880",
		"Implicit thread is now ffffe000`69cdb880",
		"0: kd> kcn",
		"*** Stack trace for last set context – .thread/.cxr resets it",
		"# Call Site",
		"00 nt!KiSwapContext", "01 nt!KiSwapThread", "02 nt!KiCommitThreadWait", "03 nt!KeWaitForSingleObject",
		"04 NDIS!ndisQuerySetMiniportEx", "05 NDIS!ndisQuerySetMiniport", "06 NDIS!ndisIfGetMiniportStatistics",
		"07 NDIS!ndisIfQueryFilterObject", "08 NDIS!ndisIfQueryObject", "09 NDIS!ndisNsiGetInterfaceRodInformation",
		"0a NDIS!ndisNsiGetAllInterfaceInformation", "0b NETIO!NsiEnumerateObjectsAllParametersEx",
		"0c nsiproxy!NsippEnumerateObjectsAllParameters", "0d nsiproxy!NsippDispatch", "0e nt!IopSynchronousServiceTail",
		"0f nt!IopXxxControlFile", "10 nt!NtDeviceIoControlFile", "11 nt!KiSystemServiceCopyEnd",
	},
	{
		"0: kd> !thread ffffe00069cdb880",
		"THREAD ffffe00069cdb880 Cid 0c08.43d8 Teb: 00007ff776460000 Win32Thread: 0000000000000000 WAIT: (Executive) KernelMode Non-Alertable",
		"IRP List:",
		"ffffe801316e7ae0: (0006,0118) Flags: 00060000 Mdl: 00000000",
		"Not impersonating",
		"DeviceMap ffffc0006ea0c4e0",
		"Owning Process ffffe0005c21c080 Image: vmms.exe",
		"Attached Process N/A Image: N/A",
		"Wait Start TickCount 3667296 Ticks: 14135 (0:00:03:40.859)",
		"Context Switch Count 3149 IdealProcessor: 14",
		"UserTime 00:00:00.390",
	},
	{
		"4.001114 ffffe0007510c040 ffc7d369 Blocked nt!KiSwapContext+0x76",
		"nt!KiSwapThread+0x14e", "nt!KiCommitThreadWait+0x129", "nt!KeWaitForSingleObject+0x373", "NDIS!NdisMSleep+0x59",
		"FooDRV+0x8ccbb", "FooDRV+0x8bc8b", "FooDRV+0x70d79", "FooDRV+0x14696", "nt!IopProcessWorkItem+0x80",
		"nt!ExpWorkerThread+0x69f", "nt!PspSystemThreadStartup+0x58", "nt!KiStartSystemThread+0x16",
	},
}

// seedNdisSide is the seed's !ndiskd part (the `!ndiskd.minidriver ... -handlers`
// line is the command without its prompt, left out).
var seedNdisSide = [][]string{
	{
		"0: kd> !ndiskd.miniports",
		"MiniDriver Miniport Name",
		"ffffe8012a67eba0 ffffe8012ac921a0 Microsoft ISATAP Adapter #5",
		"ffffe8012a67eba0 ffffe8012aa371a0 Microsoft 6to4 Adapter",
		"ffffe8012a67eba0 ffffe8012a97b1a0 Microsoft ISATAP Adapter #3",
		"ffffe8012a67eba0 ffffe8012a9521a0 Microsoft ISATAP Adapter #4",
		"ffffe8012a67eba0 ffffe8012a6d21a0 Microsoft ISATAP Adapter #9",
		"ffffe8012a67eba0 ffffe8012a6d01a0 Microsoft ISATAP Adapter #2",
		"ffffe0005169b6c0 ffffe000595311a0 Microsoft Network Adapter Multiplexor Driver",
		"ffffe0005169b6c0 ffffe0005876c1a0 Microsoft Network Adapter Multiplexor Driver #2",
		"ffffe000516be020 ffffe0005161d1a0 Microsoft Failover Cluster Virtual Adapter",
		"ffffe000516d0ba0 ffffe0005161f1a0 WAN Miniport (PPPOE)",
		"ffffe0004f3e2390 ffffe000516211a0 Hyper-V Virtual Ethernet Adapter #4",
		"ffffe0004f3e2390 ffffe000516231a0 Hyper-V Virtual Ethernet Adapter #3",
		"ffffe0004f3e2390 ffffe000516251a0 Microsoft Hyper-V Network Switch Default Miniport",
		"ffffe000516dbba0 ffffe000516271a0 WAN Miniport (L2TP)",
		"ffffe0005169b6c0 ffffe000516291a0 Microsoft Network Adapter Multiplexor Default Miniport",
		"ffffe0004e98fba0 ffffe0005162b1a0 WAN Miniport (Network Monitor)",
		"ffffe000516a55e0 ffffe0005162d1a0 WAN Miniport (PPTP)",
		"ffffe0004f5b9ba0 ffffe000516391a0 FooBar Network Adapter #7",
		"ffffe0004f5b9ba0 ffffe0005163b1a0 FooBar Network Adapter #4",
		"ffffe0004f5b9ba0 ffffe0005161b1a0 FooBar Network Adapter #8",
		"ffffe0004f5b9ba0 ffffe0004f5f51a0 FooBar Network Adapter #3",
		"ffffe0004f5b9ba0 ffffe0004f5f71a0 FooBar Network Adapter #2",
		"ffffe0004f5b9ba0 ffffe0004f5f91a0 FooBar Network Adapter",
		"ffffe0004e98fba0 ffffe0004f5fb1a0 WAN Miniport (IPv6)",
		"ffffe0004f2e9ba0 ffffe0004f5fd1a0 WAN Miniport (IKEv2)",
		"ffffe0004f5883a0 ffffe0004f55b1a0 WAN Miniport (SSTP)",
		"ffffe0004f58f580 ffffe0004f55d1a0 Hyper-V Virtual Switch Extension Adapter #2",
		"ffffe0004f58f580 ffffe0004f55f1a0 Hyper-V Virtual Switch Extension Adapter",
		"ffffe0004e98fba0 ffffe0004e95c1a0 WAN Miniport (IP)",
	},
	{
		"0: kd> !ndiskd.miniport ffffe0004f5f71a0",
		"MINIPORT",
		"FooBar Network Adapter #2",
		"Ndis handle ffffe0004f5f71a0",
		"Ndis API version v6.40",
		"Adapter context ffffe00051a00000",
		"Miniport driver ffffe0004f5b9ba0 – FooBarDriver v1.0",
		"Network interface ffffe0004e7c0a20",
		"Media type 802.3",
		"Device instance PCI\\VEN_1234&DEV_5678&SUBSYS_11112222&REV_01\\9877ffe0004f5883a0",
		"Device object ffffe0004f5f7050 More information",
		"MAC address 12-34-56-78-9a-bc",
		"STATE",
		"Miniport Running",
		"Device PnP Started Show state history",
		"Datapath DIVERTED_BECAUSE_MINIPORT_RESETTING",
		"NBL status NDIS_STATUS_RESET_IN_PROGRESS",
		"Interface Up",
		"Media Connected",
		"Power D0",
		"References 0n173 Show detail",
		"User handles 2",
		"Automatic resets 1",
		"Resets requested 0",
		"Pending OID OID_RECEIVE_FILTER_SET_FILTER",
		"Flags BUS_MASTER, 64BIT_DMA, SG_DMA, DEFAULT_PORT_ACTIVATED,",
		"RESET_IN_PROGRESS, RESTORING_FILTERS,",
		"SUPPORTS_MEDIA_SENSE, DOES_NOT_DO_LOOPBACK,",
		"MEDIA_CONNECTED",
		"PnP flags PM_SUPPORTED, DEVICE_POWER_ENABLED, RECEIVED_START,",
		"HARDWARE_DEVICE",
		"More flags PROCESSING_REQUEST, REQUEST_TIMEOUT",
	},
	{
		"0: kd> !ndiskd.oid ffffe8012c504090",
		"OID REQUEST",
		"OID_RECEIVE_FILTER_SET_FILTER",
		"Request type: OID_METHOD",
		"Completed: Not completed",
		"Cloned from: OID_RECEIVE_FILTER_SET_FILTER",
		"DATA PAYLOAD",
	},
	{
		"HANDLERS",
		"Miniport Handler Function pointer Symbol (if available)",
		"*** ERROR: Module load completed but symbols could not be loaded for FooDRV.sys",
		"InitializeHandlerEx fffff80032712fc0 FooDRV+3cfc0",
		"SetOptionsHandler fffff8003274bb10 FooDRV+75b10",
	},
	{
		"4.001114 ffffe0007510c040 ffc7d369 Blocked nt!KiSwapContext+0x76",
		"nt!KiSwapThread+0x14e",
		"nt!KiCommitThreadWait+0x129",
		"nt!KeWaitForSingleObject+0x373",
		"NDIS!NdisMSleep+0x59",
		"FooDRV+0x8ccbb",
		"FooDRV+0x8bc8b",
		"FooDRV+0x70d79",
		"FooDRV+0x14696",
		"nt!IopProcessWorkItem+0x80",
		"nt!ExpWorkerThread+0x69f",
		"nt!PspSystemThreadStartup+0x58",
		"nt!KiStartSystemThread+0x16",
	},
}

var spaces = regexp.MustCompile(`[ \t]+`)

// normalize undoes the blog's typography: collapsed spaces, en dashes,
// curly quotes.
func normalize(l string) string {
	l = strings.NewReplacer("–", "-", "“", `"`, "″", `"`, "”", `"`).Replace(l)
	return strings.TrimSpace(spaces.ReplaceAllString(l, " "))
}

// The lines above are the seed's: each one is in the seed file, in order
// (checked when ../shared is present).
func TestSeedLinesAreTheSeeds(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Clean(shared)), "seeds", "000_de47b5627e959549.txt"))
	if err != nil {
		t.Skipf("seed not present: %v", err)
	}
	var seed []string
	for _, l := range strings.Split(string(data), "\n") {
		seed = append(seed, normalize(l))
	}
	for _, block := range append(append(seedUserSide, seedKernelSide...), seedNdisSide...) {
		for _, want := range block {
			found := false
			for _, l := range seed {
				if l == normalize(want) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%q is not a line of the seed", want)
			}
		}
	}
}

// The seed's user-mode commands, replayed in its order on the bundled dump
// (testdata/golden/hyperv-seed.cmds; its prompts are the seed's, which is
// why it switches to thread 20 first and back to 0 for dt), print every
// line the seed shows, in order within each command's output.
func TestSeedUserSideReplays(t *testing.T) {
	script, err := os.ReadFile("testdata/golden/hyperv-seed.cmds")
	if err != nil {
		t.Fatal(err)
	}
	out, code := transcript(t, hypervDump, string(script), "-y", hypervSyms)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	inOrder(t, out, seedUserSide)
	// ~*kcn: the seed counts 104 threads with RtlpWaitOnCriticalSection.
	kcn := out[strings.Index(out, "> ~*kcn\n"):strings.Index(out, "> !cs\n")]
	if n := strings.Count(kcn, " ntdll!RtlpWaitOnCriticalSection\n"); n != 104 {
		t.Errorf("~*kcn shows RtlpWaitOnCriticalSection on %d threads, the seed 104", n)
	}
	if n := strings.Count(kcn, "\n # Call Site\n"); n != 183 {
		t.Errorf("~*kcn shows %d stacks, want 183", n)
	}
	// 183 threads, each once in `~`.
	tilde := out[strings.Index(out, "0:020> ~\n"):strings.Index(out, "> ~*kcn\n")]
	if n := strings.Count(tilde, "  Id: c08."); n != 183 {
		t.Errorf("~ lists %d threads", n)
	}
}

// .logopen keeps everything ~*kcn prints, as the seed's author saved it.
func TestSeedKcnLog(t *testing.T) {
	log := filepath.Join(t.TempDir(), "vmms-kcn.txt")
	out, code := transcript(t, hypervDump, ".logopen "+log+"\n~*kcn\n.logclose\nq\n", "-y", hypervSyms)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	body := out[strings.Index(out, "0:000> ~*kcn\n"):strings.Index(out, "0:000> .logclose\n")]
	if !strings.Contains(string(data), body) {
		t.Errorf("the log lacks part of ~*kcn (log %d bytes, output %d)", len(data), len(body))
	}
	if n := strings.Count(string(data), "RtlpWaitOnCriticalSection"); n != 104 {
		t.Errorf("log: %d threads with RtlpWaitOnCriticalSection", n)
	}
}

// inOrder checks that every seed line appears in the transcript, in order.
func inOrder(t *testing.T, out string, blocks [][]string) {
	t.Helper()
	var got []string
	for _, l := range strings.Split(out, "\n") {
		got = append(got, normalize(l))
	}
	at := 0
	for _, block := range blocks {
		for _, want := range block {
			w := normalize(want)
			i := at
			for i < len(got) && got[i] != w {
				i++
			}
			if i == len(got) {
				t.Errorf("seed line %q not found after transcript line %d", want, at+1)
				continue
			}
			at = i + 1
		}
	}
}

// The seed's kernel commands, in its order, on the bundled kernel dump
// (testdata/golden/hyperv-kernel-seed.cmds).
func TestSeedKernelSideReplays(t *testing.T) {
	script, err := os.ReadFile("testdata/golden/hyperv-kernel-seed.cmds")
	if err != nil {
		t.Fatal(err)
	}
	out, code := transcript(t, hypervKernel, string(script), "-y", hypervSyms)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	inOrder(t, out, seedKernelSide)
}

// The seed's NDIS commands, in its order, on the bundled kernel dump
// (testdata/golden/hyperv-ndis-seed.cmds).
func TestSeedNdisSideReplays(t *testing.T) {
	script, err := os.ReadFile("testdata/golden/hyperv-ndis-seed.cmds")
	if err != nil {
		t.Fatal(err)
	}
	out, code := transcript(t, hypervKernel, string(script), "-y", hypervSyms)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	inOrder(t, out, seedNdisSide)
}
