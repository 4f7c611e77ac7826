package main

// place.go adds to the seed's cgexec how Go starts a process inside a
// cgroup before it runs a single instruction of its own, and the built-in
// CPU burner for machines without stress.
//
// Why "before": a load started first and moved afterwards runs unthrottled
// until it is moved, and whatever it forks in between (stress forks its
// workers at once) stays behind in the old cgroup for good: moving a
// process never moves its children. cgexec(1) moves itself, then execs the
// command. Go cannot run code between fork and exec, so:
//
//   - v2, Linux 5.7+: clone3(2) with CLONE_INTO_CGROUP puts the child in the
//     cgroup as it is created (SysProcAttr.UseCgroupFD and CgroupFD, a
//     descriptor of the cgroup's directory).
//   - v1, or when clone3 refuses: a handshake (common.Handshake): the
//     child waits until we have moved it, then execs the load.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"nslab/common"
)

func init() {
	// The children's halves (see common/reexec.go for why Go re-executes
	// itself instead of running a function in a forked child).
	common.Register("placed", placed)
	common.Register("burn", burn)
}

// cgexec is `cgexec -g CTLS:GROUP SHOWN &`: it starts cmd (what, in an
// error) inside group g, or exits, and prints the command it stands for
// and how the load was placed.
func cgexec(g *common.Group, ctls string, cmd *exec.Cmd, what, shown string) *common.ChildProc {
	child, how := startIn(g, cmd, what)
	common.Step(fmt.Sprintf("cgexec -g %s:%s %s &", ctls, g.Name, shown), fmt.Sprintf("pid %d, in the cgroup before it ran: %s", child.Pid(), how))
	return child
}

// startIn starts inner, a command made by command (argv[0] looked up in
// PATH, or "burn N" for the built-in burner), inside group g, or exits
// with one line that names what it starts. It returns the child and how
// it was placed, for the output.
func startIn(g *common.Group, inner *exec.Cmd, what string) (*common.ChildProc, string) {
	failed := "starting " + what + " in the cgroup"
	if g.CFS.V2 {
		dir, err := os.Open(g.Dirs()[0])
		if err != nil {
			common.ErrExit(failed, err)
		}
		defer dir.Close()
		inner.SysProcAttr.UseCgroupFD = true
		inner.SysProcAttr.CgroupFD = int(dir.Fd())
		child, err := common.StartChild(inner)
		var errno unix.Errno
		switch {
		case err == nil:
			return child, "clone3 CLONE_INTO_CGROUP"
		case !errors.As(err, &errno) || errno != unix.ENOSYS && errno != unix.E2BIG && errno != unix.EINVAL:
			common.ErrExit(failed, err)
		}
		// ENOSYS: no clone3 (before 5.3); E2BIG or EINVAL: a clone3
		// without CLONE_INTO_CGROUP (5.3 to 5.6). The handshake works
		// everywhere.
		fmt.Printf("clone3 with CLONE_INTO_CGROUP failed (%s): using the handshake\n", unix.ErrnoName(errno))
		inner.SysProcAttr.UseCgroupFD = false
	}
	// The handshake: the child (this binary, re-executed as "placed")
	// starts in our cgroup and waits on fd 4; we echo its PID into each
	// directory's cgroup.procs (g.Add), then release it, and only then
	// does it exec the load. (cgexec moves itself; the effect is the same,
	// and when we print the PID it is in the cgroup already.)
	cmd := common.Command("placed", append([]string{inner.Path}, inner.Args...)...)
	cmd.Stdout, cmd.Stderr = inner.Stdout, inner.Stderr
	if inner.Env != nil {
		cmd.Env = inner.Env // the burner's, passed on by the exec
	}
	cmd.SysProcAttr = inner.SysProcAttr // and the process group
	hs := common.NewHandshake(cmd)
	child, err := common.StartChild(cmd)
	if err != nil {
		common.ErrExit(failed, err)
	}
	hs.Started()
	defer hs.Release.Close()
	// cgexec's own step, which it takes for itself before it execs.
	for _, d := range g.Dirs() {
		common.Step(fmt.Sprintf("echo %d > %s", child.Pid(), filepath.Join(d, "cgroup.procs")),
			"before it execs, as cgexec does for itself")
	}
	if err := g.Add(child.Pid()); err != nil {
		common.ErrExit(failed, err)
	}
	if _, err := hs.Release.Write([]byte{1}); err != nil {
		common.ErrExit(failed, fmt.Errorf("releasing the child: %w", err))
	}
	return child, "moved by us, then released to exec"
}

// command is argv as an exec.Cmd: "burn" and "hog" are this binary.
// The load gets a process group of its own, so that a Ctrl-C in the
// terminal reaches only us, and we end the load in order (it would
// otherwise die first, and we would report it as finished early).
func command(argv []string) *exec.Cmd {
	var cmd *exec.Cmd
	switch argv[0] {
	case "burn":
		cmd = common.Command("burn", argv[1:]...)
		// No asynchronous preemption: Go would otherwise stop the spinning
		// goroutine every 10 ms, and while it is handed back to the main
		// thread that thread sleeps, so /proc/PID/stat could say S.
		cmd.Env = append(cmd.Env, "GODEBUG=asyncpreemptoff=1")
	case "hog": // memory.go
		cmd = common.Command("hog", argv[1:]...)
	default:
		cmd = exec.Command(argv[0], argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	return cmd
}

// placed is the child's half of the handshake: wait for the parent's
// byte (by then we are in the cgroup), then become the load.
func placed(args []string) int {
	if len(args) < 2 {
		common.Fatalf("placed: want PATH ARGV0 [ARGS...], got %q", args)
	}
	if !common.WaitForParent() {
		return 1 // the parent is gone, or failed to move us
	}
	common.ErrExit("exec "+args[0], unix.Exec(args[0], args[1:], os.Environ()))
	return 1
}

// burn is the built-in load: N spinning goroutines, each able to keep one
// CPU busy. The main goroutine spins on the main thread (LockOSThread in
// main.go), so /proc/PID/stat shows the burner as running (R).
func burn(args []string) int {
	n, _ := strconv.Atoi(args[0]) // "burn N": options.go, freeze.go
	for i := 1; i < n; i++ {
		go burn([]string{"1"}) // one more spinner, as "burn 1" would be
	}
	for {
	}
}
