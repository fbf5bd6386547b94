package filetype

import (
	"bytes"
	"testing"
)

func TestIdentify(t *testing.T) {
	for in, want := range map[string]struct {
		k    Kind
		desc string
	}{
		"":                                       {Empty, "the file is empty"},
		"MDMP\x93\xa7":                           {Minidump, "a minidump (MDMP)"},
		"PAGEDU64....":                           {KernelDump64, "a 64-bit kernel dump (PAGEDU64)"},
		"PAGEDUMP....":                           {KernelDump32, "a 32-bit kernel dump (PAGEDUMP)"},
		"MZ\x90\x00":                             {PEImage, "a PE image (MZ)"},
		"Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00": {PDB, "a PDB (Microsoft C/C++ MSF)"},
		"MSCF\x00\x00\x00\x00":                   {Cabinet, "a cabinet (MSCF)"},
		"ab":                                     {Unknown, "a 2-byte file"},
		"\x01\x02zz9":                            {Unknown, `unknown signature "..zz"`},
	} {
		k, desc := Identify(bytes.NewReader([]byte(in)), int64(len(in)))
		if k != want.k || desc != want.desc {
			t.Errorf("%q: %v %q, want %v %q", in, k, desc, want.k, want.desc)
		}
	}
	if !KernelDump32.IsKernelDump() || PEImage.IsKernelDump() {
		t.Error("IsKernelDump")
	}
}
