package main

// container: what a whole container costs, start to exit: 10-container run
// against runc run of runc spec's bundle on the same rootfs, pair by pair,
// and where 10-container's time goes, with a layer or the limits off.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// containerBench is what the table needs: the programs, and the
// directory of the run's own that holds the rootfs, runc's bundle and
// runc's state.
type containerBench struct {
	mkrootfs, ours, runc string // runc: "" when it is not installed
	dir, id              string
}

// ourRuns are 10-container's rows: its options before -rootfs. The first
// has every layer on, as the runc row has runc spec's; the others show
// what a layer, or the limits, cost by leaving them out.
var ourRuns = []struct {
	name string
	opts []string
}{
	{"10-container run", nil},
	{"10-container -off overlay", []string{"-off", "overlay"}},
	{"10-container -off devices", []string{"-off", "devices"}},
	// No cpu, memory or pids limit; the devices layer still makes a cgroup.
	{"10-container -cpus 0 -memory 0 -pids 0", []string{"-cpus", "0", "-memory", "0", "-pids", "0"}},
	// No cgroup at all.
	{"10-container -cpus 0 -memory 0 -pids 0 -off devices", []string{"-cpus", "0", "-memory", "0", "-pids", "0", "-off", "devices"}},
}

// newContainerBench finds the programs, before the other tables run: a
// missing one is said at once, not minutes later.
func newContainerBench(bin string) *containerBench {
	c := &containerBench{mkrootfs: filepath.Join(bin, "05-mount"), ours: filepath.Join(bin, "10-container")}
	c.runc, _ = exec.LookPath("runc")
	if c.runc == "" {
		return c
	}
	for _, p := range []string{c.mkrootfs, c.ours} {
		if _, err := os.Stat(p); err != nil {
			common.ErrExit(p, err, "build them with make build, or point -bin at them")
		}
	}
	return c
}

// run prints the table. Each round times 10-container and runc one after
// the other, in turn first, then the other rows of 10-container.
func (c *containerBench) run(rounds int) {
	if c.runc == "" {
		fmt.Println("A whole container: skipped, runc is not installed (apt-get install runc)")
		return
	}
	pid := os.Getpid()
	// Named nslab-rootfs.*: sudo make reset finds it after a SIGKILL.
	c.dir = fmt.Sprintf("/tmp/nslab-rootfs.bench-%d", pid)
	// Named like 10-container's cgroups: runc (cgroupfs driver, no
	// cgroupsPath) names the container's cgroups after it.
	c.id = fmt.Sprintf("nslab-10-runc-%d", pid)
	if err := os.Mkdir(c.dir, 0o700); err != nil {
		common.ErrExit("mkdir "+c.dir, err, "a killed run's directory: sudo make reset removes it")
	}
	// After the mkdir, as 05-mount mkrootfs does: a signal in between
	// leaves an empty directory, but a failed mkdir cannot remove a
	// directory someone else made.
	common.AtExit(c.remove)
	bundle := filepath.Join(c.dir, "bundle")
	rootfs := filepath.Join(bundle, "rootfs") // runc spec's root.path
	if err := os.Mkdir(bundle, 0o755); err != nil {
		common.ErrExit("mkdir "+bundle, err)
	}
	runTimed(exec.Command(c.mkrootfs, "mkrootfs", rootfs))
	// Busybox's true, or the shell's builtin in a rootfs without it: the
	// same argv on both sides.
	argv := []string{"true"}
	if _, err := os.Stat(filepath.Join(rootfs, "bin", "true")); err != nil {
		argv = []string{"sh", "-c", "true"}
	}
	c.writeBundle(bundle, argv)
	state := filepath.Join(c.dir, "runc-state") // not /run/runc

	runc := func() *exec.Cmd { return exec.Command(c.runc, "--root", state, "run", "-b", bundle, c.id) }
	ours := func(opts []string) *exec.Cmd {
		args := append(append([]string{"run"}, opts...), "-rootfs", rootfs, "--")
		return exec.Command(c.ours, append(args, argv...)...)
	}
	progress := common.IsTerminal(2)
	var theirs samples
	mine := make([]samples, len(ourRuns))
	// Round -1 is not counted: it warms the caches, and shows that every
	// command works before the clock runs.
	for i := -1; i < rounds; i++ {
		if progress {
			fmt.Fprintf(os.Stderr, "\rmeasuring containers, round %d of %d", i+2, rounds+1)
		}
		keep := func(into *samples, d time.Duration) {
			if i >= 0 {
				*into = append(*into, d)
			}
		}
		// Pair by pair, each first in turn, so that a slow moment of this
		// shared machine, or going first, hits both alike.
		if i%2 == 0 {
			keep(&mine[0], runTimed(ours(nil)))
			keep(&theirs, runTimed(runc()))
		} else {
			keep(&theirs, runTimed(runc()))
			keep(&mine[0], runTimed(ours(nil)))
		}
		for j := 1; j < len(ourRuns); j++ {
			keep(&mine[j], runTimed(ours(ourRuns[j].opts)))
		}
	}
	if progress {
		fmt.Fprintf(os.Stderr, "\r%-40s\r", "")
	}

	fmt.Printf("A whole container running %q on one rootfs, start to exit (runc: runc spec's bundle), %d rounds, median / p90 in ms:\n",
		strings.Join(argv, " "), rounds)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tmedian / p90\t×runc\t")
	fmt.Fprintf(tw, "runc run\t%s\t\t\n", msCell(theirs))
	for i, r := range ourRuns {
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", r.name, msCell(mine[i]), ratio(mine[i], theirs))
	}
	tw.Flush()
	// The target: with every layer on, at most 0.6× runc's time.
	x := float64(mine[0].quantile(0.5)) / float64(theirs.quantile(0.5))
	verdict := common.Child("met")
	if x > 0.6 {
		verdict = common.Differ("missed")
	}
	fmt.Printf("\n10-container run: %s ms = %.2f× runc run (target ≤ 0.60×: %s)\n", ms(mine[0].quantile(0.5)), x, verdict)
}

// writeBundle writes config.json with `runc spec` and changes only what
// it must, as 10-container's runc_test.go does: no terminal (there is none
// to give), the command, and 10-container's hostname.
func (c *containerBench) writeBundle(bundle string, argv []string) {
	cmd := exec.Command(c.runc, "spec")
	cmd.Dir = bundle
	runTimed(cmd)
	file := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(file)
	if err != nil {
		common.ErrExit("runc spec", err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		common.ErrExit(file, err)
	}
	process, ok := spec["process"].(map[string]any)
	if !ok {
		common.Fatalf("%s: runc spec wrote no process object", file)
	}
	process["terminal"] = false
	process["args"] = argv
	spec["hostname"] = "container"
	if b, err = json.MarshalIndent(spec, "", "\t"); err == nil {
		err = os.WriteFile(file, b, 0o644)
	}
	if err != nil {
		common.ErrExit(file, err)
	}
}

// remove is the undo step: the program being timed ends first, then
// runc's container (if a killed runc left it), its cgroups, and the
// directory with the rootfs, the bundle and runc's state.
func (c *containerBench) remove() {
	stopInFlight()
	state := filepath.Join(c.dir, "runc-state")
	if _, err := os.Stat(state); err == nil {
		exec.Command(c.runc, "--root", state, "delete", "-f", c.id).Run()
	}
	for _, d := range runcCgroups(c.id) {
		if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
			common.Warnf("rmdir %s: %v (%s)", d, err, common.LeftHint)
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		common.Warnf("rm -rf %s: %v (%s)", c.dir, err, common.LeftHint)
	}
}

// runcCgroups lists the cgroups named id, where runc (cgroupfs, no
// cgroupsPath) makes them: below the root of each hierarchy, or below
// this process's own cgroup in it.
func runcCgroups(id string) []string {
	patterns := []string{filepath.Join(common.CgroupMount, id), filepath.Join(common.CgroupMount, "*", id)}
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if parts := strings.SplitN(line, ":", 3); len(parts) == 3 {
				patterns = append(patterns, filepath.Join(common.CgroupMount, parts[2], id),
					filepath.Join(common.CgroupMount, "*", parts[2], id))
			}
		}
	}
	var dirs []string
	for _, p := range patterns {
		m, _ := filepath.Glob(p)
		for _, d := range m {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// inFlight is the program the table is running, if any. On Ctrl-C the
// terminal's SIGINT reaches it too, and 10-container, runc and 05-mount
// each clean up after themselves: the undo step lets it finish before it
// removes what the program runs on, rather than kill it half-way.
var inFlight struct {
	sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	stopping bool
}

// runTimed runs cmd to completion and returns how long it took, or exits
// with the end of what it printed. Its output is kept for that only: a
// run's steps are not the table's.
func runTimed(cmd *exec.Cmd) time.Duration {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan struct{})
	inFlight.Lock()
	if inFlight.stopping {
		inFlight.Unlock()
		// The program is exiting: Exit ends this goroutine only, and the
		// exit under way runs the undo steps and ends the process.
		common.Exit(1)
	}
	start := time.Now()
	err := cmd.Start()
	if err == nil {
		inFlight.cmd, inFlight.done = cmd, done
	}
	inFlight.Unlock()
	if err == nil {
		err = cmd.Wait()
	}
	d := time.Since(start)
	close(done)
	inFlight.Lock()
	inFlight.cmd = nil
	stopping := inFlight.stopping
	inFlight.Unlock()
	if stopping {
		common.Exit(1) // ended by the undo step, not a failure of its own: as above
	}
	if err != nil {
		common.Fatalf("%s: %v: %s", strings.Join(cmd.Args, " "), err, lastLines(out.String(), 5))
	}
	return d
}

// stopInFlight ends the program being timed: SIGTERM, for a signal that
// was ours alone (kill, not the terminal's Ctrl-C), and a wait for its end.
func stopInFlight() {
	inFlight.Lock()
	inFlight.stopping = true
	cmd, done := inFlight.cmd, inFlight.done
	inFlight.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(unix.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		common.Warnf("%s (PID %d) did not end (%s)", cmd.Path, cmd.Process.Pid, common.LeftHint)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func msCell(s samples) string { return ms(s.quantile(0.5)) + " / " + ms(s.quantile(0.9)) }
