package common

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/fatih/color"
	"golang.org/x/sys/unix"
)

// Prog is the name used in every message, like the C programs' argv[0].
// A chapter with sub-programs (01-clone t_clone) sets it to the sub-program.
//
// Used by every chapter.
var Prog = filepath.Base(os.Args[0])

// errnoHints says, for the errnos a learner meets in this workshop, what to
// do about them. A call site may give a more precise hint to ErrExit.
var errnoHints = map[unix.Errno]string{
	unix.EPERM:  "creating namespaces needs root (CAP_SYS_ADMIN): run it with sudo",
	unix.EACCES: "permission denied: run it with sudo",
	unix.EINVAL: "the kernel rejected these arguments: check the flags, and that this kernel has the namespace type (ls /proc/self/ns)",
	unix.ENOSPC: "a namespace limit is reached: see /proc/sys/user/max_*_namespaces",
	unix.EUSERS: "too many nested user namespaces (the limit is 32)",
	unix.ENOSYS: "this kernel does not have this system call",
	unix.ESRCH:  "no such process: check the PID (it may have exited)",
	unix.EBUSY:  "busy: something still uses it",
	unix.EEXIST: "it already exists: remove it first",
}

// nslab says what went wrong in one of four ways, one line on stderr that
// begins with Prog:
//
//	ErrExit(what, err, hint)       a call failed: exit 1, as C's errExit
//	Fatalf(format, ...)            anything else that ends the program: exit 1
//	UsageError(usage, format, ...) a bad command line: exit 2
//	Warnf(format, ...)             carry on
//
// Describe is ErrExit's wording without the printing.

// ErrExit is C's errExit(msg): it prints "prog: what: ENAME: text (hint)" in red on stderr, runs the
// registered cleanups and exits with status 1. A call site that knows
// better than the errno's generic hint gives its own (one string).
//
// Used by every chapter and lab/bench.
func ErrExit(what string, err error, hint ...string) {
	Fatalf("%s", Describe(what, err, hint...))
}

// Describe formats an error the way ErrExit prints it, without the program
// name: "what: ENAME: text (hint)". Unknown errors keep their own text.
// It prints nothing: 03-ipc, 05-mount and 06-net give it to Warnf when an
// undo step or a listing fails, and 10-container makes error values of it
// (devices.go) and the 126 line of a command that cannot run.
//
// Used by 03-ipc, 05-mount, 06-net and 10-container.
func Describe(what string, err error, hint ...string) string {
	msg, h := err.Error(), ""
	var errno unix.Errno
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &errno):
		name := unix.ErrnoName(errno)
		if name == "" {
			name = fmt.Sprintf("errno %d", int(errno))
		}
		msg, h = name+": "+errno.Error(), errnoHints[errno]
	case errors.As(err, &exitErr):
		msg = exitErr.Error()
	case errors.Is(err, exec.ErrNotFound):
		h = "check the command name and PATH"
	}
	if len(hint) > 0 && hint[0] != "" {
		h = hint[0]
	}
	if h != "" {
		return what + ": " + msg + " (" + h + ")"
	}
	return what + ": " + msg
}

// Fatalf prints one red line "prog: message" on stderr, runs the registered
// cleanups and exits with status 1 (a runtime failure), for a failure that
// is not one call's.
//
// Used by lab/bench and every chapter but 01-clone.
func Fatalf(format string, args ...any) {
	say(errColor, strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
	Exit(1)
}

// UsageError prints "prog: message" and a one-line usage hint on stderr and
// exits with status 2, the convention for a bad command line.
//
// Used by 02-uts, 04-pid, 05-mount, 06-net, 07-user, 08-cgroup, 09-setns,
// 10-container and lab/bench.
func UsageError(usage string, format string, args ...any) {
	say(errColor, fmt.Sprintf(format, args...))
	if first, _, _ := strings.Cut(usage, "\n"); first != "" {
		fmt.Fprintf(os.Stderr, "usage: %s\n", first)
	}
	Exit(2)
}

// Warnf prints a yellow warning "prog: message" on stderr and carries on.
// Mostly in undo steps: one that could not remove something ends its message with
// " (" + LeftHint + ")".
//
// Used by 03-ipc, 05-mount, 06-net, 08-cgroup, 10-container and lab/bench.
func Warnf(format string, args ...any) {
	say(warnColor, fmt.Sprintf(format, args...))
}

// say prints "prog: msg" in colour c on stderr; the newline after the
// colour, so that a terminal's next line starts plain.
func say(c *color.Color, msg string) {
	c.Fprintf(os.Stderr, "%s: %s", Prog, msg)
	fmt.Fprintln(os.Stderr)
}

// LeftHint ends, in parentheses, the warning of an undo step that failed:
// what it could not remove is still there, and lab/reset.sh finds it.
//
// Used by 03-ipc, 05-mount, 06-net, 08-cgroup and lab/bench.
const LeftHint = "sudo make reset removes what is left"

// ExitStatus turns the result of cmd.Wait into the shell's idea of a status:
// the child's exit code, or 128+signal when a signal killed it.
//
// Used by 01-clone, 05-mount, 09-setns and 10-container.
func ExitStatus(err error) int {
	if err == nil {
		return 0
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return ShellStatus(exitErr.Sys().(WaitStatus)) // on Linux always a syscall.WaitStatus
	}
	return 1
}

// WaitStatus is what nslab reads of a wait status: both unix.WaitStatus
// (from wait4) and the syscall.WaitStatus of an os.ProcessState (its Sys)
// have it, and asking for the methods keeps package syscall out of nslab
// (unix.Signal is syscall.Signal).
//
// Used by 04-pid and 08-cgroup.
type WaitStatus interface {
	Signaled() bool
	Signal() unix.Signal
	ExitStatus() int
}

// ShellStatus is the status a shell shows for ws ($?): the exit status,
// or 128 + the number of the signal that killed the process.
//
// Used by 10-container.
func ShellStatus(ws WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
