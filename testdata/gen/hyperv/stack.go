package hyperv

import (
	"fmt"
	"strings"

	"github.com/ntdbg/ntdbg/testdata/gen/mdw"
)

// Register numbers (the x64 unwind-code numbering, also CONTEXT's GPR order).
const (
	RAX = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// Call is one frame of a call chain to lay onto a stack.
type Call struct {
	Img *Image
	Fn  string
	// At is the exact IP for the innermost frame, as an offset from Fn.
	At uint64
	// Set gives non-volatile registers the values the function's body
	// holds in them at its call (for instance the critical section kept in
	// rsi across the call): the callee saves them, so they land on the
	// stack where an unwinder recovers them. Only registers the function
	// itself saves in its prolog may be set.
	Set map[int]uint64
}

// Frame is what a correct unwinder recovers for one frame.
type Frame struct {
	Module, Function string
	IP, SP           uint64 // SP is the frame's stack pointer (Child-SP)
	Ret              uint64 // the return address stored above the frame
	Regs             [16]uint64
}

var nonVolatile = []int{RBX, RBP, RSI, RDI, R12, R13, R14, R15}

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

// chooseIP picks the return address in caller for a call to next: after a
// direct call to it, else after a call through its import slot, else after
// the first call through a register or a pointer variable.
func chooseIP(caller, next Call) uint64 {
	fn := caller.Img.Sym(caller.Fn)
	target := next.Img.Sym(next.Fn)
	sites := caller.Img.callSitesIn(fn)
	for _, s := range sites {
		if s.target == target {
			return s.ret
		}
	}
	for _, s := range sites {
		if imp, ok := caller.Img.Imports[s.mem]; ok && imp.Name == next.Fn && strings.EqualFold(imp.Module, next.Img.File) {
			return s.ret
		}
	}
	for _, s := range sites {
		if _, isImport := caller.Img.Imports[s.mem]; s.target == 0 && !isImport {
			return s.ret
		}
	}
	panic(fmt.Sprintf("%s!%s has no call that can reach %s!%s", caller.Img.File, caller.Fn, next.Img.File, next.Fn))
}

// BuildStack lays chain (outermost first) onto the stack below top as each
// function's prolog would have left it, and returns the innermost context
// and the frames a correct unwinder recovers (innermost first).
func BuildStack(sp *Space, top uint64, chain []Call, seed uint64) (mdw.Context, []Frame) {
	b := &stackBuilder{sp: sp, cur: top}
	for _, r := range nonVolatile {
		b.regs[r] = seed | uint64(r)<<8 | 0xC0
	}
	for i := 6; i < 16; i++ {
		for k := range b.xmm[i] {
			b.xmm[i][k] = byte(seed>>12) + byte(i*16+k)
		}
	}
	ips := make([]uint64, len(chain))
	for j := range chain {
		if j == len(chain)-1 {
			ips[j] = chain[j].Img.Sym(chain[j].Fn) + chain[j].At
		} else {
			ips[j] = chooseIP(chain[j], chain[j+1])
		}
	}
	frames := make([]Frame, len(chain))
	for j, c := range chain {
		ret := uint64(0)
		if j > 0 {
			ret = ips[j-1]
		}
		b.push(ret)
		saved := map[int]bool{}
		if u := c.Img.unwindAt(ips[j]); u != nil {
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
			var savedXmm []int
			fpSet, fpVal, base := false, uint64(0), uint64(0)
			for k := len(codes) - 1; k >= 0; k-- { // prolog order
				cd := codes[k]
				switch cd.op {
				case 0:
					b.push(b.regs[cd.info])
					saved[int(cd.info)] = true
				case 1, 2:
					b.cur -= uint64(cd.operand)
				case 3:
					fpSet, base, fpVal = true, b.cur, b.cur+16*uint64(frameOff)
				case 4, 5:
					saves = append(saves, save{int(cd.info), cd.operand, false})
					saved[int(cd.info)] = true
				case 8, 9:
					saves = append(saves, save{int(cd.info), cd.operand, true})
					savedXmm = append(savedXmm, int(cd.info))
				case 10:
					panic("machine frames are not used in this scenario")
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
			for r := range 16 {
				if saved[r] {
					b.regs[r] = seed | uint64(j+1)<<16 | uint64(r)<<8 | 0x11
				}
			}
			for _, x := range savedXmm {
				for k := range b.xmm[x] {
					b.xmm[x][k] = byte(j*7+x) ^ byte(k)
				}
			}
			if fpSet {
				b.regs[frameReg] = fpVal
				b.cur -= 0x40 // the dynamic allocation below the frame pointer
			}
		}
		for r, v := range c.Set {
			if !saved[r] {
				panic(fmt.Sprintf("%s!%s does not save register %d", c.Img.File, c.Fn, r))
			}
			b.regs[r] = v
		}
		frames[len(chain)-1-j] = Frame{Module: c.Img.File, Function: c.Fn, IP: ips[j], SP: b.cur, Ret: ret, Regs: b.regs}
	}
	r := b.regs
	ctx := mdw.Context{Rip: ips[len(ips)-1], Rsp: b.cur, Rbx: r[RBX], Rbp: r[RBP], Rsi: r[RSI], Rdi: r[RDI],
		R12: r[R12], R13: r[R13], R14: r[R14], R15: r[R15], Xmm: b.xmm, EFlags: 0x246}
	return ctx, frames
}
