package ndiskd

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/engine/types"
)

// The protocol, binding, filter, NBL and interface commands. Each walks its
// list from an ndis global by field name; where ndis.pdb lacks a type or a
// field, the value prints as `?`.
func init() {
	extra = append(extra,
		&commands.Command{Name: "protocol", Syntax: "!ndiskd.protocol [Handle]", Summary: "list the protocol drivers and their bindings, or show one", Run: cmdProtocol},
		&commands.Command{Name: "protocols", Syntax: "!ndiskd.protocols", Summary: "the same as !ndiskd.protocol", Run: cmdProtocol},
		&commands.Command{Name: "mopen", Syntax: "!ndiskd.mopen [Handle]", Summary: "list the open bindings between miniports and protocols, or show one", Run: cmdMopen},
		&commands.Command{Name: "filterdriver", Syntax: "!ndiskd.filterdriver [Handle]", Summary: "list the light-weight filter drivers, or show one", Run: cmdFilterDriver},
		&commands.Command{Name: "filter", Syntax: "!ndiskd.filter [Handle]", Summary: "list the filter modules by filter driver, or show one", Run: cmdFilter},
		&commands.Command{Name: "filters", Syntax: "!ndiskd.filters", Summary: "the same as !ndiskd.filter", Run: cmdFilter},
		&commands.Command{Name: "nbl", Syntax: "!ndiskd.nbl Handle", Summary: "show a NET_BUFFER_LIST", Run: cmdNbl},
		&commands.Command{Name: "pendingnbls", Syntax: "!ndiskd.pendingnbls [Handle]", Summary: "list the NBLs held by miniports (or one miniport)", Run: cmdPendingNbls},
		&commands.Command{Name: "interfaces", Syntax: "!ndiskd.interfaces [Handle]", Summary: "list the NDIS network interfaces, or show one", Run: cmdInterfaces},
	)
}

// handleArg is the first hex argument (0 when none).
func handleArg(c *commands.Ctx, inv *commands.Invocation) (uint64, error) {
	for _, a := range strings.Fields(inv.Args) {
		if strings.HasPrefix(a, "-") {
			continue
		}
		return c.Eval(a)
	}
	return 0, nil
}

func (w walker) linkName(addr uint64, cmd, name string) {
	w.c.Link(h16(addr), cmd+" "+h16(addr))
	w.c.Printf(" - %s\n", name)
}

func cmdProtocol(c *commands.Ctx, inv *commands.Invocation) error {
	w := newWalker(c)
	h, err := handleArg(c, inv)
	if err != nil {
		return err
	}
	if h == 0 {
		head, err := w.global("ndisProtocolList")
		if err != nil {
			return err
		}
		list, werr := w.chain(head, "_NDIS_PROTOCOL_BLOCK", "NextProtocol")
		for i, p := range list {
			if i > 0 {
				c.Println()
			}
			v, _ := w.obj("_NDIS_PROTOCOL_BLOCK", p)
			w.linkName(p, "!ndiskd.protocol", ustr(v, "Name"))
			opens, _ := w.links(v, "OpenQueue", "_NDIS_OPEN_BLOCK", "ProtocolNextOpen")
			for _, o := range opens {
				ov, _ := w.obj("_NDIS_OPEN_BLOCK", o)
				m, _ := ptr(ov, "MiniportHandle")
				c.Printf("  ")
				w.linkName(o, "!ndiskd.mopen", w.adapterName(mvOf(w, m)))
			}
		}
		if werr != nil {
			c.Errorf("%v", werr)
		}
		return nil
	}
	v, err := w.obj("_NDIS_PROTOCOL_BLOCK", h)
	if err != nil {
		return err
	}
	c.Println("PROTOCOL")
	c.Printf("    %s\n", ustr(v, "Name"))
	row(c, "Ndis handle", h16(h))
	maj, _ := u(v, "MajorNdisVersion")
	minr, _ := u(v, "MinorNdisVersion")
	row(c, "Ndis API version", fmt.Sprintf("v%d.%d", maj, minr))
	if a, ok := ptr(v, "ProtocolDriverContext"); ok {
		row(c, "Driver context", h16(a))
	}
	dmaj, _ := u(v, "MajorDriverVersion")
	dmin, _ := u(v, "MinorDriverVersion")
	row(c, "Driver version", fmt.Sprintf("v%d.%d", dmaj, dmin))
	if n, ok := u(v, "Ref.ReferenceCount"); ok {
		row(c, "Reference count", fmt.Sprintf("%d", n))
	}
	c.Println()
	c.Println("BINDINGS")
	c.Printf("    %-19s%-20s%s\n", "Open", "Miniport", "Miniport Name")
	opens, _ := w.links(v, "OpenQueue", "_NDIS_OPEN_BLOCK", "ProtocolNextOpen")
	for _, o := range opens {
		ov, _ := w.obj("_NDIS_OPEN_BLOCK", o)
		m, _ := ptr(ov, "MiniportHandle")
		c.Printf("    ")
		c.Link(h16(o), "!ndiskd.mopen "+h16(o))
		c.Printf("   ")
		c.Link(h16(m), "!ndiskd.miniport "+h16(m))
		c.Printf("    %s\n", w.adapterName(mvOf(w, m)))
	}
	c.Println()
	c.Println("HANDLERS")
	c.Printf("    %-39s%-19s%s\n", "Protocol handler", "Function pointer", "Symbol (if available)")
	for _, n := range []string{"BindAdapterHandlerEx", "UnbindAdapterHandlerEx", "OpenAdapterCompleteHandlerEx", "CloseAdapterCompleteHandlerEx",
		"NetPnPEventHandler", "UninstallHandler", "SendNetBufferListsCompleteHandler", "ReceiveNetBufferListsHandler", "StatusHandlerEx",
		"OidRequestCompleteHandler", "DirectOidRequestCompleteHandler"} {
		handlerRow(c, v, n, n)
	}
	return nil
}

func handlerRow(c *commands.Ctx, v valueT, label, path string) {

	a, ok := ptr(v, path)
	switch {
	case !ok:
		c.Printf("    %-39s?\n", label)
	case a == 0:
		c.Printf("    %-39s[None]\n", label)
	default:
		c.Printf("    %-39s%s  %s\n", label, h16(a), ndisSym(c, a))
	}
}

// links follows a singly linked chain that starts at a pointer field.
func (w walker) links(v valueT, first, typ, next string) ([]uint64, error) {
	f, err := v.Field(first)
	if err != nil {
		return nil, fmt.Errorf("?%s", first)
	}
	return w.chain(f.Addr, typ, next)
}

func cmdMopen(c *commands.Ctx, inv *commands.Invocation) error {
	w := newWalker(c)
	h, err := handleArg(c, inv)
	if err != nil {
		return err
	}
	if h == 0 {
		head, err := w.global("ndisProtocolList")
		if err != nil {
			return err
		}
		protos, werr := w.chain(head, "_NDIS_PROTOCOL_BLOCK", "NextProtocol")
		first := true
		for _, p := range protos {
			pv, _ := w.obj("_NDIS_PROTOCOL_BLOCK", p)
			opens, _ := w.links(pv, "OpenQueue", "_NDIS_OPEN_BLOCK", "ProtocolNextOpen")
			for _, o := range opens {
				if !first {
					c.Println()
				}
				first = false
				ov, _ := w.obj("_NDIS_OPEN_BLOCK", o)
				m, _ := ptr(ov, "MiniportHandle")
				c.Printf("Open ")
				c.Link(h16(o), "!ndiskd.mopen "+h16(o))
				c.Println()
				c.Printf("  Miniport: ")
				w.linkName(m, "!ndiskd.miniport", w.adapterName(mvOf(w, m)))
				c.Printf("  Protocol: ")
				w.linkName(p, "!ndiskd.protocol", ustr(pv, "Name"))
			}
		}
		if werr != nil {
			c.Errorf("%v", werr)
		}
		return nil
	}
	v, err := w.obj("_NDIS_OPEN_BLOCK", h)
	if err != nil {
		return err
	}
	m, _ := ptr(v, "MiniportHandle")
	p, _ := ptr(v, "ProtocolHandle")
	pv, _ := w.obj("_NDIS_PROTOCOL_BLOCK", p)
	c.Println("OPEN")
	row(c, "Ndis handle", h16(h))
	if n, ok := u(v, "Flags"); ok {
		row(c, "Flags", fmt.Sprintf("0x%08x", n))
	}
	if n, ok := u(v, "References"); ok {
		row(c, "References", fmt.Sprintf("%d", n))
	}
	c.Printf("    %-19s", "Protocol")
	w.linkName(p, "!ndiskd.protocol", ustr(pv, "Name"))
	if a, ok := ptr(v, "ProtocolBindingContext"); ok {
		row(c, "Protocol context", h16(a))
	}
	c.Printf("    %-19s", "Miniport")
	w.linkName(m, "!ndiskd.miniport", w.adapterName(mvOf(w, m)))
	if a, ok := ptr(v, "MiniportAdapterContext"); ok {
		row(c, "Miniport context", h16(a))
	}
	c.Println()
	c.Println("RECEIVE PATH")
	if n, ok := u(v, "PacketFilter"); ok {
		row(c, "Packet filter", fmt.Sprintf("0x%x", n))
	}
	if n, ok := u(v, "FrameType"); ok {
		row(c, "Frame Type(s)", fmt.Sprintf("0x%04x", n))
	}
	return nil
}

func cmdFilterDriver(c *commands.Ctx, inv *commands.Invocation) error {
	w := newWalker(c)
	h, err := handleArg(c, inv)
	if err != nil {
		return err
	}
	if h == 0 {
		head, err := w.global("ndisFilterDriverList")
		if err != nil {
			return err
		}
		list, werr := w.chain(head, "_NDIS_FILTER_DRIVER_BLOCK", "NextFilterDriver")
		for _, d := range list {
			v, _ := w.obj("_NDIS_FILTER_DRIVER_BLOCK", d)
			c.Printf("    ")
			w.linkName(d, "!ndiskd.filterdriver", ustr(v, "FriendlyName"))
		}
		if werr != nil {
			c.Errorf("%v", werr)
		}
		return nil
	}
	v, err := w.obj("_NDIS_FILTER_DRIVER_BLOCK", h)
	if err != nil {
		return err
	}
	c.Println("FILTER DRIVER")
	c.Printf("    %s\n", ustr(v, "FriendlyName"))
	row(c, "Ndis handle", h16(h))
	if a, ok := ptr(v, "FilterDriverContext"); ok {
		row(c, "Driver context", h16(a))
	}
	maj, _ := u(v, "MajorNdisVersion")
	minr, _ := u(v, "MinorNdisVersion")
	row(c, "Ndis API version", fmt.Sprintf("v%d.%d", maj, minr))
	if a, ok := ptr(v, "DriverObject"); ok {
		row(c, "Driver object", h16(a))
	}
	row(c, "Service name", ustr(v, "ServiceName"))
	if n, ok := u(v, "Ref.ReferenceCount"); ok {
		row(c, "References", fmt.Sprintf("%d", n))
	}
	c.Println()
	c.Println("FILTER MODULES")
	mods, _ := w.links(v, "FilterModuleQueue", "_NDIS_FILTER_BLOCK", "NextFilterModule")
	if len(mods) == 0 {
		c.Println("    [No filter modules were found]")
	}
	for _, f := range mods {
		fv, _ := w.obj("_NDIS_FILTER_BLOCK", f)
		c.Printf("    ")
		w.linkName(f, "!ndiskd.filter", ustr(fv, "FilterInstanceName"))
	}
	return nil
}

func cmdFilter(c *commands.Ctx, inv *commands.Invocation) error {
	w := newWalker(c)
	h, err := handleArg(c, inv)
	if err != nil {
		return err
	}
	if h == 0 {
		head, err := w.global("ndisFilterDriverList")
		if err != nil {
			return err
		}
		list, werr := w.chain(head, "_NDIS_FILTER_DRIVER_BLOCK", "NextFilterDriver")
		for i, d := range list {
			if i > 0 {
				c.Println()
			}
			v, _ := w.obj("_NDIS_FILTER_DRIVER_BLOCK", d)
			w.linkName(d, "!ndiskd.filterdriver", ustr(v, "FriendlyName"))
			mods, _ := w.links(v, "FilterModuleQueue", "_NDIS_FILTER_BLOCK", "NextFilterModule")
			for _, f := range mods {
				fv, _ := w.obj("_NDIS_FILTER_BLOCK", f)
				m, _ := ptr(fv, "Miniport")
				c.Printf("  Filter ")
				c.Link(h16(f), "!ndiskd.filter "+h16(f))
				c.Printf(", Miniport ")
				w.linkName(m, "!ndiskd.miniport", w.adapterName(mvOf(w, m)))
			}
		}
		if werr != nil {
			c.Errorf("%v", werr)
		}
		return nil
	}
	v, err := w.obj("_NDIS_FILTER_BLOCK", h)
	if err != nil {
		return err
	}
	c.Println("FILTER")
	c.Printf("    %s\n", ustr(v, "FilterInstanceName"))
	row(c, "Ndis handle", h16(h))
	d, _ := ptr(v, "FilterDriver")
	dv, _ := w.obj("_NDIS_FILTER_DRIVER_BLOCK", d)
	c.Printf("    %-19s", "Filter driver")
	w.linkName(d, "!ndiskd.filterdriver", ustr(dv, "FriendlyName"))
	if a, ok := ptr(v, "FilterModuleContext"); ok {
		row(c, "Module context", h16(a))
	}
	m, _ := ptr(v, "Miniport")
	c.Printf("    %-19s", "Miniport")
	w.linkName(m, "!ndiskd.miniport", w.adapterName(mvOf(w, m)))
	name, _, _ := enumName(v, "State")
	row(c, "State", strings.TrimPrefix(name, "NdisFilter"))
	if n, ok := u(v, "Ref.ReferenceCount"); ok {
		row(c, "References", fmt.Sprintf("%d", n))
	}
	for _, l := range []struct{ label, path string }{{"Higher filter", "HigherFilter"}, {"Lower filter", "LowerFilter"}} {
		a, _ := ptr(v, l.path)
		if a == 0 {
			row(c, l.label, "[None]")
			continue
		}
		fv, _ := w.obj("_NDIS_FILTER_BLOCK", a)
		c.Printf("    %-19s", l.label)
		w.linkName(a, "!ndiskd.filter", ustr(fv, "FilterInstanceName"))
	}
	return nil
}

func cmdNbl(c *commands.Ctx, inv *commands.Invocation) error {
	w := newWalker(c)
	h, err := handleArg(c, inv)
	if err != nil {
		return err
	}
	if h == 0 {
		return fmt.Errorf("Usage: !ndiskd.nbl Handle")
	}
	v, err := w.obj("_NET_BUFFER_LIST", h)
	if err != nil {
		return err
	}
	next, _ := ptr(v, "Next")
	nextText := "NULL"
	if next != 0 {
		nextText = h16(next)
	}
	nb, _ := ptr(v, "FirstNetBuffer")
	src, _ := ptr(v, "SourceHandle")
	c.Printf("    %-19s%-20s%-19s%s\n", "NBL", h16(h), "Next NBL", nextText)
	c.Printf("    %-19s%-20s%-19s", "First NB", h16(nb), "Source")
	w.linkName(src, "!ndiskd.mopen", w.sourceName(src))
	if st, ok := u(v, "Status"); ok {
		row(c, "Status", w.enumValueName("_NDIS_STATUS_CODE", st))
	}
	if nb != 0 {
		if nv, err := w.obj("_NET_BUFFER", nb); err == nil {
			if n, ok := u(nv, "DataLength"); ok {
				row(c, "Length", fmt.Sprintf("0n%d", n))
			}
		}
	}
	return nil
}

// sourceName names an NBL's source: an open (its protocol and miniport)
// or a miniport.
func (w walker) sourceName(h uint64) string {
	if h == 0 {
		return "NULL"
	}
	ov, err := w.obj("_NDIS_OPEN_BLOCK", h)
	if err != nil {
		return "?"
	}
	p, ok1 := ptr(ov, "ProtocolHandle")
	m, ok2 := ptr(ov, "MiniportHandle")
	if !ok1 || !ok2 {
		return "?"
	}
	pv, _ := w.obj("_NDIS_PROTOCOL_BLOCK", p)
	return ustr(pv, "Name") + " bound to " + w.adapterName(mvOf(w, m))
}

func cmdPendingNbls(c *commands.Ctx, inv *commands.Invocation) error {
	w := newWalker(c)
	h, err := handleArg(c, inv)
	if err != nil {
		return err
	}
	head, err := w.global("ndisMiniportList")
	if err != nil {
		return err
	}
	list, werr := w.chain(head, "_NDIS_MINIPORT_BLOCK", "NextGlobalMiniport")
	c.Printf("    %-19s%s\n", "Pending Nbl", "Currently held by")
	total := 0
	for _, m := range list {
		if h != 0 && m != h {
			continue
		}
		v := mvOf(w, m)
		nbls, _ := w.links(v, "PendingNbls", "_NET_BUFFER_LIST", "Next")
		for _, n := range nbls {
			total++
			c.Printf("    ")
			c.Link(h16(n), "!ndiskd.nbl "+h16(n))
			c.Printf("   ")
			c.Link(h16(m), "!ndiskd.miniport "+h16(m))
			c.Printf(" - %s  [NetAdapter]\n", w.adapterName(v))
		}
	}
	c.Printf("Found %d pending NBL(s).\n", total)
	c.Println("Search complete.")
	if werr != nil {
		c.Errorf("%v", werr)
	}
	return nil
}

func cmdInterfaces(c *commands.Ctx, inv *commands.Invocation) error {
	w := newWalker(c)
	h, err := handleArg(c, inv)
	if err != nil {
		return err
	}
	if h == 0 {
		head, err := w.global("ndisIfList")
		if err != nil {
			return err
		}
		list, werr := w.chain(head, "_NDIS_IF_BLOCK", "NextIf")
		c.Println("    Interface")
		for _, i := range list {
			v, _ := w.obj("_NDIS_IF_BLOCK", i)
			c.Printf("    ")
			w.linkName(i, "!ndiskd.interfaces", ustr(v, "ifAlias"))
		}
		if werr != nil {
			c.Errorf("%v", werr)
		}
		return nil
	}
	v, err := w.obj("_NDIS_IF_BLOCK", h)
	if err != nil {
		return err
	}
	c.Println("INTERFACE")
	c.Printf("    %s\n", ustr(v, "ifAlias"))
	row(c, "Ndis handle", h16(h))
	c.Println()
	c.Println("IDENTIFIERS")
	row(c, "ifAlias", ustr(v, "ifAlias"))
	row(c, "ifDescr", ustr(v, "ifDescr"))
	if n, ok := u(v, "ifIndex"); ok {
		row(c, "ifIndex", fmt.Sprintf("0n%d", n))
	}
	if n, ok := u(v, "NetLuid"); ok {
		row(c, "ifName (NET_LUID)", fmt.Sprintf("%02x:%x", (n>>48)&0xffff, (n>>24)&0xffffff))
	}
	c.Println()
	c.Println("STATE")
	name, _, _ := enumName(v, "ifOperStatus")
	row(c, "ifOperStatus", strings.TrimPrefix(name, "NET_IF_OPER_STATUS_"))
	name, _, _ = enumName(v, "ifAdminStatus")
	row(c, "ifAdminStatus", strings.TrimPrefix(name, "NET_IF_ADMIN_STATUS_"))
	c.Println()
	c.Println("Refer to RFC 2863 for definitions of the interface MIB fields.")
	return nil
}

type valueT = types.Value
