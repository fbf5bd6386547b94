package ndiskd

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

func init() {
	extra = append(extra,
		&commands.Command{Name: "miniport", Aliases: nil, Syntax: "!ndiskd.miniport [Handle] [-basic]",
			Summary: "show a miniport (network adapter): its MINIPORT and STATE sections; with no handle, the list", Run: cmdMiniport},
		&commands.Command{Name: "netadapter", Syntax: "!ndiskd.netadapter [Handle] [-basic]",
			Summary: "the same as !ndiskd.miniport", Run: cmdMiniport},
		&commands.Command{Name: "oid", Syntax: "!ndiskd.oid [Handle]",
			Summary: "show an OID request, or every pending one", Run: cmdOid},
	)
}

// enumName is the enumerator of an enum-typed field's value, "?" when the
// field or its enum is missing.
func enumName(v types.Value, path string) (string, uint64, bool) {
	f, err := v.Field(path)
	if err != nil {
		return "?", 0, false
	}
	n, err := f.Uint()
	if err != nil {
		return "?", 0, false
	}
	for _, e := range f.Ref.Enumerators(f.Type) {
		if e.Value == n {
			return e.Name, n, true
		}
	}
	return fmt.Sprintf("%d", n), n, true
}

// enumValueName names a value by the enum type called typ.
func (w walker) enumValueName(typ string, n uint64) string {
	r, err := w.c.S.Symbols.FindType("ndis", typ)
	if err != nil {
		return fmt.Sprintf("0x%x", n)
	}
	for _, e := range r.Enumerators(r.Index()) {
		if e.Value == n&0xffffffff {
			return e.Name
		}
	}
	return fmt.Sprintf("0x%x", n)
}

// flagNames are the names of the bits set in n, in bit order, from the
// enum type typ (its enumerators are the bits), each without prefix.
func (w walker) flagNames(typ, prefix string, n uint64) []string {
	r, err := w.c.S.Symbols.FindType("ndis", typ)
	if err != nil {
		return []string{fmt.Sprintf("?0x%x", n)}
	}
	var out []string
	left := n
	for bit := uint64(1); bit != 0 && bit <= n; bit <<= 1 {
		if n&bit == 0 {
			continue
		}
		for _, e := range r.Enumerators(r.Index()) {
			if e.Value == bit {
				out = append(out, strings.TrimPrefix(e.Name, prefix))
				left &^= bit
			}
		}
	}
	if left != 0 {
		out = append(out, fmt.Sprintf("0x%x", left))
	}
	return out
}

// row prints `    Label              value`, the value at column 23.
func row(c *commands.Ctx, label, value string) { c.Printf("    %-19s%s\n", label, value) }

// wrapList prints a comma-separated list after a label, wrapping at 80
// columns with continuation lines aligned under the value.
func wrapList(c *commands.Ctx, label string, items []string) {
	if len(items) == 0 {
		row(c, label, "[No flags set]")
		return
	}
	line := fmt.Sprintf("    %-19s", label)
	width := len(line)
	start := width
	for i, it := range items {
		if i < len(items)-1 {
			it += ","
		}
		if width > start && width+1+len(it) > 80 {
			c.Println(line)
			line, width = strings.Repeat(" ", start), start
		}
		if width > start {
			line += " "
			width++
		}
		line += it
		width += len(it)
	}
	c.Println(line)
}

func title(s string) string {
	s = strings.ToLower(s)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// adapterName is a miniport's display name: the string pAdapterInstanceName
// points at (MiniportName is \DEVICE\{guid}).
func (w walker) adapterName(v types.Value) string {
	if v.Ref == nil {
		return "?"
	}
	p, ok := ptr(v, "pAdapterInstanceName")
	if !ok || p == 0 {
		return ustr(v, "MiniportName")
	}
	us, err := w.obj("_UNICODE_STRING", p)
	if err != nil {
		return "?"
	}
	s, err := us.UnicodeString()
	if err != nil {
		return "?"
	}
	return target.Sanitize(s)
}

func cmdMiniport(c *commands.Ctx, inv *commands.Invocation) error {
	var handle uint64
	basic := false
	view := ""
	for _, a := range strings.Fields(inv.Args) {
		switch strings.ToLower(a) {
		case "-basic":
			basic = true
		case "-log", "-ref":
			view = strings.ToLower(a)
		case "-handle":
		default:
			v, err := c.Eval(a)
			if err != nil {
				return err
			}
			handle = v
		}
	}
	if handle == 0 {
		return cmdMiniports(c, inv)
	}
	w := newWalker(c)
	v, err := w.obj("_NDIS_MINIPORT_BLOCK", handle)
	if err != nil {
		return err
	}
	switch view {
	case "-ref":
		c.Println("REFERENCES")
		if n, ok := u(v, "Ref.ReferenceCount"); ok {
			row(c, "Total references", fmt.Sprintf("0n%d", n))
		}
		c.Println("    [The references are not tracked by tag in this dump]")
		return nil
	case "-log":
		c.Println("MINIPORT PM & PNP EVENTS")
		c.Println("    [No PnP event log in this dump]")
		return nil
	}
	c.Println("MINIPORT")
	c.Printf("    %s\n", w.adapterName(v))
	row(c, "Ndis handle", h16(handle))
	if maj, ok := u(v, "MajorNdisVersion"); ok {
		minr, _ := u(v, "MinorNdisVersion")
		row(c, "Ndis API version", fmt.Sprintf("v%d.%d", maj, minr))
	}
	if a, ok := ptr(v, "MiniportAdapterContext"); ok {
		row(c, "Adapter context", h16(a))
	}
	if drv, ok := ptr(v, "DriverHandle"); ok {
		d, _ := w.obj("_NDIS_M_DRIVER_BLOCK", drv)
		maj, _ := u(d, "MiniportDriverCharacteristics.MajorDriverVersion")
		minr, _ := u(d, "MiniportDriverCharacteristics.MinorDriverVersion")
		c.Printf("    %-19s", "Miniport driver")
		c.Link(h16(drv), "!ndiskd.minidriver "+h16(drv))
		c.Printf(" - %s v%d.%d\n", ustr(d, "ServiceName"), maj, minr)
	}
	if a, ok := ptr(v, "IfBlock"); ok {
		row(c, "Network interface", h16(a))
	}
	if name, _, ok := enumName(v, "MediaType"); ok {
		row(c, "Media type", strings.ReplaceAll(strings.TrimPrefix(name, "NdisMedium"), "_", "."))
	}
	row(c, "Device instance", ustr(v, "DeviceInstanceId"))
	if a, ok := ptr(v, "DeviceObject"); ok {
		c.Printf("    %-19s%s    ", "Device object", h16(a))
		c.Link("More information", "dt nt!_DEVICE_OBJECT "+h16(a))
		c.Println()
	}
	if n, ok := u(v, "MacAddressLength"); ok && n > 0 && n <= 32 {
		if f, err := v.Field("CurrentAddress"); err == nil {
			b := make([]byte, n)
			if mem.ReadFull(f.Mem, b, f.Addr) == nil {
				var parts []string
				for _, x := range b {
					parts = append(parts, fmt.Sprintf("%02x", x))
				}
				row(c, "MAC address", strings.Join(parts, "-"))
			}
		}
	}
	if basic {
		return nil
	}
	c.Println("STATE")
	name, _, _ := enumName(v, "State")
	row(c, "Miniport", strings.TrimPrefix(name, "NdisMiniport"))
	name, _, _ = enumName(v, "PnPDeviceState")
	c.Printf("    %-19s%-20s", "Device PnP", strings.TrimPrefix(name, "NdisPnPDevice"))
	c.Link("Show state history", "!ndiskd.miniport "+h16(handle)+" -log")
	c.Println()
	name, dp, _ := enumName(v, "DatapathState")
	row(c, "Datapath", strings.TrimPrefix(name, "NdisDatapath_"))
	if dp != 0 {
		if st, ok := u(v, "DatapathNblStatus"); ok {
			row(c, "NBL status", w.enumValueName("_NDIS_STATUS_CODE", st))
		}
	}
	name, _, _ = enumName(v, "OperStatus")
	row(c, "Interface", title(strings.TrimPrefix(name, "NET_IF_OPER_STATUS_")))
	name, _, _ = enumName(v, "MediaConnectState")
	row(c, "Media", strings.TrimPrefix(name, "MediaConnectState"))
	if p, ok := u(v, "CurrentDevicePowerState"); ok && p >= 1 && p <= 4 {
		row(c, "Power", fmt.Sprintf("D%d", p-1))
	} else {
		row(c, "Power", "?")
	}
	if n, ok := u(v, "Ref.ReferenceCount"); ok {
		c.Printf("    %-19s%-20s", "References", fmt.Sprintf("0n%d", n))
		c.Link("Show detail", "!ndiskd.miniport "+h16(handle)+" -ref")
		c.Println()
	}
	if n, ok := u(v, "UserModeOpenReferences"); ok {
		row(c, "User handles", fmt.Sprintf("%d", n))
	}
	if n, ok := u(v, "InternalResetCount"); ok {
		row(c, "Automatic resets", fmt.Sprintf("%d", n))
	}
	if n, ok := u(v, "MiniportResetCount"); ok {
		row(c, "Resets requested", fmt.Sprintf("%d", n))
	}
	if req, ok := ptr(v, "PendingOidRequest"); ok {
		if req == 0 {
			row(c, "Pending OID", "None")
		} else {
			c.Printf("    %-19s", "Pending OID")
			c.Link(w.oidName(req), "!ndiskd.oid "+h16(req))
			c.Println()
		}
	}
	if n, ok := u(v, "Flags"); ok {
		wrapList(c, "Flags", w.flagNames("_NDIS_MINIPORT_FLAGS", "NdisMiniportFlag_", n))
	}
	if n, ok := u(v, "PnPFlags"); ok {
		wrapList(c, "PnP flags", w.flagNames("_NDIS_MINIPORT_PNP_FLAGS", "NdisMiniportPnPFlag_", n))
	}
	if n, ok := u(v, "MoreFlags"); ok && n != 0 {
		wrapList(c, "More flags", w.flagNames("_NDIS_MINIPORT_MORE_FLAGS", "NdisMiniportMoreFlag_", n))
	}
	w.bindings(v)
	return nil
}

// bindings is the BINDINGS section: the protocols bound to the miniport
// (its OpenQueue by MiniportNextOpen) and its filter stack from the lowest
// (FilterChain, then HigherFilter).
func (w walker) bindings(v types.Value) {
	c := w.c
	c.Println("BINDINGS")
	opens, _ := w.links(v, "OpenQueue", "_NDIS_OPEN_BLOCK", "MiniportNextOpen")
	if len(opens) == 0 {
		c.Println("    No protocols are bound to this miniport")
	} else {
		c.Printf("    %-19s%-20s%-19s%-18s\n", "Protocol list", "Driver", "Open", "Context")
		for _, o := range opens {
			ov, _ := w.obj("_NDIS_OPEN_BLOCK", o)
			p, _ := ptr(ov, "ProtocolHandle")
			pv, _ := w.obj("_NDIS_PROTOCOL_BLOCK", p)
			ctx, _ := ptr(ov, "ProtocolBindingContext")
			c.Printf("    %-19s", ustr(pv, "Name"))
			c.Link(h16(p), "!ndiskd.protocol "+h16(p))
			c.Printf("    ")
			c.Link(h16(o), "!ndiskd.mopen "+h16(o))
			c.Printf("   %s\n", h16(ctx))
		}
	}
	f, _ := ptr(v, "FilterChain")
	if f == 0 {
		c.Println("    No filters are bound to this miniport")
		return
	}
	c.Printf("    %-19s%-20s%-19s%-18s\n", "Filter list", "Driver", "Module", "Context")
	seen := map[uint64]bool{}
	for f != 0 && !seen[f] && len(seen) < maxList {
		seen[f] = true
		fv, err := w.obj("_NDIS_FILTER_BLOCK", f)
		if err != nil {
			break
		}
		d, _ := ptr(fv, "FilterDriver")
		ctx, _ := ptr(fv, "FilterModuleContext")
		c.Printf("    %s\n", ustr(fv, "FilterInstanceName"))
		c.Printf("    %-19s", "")
		c.Link(h16(d), "!ndiskd.filterdriver "+h16(d))
		c.Printf("    ")
		c.Link(h16(f), "!ndiskd.filter "+h16(f))
		c.Printf("   %s\n", h16(ctx))
		f, _ = ptr(fv, "HigherFilter")
	}
}

// oidName is an OID request's OID by name (OID_RECEIVE_FILTER_SET_FILTER).
func (w walker) oidName(req uint64) string {
	r, err := w.obj("_NDIS_OID_REQUEST", req)
	if err != nil {
		return "?"
	}
	path := "DATA.QUERY_INFORMATION.Oid"
	if name, _, _ := enumName(r, "RequestType"); name == "NdisRequestSetInformation" {
		path = "DATA.SET_INFORMATION.Oid"
	} else if name == "NdisRequestMethod" {
		path = "DATA.METHOD_INFORMATION.Oid"
	}
	oid, ok := u(r, path)
	if !ok {
		return "?"
	}
	return w.enumValueName("_NDIS_OID_CODE", oid)
}

// reserved is NDIS's bookkeeping inside a request (NdisReserved).
func (w walker) reserved(req uint64) (types.Value, error) {
	r, err := w.obj("_NDIS_OID_REQUEST", req)
	if err != nil {
		return types.Value{}, err
	}
	f, err := r.Field("NdisReserved")
	if err != nil {
		return types.Value{}, err
	}
	return w.obj("_NDIS_OID_REQUEST_RESERVED", f.Addr)
}

// bit reads a one-bit bitfield of a structure value.
func bit(v types.Value, path string) (bool, bool) {
	ref := v.Ref
	base, err := ref.Field(path)
	if err != nil || base.BitLen == 0 {
		return false, false
	}
	n, err := mem.ReadUint(v.Mem, v.Addr+base.Offset, 4)
	if err != nil {
		return false, false
	}
	return n>>base.BitPos&1 != 0, true
}

func cmdOid(c *commands.Ctx, inv *commands.Invocation) error {
	w := newWalker(c)
	a := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(inv.Args), "-handle"))
	if a == "" {
		head, err := w.global("ndisMiniportList")
		if err != nil {
			return err
		}
		list, werr := w.chain(head, "_NDIS_MINIPORT_BLOCK", "NextGlobalMiniport")
		c.Println("ALL PENDING OIDs")
		for _, m := range list {
			v, _ := w.obj("_NDIS_MINIPORT_BLOCK", m)
			req, ok := ptr(v, "PendingOidRequest")
			if !ok || req == 0 {
				continue
			}
			c.Printf("    %-19s", "NetAdapter")
			c.Link(h16(m), "!ndiskd.miniport "+h16(m))
			c.Printf(" - %s\n", w.adapterName(v))
			c.Printf("        %-19s", "Current OID")
			c.Link(w.oidName(req), "!ndiskd.oid "+h16(req))
			c.Println()
		}
		if werr != nil {
			c.Errorf("%v", werr)
		}
		return nil
	}
	req, err := c.Eval(a)
	if err != nil {
		return err
	}
	r, err := w.obj("_NDIS_OID_REQUEST", req)
	if err != nil {
		return err
	}
	c.Println("OID REQUEST")
	c.Printf("    %s\n", w.oidName(req))
	c.Println()
	rt, _, _ := enumName(r, "RequestType")
	kind := map[string]string{"NdisRequestQueryInformation": "OID_QUERY", "NdisRequestSetInformation": "OID_SET",
		"NdisRequestMethod": "OID_METHOD", "NdisRequestQueryStatistics": "OID_QUERY_STATISTICS"}[rt]
	if kind == "" {
		kind = rt
	}
	row(c, "Request type:", kind)
	if res, err := w.reserved(req); err == nil {
		if done, ok := bit(res, "Flags.Completed"); ok {
			row(c, "Completed:", map[bool]string{true: "Completed", false: "Not completed"}[done])
		}
		if cloned, ok := bit(res, "Flags.Cloned"); ok && cloned {
			if orig, ok := ptr(res, "OidRequest"); ok && orig != 0 {
				c.Printf("    %-19s", "Cloned from:")
				c.Link(w.oidName(orig), "!ndiskd.oid "+h16(orig))
				c.Println()
			}
		}
	}
	c.Println()
	c.Println("DATA PAYLOAD")
	for _, p := range []string{"DATA.METHOD_INFORMATION.InformationBuffer", "DATA.METHOD_INFORMATION.InputBufferLength", "DATA.METHOD_INFORMATION.OutputBufferLength"} {
		if n, ok := u(r, p); ok {
			row(c, strings.TrimPrefix(p, "DATA.METHOD_INFORMATION."), fmt.Sprintf("%x", n))
		}
	}
	return nil
}
