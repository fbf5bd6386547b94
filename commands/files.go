package commands

// FileGuard is an optional interface of a Host that confines the files
// commands may touch (the MCP server: only under the roots it was given,
// symbol caches only where the session's settings put them). A command
// that opens a file the user named asks it first; an error refuses.
type FileGuard interface {
	// CheckFile is asked before a read ("read": .opendump, $<),
	// a write ("write": logs, an extension's report file) or a new symbol path
	// ("sympath": .sympath, .symfix; path is the whole new path text).
	CheckFile(op, path string) error
}

// CheckFile asks the host's FileGuard, when it has one, whether the
// command may read or write path (nil: it may).
func (c *Ctx) CheckFile(op, path string) error {
	if g, ok := c.Host.(FileGuard); ok {
		return g.CheckFile(op, path)
	}
	return nil
}
