package common

import (
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
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
// An undo step must not exit. If one calls Exit anyway (ErrExit, Fatalf),
// that ends only this step: the other steps still run, and the program
// exits with the status it was exiting with. C's exit() from an atexit
// handler is undefined behaviour; in Go it would deadlock here.

var cleanup struct {
	sync.Mutex
	fns      []func()
	done     bool
	started  bool
	exiting  bool
	cleaner  int64         // the goroutine running the undo steps
	finished chan struct{} // closed when they have all run
}

// nestedExit is what Exit panics with inside an undo step; runStep
// recovers it.
type nestedExit struct{}

// AtExit registers fn to run, in reverse order of registration, when the
// program ends through Exit, ErrExit/Fatalf or a terminating signal. If the
// program is already exiting (a Ctrl-C came), the caller never returns: it
// was about to make what fn undoes, and nobody would undo it any more. The
// goroutine that is exiting ends the process. Called from an undo step, or
// after RunCleanups without an exit, fn runs at once.
func AtExit(fn func()) {
	me := goid()
	cleanup.Lock()
	if cleanup.exiting && cleanup.cleaner != me {
		cleanup.Unlock()
		select {}
	}
	if cleanup.done {
		cleanup.Unlock()
		runStep(fn)
		return
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
// (the exit does not wait), but must not call HoldSignals itself. In an
// undo step it just runs fn: no signal interrupts the undo steps, as the
// first one is all the signal goroutine reads.
func HoldSignals(fn func()) {
	cleanup.Lock()
	catchSignals()
	undoing := cleanup.done
	cleanup.Unlock()
	if undoing {
		fn()
		return
	}
	held.RLock()
	defer held.RUnlock()
	fn()
}

// RunCleanups runs the registered undo steps once, newest first. A second
// caller waits until the first has finished.
func RunCleanups() {
	me := goid()
	cleanup.Lock()
	if cleanup.done {
		finished, nested := cleanup.finished, cleanup.cleaner == me
		cleanup.Unlock()
		if !nested && finished != nil {
			<-finished
		}
		return
	}
	cleanup.done = true
	cleanup.cleaner = me
	cleanup.finished = make(chan struct{})
	fns := cleanup.fns
	cleanup.fns = nil
	cleanup.Unlock()

	for i := len(fns) - 1; i >= 0; i-- {
		runStep(fns[i])
	}

	cleanup.Lock()
	cleanup.cleaner = 0
	close(cleanup.finished)
	cleanup.Unlock()
}

// runStep runs one undo step; an Exit inside it ends the step only.
func runStep(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(nestedExit); !ok {
				panic(r)
			}
		}
	}()
	fn()
}

// Exit runs the cleanups and exits with code. Called from inside an undo
// step, it ends that step only; called from another goroutine while the
// program is already exiting, it waits for that exit.
func Exit(code int) {
	me := goid()
	cleanup.Lock()
	if cleanup.cleaner == me {
		cleanup.Unlock()
		panic(nestedExit{})
	}
	if cleanup.exiting {
		cleanup.Unlock()
		select {} // the goroutine that is exiting will end the process
	}
	cleanup.exiting = true
	cleanup.Unlock()
	RunCleanups()
	os.Exit(code)
}

func handleSignals(ch chan os.Signal) {
	sig := <-ch
	held.Lock() // a HoldSignals section runs to its end first; never unlocked
	Exit(128 + int(sig.(unix.Signal)))
}

// goid is the calling goroutine's number, from the first line of its stack
// trace ("goroutine 18 [running]:"). Go hides it on purpose; Exit needs it
// only to tell an undo step's nested exit from another goroutine's.
func goid() int64 {
	var buf [64]byte
	s := strings.TrimPrefix(string(buf[:runtime.Stack(buf[:], false)]), "goroutine ")
	id, _ := strconv.ParseInt(s[:max(strings.IndexByte(s, ' '), 0)], 10, 64)
	return id
}
