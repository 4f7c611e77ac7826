package common

import (
	"os"
	"os/exec"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ChildProc is a child process that cannot outlive the program. The C programs
// kill their child from a signal handler that interrupts waitpid() on the
// main thread and never returns. In Go the handler is a goroutine (see
// cleanup.go) that runs while main sits in Wait, so the two must agree: the
// cleanup kills the child and waits until it is reaped, and Wait then ends
// main's goroutine (stepAside) instead of letting main carry on as if the
// child had finished.
//
// Used by every chapter but 01-clone.
type ChildProc struct {
	Cmd *exec.Cmd

	mu       sync.Mutex
	started  bool
	stopping bool
	done     chan struct{} // closed once cmd.Wait has returned
	err      error
}

// StartChild starts cmd (usually from Command) with Pdeathsig SIGKILL — the
// kernel kills the child if we die, even by SIGKILL — and registers, before
// the child exists, a cleanup that kills and reaps it.
//
// Strictly, Pdeathsig fires when the *thread* that started the child ends;
// Go ends none of its threads before exit unless a goroutine locked to one
// returns, which the chapters never do while a child runs.
//
// Used by every chapter but 01-clone.
func StartChild(cmd *exec.Cmd) (*ChildProc, error) {
	return startChild(cmd, unix.SIGKILL)
}

// StartChildNoPdeathsig is StartChild without the parent-death signal, for
// a child forked into a PID namespace the caller joined with setns (09-setns).
// With SysProcAttr.Pdeathsig set, Go's forkExec checks in the child that
// getppid() is still the parent's PID, and sends itself the signal if not,
// since then the parent died before the prctl. In another PID namespace
// getppid() is 0 (the parent has no PID there), so the child would kill
// itself at once. (A child that is PID 1 of a new namespace shrugs it off:
// init ignores SIGKILL sent from inside.) Without it, a SIGKILL to the
// parent leaves the child running, as with nsenter; Ctrl-C and SIGTERM
// still kill and reap it.
//
// Used by 09-setns.
func StartChildNoPdeathsig(cmd *exec.Cmd) (*ChildProc, error) {
	return startChild(cmd, 0)
}

func startChild(cmd *exec.Cmd, pdeathsig unix.Signal) (*ChildProc, error) {
	c := &ChildProc{Cmd: cmd, done: make(chan struct{})}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &unix.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = pdeathsig
	AtExit(c.stop)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping { // a signal came first: don't start anything
		stepAside() // its deferred Unlock runs
	}
	if cmd.SysProcAttr.Cloneflags&unix.CLONE_NEWUSER != 0 && injected("userns", "disabled") {
		// Fault injection (testhooks.go): the error os/exec returns when
		// clone(CLONE_NEWUSER) is refused.
		return nil, &os.PathError{Op: "fork/exec", Path: cmd.Path, Err: unix.EPERM}
	}
	// Only a started child is returned, or waited for by stop: done
	// matters only then.
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c.started = true
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// Pid is the child's PID in our PID namespace.
func (c *ChildProc) Pid() int { return c.Cmd.Process.Pid }

// Done is closed when the child has exited and been reaped.
func (c *ChildProc) Done() <-chan struct{} { return c.done }

// Wait waits for the child and returns what cmd.Wait returned. If the
// program is being stopped by a signal meanwhile, the cleanup killed the
// child and is about to exit with 128+signal: Wait ends the calling
// goroutine there (stepAside) rather than return a death that the caller
// would take for the child's own.
func (c *ChildProc) Wait() error {
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock() // also when stepAside ends the goroutine
	if c.stopping {
		stepAside()
	}
	return c.err
}

// stop is the cleanup: kill the child if it runs and wait (briefly) until
// it is reaped.
func (c *ChildProc) stop() {
	c.mu.Lock()
	c.stopping = true
	started := c.started
	c.mu.Unlock()
	if !started {
		return
	}
	c.Cmd.Process.Kill() // nothing, once Wait has reaped it (os.ErrProcessDone)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		Warnf("child %d did not die (%s)", c.Cmd.Process.Pid, LeftHint)
	}
}
