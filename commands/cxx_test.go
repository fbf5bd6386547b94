package commands

import (
	"strings"
	"testing"
)

// ?? follows the C++ evaluator's output, type then value (windbg-reference
// §3.15, from real sessions: `?? int(@$teb->NtTib.StackBase) -
// int(@$teb->NtTib.StackLimit)` → `int 0n1044480`, `?? sizeof(ntdll!_TEB)`
// → `unsigned int64 0x1838`, `?? @$teb` → `struct _TEB * 0x...` then the
// members; msdocs/debuggercmds/----evaluate-c---expression-.md).
func TestCxxEvaluate(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	for expr, want := range map[string]string{
		"?? 1+2":                    "int 0n3\n",
		"?? 0x10 * 2":               "int 0n32\n",
		"?? 7 > 3":                  "bool true\n",
		"?? sizeof(ntdll!_TEB)":     "unsigned int64 0x1818\n",
		"?? sizeof(ULONG64)":        "unsigned int64 0x8\n",
		"?? -5 / 2":                 "int 0n-2\n",
		"?? (unsigned char)0x1ff":   "unsigned char 0n-1 '",
		"?? @$peb->NumberOfHeaps":   "unsigned long 0x",
		"?? &@$peb->Ldr":            "struct _PEB_LDR_DATA ** 0x",
		"?? @$teb->NtTib.StackBase": "void * 0x",
		"?? int(@$teb->NtTib.StackBase) - int(@$teb->NtTib.StackLimit)": "int 0n",
		"?? nosuchsymbol":       "Couldn't resolve error at 'nosuchsymbol'",
		"?? 1 / 0":              "Divide by zero error",
		"?? @$peb->NoSuchField": "Couldn't resolve error at 'NoSuchField'",
		"?? *(int*)0":           "Memory access error",
		"?? 1 +":                "Syntax error",
	} {
		got := run(t, c, out, expr)
		if !strings.HasPrefix(got, want) {
			t.Errorf("%s:\n got %q\nwant prefix %q", expr, got, want)
		}
	}
	// A pointer to a structure is followed by its members, as dt shows them.
	got := run(t, c, out, "?? @$teb")
	if !strings.HasPrefix(got, "struct _TEB * 0x") || !strings.Contains(got, "\n   +0x000 NtTib            : _NT_TIB\n") {
		t.Errorf("?? @$teb:\n%s", got)
	}
	// Pointer arithmetic scales by the pointee; [i] indexes.
	a := run(t, c, out, "?? &@$peb->TlsBitmapBits[1]")
	b := run(t, c, out, "?? (unsigned long *)&@$peb->TlsBitmapBits + 1")
	if a == "" || a != b {
		t.Errorf("&a[1] %q != a+1 %q", a, b)
	}
}

// dx prints `expr : value [Type: T]`, children with [+0xoff] and the name in
// 16 columns, bitfields with their bit range, -r depth (msdocs
// dx--display-visualizer-variables-.md). The data model is out of scope and
// says so.
func TestDX(t *testing.T) {
	c, out, _ := hypervCtx(t, nil)
	got := run(t, c, out, "dx @$peb->Ldr")
	if !strings.HasPrefix(got, "@$peb->Ldr : 0x7fff97c") || !strings.Contains(got, " [Type: _PEB_LDR_DATA *]\n    [+0x000] Length           : 0x") ||
		!strings.Contains(got, "    [+0x010] InLoadOrderModuleList [Type: _LIST_ENTRY]\n") {
		t.Errorf("dx @$peb->Ldr:\n%s", got)
	}
	if got := run(t, c, out, "dx -r0 @$peb->Ldr"); strings.Count(got, "\n") != 1 {
		t.Errorf("dx -r0 shows only the root: %q", got)
	}
	r2 := run(t, c, out, "dx -r2 @$peb->Ldr")
	if !strings.Contains(r2, "        [+0x000] Flink            : 0x") {
		t.Errorf("dx -r2 expands the list entries:\n%s", r2)
	}
	if got := run(t, c, out, "dx @$curprocess"); !strings.Contains(got, "data model") {
		t.Errorf("dx data model: %q", got)
	}
	if got := run(t, c, out, "dx -r1 *@$teb"); !strings.Contains(got, "( 0: 0)] ") && !strings.Contains(got, "[Type: _TEB]") {
		t.Errorf("dx *@$teb:\n%s", got)
	}
}

// ?? and dx read a frame's locals by name: foo(10, 3.14, msg, true) on the
// real sigsegv dump.
func TestCxxLocalsOnARealDump(t *testing.T) {
	c, out := realCtx(t, "lldb/sigsegv.dmp", "lldb/sigsegv.pdb")
	run(t, c, out, ".ecxr")
	run(t, c, out, ".frame 1")
	for expr, want := range map[string]string{
		"?? x":         "int 0n10\n",
		"?? x * 3":     "int 0n30\n",
		"?? y":         "float 3.14\n",
		"?? flag":      "bool true\n",
		"dx x":         "x : 10 [Type: int]\n",
		"?? sizeof(x)": "unsigned int64 0x4\n",
	} {
		if got := run(t, c, out, expr); got != want {
			t.Errorf("%s: got %q want %q", expr, got, want)
		}
	}
}

func FuzzCxxExpr(f *testing.F) {
	for _, s := range []string{"1+2", "@$teb->NtTib.StackBase", "sizeof(ntdll!_TEB)", "*(int*)0", "((ntdll!_PEB*)@$peb)->Ldr->InLoadOrderModuleList.Flink",
		"&@$peb->TlsBitmapBits[1]", "int(@$teb)", "(((((", "a[1][2][3]", "-~!*&x"} {
		f.Add(s)
	}
	c, out := newCtx(f)
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 200 {
			return
		}
		out.Reset()
		c.Execute("?? " + strings.ReplaceAll(s, ";", ""))
		c.Execute("dx -r2 " + strings.ReplaceAll(s, ";", ""))
	})
}
