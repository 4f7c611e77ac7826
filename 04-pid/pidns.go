package main

// pidns.go adds what the seed leaves to chance: a checked command line, a
// PID 1 that dies with us and is waited for, a namespace checked empty at
// the end, and how processes inside start and reap one another.

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

const maxChildren = 100

// demos are the lessons beyond the seed, by the argument that runs them.
var demos = map[string]func(hold time.Duration){
	"orphans": runOrphans, "signals": runSignals, "nested": runNested,
}

// parseArgs reads [-hold D] [N | DEMO] (N: 7 if not given), or exits with
// one line: 2 for a bad command line, 1 if the machine cannot run it.
func parseArgs() (demo string, n int, hold time.Duration) {
	usage := common.Prog + " [-hold D] [N | orphans | signals | nested]"
	fs := common.NewFlags(usage)
	h := fs.Hold(0, "each PID namespace alive")
	args := fs.ParseArgs(os.Args[1:])
	n = 7
	switch {
	case len(args) > 1:
		common.UsageError(usage, "unexpected argument %q (flags go first)", args[1])
	case len(args) == 0:
	case demos[args[0]] != nil:
		demo = args[0]
	default:
		v, err := strconv.Atoi(args[0])
		if err != nil {
			common.UsageError(usage, "%q is neither a number of children nor a demo (orphans, signals, nested)", args[0])
		}
		if v < 1 || v > maxChildren {
			common.UsageError(usage, "number of children must be 1 to %d, got %d", maxChildren, v)
		}
		n = v
	}
	common.RequireRoot("creating a PID namespace")
	common.RequireNamespaces(unix.CLONE_NEWPID | unix.CLONE_NEWNS)
	if _, err := exec.LookPath("ps"); err != nil && (demo == "" || demo == "orphans") {
		common.Fatalf("no ps here: install procps (PID 1 lists the namespace with ps)")
	}
	return demo, n, *h
}

// --- the host's side ----------------------------------------------------------

// pidNS is the host's handle on a new PID namespace: its first process
// (PID 1 inside, pid on the host) and the pipes to it.
type pidNS struct {
	child *common.ChildProc
	hs    *common.Handshake
	pid   int      // PID 1 of the namespace, as the host numbers it
	ino   uint64   // the namespace (inode of /proc/pid/ns/pid)
	pin   *os.File // /proc/pid/ns/pid, open (see pinNS)
}

// startInit clones PID 1 of a new PID namespace running role, in a new
// mount namespace too so that it can mount its own /proc. Our PID goes
// first in its arguments, for mountProc (getppid() is 0 in there).
// StartChild adds Pdeathsig, and Ctrl-C kills and reaps it. Killing PID 1
// is enough: the kernel then kills everything in its namespace.
func startInit(role string, args ...string) *pidNS {
	cmd := common.Command(role, append([]string{strconv.Itoa(os.Getpid())}, args...)...)
	hs := common.NewHandshake(cmd)
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWPID | unix.CLONE_NEWNS}
	child, err := common.StartChild(cmd)
	if err != nil {
		common.ErrExit("clone(CLONE_NEWPID|CLONE_NEWNS)", err)
	}
	hs.Started()
	// PID 1 surely runs now: it cannot end before it is released, unless
	// it fails. Pin the namespace and note its inode.
	pin, ino := pinNS(child.Pid())
	return &pidNS{child: child, hs: hs, pid: child.Pid(), ino: ino, pin: pin}
}

// pinNS opens /proc/PID/ns/pid and returns it with its inode number. The
// open file keeps the namespace (not its processes) in existence, so that
// its inode number cannot go to a new namespace before we have checked
// that nothing is left in it: the kernel reuses them at once.
func pinNS(pid int) (*os.File, uint64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return nil, 0 // gone already: finish says how it ended
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		common.ErrExit("fstat "+f.Name(), err)
	}
	return f, st.Ino
}

// mustBeReady waits for PID 1's byte; PID 1 dying first is a failure.
func (ns *pidNS) mustBeReady() {
	ns.hs.MustBeReady(ns.child, "PID 1 of the new namespace")
}

// hold keeps the namespace as it is for d (-hold), so that it can be
// looked at from another shell; it returns early if PID 1 dies.
func (ns *pidNS) hold(d time.Duration, try string) {
	if d <= 0 {
		return
	}
	fmt.Printf("holding %v; from another shell, try: %s\n", d, try)
	select {
	case <-time.After(d):
	case <-ns.child.Done():
		ns.child.Wait() // if our Ctrl-C cleanup killed it, this never returns
	}
}

// finish lets PID 1 go on, waits for it and checks with the kernel that no
// process is left in its namespace. It returns how PID 1 ended.
func (ns *pidNS) finish() *os.ProcessState {
	ns.hs.Release.Close()
	ns.child.Wait()
	st := ns.child.Cmd.ProcessState
	mustBeEmpty(fmt.Sprintf("PID 1 (%d) ended: %s; processes left in its namespace",
		ns.pid, status(st.Sys().(common.WaitStatus))), ns.ino, ns.pin)
	return st
}

// mustBeEmpty prints what is left in the PID namespace ino after line, then
// closes pin (nil if the namespace was gone already: Close says ErrInvalid).
// A process left is a failure.
func mustBeEmpty(line string, ino uint64, pin *os.File) {
	left := procsInNS(ino)
	pin.Close()
	fmt.Printf("%s pid:[%d]: %s\n", line, ino, pidList(left))
	if len(left) > 0 {
		common.Fatalf("processes %v outlived PID 1 of their namespace", left)
	}
}

// hostView shows a PID namespace from the host: NSpid in /proc/PID/status
// lists a process's PID in each namespace, from our /proc's down to its own.
func hostView(ns *pidNS) {
	fmt.Println("Seen from the host (NSpid in /proc/PID/status: the PID outside, then inside):")
	for _, pid := range procsInNS(ns.ino) {
		fmt.Printf("  PID %-7d NSpid: %s\n", pid, common.Parent(nspidOf(pid)))
	}
}

func pidList(pids []int) string {
	if len(pids) == 0 {
		return "none"
	}
	return fmt.Sprint(pids)
}

// --- inside the namespace -----------------------------------------------------

// mountProc is the seed's mount("proc", "/proc", "proc", 0, ""), safe on
// a systemd host: `mount --make-rprivate /` first, or the new /proc would
// propagate back and replace the host's. parentPid is a process outside
// our mount namespace, as the still-mounted old /proc numbers it (the
// parent's own os.Getpid(): getppid() is 0 in a new PID namespace): if we
// share its mount namespace after all, the mount is refused rather than
// made over the host's /proc.
func mountProc(parentPid string) {
	pid, _ := strconv.Atoi(parentPid)
	if err := common.MakeMountsPrivate(); err != nil {
		common.ErrExit("making mounts private", err)
	}
	own, err1 := common.NSInode(0, "mnt")
	parent, err2 := common.NSInode(pid, "mnt")
	if pid > 0 && err1 == nil && err2 == nil && own == parent {
		common.Fatalf("mounting /proc: refusing to mount /proc: this process shares its mount namespace with %d (CLONE_NEWNS missing?)", pid)
	}
	// nosuid,nodev,noexec, as the host's /proc has (namespace.go).
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		common.ErrExit("mounting /proc", err)
	}
}

// becomeInit is the start of fork_child for the other demos' PID 1: leave
// Ctrl-C to the parent, say who we are, mount /proc. It returns the
// arguments after the parent's PID.
func becomeInit(args []string) []string {
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)
	fmt.Printf("In the container, my pid is: %s\n", common.Child(os.Getpid()))
	mountProc(args[0])
	return args[1:]
}

var hostPipes []*os.File

// startRole is what a Go process inside does instead of fork(): start
// this binary again as role. The host's pipes on fd 3 and 4 go with it, as
// a fork's descriptors would: a role may tell the host itself. (Dispatch
// made them close-on-exec, so they are passed by name; hostPipes keeps
// them, or the garbage collector would close them.) No Pdeathsig, no
// StartChild: when PID 1 exits, the kernel kills every process in its
// namespace, and PID 1 reaps with wait4(-1) (reap), which StartChild's own
// Wait would race.
func startRole(role string, args ...string) *exec.Cmd {
	cmd := common.Command(role, args...)
	if hostPipes == nil {
		hostPipes = []*os.File{os.NewFile(3, "ready"), os.NewFile(4, "release")}
	}
	cmd.ExtraFiles = hostPipes
	if err := cmd.Start(); err != nil {
		common.ErrExit("starting "+role, err)
	}
	return cmd
}

// startReady is startRole for a child that talks to us on a handshake of
// its own (fd 3 and 4 in it), cloned with flags: it returns once the child
// has said it is ready, with its PID. what and who name it if it fails.
func startReady(what, who string, flags uintptr, role string, args ...string) (int, *common.Handshake) {
	cmd := common.Command(role, args...)
	hs := common.NewHandshake(cmd)
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: flags}
	if err := cmd.Start(); err != nil {
		common.ErrExit(what, err)
	}
	hs.Started()
	if !hs.WaitReady() {
		common.Fatalf("%s failed before it was ready", who)
	}
	return cmd.Process.Pid, hs
}

// The classic pitfall of a Go PID 1: cmd.Wait() waits for one PID, but
// PID 1 must also reap children it never started (orphans re-parented to
// it). A goroutine looping on wait4(-1) would steal the status cmd.Wait()
// waits for (ECHILD), and cmd.Wait() alone leaves orphans as zombies. So
// these inits reap with wait4(-1), like C's waitpid(-1, &status, 0), at
// points where they expect a child to end.
func reap() (int, unix.WaitStatus) {
	var ws unix.WaitStatus
	for {
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case err == nil:
			return pid, ws
		case err != unix.EINTR:
			common.ErrExit("wait4", err)
		}
	}
}

// reapAll reaps children until there are none (ECHILD).
func reapAll() {
	for {
		if _, err := unix.Wait4(-1, nil, 0, nil); err != nil && err != unix.EINTR {
			return
		}
	}
}
