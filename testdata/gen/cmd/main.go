// Command gen writes the generated scenario dumps into testdata.
// Run from the repository root: go run ./testdata/gen/cmd
package main

import (
	"fmt"
	"os"

	"github.com/ntdbg/ntdbg/testdata/gen/demo"
)

func main() {
	for out, data := range map[string][]byte{
		"testdata/demo/demo.dmp":    demo.Build().Bytes(),
		"testdata/demo/x86.dmp":     demo.BuildX86Scenario().Dump.Bytes(),
		"testdata/demo/x86msvc.dmp": demo.BuildX86MSVCScenario().Dump.Bytes(),
	} {
		if err := os.WriteFile(out, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("wrote", out)
	}
}
