package main

import (
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"nslab/common/nstest"
)

// portableLibc are the C library functions nsexec.c may call: each is in
// glibc 2.17 and later and in musl, so that `make build` (which compiles
// nsexec.c into 09-setns) works on Debian 11, Ubuntu 20.04 and Alpine.
// (strerrorname_np, glibc >= 2.32 only, took the build down there.) The
// _chk and stack-protector ones come with Ubuntu's hardening defaults.
var portableLibc = map[string]bool{
	"__errno_location": true, "_exit": true, "close": true, "fork": true, "getenv": true,
	"getgid": true, "getpid": true, "getppid": true, "getuid": true, "pipe2": true,
	"prctl": true, "read": true, "recvmsg": true, "send": true, "setns": true,
	"snprintf": true, "strlen": true, "strtol": true, "atoi": true, "uname": true,
	"unsetenv": true, "waitpid": true, "write": true, "memcpy": true,
	"strcmp": true, "strchr": true, "strerror": true, "strtok_r": true, "dprintf": true,
	"isatty": true, "memset": true, "sendmsg": true, "recv": true,
	"__ctype_tolower_loc": true, "__ctype_b_loc": true, // glibc's ctype.h macros
	"__snprintf_chk": true, "__memcpy_chk": true, "__read_chk": true, "__stack_chk_fail": true,
}

// The guest (make vm-test) runs the test binary without the source tree.
//
//go:embed nsexec.c
var nsexecC []byte

// TestNsexecPortable compiles the constructor as cgo does, with every
// warning an error, and checks that it calls only portableLibc.
func TestNsexecPortable(t *testing.T) {
	t.Parallel()
	gcc := nstest.RequireTool(t, "gcc", "gcc")
	nm := nstest.RequireTool(t, "nm", "binutils")
	dir := t.TempDir()
	src, obj := filepath.Join(dir, "nsexec.c"), filepath.Join(dir, "nsexec.o")
	if err := os.WriteFile(src, nsexecC, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-O2", "-Wall", "-Wextra", "-Werror", "-c", "-o", obj, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc nsexec.c: %v\n%s", err, out)
	}
	out, err := exec.Command(nm, "-u", obj).Output()
	if err != nil {
		t.Fatal(err)
	}
	syms := strings.Fields(strings.ReplaceAll(string(out), " U ", " "))
	for _, s := range syms {
		if s != "U" && !portableLibc[s] {
			t.Errorf("nsexec.c calls %s, which is not on the list of functions glibc 2.17+ and musl both have", s)
		}
	}
	if len(syms) < 10 {
		t.Errorf("nm -u found only %v: did the compile work?", syms)
	}
}
