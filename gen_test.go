package main

import (
	"github.com/ntdbg/ntdbg/testdata/gen/demo"
)

func demoBytes() []byte { return demo.Build().Bytes() }

func x86Bytes() []byte { return demo.BuildX86Scenario().Dump.Bytes() }

func x86MSVCBytes() []byte { return demo.BuildX86MSVCScenario().Dump.Bytes() }

// hostileDump is the demo with terminal escapes in a module path, a thread
// name and the comment.
func hostileDump() []byte {
	d := demo.Build()
	d.Modules[2].Path = "C:\\x\\evil\x1b]0;owned\x07.dll"
	d.Threads[1].Name = "name\x1b[2J"
	d.Threads[2].Name = "c1\u009b2J" // U+009B is the C1 control sequence introducer
	d.Comment = "bell\x07"
	return d.Bytes()
}
