package cab

import (
	"bytes"
	"os"
	"testing"
)

// testdata/nsi.pd_ was made by Debian's gcab (`gcab -c -z`) from the fixture
// nsi.pdb: an independent MSZIP writer.
func TestExtractMSZIP(t *testing.T) {
	data, err := os.ReadFile("testdata/nsi.pd_")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../testdata/fixtures/bin/nsi.pdb")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ExtractFirst(bytes.NewReader(data), int64(len(data)), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "nsi.pdb" || !bytes.Equal(f.Data, want) {
		t.Fatalf("extracted %q, %d bytes (want %d, equal=%v)", f.Name, len(f.Data), len(want), bytes.Equal(f.Data, want))
	}
	if _, err := ExtractFirst(bytes.NewReader(data), int64(len(data)), 1000); err == nil {
		t.Error("limit not enforced")
	}
	for n := 0; n < len(data); n += 37 {
		ExtractFirst(bytes.NewReader(data[:n]), int64(n), 1<<30)
	}
}

func FuzzExtract(f *testing.F) {
	if data, err := os.ReadFile("testdata/nsi.pd_"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("MSCF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ExtractFirst(bytes.NewReader(b), int64(len(b)), 1<<20)
	})
}
