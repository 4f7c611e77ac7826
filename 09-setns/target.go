package main

// The target adds checks the seed leaves to chance: the PID names a live
// user process, and its /proc/PID/ns files open (or say why not).

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// nsFile is one namespace of the target, opened before anything is joined.
type nsFile struct {
	common.Namespace
	f *os.File
}

// checkTarget makes sure pid is a process whose namespaces mean something.
func checkTarget(pid int) {
	st, err := common.ReadStat(pid)
	if err != nil {
		common.ErrExit(fmt.Sprintf("process %d", pid), unix.ESRCH, "check the PID: it may have exited")
	}
	// A kernel thread has /proc/PID/ns links, but it is always in the
	// initial namespaces and runs no program of its own. kthreadd (PID 2)
	// starts them all; they have no command line.
	if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); (st.PID == 2 || st.PPID == 2) && len(cmdline) == 0 {
		common.Fatalf("PID %d (%s) is a kernel thread: kernel threads all live in the initial namespaces, so there is nothing of its own to join (for the host's namespaces, use -t 1)", pid, st.Comm)
	}
}

// openTarget opens /proc/PID/ns/NAME for every type in want, in runOrder,
// before anything is joined: the paths mean this /proc only as long as we are in
// our own mount namespace, and the open descriptors keep the namespaces
// alive even if the target exits meanwhile. A namespace we are already in
// is left out: joining it would do nothing (or, for user, fail with
// EINVAL: a process may not re-enter its own user namespace).
func openTarget(pid int, want uintptr) []nsFile {
	var files []nsFile
	for _, name := range runOrder {
		ns := common.Namespaces[slices.IndexFunc(common.Namespaces, func(ns common.Namespace) bool { return ns.Name == name })]
		if want&ns.Flag == 0 {
			continue
		}
		path := fmt.Sprintf("/proc/%d/ns/%s", pid, name)
		f, err := os.Open(path)
		if err != nil {
			openFailed(path, err)
		}
		if sameAsOurs(f, name) {
			f.Close()
			continue
		}
		files = append(files, nsFile{ns, f})
	}
	return files
}

// openFailed explains why /proc/PID/ns/NAME did not open, and exits.
func openFailed(path string, err error) {
	pid := strings.Split(path, "/")[2]
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ESRCH):
		common.ErrExit("process "+pid, unix.ESRCH, "it has exited")
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		common.ErrExit("open "+path, err,
			"only root, or the process's own user, may open its namespaces (ptrace access): run it with sudo")
	default:
		common.ErrExit("open "+path, err)
	}
}

// sameAsOurs reports whether f is the namespace this thread is in: same
// device and inode as /proc/thread-self/ns/NAME.
func sameAsOurs(f *os.File, name string) bool {
	var theirs, ours unix.Stat_t
	if unix.Fstat(int(f.Fd()), &theirs) != nil || unix.Stat("/proc/thread-self/ns/"+name, &ours) != nil {
		return false
	}
	return theirs.Dev == ours.Dev && theirs.Ino == ours.Ino
}
