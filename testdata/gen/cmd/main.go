// Command gen writes the generated scenario dumps into testdata.
// Run from the repository root: go run ./testdata/gen/cmd
package main

import (
	"fmt"
	"os"

	"ntdbg/testdata/gen/demo"
)

func main() {
	out := "testdata/demo/demo.dmp"
	if err := os.WriteFile(out, demo.Build().Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("wrote", out)
}
