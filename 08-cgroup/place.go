package main

// place.go: starting a process inside a cgroup before it runs a single
// instruction of its own, the built-in CPU burner, and what /proc says
// about a process.
//
// Why "before": a load started first and moved afterwards runs unthrottled
// until it is moved, and whatever it forks in between (stress forks its
// workers at once) stays behind in the old cgroup for good: moving a
// process never moves its children. cgexec(1) does it by moving itself and
// then exec'ing the command; we have two ways.
//
//   - v2, Linux 5.7+: clone3(2) with CLONE_INTO_CGROUP puts the child in the
//     cgroup as it is created. Go does it for us with SysProcAttr.UseCgroupFD
//     and CgroupFD (a descriptor of the cgroup's directory).
//   - v1, or when clone3 refuses: a handshake. The child (this binary,
//     re-executed as "placed") starts in our cgroup and waits on a pipe;
//     we write its PID to cgroup.procs, then release it, and only then does
//     it exec the load.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

const (
	placeAuto      = "auto"      // clone3 on v2 (falling back to the handshake), the handshake on v1
	placeClone3    = "clone3"    // v2 only
	placeHandshake = "handshake" // v1 and v2
)

func init() {
	// The children's halves (see common/reexec.go for why Go re-executes
	// itself instead of running a function in a cloned child).
	common.Register("placed", placed)
	common.Register("burn", burn)
}

// startIn starts argv (argv[0] looked up in PATH, or "burn N" for the
// built-in burner) inside group g, by clone3 or by the handshake. It returns
// the child and the way it was placed, for the output.
func startIn(g *group, argv []string, how string) (*common.ChildProc, string, error) {
	if how == placeAuto && g.cfs.v2 || how == placeClone3 {
		child, err := startClone3(g, argv)
		switch {
		case err == nil:
			return child, "clone3 CLONE_INTO_CGROUP", nil
		case how == placeAuto && (errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.E2BIG) || errors.Is(err, unix.EINVAL)):
			// ENOSYS: no clone3 (before 5.3); E2BIG or EINVAL: a clone3
			// without CLONE_INTO_CGROUP (5.3 to 5.6). The handshake works
			// everywhere.
			fmt.Printf("clone3 with CLONE_INTO_CGROUP failed (%s): using the handshake\n", unix.ErrnoName(errnoOf(err)))
		default:
			return nil, "", err
		}
	}
	child, err := startHandshake(g, argv)
	return child, "handshake: moved, then released to exec", err
}

func errnoOf(err error) unix.Errno {
	var errno unix.Errno
	errors.As(err, &errno)
	return errno
}

// command is argv as an exec.Cmd: "burn" is this binary as the burner.
// The load gets a process group of its own, so that a Ctrl-C in the
// terminal reaches only us, and we end the load in order (it would
// otherwise die first, and we would report it as finished early).
func command(argv []string) *exec.Cmd {
	cmd := commandLine(argv)
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	return cmd
}

func commandLine(argv []string) *exec.Cmd {
	if argv[0] == "burn" {
		cmd := common.Command("burn", argv[1:]...)
		// No asynchronous preemption: Go would otherwise stop the spinning
		// goroutine every 10 ms, and while it is handed back to the main
		// thread that thread sleeps, so /proc/PID/status could say S.
		cmd.Env = append(cmd.Env, "GODEBUG=asyncpreemptoff=1")
		return cmd
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd
}

func startClone3(g *group, argv []string) (*common.ChildProc, error) {
	dir, err := os.Open(g.dirs[0])
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	cmd := command(argv)
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = int(dir.Fd())
	return common.StartChild(cmd)
}

func startHandshake(g *group, argv []string) (*common.ChildProc, error) {
	hs := common.NewHandshake()
	inner := command(argv)
	// "placed PATH ARGV0 ARGS...": what to exec once released.
	cmd := common.Command("placed", append([]string{inner.Path}, inner.Args...)...)
	if inner.Env != nil {
		cmd.Env = inner.Env // passed on by the exec
	}
	cmd.SysProcAttr = inner.SysProcAttr // and the process group
	cmd.ExtraFiles = hs.ChildFiles()
	child, err := common.StartChild(cmd)
	if err != nil {
		return nil, err
	}
	hs.Started()
	defer hs.Release.Close()
	if err := g.add(child.Pid()); err != nil {
		return nil, err
	}
	if _, err := hs.Release.Write([]byte{1}); err != nil {
		return nil, fmt.Errorf("releasing the child: %w", err)
	}
	return child, nil
}

// placed is the child's half of the handshake: wait for the parent's byte
// (by then we are in the cgroup), then become the load.
func placed(args []string) int {
	if len(args) < 2 {
		common.Fatalf("placed: want PATH ARGV0 [ARGS...], got %q", args)
	}
	release := os.NewFile(common.ReleaseFD, "release")
	if n, _ := release.Read(make([]byte, 1)); n != 1 {
		return 1 // the parent is gone, or failed to move us
	}
	// The load must not inherit the pipes.
	unix.CloseOnExec(common.ReadyFD)
	unix.CloseOnExec(common.ReleaseFD)
	if err := unix.Exec(args[0], args[1:], os.Environ()); err != nil {
		common.ErrExit("exec "+args[0], err)
	}
	return 0
}

// burn is the built-in load: N spinning goroutines, each able to keep one
// CPU busy. The main goroutine spins on the main thread (LockOSThread in
// main.go), so /proc/PID/status shows the burner as running (R).
func burn(args []string) int {
	n := 1
	if len(args) == 1 {
		n, _ = strconv.Atoi(args[0])
	}
	for i := 1; i < n; i++ {
		go spin()
	}
	spin()
	return 0
}

func spin() {
	for {
	}
}

// clkTck is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports (sysconf(_SC_CLK_TCK) in C).
const clkTck = 100

// cpuTime is utime+stime of a process, from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses:
	// state is field 3, utime 14 and stime 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clkTck, nil
}

// procState is the State: line of /proc/PID/status, e.g. "R (running)".
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "gone"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "State:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// cgroupLine is the line of /proc/PID/cgroup for the hierarchy whose
// controller list is ctls ("" for v2's 0:: line), as the reader sees it:
// paths are relative to the reader's cgroup namespace.
func cgroupLine(pid int, ctls string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "? (" + err.Error() + ")"
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && f[1] == ctls && (ctls != "" || f[0] == "0") {
			return line
		}
	}
	return "?"
}
