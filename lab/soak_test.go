package lab

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common/nstest"
)

// make soak: every step of the tour (every chapter's demo) runs many times
// in a row, then is interrupted with SIGINT — as Ctrl-C at a terminal
// sends it, to the whole process group — at random points. Before and
// after each step the host is photographed (snapshot_test.go): mounts,
// hostname, named netns, links, cgroups, IPC objects, processes of ours.
// The pictures must be identical. Then each step is killed with SIGKILL at
// random points, as an OOM kill or a crash would end it, which no program
// can clean up after: `make reset` (lab/reset.sh) must then bring the host
// back to the same picture. Then it all happens once more with / made
// rshared, as on a systemd host, where a mount a demo forgets to keep
// private would propagate back to the host.
var (
	soakRounds     = flag.Int("soak.rounds", 0, "make soak: runs of each demo in a row (make soak: 100; CI: 10)")
	soakInterrupts = flag.Int("soak.interrupts", 0, "make soak: runs of each demo interrupted at a random point (make soak: 20; CI: 5)")
	soakKills      = flag.Int("soak.kills", 0, "make soak: runs of each demo killed with SIGKILL at a random point, each followed by lab/reset.sh (make soak: 20; CI: 3)")
	soakInner      = flag.Bool("soak.inner", false, "internal: this is the rshared re-run")
)

func TestSoak(t *testing.T) {
	rounds, interrupts, kills := *soakRounds, *soakInterrupts, *soakKills
	if rounds == 0 && interrupts == 0 && kills == 0 {
		if !inGuest() {
			// go test runs packages in parallel: other packages' tests
			// change the host while they run, which a snapshot of the
			// whole host would take for a leak. make soak runs it alone;
			// the guest runs one package at a time.
			t.Skip("the soak photographs the whole host, so it runs alone: make soak")
		}
		rounds, interrupts, kills = 1, 1, 1
	}
	script, bin, _ := tourSetup(t)
	reset := resetScript(t)
	marker := fmt.Sprintf("NSLAB_SOAK=%d-%d", os.Getpid(), time.Now().UnixNano())
	steps := tourSteps(t, script, bin)

	run := func(t *testing.T) {
		cleaned := 0 // kills after which reset removed something
		before := takeSnapshot(t, marker)
		for _, st := range steps {
			var took []time.Duration
			for i := range rounds {
				d, out, err := runStep(script, bin, marker, st.n, 0, 0)
				if err != nil {
					t.Fatalf("step %d (%s) round %d: %v\n%s", st.n, st.cmd, i+1, err, out)
				}
				took = append(took, d)
			}
			if d := before.diff(takeSnapshot(t, marker)); d != "" {
				t.Fatalf("after %d runs of step %d (%s) the host differs:\n%s", rounds, st.n, st.cmd, d)
			}
			longest := time.Millisecond
			for _, d := range took {
				longest = max(longest, d)
			}
			for i := range interrupts {
				at := time.Duration(rand.Int64N(int64(longest)))
				_, out, err := runStep(script, bin, marker, st.n, at, unix.SIGINT)
				if err != nil {
					t.Fatalf("step %d (%s), SIGINT after %s: %v\n%s", st.n, st.cmd, at, err, out)
				}
				nstest.NoPanic(t, out)
				if d := before.diff(takeSnapshot(t, marker)); d != "" {
					t.Fatalf("step %d (%s), interrupted run %d (SIGINT after %s): the host differs:\n%s\noutput:\n%s",
						st.n, st.cmd, i+1, at.Round(time.Millisecond), d, out)
				}
			}
			for i := range kills {
				at := time.Duration(rand.Int64N(int64(longest)))
				_, out, err := runStep(script, bin, marker, st.n, at, unix.SIGKILL)
				if err != nil {
					t.Fatalf("step %d (%s), SIGKILL after %s: %v\n%s", st.n, st.cmd, at, err, out)
				}
				said, err := exec.Command("bash", reset).CombinedOutput()
				if err != nil {
					t.Fatalf("step %d (%s), killed run %d (SIGKILL after %s): make reset failed: %v\n%s",
						st.n, st.cmd, i+1, at.Round(time.Millisecond), err, said)
				}
				if !bytes.Contains(said, []byte("reset: nothing to remove")) {
					cleaned++
				}
				if d := before.diff(takeSnapshot(t, marker)); d != "" {
					t.Fatalf("step %d (%s), killed run %d (SIGKILL after %s), then make reset: the host differs:\n%s\nreset said:\n%s\noutput:\n%s",
						st.n, st.cmd, i+1, at.Round(time.Millisecond), d, said, out)
				}
			}
		}
		t.Logf("%d steps × (%d runs + %d interrupted + %d killed, then reset): the host is as it was", len(steps), rounds, interrupts, kills)
		t.Logf("make reset had something to remove after %d of the %d kills", cleaned, len(steps)*kills)
	}

	if *soakInner {
		run(t)
		return
	}
	t.Run("private", run)
	t.Run("rshared", func(t *testing.T) {
		unshare := nstest.RequireTool(t, "unshare", "util-linux")
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		// The same test, re-run in a mount namespace of its own whose
		// mounts are all shared, in peer groups of their own (private
		// first: `unshare --propagation shared` alone would keep the
		// host's peer groups, and other mounts on the host would show up
		// here): the demos' namespaces start as its peers, so a mount one
		// of them fails to keep private shows up in the snapshot.
		cmd := exec.Command(unshare, "--mount", "--propagation", "private", "--",
			"sh", "-c", `mount --make-rshared / && exec "$@"`, "sh", self,
			"-test.run", "^TestSoak$", "-test.v", "-soak.inner",
			"-soak.rounds="+strconv.Itoa(rounds), "-soak.interrupts="+strconv.Itoa(interrupts),
			"-soak.kills="+strconv.Itoa(kills))
		cmd.Env = append(os.Environ(), "NSLAB_BIN="+bin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the soak under / rshared: %v\n%s", err, out)
		}
		if !bytes.Contains(out, []byte("the host is as it was")) {
			t.Fatalf("the rshared soak did not run:\n%s", out)
		}
	})
}

type tourStep struct {
	n   int
	cmd string
}

func tourSteps(t *testing.T, script, bin string) []tourStep {
	cmd := exec.Command("bash", script, bin)
	cmd.Env = append(os.Environ(), "NSLAB_TOUR_LIST=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tour.sh list: %v", err)
	}
	var steps []tourStep
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		n, rest, _ := strings.Cut(l, " ")
		i, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("tour.sh list: %q", l)
		}
		steps = append(steps, tourStep{i, rest})
	}
	return steps
}

// runStep runs tour step n in a process group of its own, as a shell runs
// a foreground job. With interrupt > 0 the group gets sig (SIGINT, as
// Ctrl-C sends it, or SIGKILL) after that long; the run must then end
// within 15 s, whatever its status. Without, it must succeed.
func runStep(script, bin, marker string, n int, interrupt time.Duration, sig unix.Signal) (time.Duration, string, error) {
	cmd := exec.Command("bash", script, bin)
	cmd.Env = append(os.Environ(), "NSLAB_TOUR_STEP="+strconv.Itoa(n), marker, "NO_COLOR=1")
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// After SIGKILL a process the kill cannot reach (a frozen one, until
	// make reset thaws it) may hold our pipe open: Wait gives up on it
	// after this long. (A run that ends well but leaves one gets
	// exec.ErrWaitDelay: a leak.)
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if interrupt > 0 {
		select {
		case err := <-done:
			return time.Since(start), out.String(), ignoreStatus(err)
		case <-time.After(interrupt):
			unix.Kill(-cmd.Process.Pid, sig)
		}
		select {
		case err := <-done:
			return time.Since(start), out.String(), ignoreStatus(err)
		case <-time.After(15 * time.Second):
			unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
			<-done
			return 0, out.String(), fmt.Errorf("still running 15 s after %v", sig)
		}
	}
	select {
	case err := <-done:
		return time.Since(start), out.String(), err
	case <-time.After(60 * time.Second):
		unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		<-done
		return 0, out.String(), fmt.Errorf("still running after 60 s")
	}
}

// ignoreStatus: an interrupted run may end with any status; only a failure
// to run at all counts.
func ignoreStatus(err error) error {
	if _, ok := err.(*exec.ExitError); ok {
		return nil
	}
	return err
}
