// thread.go adds what the seed's shell never meets: in Go, namespaces
// belong to threads, not to the process, and a goroutine must be pinned to
// its thread before it changes one.

package main

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// Entering a network namespace from Go
//
// setns(2) and unshare(2) change the namespaces of the calling *thread*.
// A goroutine may move to another thread at any moment, and other
// goroutines run on its thread after it. So:
//
//   - runtime.LockOSThread pins the goroutine to its thread: from setns to
//     the end, its system calls all run there;
//   - we never unlock: when a goroutine returns still locked, the runtime
//     ends its thread rather than hand it, in a foreign namespace, to other
//     goroutines. Except the main thread, which it cannot end: if the
//     goroutine ran there (it often does), the thread is parked for good,
//     still in the namespace, keeping it alive, and /proc/PID/ns/net (the
//     main thread's) would show it as the process's. So the thread steps
//     back to where it was before the goroutine returns, all the same;
//   - while a goroutine is locked, the runtime starts new threads from a
//     clean "template thread", not from the locked one, so they do not
//     inherit its namespaces either.
//
// That is enough for the network namespace. The kernel lets any thread of
// a process join one, and what it changes is settled per call: a socket
// belongs for life to the namespace of the thread that created it. So the
// thread only has to be in the namespace for socket(2) (net.Listen,
// net.Dial, a netlink socket); after that the socket works from any thread.
//
// It is not enough for every namespace. setns() into a mount namespace
// refuses (EINVAL) a thread that shares its filesystem context with other
// threads, and into a user namespace any process with more than one
// thread: Go's threads always share that context, and a Go program always
// has several threads. A PID (or time) namespace applies to the children
// the thread creates, not to the thread itself (09-setns).

// onThread runs fn on a goroutine locked to its OS thread, and returns
// fn's error. Whatever fn does to the thread's network namespace ends with
// the thread.
func onThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		home, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		err = fn()
		unix.Setns(home, unix.CLONE_NEWNET) // in case this is the main thread
		unix.Close(home)
		errc <- err
	}()
	return <-errc
}

// inNetns runs fn on a thread of its own that has joined the network
// namespace behind the file descriptor ns.
func inNetns(ns int, fn func() error) error {
	return onThread(func() error {
		if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("setns(CLONE_NEWNET): %w", err)
		}
		return fn()
	})
}
