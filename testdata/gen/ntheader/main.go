// Command ntheader writes testdata/scenarios/hyperv-hang/ksrc/nt9600.h: C
// definitions, with the exact Windows 8.1 (build 9600) x64 offsets and sizes,
// of the kernel structures the debugger walks, generated from the Volatility 3
// ISF file of the real ntkrnlmp.pdb (6.3.9600.19913, GUID
// 22597D0B40394E23936F6A24C6C52D5B, age 1). The scenario's ntoskrnl.exe is
// compiled with the header, so its ntkrnlmp.pdb carries those layouts.
//
// It is build tooling, run by hand from the module root; its output is
// committed:
//
//	go run ./testdata/gen/ntheader [-isf file.json.xz] [-o nt9600.h]
//
// The ISF lists each structure's fields flat: members of anonymous unions and
// structures appear as fields of the parent at their offsets, in name order.
// The generator rebuilds a nesting that puts every field at its offset
// (overlapping fields become anonymous unions, bit fields sharing a storage
// unit become one run of bit fields), lays it out as the Microsoft x64 ABI
// does, and emits a _Static_assert for every member offset and every size, so
// that a wrong layout does not compile. Anonymous unions and structures are
// flattened in CodeView as MSVC does, so the PDB's field lists are the ISF's.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"strings"
)

// DefaultISF is the 9600 ISF beside the module root, as ../shared/realdumps holds it.
const DefaultISF = "../shared/realdumps/isf/symbols/windows/ntkrnlmp.pdb/22597D0B40394E23936F6A24C6C52D5B-1.json.xz"

// Roots are the structures the header defines with everything they hold by
// value. The first group is what the kernel walkers and the dump writer use;
// the second is what the seed's commands and the next issues will want.
var Roots = []string{
	"_EPROCESS", "_KPROCESS", "_ETHREAD", "_KTHREAD", "_KAPC_STATE", "_DISPATCHER_HEADER", "_KEVENT",
	"_KWAIT_BLOCK", "_KTIMER", "_KQUEUE", "_LIST_ENTRY", "_SINGLE_LIST_ENTRY", "_UNICODE_STRING",
	"_CLIENT_ID", "_LARGE_INTEGER", "_KTRAP_FRAME", "_KEXCEPTION_FRAME", "_IRP", "_IO_STACK_LOCATION",
	"_DEVICE_OBJECT", "_DRIVER_OBJECT", "_FILE_OBJECT", "_EX_FAST_REF", "_HANDLE_TABLE", "_KPRCB",
	"_KPCR", "_OBJECT_HEADER", "_KUSER_SHARED_DATA", "_PEB", "_MMSUPPORT",
	// More of what a kernel session reads.
	"_LDR_DATA_TABLE_ENTRY", "_TEB", "_PEB_LDR_DATA", "_KPRIQUEUE", "_IO_WORKITEM", "_WORK_QUEUE_ITEM",
	"_EX_WORK_QUEUE", "_OBJECT_TYPE", "_OBJECT_HEADER_NAME_INFO", "_OBJECT_DIRECTORY",
	"_HANDLE_TABLE_ENTRY", "_MDL", "_DEVICE_MAP", "_POOL_HEADER", "_KSEMAPHORE", "_KMUTANT", "_KAPC",
	"_KDPC", "_KGATE", "_ETIMER", "_DRIVER_EXTENSION", "_DEVOBJ_EXTENSION", "_IO_STATUS_BLOCK",
	"_KSYSTEM_TIME", "_CONTEXT", "_NT_TIB", "_MM_SESSION_SPACE",
}

// RequiredEnums are emitted even where no root holds them by value.
var RequiredEnums = []string{"_KTHREAD_STATE", "_KWAIT_REASON", "_MODE"}

var baseC = map[string]string{
	"char": "CHAR", "unsigned char": "UCHAR", "short": "SHORT", "unsigned short": "USHORT",
	"int": "INT", "unsigned int": "UINT", "long": "LONG", "unsigned long": "ULONG",
	"long long": "LONGLONG", "unsigned long long": "ULONGLONG", "wchar": "WCHAR", "void": "VOID",
	"double": "DOUBLE", "float": "FLOAT",
}

func main() {
	log.SetFlags(0)
	isf := flag.String("isf", DefaultISF, "the Windows 8.1 (9600) ntkrnlmp ISF file (.json or .json.xz)")
	out := flag.String("o", "testdata/scenarios/hyperv-hang/ksrc/nt9600.h", "the header to write")
	flag.Parse()
	f, err := readISF(*isf)
	if err != nil {
		log.Fatal(err)
	}
	text, err := Generate(f)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		log.Fatal(err)
	}
}

type nodeKind int

const (
	nLeaf nodeKind = iota
	nRun
	nStruct
	nUnion
)

type field struct {
	name string
	off  int64
	t    *isfType
}

// node is one member of the rebuilt nesting: a field, a run of bit fields in
// one storage unit, or an anonymous structure or union.
type node struct {
	kind      nodeKind
	f         *field   // nLeaf
	run       []*field // nRun, in bit order
	unit      int64    // nRun: storage unit size
	kids      []*node  // nStruct, nUnion
	off, end  int64    // byte range of the content, from the start of the top type
	padBefore int64    // set by layout: unnamed padding bytes before this node
	padAfter  int64    // roots only: trailing padding
	content   int64    // set by place for structures: the end of the last member
	align     int64    // set by place for structures and unions
}

type gen struct {
	f        *isfFile
	types    map[string]bool // named types defined at top level
	inline   map[string]bool // unnamed types defined where their one member is
	enums    map[string]bool
	fwd      map[string]string // tag -> struct/union, for pointers
	align    map[string]int64  // alignment of each top-level type as laid out
	pack     map[string]int64  // #pragma pack of each top-level type (0: none)
	trees    map[string]*node
	order    []string
	visiting map[string]bool
	notes    []string
}

// Generate returns the text of nt9600.h.
func Generate(f *isfFile) (string, error) {
	g := &gen{f: f, types: map[string]bool{}, inline: map[string]bool{}, enums: map[string]bool{},
		fwd: map[string]string{}, align: map[string]int64{}, pack: map[string]int64{}, trees: map[string]*node{},
		visiting: map[string]bool{}}
	// Which unnamed types are held by value exactly once (they are emitted inline).
	uses := map[string]int{}
	pointed := map[string]bool{}
	var collectAll func(name string, seen map[string]bool)
	collectAll = func(name string, seen map[string]bool) {
		if seen[name] {
			return
		}
		seen[name] = true
		u := f.UserTypes[name]
		for _, fl := range u.Fields {
			g.walkType(fl.Type, func(t *isfType, byValue bool) {
				switch t.Kind {
				case "struct", "union":
					if byValue {
						uses[t.Name]++
						collectAll(t.Name, seen)
					} else {
						pointed[t.Name] = true
					}
				case "enum":
					if byValue {
						g.enums[t.Name] = true
					}
				}
			})
		}
	}
	seen := map[string]bool{}
	for _, r := range Roots {
		if f.UserTypes[r] == nil {
			return "", fmt.Errorf("the ISF has no %s", r)
		}
		collectAll(r, seen)
	}
	for _, e := range RequiredEnums {
		if f.Enums[e] == nil {
			return "", fmt.Errorf("the ISF has no enum %s", e)
		}
		g.enums[e] = true
	}
	for name := range seen {
		if isUnnamed(name) && uses[name] == 1 && !pointed[name] {
			g.inline[name] = true
		} else {
			g.types[name] = true
		}
	}
	for name := range pointed {
		if !g.types[name] && !g.inline[name] {
			g.fwd[name] = "struct" // a type the PDB has no definition of
			if u := f.UserTypes[name]; u != nil {
				g.fwd[name] = u.Kind
			}
			if isUnnamed(name) {
				return "", fmt.Errorf("a pointer to unnamed %s that is not defined", name)
			}
		}
	}
	names := sortedKeys(g.types)
	for _, n := range names {
		if err := g.visit(n); err != nil {
			return "", err
		}
	}
	for _, n := range g.notes {
		fmt.Fprintln(os.Stderr, "ntheader:", n)
	}
	return g.emit()
}

func isUnnamed(name string) bool { return strings.HasPrefix(name, "__unnamed_") }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// walkType calls fn for t and the types inside it; byValue is false below a pointer.
func (g *gen) walkType(t *isfType, fn func(t *isfType, byValue bool)) {
	var walk func(t *isfType, byValue bool)
	walk = func(t *isfType, byValue bool) {
		if t == nil {
			return
		}
		fn(t, byValue)
		switch t.Kind {
		case "pointer":
			walk(t.Subtype, false)
		case "array":
			walk(t.Subtype, byValue)
		case "bitfield":
			walk(t.Type, byValue)
		}
	}
	walk(t, true)
}

// visit lays out a top-level type after the types it holds by value.
func (g *gen) visit(name string) error {
	if _, done := g.align[name]; done {
		return nil
	}
	if g.visiting[name] {
		return fmt.Errorf("%s holds itself by value", name)
	}
	g.visiting[name] = true
	for _, dep := range g.byValueDeps(name) {
		if err := g.visit(dep); err != nil {
			return err
		}
	}
	tree, err := g.build(name)
	if err != nil {
		return err
	}
	var natErr error
	for _, p := range []int64{0, 8, 4, 2, 1} {
		a, err := g.layout(tree, name, p)
		if p == 0 {
			natErr = err
		}
		if err == nil {
			g.align[name], g.pack[name] = a, p
			g.order = append(g.order, name)
			if p != 0 {
				g.notes = append(g.notes, fmt.Sprintf("%s needs #pragma pack(%d): %v", name, p, natErr))
			}
			return nil
		} else if p == 1 {
			return fmt.Errorf("%s: no layout puts every field at its offset: %v", name, err)
		}
	}
	return nil
}

// byValueDeps lists the top-level types a type (and its inline unnamed
// members) holds by value.
func (g *gen) byValueDeps(name string) []string {
	var deps []string
	have := map[string]bool{}
	var from func(name string)
	from = func(name string) {
		for _, fn := range sortedKeys(g.f.UserTypes[name].Fields) {
			g.walkType(g.f.UserTypes[name].Fields[fn].Type, func(t *isfType, byValue bool) {
				if !byValue || (t.Kind != "struct" && t.Kind != "union") {
					return
				}
				if g.inline[t.Name] {
					from(t.Name)
				} else if !have[t.Name] {
					have[t.Name] = true
					deps = append(deps, t.Name)
				}
			})
		}
	}
	from(name)
	return deps
}

// build rebuilds the nesting of a type's flat field list.
func (g *gen) build(name string) (*node, error) {
	if t := g.trees[name]; t != nil {
		return t, nil
	}
	t, err := g.buildTree(name)
	if err == nil {
		g.trees[name] = t
	}
	return t, err
}

func (g *gen) buildTree(name string) (*node, error) {
	u := g.f.UserTypes[name]
	var items []*node
	runs := map[[2]int64][]*field{} // (offset, unit) -> bit fields
	for fname, fl := range u.Fields {
		fd := &field{name: fname, off: fl.Offset, t: fl.Type}
		if fl.Type.Kind == "bitfield" {
			if fl.Type.Type.Kind != "base" {
				return nil, fmt.Errorf("%s.%s: bit field of %s", name, fname, fl.Type.Type.Kind)
			}
			unit := g.f.sizeOf(fl.Type.Type)
			runs[[2]int64{fl.Offset, unit}] = append(runs[[2]int64{fl.Offset, unit}], fd)
			continue
		}
		size := g.f.sizeOf(fl.Type)
		if size == 0 {
			return nil, fmt.Errorf("%s.%s has size 0", name, fname)
		}
		items = append(items, &node{kind: nLeaf, f: fd, off: fl.Offset, end: fl.Offset + size})
	}
	// Bit fields of one storage unit: as few runs as hold them without overlap.
	for key, bfs := range runs {
		sort.Slice(bfs, func(i, j int) bool {
			a, b := bfs[i].t, bfs[j].t
			if a.BitPosition != b.BitPosition {
				return a.BitPosition < b.BitPosition
			}
			if a.BitLength != b.BitLength {
				return a.BitLength > b.BitLength
			}
			return bfs[i].name < bfs[j].name
		})
		var rs [][]*field
		for _, bf := range bfs {
			placed := false
			for i, r := range rs {
				last := r[len(r)-1].t
				if last.BitPosition+last.BitLength <= bf.t.BitPosition {
					rs[i] = append(r, bf)
					placed = true
					break
				}
			}
			if !placed {
				rs = append(rs, []*field{bf})
			}
		}
		for _, r := range rs {
			if last := r[len(r)-1].t; last.BitPosition+last.BitLength > key[1]*8 {
				return nil, fmt.Errorf("%s.%s: bits past its unit", name, r[len(r)-1].name)
			}
			items = append(items, &node{kind: nRun, run: r, unit: key[1], off: key[0], end: key[0] + key[1]})
		}
	}
	if u.Kind == "union" {
		root := g.unionOf(items, 0, maxEnd(items))
		root.end = u.Size
		return root, nil
	}
	return &node{kind: nStruct, kids: g.seq(items), off: 0, end: u.Size}, nil
}

func maxEnd(items []*node) int64 {
	var e int64
	for _, it := range items {
		if it.end > e {
			e = it.end
		}
	}
	return e
}

func itemName(n *node) string {
	switch n.kind {
	case nLeaf:
		return n.f.name
	case nRun:
		return n.run[0].name
	}
	if len(n.kids) > 0 {
		return itemName(n.kids[0])
	}
	return ""
}

func sortItems(items []*node) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.off != b.off {
			return a.off < b.off
		}
		if a.end != b.end {
			return a.end > b.end
		}
		return itemName(a) < itemName(b)
	})
}

// natAlign is a node's alignment without #pragma pack.
func (g *gen) natAlign(n *node) int64 {
	switch n.kind {
	case nLeaf:
		a, err := g.alignOf(n.f.t, 0)
		if err != nil {
			return 1
		}
		return a
	case nRun:
		return n.unit
	}
	var a int64 = 1
	for _, k := range n.kids {
		if ka := g.natAlign(k); ka > a {
			a = ka
		}
	}
	return a
}

// seq turns items into a sequence of members: lone items, and unions where
// items overlap. A union takes its size rounded up to its alignment, so an
// item that starts inside that rounding belongs to the union too.
func (g *gen) seq(items []*node) []*node {
	sortItems(items)
	var out []*node
	for i := 0; i < len(items); {
		cs, ce := items[i].off, items[i].end
		j := i + 1
		for {
			for j < len(items) && items[j].off < ce {
				if items[j].end > ce {
					ce = items[j].end
				}
				j++
			}
			if j == i+1 || j == len(items) {
				break
			}
			var a int64 = 1
			for _, it := range items[i:j] {
				if ia := g.natAlign(it); ia > a {
					a = ia
				}
			}
			if items[j].off >= cs+alignUp(ce-cs, a) {
				break
			}
			if items[j].end > ce {
				ce = items[j].end
			}
			j++
		}
		if j == i+1 {
			out = append(out, items[i])
		} else {
			out = append(out, g.unionOf(append([]*node(nil), items[i:j]...), cs, ce))
		}
		i = j
	}
	return out
}

// unionOf makes a union of overlapping items covering [cs, ce).
func (g *gen) unionOf(items []*node, cs, ce int64) *node {
	u := &node{kind: nUnion, off: cs, end: ce}
	var full, rest []*node
	for _, it := range items {
		if it.off == cs && it.end == ce {
			full = append(full, it)
		} else {
			rest = append(rest, it)
		}
	}
	sortItems(full)
	addAlt := func(group []*node) {
		s := g.seq(group)
		if len(s) == 1 && s[0].off == cs {
			if s[0].kind == nUnion {
				u.kids = append(u.kids, s[0].kids...)
			} else {
				u.kids = append(u.kids, s[0])
			}
			return
		}
		u.kids = append(u.kids, &node{kind: nStruct, kids: s, off: cs, end: maxEnd(group)})
	}
	switch {
	case len(rest) == 0:
	case len(full) > 0:
		addAlt(rest)
	default:
		// No member spans the whole union: split the items into chains of
		// members that follow one another, one structure per chain. An item
		// goes after a chain that ends where it starts; failing that (and if
		// it does not start the union), into the last stretch of the chain
		// whose last member starts closest before it (a union inside that
		// chain); failing that, after the chain that ends closest before it;
		// failing that, it starts a chain.
		sortItems(rest)
		type chain struct {
			items         []*node
			end, lastFrom int64
		}
		build := func(merge bool) []*chain {
			var chains []*chain
			for _, it := range rest {
				var best *chain
				for _, c := range chains { // a chain that ends where it starts
					if c.end == it.off {
						best = c
						break
					}
				}
				if best == nil && merge && it.off > cs { // the last stretch of a chain
					for _, c := range chains {
						if it.off >= c.lastFrom && it.off < c.end && (best == nil || c.lastFrom > best.lastFrom) {
							best = c
						}
					}
					if best != nil {
						best.items = append(best.items, it)
						if it.end > best.end {
							best.end = it.end
						}
						continue
					}
				}
				if best == nil { // the chain that ends closest before it
					for _, c := range chains {
						if c.end <= it.off && (best == nil || c.end > best.end) {
							best = c
						}
					}
				}
				if best != nil {
					best.items = append(best.items, it)
					best.lastFrom, best.end = it.off, it.end
					continue
				}
				chains = append(chains, &chain{items: []*node{it}, end: it.end, lastFrom: it.off})
			}
			return chains
		}
		chains := build(true)
		if len(chains) == 1 {
			// One chain holding every item would be this union again.
			chains = build(false)
		}
		for _, c := range chains {
			addAlt(c.items)
		}
	}
	u.kids = append(u.kids, full...)
	return u
}

func alignUp(v, a int64) int64 { return (v + a - 1) / a * a }

func minPack(a, p int64) int64 {
	if p != 0 && a > p {
		return p
	}
	return a
}

// alignOf is the alignment of a member's type under #pragma pack(p) (0: none).
func (g *gen) alignOf(t *isfType, p int64) (int64, error) {
	switch t.Kind {
	case "base":
		s := g.f.BaseTypes[t.Name].Size
		if s == 0 {
			s = 1
		}
		return minPack(s, p), nil
	case "pointer":
		return minPack(8, p), nil
	case "enum":
		return minPack(g.f.Enums[t.Name].Size, p), nil
	case "array":
		return g.alignOf(t.Subtype, p)
	case "bitfield":
		return g.alignOf(t.Type, p)
	case "struct", "union":
		if g.inline[t.Name] {
			tree, err := g.build(t.Name)
			if err != nil {
				return 0, err
			}
			return g.layout(tree, t.Name, p)
		}
		a, ok := g.align[t.Name]
		if !ok {
			return 0, fmt.Errorf("%s used before it is laid out", t.Name)
		}
		return minPack(a, p), nil
	}
	return 0, fmt.Errorf("no alignment for a %s", t.Kind)
}

// layout places a type's tree as the compiler will under pack p, records
// the unnamed padding each member needs, and returns the type's alignment.
// It fails when some member cannot be at its ISF offset.
func (g *gen) layout(root *node, name string, p int64) (int64, error) {
	size, a, err := g.place(root, p)
	if err != nil {
		return 0, err
	}
	want := g.f.UserTypes[name].Size
	root.padAfter = 0
	if size == want {
		return a, nil
	}
	if root.kind == nStruct && root.content < want && want%a == 0 {
		root.padAfter = want - root.content
		return a, nil
	}
	return 0, fmt.Errorf("%s: size 0x%x, the ISF says 0x%x", name, size, want)
}

// place returns the size and alignment of n under pack p.
func (g *gen) place(n *node, p int64) (int64, int64, error) {
	switch n.kind {
	case nLeaf:
		a, err := g.alignOf(n.f.t, p)
		if err != nil {
			return 0, 0, err
		}
		if t := elemType(n.f.t); (t.Kind == "struct" || t.Kind == "union") && g.inline[t.Name] {
			tree, err := g.build(t.Name)
			if err != nil {
				return 0, 0, err
			}
			if _, err := g.layout(tree, t.Name, p); err != nil {
				return 0, 0, err
			}
		}
		return g.f.sizeOf(n.f.t), a, nil
	case nRun:
		return n.unit, minPack(n.unit, p), nil
	case nStruct:
		cur := n.off
		var maxA int64 = 1
		for _, k := range n.kids {
			ks, ka, err := g.place(k, p)
			if err != nil {
				return 0, 0, err
			}
			k.padBefore = 0
			natural := n.off + alignUp(cur-n.off, ka)
			if natural != k.off {
				if k.off < cur || (k.off-n.off)%ka != 0 {
					return 0, 0, fmt.Errorf("%s at 0x%x: the compiler would put it at 0x%x", itemName(k), k.off, natural)
				}
				k.padBefore = k.off - cur
			}
			cur = k.off + ks
			if ka > maxA {
				maxA = ka
			}
		}
		n.content, n.align = cur-n.off, maxA
		return alignUp(n.content, maxA), maxA, nil
	case nUnion:
		var size, maxA int64 = 0, 1
		for _, k := range n.kids {
			ks, ka, err := g.place(k, p)
			if err != nil {
				return 0, 0, err
			}
			if k.off != n.off {
				return 0, 0, fmt.Errorf("union member %s does not start the union", itemName(k))
			}
			k.padBefore = 0
			if ks > size {
				size = ks
			}
			if ka > maxA {
				maxA = ka
			}
		}
		n.align = maxA
		return alignUp(size, maxA), maxA, nil
	}
	return 0, 0, fmt.Errorf("bad node")
}

func elemType(t *isfType) *isfType {
	for t.Kind == "array" {
		t = t.Subtype
	}
	return t
}
