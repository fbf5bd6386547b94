package nt

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"testing"

	"github.com/ntdbg/ntdbg/engine/mem"
)

func memAt(addr uint64, b []byte) mem.Memory {
	return mem.NewRangeMap([]mem.Range{{Start: addr, Size: uint64(len(b)), Src: bytes.NewReader(b), Off: 0}})
}

// encode is the inverse of the decode step formats-spec.md §2.7 gives,
// written out separately.
func encode(plain uint64, k KdbgKeys) uint64 {
	x := bits.ReverseBytes64(plain^k.WaitAlways) ^ k.EncodedAddr
	return bits.RotateLeft64(x, -int(k.WaitNever&0xff)) ^ k.WaitNever
}

func TestReadKDBG(t *testing.T) {
	const at = 0xfffff803_0ac12340
	b := make([]byte, 0x360)
	binary.LittleEndian.PutUint32(b[0x10:], 0x4742444B)
	binary.LittleEndian.PutUint32(b[0x14:], 0x360)
	binary.LittleEndian.PutUint64(b[0x18:], 0xfffff803_0a600000)
	binary.LittleEndian.PutUint64(b[0x48:], 0xfffff803_0a8d1230)
	binary.LittleEndian.PutUint64(b[0x50:], 0xfffff803_0a8e4560)
	binary.LittleEndian.PutUint64(b[0x218:], 0xfffff803_0a9f0000)
	binary.LittleEndian.PutUint16(b[0x338:], 0x3c8)
	check := func(name string, k *KDBG, err error, encoded bool) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if k.KernBase != 0xfffff803_0a600000 || k.PsLoadedModuleList != 0xfffff803_0a8d1230 || k.ActiveHead != 0xfffff803_0a8e4560 ||
			k.KiProcessorBlock != 0xfffff803_0a9f0000 || k.OffsetPrcbContext != 0x3c8 || k.Size != 0x360 || k.Encoded != encoded {
			t.Errorf("%s: %+v", name, k)
		}
	}
	k, err := ReadKDBG(memAt(at, b), at, KdbgKeys{})
	check("plain", k, err, false)

	keys := KdbgKeys{WaitNever: 0x1234_5678_9abc_de37, WaitAlways: 0x0fed_cba9_8765_4321, EncodedAddr: 0xfffff803_0ac00011}
	enc := make([]byte, len(b))
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(enc[i:], encode(binary.LittleEndian.Uint64(b[i:]), keys))
	}
	k, err = ReadKDBG(memAt(at, enc), at, keys)
	check("encoded", k, err, true)
	if _, err := ReadKDBG(memAt(at, enc), at, KdbgKeys{}); err == nil {
		t.Error("an encoded block read without keys")
	}
	bad := append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(bad[0x14:], 0x7fffffff)
	if _, err := ReadKDBG(memAt(at, bad), at, KdbgKeys{}); err == nil {
		t.Error("a huge Size was accepted")
	}
	if _, err := ReadKDBG(memAt(at, b[:0x100]), at, KdbgKeys{}); err == nil {
		t.Error("a block running past memory was accepted")
	}
}
