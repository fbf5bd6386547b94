package hyperv

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
)

// NDIS's state in the kernel dump: what the seed's !ndiskd.miniports,
// !ndiskd.miniport ffffe0004f5f71a0, !ndiskd.oid ffffe8012c504090 and
// !ndiskd.minidriver ffffe0004f5b9ba0 -handlers read.
//
//   - The 29 NDIS_MINIPORT_BLOCKs of !ndiskd.miniports at the seed's
//     addresses, in its order on ndis!ndisMiniportList (by
//     NextGlobalMiniport), each on its driver's MiniportQueue (by
//     NextMiniport, newest first as NDIS inserts them) and named by its
//     pAdapterInstanceName. Each block is, as in NDIS, the device extension
//     of its DEVICE_OBJECT (0x150 bytes before it), and its names and the
//     NSI stub of the miniature's ndisNsiMiniports are in the same pool
//     block after it (two pages per miniport in all).
//   - The 12 NDIS_M_DRIVER_BLOCKs of the seed's first column on
//     ndis!ndisMiniDriverList (by NextDriver, newest first), each with its
//     DRIVER_OBJECT and names in the same page. FooDRV's (ffffe0004f5b9ba0,
//     "FooBarDriver" v1.0) has its handler table: InitializeHandlerEx
//     FooDRV+3cfc0, SetOptionsHandler FooDRV+75b10, OidRequestHandler
//     FooMiniportOidRequest, ResetHandlerEx FooScheduleReset (the reset
//     that queued thread 1114's work item), the others at other offsets of
//     FooDRV's code sections, the two direct-OID handlers none.
//   - "FooBar Network Adapter #2" (ffffe0004f5f71a0) in the seed's state:
//     OID_RECEIVE_FILTER_SET_FILTER (a method request a filter cloned from
//     the vswitch's request) has been pending past its timeout, so NDIS
//     reset the miniport (REQUEST_TIMEOUT, one automatic reset), FooDRV's
//     reset work item is stuck polling in FooHwWaitForIdle, the datapath is
//     diverted and NBLs complete with NDIS_STATUS_RESET_IN_PROGRESS; thread
//     43d8's OID_GEN_STATISTICS query waits behind it on OidRequestList, its
//     NDIS_OID_REQUEST_RESERVED naming 43d8 and the event 43d8 waits on.
//   - The protocols on ndis!ndisProtocolList (TCPIP ffffe0004e8a3010,
//     TCPIP6, NDISUIO), TCPIP's and TCPIP6's opens on the six FooBar
//     adapters and the Hyper-V Virtual Ethernet Adapters (each miniport's
//     OpenQueue by MiniportNextOpen, each protocol's by ProtocolNextOpen);
//     the filter drivers on ndis!ndisFilterDriverList (Psched, WfpLwfs,
//     NdisCap), a WFP (lowest, the miniport's FilterChain) and a QoS module
//     on each FooBar adapter; one NDIS_IF_BLOCK per miniport on
//     ndis!ndisIfList (#2's at the seed's ffffe0004e7c0a20, the others in
//     their miniports' pool pages); and #2's three pending NBLs (PendingNbls,
//     by Next), TCPIP's sends diverted by the reset.
//   - The miniature's own globals: ndisNsiMiniports/ndisMiniportCount (the
//     interfaces ndisNsiGetAllInterfaceInformation walks), and FooDRV's
//     FooDriverHandle, FooAdapters and the adapter context of #2 (its reset
//     flag, which FooHwWaitForIdle polls, set).
//
// The structures are this scenario's own (ksrc/ndis_types.h, real field
// names at Windows 8.1 offsets): the writer takes their offsets, and the
// values of their enums, from ndis.pdb through ndis_layout.json, which
// TestNdisLayout extracts from bin/ndis.pdb (go test ./testdata/gen/hyperv
// -run TestNdisLayout -update-ndis-layout after build-kernel.sh).

//go:embed ndis_layout.json
var ndisLayoutJSON []byte

// NdisFields lists, per ndis.pdb structure, the fields the writer sets.
var NdisFields = map[string][]string{
	"_NDIS_M_DRIVER_BLOCK": {
		"Header.Type", "Header.Revision", "Header.Size", "NextDriver", "MiniportQueue", "MajorNdisVersion",
		"MinorNdisVersion", "Flags", "DriverObject", "ServiceRegPath", "MiniportDriverContext", "DeviceList",
		"UnloadHandler", "MiniportDriverCharacteristics", "Ref.ReferenceCount",
		"DriverVersion", "ServiceName", "ImageName",
	},
	"_NDIS_MINIPORT_DRIVER_CHARACTERISTICS": append([]string{
		"Header.Type", "Header.Revision", "Header.Size", "MajorNdisVersion", "MinorNdisVersion",
		"MajorDriverVersion", "MinorDriverVersion", "Flags"}, ndisHandlerNames...),
	"_NDIS_MINIPORT_BLOCK": {
		"Header.Type", "Header.Revision", "Header.Size", "NextMiniport", "MiniportAdapterContext",
		"MajorNdisVersion", "MinorNdisVersion", "OpenQueue", "ShortRef.ReferenceCount", "Flags", "PnPFlags",
		"MiniportMediaConnectState", "MiniportMediaDuplexState", "CheckForHangSeconds", "CFHangTicks",
		"ResetStatus", "MediaType", "MediaConnectState", "MediaDuplexState", "PnPDeviceState",
		"OldPnPDeviceState", "InternalResetCount", "MiniportResetCount", "MediaSenseConnectCount",
		"UserModeOpenReferences", "PhysicalMediumType", "MiniportMediaType", "OidRequestList",
		"PendingOidRequest", "State", "DriverHandle", "MiniportPhysicalMediumType", "BaseName", "MiniportName",
		"DeviceObject", "PhysicalDeviceObject", "NextDeviceObject", "NextGlobalMiniport", "pAdapterInstanceName",
		"CurrentDevicePowerState", "DriverPowerState", "InstanceNumber", "InterfaceGuid", "NetLuid.Value",
		"IfBlockAvailable", "IfBlock", "IfIndex", "AdminStatus", "OperStatus", "Ref.ReferenceCount", "MoreFlags",
		"DatapathState", "DatapathNblStatus", "MacAddressLength", "PermanentAddress", "CurrentAddress",
		"DeviceInstanceId", "FilterChain", "PendingNbls",
	},
	"_NDIS_PROTOCOL_BLOCK": append([]string{
		"Header.Type", "Header.Revision", "Header.Size", "NextProtocol", "OpenQueue", "MajorNdisVersion",
		"MinorNdisVersion", "MajorDriverVersion", "MinorDriverVersion", "Name", "ProtocolDriverContext",
		"Ref.ReferenceCount", "Flags"}, ndisProtocolHandlerNames...),
	"_NDIS_OPEN_BLOCK": {
		"Header.Type", "Header.Revision", "Header.Size", "MiniportHandle", "ProtocolHandle",
		"ProtocolBindingContext", "MiniportAdapterContext", "MiniportNextOpen", "ProtocolNextOpen", "Flags",
		"References", "PacketFilter", "FrameType",
	},
	"_NDIS_FILTER_DRIVER_BLOCK": {
		"Header.Type", "Header.Revision", "Header.Size", "NextFilterDriver", "FilterModuleQueue", "FriendlyName",
		"UniqueName", "ServiceName", "MajorNdisVersion", "MinorNdisVersion", "FilterDriverContext", "DriverObject",
		"Ref.ReferenceCount",
	},
	"_NDIS_FILTER_BLOCK": {
		"Header.Type", "Header.Revision", "Header.Size", "NextFilterModule", "NextGlobalFilter", "Miniport",
		"FilterDriver", "FilterModuleContext", "FilterInstanceName", "State", "LowerFilter", "HigherFilter",
		"Ref.ReferenceCount",
	},
	"_NET_BUFFER_LIST": {
		"Next", "FirstNetBuffer", "Context", "ParentNetBufferList", "NdisPoolHandle", "SourceHandle", "NblFlags",
		"ChildRefCount", "Flags", "Status",
	},
	"_NET_BUFFER": {"Next", "CurrentMdl", "CurrentMdlOffset", "DataLength", "MdlChain", "DataOffset",
		"NdisPoolHandle"},
	"_NDIS_IF_BLOCK": {
		"Header.Type", "Header.Revision", "Header.Size", "NextIf", "ifIndex", "ifType", "ifAlias", "ifDescr",
		"ifOperStatus", "ifAdminStatus", "NetLuid", "MiniportBlock",
	},
	"_NDIS_OID_REQUEST": {
		"Header.Type", "Header.Revision", "Header.Size", "RequestType", "PortNumber", "Timeout", "RequestId",
		"RequestHandle", "DATA.METHOD_INFORMATION.Oid", "DATA.METHOD_INFORMATION.InformationBuffer",
		"DATA.METHOD_INFORMATION.InputBufferLength", "DATA.METHOD_INFORMATION.OutputBufferLength",
		"DATA.METHOD_INFORMATION.MethodId", "DATA.QUERY_INFORMATION.Oid",
		"DATA.QUERY_INFORMATION.InformationBuffer", "DATA.QUERY_INFORMATION.InformationBufferLength",
		"NdisReserved", "SupportedRevision",
	},
	"_NDIS_OID_REQUEST_RESERVED": {
		"Entry", "Status", "Flags.Completed", "Flags.SignalEvent", "Flags.FromProtocol", "Flags.FromFilter",
		"Flags.Cloned", "Flags.SentToMiniport", "Flags.SentToFilter", "OidRequest", "SourceHandle", "StartCycle",
		"RequestorEvent", "RequestorThread",
	},
	"_NDIS_MINIPORT_STUB": {"MiniportAdapterContext", "OidRequestHandler", "IfIndex", "Miniport"},
	// nt's, as ndis.pdb has them from nt9600.h (whose layouts the
	// ntheader test holds against the 9600 ISF).
	"_DEVICE_OBJECT": {
		"Type", "Size", "ReferenceCount", "DriverObject", "NextDevice", "Flags", "Characteristics",
		"DeviceExtension", "DeviceType", "StackSize",
	},
	"_DRIVER_OBJECT": {"Type", "Size", "DeviceObject", "Flags", "DriverStart", "DriverSize", "DriverName"},
}

// NdisSizes lists the ndis.pdb structures whose sizes the writer needs.
var NdisSizes = []string{"_NDIS_M_DRIVER_BLOCK", "_NDIS_MINIPORT_BLOCK", "_NDIS_OID_REQUEST",
	"_NDIS_OID_REQUEST_RESERVED", "_NDIS_MINIPORT_STUB", "_DEVICE_OBJECT", "_DRIVER_OBJECT",
	"_NDIS_PROTOCOL_BLOCK", "_NDIS_OPEN_BLOCK", "_NDIS_FILTER_DRIVER_BLOCK", "_NDIS_FILTER_BLOCK",
	"_NET_BUFFER_LIST", "_NET_BUFFER", "_NDIS_IF_BLOCK"}

// NdisEnums lists the ndis.pdb enums whose enumerators the writer uses.
var NdisEnums = []string{"_NDIS_OBJECT_TYPE", "_NDIS_MINIPORT_FLAGS", "_NDIS_MINIPORT_PNP_FLAGS",
	"_NDIS_MINIPORT_MORE_FLAGS", "_NDIS_DATAPATH_STATE", "_NDIS_STATUS_CODE", "_NDIS_OID_CODE", "_NDIS_MEDIUM",
	"_NDIS_PHYSICAL_MEDIUM", "_NDIS_MINIPORT_STATE", "_NDIS_PNP_DEVICE_STATE", "_NET_IF_MEDIA_CONNECT_STATE",
	"_NET_IF_MEDIA_DUPLEX_STATE", "_NET_IF_ADMIN_STATUS", "_NET_IF_OPER_STATUS", "_NDIS_REQUEST_TYPE",
	"_DEVICE_POWER_STATE", "_NDIS_FILTER_STATE"}

// ndisProtocolHandlerNames are the handlers of _NDIS_PROTOCOL_BLOCK.
var ndisProtocolHandlerNames = []string{"BindAdapterHandlerEx", "UnbindAdapterHandlerEx",
	"OpenAdapterCompleteHandlerEx", "CloseAdapterCompleteHandlerEx", "NetPnPEventHandler", "UninstallHandler",
	"SendNetBufferListsCompleteHandler", "ReceiveNetBufferListsHandler", "StatusHandlerEx",
	"OidRequestCompleteHandler", "DirectOidRequestCompleteHandler"}

// ndisHandlerNames are the handlers of NDIS_MINIPORT_DRIVER_CHARACTERISTICS.
var ndisHandlerNames = []string{"SetOptionsHandler", "InitializeHandlerEx", "HaltHandlerEx", "UnloadHandler",
	"PauseHandler", "RestartHandler", "OidRequestHandler", "SendNetBufferListsHandler",
	"ReturnNetBufferListsHandler", "CancelSendHandler", "CheckForHangHandlerEx", "ResetHandlerEx",
	"DevicePnPEventNotifyHandler", "ShutdownHandlerEx", "CancelOidRequestHandler", "DirectOidRequestHandler",
	"CancelDirectOidRequestHandler"}

// NdisLayoutFile is ndis_layout.json: offsets and sizes as kernel_layout.json
// has them, and enumerator values.
type NdisLayoutFile struct {
	Comment string                       `json:"comment"`
	Source  string                       `json:"source"`
	Types   map[string]*StructLayout     `json:"types"`
	Enums   map[string]map[string]uint32 `json:"enums"`
}

// Marshal renders the layout as committed: indented, keys sorted.
func (l *NdisLayoutFile) Marshal() []byte {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

var ndisLayout = func() *NdisLayoutFile {
	var l NdisLayoutFile
	if err := json.Unmarshal(ndisLayoutJSON, &l); err != nil {
		panic("ndis_layout.json: " + err.Error())
	}
	return &l
}()

// NdisLayout is the committed layout (ndis_layout.json).
func NdisLayout() *NdisLayoutFile { return ndisLayout }

func nfield(typ, path string) FieldLayout {
	s := ndisLayout.Types[typ]
	if s == nil {
		panic("ndis_layout.json has no type " + typ)
	}
	f, ok := s.Fields[path]
	if !ok {
		panic(fmt.Sprintf("ndis_layout.json has no field %s.%s", typ, path))
	}
	return f
}

func nsize(typ string) uint64 {
	s := ndisLayout.Types[typ]
	if s == nil || s.Size == 0 {
		panic("ndis_layout.json has no size of " + typ)
	}
	return s.Size
}

// nenum is an enumerator's value (a 32-bit enum).
func nenum(enum, name string) uint64 {
	v, ok := ndisLayout.Enums[enum][name]
	if !ok {
		panic(fmt.Sprintf("ndis_layout.json has no enumerator %s.%s", enum, name))
	}
	return uint64(v)
}

// nflags ORs enumerators of a flags enum, given by the names ndiskd prints
// (the part after the enumerators' prefix).
func nflags(enum, prefix string, names ...string) uint64 {
	var v uint64
	for _, n := range names {
		v |= nenum(enum, prefix+n)
	}
	return v
}

// nobj is an ndis.pdb structure at an address of the kernel space.
type nobj struct {
	sp   *Space
	typ  string
	addr uint64
}

func (o nobj) at(path string) uint64 { return o.addr + nfield(o.typ, path).Offset }

func (o nobj) set(path string, v uint64) {
	f := nfield(o.typ, path)
	a := o.addr + f.Offset
	if f.BitLen != 0 {
		cur := leUint(o.sp.Read(a, int(f.Size)))
		mask := (uint64(1)<<f.BitLen - 1) << f.BitPos
		v = cur&^mask | v<<f.BitPos&mask
	}
	switch f.Size {
	case 1:
		o.sp.Write(a, []byte{byte(v)})
	case 2:
		o.sp.U16(a, uint16(v))
	case 4:
		o.sp.U32(a, uint32(v))
	case 8:
		o.sp.U64(a, v)
	default:
		panic(fmt.Sprintf("%s.%s is %d bytes, not an integer", o.typ, path, f.Size))
	}
}

func (o nobj) bytes(path string, b []byte) {
	f := nfield(o.typ, path)
	if uint64(len(b)) > f.Size {
		panic(fmt.Sprintf("%d bytes do not fit %s.%s (%d)", len(b), o.typ, path, f.Size))
	}
	o.sp.Write(o.addr+f.Offset, b)
}

func (o nobj) emptyList(path string) {
	a := o.at(path)
	o.sp.U64(a+off("_LIST_ENTRY", "Flink"), a)
	o.sp.U64(a+off("_LIST_ENTRY", "Blink"), a)
}

func (o nobj) header(typ string, revision, size uint64) {
	o.set("Header.Type", nenum("_NDIS_OBJECT_TYPE", typ))
	o.set("Header.Revision", revision)
	o.set("Header.Size", size)
}

// ---- the seed's miniports and drivers ----

// ndisMiniportSeed is one row of the seed's !ndiskd.miniports.
type ndisMiniportSeed struct {
	Driver, Miniport uint64
	Name             string
}

// NdisSeedMiniports are the seed's !ndiskd.miniports rows, in its order
// (ndisMiniportList's).
var NdisSeedMiniports = []ndisMiniportSeed{
	{0xffffe8012a67eba0, 0xffffe8012ac921a0, "Microsoft ISATAP Adapter #5"},
	{0xffffe8012a67eba0, 0xffffe8012aa371a0, "Microsoft 6to4 Adapter"},
	{0xffffe8012a67eba0, 0xffffe8012a97b1a0, "Microsoft ISATAP Adapter #3"},
	{0xffffe8012a67eba0, 0xffffe8012a9521a0, "Microsoft ISATAP Adapter #4"},
	{0xffffe8012a67eba0, 0xffffe8012a6d21a0, "Microsoft ISATAP Adapter #9"},
	{0xffffe8012a67eba0, 0xffffe8012a6d01a0, "Microsoft ISATAP Adapter #2"},
	{0xffffe0005169b6c0, 0xffffe000595311a0, "Microsoft Network Adapter Multiplexor Driver"},
	{0xffffe0005169b6c0, 0xffffe0005876c1a0, "Microsoft Network Adapter Multiplexor Driver #2"},
	{0xffffe000516be020, 0xffffe0005161d1a0, "Microsoft Failover Cluster Virtual Adapter"},
	{0xffffe000516d0ba0, 0xffffe0005161f1a0, "WAN Miniport (PPPOE)"},
	{0xffffe0004f3e2390, 0xffffe000516211a0, "Hyper-V Virtual Ethernet Adapter #4"},
	{0xffffe0004f3e2390, 0xffffe000516231a0, "Hyper-V Virtual Ethernet Adapter #3"},
	{0xffffe0004f3e2390, 0xffffe000516251a0, "Microsoft Hyper-V Network Switch Default Miniport"},
	{0xffffe000516dbba0, 0xffffe000516271a0, "WAN Miniport (L2TP)"},
	{0xffffe0005169b6c0, 0xffffe000516291a0, "Microsoft Network Adapter Multiplexor Default Miniport"},
	{0xffffe0004e98fba0, 0xffffe0005162b1a0, "WAN Miniport (Network Monitor)"},
	{0xffffe000516a55e0, 0xffffe0005162d1a0, "WAN Miniport (PPTP)"},
	{0xffffe0004f5b9ba0, 0xffffe000516391a0, "FooBar Network Adapter #7"},
	{0xffffe0004f5b9ba0, 0xffffe0005163b1a0, "FooBar Network Adapter #4"},
	{0xffffe0004f5b9ba0, 0xffffe0005161b1a0, "FooBar Network Adapter #8"},
	{0xffffe0004f5b9ba0, 0xffffe0004f5f51a0, "FooBar Network Adapter #3"},
	{0xffffe0004f5b9ba0, 0xffffe0004f5f71a0, "FooBar Network Adapter #2"},
	{0xffffe0004f5b9ba0, 0xffffe0004f5f91a0, "FooBar Network Adapter"},
	{0xffffe0004e98fba0, 0xffffe0004f5fb1a0, "WAN Miniport (IPv6)"},
	{0xffffe0004f2e9ba0, 0xffffe0004f5fd1a0, "WAN Miniport (IKEv2)"},
	{0xffffe0004f5883a0, 0xffffe0004f55b1a0, "WAN Miniport (SSTP)"},
	{0xffffe0004f58f580, 0xffffe0004f55d1a0, "Hyper-V Virtual Switch Extension Adapter #2"},
	{0xffffe0004f58f580, 0xffffe0004f55f1a0, "Hyper-V Virtual Switch Extension Adapter"},
	{0xffffe0004e98fba0, 0xffffe0004e95c1a0, "WAN Miniport (IP)"},
}

// ndisDriverSpec is one miniport driver.
type ndisDriverSpec struct {
	Addr             uint64
	Service, Image   string
	NdisMajor, Minor uint8 // the NDIS version it registered for
	DrvMajor, DrvMin uint8 // its own version
}

// NdisDrivers are the drivers of the seed's first column, in
// ndisMiniDriverList order (the last registered first).
var NdisDrivers = []ndisDriverSpec{
	{0xffffe8012a67eba0, "tunnel", "tunnel.sys", 6, 40, 6, 3},
	{0xffffe000516dbba0, "Rasl2tp", "rasl2tp.sys", 6, 40, 6, 3},
	{0xffffe000516d0ba0, "RasPppoe", "raspppoe.sys", 6, 40, 6, 3},
	{0xffffe000516be020, "NetFT", "netft.sys", 6, 30, 6, 3},
	{0xffffe000516a55e0, "PptpMiniport", "raspptp.sys", 6, 40, 6, 3},
	{0xffffe0005169b6c0, "NdisImPlatformMp", "NdisImPlatform.sys", 6, 40, 6, 3},
	{FooDriverBlock, "FooBarDriver", "FooDRV.sys", 6, 40, 1, 0},
	{0xffffe0004f58f580, "VMSMP", "vmswitch.sys", 6, 40, 6, 3},
	{0xffffe0004f5883a0, "RasSstp", "rassstp.sys", 6, 40, 6, 3},
	{0xffffe0004f3e2390, "VMSNPXYMP", "vmswitch.sys", 6, 40, 6, 3},
	{0xffffe0004f2e9ba0, "RasAgileVpn", "AgileVpn.sys", 6, 40, 6, 3},
	{0xffffe0004e98fba0, "NdisWan", "ndiswan.sys", 6, 40, 6, 3},
}

// The seed's NDIS objects.
const (
	FooDriverBlock     = 0xffffe0004f5b9ba0 // FooDRV's NDIS_M_DRIVER_BLOCK ("FooBarDriver")
	StuckMiniport      = 0xffffe0004f5f71a0 // FooBar Network Adapter #2
	StuckOidRequest    = 0xffffe8012c504090 // its pending OID_RECEIVE_FILTER_SET_FILTER
	StuckIfBlock       = 0xffffe0004e7c0a20 // its network interface
	StuckDeviceInst    = `PCI\VEN_1234&DEV_5678&SUBSYS_11112222&REV_01\9877ffe0004f5883a0`
	ndisRequestTimeout = 2 // seconds, the pending request's Timeout
)

// StuckMAC is FooBar Network Adapter #2's MAC address.
var StuckMAC = []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}

// fooHandlerRVAs is FooDRV's handler table (RVAs; 0 for none). The seed
// shows InitializeHandlerEx and SetOptionsHandler; OidRequestHandler is
// FooMiniportOidRequest, ResetHandlerEx FooScheduleReset; the rest are at
// other offsets of FooDRV's code sections.
var fooHandlerRVAs = map[string]uint64{
	"SetOptionsHandler":             0x75b10,
	"InitializeHandlerEx":           0x3cfc0,
	"HaltHandlerEx":                 0x3c4d0,
	"UnloadHandler":                 0x3c140,
	"PauseHandler":                  0x3c780,
	"RestartHandler":                0x3ca20,
	"OidRequestHandler":             0x70000,
	"SendNetBufferListsHandler":     0x8b140,
	"ReturnNetBufferListsHandler":   0x8b5e0,
	"CancelSendHandler":             0x8b9b0,
	"CheckForHangHandlerEx":         0x70420,
	"ResetHandlerEx":                0x14000,
	"DevicePnPEventNotifyHandler":   0x75360,
	"ShutdownHandlerEx":             0x75640,
	"CancelOidRequestHandler":       0x70980,
	"DirectOidRequestHandler":       0,
	"CancelDirectOidRequestHandler": 0,
}

// FooDRV's FOO_ADAPTER, as foodrv.S uses it (its ADAPTER_* offsets).
const (
	fooAdapterHandle       = 0x00 // the NDIS miniport handle
	fooAdapterDeviceObject = 0x08
	fooAdapterWorkItem     = 0x10
	fooAdapterFlags        = 0x18
	fooAdapterResetting    = 0x1
)

// miniportKind is what sort of adapter a miniport is, from its name.
type miniportKind int

const (
	kindHardware miniportKind = iota // FooBar: PCI, bus-master DMA
	kindTunnel                       // ISATAP, 6to4
	kindMux                          // the teaming multiplexor
	kindCluster                      // failover cluster virtual adapter
	kindWan                          // WAN miniports on NdisMediumWan
	kindWanLan                       // NdisWan's 802.3 ones (IP, IPv6, Network Monitor)
	kindHyperV                       // vswitch adapters
)

func kindOf(name string) miniportKind {
	switch {
	case strings.HasPrefix(name, "FooBar"):
		return kindHardware
	case strings.Contains(name, "ISATAP"), strings.Contains(name, "6to4"):
		return kindTunnel
	case strings.Contains(name, "Multiplexor"):
		return kindMux
	case strings.Contains(name, "Failover Cluster"):
		return kindCluster
	case strings.HasPrefix(name, "WAN Miniport (IP"), strings.Contains(name, "Network Monitor"):
		return kindWanLan
	case strings.HasPrefix(name, "WAN Miniport"):
		return kindWan
	}
	return kindHyperV
}

// ---- pool placement ----

// ndisPool places NDIS's objects: the seed's fixed ones, and the small
// allocations next to them in the same pages (so that the NDIS state adds
// as few pages as it can to the dump).
type ndisPool struct {
	k    *KernelScenario
	used map[uint64][]span // by page: allocations (with their pool headers)
}

// fix records a fixed object, which must be in pages nothing else wrote.
func (p *ndisPool) fix(addr, size uint64) {
	for pg := (addr - 0x10) &^ 0xfff; pg < addr+size; pg += pageSize {
		if p.k.ks.Has(pg) && p.used[pg] == nil {
			panic(fmt.Sprintf("NDIS object %#x: page %#x is already written", addr, pg))
		}
		lo, hi := max(addr-0x10, pg), min(addr+size, pg+pageSize)
		p.used[pg] = append(p.used[pg], span{lo, hi})
	}
}

// near allocates n bytes (with a pool header before them) in the page of
// addr, clear of what is there.
func (p *ndisPool) near(addr, n uint64) uint64 {
	pg := addr &^ 0xfff
	a := pg
	for {
		a = (a + 0xf) &^ 0xf
		if a+0x10+n > pg+pageSize {
			panic(fmt.Sprintf("no room for %#x bytes in page %#x", n, pg))
		}
		clash := false
		for _, s := range p.used[pg] {
			if a < s.hi && s.lo < a+0x10+n {
				a, clash = s.hi, true
				break
			}
		}
		if !clash {
			p.used[pg] = append(p.used[pg], span{a, a + 0x10 + n})
			return a + 0x10
		}
	}
}

// ustr writes a UNICODE_STRING at addr with its buffer in the page of
// near.
func (p *ndisPool) ustr(addr uint64, s string, near uint64) {
	n := uint64(2 * len(utf16.Encode([]rune(s))))
	buf := p.near(near, n+2)
	p.k.ks.UTF16(buf, s)
	o := kobj{p.k.ks, "_UNICODE_STRING", addr}
	o.set("Length", n)
	o.set("MaximumLength", n+2)
	o.set("Buffer", buf)
}

// ---- the state ----

// ndisMiniport is one miniport as written.
type ndisMiniport struct {
	ndisMiniportSeed
	kind      miniportKind
	drv       *ndisDriver
	guid      string
	ifIndex   uint64
	luid      uint64
	context   uint64 // MiniportAdapterContext
	devobj    uint64
	connected bool
	mac       []byte
	ifBlock   uint64 // its NDIS_IF_BLOCK
	ifType    uint64
}

type ndisDriver struct {
	ndisDriverSpec
	miniports []*ndisMiniport // MiniportQueue order (newest first)
	drvobj    uint64
}

func (k *KernelScenario) writeNdis() {
	ndis, foo := k.Images["ndis.sys"], k.Images["foodrv.sys"]
	p := &ndisPool{k: k, used: map[uint64][]span{}}
	g := lcg(0x4e44) // "ND"
	drivers := map[uint64]*ndisDriver{}
	var dlist []*ndisDriver
	for _, s := range NdisDrivers {
		d := &ndisDriver{ndisDriverSpec: s}
		drivers[s.Addr] = d
		dlist = append(dlist, d)
		p.fix(s.Addr, nsize("_NDIS_M_DRIVER_BLOCK"))
	}
	var mps []*ndisMiniport
	luidIndex := map[uint64]uint64{}
	for i, s := range NdisSeedMiniports {
		d := drivers[s.Driver]
		if d == nil {
			panic(fmt.Sprintf("miniport %#x: no driver %#x", s.Miniport, s.Driver))
		}
		m := &ndisMiniport{ndisMiniportSeed: s, kind: kindOf(s.Name), drv: d}
		m.devobj = s.Miniport - nsize("_DEVICE_OBJECT")
		m.guid = guidString(&g)
		// Interface indexes in creation order (the list is newest first).
		m.ifIndex = uint64(len(NdisSeedMiniports)-i) + 2
		ifType := uint64(6) // IF_TYPE_ETHERNET_CSMACD
		switch m.kind {
		case kindTunnel:
			ifType = 131 // IF_TYPE_TUNNEL
		case kindWan:
			ifType = 23 // IF_TYPE_PPP
		}
		m.ifType = ifType
		m.luid = ifType<<48 | luidIndex[ifType]<<24
		luidIndex[ifType]++
		m.connected = m.kind != kindTunnel
		m.context = 0xffffe00051000000 + uint64(g.next()&0x7fff)<<8
		switch m.kind {
		case kindTunnel:
		case kindHardware:
			m.mac = []byte{0x12, 0x34, 0x56, 0x78, 0x9a, byte(0xb8 + 2*adapterNumber(s.Name))}
		case kindHyperV:
			m.mac = []byte{0x00, 0x15, 0x5d, 0x2a, 0x71, byte(g.next())}
		default:
			m.mac = []byte{0x02, byte(g.next()), byte(g.next()), byte(g.next()), byte(g.next()), byte(g.next())}
		}
		// The others' NDIS_IF_BLOCKs are in their miniports' pool pages
		// (writeNdisBindings).
		if s.Miniport == StuckMiniport {
			m.context = fooAdapterContext
			m.ifBlock = StuckIfBlock
			if !bytesEqual(m.mac, StuckMAC) {
				panic("FooBar Network Adapter #2's MAC")
			}
		}
		if m.devobj != fooDeviceObject && s.Miniport == StuckMiniport {
			panic("FooBar Network Adapter #2's device object")
		}
		d.miniports = append(d.miniports, m)
		mps = append(mps, m)
		p.fix(m.devobj, nsize("_DEVICE_OBJECT"))
		p.fix(s.Miniport, nsize("_NDIS_MINIPORT_BLOCK"))
	}
	p.fix(StuckOidRequest, nsize("_NDIS_OID_REQUEST"))

	// The drivers.
	for i, d := range dlist {
		o := nobj{k.ks, "_NDIS_M_DRIVER_BLOCK", d.Addr}
		o.header("NDIS_OBJECT_TYPE_M_DRIVER_BLOCK", 1, nsize("_NDIS_M_DRIVER_BLOCK"))
		if i+1 < len(dlist) {
			o.set("NextDriver", dlist[i+1].Addr)
		}
		o.set("MiniportQueue", d.miniports[0].Miniport)
		o.set("MajorNdisVersion", uint64(d.NdisMajor))
		o.set("MinorNdisVersion", uint64(d.Minor))
		d.drvobj = p.near(d.Addr, nsize("_DRIVER_OBJECT"))
		o.set("DriverObject", d.drvobj)
		p.ustr(o.at("ServiceRegPath"), `\REGISTRY\MACHINE\SYSTEM\ControlSet001\Services\`+d.Service, d.Addr)
		o.emptyList("DeviceList")
		o.set("Ref.ReferenceCount", uint64(len(d.miniports)+1))
		o.set("DriverVersion", uint64(d.DrvMajor)<<16|uint64(d.DrvMin))
		p.ustr(o.at("ServiceName"), d.Service, d.Addr)
		p.ustr(o.at("ImageName"), d.Image, d.Addr)
		c := nobj{k.ks, "_NDIS_MINIPORT_DRIVER_CHARACTERISTICS", o.at("MiniportDriverCharacteristics")}
		c.header("NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS", 2,
			nsize("_NDIS_MINIPORT_DRIVER_CHARACTERISTICS"))
		c.set("MajorNdisVersion", uint64(d.NdisMajor))
		c.set("MinorNdisVersion", uint64(d.Minor))
		c.set("MajorDriverVersion", uint64(d.DrvMajor))
		c.set("MinorDriverVersion", uint64(d.DrvMin))
		if d.Addr == FooDriverBlock {
			for _, h := range ndisHandlerNames {
				if rva := fooHandlerRVAs[h]; rva != 0 {
					c.set(h, foo.Base+rva)
				}
			}
			o.set("UnloadHandler", foo.Base+fooHandlerRVAs["UnloadHandler"])
		}
		// Its DRIVER_OBJECT, whose device list is its miniports' devices.
		do := nobj{k.ks, "_DRIVER_OBJECT", d.drvobj}
		do.set("Type", 4) // IO_TYPE_DRIVER
		do.set("Size", nsize("_DRIVER_OBJECT"))
		do.set("DeviceObject", d.miniports[0].devobj)
		do.set("Flags", 0x12) // DRVO_LEGACY_DRIVER | DRVO_INITIALIZED
		if d.Addr == FooDriverBlock {
			do.set("DriverStart", foo.Base)
			do.set("DriverSize", uint64(foo.Size))
		}
		p.ustr(do.at("DriverName"), `\Driver\`+d.Service, d.Addr)
	}

	// The miniports.
	ndisMiniports := ndis.Sym("ndisNsiMiniports")
	for i, m := range mps {
		var next uint64
		if i+1 < len(mps) {
			next = mps[i+1].Miniport
		}
		k.writeMiniport(p, m, next, &g)
		// The NSI stub the miniature's ndisNsiGetAllInterfaceInformation
		// queries, in the same pool block.
		stub := p.near(m.Miniport+nsize("_NDIS_MINIPORT_BLOCK"), nsize("_NDIS_MINIPORT_STUB"))
		st := nobj{k.ks, "_NDIS_MINIPORT_STUB", stub}
		st.set("MiniportAdapterContext", m.context)
		if m.drv.Addr == FooDriverBlock {
			st.set("OidRequestHandler", foo.Base+fooHandlerRVAs["OidRequestHandler"])
		}
		st.set("IfIndex", m.ifIndex)
		st.set("Miniport", m.Miniport)
		k.ks.U64(ndisMiniports+8*uint64(i), stub)
	}
	k.ks.U32(ndis.Sym("ndisMiniportCount"), uint32(len(mps)))
	k.ks.U64(ndis.Sym("ndisMiniportList"), mps[0].Miniport)
	k.ks.U64(ndis.Sym("ndisMiniDriverList"), dlist[0].Addr)
	k.stuckRequests(p)
	k.writeNdisBindings(p, mps)

	// FooDRV's own state: its driver handle, its adapters, and #2's
	// context (the reset flag FooHwWaitForIdle polls).
	k.ks.U64(foo.Sym("FooDriverHandle"), FooDriverBlock)
	for i, m := range drivers[FooDriverBlock].miniports {
		k.ks.U64(foo.Sym("FooAdapters")+8*uint64(i), m.context)
	}
	k.ks.U64(fooAdapterContext+fooAdapterHandle, StuckMiniport)
	k.ks.U64(fooAdapterContext+fooAdapterDeviceObject, fooDeviceObject)
	k.ks.U64(fooAdapterContext+fooAdapterWorkItem, k.fooWorkItem())
	k.ks.U32(fooAdapterContext+fooAdapterFlags, fooAdapterResetting)
}

// adapterNumber is the n of "FooBar Network Adapter #n" (1 without one).
func adapterNumber(name string) int {
	n := 1
	if i := strings.LastIndexByte(name, '#'); i >= 0 {
		fmt.Sscanf(name[i+1:], "%d", &n)
	}
	return n
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// guidString is a random GUID in registry form.
func guidString(g *lcg) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.next() >> 4)
	}
	return fmt.Sprintf("{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6]&0x0f|0x40, b[7], b[8]&0x3f|0x80, b[9], b[10], b[11], b[12], b[13],
		b[14], b[15])
}

// guidBytes is a GUID string's 16 bytes as a GUID structure holds them.
func guidBytes(s string) []byte {
	var d1 uint32
	var d2, d3 uint16
	var d4 [8]byte
	fmt.Sscanf(s, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", &d1, &d2, &d3,
		&d4[0], &d4[1], &d4[2], &d4[3], &d4[4], &d4[5], &d4[6], &d4[7])
	b := []byte{byte(d1), byte(d1 >> 8), byte(d1 >> 16), byte(d1 >> 24), byte(d2), byte(d2 >> 8), byte(d3), byte(d3 >> 8)}
	return append(b, d4[:]...)
}

// deviceInstance is a miniport's PnP device instance path.
func deviceInstance(m *ndisMiniport, i int) string {
	name := m.Name
	switch m.kind {
	case kindHardware:
		if m.Miniport == StuckMiniport {
			return StuckDeviceInst
		}
		return fmt.Sprintf(`PCI\VEN_1234&DEV_5678&SUBSYS_11112222&REV_01\4&%x&0&%02X00`, 0x2a17c3b0+i, 8*adapterNumber(name))
	case kindTunnel:
		if strings.Contains(name, "6to4") {
			return `ROOT\*6TO4MP\0000`
		}
		return fmt.Sprintf(`ROOT\*ISATAP\%04d`, adapterNumber(name)-1)
	case kindMux:
		return `COMPOSITEBUS\MS_IMPLAT_MP\` + strings.Trim(m.guid, "{}")
	case kindCluster:
		return `ROOT\NET\0000`
	case kindWan, kindWanLan:
		w := map[string]string{"PPPOE": "MS_PPPOEMINIPORT", "L2TP": "MS_L2TPMINIPORT", "PPTP": "MS_PPTPMINIPORT",
			"SSTP": "MS_SSTPMINIPORT", "IKEv2": "MS_AGILEVPNMINIPORT", "IP": "MS_NDISWANIP",
			"IPv6": "MS_NDISWANIPV6", "Network Monitor": "MS_NDISWANBH"}
		kind := strings.TrimSuffix(strings.TrimPrefix(name, "WAN Miniport ("), ")")
		return `SWD\MSRRAS\` + w[kind]
	}
	return fmt.Sprintf(`ROOT\VMS_MP\%04d`, i%10)
}

func (k *KernelScenario) writeMiniport(p *ndisPool, m *ndisMiniport, next uint64, g *lcg) {
	const (
		fl   = "_NDIS_MINIPORT_FLAGS"
		pnp  = "_NDIS_MINIPORT_PNP_FLAGS"
		more = "_NDIS_MINIPORT_MORE_FLAGS"
	)
	d := m.drv
	stuck := m.Miniport == StuckMiniport
	o := nobj{k.ks, "_NDIS_MINIPORT_BLOCK", m.Miniport}
	o.header("NDIS_OBJECT_TYPE_MINIPORT_BLOCK", 1, nsize("_NDIS_MINIPORT_BLOCK"))
	for j, dm := range d.miniports {
		if dm == m && j+1 < len(d.miniports) {
			o.set("NextMiniport", d.miniports[j+1].Miniport)
		}
	}
	o.set("MiniportAdapterContext", m.context)
	o.set("MajorNdisVersion", uint64(d.NdisMajor))
	o.set("MinorNdisVersion", uint64(d.Minor))
	o.set("ShortRef.ReferenceCount", 1)

	// Flags, by the names ndiskd prints.
	var flags, pnpFlags uint64
	switch m.kind {
	case kindHardware:
		flags = nflags(fl, "NdisMiniportFlag_", "BUS_MASTER", "64BIT_DMA", "SG_DMA", "DEFAULT_PORT_ACTIVATED",
			"SUPPORTS_MEDIA_SENSE", "DOES_NOT_DO_LOOPBACK")
		pnpFlags = nflags(pnp, "NdisMiniportPnPFlag_", "PM_SUPPORTED", "DEVICE_POWER_ENABLED", "RECEIVED_START",
			"HARDWARE_DEVICE")
	case kindWan, kindWanLan:
		flags = nflags(fl, "NdisMiniportFlag_", "NOT_BUS_MASTER", "DEFAULT_PORT_ACTIVATED", "DOES_NOT_DO_LOOPBACK")
		pnpFlags = nflags(pnp, "NdisMiniportPnPFlag_", "VIRTUAL_DEVICE", "HIDDEN", "NO_HALT_ON_SUSPEND",
			"RECEIVED_START", "SWENUM")
	case kindTunnel:
		flags = nflags(fl, "NdisMiniportFlag_", "NOT_BUS_MASTER", "DEFAULT_PORT_ACTIVATED", "SUPPORTS_MEDIA_SENSE",
			"DOES_NOT_DO_LOOPBACK")
		pnpFlags = nflags(pnp, "NdisMiniportPnPFlag_", "VIRTUAL_DEVICE", "HIDDEN", "NO_HALT_ON_SUSPEND",
			"RECEIVED_START")
	default:
		flags = nflags(fl, "NdisMiniportFlag_", "NOT_BUS_MASTER", "DEFAULT_PORT_ACTIVATED", "SUPPORTS_MEDIA_SENSE",
			"DOES_NOT_DO_LOOPBACK")
		pnpFlags = nflags(pnp, "NdisMiniportPnPFlag_", "VIRTUAL_DEVICE", "NO_HALT_ON_SUSPEND", "RECEIVED_START")
	}
	if m.connected {
		flags |= nflags(fl, "NdisMiniportFlag_", "MEDIA_CONNECTED")
	}
	if stuck {
		flags |= nflags(fl, "NdisMiniportFlag_", "RESET_IN_PROGRESS", "RESTORING_FILTERS")
		o.set("MoreFlags", nflags(more, "NdisMiniportMoreFlag_", "PROCESSING_REQUEST", "REQUEST_TIMEOUT"))
	}
	o.set("Flags", flags)
	o.set("PnPFlags", pnpFlags)

	media, phys := "NdisMedium802_3", "NdisPhysicalMediumUnspecified"
	switch m.kind {
	case kindTunnel:
		media = "NdisMediumTunnel"
	case kindWan:
		media = "NdisMediumWan"
	case kindHardware:
		phys = "NdisPhysicalMedium802_3"
	}
	o.set("MediaType", nenum("_NDIS_MEDIUM", media))
	o.set("MiniportMediaType", nenum("_NDIS_MEDIUM", media))
	o.set("PhysicalMediumType", nenum("_NDIS_PHYSICAL_MEDIUM", phys))
	o.set("MiniportPhysicalMediumType", nenum("_NDIS_PHYSICAL_MEDIUM", phys))
	conn, oper := "MediaConnectStateConnected", "NET_IF_OPER_STATUS_UP"
	if !m.connected {
		conn, oper = "MediaConnectStateDisconnected", "NET_IF_OPER_STATUS_DOWN"
	}
	o.set("MediaConnectState", nenum("_NET_IF_MEDIA_CONNECT_STATE", conn))
	o.set("MiniportMediaConnectState", nenum("_NET_IF_MEDIA_CONNECT_STATE", conn))
	duplex := nenum("_NET_IF_MEDIA_DUPLEX_STATE", "MediaDuplexStateFull")
	o.set("MediaDuplexState", duplex)
	o.set("MiniportMediaDuplexState", duplex)
	o.set("AdminStatus", nenum("_NET_IF_ADMIN_STATUS", "NET_IF_ADMIN_STATUS_UP"))
	o.set("OperStatus", nenum("_NET_IF_OPER_STATUS", oper))
	o.set("State", nenum("_NDIS_MINIPORT_STATE", "NdisMiniportRunning"))
	o.set("PnPDeviceState", nenum("_NDIS_PNP_DEVICE_STATE", "NdisPnPDeviceStarted"))
	o.set("OldPnPDeviceState", nenum("_NDIS_PNP_DEVICE_STATE", "NdisPnPDeviceAdded"))
	o.set("CurrentDevicePowerState", nenum("_DEVICE_POWER_STATE", "PowerDeviceD0"))
	o.set("DriverPowerState", nenum("_DEVICE_POWER_STATE", "PowerDeviceD0"))
	o.set("DatapathState", nenum("_NDIS_DATAPATH_STATE", "NdisDatapath_Normal"))
	o.set("DatapathNblStatus", nenum("_NDIS_STATUS_CODE", "NDIS_STATUS_SUCCESS"))
	o.set("ResetStatus", nenum("_NDIS_STATUS_CODE", "NDIS_STATUS_SUCCESS"))
	if m.connected {
		o.set("MediaSenseConnectCount", 1)
	}

	refs, users := uint64(6+g.next()%20), uint64(0)
	if m.kind == kindHardware {
		refs, users = uint64(24+g.next()%16), 2
		o.set("CheckForHangSeconds", 2)
		o.set("CFHangTicks", 1)
	}
	if stuck {
		refs = 173
		o.set("DatapathState", nenum("_NDIS_DATAPATH_STATE", "NdisDatapath_DIVERTED_BECAUSE_MINIPORT_RESETTING"))
		o.set("DatapathNblStatus", nenum("_NDIS_STATUS_CODE", "NDIS_STATUS_RESET_IN_PROGRESS"))
		o.set("ResetStatus", nenum("_NDIS_STATUS_CODE", "NDIS_STATUS_PENDING"))
		o.set("InternalResetCount", 1)
		o.set("MiniportResetCount", 0)
		o.set("PendingOidRequest", StuckOidRequest)
		// OidRequestList: set by stuckRequests.
	} else {
		o.emptyList("OidRequestList")
	}
	o.set("Ref.ReferenceCount", refs)
	o.set("UserModeOpenReferences", users)

	o.set("DriverHandle", d.Addr)
	o.set("DeviceObject", m.devobj)
	pdo := 0xffffe0004e700000 + uint64(g.next()&0xfff)<<4 // the bus driver's PDO (not written)
	o.set("PhysicalDeviceObject", pdo)
	o.set("NextDeviceObject", pdo)
	o.set("NextGlobalMiniport", next)
	o.set("InstanceNumber", uint64(adapterNumber(m.Name)))
	o.bytes("InterfaceGuid", guidBytes(m.guid))
	o.set("NetLuid.Value", m.luid)
	o.set("IfBlockAvailable", 1)
	o.set("IfBlock", m.ifBlock)
	o.set("IfIndex", m.ifIndex)
	o.set("MacAddressLength", uint64(len(m.mac)))
	o.bytes("PermanentAddress", m.mac)
	o.bytes("CurrentAddress", m.mac)

	// Names, in the pool block after the miniport block.
	end := m.Miniport + nsize("_NDIS_MINIPORT_BLOCK")
	inst := p.near(end, sizeOf("_UNICODE_STRING"))
	p.ustr(inst, m.Name, end)
	o.set("pAdapterInstanceName", inst)
	p.ustr(o.at("BaseName"), m.guid, end)
	p.ustr(o.at("MiniportName"), `\DEVICE\`+m.guid, end)
	p.ustr(o.at("DeviceInstanceId"), deviceInstance(m, int(m.ifIndex)), end)

	// Its DEVICE_OBJECT, whose extension the block is.
	dv := nobj{k.ks, "_DEVICE_OBJECT", m.devobj}
	dv.set("Type", 3) // IO_TYPE_DEVICE
	dv.set("Size", nsize("_DEVICE_OBJECT")+nsize("_NDIS_MINIPORT_BLOCK"))
	dv.set("ReferenceCount", users)
	dv.set("DriverObject", d.drvobj)
	for j, dm := range d.miniports {
		if dm == m && j+1 < len(d.miniports) {
			dv.set("NextDevice", d.miniports[j+1].devobj)
		}
	}
	dv.set("Flags", 0x2000)          // DO_POWER_PAGABLE
	dv.set("Characteristics", 0x100) // FILE_DEVICE_SECURE_OPEN
	dv.set("DeviceExtension", m.Miniport)
	dv.set("DeviceType", 0x17) // FILE_DEVICE_PHYSICAL_NETCARD
	dv.set("StackSize", 2)
}

// stuckRequests writes FooBar Network Adapter #2's OID requests, in the
// page of the pending one: the pending clone of OID_RECEIVE_FILTER_SET_FILTER
// with its payload, the vswitch's request it was cloned from, and thread
// 43d8's OID_GEN_STATISTICS query queued behind it.
func (k *KernelScenario) stuckRequests(p *ndisPool) {
	const res = "_NDIS_OID_REQUEST_RESERVED"
	size := nsize("_NDIS_OID_REQUEST")
	orig := p.near(StuckOidRequest, size)
	payload := p.near(StuckOidRequest, 0x60)
	queued := p.near(StuckOidRequest, size)
	stats := p.near(StuckOidRequest, 0xe0) // NDIS_STATISTICS_INFO, not yet filled
	oid := nenum("_NDIS_OID_CODE", "OID_RECEIVE_FILTER_SET_FILTER")
	method := nenum("_NDIS_REQUEST_TYPE", "NdisRequestMethod")
	pending := nenum("_NDIS_STATUS_CODE", "NDIS_STATUS_PENDING")
	startCycle := uint64(0x00002a41_7c3e9b10)
	for _, a := range []uint64{StuckOidRequest, orig} {
		o := nobj{k.ks, "_NDIS_OID_REQUEST", a}
		o.header("NDIS_OBJECT_TYPE_OID_REQUEST", 1, size)
		o.set("RequestType", method)
		o.set("Timeout", ndisRequestTimeout)
		o.set("RequestId", 0x3f)
		o.set("DATA.METHOD_INFORMATION.Oid", oid)
		o.set("DATA.METHOD_INFORMATION.InformationBuffer", payload)
		o.set("DATA.METHOD_INFORMATION.InputBufferLength", 0x60)
		o.set("DATA.METHOD_INFORMATION.OutputBufferLength", 0x60)
		o.set("SupportedRevision", 1)
		r := nobj{k.ks, res, o.at("NdisReserved")}
		r.set("Status", pending)
		r.set("StartCycle", startCycle)
		if a == StuckOidRequest {
			r.set("Flags.Cloned", 1)
			r.set("Flags.SentToMiniport", 1)
			r.set("OidRequest", orig)
		} else {
			r.set("Flags.FromProtocol", 1)
			r.set("Flags.SentToFilter", 1)
			startCycle -= 0x1d_4c0d_2e00
			r.set("StartCycle", startCycle)
		}
	}
	// The payload: NDIS_RECEIVE_FILTER_PARAMETERS (revision 1) and one
	// NDIS_RECEIVE_FILTER_FIELD_PARAMETERS: a VM queue's filter on a
	// destination MAC address.
	le := func(a uint64, v uint32) { k.ks.U32(a, v) }
	le(payload+0x00, 0x00240180) // Header: NDIS_OBJECT_TYPE_DEFAULT, revision 1, 0x24 bytes
	le(payload+0x08, 1)          // FilterType NdisReceiveFilterTypeVMQueue
	le(payload+0x0c, 3)          // QueueId
	le(payload+0x14, 0x28)       // FieldParametersArrayOffset
	le(payload+0x18, 1)          // FieldParametersArrayNumElements
	le(payload+0x1c, 0x38)       // FieldParametersArrayElementSize
	fp := payload + 0x28
	le(fp+0x00, 0x00380180)                                         // Header
	le(fp+0x08, 1)                                                  // FrameHeader NdisFrameHeaderMac
	le(fp+0x0c, 1)                                                  // ReceiveFilterTest NdisReceiveFilterTestEqual
	le(fp+0x10, 1)                                                  // MacHeaderField NdisMacHeaderFieldDestinationAddress
	k.ks.Write(fp+0x18, []byte{0x00, 0x15, 0x5d, 0x2a, 0x71, 0x04}) // FieldValue
	k.ks.Write(fp+0x28, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // ResultValue: the mask

	// 43d8's query, queued on OidRequestList behind the pending request
	// (none when no thread is in NDIS: the deadlock variant).
	owner := k.ownerThreadObject()
	if owner == nil {
		k.linkList(nobj{k.ks, "_NDIS_MINIPORT_BLOCK", StuckMiniport}.at("OidRequestList"), nil)
		return
	}
	q := nobj{k.ks, "_NDIS_OID_REQUEST", queued}
	q.header("NDIS_OBJECT_TYPE_OID_REQUEST", 1, size)
	q.set("RequestType", nenum("_NDIS_REQUEST_TYPE", "NdisRequestQueryInformation"))
	q.set("DATA.QUERY_INFORMATION.Oid", nenum("_NDIS_OID_CODE", "OID_GEN_STATISTICS"))
	q.set("DATA.QUERY_INFORMATION.InformationBuffer", stats)
	q.set("DATA.QUERY_INFORMATION.InformationBufferLength", 0xe0)
	q.set("SupportedRevision", 1)
	r := nobj{k.ks, res, q.at("NdisReserved")}
	r.set("Flags.SignalEvent", 1)
	r.set("RequestorEvent", OwnerEvent)
	r.set("RequestorThread", owner.EThread)
	head := nobj{k.ks, "_NDIS_MINIPORT_BLOCK", StuckMiniport}.at("OidRequestList")
	k.linkList(head, []uint64{r.at("Entry")})
}

// fooWorkItem is the IO_WORKITEM System thread 1114 runs (its
// IopProcessWorkItem frame's rbx).
func (k *KernelScenario) fooWorkItem() uint64 {
	for _, pr := range k.Procs {
		for _, t := range pr.Threads {
			if t.TID != FooTID {
				continue
			}
			for _, c := range t.chain {
				if c.Fn == "IopProcessWorkItem" {
					return c.Set[RBX]
				}
			}
		}
	}
	panic("thread 1114 has no IopProcessWorkItem frame")
}

// NdisMiniportNames is ndisMiniportList's names in order (for tests).
func NdisMiniportNames() []string {
	var out []string
	for _, m := range NdisSeedMiniports {
		out = append(out, m.Name)
	}
	return out
}

// ---- protocols, bindings, filters, interfaces and pending NBLs ----

// The new NDIS objects at fixed addresses (their pages nothing else writes).
const (
	NdisProtocolTCPIP   = 0xffffe0004e8a3010 // TCPIP's NDIS_PROTOCOL_BLOCK (TCPIP6's and NDISUIO's in its page)
	NdisFilterDriverQoS = 0xffffe0004e8b5010 // Psched's NDIS_FILTER_DRIVER_BLOCK (the others in its page)
	tcpipBase           = 0xfffff80001a1c000 // where the protocol handlers point (tcpip.sys, not in the dump)
	StuckNblDataLength  = 0x5ea              // each pending NBL's one NET_BUFFER
	StuckPendingNbls    = 3
)

// ndisProtocolSpec is one registered protocol.
type ndisProtocolSpec struct {
	Name             string
	FrameType        uint64 // of its opens (0: no opens)
	NdisMajor, Minor uint8
	handlers         uint64 // tcpip-like base of its handlers
}

// NdisProtocols are ndisProtocolList's protocols, in its order.
var NdisProtocols = []ndisProtocolSpec{
	{"TCPIP", 0x0800, 6, 40, tcpipBase},
	{"TCPIP6", 0x86dd, 6, 40, tcpipBase + 0x400},
	{"NDISUIO", 0, 6, 0, 0xfffff80002a31000},
}

// ndisFilterDriverSpec is one registered filter driver.
type ndisFilterDriverSpec struct {
	Friendly, Unique, Service string
}

// NdisFilterDrivers are ndisFilterDriverList's drivers, in its order. The
// FooBar adapters have a WFP (lowest) and a QoS module each.
var NdisFilterDrivers = []ndisFilterDriverSpec{
	{"QoS Packet Scheduler", "{B5F4D659-7DAA-4565-8E41-BE220ED60542}", "Psched"},
	{"WFP Native MAC Layer LightWeight Filter", "{B70D6460-3635-4D42-B866-B8AB1A24454C}", "WfpLwfs"},
	{"Microsoft NDIS Capture", "{5CBF81BD-5055-47CD-9055-A76B2B4E3697}", "NdisCap"},
}

// boundByTCPIP is whether TCPIP and TCPIP6 bind the miniport: the six FooBar
// adapters and the Hyper-V Virtual Ethernet Adapters.
func boundByTCPIP(m *ndisMiniport) bool {
	return m.kind == kindHardware || strings.Contains(m.Name, "Virtual Ethernet Adapter")
}

// ifAlias is the interface's alias as Windows names it.
func ifAlias(m *ndisMiniport) string {
	switch {
	case m.kind == kindHardware:
		if n := adapterNumber(m.Name); n > 1 {
			return fmt.Sprintf("Ethernet %d", n)
		}
		return "Ethernet"
	case strings.Contains(m.Name, "Virtual Ethernet Adapter"):
		return fmt.Sprintf("vEthernet (External %d)", adapterNumber(m.Name))
	}
	return fmt.Sprintf("Local Area Connection* %d", m.ifIndex)
}

func (k *KernelScenario) writeNdisBindings(p *ndisPool, mps []*ndisMiniport) {
	const mb = "_NDIS_MINIPORT_BLOCK"
	g := lcg(0x4e42) // "NB"
	objType := func(n string) string { return "NDIS_OBJECT_TYPE_" + n }

	// The protocols, in TCPIP's page.
	p.fix(NdisProtocolTCPIP, nsize("_NDIS_PROTOCOL_BLOCK"))
	protos := []uint64{NdisProtocolTCPIP}
	for range NdisProtocols[1:] {
		protos = append(protos, p.near(NdisProtocolTCPIP, nsize("_NDIS_PROTOCOL_BLOCK")))
	}
	lastOpen := make([]uint64, len(protos)) // the protocol's last open, by ProtocolNextOpen
	opens := map[uint64]uint64{}            // miniport -> its TCPIP open
	for i, ps := range NdisProtocols {
		o := nobj{k.ks, "_NDIS_PROTOCOL_BLOCK", protos[i]}
		o.header(objType("PROTOCOL_BLOCK"), 1, nsize("_NDIS_PROTOCOL_BLOCK"))
		if i+1 < len(protos) {
			o.set("NextProtocol", protos[i+1])
		}
		o.set("MajorNdisVersion", uint64(ps.NdisMajor))
		o.set("MinorNdisVersion", uint64(ps.Minor))
		o.set("MajorDriverVersion", 6)
		o.set("MinorDriverVersion", 3)
		p.ustr(o.at("Name"), ps.Name, NdisProtocolTCPIP)
		o.set("ProtocolDriverContext", 0xffffe0004e600000+uint64(i)*0x1c0)
		o.set("Ref.ReferenceCount", 1)
		for j, h := range ndisProtocolHandlerNames {
			o.set(h, ps.handlers+0x1a0+uint64(j)*0x90)
		}
		if ps.Name == "NDISUIO" {
			o.set("DirectOidRequestCompleteHandler", 0)
		}
	}

	// The opens: TCPIP's, then TCPIP6's, on each bound miniport's OpenQueue.
	for _, m := range mps {
		if !boundByTCPIP(m) {
			continue
		}
		mo := nobj{k.ks, mb, m.Miniport}
		var prev nobj
		n := uint64(0)
		for i, ps := range NdisProtocols {
			if ps.FrameType == 0 {
				continue
			}
			a := p.near(m.Miniport+nsize(mb), nsize("_NDIS_OPEN_BLOCK"))
			o := nobj{k.ks, "_NDIS_OPEN_BLOCK", a}
			o.header(objType("OPEN_BLOCK"), 1, nsize("_NDIS_OPEN_BLOCK"))
			o.set("MiniportHandle", m.Miniport)
			o.set("ProtocolHandle", protos[i])
			o.set("ProtocolBindingContext", 0xffffe00051c00000+uint64(g.next()&0xffff)<<4)
			o.set("MiniportAdapterContext", m.context)
			o.set("References", 1+uint64(g.next()%4))
			o.set("PacketFilter", 0x0b) // DIRECTED | MULTICAST | BROADCAST
			o.set("FrameType", ps.FrameType)
			if prev.sp == nil {
				mo.set("OpenQueue", a)
			} else {
				prev.set("MiniportNextOpen", a)
			}
			prev = o
			if lastOpen[i] == 0 {
				nobj{k.ks, "_NDIS_PROTOCOL_BLOCK", protos[i]}.set("OpenQueue", a)
			} else {
				nobj{k.ks, "_NDIS_OPEN_BLOCK", lastOpen[i]}.set("ProtocolNextOpen", a)
			}
			lastOpen[i] = a
			if ps.Name == "TCPIP" {
				opens[m.Miniport] = a
			}
			n++
		}
	}

	// The filter drivers, in Psched's page, each with its DRIVER_OBJECT.
	p.fix(NdisFilterDriverQoS, nsize("_NDIS_FILTER_DRIVER_BLOCK"))
	fdrv := []uint64{NdisFilterDriverQoS}
	for range NdisFilterDrivers[1:] {
		fdrv = append(fdrv, p.near(NdisFilterDriverQoS, nsize("_NDIS_FILTER_DRIVER_BLOCK")))
	}
	for i, fs := range NdisFilterDrivers {
		o := nobj{k.ks, "_NDIS_FILTER_DRIVER_BLOCK", fdrv[i]}
		o.header(objType("FILTER_DRIVER_BLOCK"), 1, nsize("_NDIS_FILTER_DRIVER_BLOCK"))
		if i+1 < len(fdrv) {
			o.set("NextFilterDriver", fdrv[i+1])
		}
		p.ustr(o.at("FriendlyName"), fs.Friendly, NdisFilterDriverQoS)
		p.ustr(o.at("UniqueName"), fs.Unique, NdisFilterDriverQoS)
		p.ustr(o.at("ServiceName"), fs.Service, NdisFilterDriverQoS)
		o.set("MajorNdisVersion", 6)
		o.set("MinorNdisVersion", 40)
		o.set("FilterDriverContext", 0xffffe0004e640000+uint64(i)*0x200)
		do := p.near(NdisFilterDriverQoS, nsize("_DRIVER_OBJECT"))
		d := nobj{k.ks, "_DRIVER_OBJECT", do}
		d.set("Type", 4) // IO_TYPE_DRIVER
		d.set("Size", nsize("_DRIVER_OBJECT"))
		d.set("Flags", 0x12)
		p.ustr(d.at("DriverName"), `\Driver\`+fs.Service, NdisFilterDriverQoS)
		o.set("DriverObject", do)
		o.set("Ref.ReferenceCount", 1)
	}

	// The filter modules on the FooBar adapters: WFP lowest, QoS above it.
	var lastModule = make([]uint64, len(fdrv))
	var lastGlobal uint64
	stack := []int{1, 0} // NdisFilterDrivers indexes, bottom up
	for _, m := range mps {
		if m.kind != kindHardware {
			continue
		}
		var lower uint64
		for _, fi := range stack {
			fs := NdisFilterDrivers[fi]
			a := p.near(m.Miniport+nsize(mb), nsize("_NDIS_FILTER_BLOCK"))
			o := nobj{k.ks, "_NDIS_FILTER_BLOCK", a}
			o.header(objType("FILTER_BLOCK"), 1, nsize("_NDIS_FILTER_BLOCK"))
			o.set("Miniport", m.Miniport)
			o.set("FilterDriver", fdrv[fi])
			o.set("FilterModuleContext", 0xffffe00051e00000+uint64(g.next()&0xffff)<<4)
			p.ustr(o.at("FilterInstanceName"), m.Name+"-"+fs.Friendly+"-0000", m.Miniport+nsize(mb))
			o.set("State", nenum("_NDIS_FILTER_STATE", "NdisFilterRunning"))
			o.set("Ref.ReferenceCount", 2)
			if lower == 0 {
				nobj{k.ks, mb, m.Miniport}.set("FilterChain", a)
			} else {
				o.set("LowerFilter", lower)
				nobj{k.ks, "_NDIS_FILTER_BLOCK", lower}.set("HigherFilter", a)
			}
			lower = a
			if lastModule[fi] == 0 {
				nobj{k.ks, "_NDIS_FILTER_DRIVER_BLOCK", fdrv[fi]}.set("FilterModuleQueue", a)
			} else {
				nobj{k.ks, "_NDIS_FILTER_BLOCK", lastModule[fi]}.set("NextFilterModule", a)
			}
			lastModule[fi] = a
			if lastGlobal != 0 {
				nobj{k.ks, "_NDIS_FILTER_BLOCK", lastGlobal}.set("NextGlobalFilter", a)
			}
			lastGlobal = a
		}
	}

	// The interfaces, one per miniport, on ndisIfList in ndisMiniportList's
	// order: FooBar Network Adapter #2's at the seed's address, the others
	// in their miniports' pool pages.
	for _, m := range mps {
		if m.Miniport == StuckMiniport {
			p.fix(m.ifBlock, nsize("_NDIS_IF_BLOCK"))
		} else {
			m.ifBlock = p.near(m.Miniport+nsize(mb), nsize("_NDIS_IF_BLOCK"))
		}
		nobj{k.ks, mb, m.Miniport}.set("IfBlock", m.ifBlock)
	}
	for i, m := range mps {
		o := nobj{k.ks, "_NDIS_IF_BLOCK", m.ifBlock}
		o.header(objType("IF_BLOCK"), 1, nsize("_NDIS_IF_BLOCK"))
		if i+1 < len(mps) {
			o.set("NextIf", mps[i+1].ifBlock)
		}
		o.set("ifIndex", m.ifIndex)
		o.set("ifType", m.ifType)
		p.ustr(o.at("ifAlias"), ifAlias(m), m.ifBlock)
		p.ustr(o.at("ifDescr"), m.Name, m.ifBlock)
		mo := nobj{k.ks, mb, m.Miniport}
		o.set("ifOperStatus", leUint(k.ks.Read(mo.at("OperStatus"), 4)))
		o.set("ifAdminStatus", leUint(k.ks.Read(mo.at("AdminStatus"), 4)))
		o.set("NetLuid", m.luid)
		o.set("MiniportBlock", m.Miniport)
	}

	// FooBar Network Adapter #2's pending NBLs: TCPIP's sends, diverted by
	// the reset, in the page of its pending OID request.
	var prev uint64
	for i := 0; i < StuckPendingNbls; i++ {
		a := p.near(StuckOidRequest, nsize("_NET_BUFFER_LIST"))
		nb := p.near(StuckOidRequest, nsize("_NET_BUFFER"))
		l := nobj{k.ks, "_NET_BUFFER_LIST", a}
		l.set("FirstNetBuffer", nb)
		l.set("NdisPoolHandle", 0xffffe0004e9f2c40)
		l.set("SourceHandle", opens[StuckMiniport])
		l.set("Status", nenum("_NDIS_STATUS_CODE", "NDIS_STATUS_RESET_IN_PROGRESS"))
		b := nobj{k.ks, "_NET_BUFFER", nb}
		b.set("DataLength", StuckNblDataLength)
		b.set("NdisPoolHandle", 0xffffe0004e9f2c40)
		if prev == 0 {
			nobj{k.ks, mb, StuckMiniport}.set("PendingNbls", a)
		} else {
			nobj{k.ks, "_NET_BUFFER_LIST", prev}.set("Next", a)
		}
		prev = a
	}

	ndis := k.Images["ndis.sys"]
	k.ks.U64(ndis.Sym("ndisProtocolList"), protos[0])
	k.ks.U64(ndis.Sym("ndisFilterDriverList"), fdrv[0])
	k.ks.U64(ndis.Sym("ndisIfList"), mps[0].ifBlock)
}
