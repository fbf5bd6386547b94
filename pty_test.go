//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair (Linux /dev/ptmx).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	master = os.NewFile(uintptr(fd), "ptmx")
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	return master, slave
}

// readUntil reads the terminal until want appears (or times out).
func readUntil(t *testing.T, r io.Reader, acc *bytes.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	buf := make([]byte, 4096)
	for !strings.Contains(acc.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q; the terminal shows:\n%q", want, acc.String())
		}
		n, err := r.Read(buf)
		acc.Write(buf[:n])
		if err != nil {
			t.Fatalf("read: %v (after %q)", err, acc.String()[max(0, acc.Len()-300):])
		}
	}
}

// A terminal session through a pseudo-terminal: ndiskd's links show
// underlined and numbered, and `.link N` runs link N's command.
func TestDMLOnATerminal(t *testing.T) {
	master, slave := openPTY(t)
	defer master.Close()
	t.Setenv("NO_COLOR", "1")
	t.Setenv("HOME", t.TempDir()) // readline history goes to a temporary config folder
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-demo", "kernel"}, slave, slave, &errb)
		slave.Close()
	}()
	var acc bytes.Buffer
	readUntil(t, master, &acc, "0: kd> ")
	fmt.Fprint(master, "!ndiskd.miniports\r")
	readUntil(t, master, &acc, "FooBar Network Adapter #2")
	readUntil(t, master, &acc, "0: kd> ")
	text := acc.String()
	if !strings.Contains(text, "\x1b[4mffffe0004f5b9ba0\x1b[24m[") {
		t.Fatalf("no numbered, underlined link:\n%q", text)
	}
	// The row of FooBar Network Adapter #2: its miniport link number.
	row := text[strings.LastIndex(text[:strings.Index(text, "FooBar Network Adapter #2")], "\n"):]
	var drvN, mpN int
	var drv, mp string
	fmt.Sscanf(strings.TrimSpace(strings.NewReplacer("\x1b[4m", "", "\x1b[24m", " ", "[", "", "]", " ").Replace(row)), "%s %d %s %d", &drv, &drvN, &mp, &mpN)
	if mp != "ffffe0004f5f71a0" || mpN == 0 {
		t.Fatalf("row %q parsed as %s %d %s %d", row, drv, drvN, mp, mpN)
	}
	acc.Reset()
	fmt.Fprintf(master, ".link %d\r", mpN)
	readUntil(t, master, &acc, "MINIPORT")
	readUntil(t, master, &acc, "FooBar Network Adapter #2")
	readUntil(t, master, &acc, "0: kd> ")
	fmt.Fprint(master, "q\r")
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ntdbg did not quit")
	}
}
