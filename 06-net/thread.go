// thread.go adds what the seed's shell never meets: in Go, namespaces
// belong to threads, not to the process, and a goroutine must be pinned to
// its thread before it changes one.

package main

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

// The code is common's, since 10-container and lab/bench do the same:
// common.OnThread runs a function on a locked thread that steps back and
// ends, common.InNetns runs it in a namespace, and common.NewNetns makes
// a namespace (unshare on such a thread) and returns a descriptor that
// holds it.
