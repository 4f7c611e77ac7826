package main

// rawclone: what t_clone needs that C has and Go lacks, a clone() whose
// child runs a function of the parent.
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
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

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

	// The raw clone's last three arguments are in a different order on
	// different architectures: x86-64 takes (flags, stack, parent_tid,
	// child_tid, tls), arm64 (flags, stack, parent_tid, tls, child_tid),
	// the kernel's CLONE_BACKWARDS. With all of them 0 the call is the same
	// on both; make vm-test ARCH=arm64 runs this in an arm64 guest.
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
