package main

// Joining: from Go on this thread, or by the C constructor in a re-executed
// copy of this binary (nsexec.c).

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// specEnv carries the request to the constructor in nsexec.c.
const specEnv = "NSLAB_SETNS"

// joinHere joins the namespaces from Go. setns(2) moves the calling thread
// only: this is the main thread, to which init locked main for good, and
// the command is forked from it.
func joinHere(files []nsFile) {
	for _, n := range files {
		if n.f == nil {
			continue
		}
		if n.name == "mnt" {
			// The threads of a Go program share one fs_struct (root,
			// working directory, umask: clone's CLONE_FS), and the kernel
			// refuses a new mount namespace to a thread that shares it
			// (EINVAL): the switch would move the others' root too. Give
			// this thread a copy of its own first.
			if err := unix.Unshare(unix.CLONE_FS); err != nil {
				common.ErrExit("unshare(CLONE_FS)", err)
			}
		}
		if err := unix.Setns(int(n.f.Fd()), int(n.flag)); err != nil {
			common.ErrExitHint("setns "+n.name, err, goHint(n.name, err))
		}
		n.f.Close()
	}
}

// goHint explains the failures of setns from Go.
func goHint(name string, err error) string {
	switch {
	case name == "user" && errors.Is(err, unix.EINVAL):
		return "the kernel lets only a single-threaded process join a user namespace, and a Go program always has several threads: without -go-only, a C constructor joins it before the Go runtime starts"
	case name == "time" && errors.Is(err, unix.EUSERS):
		return "the kernel lets only a single-threaded process join a time namespace, and a Go program always has several threads: without -go-only, a C constructor joins it before the Go runtime starts"
	case name == "pid" && errors.Is(err, unix.EINVAL):
		return "setns only moves down the PID namespace tree: the target's must be ours or a descendant of ours"
	case errors.Is(err, unix.EPERM):
		return "joining needs CAP_SYS_ADMIN in our own user namespace and in the one that owns the target's namespace: run it as root, or join the target's user namespace too (-U)"
	}
	return ""
}

// needsConstructor: only a single-threaded process may join a user or a
// time namespace.
func needsConstructor(files []nsFile) bool {
	for _, n := range files {
		if n.f != nil && (n.name == "user" || n.name == "time") {
			return true
		}
	}
	return false
}

// requireConstructor stops a binary built without cgo, which has none.
func requireConstructor(what string) {
	if !haveConstructor {
		common.Fatalf("%s, which only the C constructor can do, and this binary was built without cgo: rebuild it with gcc installed and CGO_ENABLED=1 (the default when gcc is there)", what)
	}
}

// constructorCmd re-executes this binary as role, with the request for the
// constructor in NSLAB_SETNS: mode ("seed" prints after each step, "run"
// is quiet) and the namespaces in order, each as the descriptor it gets in
// the child (after the extra files first) or "-" for one we are in already.
func constructorCmd(role, mode string, files []nsFile, first []*os.File, args ...string) *exec.Cmd {
	cmd := common.Command(role, args...)
	cmd.ExtraFiles = append(cmd.ExtraFiles, first...)
	spec := []string{mode}
	for _, n := range files {
		if n.f == nil {
			spec = append(spec, "-:"+n.name)
			continue
		}
		// ExtraFiles[i] is descriptor 3+i in the child.
		spec = append(spec, fmt.Sprintf("%d:%s", 3+len(cmd.ExtraFiles), n.name))
		cmd.ExtraFiles = append(cmd.ExtraFiles, n.f)
	}
	cmd.Env = append(cmd.Env, specEnv+"="+strings.Join(spec, " "))
	return cmd
}

// startCommand starts the command forked from this thread and returns a
// function that waits for it. Into the target's PID namespace it goes
// without a parent-death signal: Go's check of getppid() after the prctl
// would kill it there (see common.StartChildNoPdeathsig).
func startCommand(cmd *exec.Cmd, intoPIDNS bool) (wait func() error) {
	start := common.StartChild
	if intoPIDNS {
		start = common.StartChildNoPdeathsig
	}
	child, err := start(cmd)
	if err != nil {
		common.ErrExit("exec "+cmd.Args[0], err)
	}
	return child.Wait
}
