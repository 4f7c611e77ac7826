//go:build nslabtest

package common

import (
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The test build of the test hooks (go build -tags nslabtest;
// testhooks.go says why).
//
// Fault injection, by the environment:
//
//	NSLAB_SIMULATE_MISSING="ns:time controller:cpu"  a namespace type or a
//	                                                 cgroup controller is absent
//	NSLAB_SIMULATE_USERNS_DISABLED=1                 clone(CLONE_NEWUSER) fails
//	                                                 with EPERM, as when a sysctl
//	                                                 forbids user namespaces
//
// A pause point: with NSLAB_PAUSE=NAME in the environment, PausePoint(NAME) writes
// the program's PID to the file NSLAB_PAUSE_FILE and waits there, at most a
// minute, for the test's SIGINT (or SIGTERM, SIGHUP). Then:
//   - if the program catches the signals (AtExit, HoldSignals), they reached
//     its own handler too, and the program goes on as it would have;
//   - if it does not, it dies of the signal, as it would have right there.
//
// So whatever the program does with a signal at that moment, it does every
// time, not when the timing happens to fall there.
func injected(kind, name string) bool {
	if kind == "userns" && name == "disabled" {
		return os.Getenv("NSLAB_SIMULATE_USERNS_DISABLED") == "1"
	}
	return slices.Contains(strings.Fields(os.Getenv("NSLAB_SIMULATE_MISSING")), kind+":"+name)
}

func PausePoint(name string) {
	if os.Getenv("NSLAB_PAUSE") != name {
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, unix.SIGINT, unix.SIGTERM, unix.SIGHUP)
	defer signal.Stop(ch)
	if err := os.WriteFile(os.Getenv("NSLAB_PAUSE_FILE"), fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644); err != nil {
		Warnf("pause %s: %v", name, err)
		return
	}
	select {
	case sig := <-ch:
		cleanup.Lock()
		caught := cleanup.started
		cleanup.Unlock()
		if !caught {
			// With ch stopped, nothing catches sig: Go's default for
			// it is to die of it.
			signal.Stop(ch)
			unix.Kill(os.Getpid(), sig.(unix.Signal))
			time.Sleep(time.Second) // it comes at once
			os.Exit(128 + int(sig.(unix.Signal)))
		}
	case <-time.After(time.Minute):
		Warnf("pause %s: no signal came within a minute: going on", name)
	}
}
