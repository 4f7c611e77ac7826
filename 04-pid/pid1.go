package main

// What makes PID 1 of a PID namespace special, in three demos:
//
//	orphans  it adopts every orphan of its namespace and must reap it
//	signals  the kernel drops signals it has no handler for, even SIGKILL,
//	         unless SIGKILL (or SIGSTOP) comes from an ancestor namespace
//	nested   a PID namespace inside a PID namespace: one process, one PID
//	         per level
//
// (The third duty, "when PID 1 exits, everything in its namespace is
// killed", every demo shows at its end: see pidNS.finish.)

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// --- orphans ------------------------------------------------------------------

// adoptOrphan is PID 1 of the orphans demo. It starts the orphaner, which
// starts the orphan and exits without waiting for it. The kernel gives the
// orphan a new parent: the init of its PID namespace (the "child
// subreaper" if there is one), that is, us. When the orphan exits, only
// we can reap it; until we do, it is a zombie.
func adoptOrphan() int {
	gateR, gateW := pipe() // closing gateW tells the orphan it may exit
	startRole("orphaner", []*os.File{gateR})
	gateR.Close()

	// wait4(-1): the only child that can end now is the orphaner.
	pid, ws, err := reap()
	if err != nil {
		common.ErrExit("wait4", err)
	}
	fmt.Printf("PID 1: reaped %d, my own child (%s)\n", pid, status(ws))

	kids := childrenOf(1) // by PPid, in our /proc
	fmt.Printf("PID 1: my children now (PPid 1 in /proc): %v; the orphan was re-parented to me\n", kids)
	if len(kids) != 1 {
		common.Fatalf("expected the orphan as my only child, found %v", kids)
	}
	orphanPid := kids[0]

	gateW.Close()
	// waitid(WNOWAIT) returns once a child has exited but does not reap
	// it: the moment to see a zombie.
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, orphanPid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			common.ErrExit("waitid", err)
		}
	}
	fmt.Printf("PID 1: %d has exited; it is a zombie (Z) until its parent, me, waits for it:\n", orphanPid)
	printPS(os.Stdout, listProcs())

	pid, ws, err = reap()
	if err != nil {
		common.ErrExit("wait4", err)
	}
	fmt.Printf("PID 1: reaped %d, an orphan I never started (%s)\n", pid, status(ws))
	if _, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); errors.Is(err, unix.ECHILD) {
		fmt.Println("PID 1: wait4(-1) fails with ECHILD: no child left, no zombie. The new /proc:")
	}
	printPS(os.Stdout, listProcs())

	tell()
	waitEOF(releasePipe())
	return 0
}

// orphaner starts the orphan, waits until it has printed its line and
// exits without waiting for it. fd 3: the gate from PID 1, passed on.
func orphaner([]string) int {
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)
	gate := os.NewFile(3, "gate")
	fmt.Printf("  orphaner: getpid() = %d; starting a child\n", os.Getpid())
	r, w := pipe()
	cmd := startRole("orphan", []*os.File{w, gate}) // its readyFD, releaseFD
	w.Close()
	if !readByte(r) {
		common.Fatalf("the orphan failed before it was ready")
	}
	fmt.Printf("  orphaner: exiting without waiting for my child %d\n", cmd.Process.Pid)
	return 0
}

// orphan prints its parent before and after the orphaner's exit.
func orphan([]string) int {
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)
	fmt.Printf("  orphan: getpid() = %d, getppid() = %d\n", os.Getpid(), os.Getppid())
	tell()
	waitEOF(releasePipe()) // PID 1 closes the gate once it has adopted us
	fmt.Printf("  orphan: getppid() = %d now; exiting\n", os.Getppid())
	return 0
}

// runOrphans is the host's side of the orphans demo.
func runOrphans(hold time.Duration) {
	ns := startInit("orphans")
	ns.mustBeReady()
	hostView(ns.ino)
	var zombies []int
	for _, pid := range childrenOf(ns.pid) {
		if state, _ := alive(pid); state == "a zombie" {
			zombies = append(zombies, pid)
		}
	}
	fmt.Printf("Zombies among PID 1's children, seen from the host: %s\n", pidList(zombies))
	ns.hold(hold, fmt.Sprintf("nsenter -t %d -p -m ps -el; lsns -t pid", ns.pid))
	if st := ns.finish(); !st.Success() {
		common.Fatalf("PID 1 failed")
	}
}

// --- signals ------------------------------------------------------------------

// signalTarget is PID 1 of the signals demo. Round "nohandler": it turns
// into a process with no signal handler, as most C programs are; round
// "handler": it stays a Go program, whose runtime handles SIGTERM. A
// signaller inside the namespace then signals it.
func signalTarget(round string) int {
	pid1R, pid1W := pipe() // os.Pipe: both ends close-on-exec
	startRole("signaller", []*os.File{readyPipe(), releasePipe(), pid1R}, round)
	pid1R.Close()

	if round == "handler" {
		fmt.Println("PID 1: staying a Go program: the Go runtime has a handler for SIGTERM")
		pid1W.Close() // the signaller's cue
		reapAll()     // never returns: the signaller waits for the end
		return 0
	}

	// A Go program cannot be without signal handlers: the runtime installs
	// its own for SIGTERM, SIGINT, ... before main runs, and signal.Reset
	// hands them back to the runtime, not to SIG_DFL. So, like the seed's
	// PID 1 (which execs ps), we become another program. execve() keeps
	// our PID, resets every handled signal to SIG_DFL (ignored ones stay
	// ignored), and closes pid1W (close-on-exec): the signaller's cue.
	// sleep installs no handler at all.
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		common.ErrExitHint("finding sleep", err, "install coreutils")
	}
	readyPipe().Close() // the signaller has its own copies
	releasePipe().Close()
	fmt.Println("PID 1: exec'ing sleep, a program with no signal handler")
	err = unix.Exec(sleep, []string{"sleep", "infinity"}, os.Environ())
	common.ErrExit("execve "+sleep, err)
	return 1
}

// signaller signals PID 1 from inside its namespace. fds: readyFD and
// releaseFD (to and from the host), pid1FD (EOF: PID 1 is ready).
func signaller(args []string) int {
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)
	round := args[0]
	waitEOF(os.NewFile(pid1FD, "pid1"))
	comm, _ := os.ReadFile("/proc/1/comm")
	mask, caught := catches(1, unix.SIGTERM)
	what := "no handler for SIGTERM"
	if caught {
		what = "a handler for SIGTERM"
	}
	fmt.Printf("  signaller (pid %d): PID 1 is %q; SigCgt: %s: it has %s\n",
		os.Getpid(), strings.TrimSpace(string(comm)), mask, what)
	tell()
	waitEOF(releasePipe()) // the host's -hold

	if round == "handler" {
		fmt.Println("  signaller: kill(1, SIGTERM)")
		unix.Kill(1, unix.SIGTERM)
		pauseForever() // until PID 1's end takes us along
	}
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGKILL} {
		err := unix.Kill(1, sig)
		time.Sleep(100 * time.Millisecond)
		state, _ := alive(1)
		fmt.Printf("  signaller: kill(1, %s) = %s; 100 ms later PID 1 is %s, %s\n",
			unix.SignalName(sig), errText(err), state, pending(1))
	}
	tell()
	pauseForever()
	return 0
}

// runSignals is the host's side of the signals demo: two rounds, PID 1
// without and with a handler for SIGTERM.
func runSignals(hold time.Duration) {
	fmt.Println(common.Parent("Round 1: PID 1 has no handler for SIGTERM"))
	ns := startInit("signals", "nohandler")
	// If PID 1 dies early (killed from another shell during -hold), the
	// pipe closes and we go straight to the end.
	// Signal PID 1 through os.Process, which holds a pidfd: unlike a bare
	// PID, it cannot reach another process if PID 1 has been reaped.
	pid1 := ns.child.Cmd.Process
	if ns.waitReady() {
		ns.hold(hold, fmt.Sprintf("nsenter -t %d -p kill -TERM 1 (or -KILL); kill -TERM %[1]d; kill -KILL %[1]d", ns.pid))
		ns.release.Close()
		if ns.waitReady() { // the signaller has sent its signals
			err := pid1.Signal(unix.SIGTERM)
			time.Sleep(100 * time.Millisecond)
			state, _ := alive(ns.pid)
			fmt.Printf("host: kill(%d, SIGTERM) = %s; 100 ms later PID 1 is %s, %s\n",
				ns.pid, errText(err), state, pending(ns.pid))
			fmt.Printf("host: kill(%d, SIGKILL)\n", ns.pid)
		}
	}
	// SIGKILL from an ancestor namespace: the one signal PID 1 cannot
	// refuse. Also the way out if the signaller was killed during -hold.
	pid1.Signal(unix.SIGKILL)
	if st := ns.finish(); st.Exited() {
		common.Fatalf("PID 1 failed (%s)", st)
	}

	fmt.Println(common.Parent("Round 2: PID 1 has a handler for SIGTERM"))
	ns = startInit("signals", "handler")
	if ns.waitReady() {
		ns.hold(hold, fmt.Sprintf("nsenter -t %d -p kill -TERM 1", ns.pid))
		ns.release.Close()
	}
	if st := ns.finish(); st.ExitCode() == 2 {
		fmt.Println("PID 1's handler ran; it set SIGTERM back to SIG_DFL and raised it again, which the kernel")
		fmt.Println("drops for PID 1, then called exit(2): what the Go runtime does for a signal nobody Notify'd")
	}
}

// errText is a system call's result as C would print it.
func errText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return "-1 (" + unix.ErrnoName(errno) + ")"
	}
	return "0"
}

// --- nested -------------------------------------------------------------------

// nestLevel2 is PID 1 of the nested demo (level 1): it starts PID 1 of a
// PID namespace inside its own (level 2) and reads that process's NSpid.
func nestLevel2() int {
	r, w := pipe()
	releaseR, release := pipe()
	// The same clone flags the host used for us. "1": our PID as the /proc
	// that level 2 starts with (ours) numbers us, for MountProc's check.
	cmd := common.Command("childFunc", "level2", "1")
	cmd.ExtraFiles = []*os.File{w, releaseR}
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWPID | unix.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		common.ErrExit("clone(CLONE_NEWPID|CLONE_NEWNS) inside", err)
	}
	w.Close()
	releaseR.Close()
	if !readByte(r) {
		common.Fatalf("the level-2 init failed before it was ready")
	}
	pid := cmd.Process.Pid
	fmt.Printf("level 1: the level-2 init is my child %d; /proc/%d/status NSpid: %s\n",
		pid, pid, common.Child(statusField(pid, "NSpid")))

	tell()
	waitEOF(releasePipe())
	release.Close()
	reapAll()
	return 0
}

// level2 is PID 1 of the innermost namespace.
func level2() int {
	fmt.Printf("  level 2: my pid is %d; /proc/self/status NSpid: %s\n",
		os.Getpid(), common.Child(statusField(0, "NSpid")))
	tell()
	waitEOF(releasePipe())
	return 0
}

// runNested is the host's side of the nested demo.
func runNested(hold time.Duration) {
	ns := startInit("nested")
	ns.mustBeReady()
	l2 := 0
	for _, pid := range childrenOf(ns.pid) {
		if ino, err := common.NSInode(pid, "pid"); err == nil && ino != ns.ino {
			l2 = pid
		}
	}
	if l2 == 0 {
		common.Fatalf("found no level-2 init among the children of %d", ns.pid)
	}
	pin, l2ino := pinNS(l2)
	fmt.Printf("host: the level-2 init is %d; /proc/%d/status NSpid: %s\n",
		l2, l2, common.Parent(statusField(l2, "NSpid")))
	host, _ := common.NSInode(0, "pid")
	fmt.Printf("PID namespaces: host pid:[%d] > level 1 pid:[%d] > level 2 pid:[%d]\n", host, ns.ino, l2ino)
	ns.hold(hold, fmt.Sprintf("nsenter -t %d -p -m ps -el; nsenter -t %d -p -m ps -el; lsns -t pid", ns.pid, l2))
	if st := ns.finish(); !st.Success() {
		common.Fatalf("PID 1 failed")
	}
	left := common.ProcsInNS("pid", l2ino)
	pin.Close()
	fmt.Printf("processes left in level 2's namespace pid:[%d]: %s\n", l2ino, pidList(left))
	if len(left) > 0 {
		common.Fatalf("processes %v outlived PID 1 of their namespace", left)
	}
}
