package undname

import (
	"fmt"
	"strconv"
	"strings"
)

// MSVC C++ name undecoration. Demangle renders the full declaration the way
// llvm-undname does (and WinDbg's `x`/`ln` would); Undecorate keeps only the
// qualified name, which is what WinDbg shows in stacks:
// `?Initialize@VmNetworkInterfaceTable@@QEAAJXZ` → `VmNetworkInterfaceTable::Initialize`.

// Undecorate returns the qualified name of a decorated symbol, or the name
// unchanged when it is not decorated or cannot be read.
func Undecorate(name string) string {
	if strings.HasPrefix(name, "__imp_") {
		return "_imp_" + Undecorate(name[6:])
	}
	if !strings.HasPrefix(name, "?") {
		return name
	}
	p := &demangler{s: name}
	sym := p.parse()
	if p.bad || sym == nil || sym.qual == "" || p.pos != len(p.s) {
		return name
	}
	return sym.qual
}

// Demangle renders a decorated name in full. ok is false when the name is
// not decorated or does not follow the grammar.
func Demangle(name string) (string, bool) {
	if !strings.HasPrefix(name, "?") {
		return "", false
	}
	p := &demangler{s: name}
	sym := p.parse()
	if p.bad || sym == nil || p.pos != len(p.s) {
		return "", false
	}
	return sym.full, true
}

type demangler struct {
	s     string
	pos   int
	bad   bool
	names []string // name back-references
	types []*mtype // function parameter back-references
}

type symbol struct {
	full string // the whole declaration
	qual string // the qualified name alone
}

func (p *demangler) fail() { p.bad = true }

func (p *demangler) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *demangler) eat(prefix string) bool {
	if !p.bad && strings.HasPrefix(p.s[p.pos:], prefix) {
		p.pos += len(prefix)
		return true
	}
	return false
}

func (p *demangler) next() byte {
	if p.pos >= len(p.s) {
		p.fail()
		return 0
	}
	c := p.s[p.pos]
	p.pos++
	return c
}

func (p *demangler) memorize(n string) {
	for _, x := range p.names {
		if x == n {
			return
		}
	}
	if len(p.names) < 10 {
		p.names = append(p.names, n)
	}
}

// number reads an encoded number: 0-9 mean 1-10, else hex digits A-P ended
// by '@'; a leading '?' negates.
func (p *demangler) number() (int64, bool) {
	neg := p.eat("?")
	c := p.peek()
	if c >= '0' && c <= '9' {
		p.pos++
		v := int64(c-'0') + 1
		if neg {
			v = -v
		}
		return v, neg
	}
	var v uint64
	for {
		c := p.next()
		if p.bad {
			return 0, neg
		}
		if c == '@' {
			break
		}
		if c < 'A' || c > 'P' {
			p.fail()
			return 0, neg
		}
		v = v<<4 | uint64(c-'A')
	}
	if neg {
		return -int64(v), neg
	}
	return int64(v), neg
}

func (p *demangler) parse() *symbol {
	if p.eat("??_C@_") {
		return p.stringLiteral()
	}
	p.eat("?")
	if strings.HasPrefix(p.s[p.pos:], "?_") {
		if sym, ok := p.specialTable(); ok {
			return sym
		}
	}
	first, kind := p.firstName()
	if p.bad {
		return nil
	}
	scope := p.scopes()
	if p.bad {
		return nil
	}
	comps := append(scope, first)
	switch kind {
	case "ctor":
		comps[len(comps)-1] = lastTemplateFree(scope)
	case "dtor":
		comps[len(comps)-1] = "~" + lastTemplateFree(scope)
	}
	qual := strings.Join(comps, "::")
	return p.encoding(qual, kind)
}

// lastTemplateFree is the innermost scope name without template arguments
// (a constructor of Foo<int> is named Foo).
func lastTemplateFree(scope []string) string {
	if len(scope) == 0 {
		return ""
	}
	n := scope[len(scope)-1]
	if i := strings.IndexByte(n, '<'); i > 0 {
		return n[:i]
	}
	return n
}

var operators = map[string]string{
	"2": "operator new", "3": "operator delete", "4": "operator=", "5": "operator>>", "6": "operator<<",
	"7": "operator!", "8": "operator==", "9": "operator!=", "A": "operator[]", "C": "operator->", "D": "operator*",
	"E": "operator++", "F": "operator--", "G": "operator-", "H": "operator+", "I": "operator&", "J": "operator->*",
	"K": "operator/", "L": "operator%", "M": "operator<", "N": "operator<=", "O": "operator>", "P": "operator>=",
	"Q": "operator,", "R": "operator()", "S": "operator~", "T": "operator^", "U": "operator|", "V": "operator&&",
	"W": "operator||", "X": "operator*=", "Y": "operator+=", "Z": "operator-=", "_0": "operator/=", "_1": "operator%=",
	"_2": "operator>>=", "_3": "operator<<=", "_4": "operator&=", "_5": "operator|=", "_6": "operator^=",
	"_U": "operator new[]", "_V": "operator delete[]", "__L": "operator co_await", "__M": "operator<=>",
}

var specialNames = map[string]string{
	"_7": "`vftable'", "_8": "`vbtable'", "_9": "`vcall'", "_A": "`typeof'", "_B": "`local static guard'",
	"_D": "`vbase dtor'", "_E": "`vector deleting dtor'", "_F": "`default ctor closure'", "_G": "`scalar deleting dtor'",
	"_H": "`vector ctor iterator'", "_I": "`vector dtor iterator'", "_J": "`vector vbase ctor iterator'",
	"_K": "`virtual displacement map'", "_L": "`eh vector ctor iterator'", "_M": "`eh vector dtor iterator'",
	"_N": "`eh vector vbase ctor iterator'", "_O": "`copy ctor closure'", "_S": "`local vftable'",
	"_T": "`local vftable ctor closure'", "_X": "`placement delete closure'", "_Y": "`placement delete[] closure'",
}

// firstName reads the unqualified name of the symbol itself: a plain name,
// a back-reference, a template instance, an operator or a special name.
func (p *demangler) firstName() (string, string) {
	if p.eat("?$") {
		return p.templateName(), ""
	}
	if p.eat("?") {
		switch {
		case p.eat("0"):
			return "", "ctor"
		case p.eat("1"):
			return "", "dtor"
		case p.eat("B"):
			return "operator", "conversion"
		}
		for _, k := range []string{"__L", "__M", "_0", "_1", "_2", "_3", "_4", "_5", "_6", "_U", "_V"} {
			if p.eat(k) {
				return operators[k], ""
			}
		}
		for k, v := range specialNames {
			if p.eat(k) {
				return v, "special"
			}
		}
		c := string(p.next())
		if op, ok := operators[c]; ok {
			return op, ""
		}
		p.fail()
		return "", ""
	}
	return p.simpleName(true), ""
}

func (p *demangler) simpleName(memorize bool) string {
	c := p.peek()
	if c >= '0' && c <= '9' {
		p.pos++
		if int(c-'0') >= len(p.names) {
			p.fail()
			return ""
		}
		return p.names[c-'0']
	}
	end := strings.IndexByte(p.s[p.pos:], '@')
	if end <= 0 {
		p.fail()
		return ""
	}
	n := p.s[p.pos : p.pos+end]
	p.pos += end + 1
	if memorize {
		p.memorize(n)
	}
	return n
}

// templateName reads `name` + template arguments up to '@', in a fresh
// back-reference context, and memorizes the whole instance.
func (p *demangler) templateName() string {
	savedN, savedT := p.names, p.types
	p.names, p.types = nil, nil
	var base string
	if p.eat("?") {
		for _, k := range []string{"__L", "__M", "_0", "_1", "_2", "_3", "_4", "_5", "_6", "_U", "_V"} {
			if p.eat(k) {
				base = operators[k]
			}
		}
		if base == "" {
			c := string(p.next())
			base = operators[c]
			if base == "" {
				p.fail()
			}
		}
	} else {
		base = p.simpleName(true)
	}
	var args []string
	for !p.bad && !p.eat("@") {
		args = append(args, p.templateArg())
		if p.pos >= len(p.s) {
			p.fail()
		}
	}
	p.names, p.types = savedN, savedT
	name := base + "<" + strings.Join(args, ", ") + ">"
	p.memorize(name)
	return name
}

func (p *demangler) templateArg() string {
	switch {
	case p.eat("$$V"), p.eat("$$Z"), p.eat("$S"):
		return ""
	case p.eat("$0"):
		v, _ := p.number()
		return strconv.FormatInt(v, 10)
	case p.eat("$1"):
		sub := &demangler{s: p.s[p.pos:]}
		sym := sub.parseInner()
		if sub.bad {
			p.fail()
			return ""
		}
		p.pos += sub.pos
		return "&" + sym
	}
	t := p.typ()
	return render(t, "")
}

// parseInner parses a nested `?name@...` (a template argument's symbol).
func (p *demangler) parseInner() string {
	if !p.eat("?") {
		p.fail()
		return ""
	}
	sym := p.parse()
	if sym == nil {
		return ""
	}
	return sym.full
}

// scopes reads the enclosing names up to '@', innermost first, and returns
// them outermost first.
func (p *demangler) scopes() []string {
	var out []string
	for !p.bad {
		if p.eat("@") {
			break
		}
		if p.pos >= len(p.s) {
			p.fail()
			break
		}
		switch {
		case p.eat("?$"):
			out = append(out, p.templateName())
		case p.eat("?A"):
			end := strings.IndexByte(p.s[p.pos:], '@')
			if end < 0 {
				p.fail()
				break
			}
			p.pos += end + 1
			p.memorize("`anonymous namespace'")
			out = append(out, "`anonymous namespace'")
		case p.peek() == '?':
			p.pos++
			v, _ := p.number()
			piece := fmt.Sprintf("`%d'", v)
			if p.eat("?") {
				sub := &demangler{s: p.s[p.pos:]}
				sym := sub.parse()
				if sub.bad || sym == nil {
					p.fail()
					break
				}
				p.pos += sub.pos
				piece = "`" + sym.full + "'::" + piece
			}
			out = append(out, piece)
		default:
			out = append(out, p.simpleName(true))
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

var access = map[byte]string{'A': "private: ", 'B': "private: ", 'C': "private: static ", 'D': "private: static ",
	'E': "private: virtual ", 'F': "private: virtual ", 'G': "[thunk]: private: virtual ", 'H': "[thunk]: private: virtual ",
	'I': "protected: ", 'J': "protected: ", 'K': "protected: static ", 'L': "protected: static ",
	'M': "protected: virtual ", 'N': "protected: virtual ", 'O': "[thunk]: protected: virtual ", 'P': "[thunk]: protected: virtual ",
	'Q': "public: ", 'R': "public: ", 'S': "public: static ", 'T': "public: static ",
	'U': "public: virtual ", 'V': "public: virtual ", 'W': "[thunk]: public: virtual ", 'X': "[thunk]: public: virtual ",
	'Y': "", 'Z': ""}

func callConv(c byte) string {
	switch c {
	case 'A', 'B':
		return "__cdecl"
	case 'C', 'D':
		return "__pascal"
	case 'E', 'F':
		return "__thiscall"
	case 'G', 'H':
		return "__stdcall"
	case 'I', 'J':
		return "__fastcall"
	case 'M', 'N':
		return "__clrcall"
	case 'O', 'P':
		return "__eabi"
	case 'Q':
		return "__vectorcall"
	case 'S':
		return "__attribute__((__swiftcall__))"
	}
	return ""
}

var storageAccess = map[byte]string{'0': "private: static ", '1': "protected: static ", '2': "public: static ", '3': "", '4': ""}

func (p *demangler) encoding(qual, kind string) *symbol {
	c := p.next()
	if p.bad {
		return nil
	}
	if acc, ok := storageAccess[c]; ok {
		t := p.typ()
		cv := p.storageQualifiers()
		if t.kind == kMemPtr && !p.bad && p.pos > 0 && strings.ContainsRune("QRST", rune(p.s[p.pos-1])) {
			p.tagName() // a member pointer's storage names its class again
		}
		if t.kind != kPtr && t.kind != kRef && t.kind != kRRef && t.kind != kMemPtr {
			t.cv += cv // pointer variables: llvm-undname shows only the pointer's own qualifiers
		}
		return &symbol{full: acc + render(t, qual), qual: qual}
	}
	switch c {
	case '6', '7':
		cv := p.storageQualifiers()
		full := strings.TrimSpace(cv) + " " + qual
		if !p.eat("@") {
			var fors []string
			for !p.bad && !p.eat("@") {
				s := p.scopes()
				fors = append(fors, "`"+strings.Join(s, "::")+"'")
			}
			full += "{for " + strings.Join(fors, "") + "}"
		}
		return &symbol{full: strings.TrimSpace(full), qual: qual}
	case '8':
		return &symbol{full: qual, qual: qual}
	case '9':
		return &symbol{full: "extern \"C\" " + qual, qual: qual}
	case '$':
		return p.thunk(qual)
	}
	acc, ok := access[c]
	if !ok {
		p.fail()
		return nil
	}
	if strings.HasPrefix(acc, "[thunk]") {
		adj, _ := p.number()
		qual += fmt.Sprintf("`adjustor{%d}'", adj)
	}
	member := c < 'Y' && !strings.Contains(acc, "static")
	thisQuals := ""
	if member {
		thisQuals = p.thisQualifiers()
	}
	cc := callConv(p.next())
	var ret *mtype
	if !p.eat("@") {
		if p.eat("?") {
			cv := p.cv()
			ret = p.typ()
			ret.cv += cv
		} else {
			ret = p.typ()
		}
	}
	args, variadic := p.params()
	p.throwSpec()
	if p.bad {
		return nil
	}
	if kind == "conversion" {
		qual += " " + render(ret, "")
		ret = nil
	}
	f := &mtype{kind: kFunc, cc: cc, args: args, variadic: variadic, fquals: thisQuals, inner: ret}
	decl := renderFunctionDecl(f, qual)
	return &symbol{full: acc + decl, qual: qual}
}

func (p *demangler) thunk(qual string) *symbol {
	// ??_9 vcall thunks: $B <offset> A <calling convention>
	if !p.eat("B") {
		p.fail()
		return nil
	}
	off, _ := p.number()
	if !p.eat("A") {
		p.fail()
		return nil
	}
	cc := callConv(p.next())
	return &symbol{full: fmt.Sprintf("[thunk]: %s %s{%d, {flat}}", cc, qual, off), qual: qual}
}

func (p *demangler) thisQualifiers() string {
	q := ""
	for {
		switch {
		case p.eat("E"):
		case p.eat("I"):
			q += " __restrict"
		case p.eat("F"):
			q += " __unaligned"
		default:
			goto cv
		}
	}
cv:
	ref := ""
	if p.eat("G") {
		ref = " &"
	} else if p.eat("H") {
		ref = " &&"
	}
	return p.cv() + q + ref
}

// cv reads a qualifier letter: A none, B const, C volatile, D both.
func (p *demangler) cv() string {
	switch p.next() {
	case 'A', 'Q', 'U', 'Y':
		return ""
	case 'B', 'R', 'V', 'Z':
		return " const"
	case 'C', 'S', 'W', '0':
		return " volatile"
	case 'D', 'T', 'X', '1':
		return " const volatile"
	}
	p.fail()
	return ""
}

func (p *demangler) storageQualifiers() string {
	for p.eat("E") || p.eat("I") || p.eat("F") {
	}
	return p.cv()
}

func (p *demangler) params() ([]*mtype, bool) {
	if p.eat("X") {
		return nil, false
	}
	var args []*mtype
	for !p.bad {
		if p.eat("@") {
			return args, false
		}
		if p.eat("Z") {
			return args, true
		}
		start := p.pos
		c := p.peek()
		t := p.typ()
		if !(c >= '0' && c <= '9') && p.pos-start > 1 && len(p.types) < 10 {
			p.types = append(p.types, t)
		}
		args = append(args, t)
		if p.pos >= len(p.s) {
			p.fail()
		}
	}
	return args, false
}

func (p *demangler) throwSpec() {
	if p.eat("_E") {
		return
	}
	if !p.eat("Z") {
		p.fail()
	}
}

// ---- types ----

const (
	kPrim = iota
	kTag
	kPtr
	kRef
	kRRef
	kFunc
	kArray
	kMemPtr
)

type mtype struct {
	kind     int
	name     string // primitive or tag text
	cv       string // " const" etc., applied to this type
	inner    *mtype // pointee, element, return type
	ptrQuals string // qualifiers of the pointer itself
	class    string // member pointers
	cc       string
	args     []*mtype
	variadic bool
	fquals   string
	dims     []int64
}

var prims = map[string]string{"X": "void", "C": "signed char", "D": "char", "E": "unsigned char", "F": "short",
	"G": "unsigned short", "H": "int", "I": "unsigned int", "J": "long", "K": "unsigned long", "M": "float",
	"N": "double", "O": "long double", "_J": "__int64", "_K": "unsigned __int64", "_N": "bool", "_W": "wchar_t",
	"_S": "char16_t", "_U": "char32_t", "_Q": "char8_t", "_L": "__int128", "_M": "unsigned __int128", "$$T": "std::nullptr_t"}

func (p *demangler) typ() *mtype {
	if p.bad {
		return &mtype{kind: kPrim, name: "?"}
	}
	c := p.peek()
	if c >= '0' && c <= '9' {
		p.pos++
		if int(c-'0') >= len(p.types) {
			p.fail()
			return &mtype{kind: kPrim}
		}
		cp := *p.types[c-'0']
		return &cp
	}
	for _, k := range []string{"$$T", "_J", "_K", "_N", "_W", "_S", "_U", "_Q", "_L", "_M"} {
		if p.eat(k) {
			return &mtype{kind: kPrim, name: prims[k]}
		}
	}
	switch {
	case p.eat("$$C"):
		cv := p.cv()
		t := p.typ()
		t.cv += cv
		return t
	case p.eat("$$Q"):
		return p.pointer(kRRef, "")
	case p.eat("$$R"):
		return p.pointer(kRRef, " volatile")
	case p.eat("$$A6"):
		return p.functionType()
	case p.eat("$$B"):
		return p.typ()
	case p.eat("?"):
		cv := p.cv()
		t := p.typ()
		t.cv += cv
		return t
	}
	c = p.next()
	switch c {
	case 'X', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'M', 'N', 'O':
		return &mtype{kind: kPrim, name: prims[string(c)]}
	case 'T', 'U', 'V':
		kw := map[byte]string{'T': "union ", 'U': "struct ", 'V': "class "}[c]
		return &mtype{kind: kTag, name: kw + strings.Join(p.tagName(), "::")}
	case 'W':
		p.next() // enum base type digit
		return &mtype{kind: kTag, name: "enum " + strings.Join(p.tagName(), "::")}
	case 'P':
		return p.pointer(kPtr, "")
	case 'Q':
		return p.pointer(kPtr, " const")
	case 'R':
		return p.pointer(kPtr, " volatile")
	case 'S':
		return p.pointer(kPtr, " const volatile")
	case 'A':
		return p.pointer(kRef, "")
	case 'B':
		return p.pointer(kRef, " volatile")
	case 'Y':
		n, _ := p.number()
		if n < 0 || n > 16 {
			p.fail()
			return &mtype{}
		}
		var dims []int64
		for i := int64(0); i < n; i++ {
			d, _ := p.number()
			dims = append(dims, d)
		}
		return &mtype{kind: kArray, dims: dims, inner: p.typ()}
	}
	p.fail()
	return &mtype{}
}

// tagName reads a tag type's qualified name (first name plus scopes).
func (p *demangler) tagName() []string {
	var first string
	if p.eat("?$") {
		first = p.templateName()
	} else {
		first = p.simpleName(true)
	}
	return append(p.scopes(), first)
}

func (p *demangler) pointer(kind int, quals string) *mtype {
	t := &mtype{kind: kind, ptrQuals: quals}
	if p.eat("6") {
		t.inner = p.functionType()
		return t
	}
	if p.eat("8") {
		cls := strings.Join(p.tagName(), "::")
		thisq := p.thisQualifiers()
		ft := p.functionTypeRest()
		ft.fquals = thisq
		t.kind, t.class, t.inner = kMemPtr, cls, ft
		t.ptrQuals = quals
		return t
	}
	unaligned := ""
	for {
		switch {
		case p.eat("E"):
			continue
		case p.eat("I"):
			t.ptrQuals += " __restrict"
			continue
		case p.eat("F"):
			unaligned = " __unaligned"
			continue
		}
		break
	}
	c := p.peek()
	if c == 'Q' || c == 'R' || c == 'S' || c == 'T' {
		// pointer to data member: qualifier, class, member type
		cv := p.cv()
		cls := strings.Join(p.tagName(), "::")
		inner := p.typ()
		inner.cv += cv
		return &mtype{kind: kMemPtr, class: cls, inner: inner, ptrQuals: t.ptrQuals}
	}
	cv := p.cv()
	t.inner = p.typ()
	t.inner.cv += cv + unaligned
	return t
}

func (p *demangler) functionType() *mtype {
	return p.functionTypeRest()
}

func (p *demangler) functionTypeRest() *mtype {
	cc := callConv(p.next())
	var ret *mtype
	if !p.eat("@") {
		ret = p.typ()
	}
	args, variadic := p.params()
	p.throwSpec()
	return &mtype{kind: kFunc, cc: cc, inner: ret, args: args, variadic: variadic}
}

// render writes a type around a declarator (a name, or the `*`s and
// qualifiers built up by enclosing pointers), in llvm-undname's spelling.
func render(t *mtype, decl string) string {
	if t == nil {
		return decl
	}
	switch t.kind {
	case kPrim, kTag:
		s := t.name + t.cv
		if decl != "" {
			s += " " + decl
		}
		return s
	case kPtr, kRef, kRRef:
		op := map[int]string{kPtr: "*", kRef: "&", kRRef: "&&"}[t.kind]
		d := op + strings.TrimPrefix(t.ptrQuals, " ")
		if strings.HasPrefix(t.ptrQuals, " ") && t.ptrQuals != "" {
			d = op + strings.TrimPrefix(t.ptrQuals, " ")
		}
		if decl != "" {
			if isCallConvDecl(decl) || strings.HasPrefix(decl, "(") || (t.ptrQuals != "" && !strings.HasPrefix(decl, "*") && !strings.HasPrefix(decl, "&")) {
				d += " " + decl
			} else {
				d += decl
			}
		}
		if t.inner != nil && t.inner.kind == kArray {
			d = "(" + d + ")"
		}
		return render(t.inner, d)
	case kMemPtr:
		d := t.class + "::*" + strings.TrimPrefix(t.ptrQuals, " ")
		if decl != "" {
			if t.ptrQuals != "" && !strings.HasPrefix(decl, "*") {
				d += " "
			}
			d += decl
		}
		return render(t.inner, d)
	case kArray:
		s := decl
		for _, n := range t.dims {
			s += fmt.Sprintf("[%d]", n)
		}
		return render(t.inner, s)
	case kFunc:
		return renderFunctionType(t, decl)
	}
	return decl
}

func isCallConvDecl(d string) bool {
	for _, cc := range []string{"__cdecl", "__pascal", "__thiscall", "__stdcall", "__fastcall", "__clrcall", "__eabi", "__vectorcall"} {
		if strings.HasPrefix(d, cc) {
			return true
		}
	}
	return false
}

func argList(t *mtype) string {
	var parts []string
	for _, a := range t.args {
		parts = append(parts, render(a, ""))
	}
	if t.variadic {
		parts = append(parts, "...")
	}
	if len(parts) == 0 {
		return "(void)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// renderFunctionType renders a function type used through a pointer:
// `ret (cc *decl)(args)`.
func renderFunctionType(t *mtype, decl string) string {
	inner := t.cc
	if decl != "" {
		inner += " " + decl
	}
	return render(t.inner, "("+inner+")"+argList(t)+t.fquals)
}

// renderFunctionDecl renders a function symbol: `ret cc name(args) quals`.
func renderFunctionDecl(t *mtype, name string) string {
	d := t.cc + " " + name + argList(t) + t.fquals
	if t.inner == nil {
		return d
	}
	return render(t.inner, d)
}

// ---- string literals (??_C@_) ----

func (p *demangler) stringLiteral() *symbol {
	wide := false
	switch p.next() {
	case '0':
	case '1':
		wide = true
	default:
		p.fail()
		return nil
	}
	length, _ := p.number()
	// CRC
	end := strings.IndexByte(p.s[p.pos:], '@')
	if end < 0 {
		p.fail()
		return nil
	}
	p.pos += end + 1
	var raw []byte
	for !p.bad && !p.eat("@") {
		raw = append(raw, p.stringChar())
		if p.pos >= len(p.s) {
			p.fail()
		}
	}
	if p.bad {
		return nil
	}
	var chars []rune
	size := 1
	if wide {
		size = 2
	}
	for i := 0; i+size <= len(raw); i += size {
		if wide {
			chars = append(chars, rune(raw[i])<<8|rune(raw[i+1]))
		} else {
			chars = append(chars, rune(raw[i]))
		}
	}
	truncated := int64(len(raw)) < length
	if n := len(chars); n > 0 && chars[n-1] == 0 && !truncated {
		chars = chars[:n-1]
	}
	var b strings.Builder
	if wide {
		b.WriteString("L")
	}
	b.WriteByte('"')
	for _, c := range chars {
		b.WriteString(escapeChar(c))
	}
	b.WriteByte('"')
	if truncated {
		b.WriteString("...")
	}
	return &symbol{full: b.String(), qual: ""}
}

func (p *demangler) stringChar() byte {
	c := p.next()
	if c != '?' {
		return c
	}
	c = p.next()
	switch {
	case c == '$':
		hi, lo := p.next(), p.next()
		if hi < 'A' || hi > 'P' || lo < 'A' || lo > 'P' {
			p.fail()
			return 0
		}
		return (hi-'A')<<4 | (lo - 'A')
	case c >= '0' && c <= '9':
		return ",/\\:. \n\t'-"[c-'0']
	case c >= 'a' && c <= 'z':
		return c - 'a' + 0xE1
	case c >= 'A' && c <= 'Z':
		return c - 'A' + 0xC1
	}
	p.fail()
	return 0
}

func escapeChar(c rune) string {
	switch c {
	case '\'':
		return "\\'"
	case '"':
		return "\\\""
	case '\\':
		return "\\\\"
	case '\a':
		return "\\a"
	case '\b':
		return "\\b"
	case '\f':
		return "\\f"
	case '\n':
		return "\\n"
	case '\r':
		return "\\r"
	case '\t':
		return "\\t"
	case '\v':
		return "\\v"
	case 0:
		return "\\0"
	}
	if c >= 0x20 && c < 0x7f {
		return string(c)
	}
	return fmt.Sprintf("\\x%02X", c)
}

// ---- special tables: vftables, RTTI ----

func (p *demangler) specialTable() (*symbol, bool) {
	save := p.pos
	if p.eat("?_R0") {
		t := p.typ()
		if !p.eat("@8") {
			p.pos = save
			return nil, false
		}
		return &symbol{full: render(t, "") + " `RTTI Type Descriptor'"}, true
	}
	if p.eat("?_R1") {
		var nums []string
		for i := 0; i < 4; i++ {
			v, _ := p.number()
			nums = append(nums, strconv.FormatInt(v, 10))
		}
		first := p.simpleName(true)
		scope := append(p.scopes(), first)
		qual := strings.Join(scope, "::") + "::`RTTI Base Class Descriptor at (" + strings.Join(nums, ", ") + ")'"
		if !p.eat("8") {
			p.fail()
		}
		return &symbol{full: qual, qual: qual}, true
	}
	for k, v := range map[string]string{"?_R2": "`RTTI Base Class Array'", "?_R3": "`RTTI Class Hierarchy Descriptor'"} {
		if p.eat(k) {
			first := p.simpleName(true)
			qual := strings.Join(append(p.scopes(), first), "::") + "::" + v
			if !p.eat("8") {
				p.fail()
			}
			return &symbol{full: qual, qual: qual}, true
		}
	}
	if p.eat("?_R4") {
		first := p.simpleName(true)
		qual := strings.Join(append(p.scopes(), first), "::") + "::`RTTI Complete Object Locator'"
		sym := p.encoding(qual, "special")
		return sym, true
	}
	return nil, false
}
