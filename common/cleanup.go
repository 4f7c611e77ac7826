package common

import (
	"os"
	"os/signal"
	"runtime"
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
//
// An undo step warns and returns (Warnf, ending with LeftHint). If one calls Exit anyway
// (ErrExit, Fatalf), that ends only this step: the other steps still run,
// and the program exits with the status it was exiting with. (C's exit()
// from an atexit handler is undefined behaviour.)

var cleanup struct {
	sync.Mutex
	fns     []func()
	started bool // the signal goroutine runs
	exiting bool // Exit has begun: the undo steps run, then the process ends
}

// AtExit registers fn to run, in reverse order of registration, when the
// program ends through Exit, ErrExit/Fatalf or a terminating signal. If the
// program is already exiting (a Ctrl-C came while the caller was about to
// make what fn undoes), the calling goroutine ends here (stepAside):
// nobody would undo what it makes any more.
//
// Used by 03-ipc, 05-mount, 06-net, 08-cgroup, 10-container and lab/bench.
func AtExit(fn func()) {
	cleanup.Lock()
	if cleanup.exiting {
		cleanup.Unlock()
		stepAside()
	}
	cleanup.fns = append(cleanup.fns, fn)
	catchSignals()
	cleanup.Unlock()
}

// catchSignals starts, once, the goroutine that turns a signal into Exit.
// The caller holds cleanup's lock.
func catchSignals() {
	if cleanup.started {
		return
	}
	cleanup.started = true
	// Notify now, not in the goroutine: the signals must be caught from
	// the moment the first undo step (or held section) exists.
	ch := make(chan os.Signal, 1)
	// SIGPIPE too: `prog | head -3` closes our stdout, and Go would
	// otherwise die of SIGPIPE on the next write, before any cleanup.
	signal.Notify(ch, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGPIPE)
	go handleSignals(ch)
}

// held is taken for reading by each HoldSignals section, and for writing by
// the signal goroutine before it starts the exit.
var held sync.RWMutex

// HoldSignals runs fn to its end: a signal that comes meanwhile (Ctrl-C)
// takes effect, undo steps and exit 128+signal, only once fn has returned.
// It is for a change of the host made in several steps that must all
// happen once the first has, and that no undo step could finish instead
// (06-net del: umount the name, rm its file, then undo the set-up of
// /run/netns; killed between two of them, it would leave the host half
// changed). C would block the signals with sigprocmask around the lines; Go
// gives no process-wide mask, so the signal goroutine waits for fn instead.
// SIGKILL cannot be held: what it leaves, make reset removes. fn may exit
// (the exit does not wait), but must not call HoldSignals itself. Once the
// program is exiting it just runs fn: no signal interrupts the undo steps,
// as the first one is all the signal goroutine reads.
//
// Used by 06-net.
func HoldSignals(fn func()) {
	cleanup.Lock()
	catchSignals()
	exiting := cleanup.exiting
	cleanup.Unlock()
	if !exiting {
		held.RLock()
		defer held.RUnlock()
	}
	fn()
}

// Exit runs the undo steps, newest first, and exits with code. Called while
// the program is already exiting (from an undo step that fails, or from a
// goroutine that fails or finishes while a Ctrl-C is being handled), it
// ends the calling goroutine only (stepAside): the exit under way runs the
// other steps and ends the process with its own status.
//
// Used by 03-ipc, 04-pid, 05-mount, 07-user, 08-cgroup, 09-setns,
// 10-container and lab/bench.
func Exit(code int) {
	cleanup.Lock()
	if cleanup.exiting {
		cleanup.Unlock()
		stepAside()
	}
	cleanup.exiting = true
	fns := cleanup.fns
	cleanup.fns = nil
	cleanup.Unlock()
	for i := len(fns) - 1; i >= 0; i-- { // the last registered first
		runStep(fns[i])
	}
	os.Exit(code)
}

// runStep runs one undo step on a goroutine of its own, so that a step
// that exits (stepAside) ends itself and not the exit.
func runStep(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// stepAside ends the calling goroutine, running its deferred calls
// (runtime.Goexit): the program is exiting on another goroutine, which ends
// the process once the undo steps have run. In C a signal handler that
// exits never returns to main; in Go the handler is a goroutine, so main
// is told to stop here instead, rather than go on making and printing
// things while the host is being cleaned up.
func stepAside() { runtime.Goexit() }

func handleSignals(ch chan os.Signal) {
	sig := <-ch
	held.Lock() // a HoldSignals section runs to its end first; never unlocked
	Exit(128 + int(sig.(unix.Signal)))
}
