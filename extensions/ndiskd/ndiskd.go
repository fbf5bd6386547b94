// Package ndiskd is ntdbg's NDIS extension, after Microsoft's ndiskd.dll:
// the miniports, miniport drivers and pending OID requests of a kernel
// dump, walked from ndis!ndisMiniportList and ndis!ndisMiniDriverList with
// every field read by name from ndis.pdb's types (formats-spec.md §6.9).
// It is the only package that knows NDIS; Register adds its commands.
package ndiskd

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/commands"
	"github.com/ntdbg/ntdbg/engine/mem"
	"github.com/ntdbg/ntdbg/engine/nt"
	"github.com/ntdbg/ntdbg/engine/target"
	"github.com/ntdbg/ntdbg/engine/types"
)

// Register adds the !ndiskd commands to r.
func Register(r *commands.Registry) error {
	needs := commands.Needs{Kernel: true, Module: "ndis"}
	for _, c := range extra {
		c.Needs = needs
	}
	cmds := []*commands.Command{
		{Name: "help", Syntax: "!ndiskd.help", Summary: "list the NDIS debugger extensions", Run: cmdHelp},
		{Name: "miniports", Syntax: "!ndiskd.miniports", Needs: needs,
			Summary: "list every NDIS miniport (network adapter) with its miniport driver", Run: cmdMiniports},
		{Name: "minidriver", Syntax: "!ndiskd.minidriver [Handle] [-basic] [-handlers]", Needs: needs,
			Summary: "list the miniport drivers, or show one (its handlers with -handlers)", Run: cmdMinidriver},
	}
	r.AddWaitResolver(resolveWait)
	return r.Add("ndiskd", append(cmds, extra...)...)
}

// extra are the commands of the package's other files.
var extra []*commands.Command

// maxList bounds ndiskd's list walks (a machine has tens of miniports).
const maxList = 4096

// walker reads NDIS structures by field name.
type walker struct {
	c *commands.Ctx
	k *nt.Kernel
}

func newWalker(c *commands.Ctx) walker {
	k := c.S.Kernel()
	return walker{c: c, k: &nt.Kernel{Mem: k.Mem, Types: k.Types}}
}

// obj lays an ndis type over addr.
func (w walker) obj(typ string, addr uint64) (types.Value, error) {
	r, err := w.c.S.Symbols.FindType("ndis", typ)
	if err != nil {
		return types.Value{}, fmt.Errorf("ndis!%s not found: the NDIS symbols are missing or wrong", typ)
	}
	return r.ValueOf(w.k.Mem, 8, addr), nil
}

// u reads an integer field, with "?" semantics: ok is false when the field
// is missing or unreadable.
func u(v types.Value, path string) (uint64, bool) {
	f, err := v.Field(path)
	if err != nil {
		return 0, false
	}
	n, err := f.Uint()
	return n, err == nil
}

func ptr(v types.Value, path string) (uint64, bool) {
	f, err := v.Field(path)
	if err != nil {
		return 0, false
	}
	n, err := f.Ptr()
	return n, err == nil
}

// maxName bounds the names ndiskd prints from the dump.
const maxName = 512

// ustr reads a UNICODE_STRING field; a Length past MaximumLength (a bad
// pointer's garbage) is `?`, and long names are cut.
func ustr(v types.Value, path string) string {
	f, err := v.Field(path)
	if err != nil {
		return "?"
	}
	if n, ok := u(f, "Length"); ok {
		if m, ok := u(f, "MaximumLength"); ok && n > m {
			return "?"
		}
	}
	s, err := f.UnicodeString()
	if err != nil {
		return "?"
	}
	if r := []rune(s); len(r) > maxName {
		s = string(r[:maxName]) + "..."
	}
	return target.Sanitize(s)
}

func h16(v uint64) string { return fmt.Sprintf("%016x", v) }

// chain follows a singly linked list of typ through field next, from the
// global list head symbol, bounded and cycle-checked.
func (w walker) chain(head uint64, typ, next string) ([]uint64, error) {
	first, err := mem.ReadUint(w.k.Mem, head, 8)
	if err != nil {
		return nil, fmt.Errorf("cannot read the list head at %s: %v", h16(head), err)
	}
	var out []uint64
	seen := map[uint64]bool{}
	for a := first; a != 0; {
		if seen[a] {
			return out, fmt.Errorf("the list loops back to %s after %d entries", h16(a), len(out))
		}
		if len(out) >= maxList {
			return out, fmt.Errorf("the list is longer than %d entries", maxList)
		}
		v, err := w.obj(typ, a)
		if err != nil {
			return out, err
		}
		n, ok := ptr(v, next)
		if !ok {
			return out, fmt.Errorf("cannot read %s.%s at %s", typ, next, h16(a))
		}
		seen[a] = true
		out = append(out, a)
		a = n
	}
	return out, nil
}

func (w walker) global(name string) (uint64, error) {
	a, ok := w.c.S.Symbols.Lookup("ndis!" + name)
	if !ok {
		return 0, fmt.Errorf("ndis!%s not found: the NDIS symbols are missing or wrong", name)
	}
	return a, nil
}

func cmdHelp(c *commands.Ctx, inv *commands.Invocation) error {
	c.Println("NDIS KD EXTENSIONS")
	for _, l := range [][2]string{{"help", "This help and lots more"}, {"netadapter", "Show network adapters  (this is a good starting place)"},
		{"protocol", "Show protocol drivers"}, {"mopen", "Show open bindings between netadapter and protocol"},
		{"filter", "Show light-weight filters"}, {"nbl", "Show information about an NET_BUFFER_LIST"},
		{"oid", "Show pending OID Requests"}, {"netreport", "Draw a box diagram of your network stack"}} {
		c.Printf("    %-19s%s\n", l[0], l[1])
	}
	c.Printf("    ")
	c.Link("Show more extensions", "!ndiskd.help -all")
	c.Println()
	c.Printf("    ")
	c.Link("View examples & tutorials online", "")
	c.Println()
	return nil
}

// mvOf is the miniport block at m (a zero Value when the type is missing).
func mvOf(w walker, m uint64) types.Value {
	v, _ := w.obj("_NDIS_MINIPORT_BLOCK", m)
	return v
}

func cmdMiniports(c *commands.Ctx, inv *commands.Invocation) error {
	w := newWalker(c)
	head, err := w.global("ndisMiniportList")
	if err != nil {
		return err
	}
	list, werr := w.chain(head, "_NDIS_MINIPORT_BLOCK", "NextGlobalMiniport")
	c.Printf("    %-19s%-20s%-37s\n", "MiniDriver", "Miniport", "Name")
	for _, m := range list {
		v, _ := w.obj("_NDIS_MINIPORT_BLOCK", m)
		drv, _ := ptr(v, "DriverHandle")
		c.Printf("    ")
		c.Link(h16(drv), "!ndiskd.minidriver "+h16(drv))
		c.Printf("   ")
		c.Link(h16(m), "!ndiskd.miniport "+h16(m))
		c.Printf("    %s\n", w.adapterName(v))
		if c.Recording() {
			c.Record("ndis_miniport", MiniportRecord{Miniport: commands.Hex(m), MiniDriver: hexp(drv), Name: w.adapterName(v)})
		}
	}
	if werr != nil {
		c.Errorf("%v", werr)
	}
	return nil
}

// handlerNames are the NDIS 6 miniport handlers, in ndiskd's order.
var handlerNames = []string{"InitializeHandlerEx", "SetOptionsHandler", "HaltHandlerEx", "ShutdownHandlerEx",
	"CheckForHangHandlerEx", "ResetHandlerEx", "PauseHandler", "RestartHandler", "OidRequestHandler",
	"CancelOidRequestHandler", "DirectOidRequestHandler", "CancelDirectOidRequestHandler", "DevicePnPEventNotifyHandler",
	"SendNetBufferListsHandler", "ReturnNetBufferListsHandler", "CancelSendHandler"}

// ndisSym is ndiskd's symbol form: `FooDRV+3cfc0`, `ndis!X+1a` (no 0x).
func ndisSym(c *commands.Ctx, a uint64) string {
	return strings.ReplaceAll(c.Symbolize(a), "+0x", "+")
}

func cmdMinidriver(c *commands.Ctx, inv *commands.Invocation) error {
	w := newWalker(c)
	var handle uint64
	handlers, basic := false, false
	for _, a := range strings.Fields(inv.Args) {
		switch strings.ToLower(a) {
		case "-handlers":
			handlers = true
		case "-basic":
			basic = true
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
		head, err := w.global("ndisMiniDriverList")
		if err != nil {
			return err
		}
		list, werr := w.chain(head, "_NDIS_M_DRIVER_BLOCK", "NextDriver")
		for _, d := range list {
			v, _ := w.obj("_NDIS_M_DRIVER_BLOCK", d)
			c.Printf("    ")
			c.Link(h16(d), "!ndiskd.minidriver "+h16(d))
			c.Printf(" - %s\n", ustr(v, "ServiceName"))
			if c.Recording() {
				c.Record("ndis_minidriver", MiniDriverRecord{Handle: commands.Hex(d), ServiceName: ustr(v, "ServiceName")})
			}
		}
		if werr != nil {
			c.Errorf("%v", werr)
		}
		return nil
	}
	v, err := w.obj("_NDIS_M_DRIVER_BLOCK", handle)
	if err != nil {
		return err
	}
	if handlers {
		c.Println("HANDLERS")
		c.Printf("    %-39s%-19s%s\n", "Miniport Handler", "Function pointer", "Symbol (if available)")
		for _, n := range handlerNames {
			a, ok := ptr(v, "MiniportDriverCharacteristics."+n)
			if c.Recording() {
				hr := HandlerRecord{Name: n, Readable: ok}
				if ok && a != 0 {
					hr.Function, hr.Symbol = hexp(a), strp(ndisSym(c, a))
				}
				c.Record("ndis_handler", hr)
			}
			switch {
			case !ok:
				c.Printf("    %-39s%s\n", n, "?")
			case a == 0:
				c.Printf("    %-39s%s\n", n, "[None]")
			default:
				c.Printf("    %-39s%s  %s\n", n, h16(a), ndisSym(c, a))
			}
		}
		return nil
	}
	c.Println("MINIPORT DRIVER")
	c.Printf("    %s\n", ustr(v, "ServiceName"))
	c.Printf("    %-19s%s\n", "Ndis handle", h16(handle))
	if a, ok := ptr(v, "MiniportDriverContext"); ok {
		c.Printf("    %-19s%s\n", "Driver context", h16(a))
	}
	if a, ok := ptr(v, "DriverObject"); ok {
		c.Printf("    %-19s%s\n", "DRIVER_OBJECT", h16(a))
	}
	c.Printf("    %-19s%s\n", "Driver image", ustr(v, "ImageName"))
	c.Printf("    %-19s%s\n", "Registry path", ustr(v, "ServiceRegPath"))
	if c.Recording() {
		r := MiniDriverRecord{Handle: commands.Hex(handle), ServiceName: ustr(v, "ServiceName"),
			Image: strp(ustr(v, "ImageName")), RegistryPath: strp(ustr(v, "ServiceRegPath"))}
		if a, ok := ptr(v, "MiniportDriverContext"); ok {
			r.Context = hexp(a)
		}
		if a, ok := ptr(v, "DriverObject"); ok {
			r.DriverObject = hexp(a)
		}
		c.Record("ndis_minidriver", r)
	}
	if basic {
		return nil
	}
	c.Println("MINIPORTS")
	c.Println("    Miniport")
	first, _ := ptr(v, "MiniportQueue")
	seen := map[uint64]bool{}
	for m := first; m != 0 && !seen[m] && len(seen) < maxList; {
		seen[m] = true
		c.Printf("    ")
		c.Link(h16(m), "!ndiskd.miniport "+h16(m))
		c.Printf(" - %s\n", w.adapterName(mvOf(w, m)))
		if c.Recording() {
			c.Record("ndis_miniport", MiniportRecord{Miniport: commands.Hex(m), Name: w.adapterName(mvOf(w, m))})
		}
		mv, err := w.obj("_NDIS_MINIPORT_BLOCK", m)
		if err != nil {
			break
		}
		m, _ = ptr(mv, "NextMiniport")
	}
	return nil
}
