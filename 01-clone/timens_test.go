package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"nslab/common/nstest"
)

// The README's exercise 2 says whether `unshare --time --boottime` needs
// --fork, and that the answer depends on the kernel: on Debian 12's 6.1 a
// new time namespace is only for the children of the process that made it;
// on newer kernels (6.18 on the development machine) a process that then
// calls execve() moves into it too. This checks that claim on the running
// kernel, on what /proc/uptime (CLOCK_BOOTTIME) shows.
func TestTimeNamespaceAtExecve(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireNamespace(t, "time")
	unshare := nstest.RequireTool(t, "unshare", "util-linux")
	ahead := func(args ...string) bool {
		t.Helper()
		out, err := exec.Command(unshare, append(args, "cat", "/proc/uptime")...).Output()
		if err != nil {
			t.Fatalf("unshare %v: %v", args, err)
		}
		host, _ := os.ReadFile("/proc/uptime")
		return uptime(t, string(out)) > uptime(t, string(host))+43200 // half a day ahead
	}
	if !ahead("--fork", "--time", "--boottime", "86400") {
		t.Fatal("unshare --fork --time --boottime 86400: the child's uptime is not a day ahead")
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	release := unix.ByteSliceToString(uts.Release[:])
	var major, minor int
	fmt.Sscanf(release, "%d.%d", &major, &minor)
	atExec := ahead("--time", "--boottime", "86400")
	t.Logf("kernel %s: without --fork the executed program is %sin the new time namespace", release, map[bool]string{false: "not ", true: ""}[atExec])
	switch {
	case major < 6 || major == 6 && minor <= 1:
		if atExec {
			t.Errorf("kernel %s moved the executing process into the time namespace; the README says 6.1 does not", release)
		}
	case major > 6 || minor >= 18:
		if !atExec {
			t.Errorf("kernel %s did not move the executing process into the time namespace; the README says 6.18 does", release)
		}
	}
}

func uptime(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(strings.Fields(s + " x")[0], 64)
	if err != nil {
		t.Fatalf("uptime %q: %v", s, err)
	}
	return f
}
