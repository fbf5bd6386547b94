package engine

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ntdbg/ntdbg/dumpfmt/filetype"
	"github.com/ntdbg/ntdbg/dumpfmt/minidump"
	"github.com/ntdbg/ntdbg/engine/target"
)

// Options are the settings of Open.
type Options struct {
	// Name is the name shown for the dump (defaults to the path).
	Name string
}

// OpenError is a file that did not open as any dump ntdbg reads. Its
// message is one line: what the file was expected to be and what it is.
type OpenError struct {
	Path string
	Msg  string
	Err  error
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("Could not open dump file [%s]: %s", target.Sanitize(e.Path), e.Msg)
}

func (e *OpenError) Unwrap() error { return e.Err }

// ErrNotDump is wrapped by an OpenError for a file in no dump format.
var ErrNotDump = errors.New("not a dump file")

// Open opens a dump file, trying each format ntdbg reads in turn. The
// target owns the file: Close closes it.
func Open(path string, opts Options) (target.Target, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &OpenError{Path: path, Msg: errText(err), Err: err}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &OpenError{Path: path, Msg: errText(err), Err: err}
	}
	name := opts.Name
	if name == "" {
		name = path
	}
	t, err := OpenReader(f, st.Size(), name)
	if err != nil {
		f.Close()
		return nil, err
	}
	return t, nil
}

// OpenReader opens a dump held in r (size bytes). If r is an io.Closer, the
// target's Close closes it.
func OpenReader(r io.ReaderAt, size int64, name string) (target.Target, error) {
	t, err := target.OpenMinidump(r, size, name)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, minidump.ErrNotMinidump) {
		return nil, &OpenError{Path: name, Msg: err.Error(), Err: err}
	}
	kind, what := filetype.Identify(r, size)
	if kind.IsKernelDump() {
		kt, err := openKernel(r, size, name)
		if err != nil {
			return nil, &OpenError{Path: name, Msg: err.Error(), Err: err}
		}
		return kt, nil
	}
	return nil, &OpenError{Path: name, Msg: fmt.Sprintf("%s, not a minidump (MDMP) or kernel dump (PAGEDU64)", what), Err: ErrNotDump}
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
