package main

// ns_child_exec: create a child in new namespaces and execute a command in
// it. This is the one chapter program that needs no re-exec of itself: the
// C child does nothing but execvp(), and clone(flags) + execve() is exactly
// what Go's os/exec does when SysProcAttr.Cloneflags is set.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// nsUsage: -h prints the options on stdout. After a mistake, which the
// caller has named in one line, one more line with the usage, exit 2.
func nsUsage(help bool) {
	if !help {
		fmt.Fprintf(os.Stderr, "usage: %s [-CimnpuUTv] cmd [arg...]   (-h: the options)\n", common.Prog)
		os.Exit(2)
	}
	fmt.Printf("Usage: %s [options] cmd [arg...]\n", common.Prog)
	fmt.Printf("Options can be:\n")
	fmt.Printf("    -C   new cgroup namespace\n")
	fmt.Printf("    -i   new IPC namespace\n")
	fmt.Printf("    -m   new mount namespace\n")
	fmt.Printf("    -n   new network namespace\n")
	fmt.Printf("    -p   new PID namespace\n")
	fmt.Printf("    -u   new UTS namespace\n")
	fmt.Printf("    -U   new user namespace\n")
	fmt.Printf("    -T   new time namespace\n")
	fmt.Printf("    -v   Display verbose messages\n")
	os.Exit(0)
}

func nsChildExec(args []string) {
	var flags uintptr
	verbose := false

	// getopt("+CimnpuUTv"): the '+' stops at the first non-option, so the
	// command keeps its own options (ns_child_exec -p ls -l).
	opts, cmdArgs, err := common.Getopt(args[1:], "+CimnpuUTvh")
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", common.Prog, err)
		nsUsage(false)
	}
	for _, o := range opts {
		switch o.Letter {
		case 'v':
			verbose = true
			continue
		case 'h':
			nsUsage(true)
		}
		for _, ns := range common.Namespaces {
			if ns.Letter == o.Letter {
				flags |= ns.Flag
			}
		}
	}
	if len(cmdArgs) == 0 {
		fmt.Fprintf(os.Stderr, "%s: missing command\n", common.Prog)
		nsUsage(false)
	}
	common.RequireNamespaces(flags)

	// exec.Command looks cmd up in PATH now, in the parent, where the C's
	// execvp() searches in the child; the answer is the same unless the new
	// mount namespace changes what PATH holds, which it cannot before exec.
	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &unix.SysProcAttr{
		Cloneflags: flags,
		// If we are killed, the child goes too (for -p: the whole PID
		// namespace, since its init dies). The C program has no such net.
		Pdeathsig: unix.SIGKILL,
	}
	// CLONE_NEWTIME shares its bit with the exit-signal field of clone(),
	// so the C must unshare() it before clone(); Go's os/exec switches to
	// clone3(), where the flag fits, and the child starts in the new time
	// namespace directly.

	// Like `unshare --fork`, the parent stays out of the way of signals
	// meant for the command (Ctrl-C reaches both; SIGTERM sent to us alone
	// is passed on) and waits for it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)

	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, unix.ENOENT) {
			// The C child's execvp() fails the same way.
			common.ErrExitHint("execvp "+cmdArgs[0], err, "check the command name and PATH")
		}
		common.ErrExitHint("clone", err, hintFor(err, flags))
	}
	if verbose {
		fmt.Printf("%s: PID of child created by clone() is %d\n", common.Prog, cmd.Process.Pid)
	}
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
			// The init of a PID namespace ignores every signal it has no
			// handler for (04-pid shows why), so `-p sleep 100` would
			// shrug off Ctrl-C. Give the child a second, then insist.
			time.AfterFunc(time.Second, func() {
				if cmd.Process.Signal(unix.Signal(0)) == nil {
					fmt.Fprintf(os.Stderr, "%s: child ignored %s (a PID-namespace init ignores unhandled signals): killing it\n", common.Prog, unix.SignalName(s.(unix.Signal)))
					cmd.Process.Kill()
				}
			})
		}
	}()

	err = cmd.Wait() // waitpid(child_pid, ...)
	if verbose {
		fmt.Printf("%s: terminating\n", common.Prog)
	}
	os.Exit(common.ExitStatus(err)) // the child's status, as a shell reports it
}

// hintFor turns the usual failures of clone(CLONE_NEW*) into advice.
func hintFor(err error, flags uintptr) string {
	switch {
	case errors.Is(err, unix.EPERM) && flags&unix.CLONE_NEWUSER == 0:
		return "creating namespaces needs root: run it with sudo, or add -U to create a user namespace first"
	case errors.Is(err, unix.EPERM):
		return "unprivileged user namespaces may be disabled: check sysctl kernel.unprivileged_userns_clone and kernel.apparmor_restrict_unprivileged_userns, or run with sudo"
	case errors.Is(err, unix.EINVAL):
		return "the kernel refused this flag combination"
	}
	return ""
}
