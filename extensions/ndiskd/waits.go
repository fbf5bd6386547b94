package ndiskd

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/engine/types"
)

// resolveWait names a waited kernel object that NDIS holds: the event of
// an OID request queued on a miniport's OidRequestList (the requestor's
// KEVENT), the miniport's state and pending OID, and its driver. It feeds
// !waitchain; everything is read by field name from ndis.pdb's types.
func resolveWait(c *commands.Ctx, object uint64) []commands.WaitEdge {
	if c.S.Kernel() == nil {
		return nil
	}
	if _, err := c.S.Symbols.FindType("ndis", "_NDIS_MINIPORT_BLOCK"); err != nil {
		return nil
	}
	w := newWalker(c)
	head, err := w.global("ndisMiniportList")
	if err != nil {
		return nil
	}
	list, _ := w.chain(head, "_NDIS_MINIPORT_BLOCK", "NextGlobalMiniport")
	resRef, err := c.S.Symbols.FindType("ndis", "_NDIS_OID_REQUEST_RESERVED")
	if err != nil {
		return nil
	}
	entry, err := resRef.Field("Entry")
	if err != nil {
		return nil
	}
	reqRef, err := c.S.Symbols.FindType("ndis", "_NDIS_OID_REQUEST")
	if err != nil {
		return nil
	}
	reserved, err := reqRef.Field("NdisReserved")
	if err != nil {
		return nil
	}
	for _, m := range list {
		v, err := w.obj("_NDIS_MINIPORT_BLOCK", m)
		if err != nil {
			continue
		}
		f, err := v.Field("OidRequestList")
		if err != nil {
			continue
		}
		links, _ := types.ListEntries(w.k.Mem, 8, f.Addr, maxList)
		for _, l := range links {
			res := l - entry.Offset
			rv, err := w.obj("_NDIS_OID_REQUEST_RESERVED", res)
			if err != nil {
				continue
			}
			ev, ok := ptr(rv, "RequestorEvent")
			if !ok || ev != object {
				continue
			}
			req := res - reserved.Offset
			return w.requestEdges(m, v, req)
		}
	}
	return nil
}

func (w walker) requestEdges(m uint64, v types.Value, req uint64) []commands.WaitEdge {
	name := w.adapterName(v)
	edges := []commands.WaitEdge{{
		Text:     fmt.Sprintf("the event of OID request %s (%s), queued on miniport %s (%s)", h16(req), w.oidName(req), h16(m), name),
		Short:    fmt.Sprintf("%s request %s", w.oidName(req), h16(req)),
		Evidence: "the request's NdisReserved.RequestorEvent, on the miniport's OidRequestList",
		Proved:   true,
	}}
	var state []string
	if s, _, ok := enumName(v, "DatapathState"); ok {
		state = append(state, "datapath "+strings.TrimPrefix(s, "NdisDatapath_"))
	}
	if n, ok := u(v, "Flags"); ok {
		for _, f := range w.flagNames("_NDIS_MINIPORT_FLAGS", "NdisMiniportFlag_", n) {
			if f == "RESET_IN_PROGRESS" || f == "RESET_REQUESTED" || f == "HALTING" || f == "PM_HALTING" {
				state = append(state, f)
			}
		}
	}
	if p, ok := ptr(v, "PendingOidRequest"); ok && p != 0 {
		done := "not completed"
		if rv, err := w.reserved(p); err == nil {
			const statusPending = 0x103
			if n, ok := u(rv, "Status"); ok && n != statusPending {
				done = fmt.Sprintf("completed with status %#x", n)
			}
		}
		state = append(state, fmt.Sprintf("pending OID %s %s (%s)", h16(p), w.oidName(p), done))
	}
	edges = append(edges, commands.WaitEdge{
		Text:     fmt.Sprintf("miniport %s: %s", name, strings.Join(state, ", ")),
		Short:    fmt.Sprintf("miniport %s (%s)", name, strings.Join(state[:min(len(state), 2)], ", ")),
		Evidence: "the miniport block's DatapathState, Flags and PendingOidRequest: the queued request waits for the pending one",
		Proved:   true,
	})
	if drv, ok := ptr(v, "DriverHandle"); ok && drv != 0 {
		d, _ := w.obj("_NDIS_M_DRIVER_BLOCK", drv)
		module := ""
		for _, n := range handlerNames {
			if a, ok := ptr(d, "MiniportDriverCharacteristics."+n); ok && a != 0 {
				if mod := w.c.S.ModuleAt(a); mod != nil {
					module = mod.Name
					edges = append(edges, commands.WaitEdge{
						Text:     fmt.Sprintf("its miniport driver %s (%s), code in %s", ustr(d, "ServiceName"), h16(drv), mod.ImageName),
						Short:    mod.ImageName,
						Evidence: fmt.Sprintf("DriverHandle, and its %s handler lies in %s", n, mod.ImageName),
						Proved:   true,
						Driver:   module,
					})
					break
				}
			}
		}
		if module == "" {
			edges = append(edges, commands.WaitEdge{Text: fmt.Sprintf("its miniport driver %s (%s)", ustr(d, "ServiceName"), h16(drv)),
				Evidence: "DriverHandle", Proved: true})
		}
	}
	return edges
}
