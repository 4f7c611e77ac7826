package main

// The plumbing the four demos share: how the host starts PID 1 of a new
// PID namespace and talks to it, and how processes inside start and wait
// for one another.
//
// Every step waits for an explicit message (a byte on a pipe, or the end of
// a pipe) instead of sleeping, so the output comes in the same order every
// time and the default run takes well under a second.

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// File descriptors a child finds its pipes on (cmd.ExtraFiles).
const (
	readyFD   = common.ReadyFD   // write one byte: "I have printed my part"
	releaseFD = common.ReleaseFD // read until EOF: "you may go on"
	pid1FD    = 5                // signaller only: EOF once PID 1 is ready to be signalled
)

// The pipes a child of ours finds on readyFD and releaseFD, wrapped once:
// an *os.File closes its descriptor when it is garbage-collected, so a
// second wrapper of the same number could close it under the first.
var (
	readyPipe   = sync.OnceValue(func() *os.File { return os.NewFile(readyFD, "ready") })
	releasePipe = sync.OnceValue(func() *os.File { return os.NewFile(releaseFD, "release") })
)

// pidNS is the host's handle on a new PID namespace: its first process
// (PID 1 inside, pid on the host) and two pipes to it.
type pidNS struct {
	child   *common.ChildProc
	pid     int      // PID 1 of the namespace, as the host numbers it
	ino     uint64   // the namespace (inode of /proc/pid/ns/pid)
	pin     *os.File // /proc/pid/ns/pid, open (see pinNS)
	ready   *os.File
	release *os.File
}

// startInit clones PID 1 of a new PID namespace, in a new mount namespace
// too so that it can mount its own /proc. C: clone(childFunc, stack,
// CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, arg). Go: re-execute this binary as
// "childFunc" with those clone flags (common/reexec.go says why).
func startInit(demo string, args ...string) *pidNS {
	hs := common.NewHandshake()
	// Our PID goes along: the child needs it for common.MountProc's check,
	// and getppid() returns 0 in a new PID namespace (the parent is not in it).
	cmd := common.Command("childFunc", append([]string{demo, strconv.Itoa(os.Getpid())}, args...)...)
	cmd.ExtraFiles = hs.ChildFiles() // readyFD, releaseFD
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWPID | unix.CLONE_NEWNS}
	// StartChild: Pdeathsig SIGKILL, and Ctrl-C kills and reaps it. Killing
	// PID 1 is enough: the kernel then kills everything in its namespace.
	child, err := common.StartChild(cmd)
	if err != nil {
		common.ErrExit("clone(CLONE_NEWPID|CLONE_NEWNS)", err)
	}
	hs.Started()
	ns := &pidNS{child: child, pid: child.Pid(), ready: hs.Ready, release: hs.Release}
	// Now, while PID 1 surely runs (it cannot end before it is released,
	// unless it fails): pin the namespace and note its inode.
	ns.pin, ns.ino = pinNS(ns.pid)
	fmt.Printf("cpid: %s\n", common.Parent(ns.pid))
	return ns
}

// pinNS opens /proc/PID/ns/pid and returns it with its inode number. The
// open file keeps the namespace itself in existence (not its processes),
// so its inode number cannot be given to a new namespace before we have
// checked that nothing is left in it: the kernel reuses them at once.
func pinNS(pid int) (*os.File, uint64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return nil, 0 // it is gone already: finish will say how it ended
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		common.ErrExit("fstat "+f.Name(), err)
	}
	return f, st.Ino
}

// waitReady waits for the next byte from the namespace. false: the pipe
// was closed instead, because its processes are gone.
func (ns *pidNS) waitReady() bool {
	return readByte(ns.ready)
}

// mustBeReady is waitReady for demos where PID 1 dying early is a failure.
func (ns *pidNS) mustBeReady() {
	if !ns.waitReady() {
		ns.child.Wait()
		common.Fatalf("PID 1 of the new namespace failed (%s)", ns.child.Cmd.ProcessState)
	}
}

// hold keeps the namespace as it is for d (the -hold flag), so that it can
// be looked at from another shell, and returns early if PID 1 dies.
func (ns *pidNS) hold(d time.Duration, try string) {
	if d <= 0 {
		return
	}
	fmt.Printf("holding %v; from another shell, try: %s\n", d, try)
	select {
	case <-time.After(d):
	case <-ns.child.Done():
		// Killed from another shell, or by our own Ctrl-C cleanup: then
		// Wait blocks until the cleanup exits, so we print nothing more.
		ns.child.Wait()
	}
}

// finish lets PID 1 go on, waits for it and checks with the kernel that no
// process is left in its namespace. It returns how PID 1 ended.
func (ns *pidNS) finish() *os.ProcessState {
	ns.release.Close()
	ns.child.Wait()
	st := ns.child.Cmd.ProcessState
	left := common.ProcsInNS("pid", ns.ino)
	if ns.pin != nil {
		ns.pin.Close()
	}
	fmt.Printf("PID 1 (%d) %s; processes left in its namespace pid:[%d]: %s\n",
		ns.pid, howEnded(st), ns.ino, pidList(left))
	if len(left) > 0 {
		common.Fatalf("processes %v outlived PID 1 of their namespace", left)
	}
	return st
}

// howEnded says "exited with status N" or "was killed by SIGNAME".
func howEnded(st *os.ProcessState) string {
	ws, ok := st.Sys().(interface {
		Signaled() bool
		Signal() unix.Signal
	})
	if ok && ws.Signaled() {
		return "was killed by " + unix.SignalName(ws.Signal())
	}
	return fmt.Sprintf("exited with status %d", st.ExitCode())
}

func pidList(pids []int) string {
	if len(pids) == 0 {
		return "none"
	}
	return fmt.Sprint(pids)
}

// --- inside the namespace ---------------------------------------------------

// startRole starts this binary again as role (common/reexec.go), with
// files as fd 3, 4, ... It is how a Go process inside the namespace does
// what the C does with fork(): Go cannot fork and go on running Go code.
//
// No Pdeathsig and no StartChild here: these children need no safety net.
// When PID 1 exits, the kernel kills every process in its namespace.
func startRole(role string, files []*os.File, args ...string) *exec.Cmd {
	cmd := common.Command(role, args...)
	cmd.ExtraFiles = files
	if err := cmd.Start(); err != nil {
		common.ErrExit("starting "+role, err)
	}
	return cmd
}

// The classic pitfall of a Go PID 1: os/exec's cmd.Wait() waits for one
// PID, but PID 1 must also reap children it never started (orphans that
// the kernel re-parented to it). A goroutine looping on wait4(-1) would
// steal the exit status that cmd.Wait() is waiting for (cmd.Wait then
// fails with ECHILD), and cmd.Wait() alone leaves orphans as zombies.
// So the inits here never call cmd.Wait(): they reap everything themselves
// with wait4(-1), at points where they expect a child to end, like C's
// waitpid(-1, &status, 0).
func reap() (int, unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err != unix.EINTR {
			return pid, ws, err
		}
	}
}

// reapAll reaps children until there are none (ECHILD).
func reapAll() {
	for {
		if _, _, err := reap(); err != nil {
			return
		}
	}
}

// status describes a wait status as the shell would.
func status(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + unix.SignalName(ws.Signal())
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

// readByte reads one byte; false at EOF (the writer is gone).
func readByte(f *os.File) bool {
	n, _ := f.Read(make([]byte, 1))
	return n == 1
}

// waitEOF returns once every write end of f's pipe is closed.
func waitEOF(f *os.File) {
	b := make([]byte, 64)
	for {
		if _, err := f.Read(b); err != nil {
			return
		}
	}
}

// tell writes the one-byte message on readyFD.
func tell() {
	if _, err := readyPipe().Write([]byte{1}); err != nil {
		common.ErrExit("writing to the parent's pipe", err)
	}
}

// pipe is os.Pipe or ErrExit.
func pipe() (r, w *os.File) {
	r, w, err := os.Pipe()
	if err != nil {
		common.ErrExit("pipe", err)
	}
	return r, w
}

// pauseForever is C's for (;;) pause(): sleep until a signal kills us.
// pause() also returns for signals the Go runtime uses itself (SIGURG).
func pauseForever() {
	for {
		unix.Pause()
	}
}
