package types

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/ntdbg/ntdbg/engine/mem"
)

func listMemory(links map[uint64]uint64) mem.Memory {
	b := make([]byte, 0x1000)
	for at, to := range links {
		binary.LittleEndian.PutUint64(b[at-0x1000:], to)
	}
	return mem.NewRangeMap([]mem.Range{{Start: 0x1000, Size: 0x1000, Src: bytes.NewReader(b)}})
}

func TestListEntries(t *testing.T) {
	good := listMemory(map[uint64]uint64{0x1000: 0x1100, 0x1100: 0x1200, 0x1200: 0x1000})
	got, err := ListEntries(good, 8, 0x1000, 10)
	if err != nil || len(got) != 2 || got[0] != 0x1100 || got[1] != 0x1200 {
		t.Fatalf("%x %v", got, err)
	}
	// A cycle that misses the head stops after what was read.
	cyc := listMemory(map[uint64]uint64{0x1000: 0x1100, 0x1100: 0x1200, 0x1200: 0x1100})
	got, err = ListEntries(cyc, 8, 0x1000, 10)
	if !errors.Is(err, ErrListCycle) || len(got) != 2 {
		t.Fatalf("cycle: %x %v", got, err)
	}
	// A Flink out of the dump: the unreadable entry is not returned.
	bad := listMemory(map[uint64]uint64{0x1000: 0x1100, 0x1100: 0x9000})
	got, err = ListEntries(bad, 8, 0x1000, 10)
	var me *mem.Error
	if !errors.As(err, &me) || me.Addr != 0x9000 || len(got) != 1 || got[0] != 0x1100 {
		t.Fatalf("bad Flink: %x %v", got, err)
	}
	// The bound.
	if got, err := ListEntries(good, 8, 0x1000, 1); !errors.Is(err, ErrListTooLong) || len(got) != 1 {
		t.Fatalf("bound: %x %v", got, err)
	}
}
