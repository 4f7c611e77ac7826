package main

// t_clone: does a child created by clone() share the parent's file
// descriptor table? Without CLONE_FILES the child gets a copy (as with
// fork), so its close() leaves the parent's descriptor open; with
// CLONE_FILES both use one table, and the child's close() closes it for the
// parent too.
//
// Why this port calls clone(2) by hand
//
// A Go program cannot clone() itself and run Go code in the child (see
// common/reexec.go): the child would inherit one thread of a runtime whose
// other threads — scheduler, garbage collector — are gone. The usual Go
// answer is to execve() a fresh program in the child, but that cannot show
// CLONE_FILES at all: execve() gives the process a private copy of its fd
// table (the kernel calls unshare_files() during exec) precisely so that a
// new program never shares descriptors with someone else by accident. After
// execve the child's close() would touch only its own copy, with or without
// CLONE_FILES.
//
// So, like the C, we clone() the running process — but the child runs only
// childFunc, which makes raw system calls (close, exit_group) and never
// touches the Go runtime: no allocation, no stack growth (go:nosplit), no
// scheduler, and every signal blocked so no Go signal handler can run in it.
// That is the same discipline Go's own fork+exec code follows between
// clone and execve.

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// childSig is the signal the child sends its parent when it terminates, as
// CHILD_SIG in the C: any signal other than SIGCHLD makes it a "clone" child
// that only waitpid(..., __WCLONE) can wait for.
const childSig = unix.SIGUSR1

// childFunc is the start function of the cloned child: close fd, then exit.
// It runs in a copy of this process that has exactly one thread, so it may
// only make raw system calls.
//
//go:nosplit
func childFunc(fd int) {
	if _, _, errno := unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0); errno != 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 1, 0, 0) // errExit("close")
	}
	unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0) // return 0: child terminates now
}

// rawClone is clone(childFunc, stack, flags, &fd). Without CLONE_VM the
// child gets a copy of our memory, stack included, so it can keep using the
// stack it was cloned on (newsp = 0) — no separate stack to allocate.
func rawClone(flags uintptr, fd int) (int, error) {
	// The signal mask is per thread: pin this goroutine to its thread, block
	// everything there for the moment of the clone (the child inherits the
	// mask) and restore it in the parent straight after.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var all, old unix.Sigset_t
	for i := range all.Val {
		all.Val[i] = ^uint64(0)
	}
	sigprocmask(&all, &old)

	pid, _, errno := unix.RawSyscall6(unix.SYS_CLONE, flags, 0, 0, 0, 0, 0)
	if pid == 0 {
		childFunc(fd) // never returns
	}
	sigprocmask(&old, nil)
	if errno != 0 {
		return -1, errno
	}
	return int(pid), nil
}

func sigprocmask(set, old *unix.Sigset_t) {
	unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK,
		uintptr(unsafe.Pointer(set)), uintptr(unsafe.Pointer(old)), unsafe.Sizeof(*set), 0, 0)
}

func tClone(args []string) {
	// unix.Open, not os.Open: a bare descriptor, like the C's, that Go's
	// poller and finalizers know nothing about.
	fd, err := unix.Open("/dev/null", unix.O_RDWR, 0) // child will close this fd
	if err != nil {
		common.ErrExit("open", err)
	}

	// If there is an argument, the child shares the file descriptor table.
	var flags uintptr
	if len(args) > 1 {
		flags = unix.CLONE_FILES
	}

	// Ignore childSig, whose default action would kill us (Go would catch
	// it anyway; this says so). SIGCHLD is left alone: ignoring it would
	// make the kernel reap the child before we can wait for it.
	signal.Ignore(childSig)

	pid, err := rawClone(flags|uintptr(childSig), fd)
	if err != nil {
		common.ErrExit("clone", err)
	}

	// Wait for the child; __WCLONE because it signals with childSig.
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WCLONE, nil); err != nil {
		common.ErrExit("waitpid", err)
	}
	fmt.Println("child has terminated")

	// Did the child's close() affect the parent?
	_, err = unix.Write(fd, []byte("x"))
	switch {
	case err == unix.EBADF:
		fmt.Printf("file descriptor %d has been closed\n", fd)
	case err != nil:
		fmt.Printf("write() on file descriptor %d failed unexpectedly (%v)\n", fd, err)
	default:
		fmt.Printf("write() on file descriptor %d succeeded\n", fd)
	}
	os.Exit(0)
}
