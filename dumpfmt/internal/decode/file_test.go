package decode

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

type owned struct {
	Closer
	size int64
}

func TestOpenOwnsTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("12345"), 0o644)
	f, c, err := Open(p, func(r io.ReaderAt, n int64) (*owned, error) { return &owned{size: n}, nil })
	if err != nil || f.size != 5 {
		t.Fatalf("%v %+v", err, f)
	}
	f.Own(c)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.(*os.File).Stat(); err == nil {
		t.Fatal("the file is still open after Close")
	}
	bad := errors.New("not this format")
	var kept io.ReaderAt
	_, _, err = Open(p, func(r io.ReaderAt, n int64) (*owned, error) { kept = r; return nil, bad })
	if !errors.Is(err, bad) {
		t.Fatal(err)
	}
	if _, err := kept.(*os.File).Stat(); err == nil {
		t.Fatal("a file that failed to decode was left open")
	}
}
