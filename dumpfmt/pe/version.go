package pe

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// VersionInfo is the image's version resource.
type VersionInfo struct {
	Fixed        [13]uint32 // VS_FIXEDFILEINFO as stored (signature first)
	Strings      []KeyValue // from the first StringTable
	Translations []uint32   // lang<<16 | codepage
}

// KeyValue is one StringFileInfo string.
type KeyValue struct{ Key, Value string }

// Version finds and decodes RT_VERSION.
func (f *File) Version() (*VersionInfo, error) {
	d := f.Dirs[DirResource]
	if d.RVA == 0 || d.Size == 0 {
		return nil, errf(0, "resource directory", "absent")
	}
	dataRVA, size, err := f.findResource(d.RVA, []uint32{16})
	if err != nil {
		return nil, err
	}
	if size > 1<<20 {
		return nil, errf(uint64(dataRVA), "VS_VERSIONINFO", "%d bytes", size)
	}
	b, err := f.rvaBytes(dataRVA, size, "VS_VERSIONINFO")
	if err != nil {
		return nil, err
	}
	return parseVersion(b)
}

// findResource walks the resource tree: the given IDs at the first levels,
// then the first entry of each remaining level, to a data entry.
func (f *File) findResource(root uint32, ids []uint32) (uint32, uint32, error) {
	le := binary.LittleEndian
	dir := uint32(0)
	for level := 0; level < 3; level++ {
		hdr, err := f.rvaBytes(root+dir, 16, "IMAGE_RESOURCE_DIRECTORY")
		if err != nil {
			return 0, 0, err
		}
		n := uint32(le.Uint16(hdr[12:])) + uint32(le.Uint16(hdr[14:]))
		if n > 4096 {
			return 0, 0, errf(uint64(root+dir), "IMAGE_RESOURCE_DIRECTORY", "%d entries", n)
		}
		ents, err := f.rvaBytes(root+dir+16, 8*n, "IMAGE_RESOURCE_DIRECTORY_ENTRY")
		if err != nil {
			return 0, 0, err
		}
		found := false
		for i := uint32(0); i < n; i++ {
			name, off := le.Uint32(ents[8*i:]), le.Uint32(ents[8*i+4:])
			if level < len(ids) && (name&0x80000000 != 0 || name != ids[level]) {
				continue
			}
			if off&0x80000000 != 0 {
				dir = off &^ 0x80000000
				found = true
				break
			}
			de, err := f.rvaBytes(root+off, 16, "IMAGE_RESOURCE_DATA_ENTRY")
			if err != nil {
				return 0, 0, err
			}
			return le.Uint32(de), le.Uint32(de[4:]), nil
		}
		if !found {
			return 0, 0, errf(uint64(root+dir), "resource directory", "no version resource")
		}
	}
	hdr, err := f.rvaBytes(root+dir, 16, "IMAGE_RESOURCE_DIRECTORY")
	if err != nil {
		return 0, 0, err
	}
	_ = hdr
	return 0, 0, errf(uint64(root+dir), "resource directory", "tree deeper than three levels")
}

type vnode struct {
	key      string
	value    []byte
	text     bool
	children []byte
}

func align4(n int) int { return (n + 3) &^ 3 }

// parseNode decodes one VS_VERSIONINFO-style node at the start of b.
func parseNode(b []byte) (vnode, int, error) {
	if len(b) < 6 {
		return vnode{}, 0, fmt.Errorf("version node of %d bytes", len(b))
	}
	le := binary.LittleEndian
	total, vlen, typ := int(le.Uint16(b)), int(le.Uint16(b[2:])), le.Uint16(b[4:])
	if total < 6 || total > len(b) {
		return vnode{}, 0, fmt.Errorf("version node length %d in %d bytes", total, len(b))
	}
	b = b[:total]
	p := 6
	var key []uint16
	for p+2 <= len(b) {
		c := le.Uint16(b[p:])
		p += 2
		if c == 0 {
			break
		}
		key = append(key, c)
	}
	p = align4(p)
	n := vnode{key: string(utf16.Decode(key)), text: typ == 1}
	vbytes := vlen
	if n.text {
		vbytes = 2 * vlen
	}
	if p+vbytes > len(b) {
		vbytes = len(b) - p
		if vbytes < 0 {
			vbytes = 0
		}
	}
	if p <= len(b) {
		n.value = b[p : p+vbytes]
		p = align4(p + vbytes)
	}
	if p < len(b) {
		n.children = b[p:]
	}
	return n, total, nil
}

func eachChild(b []byte, fn func(vnode)) {
	for len(b) >= 6 {
		n, used, err := parseNode(b)
		if err != nil {
			return
		}
		fn(n)
		used = align4(used)
		if used >= len(b) {
			return
		}
		b = b[used:]
	}
}

func utf16z(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

func parseVersion(b []byte) (*VersionInfo, error) {
	root, _, err := parseNode(b)
	if err != nil {
		return nil, err
	}
	if root.key != "VS_VERSION_INFO" || len(root.value) < 52 {
		return nil, fmt.Errorf("pe: version resource has key %q and %d value bytes", root.key, len(root.value))
	}
	v := &VersionInfo{}
	for i := range v.Fixed {
		v.Fixed[i] = binary.LittleEndian.Uint32(root.value[4*i:])
	}
	if v.Fixed[0] != 0xFEEF04BD {
		return nil, fmt.Errorf("pe: VS_FIXEDFILEINFO signature 0x%x", v.Fixed[0])
	}
	eachChild(root.children, func(n vnode) {
		switch n.key {
		case "StringFileInfo":
			first := true
			eachChild(n.children, func(table vnode) {
				if !first {
					return
				}
				first = false
				eachChild(table.children, func(s vnode) {
					v.Strings = append(v.Strings, KeyValue{s.key, utf16z(s.value)})
				})
			})
		case "VarFileInfo":
			eachChild(n.children, func(vr vnode) {
				for i := 0; i+4 <= len(vr.value); i += 4 {
					lang, cp := binary.LittleEndian.Uint16(vr.value[i:]), binary.LittleEndian.Uint16(vr.value[i+2:])
					v.Translations = append(v.Translations, uint32(lang)<<16|uint32(cp))
				}
			})
		}
	})
	return v, nil
}
