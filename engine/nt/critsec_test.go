package nt

import "testing"

// LockCount as Windows Server 2003 SP1 and later keep it (windbg-reference.md
// §3.20): bit 0 clear = held, bit 1
// clear = a waiter woken, the rest the ones' complement of the waiters.
func TestLockCountDecoding(t *testing.T) {
	cases := []struct {
		raw     int32
		locked  bool
		woken   bool
		waiters uint32
	}{
		{-1, false, false, 0},
		{-2, true, false, 0},
		{-418, true, false, 104}, // the seed's section: LockCount = 0x68
		{-4, true, true, 0},
		{-6, true, false, 1},
	}
	for _, tc := range cases {
		c := CritSec{LockCount: tc.raw}
		if c.Locked() != tc.locked || c.WaiterWoken() != tc.woken || c.Waiters() != tc.waiters {
			t.Errorf("LockCount %d: locked %v woken %v waiters %d, want %v %v %d", tc.raw, c.Locked(), c.WaiterWoken(), c.Waiters(), tc.locked, tc.woken, tc.waiters)
		}
	}
}

// field never reads past its buffer, whatever a layout says.
func TestFieldBounds(t *testing.T) {
	if v := field(make([]byte, 4), 2, 4, false); v != 0 {
		t.Errorf("field past the end = %#x", v)
	}
	if v := field([]byte{0xff, 0xff, 0xff, 0xff}, 0, 4, true); v != NoDebugInfo {
		t.Errorf("x86 (PVOID)-1 = %#x", v)
	}
}

// Type information that describes huge or inside-out critical sections is
// not trusted: the reads allocate CsSize and CsdFlags+4 bytes.
func TestCritSecLayoutBounds(t *testing.T) {
	if l := fallback64; !l.critSecSane() {
		t.Error("the x64 fallback is not sane")
	}
	if l := fallback32; !l.critSecSane() {
		t.Error("the x86 fallback is not sane")
	}
	for _, bad := range []func(*Layout){
		func(l *Layout) { l.CsSize = 1 << 40 },
		func(l *Layout) { l.CsOwner = 0x28 },
		func(l *Layout) { l.CsdFlags = ^uint64(0) - 2 },
		func(l *Layout) { l.CsdSection = 0x30 },
	} {
		l := fallback64
		bad(&l)
		if l.critSecSane() {
			t.Errorf("accepted %+v", l)
		}
	}
}
