package common

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// OnThread runs fn on a goroutine locked to an OS thread, and returns fn's
// error: the one way nslab changes a thread's network namespace (06-net's
// thread.go tells why Go must). The goroutine never unlocks, so Go ends the
// thread when fn returns, with whatever namespace fn put it in; and in case
// it ran on the main thread, which Go cannot end, the thread first steps
// back into the network namespace it started in. InNetns and NewNetns
// are built on it.
//
// Used by 06-net.
func OnThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
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

// InNetns runs fn on a thread of its own that has joined the network
// namespace behind the file descriptor ns (OnThread).
//
// Used by 06-net and 10-container.
func InNetns(ns int, fn func() error) error {
	return OnThread(func() error {
		if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("setns(CLONE_NEWNET): %w", err)
		}
		return fn()
	})
}

// NewNetns creates a network namespace (`ip netns add` without a name) on
// a thread of its own (OnThread), and returns a file descriptor that holds
// it once the thread is gone: the kernel destroys the namespace, and every
// interface in it, when the last descriptor (or process) holding it goes.
//
// Used by 06-net, 10-container and lab/bench.
func NewNetns() (int, error) {
	fd := -1
	err := OnThread(func() (err error) {
		if err = unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
		}
		fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		return err
	})
	return fd, err
}
