package commands

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The MASM expression grammar, as participle structs. Precedence, lowest
// first: | ^ & (comparisons) (shifts) (+ -) (* / %) (unary).
//
// Numbers and symbols share one token (Word): MASM reads anything that parses
// as a number in the current radix as a number, and only then as a symbol.

var exprLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Reg", Pattern: `@\$?[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Pseudo", Pattern: `\$[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Word", Pattern: "[A-Za-z0-9_.!`][A-Za-z0-9_.!:`]*"},
	{Name: "Op", Pattern: `<<|>>>|>>|==|!=|<=|>=|[-+*/%&|^~()<>=\[\],]`},
	{Name: "Space", Pattern: `\s+`},
	{Name: "Other", Pattern: `.`},
})

// Expr is a full expression.
type Expr struct {
	Pos    lexer.Position
	Or     *BinExpr `parser:"@@"`
	EndPos lexer.Position
}

// BinExpr is one precedence level: a left operand and (op, operand) pairs.
// The levels are built by nesting the same shape with different operators.
type BinExpr struct {
	Left *XorExpr `parser:"@@"`
	Rest []*OrOp  `parser:"@@*"`
}

type OrOp struct {
	Op    string   `parser:"@\"|\""`
	Right *XorExpr `parser:"@@"`
}

type XorExpr struct {
	Left *AndExpr `parser:"@@"`
	Rest []*XorOp `parser:"@@*"`
}

type XorOp struct {
	Op    string   `parser:"@\"^\""`
	Right *AndExpr `parser:"@@"`
}

type AndExpr struct {
	Left *CmpExpr `parser:"@@"`
	Rest []*AndOp `parser:"@@*"`
}

type AndOp struct {
	Op    string   `parser:"@\"&\""`
	Right *CmpExpr `parser:"@@"`
}

type CmpExpr struct {
	Left *ShiftExpr `parser:"@@"`
	Rest []*CmpOp   `parser:"@@*"`
}

type CmpOp struct {
	Op    string     `parser:"@(\"==\" | \"!=\" | \"<=\" | \">=\" | \"<\" | \">\" | \"=\")"`
	Right *ShiftExpr `parser:"@@"`
}

type ShiftExpr struct {
	Left *AddExpr   `parser:"@@"`
	Rest []*ShiftOp `parser:"@@*"`
}

type ShiftOp struct {
	Op    string   `parser:"@(\"<<\" | \">>>\" | \">>\")"`
	Right *AddExpr `parser:"@@"`
}

type AddExpr struct {
	Left *MulExpr `parser:"@@"`
	Rest []*AddOp `parser:"@@*"`
}

type AddOp struct {
	Op    string   `parser:"@(\"+\" | \"-\")"`
	Right *MulExpr `parser:"@@"`
}

type MulExpr struct {
	Left *Unary   `parser:"@@"`
	Rest []*MulOp `parser:"@@*"`
}

type MulOp struct {
	Op    string `parser:"@(\"*\" | \"/\" | \"%\")"`
	Right *Unary `parser:"@@"`
}

// Unary is a prefix operator applied to another unary, or a primary.
type Unary struct {
	Op      string   `parser:"(  @(\"-\" | \"+\" | \"~\")"`
	Operand *Unary   `parser:"   @@ )"`
	Primary *Primary `parser:"| @@"`
}

// Primary is a function call, a parenthesised expression, a register, a
// pseudo-register, or a word (number, module or symbol).
type Primary struct {
	Pos    lexer.Position
	Func   string   `parser:"(  @Word \"(\""`
	Arg    *BinExpr `parser:"   @@ \")\""`
	Paren  *BinExpr `parser:"| \"(\" @@ \")\""`
	Reg    string   `parser:"| @Reg"`
	Pseudo string   `parser:"| @Pseudo"`
	Word   string   `parser:"| @Word )"`
	EndPos lexer.Position
}

var exprParser = participle.MustBuild[Expr](
	participle.Lexer(exprLexer),
	participle.Elide("Space"),
	participle.UseLookahead(2),
)

// ThreadPrefix is the `~` thread specifier that may precede a command.
// The bracketed forms keep their text, which is then read as an expression.
type ThreadPrefix struct {
	Pos    lexer.Position
	Tilde  string  `parser:"\"~\""`
	All    bool    `parser:"(  @\"*\""`
	Cur    bool    `parser:"| @\".\""`
	Event  bool    `parser:"| @\"#\""`
	ByTID  *string `parser:"| \"~\" @Bracket"`
	ByExpr *string `parser:"| @Bracket"`
	Index  *string `parser:"| @Decimal )?"`
	EndPos lexer.Position
}

var threadLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Bracket", Pattern: `\[[^\]]*\]`},
	{Name: "Decimal", Pattern: `[0-9]+`},
	{Name: "Punct", Pattern: `[~*.#]`},
	{Name: "Other", Pattern: `.`},
})

var threadParser = participle.MustBuild[ThreadPrefix](
	participle.Lexer(threadLexer),
	participle.UseLookahead(3),
)
