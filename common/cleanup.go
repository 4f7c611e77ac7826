package common

import (
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// Every program in the workshop must leave the host as it found it, also
// when the learner presses Ctrl-C. C programs do this with atexit() and a
// signal handler; here AtExit registers an undo step and the first call
// starts a goroutine that turns SIGINT, SIGTERM, SIGHUP and SIGPIPE into
// "run the undo steps, then exit 128+signal".
//
// Register the undo step *before* creating the resource and make it
// idempotent (it must do nothing if the resource was never made): then there
// is no moment at which a signal can leave a resource nobody will remove.

var cleanup struct {
	sync.Mutex
	fns     []func()
	done    bool
	started bool
}

// AtExit registers fn to run, in reverse order of registration, when the
// program ends through Exit, ErrExit/Fatalf or a terminating signal. If the
// program is already cleaning up, fn runs at once.
func AtExit(fn func()) {
	cleanup.Lock()
	if cleanup.done {
		cleanup.Unlock()
		fn()
		return
	}
	cleanup.fns = append(cleanup.fns, fn)
	if !cleanup.started {
		cleanup.started = true
		// Notify now, not in the goroutine: the signals must be caught
		// from the moment the first undo step exists.
		ch := make(chan os.Signal, 1)
		// SIGPIPE too: `prog | head -3` closes our stdout, and Go would
		// otherwise die of SIGPIPE on the next write, before any cleanup.
		signal.Notify(ch, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGPIPE)
		go handleSignals(ch)
	}
	cleanup.Unlock()
}

// RunCleanups runs the registered undo steps once, newest first.
func RunCleanups() {
	cleanup.Lock()
	defer cleanup.Unlock()
	if cleanup.done {
		return
	}
	cleanup.done = true
	for i := len(cleanup.fns) - 1; i >= 0; i-- {
		cleanup.fns[i]()
	}
	cleanup.fns = nil
}

// Exit runs the cleanups and exits with code.
func Exit(code int) {
	RunCleanups()
	os.Exit(code)
}

func handleSignals(ch chan os.Signal) {
	sig := <-ch
	Exit(128 + int(sig.(unix.Signal)))
}
