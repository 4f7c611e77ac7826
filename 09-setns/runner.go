package main

// The -t PID form adds a small nsenter(1) to the seed: join any subset of
// the target's namespaces, in nsenter's order, and run a command there.

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// runOrder is nsenter's: user first, which gives a joiner that is not root
// the capabilities it needs for the rest; mnt late, since after it the
// thread's root and working directory are the target's.
var runOrder = []string{"user", "cgroup", "ipc", "uts", "net", "pid", "mnt", "time"}

// nsenter is `nsenter -t PID -u -n ... cmd`: join the chosen namespaces and
// run cmd there. Go joins them itself when it can; a user or time namespace
// needs the joiner (joiner.go), unless -go-only shows what happens without.
func nsenter(pid int, want uintptr, goOnly bool, argv []string) {
	common.RequireNamespaces(want)
	checkTarget(pid)
	files := openTarget(pid, want)

	// Only a single-threaded process may join a user or a time namespace.
	if joins(files, "user", "time") && !goOnly {
		j := startJoiner("runCmd", false, argv...)
		join(files, j.setns)
		j.fork() // its child runs runCmd
		j.exit()
	}

	join(files, setnsHere)
	// Created after the joins and on this thread: exec.Command searches
	// PATH in the target's mount namespace, and the fork inherits this
	// thread's namespaces, pid_for_children included.
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Into the target's PID namespace without a parent-death signal: Go's
	// check of getppid() after the prctl would kill the child there (see
	// common.StartChildNoPdeathsig).
	start := common.StartChild
	if joins(files, "pid") {
		start = common.StartChildNoPdeathsig
	}
	child, err := start(cmd)
	if err != nil {
		common.ErrExit("exec "+cmd.Args[0], err)
	}
	common.Exit(common.ExitStatus(child.Wait()))
}

// join joins the namespaces in files, in order, with setns: the joiner's
// (j.setns) or Go's (setnsHere).
func join(files []nsFile, setns func(f *os.File, flag uintptr) error) {
	for _, n := range files {
		if err := setns(n.f, n.Flag); err != nil {
			common.ErrExit("setns "+n.Name, err, setnsHint(n.Name, err))
		}
		n.f.Close()
	}
}

// setnsHere joins from Go. setns(2) moves the calling thread only: this is
// the main thread, to which init locked main for good, and the command is
// forked from it.
func setnsHere(f *os.File, flag uintptr) error {
	if flag == unix.CLONE_NEWNS {
		// Not a matter of threads: the threads of a Go program share
		// one fs_struct (root, working directory, umask: clone's
		// CLONE_FS), and the kernel refuses a new mount namespace to a
		// thread that shares it (EINVAL): the switch would move the
		// others' root too. Give this thread a copy of its own first.
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			common.ErrExit("unshare(CLONE_FS)", err)
		}
	}
	return unix.Setns(int(f.Fd()), int(flag))
}

// joins reports whether files holds one of the namespaces named.
func joins(files []nsFile, names ...string) bool {
	return slices.ContainsFunc(files, func(n nsFile) bool { return slices.Contains(names, n.Name) })
}

// runCmd runs the command in the namespaces the joiner joined. PATH is
// searched now, in the target's mount namespace, as nsenter's execvp does.
func runCmd(args []string) int {
	constructorRan()
	path, err := exec.LookPath(args[0])
	if err != nil {
		common.ErrExit("exec "+args[0], err)
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "NSLAB_PROG=") })
	common.ErrExit("exec "+path, unix.Exec(path, args, env))
	return 1
}

// setnsHint explains a failed setns, from the joiner or from Go.
func setnsHint(name string, err error) string {
	switch {
	case name == "user" && errors.Is(err, unix.EINVAL), name == "time" && errors.Is(err, unix.EUSERS):
		return "the kernel lets only a single-threaded process join a " + name + " namespace, and a Go program always has several threads: without -go-only, a C constructor joins it before the Go runtime starts"
	case name == "pid" && errors.Is(err, unix.EINVAL):
		return "setns only moves down the PID namespace tree: the target's must be ours or a descendant of ours"
	case errors.Is(err, unix.EPERM):
		return "joining needs CAP_SYS_ADMIN in our own user namespace and in the one that owns the target's namespace: run it as root, or join the target's user namespace first (-t PID -U ...)"
	}
	return ""
}
