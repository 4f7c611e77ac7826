package main

// signals.go adds PID 1's shield: the kernel drops every signal PID 1 has
// no handler for, even SIGKILL, unless SIGKILL (or SIGSTOP) comes from an
// ancestor namespace.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

func init() {
	common.Register("signals", signalTarget)
	common.Register("signaller", signaller)
}

// signalTarget is PID 1 of the signals demo. Round "nohandler": it turns
// into a process with no signal handler, as most C programs are; round
// "handler": it stays a Go program, whose runtime handles SIGTERM. A
// signaller inside the namespace signals it and talks to the host on the
// pipes it inherits from us (fd 3 and 4).
func signalTarget(args []string) int {
	round := becomeInit(args)[0]
	if round == "handler" {
		fmt.Println("PID 1: staying a Go program: the Go runtime has a handler for SIGTERM")
		startRole("signaller", round)
		reapAll() // returns only at ECHILD: the signaller waits for the end
		return 0
	}

	// A Go program cannot be without signal handlers: the runtime installs
	// its own for SIGTERM, SIGINT, ... before main runs, and signal.Reset
	// hands them back to the runtime, not to SIG_DFL. So, like the seed's
	// PID 1 (which execs ps), we become another program. execve() keeps
	// our PID and resets every handled signal to SIG_DFL (ignored ones stay
	// ignored); sleep installs no handler at all.
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		common.ErrExit("finding sleep", err, "install coreutils")
	}
	fmt.Println("PID 1: exec'ing sleep, a program with no signal handler")
	startRole("signaller", round)
	err = unix.Exec(sleep, []string{"sleep", "infinity"}, os.Environ())
	common.ErrExit("execve "+sleep, err)
	return 1
}

// signaller signals PID 1 from inside its namespace, on the host's cue.
func signaller(args []string) int {
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)
	round := args[0]
	mask, caught := catches(1, unix.SIGTERM)
	// Round "nohandler": wait for PID 1's execve, which drops its handlers.
	for round == "nohandler" && caught {
		time.Sleep(10 * time.Millisecond)
		mask, caught = catches(1, unix.SIGTERM)
	}
	comm, _ := os.ReadFile("/proc/1/comm")
	what := "no handler for SIGTERM"
	if caught {
		what = "a handler for SIGTERM"
	}
	fmt.Printf("  signaller (pid %d): PID 1 is %q; SigCgt: %016x: it has %s\n",
		os.Getpid(), strings.TrimSpace(string(comm)), mask, what)
	common.TellParent()
	common.WaitParentClose() // the host's -hold

	if round == "handler" {
		fmt.Println("  signaller: kill(1, SIGTERM)")
		unix.Kill(1, unix.SIGTERM)
		return child(nil) // until PID 1's end takes us along
	}
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGKILL} {
		err := unix.Kill(1, sig)
		time.Sleep(100 * time.Millisecond)
		fmt.Printf("  signaller: kill(1, %s) = %s; 100 ms later PID 1 is %s, %s\n",
			unix.SignalName(sig), errText(err), alive(1), pending(1))
	}
	common.TellParent()
	return child(nil)
}

// runSignals is the host's side of the signals demo: two rounds, PID 1
// without and with a handler for SIGTERM.
func runSignals(hold time.Duration) {
	fmt.Println(common.Parent("Round 1: PID 1 has no handler for SIGTERM"))
	ns := startInit("signals", "nohandler")
	fmt.Printf("cpid: %s\n", common.Parent(ns.pid))
	// Signal PID 1 through os.Process, which holds a pidfd: unlike a bare
	// PID, it cannot reach another process once PID 1 has been reaped. If
	// PID 1 dies early (killed from another shell during -hold), the pipe
	// closes and we go straight to the end.
	pid1 := ns.child.Cmd.Process
	if ns.hs.WaitReady() {
		ns.hold(hold, fmt.Sprintf("nsenter -t %d -p kill -TERM 1 (or -KILL); kill -TERM %[1]d; kill -KILL %[1]d", ns.pid))
		ns.hs.Release.Close()
		if ns.hs.WaitReady() { // the signaller has sent its signals
			err := pid1.Signal(unix.SIGTERM)
			time.Sleep(100 * time.Millisecond)
			fmt.Printf("host: kill(%d, SIGTERM) = %s; 100 ms later PID 1 is %s, %s\n",
				ns.pid, errText(err), alive(ns.pid), pending(ns.pid))
			fmt.Printf("host: kill(%d, SIGKILL)\n", ns.pid)
		}
	}
	// SIGKILL from an ancestor namespace: the one signal PID 1 cannot
	// refuse. Also the way out if the signaller was killed during -hold.
	pid1.Signal(unix.SIGKILL)
	if st := ns.finish(); st.Exited() {
		common.Fatalf("PID 1 failed (%s)", st)
	}

	fmt.Println(common.Parent("Round 2: PID 1 has a handler for SIGTERM"))
	ns = startInit("signals", "handler")
	fmt.Printf("cpid: %s\n", common.Parent(ns.pid))
	if ns.hs.WaitReady() {
		ns.hold(hold, fmt.Sprintf("nsenter -t %d -p kill -TERM 1", ns.pid))
	}
	if st := ns.finish(); st.ExitCode() == 2 {
		fmt.Println("PID 1's handler ran; it set SIGTERM back to SIG_DFL and raised it again, which the kernel")
		fmt.Println("drops for PID 1, then called exit(2): what the Go runtime does for a signal nobody Notify'd")
	}
}

// errText is a system call's result as C would print it.
func errText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return "-1 (" + unix.ErrnoName(errno) + ")"
	}
	return "0"
}
