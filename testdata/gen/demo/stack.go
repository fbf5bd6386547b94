package demo

import (
	"fmt"

	"github.com/ntdbg/ntdbg/testdata/gen/mdw"
)

// Call is one frame of a call chain to lay onto a stack.
type Call struct {
	Img *Image
	Fn  string
	// At is the exact IP for the innermost frame, as an offset from Fn.
	At uint64
}

// ExpectedFrame is what a correct unwinder must recover for one frame.
type ExpectedFrame struct {
	Module, Function string
	IP, SP           uint64
	Regs             [16]uint64 // meaningful for the non-volatile registers only
	Xmm6, Xmm7       [16]byte
}

// NonVolatile are the x64 registers a callee preserves (unwind-code numbering).
var NonVolatile = []int{3, 5, 6, 7, 12, 13, 14, 15}

type stackBuilder struct {
	sp   *Space
	cur  uint64
	regs [16]uint64
	xmm  [16][16]byte
}

func (b *stackBuilder) push(v uint64) {
	b.cur -= 8
	b.sp.U64(b.cur, v)
}

func hasMachframe(u *uwInfo) bool {
	if u == nil {
		return false
	}
	for _, c := range u.codes {
		if c.op == 10 {
			return true
		}
	}
	return false
}

// chooseIPs picks each frame's IP: the return address after the call to the
// next frame (a direct call to it when the caller has one), or, for a frame
// interrupted by a machine frame, the first instruction after its prolog.
func chooseIPs(chain []Call) []uint64 {
	ips := make([]uint64, len(chain))
	for j := range chain {
		fn := chain[j].Img.Sym(chain[j].Fn)
		if j == len(chain)-1 {
			ips[j] = fn + chain[j].At
			continue
		}
		next := chain[j+1]
		if hasMachframe(next.Img.unwindAt(next.Img.Sym(next.Fn))) {
			ips[j] = chain[j].Img.bodyInstruction(fn)
			continue
		}
		target := next.Img.Sym(next.Fn)
		sites := chain[j].Img.callSites(fn)
		if len(sites) == 0 {
			panic(fmt.Sprintf("%s has no call instruction", chain[j].Fn))
		}
		pick := uint64(0)
		for _, s := range sites {
			if s[1] == target {
				pick = s[0]
				break
			}
		}
		if pick == 0 {
			for _, s := range sites {
				if s[1] == 0 { // indirect: an import or a function pointer
					pick = s[0]
					break
				}
			}
		}
		if pick == 0 {
			pick = sites[0][0]
		}
		ips[j] = pick
	}
	return ips
}

// BuildStack lays the chain (outermost first) onto the stack below top, as
// each function's prolog would have left it, and returns the innermost
// context and the frames a correct unwinder recovers (innermost first).
func BuildStack(sp *Space, top uint64, chain []Call, seed uint64) (mdw.Context, []ExpectedFrame) {
	b := &stackBuilder{sp: sp, cur: top}
	for _, r := range NonVolatile {
		b.regs[r] = seed | uint64(r)<<8 | 0xC0
	}
	for i := 6; i < 8; i++ {
		for k := range b.xmm[i] {
			b.xmm[i][k] = byte(seed>>12) + byte(i*16+k)
		}
	}
	ips := chooseIPs(chain)
	frames := make([]ExpectedFrame, len(chain))
	for j, c := range chain {
		ret := uint64(0)
		if j > 0 {
			ret = ips[j-1]
		}
		u := c.Img.unwindAt(ips[j])
		if hasMachframe(u) {
			interruptedSP := b.cur
			b.cur &^= 0xF
			b.push(0x2b)
			b.push(interruptedSP)
			b.push(0x246)
			b.push(0x33)
			b.push(ret)
		} else {
			b.push(ret)
		}
		if u != nil {
			codes := append([]uwCode(nil), u.codes...)
			frameReg, frameOff := u.frameReg, u.frameOff
			for ch := u.chained; ch != nil; {
				p := c.Img.decode(*ch)
				codes = append(codes, p.codes...)
				if frameReg == 0 {
					frameReg, frameOff = p.frameReg, p.frameOff
				}
				ch = p.chained
			}
			type save struct {
				reg int
				off uint32
				xmm bool
			}
			var saves []save
			var saved []int
			var savedXmm []int
			fpSet, fpVal, base := false, uint64(0), uint64(0)
			for k := len(codes) - 1; k >= 0; k-- { // prolog order
				cd := codes[k]
				switch cd.op {
				case 0:
					b.push(b.regs[cd.info])
					saved = append(saved, int(cd.info))
				case 1, 2:
					b.cur -= uint64(cd.operand)
				case 3:
					fpSet, base, fpVal = true, b.cur, b.cur+16*uint64(frameOff)
				case 4, 5:
					saves = append(saves, save{int(cd.info), cd.operand, false})
					saved = append(saved, int(cd.info))
				case 8, 9:
					saves = append(saves, save{int(cd.info), cd.operand, true})
					savedXmm = append(savedXmm, int(cd.info))
				}
			}
			if !fpSet {
				base = b.cur
			}
			for _, s := range saves {
				if s.xmm {
					sp.Write(base+uint64(s.off), b.xmm[s.reg][:])
				} else {
					sp.U64(base+uint64(s.off), b.regs[s.reg])
				}
			}
			// The body now uses the registers it saved.
			for _, r := range saved {
				b.regs[r] = seed | uint64(j+1)<<16 | uint64(r)<<8 | 0x11
			}
			for _, x := range savedXmm {
				for k := range b.xmm[x] {
					b.xmm[x][k] = byte(j*7+x) ^ byte(k)
				}
			}
			if fpSet {
				b.regs[frameReg] = fpVal
				b.cur -= 0x40 // a dynamic allocation below the frame pointer
			}
		}
		frames[len(chain)-1-j] = ExpectedFrame{Module: c.Img.File, Function: c.Fn, IP: ips[j], SP: b.cur, Regs: b.regs, Xmm6: b.xmm[6], Xmm7: b.xmm[7]}
	}
	r := b.regs
	ctx := mdw.Context{Rip: ips[len(ips)-1], Rsp: b.cur, Rbx: r[3], Rbp: r[5], Rsi: r[6], Rdi: r[7], R12: r[12], R13: r[13], R14: r[14], R15: r[15],
		Rcx: 0x1b48, Rax: 0x1b6, R10: 0x1b48, Xmm: b.xmm}
	return ctx, frames
}
