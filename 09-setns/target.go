package main

// The target: checking the PID and opening its /proc/PID/ns files.

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// pfKthread is PF_KTHREAD in the flags field of /proc/PID/stat.
const pfKthread = 0x00200000

// nsFile is one namespace of the target, opened before anything is joined.
type nsFile struct {
	name string
	flag uintptr
	f    *os.File // nil: we are in this namespace already, nothing to join
}

// checkTarget makes sure pid is a process whose namespaces mean something
// and returns its command name.
func checkTarget(pid int) string {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		common.ErrExitHint(fmt.Sprintf("process %d", pid), unix.ESRCH, "check the PID: it may have exited")
	}
	s := string(stat)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		common.Fatalf("cannot read /proc/%d/stat", pid)
	}
	comm := s[open+1 : end]
	// After the command name: state ppid pgrp session tty_nr tpgid flags.
	fields := strings.Fields(s[end+1:])
	if len(fields) > 6 {
		if flags, err := strconv.ParseUint(fields[6], 10, 64); err == nil && flags&pfKthread != 0 {
			// A kernel thread has /proc/PID/ns links, but it is always in
			// the initial namespaces and runs no program of its own.
			common.Fatalf("PID %d (%s) is a kernel thread: kernel threads all live in the initial namespaces, so there is nothing of its own to join (for the host's namespaces, use -t 1)", pid, comm)
		}
	}
	return comm
}

// openTarget opens /proc/PID/ns/NAME for every name, in order, before
// anything is joined: the paths mean this /proc only as long as we are in
// our own mount namespace, and the open descriptors keep the namespaces
// alive even if the target exits meanwhile. A namespace we are already in
// gets no descriptor: joining it would do nothing (or, for user, fail with
// EINVAL: a process may not re-enter its own user namespace).
func openTarget(pid int, names []string) []nsFile {
	var files []nsFile
	for _, name := range names {
		path := fmt.Sprintf("/proc/%d/ns/%s", pid, name)
		f, err := os.Open(path)
		if err != nil {
			closeAll(files)
			switch {
			case !common.Alive(pid):
				common.ErrExitHint(fmt.Sprintf("process %d", pid), unix.ESRCH, "it has exited")
			case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
				common.ErrExitHint("open "+path, err,
					"only root, or the process's own user, may open its namespaces (ptrace access): run it with sudo")
			default:
				common.ErrExit("open "+path, err)
			}
		}
		n := nsFile{name: name, flag: flagsOf([]string{name}), f: f}
		if sameAsOurs(f, name) {
			f.Close()
			n.f = nil
		}
		files = append(files, n)
	}
	return files
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

func closeAll(files []nsFile) {
	for _, n := range files {
		if n.f != nil {
			n.f.Close()
		}
	}
}

// flagsOf turns namespace names into their CLONE_NEW* flags.
func flagsOf(names []string) uintptr {
	var flags uintptr
	for _, ns := range common.Namespaces {
		for _, name := range names {
			if ns.Name == name {
				flags |= ns.Flag
			}
		}
	}
	return flags
}

// childOf finds the child of pid (the joiner has exactly one) by its PPid
// in /proc/N/stat, or returns 0.
func childOf(pid int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			return n
		}
	}
	return 0
}
