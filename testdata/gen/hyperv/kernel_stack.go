package hyperv

import "fmt"

// Kernel stacks are laid out as BuildStack lays user stacks (from the
// images' own unwind codes, each return address just after a real call in
// the caller), with two additions: a frame whose unwind codes push a
// machine frame (the system-call entry's trap frame) gets the interrupted
// user context there instead of a return address, and the innermost frame
// may be given as the return address of one of its calls (KiSwapContext's
// call of SwapContext), with the switch frame below it.

// machineFrame is the user context a system call interrupted: the hardware
// part of its KTRAP_FRAME.
type machineFrame struct {
	Rip, Rsp     uint64
	SegCs, SegSs uint64
	EFlags       uint64
	// Regs are the user's registers at the call: the non-volatile ones
	// are what the kernel's prologs save (nil: made-up values).
	Regs *[16]uint64
}

// kstackResult is what buildKernelStack laid out.
type kstackResult struct {
	Top     Frame   // the innermost frame's registers: IP, SP and the non-volatiles the body holds
	Frames  []Frame // innermost first
	MachAt  uint64  // where the machine frame (RIP) was written, 0 if none
	Regs    [16]uint64
	Extents []frameExtent // each frame's [SP, return-address slot) range, innermost first
}

// frameExtent is the stack range a frame's body owns: from its stack
// pointer up to (not including) the slot of its return address, and how
// many bytes of it its prolog allocated (locals live there).
type frameExtent struct {
	SP, RetSlot uint64
	Alloc       uint64 // bytes of UWOP_ALLOC_* in the prolog (the locals and the callee home area)
}

// buildKernelStack lays chain (outermost first) below top. innermostAt is
// the innermost frame's IP as an offset from its function (0: the function's
// first call's return address is not implied; give it explicitly). mf, if
// not nil, is written where the outermost frame's machine frame goes.
func buildKernelStack(sp *Space, top uint64, chain []Call, seed uint64, mf *machineFrame) kstackResult {
	b := &stackBuilder{sp: sp, cur: top}
	for _, r := range nonVolatile {
		b.regs[r] = seed | uint64(r)<<8 | 0xC0
	}
	if mf != nil && mf.Regs != nil {
		b.regs = *mf.Regs
	}
	ips := make([]uint64, len(chain))
	for j := range chain {
		if j == len(chain)-1 {
			ips[j] = chain[j].Img.Sym(chain[j].Fn) + chain[j].At
		} else {
			ips[j] = chooseIP(chain[j], chain[j+1])
		}
	}
	var res kstackResult
	frames := make([]Frame, len(chain))
	extents := make([]frameExtent, len(chain))
	for j, c := range chain {
		ret := uint64(0)
		if j > 0 {
			ret = ips[j-1]
		}
		u := c.Img.unwindAt(ips[j])
		var codes []uwCode
		frameReg, frameOff := uint8(0), uint8(0)
		if u != nil {
			codes = append(codes, u.codes...)
			frameReg, frameOff = u.frameReg, u.frameOff
			for ch := u.chained; ch != nil; {
				p := c.Img.decode(*ch)
				codes = append(codes, p.codes...)
				if frameReg == 0 {
					frameReg, frameOff = p.frameReg, p.frameOff
				}
				ch = p.chained
			}
		}
		hasMach := false
		for _, cd := range codes {
			if cd.op == 10 {
				hasMach = true
			}
		}
		retSlot := b.cur - 8
		if !hasMach {
			b.push(ret)
		} else if j != 0 {
			panic(fmt.Sprintf("%s!%s pushes a machine frame but is not the outermost frame", c.Img.File, c.Fn))
		}
		saved := map[int]bool{}
		type save struct {
			reg int
			off uint32
		}
		var saves []save
		fpSet, fpVal, base := false, uint64(0), uint64(0)
		alloc := uint64(0)
		for k := len(codes) - 1; k >= 0; k-- { // prolog order
			cd := codes[k]
			switch cd.op {
			case 0:
				b.push(b.regs[cd.info])
				saved[int(cd.info)] = true
			case 1, 2:
				b.cur -= uint64(cd.operand)
				alloc += uint64(cd.operand)
			case 3:
				fpSet, base, fpVal = true, b.cur, b.cur+16*uint64(frameOff)
			case 4, 5:
				saves = append(saves, save{int(cd.info), cd.operand})
				saved[int(cd.info)] = true
			case 8, 9:
				// XMM saves: the kernel scenario's code keeps no XMM state.
			case 10:
				if mf == nil {
					panic(fmt.Sprintf("%s!%s pushes a machine frame: give the user context", c.Img.File, c.Fn))
				}
				if cd.info == 1 { // with an error code
					b.push(0)
				}
				b.push(mf.SegSs)
				b.push(mf.Rsp)
				b.push(mf.EFlags)
				b.push(mf.SegCs)
				b.push(mf.Rip)
				res.MachAt = b.cur
				retSlot = b.cur // the frame's "return address" is the user RIP
			}
		}
		if !fpSet {
			base = b.cur
		}
		for _, s := range saves {
			sp.U64(base+uint64(s.off), b.regs[s.reg])
		}
		for r := range 16 {
			if saved[r] {
				b.regs[r] = seed | uint64(j+1)<<16 | uint64(r)<<8 | 0x11
			}
		}
		if fpSet {
			b.regs[frameReg] = fpVal
		}
		for r, v := range c.Set {
			if !saved[r] {
				panic(fmt.Sprintf("%s!%s does not save register %d", c.Img.File, c.Fn, r))
			}
			b.regs[r] = v
		}
		frames[len(chain)-1-j] = Frame{Module: c.Img.File, Function: c.Fn, IP: ips[j], SP: b.cur, Ret: ret, Regs: b.regs}
		extents[len(chain)-1-j] = frameExtent{SP: b.cur, RetSlot: retSlot, Alloc: alloc}
	}
	res.Frames, res.Extents, res.Regs = frames, extents, b.regs
	res.Top = frames[0]
	return res
}
