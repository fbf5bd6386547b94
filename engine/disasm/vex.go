// Package disasm decodes the VEX (C4, C5) and EVEX (62) encoded x86-64
// instructions that golang.org/x/arch/x86/x86asm gets wrong or does not
// know: AVX, AVX2, AVX-512F/BW/DQ/VL, FMA, BMI1/BMI2 and the opmask
// instructions. It is tried before x86asm in 64-bit mode; anything that is
// not VEX or EVEX encoded returns ErrNotVEX and is x86asm's.
//
// The operands are structured (Reg, Mem, Imm) so that the caller prints them
// in its own conventions; mnemonics and operand order follow Intel's (and
// llvm-objdump's Intel syntax, which commands/vex_test.go compares with).
package disasm

import (
	"errors"
	"fmt"
	"strings"
)

// Arg is one operand: Reg, Mem or Imm.
type Arg interface{ isArg() }

// Reg is a register name: xmm0, ymm17, zmm31, k1, eax, r9.
type Reg string

// Mem is a memory operand.
type Mem struct {
	Size  int    // bytes (1, 2, 4, 8, 16, 32, 64); 0 prints no size
	Seg   string // segment override, "" for none
	Base  string // base register, "rip" for RIP-relative, "" for none
	Index string // index register, "" for none
	Scale int    // 1, 2, 4 or 8 when Index is set
	Disp  int64  // displacement (EVEX disp8 already scaled by N)
	Bcst  int    // embedded broadcast {1toN}; 0 for none
}

// Imm is an 8-bit immediate.
type Imm uint8

func (Reg) isArg() {}
func (Mem) isArg() {}
func (Imm) isArg() {}

// Inst is a decoded instruction.
type Inst struct {
	Op       string // lower-case mnemonic
	Args     []Arg
	Mask     int    // EVEX opmask register on the first operand (1..7), 0 for none
	Zero     bool   // EVEX zeroing-masking {z}
	Rounding string // embedded rounding or SAE operand: "{rn-sae}", "{sae}", ...
	Len      int    // length in bytes, prefixes included
}

var (
	// ErrNotVEX says the bytes do not start a VEX or EVEX instruction.
	ErrNotVEX = errors.New("not a VEX or EVEX instruction")
	// ErrTruncated says the instruction runs past the end of the bytes.
	ErrTruncated = errors.New("truncated instruction")
	// ErrUnknown says the instruction is VEX or EVEX encoded but not in the
	// tables; Inst.Len still holds its length when it is known (else 0).
	ErrUnknown = errors.New("unknown VEX or EVEX instruction")
)

// entry is one row of the opcode table.
type entry struct {
	evex, vex bool
	w, l      int8 // -1 for any; l is VEX.L or EVEX.L'L
	reg       int8 // ModRM.reg for opcode groups, -1 for any
	mod       byte // 0 any, 'r' register form only, 'm' memory form only
	names     [2]string
	wEVEXOnly bool // names[1] applies to EVEX.W1 only (VEX ignores W)
	ops       []string
	bcst      bool // EVEX embedded broadcast allowed, element size 4<<W
	t1s       bool // disp8*N scales by the element size (compress, expand)
	er, sae   bool
	cmp       bool // vcmpps and friends: the predicate is in the mnemonic
}

type opKey struct {
	mp, pp, op byte
}

var table = map[opKey][]*entry{}

// The table rows: encodings (V VEX, E EVEX, B both), map (0F, 0F38, 0F3A),
// prefix (NP, 66, F3, F2), opcode with an optional /digit, then optional W0,
// W1, L0, L1, r (register form), m (memory form), the mnemonic (a/b picks by
// W; a|b by EVEX.W only), the operands and flags (b broadcast, t T1S,
// er, sae, cmp).
//
// Operands: V ModRM.reg vector (x xmm, y ymm, /2 half width), H VEX.vvvv
// vector, W ModRM.rm vector or memory (x m128, y m256, /2 /4 /8 fractions of
// the vector length, s1 s2 s4 s8 a scalar in an xmm register), K KH KW
// opmask registers from reg, vvvv and rm, G B E general registers from reg,
// vvvv and rm (32 or 64 bits by W; d 32 bits; E1 E2 E4 r32 or m8/m16/m32),
// I imm8, L a vector register in imm8[7:4].
var rows = `
V 0F NP 77 L0 vzeroupper -
V 0F NP 77 L1 vzeroall -
B 0F NP 10 vmovups V,W
B 0F 66 10 vmovupd V,W
B 0F NP 11 vmovups W,V
B 0F 66 11 vmovupd W,V
B 0F F3 10 m vmovss Vx,Ws4
B 0F F3 10 r vmovss Vx,Hx,Wx
B 0F F2 10 m vmovsd Vx,Ws8
B 0F F2 10 r vmovsd Vx,Hx,Wx
B 0F F3 11 m vmovss Ws4,Vx
B 0F F3 11 r vmovss Wx,Hx,Vx
B 0F F2 11 m vmovsd Ws8,Vx
B 0F F2 11 r vmovsd Wx,Hx,Vx
B 0F NP 14 vunpcklps V,H,W b
B 0F 66 14 vunpcklpd V,H,W b
B 0F NP 15 vunpckhps V,H,W b
B 0F 66 15 vunpckhpd V,H,W b
B 0F NP 28 vmovaps V,W
B 0F 66 28 vmovapd V,W
B 0F NP 29 vmovaps W,V
B 0F 66 29 vmovapd W,V
B 0F F3 2A vcvtsi2ss Vx,Hx,E er
B 0F F2 2A vcvtsi2sd Vx,Hx,E er
B 0F NP 2B m vmovntps W,V
B 0F 66 2B m vmovntpd W,V
B 0F F3 2C vcvttss2si G,Ws4 sae
B 0F F2 2C vcvttsd2si G,Ws8 sae
B 0F F3 2D vcvtss2si G,Ws4 er
B 0F F2 2D vcvtsd2si G,Ws8 er
B 0F NP 2E vucomiss Vx,Ws4 sae
B 0F 66 2E vucomisd Vx,Ws8 sae
B 0F NP 2F vcomiss Vx,Ws4 sae
B 0F 66 2F vcomisd Vx,Ws8 sae
V 0F NP 41 L1 kandw/kandq K,KH,KW
V 0F 66 41 L1 kandb/kandd K,KH,KW
V 0F NP 42 L1 kandnw/kandnq K,KH,KW
V 0F 66 42 L1 kandnb/kandnd K,KH,KW
V 0F NP 44 L0 knotw/knotq K,KW
V 0F 66 44 L0 knotb/knotd K,KW
V 0F NP 45 L1 korw/korq K,KH,KW
V 0F 66 45 L1 korb/kord K,KH,KW
V 0F NP 46 L1 kxnorw/kxnorq K,KH,KW
V 0F 66 46 L1 kxnorb/kxnord K,KH,KW
V 0F NP 47 L1 kxorw/kxorq K,KH,KW
V 0F 66 47 L1 kxorb/kxord K,KH,KW
V 0F NP 4A L1 kaddw/kaddq K,KH,KW
V 0F 66 4A L1 kaddb/kaddd K,KH,KW
V 0F NP 4B L1 kunpckwd/kunpckdq K,KH,KW
V 0F 66 4B L1 W0 kunpckbw K,KH,KW
V 0F NP 50 r vmovmskps Gd,W
V 0F 66 50 r vmovmskpd Gd,W
B 0F NP 51 vsqrtps V,W b er
B 0F 66 51 vsqrtpd V,W b er
B 0F F3 51 vsqrtss Vx,Hx,Ws4 er
B 0F F2 51 vsqrtsd Vx,Hx,Ws8 er
V 0F NP 52 vrsqrtps V,W
V 0F F3 52 vrsqrtss Vx,Hx,Ws4
V 0F NP 53 vrcpps V,W
V 0F F3 53 vrcpss Vx,Hx,Ws4
B 0F NP 54 vandps V,H,W b
B 0F 66 54 vandpd V,H,W b
B 0F NP 55 vandnps V,H,W b
B 0F 66 55 vandnpd V,H,W b
B 0F NP 56 vorps V,H,W b
B 0F 66 56 vorpd V,H,W b
B 0F NP 57 vxorps V,H,W b
B 0F 66 57 vxorpd V,H,W b
B 0F NP 58 vaddps V,H,W b er
B 0F 66 58 vaddpd V,H,W b er
B 0F F3 58 vaddss Vx,Hx,Ws4 er
B 0F F2 58 vaddsd Vx,Hx,Ws8 er
B 0F NP 59 vmulps V,H,W b er
B 0F 66 59 vmulpd V,H,W b er
B 0F F3 59 vmulss Vx,Hx,Ws4 er
B 0F F2 59 vmulsd Vx,Hx,Ws8 er
B 0F NP 5C vsubps V,H,W b er
B 0F 66 5C vsubpd V,H,W b er
B 0F F3 5C vsubss Vx,Hx,Ws4 er
B 0F F2 5C vsubsd Vx,Hx,Ws8 er
B 0F NP 5D vminps V,H,W b sae
B 0F 66 5D vminpd V,H,W b sae
B 0F F3 5D vminss Vx,Hx,Ws4 sae
B 0F F2 5D vminsd Vx,Hx,Ws8 sae
B 0F NP 5E vdivps V,H,W b er
B 0F 66 5E vdivpd V,H,W b er
B 0F F3 5E vdivss Vx,Hx,Ws4 er
B 0F F2 5E vdivsd Vx,Hx,Ws8 er
B 0F NP 5F vmaxps V,H,W b sae
B 0F 66 5F vmaxpd V,H,W b sae
B 0F F3 5F vmaxss Vx,Hx,Ws4 sae
B 0F F2 5F vmaxsd Vx,Hx,Ws8 sae
B 0F NP 5A vcvtps2pd V,W/2 b sae
B 0F 66 5A vcvtpd2ps V/2,W b er
B 0F F3 5A vcvtss2sd Vx,Hx,Ws4 sae
B 0F F2 5A vcvtsd2ss Vx,Hx,Ws8 er
V 0F NP 5B vcvtdq2ps V,W
E 0F NP 5B W0 vcvtdq2ps V,W b er
E 0F NP 5B W1 vcvtqq2ps V/2,W b er
B 0F 66 5B vcvtps2dq V,W b er
B 0F F3 5B vcvttps2dq V,W b sae
B 0F 66 60 vpunpcklbw V,H,W
B 0F 66 61 vpunpcklwd V,H,W
B 0F 66 62 vpunpckldq V,H,W b
B 0F 66 63 vpacksswb V,H,W
V 0F 66 64 vpcmpgtb V,H,W
V 0F 66 65 vpcmpgtw V,H,W
V 0F 66 66 vpcmpgtd V,H,W
E 0F 66 64 vpcmpgtb K,H,W
E 0F 66 65 vpcmpgtw K,H,W
E 0F 66 66 vpcmpgtd K,H,W b
B 0F 66 67 vpackuswb V,H,W
B 0F 66 68 vpunpckhbw V,H,W
B 0F 66 69 vpunpckhwd V,H,W
B 0F 66 6A vpunpckhdq V,H,W b
B 0F 66 6B vpackssdw V,H,W b
B 0F 66 6C vpunpcklqdq V,H,W b
B 0F 66 6D vpunpckhqdq V,H,W b
B 0F 66 6E vmovd/vmovq Vx,E
V 0F 66 6F vmovdqa V,W
V 0F F3 6F vmovdqu V,W
E 0F 66 6F vmovdqa32/vmovdqa64 V,W
E 0F F3 6F vmovdqu32/vmovdqu64 V,W
E 0F F2 6F vmovdqu8/vmovdqu16 V,W
B 0F 66 70 vpshufd V,W,I b
B 0F F3 70 vpshufhw V,W,I
B 0F F2 70 vpshuflw V,W,I
B 0F 66 71/2 vpsrlw H,W,I
B 0F 66 71/4 vpsraw H,W,I
B 0F 66 71/6 vpsllw H,W,I
E 0F 66 72/0 vprord/vprorq H,W,I b
E 0F 66 72/1 vprold/vprolq H,W,I b
B 0F 66 72/2 vpsrld H,W,I b
B 0F 66 72/4 vpsrad|vpsraq H,W,I b
B 0F 66 72/6 vpslld H,W,I b
B 0F 66 73/2 vpsrlq H,W,I b
B 0F 66 73/3 vpsrldq H,W,I
B 0F 66 73/6 vpsllq H,W,I b
B 0F 66 73/7 vpslldq H,W,I
V 0F 66 74 vpcmpeqb V,H,W
V 0F 66 75 vpcmpeqw V,H,W
V 0F 66 76 vpcmpeqd V,H,W
E 0F 66 74 vpcmpeqb K,H,W
E 0F 66 75 vpcmpeqw K,H,W
E 0F 66 76 vpcmpeqd K,H,W b
B 0F 66 7C vhaddpd V,H,W
B 0F F2 7C vhaddps V,H,W
B 0F 66 7D vhsubpd V,H,W
B 0F F2 7D vhsubps V,H,W
B 0F 66 7E vmovd/vmovq E,Vx
B 0F F3 7E vmovq Vx,Ws8
V 0F 66 7F vmovdqa W,V
V 0F F3 7F vmovdqu W,V
E 0F 66 7F vmovdqa32/vmovdqa64 W,V
E 0F F3 7F vmovdqu32/vmovdqu64 W,V
E 0F F2 7F vmovdqu8/vmovdqu16 W,V
V 0F NP 90 L0 W0 kmovw K,KW2
V 0F NP 90 L0 W1 kmovq K,KW8
V 0F 66 90 L0 W0 kmovb K,KW1
V 0F 66 90 L0 W1 kmovd K,KW4
V 0F NP 91 L0 W0 m kmovw KW2,K
V 0F NP 91 L0 W1 m kmovq KW8,K
V 0F 66 91 L0 W0 m kmovb KW1,K
V 0F 66 91 L0 W1 m kmovd KW4,K
V 0F NP 92 L0 W0 r kmovw K,Ed
V 0F 66 92 L0 W0 r kmovb K,Ed
V 0F F2 92 L0 r kmovd/kmovq K,E
V 0F NP 93 L0 W0 r kmovw Gd,KW
V 0F 66 93 L0 W0 r kmovb Gd,KW
V 0F F2 93 L0 r kmovd/kmovq G,KW
V 0F NP 98 L0 kortestw/kortestq K,KW
V 0F 66 98 L0 kortestb/kortestd K,KW
V 0F NP 99 L0 ktestw/ktestq K,KW
V 0F 66 99 L0 ktestb/ktestd K,KW
V 0F NP AE/2 m vldmxcsr Ws4
V 0F NP AE/3 m vstmxcsr Ws4
V 0F NP C2 vcmpps V,H,W,I cmp
V 0F 66 C2 vcmppd V,H,W,I cmp
V 0F F3 C2 vcmpss Vx,Hx,Ws4,I cmp
V 0F F2 C2 vcmpsd Vx,Hx,Ws8,I cmp
E 0F NP C2 vcmpps K,H,W,I b sae cmp
E 0F 66 C2 vcmppd K,H,W,I b sae cmp
E 0F F3 C2 vcmpss K,Hx,Ws4,I sae cmp
E 0F F2 C2 vcmpsd K,Hx,Ws8,I sae cmp
B 0F 66 C4 vpinsrw Vx,Hx,E2,I
B 0F 66 C5 r vpextrw Gd,Wx,I
B 0F NP C6 vshufps V,H,W,I b
B 0F 66 C6 vshufpd V,H,W,I b
B 0F 66 D1 vpsrlw V,H,Wx
B 0F 66 D2 vpsrld V,H,Wx
B 0F 66 D3 vpsrlq V,H,Wx
B 0F 66 D4 vpaddq V,H,W b
B 0F 66 D5 vpmullw V,H,W
B 0F 66 D6 vmovq Ws8,Vx
V 0F 66 D7 r vpmovmskb Gd,W
B 0F 66 D8 vpsubusb V,H,W
B 0F 66 D9 vpsubusw V,H,W
B 0F 66 DA vpminub V,H,W
V 0F 66 DB vpand V,H,W
E 0F 66 DB vpandd/vpandq V,H,W b
B 0F 66 DC vpaddusb V,H,W
B 0F 66 DD vpaddusw V,H,W
B 0F 66 DE vpmaxub V,H,W
V 0F 66 DF vpandn V,H,W
E 0F 66 DF vpandnd/vpandnq V,H,W b
B 0F 66 E0 vpavgb V,H,W
B 0F 66 E1 vpsraw V,H,Wx
B 0F 66 E2 vpsrad|vpsraq V,H,Wx
B 0F 66 E3 vpavgw V,H,W
B 0F 66 E4 vpmulhuw V,H,W
B 0F 66 E5 vpmulhw V,H,W
B 0F 66 E6 vcvttpd2dq V/2,W b sae
V 0F F3 E6 vcvtdq2pd V,W/2
E 0F F3 E6 W0 vcvtdq2pd V,W/2 b
E 0F F3 E6 W1 vcvtqq2pd V,W b er
B 0F F2 E6 vcvtpd2dq V/2,W b er
B 0F 66 E7 m vmovntdq W,V
B 0F 66 E8 vpsubsb V,H,W
B 0F 66 E9 vpsubsw V,H,W
B 0F 66 EA vpminsw V,H,W
V 0F 66 EB vpor V,H,W
E 0F 66 EB vpord/vporq V,H,W b
B 0F 66 EC vpaddsb V,H,W
B 0F 66 ED vpaddsw V,H,W
B 0F 66 EE vpmaxsw V,H,W
V 0F 66 EF vpxor V,H,W
E 0F 66 EF vpxord/vpxorq V,H,W b
V 0F F2 F0 m vlddqu V,W
B 0F 66 F1 vpsllw V,H,Wx
B 0F 66 F2 vpslld V,H,Wx
B 0F 66 F3 vpsllq V,H,Wx
B 0F 66 F4 vpmuludq V,H,W b
B 0F 66 F5 vpmaddwd V,H,W
B 0F 66 F6 vpsadbw V,H,W
B 0F 66 F8 vpsubb V,H,W
B 0F 66 F9 vpsubw V,H,W
B 0F 66 FA vpsubd V,H,W b
B 0F 66 FB vpsubq V,H,W b
B 0F 66 FC vpaddb V,H,W
B 0F 66 FD vpaddw V,H,W
B 0F 66 FE vpaddd V,H,W b

B 0F38 66 00 vpshufb V,H,W
V 0F38 66 01 vphaddw V,H,W
V 0F38 66 02 vphaddd V,H,W
V 0F38 66 03 vphaddsw V,H,W
B 0F38 66 04 vpmaddubsw V,H,W
V 0F38 66 05 vphsubw V,H,W
V 0F38 66 06 vphsubd V,H,W
V 0F38 66 07 vphsubsw V,H,W
V 0F38 66 08 vpsignb V,H,W
V 0F38 66 09 vpsignw V,H,W
V 0F38 66 0A vpsignd V,H,W
B 0F38 66 0B vpmulhrsw V,H,W
B 0F38 66 0C W0 vpermilps V,H,W b
B 0F38 66 0D vpermilpd V,H,W b
V 0F38 66 0E W0 vtestps V,W
V 0F38 66 0F W0 vtestpd V,W
V 0F38 66 13 W0 vcvtph2ps V,W/2
E 0F38 66 13 W0 vcvtph2ps V,W/2 sae
V 0F38 66 16 W0 vpermps V,H,W
E 0F38 66 16 vpermps/vpermpd V,H,W b
V 0F38 66 17 vptest V,W
B 0F38 66 18 W0 vbroadcastss V,Ws4
V 0F38 66 19 W0 vbroadcastsd V,Ws8
E 0F38 66 19 vbroadcastf32x2/vbroadcastsd V,Ws8
V 0F38 66 1A W0 m vbroadcastf128 V,Wx
E 0F38 66 1A m vbroadcastf32x4/vbroadcastf64x2 V,Wx
E 0F38 66 1B m vbroadcastf32x8/vbroadcastf64x4 V,Wy
B 0F38 66 1C vpabsb V,W
B 0F38 66 1D vpabsw V,W
B 0F38 66 1E vpabsd V,W b
E 0F38 66 1F W1 vpabsq V,W b
B 0F38 66 20 vpmovsxbw V,W/2
B 0F38 66 21 vpmovsxbd V,W/4
B 0F38 66 22 vpmovsxbq V,W/8
B 0F38 66 23 vpmovsxwd V,W/2
B 0F38 66 24 vpmovsxwq V,W/4
B 0F38 66 25 vpmovsxdq V,W/2
E 0F38 66 26 vptestmb/vptestmw K,H,W
E 0F38 66 27 vptestmd/vptestmq K,H,W b
E 0F38 F3 26 vptestnmb/vptestnmw K,H,W
E 0F38 F3 27 vptestnmd/vptestnmq K,H,W b
B 0F38 66 28 vpmuldq V,H,W b
E 0F38 F3 28 r vpmovm2b/vpmovm2w V,KW
E 0F38 F3 29 r vpmovb2m/vpmovw2m K,W
V 0F38 66 29 vpcmpeqq V,H,W
E 0F38 66 29 vpcmpeqq K,H,W b
B 0F38 66 2A m vmovntdqa V,W
B 0F38 66 2B vpackusdw V,H,W b
V 0F38 66 2C m W0 vmaskmovps V,H,W
V 0F38 66 2D m W0 vmaskmovpd V,H,W
V 0F38 66 2E m W0 vmaskmovps W,H,V
V 0F38 66 2F m W0 vmaskmovpd W,H,V
B 0F38 66 30 vpmovzxbw V,W/2
B 0F38 66 31 vpmovzxbd V,W/4
B 0F38 66 32 vpmovzxbq V,W/8
B 0F38 66 33 vpmovzxwd V,W/2
B 0F38 66 34 vpmovzxwq V,W/4
B 0F38 66 35 vpmovzxdq V,W/2
E 0F38 F3 30 vpmovwb W/2,V
E 0F38 F3 31 vpmovdb W/4,V
E 0F38 F3 32 vpmovqb W/8,V
E 0F38 F3 33 vpmovdw W/2,V
E 0F38 F3 34 vpmovqw W/4,V
E 0F38 F3 35 vpmovqd W/2,V
V 0F38 66 36 W0 vpermd V,H,W
E 0F38 66 36 vpermd/vpermq V,H,W b
V 0F38 66 37 vpcmpgtq V,H,W
E 0F38 66 37 vpcmpgtq K,H,W b
E 0F38 F3 38 r vpmovm2d/vpmovm2q V,KW
E 0F38 F3 39 r vpmovd2m/vpmovq2m K,W
B 0F38 66 38 vpminsb V,H,W
B 0F38 66 39 vpminsd|vpminsq V,H,W b
B 0F38 66 3A vpminuw V,H,W
B 0F38 66 3B vpminud|vpminuq V,H,W b
B 0F38 66 3C vpmaxsb V,H,W
B 0F38 66 3D vpmaxsd|vpmaxsq V,H,W b
B 0F38 66 3E vpmaxuw V,H,W
B 0F38 66 3F vpmaxud|vpmaxuq V,H,W b
B 0F38 66 40 vpmulld|vpmullq V,H,W b
V 0F38 66 41 vphminposuw V,W
B 0F38 66 45 vpsrlvd/vpsrlvq V,H,W b
V 0F38 66 46 W0 vpsravd V,H,W
E 0F38 66 46 vpsravd/vpsravq V,H,W b
B 0F38 66 47 vpsllvd/vpsllvq V,H,W b
E 0F38 66 4C vrcp14ps/vrcp14pd V,W b
E 0F38 66 4E vrsqrt14ps/vrsqrt14pd V,W b
B 0F38 66 58 W0 vpbroadcastd V,Ws4
V 0F38 66 59 W0 vpbroadcastq V,Ws8
E 0F38 66 59 vbroadcasti32x2/vpbroadcastq V,Ws8
V 0F38 66 5A W0 m vbroadcasti128 V,Wx
E 0F38 66 5A m vbroadcasti32x4/vbroadcasti64x2 V,Wx
E 0F38 66 5B m vbroadcasti32x8/vbroadcasti64x4 V,Wy
E 0F38 66 64 vpblendmd/vpblendmq V,H,W b
E 0F38 66 65 vblendmps/vblendmpd V,H,W b
E 0F38 66 66 vpblendmb/vpblendmw V,H,W
E 0F38 66 75 vpermi2b/vpermi2w V,H,W
E 0F38 66 76 vpermi2d/vpermi2q V,H,W b
E 0F38 66 77 vpermi2ps/vpermi2pd V,H,W b
B 0F38 66 78 W0 vpbroadcastb V,Ws1
B 0F38 66 79 W0 vpbroadcastw V,Ws2
E 0F38 66 7A W0 r vpbroadcastb V,Ed
E 0F38 66 7B W0 r vpbroadcastw V,Ed
E 0F38 66 7C r vpbroadcastd/vpbroadcastq V,E
E 0F38 66 7D vpermt2b/vpermt2w V,H,W
E 0F38 66 7E vpermt2d/vpermt2q V,H,W b
E 0F38 66 7F vpermt2ps/vpermt2pd V,H,W b
E 0F38 66 88 vexpandps/vexpandpd V,W t
E 0F38 66 89 vpexpandd/vpexpandq V,W t
E 0F38 66 8A vcompressps/vcompresspd W,V t
E 0F38 66 8B vpcompressd/vpcompressq W,V t
V 0F38 66 8C m vpmaskmovd/vpmaskmovq V,H,W
V 0F38 66 8E m vpmaskmovd/vpmaskmovq W,H,V
V 0F38 NP F2 L0 andn G,B,E
V 0F38 NP F3/1 L0 blsr B,E
V 0F38 NP F3/2 L0 blsmsk B,E
V 0F38 NP F3/3 L0 blsi B,E
V 0F38 NP F5 L0 bzhi G,E,B
V 0F38 F3 F5 L0 pext G,B,E
V 0F38 F2 F5 L0 pdep G,B,E
V 0F38 F2 F6 L0 mulx G,B,E
V 0F38 NP F7 L0 bextr G,E,B
V 0F38 66 F7 L0 shlx G,E,B
V 0F38 F3 F7 L0 sarx G,E,B
V 0F38 F2 F7 L0 shrx G,E,B

V 0F3A 66 00 W1 vpermq V,W,I
V 0F3A 66 01 W1 vpermpd V,W,I
E 0F3A 66 00 W1 vpermq V,W,I b
E 0F3A 66 01 W1 vpermpd V,W,I b
V 0F3A 66 02 W0 vpblendd V,H,W,I
E 0F3A 66 03 valignd/valignq V,H,W,I b
B 0F3A 66 04 W0 vpermilps V,W,I b
V 0F3A 66 05 W0 vpermilpd V,W,I
E 0F3A 66 05 W1 vpermilpd V,W,I b
V 0F3A 66 06 W0 vperm2f128 V,H,W,I
V 0F3A 66 08 vroundps V,W,I
V 0F3A 66 09 vroundpd V,W,I
V 0F3A 66 0A vroundss Vx,Hx,Ws4,I
V 0F3A 66 0B vroundsd Vx,Hx,Ws8,I
E 0F3A 66 08 W0 vrndscaleps V,W,I b sae
E 0F3A 66 09 W1 vrndscalepd V,W,I b sae
E 0F3A 66 0A W0 vrndscaless Vx,Hx,Ws4,I sae
E 0F3A 66 0B W1 vrndscalesd Vx,Hx,Ws8,I sae
V 0F3A 66 0C vblendps V,H,W,I
V 0F3A 66 0D vblendpd V,H,W,I
V 0F3A 66 0E vpblendw V,H,W,I
B 0F3A 66 0F vpalignr V,H,W,I
B 0F3A 66 14 vpextrb E1,Vx,I
B 0F3A 66 15 vpextrw E2,Vx,I
B 0F3A 66 16 vpextrd/vpextrq E,Vx,I
B 0F3A 66 17 vextractps E4,Vx,I
V 0F3A 66 18 W0 vinsertf128 V,H,Wx,I
V 0F3A 66 19 W0 vextractf128 Wx,V,I
E 0F3A 66 18 vinsertf32x4/vinsertf64x2 V,H,Wx,I
E 0F3A 66 19 vextractf32x4/vextractf64x2 Wx,V,I
E 0F3A 66 1A vinsertf32x8/vinsertf64x4 V,H,Wy,I
E 0F3A 66 1B vextractf32x8/vextractf64x4 Wy,V,I
V 0F3A 66 1D W0 vcvtps2ph W/2,V,I
E 0F3A 66 1D W0 vcvtps2ph W/2,V,I sae
B 0F3A 66 20 vpinsrb Vx,Hx,E1,I
B 0F3A 66 21 vinsertps Vx,Hx,Ws4,I
B 0F3A 66 22 vpinsrd/vpinsrq Vx,Hx,E,I
E 0F3A 66 23 vshuff32x4/vshuff64x2 V,H,W,I b
E 0F3A 66 25 vpternlogd/vpternlogq V,H,W,I b
V 0F3A 66 30 L0 kshiftrb/kshiftrw K,KW,I
V 0F3A 66 31 L0 kshiftrd/kshiftrq K,KW,I
V 0F3A 66 32 L0 kshiftlb/kshiftlw K,KW,I
V 0F3A 66 33 L0 kshiftld/kshiftlq K,KW,I
V 0F3A 66 38 W0 vinserti128 V,H,Wx,I
V 0F3A 66 39 W0 vextracti128 Wx,V,I
E 0F3A 66 38 vinserti32x4/vinserti64x2 V,H,Wx,I
E 0F3A 66 39 vextracti32x4/vextracti64x2 Wx,V,I
E 0F3A 66 3A vinserti32x8/vinserti64x4 V,H,Wy,I
E 0F3A 66 3B vextracti32x8/vextracti64x4 Wy,V,I
V 0F3A 66 40 vdpps V,H,W,I
V 0F3A 66 41 vdppd V,H,W,I
V 0F3A 66 42 vmpsadbw V,H,W,I
E 0F3A 66 42 W0 vdbpsadbw V,H,W,I
E 0F3A 66 43 vshufi32x4/vshufi64x2 V,H,W,I b
B 0F3A 66 44 vpclmulqdq V,H,W,I
V 0F3A 66 46 W0 vperm2i128 V,H,W,I
V 0F3A 66 4A W0 vblendvps V,H,W,L
V 0F3A 66 4B W0 vblendvpd V,H,W,L
V 0F3A 66 4C W0 vpblendvb V,H,W,L
V 0F3A F2 F0 L0 rorx G,E,I
`

func init() {
	for _, line := range strings.Split(rows, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			addRow(f)
		}
	}
	// FMA: 96..9F, A6..AF, B6..BF with W choosing single or double.
	forms := []string{"vfmaddsub%sps", "vfmsubadd%sps", "vfmadd%sps", "vfmadd%sss", "vfmsub%sps", "vfmsub%sss",
		"vfnmadd%sps", "vfnmadd%sss", "vfnmsub%sps", "vfnmsub%sss"}
	for i, order := range []string{"132", "213", "231"} {
		for j, form := range forms {
			name, op := fmt.Sprintf(form, order), 0x96+16*i+j
			if strings.HasSuffix(name, "ss") { // the double form reads 8 bytes
				addRow(strings.Fields(fmt.Sprintf("B 0F38 66 %02X W0 %s Vx,Hx,Ws4 er", op, name)))
				addRow(strings.Fields(fmt.Sprintf("B 0F38 66 %02X W1 %ssd Vx,Hx,Ws8 er", op, name[:len(name)-2])))
				continue
			}
			addRow(strings.Fields(fmt.Sprintf("B 0F38 66 %02X %s/%spd V,H,W b er", op, name, name[:len(name)-2])))
		}
	}
}

func addRow(f []string) {
	e := &entry{w: -1, l: -1, reg: -1}
	switch f[0] {
	case "V":
		e.vex = true
	case "E":
		e.evex = true
	case "B":
		e.vex, e.evex = true, true
	default:
		panic("disasm: bad row " + strings.Join(f, " "))
	}
	var k opKey
	k.mp = map[string]byte{"0F": 1, "0F38": 2, "0F3A": 3}[f[1]]
	k.pp = map[string]byte{"NP": 0, "66": 1, "F3": 2, "F2": 3}[f[2]]
	opc := f[3]
	if i := strings.IndexByte(opc, '/'); i >= 0 {
		e.reg = int8(opc[i+1] - '0')
		opc = opc[:i]
	}
	var op int
	fmt.Sscanf(opc, "%X", &op)
	k.op = byte(op)
	i := 4
attrs:
	for ; i < len(f); i++ {
		switch f[i] {
		case "W0", "W1":
			e.w = int8(f[i][1] - '0')
		case "L0", "L1":
			e.l = int8(f[i][1] - '0')
		case "r", "m":
			e.mod = f[i][0]
		default:
			break attrs
		}
	}
	name := f[i]
	if a, b, ok := strings.Cut(name, "/"); ok {
		e.names = [2]string{a, b}
	} else if a, b, ok := strings.Cut(name, "|"); ok {
		e.names, e.wEVEXOnly = [2]string{a, b}, true
	} else {
		e.names = [2]string{name, name}
	}
	if f[i+1] != "-" {
		e.ops = strings.Split(f[i+1], ",")
	}
	for _, fl := range f[i+2:] {
		switch fl {
		case "b":
			e.bcst = true
		case "t":
			e.t1s = true
		case "er":
			e.er = true
		case "sae":
			e.sae = true
		case "cmp":
			e.cmp = true
		default:
			panic("disasm: bad flag " + fl)
		}
	}
	table[k] = append(table[k], e)
}

var cmpPreds = []string{"eq", "lt", "le", "unord", "neq", "nlt", "nle", "ord", "eq_uq", "nge", "ngt", "false",
	"neq_oq", "ge", "gt", "true", "eq_os", "lt_oq", "le_oq", "unord_s", "neq_us", "nlt_uq", "nle_uq", "ord_s",
	"eq_us", "nge_uq", "ngt_uq", "false_os", "neq_os", "ge_oq", "gt_oq", "true_us"}

var gpr64 = []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
var gpr32 = []string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"}

// Decode decodes one VEX or EVEX instruction in 64-bit mode.
func Decode(b []byte) (Inst, error) {
	var in Inst
	i := 0
	seg := ""
	addr32 := false
prefixes:
	for ; i < len(b) && i < 14; i++ {
		switch b[i] {
		case 0x26, 0x2e, 0x36, 0x3e:
			// ignored in 64-bit mode
		case 0x64:
			seg = "fs"
		case 0x65:
			seg = "gs"
		case 0x67:
			addr32 = true
		default:
			break prefixes
		}
	}
	if i >= len(b) {
		if i > 0 && i < 14 {
			return in, ErrTruncated
		}
		return in, ErrNotVEX
	}
	kind := b[i]
	if kind != 0xc4 && kind != 0xc5 && kind != 0x62 {
		return in, ErrNotVEX
	}
	var (
		rR, rX, rB, rR2, rV2 byte // register extensions (1 = set)
		mp, pp, w, vvvv      byte
		ll                   int
		evex, z, bc          bool
		aaa                  int
	)
	need := map[byte]int{0xc5: 2, 0xc4: 3, 0x62: 4}[kind]
	if i+need >= len(b) {
		return in, ErrTruncated
	}
	p := b[i+1:]
	switch kind {
	case 0xc5:
		rR = ^p[0] >> 7 & 1
		vvvv = ^p[0] >> 3 & 15
		ll = int(p[0] >> 2 & 1)
		pp = p[0] & 3
		mp = 1
	case 0xc4:
		rR, rX, rB = ^p[0]>>7&1, ^p[0]>>6&1, ^p[0]>>5&1
		mp = p[0] & 31
		w = p[1] >> 7
		vvvv = ^p[1] >> 3 & 15
		ll = int(p[1] >> 2 & 1)
		pp = p[1] & 3
	case 0x62:
		evex = true
		rR, rX, rB, rR2 = ^p[0]>>7&1, ^p[0]>>6&1, ^p[0]>>5&1, ^p[0]>>4&1
		mp = p[0] & 7
		w = p[1] >> 7
		vvvv = ^p[1] >> 3 & 15
		pp = p[1] & 3
		z = p[2]>>7 != 0
		ll = int(p[2] >> 5 & 3)
		bc = p[2]>>4&1 != 0
		rV2 = ^p[2] >> 3 & 1
		aaa = int(p[2] & 7)
	}
	i += need
	op := b[i]
	i++
	if mp < 1 || mp > 3 {
		return in, ErrUnknown
	}
	if !evex && mp == 1 && op == 0x77 {
		in.Len = i
		in.Op = "vzeroupper"
		if ll == 1 {
			in.Op = "vzeroall"
		}
		return in, nil
	}
	// ModRM, SIB and displacement.
	if i >= len(b) {
		return in, ErrTruncated
	}
	modrm := b[i]
	i++
	mod, reg, rm := modrm>>6, modrm>>3&7, modrm&7
	var mem Mem
	disp8 := false
	if mod != 3 {
		mem.Seg = seg
		regs := gpr64
		if addr32 {
			regs = gpr32
		}
		dispSize := map[byte]int{0: 0, 1: 1, 2: 4}[mod]
		if rm == 4 {
			if i >= len(b) {
				return in, ErrTruncated
			}
			sib := b[i]
			i++
			base, idx := sib&7, sib>>3&7|rX<<3
			if idx != 4 {
				mem.Index, mem.Scale = regs[idx], 1<<(sib>>6)
			}
			if base == 5 && mod == 0 {
				dispSize = 4
			} else {
				mem.Base = regs[base|rB<<3]
			}
		} else if rm == 5 && mod == 0 {
			mem.Base = "rip"
			dispSize = 4
		} else {
			mem.Base = regs[rm|rB<<3]
		}
		if i+dispSize > len(b) {
			return in, ErrTruncated
		}
		switch dispSize {
		case 1:
			mem.Disp = int64(int8(b[i]))
			disp8 = true
		case 4:
			mem.Disp = int64(int32(uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24))
		}
		i += dispSize
	}
	immSize := 0
	if mp == 3 || mp == 1 && (op >= 0x70 && op <= 0x73 || op >= 0xc2 && op <= 0xc6 && op != 0xc3) {
		immSize = 1
	}
	if i+immSize > len(b) {
		return in, ErrTruncated
	}
	var imm byte
	if immSize == 1 {
		imm = b[i]
	}
	i += immSize
	if i > 15 {
		return in, ErrUnknown
	}
	in.Len = i

	vl := 128
	switch {
	case evex && bc && mod == 3:
		vl = 512 // L'L holds the rounding mode
	case evex:
		vl = 128 << ll
		if ll == 3 {
			return in, ErrUnknown
		}
	case ll == 1:
		vl = 256
	}
	var e *entry
	for _, c := range table[opKey{mp, pp, op}] {
		if evex && !c.evex || !evex && !c.vex {
			continue
		}
		if c.w >= 0 && byte(c.w) != w || c.reg >= 0 && byte(c.reg) != reg {
			continue
		}
		if c.l >= 0 && (evex || int(c.l) != ll) {
			continue
		}
		if c.mod == 'r' && mod != 3 || c.mod == 'm' && mod == 3 {
			continue
		}
		e = c
		break
	}
	if e == nil {
		return in, ErrUnknown
	}
	in.Op = e.names[0]
	if w == 1 && (evex || !e.wEVEXOnly) {
		in.Op = e.names[1]
	}
	if evex {
		in.Mask, in.Zero = aaa, z
		if bc && mod == 3 {
			if e.er {
				in.Rounding = []string{"{rn-sae}", "{rd-sae}", "{ru-sae}", "{rz-sae}"}[ll]
			} else if e.sae {
				in.Rounding = "{sae}"
			}
		}
	}
	elem := 4 << w
	vecName := func(width int, n byte) Reg {
		switch {
		case width >= 512:
			return Reg(fmt.Sprintf("zmm%d", n))
		case width == 256:
			return Reg(fmt.Sprintf("ymm%d", n))
		}
		return Reg(fmt.Sprintf("xmm%d", n))
	}
	gpr := func(n byte, wide bool) Reg {
		if wide {
			return Reg(gpr64[n&15])
		}
		return Reg(gpr32[n&15])
	}
	memArg := func(size int) Arg {
		m := mem
		m.Size = size
		if evex && bc && e.bcst {
			m.Bcst = size / elem
			m.Size = elem
		}
		if evex && disp8 {
			n := m.Size
			if e.t1s {
				n = elem
			}
			m.Disp *= int64(n)
		}
		return m
	}
	regN := reg | rR<<3 | rR2<<4
	rmN := rm | rB<<3 | rX<<4
	vN := vvvv | rV2<<4
	for _, o := range e.ops {
		var a Arg
		width := vl
		switch {
		case strings.HasSuffix(o, "/2"):
			width = vl / 2
		case strings.HasSuffix(o, "/4"):
			width = vl / 4
		case strings.HasSuffix(o, "/8"):
			width = vl / 8
		case len(o) > 1 && o[1] == 'x' || len(o) > 1 && o[1] == 's':
			width = 128
		case len(o) > 1 && o[1] == 'y':
			width = 256
		}
		switch o[0] {
		case 'V':
			a = vecName(max(width, 128), regN)
		case 'H':
			a = vecName(max(width, 128), vN)
		case 'L':
			a = vecName(max(width, 128), imm>>4)
		case 'W':
			if mod == 3 {
				a = vecName(max(width, 128), rmN)
			} else if len(o) == 3 && o[1] == 's' {
				a = memArg(int(o[2] - '0'))
			} else {
				a = memArg(width / 8)
			}
		case 'K':
			switch {
			case o == "K":
				a = Reg(fmt.Sprintf("k%d", reg))
			case o == "KH":
				a = Reg(fmt.Sprintf("k%d", vvvv&7))
			case mod == 3:
				a = Reg(fmt.Sprintf("k%d", rm))
			case len(o) == 3:
				a = memArg(int(o[2] - '0'))
			default:
				return in, ErrUnknown
			}
		case 'G':
			a = gpr(reg|rR<<3, w == 1 && o != "Gd")
		case 'B':
			a = gpr(vvvv, w == 1)
		case 'E':
			wide := w == 1 && len(o) == 1
			if mod == 3 {
				a = gpr(rm|rB<<3, wide)
			} else if len(o) == 2 && o[1] != 'd' {
				a = memArg(int(o[1] - '0'))
			} else if wide {
				a = memArg(8)
			} else {
				a = memArg(4)
			}
		case 'I':
			a = Imm(imm)
		default:
			panic("disasm: bad operand " + o)
		}
		in.Args = append(in.Args, a)
	}
	if e.cmp && imm < 32 {
		in.Op = "vcmp" + cmpPreds[imm] + in.Op[4:]
		in.Args = in.Args[:len(in.Args)-1]
	}
	return in, nil
}
