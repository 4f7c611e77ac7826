package main

// ns_child_exec: TLPI's ns_child_exec in Go. Create a child in new
// namespaces, chosen by options, that executes a command; wait for it.
// Same steps, names and messages as the C (c/ns_child_exec.c); each C line
// is quoted above the Go that does it.
//
// This is the one chapter program that needs no re-exec of itself: the
// C child does nothing but execvp(), and clone(flags) + execve() is exactly
// what Go's os/exec does when SysProcAttr.Cloneflags is set.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// nsUsage is the C's usage(). The C prints the option list to stderr on
// any mistake and exits 1; here (Go and our C alike) -h prints it on
// stdout and exits 0, and after a mistake, which the caller has named in
// one line, one more line gives the usage and the exit status is 2, as
// with every nslab program. -T is nslab's addition.
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

// C: static int /* Start function for cloned child */
// C: childFunc(void *arg)
// C: {
// C: char **argv = arg;
// C: execvp(argv[0], argv);
// C: errExit("execvp");
// C: }
// Go has no childFunc: os/exec clones and executes the command in one
// step (common/reexec.go says why Go cannot run a function in the child).

func nsChildExec(args []string) {
	// C: int flags = 0; int verbose = 0;
	var flags uintptr
	verbose := false

	// C: while ((opt = getopt(argc, argv, "+CimnpuUv")) != -1) {
	// The initial '+' stops at the first non-option, so the command keeps
	// its own options (ns_child_exec -p ls -l). -T and -h are nslab's.
	opts, cmdArgs, err := common.Getopt(args[1:], "+CimnpuUTvh")
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", common.Prog, err) // getopt's own message
		nsUsage(false)
	}
	for _, o := range opts {
		switch o.Letter {
		case 'v': // C: case 'v': verbose = 1; break;
			verbose = true
		case 'h':
			nsUsage(true)
		default:
			// C: case 'C': flags |= CLONE_NEWCGROUP; break;
			// C: case 'i': flags |= CLONE_NEWIPC; break;
			// … one case a letter, to 'U'; here the table of letters
			// and flags is common's (-T is nslab's).
			ns, _ := common.NSByLetter(o.Letter)
			flags |= ns.Flag
		}
	}

	// C: if (optind >= argc) usage(argv[0]);
	if len(cmdArgs) == 0 {
		fmt.Fprintf(os.Stderr, "%s: missing command\n", common.Prog)
		nsUsage(false)
	}
	// Not in the C: a kernel without one of the namespaces is named in one
	// line, rather than as clone's EINVAL.
	common.RequireNamespaces(flags)

	// C: char *stack = mmap(NULL, STACK_SIZE, ...);
	// Go needs no stack for the child: it runs no Go code before execve.

	// C: pid_t child_pid = clone(childFunc, stack + STACK_SIZE, flags | SIGCHLD, &argv[optind]);
	// exec.Command looks the command up in PATH now, in the parent, where
	// the C's execvp() searches in the child; the answer is the same.
	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &unix.SysProcAttr{
		Cloneflags: flags, // os/exec adds SIGCHLD itself
		// Not in the C's seed: if we are killed, the child goes too (for
		// -p: the whole PID namespace, as its init dies).
		Pdeathsig: unix.SIGKILL,
	}
	// CLONE_NEWTIME shares its bit with the exit-signal byte of clone(),
	// so the C must unshare() it before clone(); Go's os/exec switches to
	// clone3(), where the flag fits, and the child starts in the new time
	// namespace directly.

	// Not in the C's seed: signals sent to us are passed on (signals.go).
	passOn := passSignalsOn(flags&unix.CLONE_NEWPID != 0)

	// C: if (child_pid == -1) errExit("clone");
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, unix.ENOENT) {
			// The C child's execvp() fails the same way.
			common.ErrExit("execvp "+cmdArgs[0], err, "check the command name and PATH")
		}
		common.ErrExit("clone", err, hintFor(err, flags))
	}
	go passOn(cmd.Process)

	// C: if (verbose) printf("%s: PID of child created by clone() is %ld\n", argv[0], (long) child_pid);
	if verbose {
		fmt.Printf("%s: PID of child created by clone() is %d\n", common.Prog, cmd.Process.Pid)
	}

	// C: munmap(stack, STACK_SIZE);  (no stack here)

	// C: if (waitpid(child_pid, NULL, 0) == -1) /* Wait for child */
	// C: errExit("waitpid");
	err = cmd.Wait()

	// C: if (verbose) printf("%s: terminating\n", argv[0]);
	if verbose {
		fmt.Printf("%s: terminating\n", common.Prog)
	}

	// C: exit(EXIT_SUCCESS);
	// We exit with the child's status instead, as a shell reports it
	// (128+N if signal N killed it), so that scripts see the command's.
	os.Exit(common.ExitStatus(err))
}

// hintFor turns the usual failures of clone(CLONE_NEW*) into advice; the
// C's perror("clone") gives only the errno.
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
