package main

// signals: what ns_child_exec's parent adds to the seed's, which takes no
// interest in signals: it passes on the signals sent to it, and insists with
// SIGKILL on a PID-namespace init, which ignores them.

import (
	"fmt"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// passSignalsOn starts catching SIGINT, SIGTERM, SIGHUP and SIGQUIT, and
// returns the loop that, given the started child, passes each on to it (to
// run in a goroutine). Catching starts before the clone, so that none is
// lost in between.
//
// Why pass them on. A Ctrl-C reaches the command without us: the terminal
// sends SIGINT to its whole foreground process group, and the command is
// in it (its handler may then run twice: once for the terminal's signal,
// once for ours). But `kill PID` of ns_child_exec reaches only us.
// util-linux `unshare --fork` forwards nothing: it blocks SIGINT and SIGTERM
// while it waits (SigBlk in its /proc/PID/status), so a `kill` of unshare
// waits until the command ends. We pass them on instead, so that killing
// ns_child_exec ends the command too.
//
// A PID-namespace init drops every signal it has no handler for, even ours
// (04-pid): `ns_child_exec -p sleep 100` would shrug off Ctrl-C and kill.
// So for an init (pidInit), one second after passing a signal on, if the
// child is still there: SIGKILL, which an init cannot refuse. Any other
// child is left alone: it may handle the signal and go on with its work.
func passSignalsOn(pidInit bool) func(child *os.Process) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	return func(child *os.Process) {
		for s := range sigs {
			child.Signal(s)
			if pidInit {
				time.AfterFunc(time.Second, func() {
					if child.Signal(unix.Signal(0)) == nil {
						fmt.Fprintf(os.Stderr, "%s: child ignored %s (a PID-namespace init ignores unhandled signals): killing it\n",
							common.Prog, unix.SignalName(s.(unix.Signal)))
						child.Kill()
					}
				})
			}
		}
	}
}
