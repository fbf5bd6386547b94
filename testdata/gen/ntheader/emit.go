package main

import (
	"fmt"
	"sort"
	"strings"
)

var cKeywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`auto break case char const continue default do double else enum extern float for
		goto if inline int long register restrict return short signed sizeof static struct switch typedef union
		unsigned void volatile while _Bool _Complex _Imaginary _Alignas _Alignof _Atomic _Generic _Noreturn
		_Static_assert _Thread_local`) {
		cKeywords[k] = true
	}
}

type emitter struct {
	g       *gen
	b       strings.Builder
	asserts []string
	top     string // the spelled top type of the asserts, e.g. "struct _KTHREAD"
}

func (e *emitter) printf(format string, a ...any) { fmt.Fprintf(&e.b, format, a...) }

func tagOf(kind string) string {
	if kind == "union" {
		return "union"
	}
	return "struct"
}

// decl spells a declaration of inner with type t.
func (g *gen) decl(t *isfType, inner string) (string, error) {
	switch t.Kind {
	case "base":
		c, ok := baseC[t.Name]
		if !ok {
			return "", fmt.Errorf("no C spelling for base type %q", t.Name)
		}
		return c + " " + inner, nil
	case "struct", "union":
		kind := t.Kind
		if u := g.f.UserTypes[t.Name]; u != nil {
			kind = u.Kind
		}
		return tagOf(kind) + " " + t.Name + " " + inner, nil
	case "enum":
		return "enum " + t.Name + " " + inner, nil
	case "pointer":
		if t.Subtype.Kind == "array" || t.Subtype.Kind == "function" {
			return g.decl(t.Subtype, "(*"+inner+")")
		}
		return g.decl(t.Subtype, "*"+inner)
	case "array":
		return g.decl(t.Subtype, fmt.Sprintf("%s[%d]", inner, t.Count))
	case "function":
		// The ISF does not record a function pointer's signature.
		return "VOID " + inner + "(void)", nil
	}
	return "", fmt.Errorf("no C spelling for a %s", t.Kind)
}

func pad(s string, col int) string {
	if len(s) < col {
		return s + strings.Repeat(" ", col-len(s))
	}
	return s + " "
}

// padding emits n bytes of unnamed bit fields at offset rel of a structure of
// alignment a (unnamed bit fields take their bytes but are not members: the
// PDB does not list them).
func (e *emitter) padding(ind string, n, rel, a int64, at int64) {
	if n <= 0 {
		return
	}
	e.printf("%s/* 0x%x bytes the ISF names no member for, at 0x%03x */\n", ind, n, at)
	units := []struct {
		size int64
		name string
	}{{8, "ULONGLONG"}, {4, "ULONG"}, {2, "USHORT"}, {1, "UCHAR"}}
	var parts []string
	for n > 0 {
		for _, u := range units {
			if u.size <= a && rel%u.size == 0 && n >= u.size {
				parts = append(parts, fmt.Sprintf("%s : %d;", u.name, u.size*8))
				rel += u.size
				n -= u.size
				break
			}
		}
	}
	// Collapse into lines of a few declarations.
	for i := 0; i < len(parts); i += 8 {
		j := i + 8
		if j > len(parts) {
			j = len(parts)
		}
		e.printf("%s%s\n", ind, strings.Join(parts[i:j], " "))
	}
}

// members emits the members of a structure or union node. base is the
// absolute offset of the node's type in the top type; prefix is the member
// path of an inline unnamed type ("Overlay.").
func (e *emitter) members(n *node, ind string, base int64, prefix string) error {
	for _, k := range n.kids {
		if n.kind == nStruct {
			e.padding(ind, k.padBefore, k.off-k.padBefore-n.off, n.align, base+k.off-k.padBefore)
		}
		if n.kind == nUnion && k.kind == nRun {
			// A union member of its own: the run's bit fields share a unit.
			e.printf("%sstruct {\n", ind)
			if err := e.member(k, ind+"    ", base, prefix); err != nil {
				return err
			}
			e.printf("%s};\n", ind)
			continue
		}
		if err := e.member(k, ind, base, prefix); err != nil {
			return err
		}
	}
	return nil
}

func (e *emitter) member(k *node, ind string, base int64, prefix string) error {
	g := e.g
	switch k.kind {
	case nStruct, nUnion:
		e.printf("%s%s {\n", ind, map[nodeKind]string{nStruct: "struct", nUnion: "union"}[k.kind])
		if err := e.members(k, ind+"    ", base, prefix); err != nil {
			return err
		}
		e.printf("%s};\n", ind)
	case nRun:
		var pos int64
		tname := k.run[0].t.Type.Name
		c := baseC[tname]
		for _, bf := range k.run {
			if bf.t.Type.Name != tname {
				// Bit fields of one unit may differ in signedness; the unit is the same.
				c = baseC[bf.t.Type.Name]
			}
			if bf.t.BitPosition > pos {
				e.printf("%s%s\n", ind, pad(fmt.Sprintf("%s : %d;", c, bf.t.BitPosition-pos), 52)+"/* unnamed */")
			}
			if cKeywords[bf.name] {
				return fmt.Errorf("member %s is a C keyword", bf.name)
			}
			e.printf("%s%s/* 0x%03x bits %d-%d */\n", ind, pad(fmt.Sprintf("%s %s : %d;", c, bf.name, bf.t.BitLength), 52),
				base+k.off, bf.t.BitPosition, bf.t.BitPosition+bf.t.BitLength-1)
			pos = bf.t.BitPosition + bf.t.BitLength
		}
		if pos < k.unit*8 {
			e.printf("%s%s\n", ind, pad(fmt.Sprintf("%s : %d;", c, k.unit*8-pos), 52)+"/* unnamed: the rest of the unit */")
		}
	case nLeaf:
		f := k.f
		if cKeywords[f.name] {
			return fmt.Errorf("member %s is a C keyword", f.name)
		}
		abs := base + k.off
		if et := elemType(f.t); (et.Kind == "struct" || et.Kind == "union") && g.inline[et.Name] {
			dims, path := "", prefix+f.name
			for t := f.t; t.Kind == "array"; t = t.Subtype {
				dims += fmt.Sprintf("[%d]", t.Count)
				path += "[0]"
			}
			tree := g.trees[et.Name]
			u := g.f.UserTypes[et.Name]
			e.printf("%s%s/* 0x%03x (%s, 0x%x bytes) */\n", ind, pad(tagOf(u.Kind)+" {", 52), abs, et.Name, u.Size)
			if err := e.members(tree, ind+"    ", abs, path+"."); err != nil {
				return err
			}
			if tree.kind == nStruct {
				e.padding(ind+"    ", tree.padAfter, tree.content, tree.align, abs+tree.content)
			}
			e.printf("%s} %s%s;\n", ind, f.name, dims)
			e.asserts = append(e.asserts, fmt.Sprintf("NT_OFFSET(%s, %s, 0x%x);", e.top, prefix+f.name, abs))
			e.asserts = append(e.asserts, fmt.Sprintf("NT_MEMBER_SIZE(%s, %s, 0x%x);", e.top, path, u.Size))
			return nil
		}
		d, err := g.decl(f.t, f.name)
		if err != nil {
			return fmt.Errorf("%s: %v", f.name, err)
		}
		note := ""
		if elemType(f.t).Kind == "function" || (f.t.Kind == "pointer" && elemType(f.t.Subtype).Kind == "function") {
			note = " function pointer; the ISF has no signature"
		}
		e.printf("%s%s/* 0x%03x%s */\n", ind, pad(d+";", 52), abs, note)
		e.asserts = append(e.asserts, fmt.Sprintf("NT_OFFSET(%s, %s, 0x%x);", e.top, prefix+f.name, abs))
	}
	return nil
}

const headerIntro = `/* nt9600.h: Windows 8.1 / Server 2012 R2 (build 9600) x64 kernel structures,
 * with the offsets and sizes of the real ntkrnlmp.pdb 6.3.9600.19913
 * (GUID 22597D0B40394E23936F6A24C6C52D5B, age 1).
 *
 * GENERATED by testdata/gen/ntheader from the Volatility 3 ISF file of that
 * PDB (../shared/realdumps/isf/symbols/windows/ntkrnlmp.pdb/...json.xz); do
 * not edit. Regenerate from the module root with
 *     go run ./testdata/gen/ntheader
 *
 * The ISF lists each structure's fields flat, in name order. The nesting of
 * anonymous unions and structures below is rebuilt from the offsets (it need
 * not be Microsoft's: CodeView flattens anonymous members into the parent's
 * field list, as the ISF does, so the PDB's members are the same). Members
 * are in offset order; members that share bytes are alternatives of an
 * anonymous union. Unnamed bit fields only fill bytes or bits that the ISF
 * names no member for: they take space but are not members, so the PDB does
 * not list them. Every member offset and every size is checked by a
 * _Static_assert (bit fields cannot be given to offsetof: the Go test
 * testdata/gen/ntheader checks them in the built PDB against the ISF).
 * Function pointers are VOID (*)(void): the ISF records no signatures.
 * The types at the end (after "Not in the ISF") are written by hand.
 */
#ifndef NTDBG_NT9600_H
#define NTDBG_NT9600_H

typedef char CHAR;
typedef unsigned char UCHAR;
typedef short SHORT;
typedef unsigned short USHORT;
typedef int INT;
typedef unsigned int UINT;
typedef long LONG;
typedef unsigned long ULONG;
typedef long long LONGLONG;
typedef unsigned long long ULONGLONG;
typedef __wchar_t WCHAR; /* CodeView T_WCHAR, as the ISF's "wchar" */
typedef void VOID;
typedef double DOUBLE;
typedef float FLOAT;

#define NT_OFFSET(type, member, off) \
    _Static_assert(__builtin_offsetof(type, member) == (off), #type "." #member " at " #off)
#define NT_SIZE(type, size) _Static_assert(sizeof(type) == (size), "sizeof(" #type ") == " #size)
#define NT_MEMBER_SIZE(type, member, size) \
    _Static_assert(sizeof(((type *)0)->member) == (size), "sizeof " #type "." #member " == " #size)

`

func (g *gen) emit() (string, error) {
	e := &emitter{g: g}
	e.b.WriteString(headerIntro)
	idents := map[string]string{}
	for _, c := range baseC {
		idents[c] = "base typedef"
	}
	// Enums.
	e.printf("/* ---- Enums ---- */\n\n")
	for _, name := range sortedKeys(g.enums) {
		en := g.f.Enums[name]
		type kv struct {
			k string
			v int64
		}
		var cs []kv
		for k, v := range en.Constants {
			cs = append(cs, kv{k, v})
		}
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].v != cs[j].v {
				return cs[i].v < cs[j].v
			}
			return cs[i].k < cs[j].k
		})
		e.printf("enum %s {\n", name)
		for _, c := range cs {
			if other, dup := idents[c.k]; dup {
				return "", fmt.Errorf("enumerator %s of %s is also %s", c.k, name, other)
			}
			idents[c.k] = "an enumerator of " + name
			e.printf("    %s = %d,\n", c.k, c.v)
		}
		e.printf("};\n")
		e.printf("NT_SIZE(enum %s, %d);\n", name, en.Size)
		if td := strings.TrimPrefix(name, "_"); td != name {
			if _, dup := idents[td]; !dup {
				idents[td] = "typedef"
				e.printf("typedef enum %s %s;\n", name, td)
			}
		}
		e.printf("\n")
	}
	// Forward declarations of every tag a pointer names.
	e.printf("/* ---- Structure tags (pointers may name types defined later or not at all) ---- */\n\n")
	tags := map[string]string{}
	for n, k := range g.fwd {
		tags[n] = k
	}
	for n := range g.types {
		tags[n] = g.f.UserTypes[n].Kind
	}
	for _, n := range sortedKeys(tags) {
		e.printf("%s %s;\n", tagOf(tags[n]), n)
	}
	e.printf("\n/* ---- Structures, each after those it holds by value ---- */\n\n")
	for _, name := range g.order {
		u := g.f.UserTypes[name]
		tree := g.trees[name]
		if _, err := g.layout(tree, name, g.pack[name]); err != nil {
			return "", err
		}
		e.top = tagOf(u.Kind) + " " + name
		e.asserts = nil
		if p := g.pack[name]; p != 0 {
			e.printf("#pragma pack(push, %d) /* some members are not at their natural alignment */\n", p)
		}
		e.printf("/* 0x%x bytes */\n%s {\n", u.Size, e.top)
		if err := e.members(tree, "    ", 0, ""); err != nil {
			return "", fmt.Errorf("%s: %v", name, err)
		}
		if tree.kind == nStruct {
			e.padding("    ", tree.padAfter, tree.content, tree.align, tree.content)
		}
		e.printf("};\n")
		if g.pack[name] != 0 {
			e.printf("#pragma pack(pop)\n")
		}
		e.printf("NT_SIZE(%s, 0x%x);\n", e.top, u.Size)
		for _, a := range e.asserts {
			e.printf("%s\n", a)
		}
		if td := strings.TrimPrefix(name, "_"); td != name && !isUnnamed(name) {
			if _, dup := idents[td]; !dup {
				idents[td] = "typedef"
				e.printf("typedef %s %s, *P%s;\n", e.top, td, td)
			}
		}
		e.printf("\n")
	}
	e.b.WriteString(handWritten)
	e.b.WriteString("\n#endif /* NTDBG_NT9600_H */\n")
	return e.b.String(), nil
}
