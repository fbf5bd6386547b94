package hyperv

import (
	"strings"
	"testing"
)

// TestKernelNdisBindings walks ndisProtocolList, ndisFilterDriverList,
// ndisIfList and FooBar Network Adapter #2's pending NBLs in the committed
// dump, every field by ndis.pdb's names, as !ndiskd reads them.
func TestKernelNdisBindings(t *testing.T) {
	_, tt := ndisPDB(t)
	r := ndisReader{t, openRawKernel(t), tt}
	ndis, err := LoadImage("NDIS.SYS", "")
	if err != nil {
		t.Fatal(err)
	}
	const (
		mb = "_NDIS_MINIPORT_BLOCK"
		pb = "_NDIS_PROTOCOL_BLOCK"
		ob = "_NDIS_OPEN_BLOCK"
		fd = "_NDIS_FILTER_DRIVER_BLOCK"
		fb = "_NDIS_FILTER_BLOCK"
		ib = "_NDIS_IF_BLOCK"
	)
	walk := func(what string, head uint64, next func(uint64) uint64) []uint64 {
		t.Helper()
		var out []uint64
		seen := map[uint64]bool{}
		for a := head; a != 0; a = next(a) {
			if seen[a] || len(out) > 256 {
				t.Fatalf("%s loops at %#x", what, a)
			}
			seen[a] = true
			out = append(out, a)
		}
		return out
	}
	names := map[uint64]string{}
	bound := map[uint64]bool{}
	for _, m := range NdisSeedMiniports {
		names[m.Miniport] = m.Name
		bound[m.Miniport] = strings.HasPrefix(m.Name, "FooBar") || strings.Contains(m.Name, "Virtual Ethernet Adapter")
	}

	// Protocols and their opens, from both ends.
	protos := walk("ndisProtocolList", r.k.u64(t, ndis.Sym("ndisProtocolList")),
		func(a uint64) uint64 { return r.get(a, pb, "NextProtocol") })
	var pnames []string
	protoOf := map[uint64]string{}
	tcpipOn := map[uint64]uint64{} // miniport -> TCPIP's open
	for _, p := range protos {
		if ty := r.name("_NDIS_OBJECT_TYPE", r.get(p, pb, "Header.Type")); ty != "NDIS_OBJECT_TYPE_PROTOCOL_BLOCK" {
			t.Errorf("protocol %#x: Header.Type %s", p, ty)
		}
		name := r.ustr(p + r.field(pb, "Name").Offset)
		pnames = append(pnames, name)
		protoOf[p] = name
		if name != "NDISUIO" && r.get(p, pb, "ReceiveNetBufferListsHandler") == 0 {
			t.Errorf("%s has no ReceiveNetBufferListsHandler", name)
		}
		opens := walk(name+"'s OpenQueue", r.get(p, pb, "OpenQueue"),
			func(a uint64) uint64 { return r.get(a, ob, "ProtocolNextOpen") })
		want := map[string]uint64{"TCPIP": 0x0800, "TCPIP6": 0x86dd}[name]
		n := 0
		for _, o := range opens {
			if r.get(o, ob, "ProtocolHandle") != p {
				t.Errorf("%s's open %#x: ProtocolHandle %#x", name, o, r.get(o, ob, "ProtocolHandle"))
			}
			if ft := r.get(o, ob, "FrameType"); ft != want {
				t.Errorf("%s's open %#x: FrameType %#x", name, o, ft)
			}
			m := r.get(o, ob, "MiniportHandle")
			if !bound[m] {
				t.Errorf("%s's open %#x is on %#x (%s)", name, o, m, names[m])
			}
			if name == "TCPIP" {
				tcpipOn[m] = o
			}
			n++
		}
		if want != 0 && n != 8 {
			t.Errorf("%s has %d opens, want 8 (six FooBar, two Hyper-V Virtual Ethernet)", name, n)
		}
	}
	if got := strings.Join(pnames, " "); got != "TCPIP TCPIP6 NDISUIO" {
		t.Errorf("ndisProtocolList: %s", got)
	}
	if protos[0] != NdisProtocolTCPIP {
		t.Errorf("TCPIP's block %#x", protos[0])
	}
	for _, w := range NdisSeedMiniports {
		opens := walk(w.Name+"'s OpenQueue", r.get(w.Miniport, mb, "OpenQueue"),
			func(a uint64) uint64 { return r.get(a, ob, "MiniportNextOpen") })
		var got []string
		for _, o := range opens {
			if r.get(o, ob, "MiniportHandle") != w.Miniport {
				t.Errorf("%s's open %#x is another miniport's", w.Name, o)
			}
			got = append(got, protoOf[r.get(o, ob, "ProtocolHandle")])
		}
		want := ""
		if bound[w.Miniport] {
			want = "TCPIP TCPIP6"
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s's opens: %q, want %q", w.Name, got, want)
		}
	}

	// Filter drivers, their modules, and each FooBar adapter's stack.
	fdrvs := walk("ndisFilterDriverList", r.k.u64(t, ndis.Sym("ndisFilterDriverList")),
		func(a uint64) uint64 { return r.get(a, fd, "NextFilterDriver") })
	var services []string
	modules := 0
	for _, d := range fdrvs {
		svc := r.ustr(d + r.field(fd, "ServiceName").Offset)
		services = append(services, svc)
		friendly := r.ustr(d + r.field(fd, "FriendlyName").Offset)
		if u := r.ustr(d + r.field(fd, "UniqueName").Offset); len(u) != 38 || u[0] != '{' {
			t.Errorf("%s's UniqueName %q", svc, u)
		}
		for _, f := range walk(svc+"'s modules", r.get(d, fd, "FilterModuleQueue"),
			func(a uint64) uint64 { return r.get(a, fb, "NextFilterModule") }) {
			modules++
			m := r.get(f, fb, "Miniport")
			if r.get(f, fb, "FilterDriver") != d {
				t.Errorf("module %#x: FilterDriver is not %s", f, svc)
			}
			if in := r.ustr(f + r.field(fb, "FilterInstanceName").Offset); in != names[m]+"-"+friendly+"-0000" {
				t.Errorf("module %#x: FilterInstanceName %q", f, in)
			}
			if s := r.name("_NDIS_FILTER_STATE", r.get(f, fb, "State")); s != "NdisFilterRunning" {
				t.Errorf("module %#x: %s", f, s)
			}
		}
	}
	if got := strings.Join(services, " "); got != "Psched WfpLwfs NdisCap" {
		t.Errorf("ndisFilterDriverList: %s", got)
	}
	if modules != 12 {
		t.Errorf("%d filter modules, want 12", modules)
	}
	var stuckFilter uint64
	for _, w := range NdisSeedMiniports {
		var stack []string
		var lower uint64
		for f := r.get(w.Miniport, mb, "FilterChain"); f != 0; f = r.get(f, fb, "HigherFilter") {
			if len(stack) > 8 || r.get(f, fb, "LowerFilter") != lower || r.get(f, fb, "Miniport") != w.Miniport {
				t.Fatalf("%s's filter stack is broken at %#x", w.Name, f)
			}
			d := r.get(f, fb, "FilterDriver")
			stack = append(stack, r.ustr(d+r.field(fd, "ServiceName").Offset))
			lower = f
			if w.Miniport == StuckMiniport && stuckFilter == 0 {
				stuckFilter = f
			}
		}
		want := ""
		if strings.HasPrefix(w.Name, "FooBar") {
			want = "WfpLwfs Psched"
		}
		if strings.Join(stack, " ") != want {
			t.Errorf("%s's filters bottom up: %q, want %q", w.Name, stack, want)
		}
	}

	// Interfaces: one per miniport, each its miniport's IfBlock.
	ifs := walk("ndisIfList", r.k.u64(t, ndis.Sym("ndisIfList")),
		func(a uint64) uint64 { return r.get(a, ib, "NextIf") })
	if len(ifs) != len(NdisSeedMiniports) {
		t.Errorf("ndisIfList has %d interfaces, want %d", len(ifs), len(NdisSeedMiniports))
	}
	for _, i := range ifs {
		m := r.get(i, ib, "MiniportBlock")
		if r.get(m, mb, "IfBlock") != i || r.get(i, ib, "ifIndex") != r.get(m, mb, "IfIndex") ||
			r.get(i, ib, "NetLuid") != r.get(m, mb, "NetLuid.Value") {
			t.Errorf("interface %#x does not match its miniport %#x", i, m)
		}
		if d := r.ustr(i + r.field(ib, "ifDescr").Offset); d != names[m] {
			t.Errorf("interface %#x: ifDescr %q, its miniport %q", i, d, names[m])
		}
		if m == StuckMiniport {
			if i != StuckIfBlock || r.ustr(i+r.field(ib, "ifAlias").Offset) != "Ethernet 2" ||
				r.get(i, ib, "ifType") != 6 ||
				r.name("_NET_IF_OPER_STATUS", r.get(i, ib, "ifOperStatus")) != "NET_IF_OPER_STATUS_UP" {
				t.Errorf("FooBar Network Adapter #2's interface %#x is wrong", i)
			}
		}
	}

	// FooBar Network Adapter #2's pending NBLs.
	nbls := walk("PendingNbls", r.get(StuckMiniport, mb, "PendingNbls"),
		func(a uint64) uint64 { return r.get(a, "_NET_BUFFER_LIST", "Next") })
	if len(nbls) != StuckPendingNbls {
		t.Errorf("%d pending NBLs, want %d", len(nbls), StuckPendingNbls)
	}
	for _, l := range nbls {
		if s := r.name("_NDIS_STATUS_CODE", r.get(l, "_NET_BUFFER_LIST", "Status")); s != "NDIS_STATUS_RESET_IN_PROGRESS" {
			t.Errorf("NBL %#x: Status %s", l, s)
		}
		if src := r.get(l, "_NET_BUFFER_LIST", "SourceHandle"); src != tcpipOn[StuckMiniport] || src == 0 {
			t.Errorf("NBL %#x: SourceHandle %#x, not TCPIP's open on the adapter", l, src)
		}
		nb := r.get(l, "_NET_BUFFER_LIST", "FirstNetBuffer")
		if n := r.get(nb, "_NET_BUFFER", "DataLength"); n != StuckNblDataLength || r.get(nb, "_NET_BUFFER", "Next") != 0 {
			t.Errorf("NBL %#x: NET_BUFFER %#x DataLength %#x", l, nb, n)
		}
	}
	for _, w := range NdisSeedMiniports {
		if w.Miniport != StuckMiniport && r.get(w.Miniport, mb, "PendingNbls") != 0 {
			t.Errorf("%s has pending NBLs", w.Name)
		}
	}
	t.Logf("TCPIP %x, its open on #2 %x, #2's filters %x (lowest), %x, first pending NBL %x",
		protos[0], tcpipOn[StuckMiniport], stuckFilter, r.get(stuckFilter, fb, "HigherFilter"), nbls[0])
}
