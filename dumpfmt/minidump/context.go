package minidump

const maxContext = 64 << 10

// ReadContext returns the raw bytes of a thread context (base CONTEXT plus any
// CONTEXT_EX/XSTATE tail); package winctx decodes them.
func (f *File) ReadContext(loc Location) ([]byte, error) {
	if loc.DataSize > maxContext {
		return nil, errAt(int64(loc.Rva), "CONTEXT", "context size %d is implausible", loc.DataSize)
	}
	return f.ReadRaw(loc, "CONTEXT")
}
