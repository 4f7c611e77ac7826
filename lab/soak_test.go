package lab

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
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
	soakSteps      = flag.String("soak.steps", "", "make soak SOAK_STEPS=06-net: only these tour steps, by chapter or step number, comma-separated (default: all)")
	soakPart       = flag.Bool("soak.part", false, "make soak SOAK_PART=1: photograph only what the picked steps' chapters change (snapshot.only), on a host where other tests run meanwhile")
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
	steps := pickSteps(t, tourSteps(t, script, bin), *soakSteps)
	// Other nslab programs seen at any photograph: a failure names them.
	others := map[string]bool{}
	photo := func(t testing.TB) snapshot {
		for _, p := range strangers(marker) {
			others[p] = true
		}
		s := takeSnapshot(t, marker)
		if *soakPart {
			s = s.only(*soakSteps)
		}
		return s
	}
	if *soakPart && !hasPart(*soakSteps) {
		t.Fatalf("-soak.part: -soak.steps=%q must name one chapter that snapshot.only knows (06-net or 05-mount)", *soakSteps)
	}
	// With -soak.part, each run and its photograph take turns with the
	// other tests that change that part (06-net: nstest.LockNetns).
	turn := func(t testing.TB, fn func()) {
		if *soakPart {
			nstest.WithHostLock(t, "netns", fn)
		} else {
			fn()
		}
	}

	run := func(t *testing.T) {
		cleaned := 0 // kills after which reset removed something
		var before snapshot
		turn(t, func() { before = photo(t) })
		// What differs from before, with who else ran meanwhile.
		differs := func(t testing.TB) string {
			d := before.diff(photo(t))
			if d != "" && len(others) > 0 {
				var names []string
				for p := range others {
					names = append(names, p)
				}
				sort.Strings(names)
				d += "nslab programs not this test's ran meanwhile (another test run on this host?):\n    " +
					strings.Join(names, "\n    ") + "\n"
			}
			return d
		}
		for _, st := range steps {
			var took []time.Duration
			turn(t, func() {
				for i := range rounds {
					d, out, err := runStep(script, bin, marker, st.n, 0, 0)
					if err != nil {
						t.Fatalf("step %d (%s) round %d: %v\n%s", st.n, st.cmd, i+1, err, out)
					}
					took = append(took, d)
				}
				if d := differs(t); d != "" {
					t.Fatalf("after %d runs of step %d (%s) the host differs:\n%s", rounds, st.n, st.cmd, d)
				}
			})
			longest := time.Millisecond
			for _, d := range took {
				longest = max(longest, d)
			}
			hits := 0 // interrupts that came while the step was still running
			for i := range interrupts {
				turn(t, func() {
					at := time.Duration(rand.Int64N(int64(longest)))
					_, out, err := runStep(script, bin, marker, st.n, at, unix.SIGINT)
					if errors.Is(err, errSignalled) {
						hits, err = hits+1, nil
					}
					if err != nil {
						t.Fatalf("step %d (%s), SIGINT after %s: %v\n%s", st.n, st.cmd, at, err, out)
					}
					nstest.NoPanic(t, out)
					if d := differs(t); d != "" {
						t.Fatalf("step %d (%s), interrupted run %d (SIGINT after %s): the host differs:\n%s\noutput:\n%s",
							st.n, st.cmd, i+1, at.Round(time.Millisecond), d, out)
					}
				})
			}
			if interrupts > 0 {
				t.Logf("step %d (%s): %d SIGINTs at random up to %s, %d of them while it ran; the host unchanged after each",
					st.n, st.cmd, interrupts, longest.Round(time.Millisecond), hits)
			}
			for i := range kills {
				turn(t, func() {
					at := time.Duration(rand.Int64N(int64(longest)))
					_, out, err := runStep(script, bin, marker, st.n, at, unix.SIGKILL)
					if errors.Is(err, errSignalled) {
						err = nil
					}
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
					if d := differs(t); d != "" {
						t.Fatalf("step %d (%s), killed run %d (SIGKILL after %s), then make reset: the host differs:\n%s\nreset said:\n%s\noutput:\n%s",
							st.n, st.cmd, i+1, at.Round(time.Millisecond), d, said, out)
					}
				})
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
			"-soak.kills="+strconv.Itoa(kills), "-soak.steps="+*soakSteps, "-soak.part="+strconv.FormatBool(*soakPart))
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
	cmd string // "CHAPTER COMMAND"
}

// pickSteps keeps the steps that -soak.steps names, by chapter (06-net) or
// number (13); all of them if it names none.
func pickSteps(t *testing.T, steps []tourStep, names string) []tourStep {
	if names == "" {
		return steps
	}
	var picked []tourStep
	for _, name := range strings.Split(names, ",") {
		n := len(picked)
		for _, st := range steps {
			if chapter, _, _ := strings.Cut(st.cmd, " "); chapter == name || strconv.Itoa(st.n) == name {
				picked = append(picked, st)
			}
		}
		if len(picked) == n {
			t.Fatalf("-soak.steps=%s: no tour step %q (a chapter such as 06-net, or a step number)", names, name)
		}
	}
	return picked
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
// Ctrl-C sends it, or SIGKILL) after that long, and the error is
// errSignalled if the step was still running then; the run must then end
// within 15 s, whatever its status. Without, it must succeed.
func runStep(script, bin, marker string, n int, interrupt time.Duration, sig unix.Signal) (time.Duration, string, error) {
	r, err := startStep(script, bin, marker, n)
	if err != nil {
		return 0, "", err
	}
	if interrupt > 0 {
		select {
		case err := <-r.done:
			return time.Since(r.start), r.out.String(), ignoreStatus(err)
		case <-time.After(interrupt):
		}
		return r.interrupt(sig)
	}
	select {
	case err := <-r.done:
		return time.Since(r.start), r.out.String(), err
	case <-time.After(60 * time.Second):
		unix.Kill(-r.cmd.Process.Pid, unix.SIGKILL)
		<-r.done
		return 0, r.out.String(), fmt.Errorf("still running after 60 s")
	}
}

var errSignalled = errors.New("signalled while running")

// stepRun is a tour step started by startStep.
type stepRun struct {
	cmd   *exec.Cmd
	out   bytes.Buffer // read it only once done has answered
	start time.Time
	done  chan error
}

// startStep starts tour step n as runStep describes, with env added to its
// environment.
func startStep(script, bin, marker string, n int, env ...string) (*stepRun, error) {
	r := &stepRun{cmd: exec.Command("bash", script, bin), done: make(chan error, 1)}
	r.cmd.Env = append(append(os.Environ(), "NSLAB_TOUR_STEP="+strconv.Itoa(n), marker, "NO_COLOR=1"), env...)
	r.cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	// After SIGKILL a process the kill cannot reach (a frozen one, until
	// make reset thaws it) may hold our pipe open: Wait gives up on it
	// after this long. (A run that ends well but leaves one gets
	// exec.ErrWaitDelay: a leak.)
	r.cmd.WaitDelay = 2 * time.Second
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { r.done <- r.cmd.Wait() }()
	return r, nil
}

// interrupt sends sig to the step's process group and waits (15 s at most)
// for the step to end, whatever its status: then the error is
// errSignalled.
func (r *stepRun) interrupt(sig unix.Signal) (time.Duration, string, error) {
	unix.Kill(-r.cmd.Process.Pid, sig)
	select {
	case err := <-r.done:
		if err = ignoreStatus(err); err == nil {
			err = errSignalled
		}
		return time.Since(r.start), r.out.String(), err
	case <-time.After(15 * time.Second):
		stuck := stuckGroup(r.cmd.Process.Pid)
		unix.Kill(-r.cmd.Process.Pid, unix.SIGKILL)
		<-r.done
		return 0, r.out.String(), fmt.Errorf("still running 15 s after %v; its processes then:\n%s", sig, stuck)
	}
}

// stuckGroup says what each process of group pgid waits on: its state, its
// kernel wait channel and stack, and, for a Go program of ours, where its
// goroutines are (SIGQUIT makes Go print them to its stderr, which is the
// step's output; bash would dump core on it, so bash does not get it).
func stuckGroup(pgid int) string {
	var b strings.Builder
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, _ := strconv.Atoi(filepath.Base(p))
		st, err := common.ReadStat(pid)
		if err != nil || st.PGRP != pgid {
			continue
		}
		cmdline, _ := os.ReadFile(p + "/cmdline")
		wchan, _ := os.ReadFile(p + "/wchan")
		stack, _ := os.ReadFile(p + "/stack")
		fmt.Fprintf(&b, "    %d (ppid %d) %c wchan %s: %s\n", pid, st.PPID, st.State, wchan, bytes.ReplaceAll(bytes.TrimRight(cmdline, "\x00"), []byte{0}, []byte{' '}))
		for _, l := range strings.Split(strings.TrimSpace(string(stack)), "\n") {
			fmt.Fprintf(&b, "        %s\n", l)
		}
		if st.Comm != "bash" {
			unix.Kill(pid, unix.SIGQUIT)
		}
	}
	time.Sleep(time.Second) // for the goroutine dumps
	return b.String()
}

// ignoreStatus: an interrupted run may end with any status; only a failure
// to run at all counts.
func ignoreStatus(err error) error {
	if _, ok := err.(*exec.ExitError); ok {
		return nil
	}
	return err
}

// The soak's Ctrl-C at the moments where one once left the host changed,
// hit every time rather than when the dice fall there. In a chapter
// program, the moment is a pause point: the chapter is built with them
// (-tags nslabtest, common/testhooks.go) and the step stops at the named
// one. In the tour's own shell, it is just after a command the step runs
// (shim): a stand-in first in PATH runs the real one, then waits without
// handing its output over. Either way, the step's whole process group gets
// SIGINT there, as in the soak, and the host photograph must not change.
var interruptAt = []struct {
	chapter, step, pause, shim, why string
}{
	// del killed after its rm: the tour's trap saw no name left to del,
	// and /run/netns stayed mounted, with the note of its set-up (issue 27).
	{"06-net", "netns_demo", "del: name gone", "", "06-net del holds Ctrl-C until /run/netns is undone too"},
	// Ctrl-C after mktemp made the directory, before $(...) gave its name
	// to the trap, which then had nothing to remove (this host's soak).
	{"05-mount", "rootfs_demo", "", "mktemp", "the tour's trap removes its scratch directories by its PID, not by name"},
}

// shimScript stands in for a command (NSLAB_SHIM_REAL): it runs it, notes
// its own PID in NSLAB_PAUSE_FILE, and waits for the Ctrl-C that ends it,
// keeping what the command printed.
const shimScript = `#!/bin/sh
out=$("$NSLAB_SHIM_REAL" "$@") || exit
echo $$ >"$NSLAB_PAUSE_FILE"
while :; do sleep 0.05; done
`

func TestInterruptAt(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "ip", "iproute2")
	dir := labScripts(t, "tour.sh")
	script := filepath.Join(dir, "tour.sh")
	// Only under make soak and in the guest is this test alone on the
	// host: elsewhere, other packages' tests change it meanwhile, and the
	// photograph keeps to what the step's chapter changes.
	whole := inGuest() || *soakRounds > 0 || *soakInterrupts > 0
	for _, c := range interruptAt {
		at := c.pause
		if c.shim != "" {
			at = "after " + c.shim
		}
		t.Run(c.chapter+"/"+strings.ReplaceAll(at, " ", "_"), func(t *testing.T) {
			if c.chapter == "06-net" {
				nstest.LockNetns(t)
			}
			bin := filepath.Join(dir, "bin-"+c.chapter)
			if err := os.Mkdir(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(nstest.ChapterTags(t, c.chapter, "nslabtest"), filepath.Join(bin, c.chapter)); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, st := range tourSteps(t, script, bin) {
				if strings.HasPrefix(st.cmd, c.chapter+" "+c.step+" ") {
					n = st.n
				}
			}
			if n == 0 {
				t.Fatalf("tour.sh has no step %s %s", c.chapter, c.step)
			}
			marker := fmt.Sprintf("NSLAB_PAUSED=%d-%d", os.Getpid(), time.Now().UnixNano())
			photo := func() snapshot {
				s := takeSnapshot(t, marker)
				if !whole {
					s = s.only(c.chapter)
				}
				return s
			}
			before := photo()
			paused := filepath.Join(t.TempDir(), "paused")
			env := []string{"NSLAB_PAUSE=" + c.pause, "NSLAB_PAUSE_FILE=" + paused}
			if c.shim != "" {
				real, err := exec.LookPath(c.shim)
				if err != nil {
					t.Fatal(err)
				}
				shims := t.TempDir()
				if err := os.WriteFile(filepath.Join(shims, c.shim), []byte(shimScript), 0o755); err != nil {
					t.Fatal(err)
				}
				env = append(env, "NSLAB_SHIM_REAL="+real, "PATH="+shims+":"+os.Getenv("PATH"))
			}
			r, err := startStep(script, bin, marker, n, env...)
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.After(nstest.Patience(20 * time.Second))
			for {
				if _, err := os.Stat(paused); err == nil {
					break
				}
				select {
				case err := <-r.done:
					t.Fatalf("step %d (%s %s) ended (%v) before the pause %q:\n%s", n, c.chapter, c.step, err, at, r.out.String())
				case <-deadline:
					r.interrupt(unix.SIGKILL)
					t.Fatalf("step %d (%s %s) did not reach the pause %q within 20 s:\n%s", n, c.chapter, c.step, at, r.out.String())
				case <-time.After(5 * time.Millisecond):
				}
			}
			_, out, err := r.interrupt(unix.SIGINT)
			if !errors.Is(err, errSignalled) {
				t.Fatalf("SIGINT at %q: %v\n%s", at, err, out)
			}
			nstest.NoPanic(t, out)
			if code := r.cmd.ProcessState.ExitCode(); code != 130 {
				t.Errorf("SIGINT at %q: the step exited %d, not 130 (128+SIGINT)\n%s", at, code, out)
			}
			t.Logf("SIGINT at %q, then:\n%s", at, out)
			if d := before.diff(photo()); d != "" {
				t.Fatalf("SIGINT at %q (%s): the host differs (sudo make reset removes it):\n%s\noutput:\n%s", at, c.why, d, out)
			}
		})
	}
}
