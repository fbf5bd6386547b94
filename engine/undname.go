package engine

import "strings"

// Undecorate turns an MSVC-decorated name into the qualified name WinDbg
// shows in stacks and `x`/`ln` output: `?Initialize@VmNetworkInterfaceTable@@QEAAJXZ`
// becomes `VmNetworkInterfaceTable::Initialize`. Names it cannot read
// (templates, most operators) are returned as they are.
func Undecorate(name string) string {
	if strings.HasPrefix(name, "__imp_") {
		return "_imp_" + Undecorate(name[6:])
	}
	if !strings.HasPrefix(name, "?") || strings.HasPrefix(name, "??_") || strings.Contains(name, "?$") {
		return name
	}
	body := name[1:]
	special := ""
	if strings.HasPrefix(body, "?0") || strings.HasPrefix(body, "?1") {
		special = body[:2]
		body = body[2:]
	} else if strings.HasPrefix(body, "?") {
		return name
	}
	end := strings.Index(body, "@@")
	if end < 0 {
		return name
	}
	parts := strings.Split(body[:end], "@")
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, "?$") || (len(p) == 1 && p[0] >= '0' && p[0] <= '9') {
			return name // back-references and nested names need the full grammar
		}
	}
	// Scopes are innermost first.
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	switch special {
	case "?0": // constructor: the name is the class itself
		parts = append(parts, parts[len(parts)-1])
	case "?1":
		parts = append(parts, "~"+parts[len(parts)-1])
	}
	return strings.Join(parts, "::")
}
