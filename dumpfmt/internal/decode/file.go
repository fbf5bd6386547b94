package decode

import (
	"io"
	"os"
)

// Closer is embedded by a reader's File: it holds the file the reader owns
// (opened by its Open, or handed over with Own) and closes it once.
type Closer struct{ c io.Closer }

// Own makes c the file Close closes.
func (o *Closer) Own(c io.Closer) { o.c = c }

// Close closes the owned file; it does nothing when there is none.
func (o *Closer) Close() error {
	if o.c == nil {
		return nil
	}
	err := o.c.Close()
	o.c = nil
	return err
}

// Open opens the named file and hands it to newFile with its size. On
// success the caller owns the file (through the returned closer); on
// failure it is closed.
func Open[T any](name string, newFile func(io.ReaderAt, int64) (T, error)) (T, io.Closer, error) {
	var zero T
	fh, err := os.Open(name)
	if err != nil {
		return zero, nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return zero, nil, err
	}
	f, err := newFile(fh, st.Size())
	if err != nil {
		fh.Close()
		return zero, nil, err
	}
	return f, fh, nil
}
