package commands

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/alecthomas/participle/v2"
)

// ExprError is an evaluation error printed WinDbg's way:
// `<Kind> error at '<rest of input>'`.
type ExprError struct {
	Kind string // "Couldn't resolve", "Memory access", "Bad register", "Syntax", ...
	At   string
}

func (e *ExprError) Error() string { return fmt.Sprintf("%s error at '%s'", e.Kind, e.At) }

// evaluator evaluates one parsed expression against the session.
type evaluator struct {
	c   *Ctx
	src string // the text the expression was parsed from, to the end of the input
}

// Eval evaluates the whole of text as one expression.
func (c *Ctx) Eval(text string) (uint64, error) {
	v, n, err := c.EvalPrefix(text)
	if err != nil {
		return 0, err
	}
	if rest := strings.TrimSpace(text[n:]); rest != "" {
		return 0, &SyntaxError{Kind: "Syntax", Pos: n + strings.Index(text[n:], rest)}
	}
	return v, nil
}

// EvalPrefix evaluates the longest expression at the start of text and
// returns how many bytes of text it used.
func (c *Ctx) EvalPrefix(text string) (uint64, int, error) {
	lead := len(text) - len(strings.TrimLeft(text, " \t"))
	if lead == len(text) {
		return 0, 0, &SyntaxError{Kind: "Syntax", Pos: len(text)}
	}
	ast, err := exprParser.ParseString("", text, participle.AllowTrailing(true))
	if err != nil {
		var pe participle.Error
		pos := len(text)
		if errors.As(err, &pe) {
			pos = pe.Position().Offset
		}
		return 0, 0, &SyntaxError{Kind: "Syntax", Pos: pos}
	}
	ev := &evaluator{c: c, src: text}
	v, err := ev.bin(ast.Or)
	if err != nil {
		return 0, 0, err
	}
	return v, ast.EndPos.Offset, nil
}

func (e *evaluator) rest(off int) string {
	if off > len(e.src) {
		off = len(e.src)
	}
	return strings.TrimRight(e.src[off:], " \t")
}

// errIncomplete reports a parse that stopped part-way (participle can leave
// a node half filled when it backtracks at the end of the input).
func (e *evaluator) errIncomplete() error { return &SyntaxError{Kind: "Syntax", Pos: len(e.src)} }

func (e *evaluator) bin(x *BinExpr) (uint64, error) {
	if x == nil || x.Left == nil {
		return 0, e.errIncomplete()
	}
	v, err := e.xor(x.Left)
	for _, r := range x.Rest {
		if err != nil {
			return 0, err
		}
		var w uint64
		w, err = e.xor(r.Right)
		v |= w
	}
	return v, err
}

func (e *evaluator) xor(x *XorExpr) (uint64, error) {
	if x == nil || x.Left == nil {
		return 0, e.errIncomplete()
	}
	v, err := e.and(x.Left)
	for _, r := range x.Rest {
		if err != nil {
			return 0, err
		}
		var w uint64
		w, err = e.and(r.Right)
		v ^= w
	}
	return v, err
}

func (e *evaluator) and(x *AndExpr) (uint64, error) {
	if x == nil || x.Left == nil {
		return 0, e.errIncomplete()
	}
	v, err := e.cmp(x.Left)
	for _, r := range x.Rest {
		if err != nil {
			return 0, err
		}
		var w uint64
		w, err = e.cmp(r.Right)
		v &= w
	}
	return v, err
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func (e *evaluator) cmp(x *CmpExpr) (uint64, error) {
	if x == nil || x.Left == nil {
		return 0, e.errIncomplete()
	}
	v, err := e.shift(x.Left)
	for _, r := range x.Rest {
		if err != nil {
			return 0, err
		}
		var w uint64
		w, err = e.shift(r.Right)
		switch r.Op {
		case "==", "=":
			v = b2u(v == w)
		case "!=":
			v = b2u(v != w)
		case "<":
			v = b2u(int64(v) < int64(w))
		case ">":
			v = b2u(int64(v) > int64(w))
		case "<=":
			v = b2u(int64(v) <= int64(w))
		case ">=":
			v = b2u(int64(v) >= int64(w))
		}
	}
	return v, err
}

func (e *evaluator) shift(x *ShiftExpr) (uint64, error) {
	if x == nil || x.Left == nil {
		return 0, e.errIncomplete()
	}
	v, err := e.add(x.Left)
	for _, r := range x.Rest {
		if err != nil {
			return 0, err
		}
		var w uint64
		w, err = e.add(r.Right)
		switch r.Op {
		case "<<":
			v <<= w
		case ">>":
			v >>= w
		case ">>>":
			v = uint64(int64(v) >> w)
		}
	}
	return v, err
}

func (e *evaluator) add(x *AddExpr) (uint64, error) {
	if x == nil || x.Left == nil {
		return 0, e.errIncomplete()
	}
	v, err := e.mul(x.Left)
	for _, r := range x.Rest {
		if err != nil {
			return 0, err
		}
		var w uint64
		w, err = e.mul(r.Right)
		if r.Op == "+" {
			v += w
		} else {
			v -= w
		}
	}
	return v, err
}

func (e *evaluator) mul(x *MulExpr) (uint64, error) {
	if x == nil || x.Left == nil {
		return 0, e.errIncomplete()
	}
	v, err := e.unary(x.Left)
	for _, r := range x.Rest {
		if err != nil {
			return 0, err
		}
		var w uint64
		w, err = e.unary(r.Right)
		if err != nil {
			return 0, err
		}
		switch r.Op {
		case "*":
			v *= w
		case "/", "%":
			if w == 0 {
				return 0, &ExprError{Kind: "Divide by zero", At: e.rest(primaryPos(r.Right))}
			}
			if r.Op == "/" {
				v = uint64(int64(v) / int64(w))
			} else {
				v = uint64(int64(v) % int64(w))
			}
		}
	}
	return v, err
}

func primaryPos(u *Unary) int {
	for u.Primary == nil && u.Operand != nil {
		u = u.Operand
	}
	if u.Primary != nil {
		return u.Primary.Pos.Offset
	}
	return 0
}

func (e *evaluator) unary(u *Unary) (uint64, error) {
	if u == nil || (u.Primary == nil && u.Operand == nil) {
		return 0, e.errIncomplete()
	}
	if u.Primary != nil {
		return e.primary(u.Primary)
	}
	v, err := e.unary(u.Operand)
	switch u.Op {
	case "-":
		v = -v
	case "~":
		v = ^v
	}
	return v, err
}

func (e *evaluator) primary(p *Primary) (uint64, error) {
	switch {
	case p.Paren != nil:
		return e.bin(p.Paren)
	case p.Func != "":
		return e.call(p)
	case p.Reg != "":
		return e.register(p.Reg[1:], p.Pos.Offset)
	case p.Pseudo != "":
		return e.register(p.Pseudo, p.Pos.Offset)
	}
	return e.word(p.Word, p.Pos.Offset)
}

func (e *evaluator) register(name string, pos int) (uint64, error) {
	if strings.HasPrefix(name, "$") {
		v, err := e.c.S.Pseudo(name[1:])
		if err != nil {
			return 0, &ExprError{Kind: "Bad register", At: e.rest(pos)}
		}
		return v, nil
	}
	regs, err := e.c.S.Registers()
	if err != nil {
		return 0, &ExprError{Kind: "Bad register", At: e.rest(pos)}
	}
	v, ok := regs.Get(name)
	if !ok {
		return 0, &ExprError{Kind: "Bad register", At: e.rest(pos)}
	}
	return v, nil
}

var memFuncs = map[string]int{"poi": 0, "by": 1, "wo": 2, "dwo": 4, "qwo": 8}

func (e *evaluator) call(p *Primary) (uint64, error) {
	if p.Arg == nil {
		return 0, e.errIncomplete()
	}
	arg, err := e.bin(p.Arg)
	if err != nil {
		return 0, err
	}
	name := strings.ToLower(p.Func)
	switch name {
	case "hi":
		return (arg >> 16) & 0xffff, nil
	case "low":
		return arg & 0xffff, nil
	}
	size, ok := memFuncs[name]
	if !ok {
		return 0, &ExprError{Kind: "Couldn't resolve", At: e.rest(p.Pos.Offset)}
	}
	if size == 0 {
		size = e.c.S.Target.Arch().PtrSize()
	}
	v, err := e.c.S.ReadUint(arg, size)
	if err != nil {
		// The quoted text is what follows the failing operand: its ')'.
		return 0, &ExprError{Kind: "Memory access", At: e.rest(p.EndPos.Offset - 1)}
	}
	return v, nil
}

// ParseNumber reads a MASM number in radix 16 unless a prefix (0x 0n 0t 0y)
// or an 'h' suffix says otherwise. Backticks are ignored.
func ParseNumber(w string) (uint64, bool) { return parseNumberIn(w, 16) }

// parseNumberIn is ParseNumber with another default radix (the `n` command's).
func parseNumberIn(w string, radix int) (uint64, bool) {
	w = strings.ReplaceAll(strings.ToLower(w), "`", "")
	switch {
	case strings.HasPrefix(w, "0x"):
		w = w[2:]
	case strings.HasPrefix(w, "0n"):
		w, radix = w[2:], 10
	case strings.HasPrefix(w, "0t"):
		w, radix = w[2:], 8
	case strings.HasPrefix(w, "0y"):
		w, radix = w[2:], 2
	case len(w) > 1 && strings.HasSuffix(w, "h"):
		w, radix = w[:len(w)-1], 16
	}
	if w == "" {
		return 0, true // a bare prefix means 0
	}
	n, ok := new(big.Int).SetString(w, radix)
	if !ok || n.Sign() < 0 || n.BitLen() > 64 || strings.ContainsAny(w, "+-_") {
		return 0, false
	}
	return n.Uint64(), true
}

func (e *evaluator) word(w string, pos int) (uint64, error) {
	if w == "." {
		regs, err := e.c.S.Registers()
		if err != nil {
			return 0, &ExprError{Kind: "Couldn't resolve", At: e.rest(pos)}
		}
		return regs.IP, nil
	}
	if !strings.HasPrefix(w, "!") {
		if v, ok := parseNumberIn(w, e.c.currentRadix()); ok {
			return v, nil
		}
	}
	name := strings.TrimPrefix(w, "!")
	if v, ok := e.c.resolveSymbol(name); ok {
		return v, nil
	}
	return 0, &ExprError{Kind: "Couldn't resolve", At: e.rest(pos)}
}

// resolveSymbol resolves a module name to its base; module!symbol needs the
// symbol layer.
func (c *Ctx) resolveSymbol(name string) (uint64, bool) {
	if !strings.Contains(name, "!") {
		if m := c.S.ModuleByName(name); m != nil {
			return m.Base, true
		}
		return 0, false
	}
	return c.S.Symbols.Lookup(name)
}
