package ndiskd

import (
	"fmt"
	"html"
	"os"
	"strings"

	"github.com/ntdbg/ntdbg/commands"
	safe "github.com/ntdbg/ntdbg/engine/target"
)

func init() {
	extra = append(extra, &commands.Command{Name: "netreport", Syntax: "!ndiskd.netreport -outputpath File.html",
		Summary: "write the network stack as a picture: a self-contained HTML page (a stuck miniport is red)",
		Help: "Boxes for the miniport drivers and their miniports, lines for the bindings between them; a miniport that is\n" +
			"resetting, has timed out a request or holds a pending OID is drawn red with the reason. ntdbg writes only where\n" +
			"-outputpath says (the real extension picks a temporary file and opens a browser).",
		Run: cmdNetreport})
}

type reportMiniport struct {
	addr        uint64
	name, state string
	stuck       []string
}

type reportDriver struct {
	addr      uint64
	name      string
	miniports []reportMiniport
}

func cmdNetreport(c *commands.Ctx, inv *commands.Invocation) error {
	args := strings.Fields(inv.Args)
	path := ""
	for i := 0; i < len(args); i++ {
		if strings.EqualFold(args[i], "-outputpath") && i+1 < len(args) {
			path = args[i+1]
			i++
		}
	}
	if path == "" {
		return fmt.Errorf("Usage: !ndiskd.netreport -outputpath File.html (ntdbg writes only where you say)")
	}
	if err := c.CheckFile("write", path); err != nil {
		return err
	}
	w := newWalker(c)
	head, err := w.global("ndisMiniportList")
	if err != nil {
		return err
	}
	list, werr := w.chain(head, "_NDIS_MINIPORT_BLOCK", "NextGlobalMiniport")
	var drivers []*reportDriver
	byAddr := map[uint64]*reportDriver{}
	for _, m := range list {
		v := mvOf(w, m)
		drv, _ := ptr(v, "DriverHandle")
		d := byAddr[drv]
		if d == nil {
			dv, _ := w.obj("_NDIS_M_DRIVER_BLOCK", drv)
			d = &reportDriver{addr: drv, name: ustr(dv, "ServiceName")}
			byAddr[drv] = d
			drivers = append(drivers, d)
		}
		rm := reportMiniport{addr: m, name: w.adapterName(v)}
		st, _, _ := enumName(v, "State")
		rm.state = strings.TrimPrefix(st, "NdisMiniport")
		if n, ok := u(v, "Flags"); ok {
			for _, f := range w.flagNames("_NDIS_MINIPORT_FLAGS", "NdisMiniportFlag_", n) {
				if f == "RESET_IN_PROGRESS" || f == "DEVICE_FAILED" || f == "HALTING" {
					rm.stuck = append(rm.stuck, f)
				}
			}
		}
		if n, ok := u(v, "MoreFlags"); ok {
			for _, f := range w.flagNames("_NDIS_MINIPORT_MORE_FLAGS", "NdisMiniportMoreFlag_", n) {
				if f == "REQUEST_TIMEOUT" {
					rm.stuck = append(rm.stuck, f)
				}
			}
		}
		if req, ok := ptr(v, "PendingOidRequest"); ok && req != 0 {
			rm.stuck = append(rm.stuck, "pending "+w.oidName(req))
		}
		d.miniports = append(d.miniports, rm)
	}
	page := renderReport(drivers, werr)
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		return fmt.Errorf("Could not write %s: %v", safe.Sanitize(path), err)
	}
	c.Printf("Network report written to %s\n", safe.Sanitize(path))
	if werr != nil {
		c.Errorf("%v (the report shows what was read)", werr)
	}
	return nil
}

// renderReport draws the drivers four to a row, each with its miniports
// below it; a line (the binding) runs from the driver down a bus to each
// miniport. Lines are drawn first so no box is crossed.
func renderReport(drivers []*reportDriver, walkErr error) string {
	const cols, boxW, boxH, gap, indent, vgap = 3, 440, 44, 28, 28, 10
	colW := indent + boxW + gap
	type placed struct {
		d    *reportDriver
		x, y int
	}
	var layout []placed
	y, rowH := 40, 0
	for i, d := range drivers {
		if i > 0 && i%cols == 0 {
			y += rowH + 2*gap
			rowH = 0
		}
		layout = append(layout, placed{d, gap + (i%cols)*colW, y})
		rowH = max(rowH, boxH+vgap+len(d.miniports)*(boxH+vgap))
	}
	width, height := gap+cols*colW, y+rowH+gap
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ntdbg network report</title>
<style>
body { font-family: sans-serif; margin: 16px; }
.driver rect { fill: #dde6f5; stroke: #3b5b92; }
.miniport rect { fill: #e8f3e3; stroke: #4b7a3a; }
.miniport.stuck rect { fill: #f4c2c2; stroke: #b00000; stroke-width: 3; }
.miniport.stuck text { fill: #800000; font-weight: bold; }
text { font-size: 12px; }
.binding { stroke: #777; fill: none; }
.legend span { padding: 2px 8px; margin-right: 8px; border: 1px solid #999; }
</style></head><body>
<h1>Network stack</h1>
<p class="legend"><span style="background:#dde6f5">miniport driver</span><span style="background:#e8f3e3">miniport</span><span style="background:#f4c2c2">stuck miniport</span></p>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="miniport drivers and their miniports">
`, width, height)
	for _, p := range layout {
		bus := p.x + indent/2
		for j := range p.d.miniports {
			my := p.y + (j+1)*(boxH+vgap) + boxH/2
			fmt.Fprintf(&b, "<path class=\"binding\" d=\"M%d %d V%d H%d\"/>\n", bus, p.y+boxH, my, p.x+indent)
		}
	}
	for _, p := range layout {
		d := p.d
		fmt.Fprintf(&b, `<g class="driver" data-handle="%016x"><rect x="%d" y="%d" width="%d" height="%d" rx="6"/><text x="%d" y="%d">%s</text><text x="%d" y="%d">%016x</text></g>
`, d.addr, p.x, p.y, boxW, boxH, p.x+8, p.y+18, html.EscapeString(d.name), p.x+8, p.y+36, d.addr)
		for j, m := range d.miniports {
			x, my := p.x+indent, p.y+(j+1)*(boxH+vgap)
			class, title := "miniport", m.state
			if len(m.stuck) > 0 {
				class += " stuck"
				title = "STUCK: " + strings.Join(m.stuck, ", ")
			}
			fmt.Fprintf(&b, `<g class="%s" data-handle="%016x"><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="6"/><text x="%d" y="%d">%s</text><text x="%d" y="%d">%016x %s</text></g>
`, class, m.addr, html.EscapeString(title), x, my, boxW, boxH, x+8, my+18, html.EscapeString(m.name), x+8, my+36, m.addr, html.EscapeString(title))
		}
	}
	b.WriteString("</svg>\n")
	if walkErr != nil {
		fmt.Fprintf(&b, "<p class=\"error\">%s</p>\n", html.EscapeString(walkErr.Error()))
	}
	b.WriteString(`<script>
// The page marks itself with the number of stuck miniports (for tests and readers).
document.body.dataset.stuck = String(document.querySelectorAll('.miniport.stuck').length);
</script>
</body></html>
`)
	return b.String()
}
