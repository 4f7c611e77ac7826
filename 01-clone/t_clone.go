package main

// t_clone: TLPI's t_clone in Go. Does a child created by clone() share the
// parent's file descriptor table? Without CLONE_FILES the child gets a
// copy (as with fork), so its close() leaves the parent's descriptor open;
// with CLONE_FILES both use one table, and the child's close() closes it
// for the parent too. Same steps, names and messages as the C
// (c/t_clone.c); each C line is quoted above the Go that does it.
//
// Go has no clone(func): rawclone.go says how this port clones the
// running process all the same, and why it must (an exec'd child could not
// show CLONE_FILES).

import (
	"fmt"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// C: #define CHILD_SIG SIGUSR1  /* Signal to be generated on termination of cloned child */
// Any signal other than SIGCHLD makes the child a "clone" child, which
// only waitpid(..., __WCLONE) waits for.
const childSig = unix.SIGUSR1

// C: static int childFunc(void *arg)  /* Startup function for cloned child */
// It runs in a copy of this process that has exactly one thread, so it
// may only make raw system calls (rawclone.go); go:nosplit: its stack
// must never grow.
//
//go:nosplit
func childFunc(fd int) {
	// C: if (close(*((int *) arg)) == -1) errExit("close");
	if _, _, errno := unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0); errno != 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 1, 0, 0)
	}
	// C: return 0;  /* Child terminates now */
	unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
}

func tClone(args []string) {
	// C: fd = open("/dev/null", O_RDWR);  /* Child will close this fd */
	// unix.Open, not os.Open: a bare descriptor, like the C's, that Go's
	// poller and finalizers know nothing about.
	fd, err := unix.Open("/dev/null", unix.O_RDWR, 0)
	if err != nil {
		common.ErrExit("open", err)
	}

	// C: flags = (argc > 1) ? CLONE_FILES : 0;
	// If there is an argument, the child shares the fd table with us.
	var flags uintptr
	if len(args) > 1 {
		flags = unix.CLONE_FILES
	}

	// C: stack = malloc(STACK_SIZE); stackTop = stack + STACK_SIZE;
	// No stack to allocate: without CLONE_VM the child runs on its copy of
	// ours (rawclone.go).

	// C: if (CHILD_SIG != 0 && CHILD_SIG != SIGCHLD)
	// C: if (signal(CHILD_SIG, SIG_IGN) == SIG_ERR) errExit("signal");
	// Ignore childSig, whose default action would kill us (Go would catch
	// it anyway; this says so). SIGCHLD is left alone: ignoring it would
	// make the kernel reap the child before we can wait for it.
	signal.Ignore(childSig)

	// C: if (clone(childFunc, stackTop, flags | CHILD_SIG, (void *) &fd) == -1) errExit("clone");
	pid, err := rawClone(flags|uintptr(childSig), fd)
	if err != nil {
		common.ErrExit("clone", err)
	}

	// C: if (waitpid(-1, NULL, (CHILD_SIG != SIGCHLD) ? __WCLONE : 0) == -1) errExit("waitpid");
	// By its PID rather than any child (-1): in a Go program other code
	// (os/exec, a test) may have children of its own to reap.
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WCLONE, nil); err != nil {
		common.ErrExit("waitpid", err)
	}
	// C: printf("child has terminated\n");
	fmt.Println("child has terminated")

	// C: s = write(fd, "x", 1);  /* Did close() of file descriptor in child affect parent? */
	_, err = unix.Write(fd, []byte("x"))
	switch {
	case err == unix.EBADF: // C: if (s == -1 && errno == EBADF)
		fmt.Printf("file descriptor %d has been closed\n", fd)
	case err != nil:
		fmt.Printf("write() on file descriptor %d failed unexpectedly (%v)\n", fd, err)
	default:
		fmt.Printf("write() on file descriptor %d succeeded\n", fd)
	}
	// C: exit(EXIT_SUCCESS);
	os.Exit(0)
}
