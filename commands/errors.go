package commands

import (
	"fmt"
	"strings"
	"time"
)

func init() {
	Register(&Command{Name: ".time", Family: "expressions and events", Syntax: ".time",
		Summary: "show the debug session time and the system and process uptimes", Run: cmdTime})
	Register(&Command{Name: "!gle", Family: "process structures", Syntax: "!gle", Needs: Needs{User: true},
		Summary: "show the current thread's last error and last status (from its TEB)", Run: cmdGle})
	Register(&Command{Name: "!error", Family: "expressions and events", Syntax: "!error Value [Flags]",
		Summary: "decode a Win32 error or NTSTATUS value",
		Help:    "Values with the NTSTATUS severity bits (0xC..., 0x8..., 0x4...) decode as NTSTATUS, others as Win32; ntdbg knows the common codes.",
		Run:     cmdError})
}

func cmdTime(c *Ctx, inv *Invocation) error {
	lines := c.versionLines(kernelDesc(c) != nil)
	for _, l := range lines {
		if strings.HasPrefix(l, "Debug session time:") || strings.HasPrefix(l, "System Uptime:") || strings.HasPrefix(l, "Process Uptime:") {
			c.Println(l)
		}
	}
	if sys := c.S.Target.System(); sys.HasTimes {
		c.Printf("  Kernel time: %s\n", uptime(time.Duration(sys.KernelTime)*time.Second))
		c.Printf("  User time: %s\n", uptime(time.Duration(sys.UserTime)*time.Second))
	}
	return nil
}

// win32Messages are the system messages of common Win32 errors.
var win32Messages = map[uint64]string{
	0: "The operation completed successfully.", 1: "Incorrect function.", 2: "The system cannot find the file specified.",
	3: "The system cannot find the path specified.", 4: "The system cannot open the file.", 5: "Access is denied.",
	6: "The handle is invalid.", 8: "Not enough memory resources are available to process this command.",
	0xe: "Not enough memory resources are available to complete this operation.", 0x20: "The process cannot access the file because it is being used by another process.",
	0x57: "The parameter is incorrect.", 0x6d: "The pipe has been ended.", 0x7a: "The data area passed to a system call is too small.",
	0x7e: "The specified module could not be found.", 0xb7: "Cannot create a file when that file already exists.",
	0x3e5: "Overlapped I/O operation is in progress.", 0x5b4: "This operation returned because the timeout period expired.",
	0x6ba: "The RPC server is unavailable.", 0x102: "The wait operation timed out.", 0x103: "No more data is available.",
	0x3e3: "The I/O operation has been aborted because of either a thread exit or an application request.",
}

// ntstatusMessages are the messages of common NTSTATUS values.
var ntstatusMessages = map[uint64]string{
	0:          "STATUS_SUCCESS",
	0x102:      "STATUS_TIMEOUT",
	0x103:      "STATUS_PENDING",
	0x80000003: "{EXCEPTION}  Breakpoint  A breakpoint has been reached.",
	0xc0000005: "The instruction at 0x%p referenced memory at 0x%p. The memory could not be %s.",
	0xc0000008: "An invalid HANDLE was specified.",
	0xc000000d: "An invalid parameter was passed to a service or function.",
	0xc0000017: "{Not Enough Quota}  Not enough virtual memory or paging file quota is available to complete the specified operation.",
	0xc0000022: "{Access Denied}  A process has requested access to an object, but has not been granted those access rights.",
	0xc0000034: "Object Name not found.",
	0xc000003a: "{Path Not Found}  The path %hs does not exist.",
	0xc0000135: "{Unable To Locate Component}  This application has failed to start because %hs was not found. Reinstalling the application may fix this problem.",
	0xc00000fd: "A new guard page for the stack cannot be created.",
	0xc0000409: "The system detected an overrun of a stack-based buffer in this application. This overrun could potentially allow a malicious user to gain control of this application.",
	0xc0000374: "A heap has been corrupted.",
}

func isNTStatus(v uint64) bool { return v>>30 != 0 && v <= 0xffffffff }

// hx is `0x..` hex, but `0` for zero, as the extensions print it.
func hx(v uint64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("0x%x", v)
}

func errorText(v uint64) string {
	if isNTStatus(v) {
		m, ok := ntstatusMessages[v]
		if !ok {
			m = "<Unable to get error code text>"
		}
		return fmt.Sprintf("(NTSTATUS) %s (%d) - %s", hx(v), v, m)
	}
	m, ok := win32Messages[v]
	if !ok {
		m = "<Unable to get error code text>"
	}
	return fmt.Sprintf("(Win32) %s (%d) - %s", hx(v), v, m)
}

func cmdError(c *Ctx, inv *Invocation) error {
	a := strings.Fields(inv.Args)
	if len(a) == 0 {
		return fmt.Errorf("Usage: !error Value")
	}
	v, err := c.Eval(a[0])
	if err != nil {
		return err
	}
	c.Printf("Error code: %s\n", errorText(v&0xffffffff))
	return nil
}

func cmdGle(c *Ctx, inv *Invocation) error {
	th, err := c.S.Thread()
	if err != nil {
		return err
	}
	l := c.S.Layout()
	last, err1 := c.S.ReadUint(th.Teb+l.TebLastErr, 4)
	status, err2 := c.S.ReadUint(th.Teb+l.TebLastStatus, 4)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("Unable to read the TEB at %s", c.ptr(th.Teb))
	}
	c.Printf("LastErrorValue: %s\n", errorText(last))
	if status == 0 {
		c.Printf("LastStatusValue: (NTSTATUS) 0 - STATUS_SUCCESS\n")
	} else {
		c.Printf("LastStatusValue: %s\n", errorTextStatus(status))
	}
	return nil
}

// errorTextStatus names a value as an NTSTATUS whatever its bits.
func errorTextStatus(v uint64) string {
	if m, ok := ntstatusMessages[v]; ok {
		return fmt.Sprintf("(NTSTATUS) 0x%x - %s", v, m)
	}
	return fmt.Sprintf("(NTSTATUS) 0x%x - <Unable to get error code text>", v)
}
