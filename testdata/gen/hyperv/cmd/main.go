// Command cmd writes testdata/scenarios/hyperv-hang/vmms.dmp and kernel.dmp
// (go generate in testdata/gen/hyperv runs it).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ntdbg/ntdbg/testdata/gen/hyperv"
	"github.com/ntdbg/ntdbg/testdata/gen/kdw"
)

func main() {
	sc := hyperv.Build()
	out := filepath.Join(hyperv.ScenarioDir(), "vmms.dmp")
	data := sc.Dump.Bytes()
	if err := os.WriteFile(out, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (%d bytes): %s\n", out, len(data), sc.Describe())
	k := hyperv.BuildKernel()
	kout := filepath.Join(hyperv.ScenarioDir(), "kernel.dmp")
	kdata, err := k.Dump.Bytes(kdw.BitmapFull)
	if err == nil {
		err = os.WriteFile(kout, kdata, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (%d bytes): %s\n", kout, len(kdata), k.Describe())
}
