package main

// quota: the seed's
//
//	cgcreate -g cpu:mycgroup
//	cgset -r cpu.cfs_quota_us=30000 mycgroup
//	cgexec -g cpu:mycgroup stress -c 1 &
//	top        # stress at 30.0 %CPU
//
// by writing the cgroup files ourselves, and measuring the share instead of
// reading it off top.

import (
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"nslab/common"
)

func quotaUsage() string {
	return common.Prog + " quota [-percent P] [-seconds S] [-builtin] [-place auto|clone3|handshake] [-- command [args]]"
}

func quotaMain(args []string) {
	fs := common.NewFlagSet()
	percent := fs.Int("percent", 30, "CPU quota in percent of one CPU (150 = one and a half CPUs)")
	seconds := fs.Int("seconds", 5, "how long the load runs")
	builtin := fs.Bool("builtin", false, "use the built-in CPU burner even when stress is installed")
	place := fs.String("place", placeAuto, "how the load gets into the cgroup before it runs: auto, clone3 (v2) or handshake")
	// Everything after "--" is the load's command line.
	var load []string
	i := slices.Index(args, "--")
	dashdash := i >= 0
	if dashdash {
		args, load = args[:i], args[i+1:]
	}
	common.ParseFlags(fs, quotaUsage(), args)
	maxPercent := 100 * runtime.NumCPU()
	switch {
	case *percent <= 0 || *percent > maxPercent:
		common.UsageError("", "-percent %d: want 1 to %d (100 per CPU, %d CPUs here)", *percent, maxPercent, runtime.NumCPU())
	case *seconds <= 0:
		common.UsageError("", "-seconds %d: want a positive number of seconds", *seconds)
	case *place != placeAuto && *place != placeClone3 && *place != placeHandshake:
		common.UsageError("", "-place %q: want auto, clone3 or handshake", *place)
	case *builtin && len(load) > 0:
		common.UsageError("", "-builtin and a command after -- exclude each other")
	case dashdash && len(load) == 0:
		common.UsageError("", "no command after --")
	}

	// One worker per CPU the quota can fill: 150% needs two, each of which
	// could use a whole CPU, for the quota to be what holds them back.
	workers := (*percent + 99) / 100
	switch {
	case len(load) > 0:
		path, err := exec.LookPath(load[0])
		if err != nil {
			common.Fatalf("%s: command not found", load[0])
		}
		load[0] = path // a path: never taken for the built-in "burn"
	case !*builtin:
		if _, err := exec.LookPath("stress"); err == nil {
			// --timeout: should we be killed with SIGKILL, which leaves no
			// chance to clean up, the workers still stop by themselves.
			load = []string{"stress", "-c", strconv.Itoa(workers), "--timeout", strconv.Itoa(*seconds+10) + "s"}
			break
		}
		fmt.Println("stress is not installed (apt-get install stress): using the built-in burner")
		fallthrough
	default:
		load = []string{"burn", strconv.Itoa(workers)}
	}

	common.RequireRoot("creating cgroups")
	cfs := openCgroups()
	if *place == placeClone3 && !cfs.v2 {
		common.UsageError("", "-place clone3 needs cgroup v2 (CLONE_INTO_CGROUP takes a v2 cgroup)")
	}
	// cgcreate -g cpu:NAME (and cpuacct, which counts the time used).
	g := makeGroup(cfs, "quota", "cpu", "cpuacct")

	// cgset -r cpu.cfs_quota_us=...
	set, err := g.setQuota(*percent)
	if err != nil {
		common.ErrExit("setting the quota", err)
	}
	fmt.Printf("%s: at most %d%% of one CPU\n", set, *percent)

	// cgexec -g cpu:NAME stress -c 1
	child, how, err := startIn(g, load, *place)
	if err != nil {
		common.ErrExitHint("starting "+load[0]+" in the cgroup", err, "")
	}
	name := strings.Join(load, " ")
	if load[0] == "burn" {
		name = fmt.Sprintf("built-in burner, %d thread(s)", workers)
	}
	fmt.Printf("load: %s (pid %d), placed in the cgroup before it ran (%s)\n", name, child.Pid(), how)

	watch(g, child, *seconds, *percent, workers)
	common.Exit(0) // the cleanups kill the load and remove the cgroup
}

// sample is the CPU time used so far, counted two ways, at a moment.
type sample struct {
	at    time.Time
	group time.Duration // the cgroup's own count
	procs time.Duration // utime+stime of the processes in the cgroup
}

func take(g *group) sample {
	s := sample{at: time.Now()}
	s.group, _ = g.usage()
	for _, pid := range g.procs() {
		t, _ := cpuTime(pid)
		s.procs += t
	}
	return s
}

// share is the CPU used between two samples, in percent of one CPU.
func share(used time.Duration, a, b sample) float64 {
	return 100 * used.Seconds() / b.at.Sub(a.at).Seconds()
}

// watch shows the load's share once a second while it runs, then what it
// used over the whole run, and how often the quota held it back.
func watch(g *group, child *common.ChildProc, seconds, percent, workers int) {
	tty := common.IsTerminal(1)
	first := take(g)
	prev := first
	for i := 1; i <= seconds; i++ {
		early := false
		select {
		case <-time.After(time.Until(first.at.Add(time.Duration(i) * time.Second))):
		case <-child.Done():
			child.Wait() // never returns if a signal is stopping us
			early = true
		}
		now := take(g)
		periods, throttled, _, _ := g.throttling()
		used := share(now.group-prev.group, prev, now)
		line := fmt.Sprintf("%4.0fs %s %5.1f%%  (throttled in %d of %d periods so far)",
			now.at.Sub(first.at).Seconds(), bar(used, percent, workers), used, throttled, periods)
		if tty {
			fmt.Printf("\r%s", line) // one line, redrawn
		} else {
			fmt.Println(line)
		}
		prev = now
		if early {
			fmt.Printf("\nthe load exited early (%s)\n", child.Cmd.ProcessState)
			break
		}
	}
	if tty {
		fmt.Println()
	}
	last := prev
	periods, throttled, wait, err := g.throttling()
	if err != nil {
		common.ErrExit("reading cpu.stat", err)
	}
	fmt.Printf("measured over %.1f s, quota %d%%:\n", last.at.Sub(first.at).Seconds(), percent)
	fmt.Printf("  the cgroup's own count (%s): %5.1f%% of one CPU\n", g.usageFile(), share(last.group-first.group, first, last))
	fmt.Printf("  utime+stime of its processes (/proc/PID/stat): %5.1f%%\n", share(last.procs-first.procs, first, last))
	waitName := "throttled_time"
	if g.cfs.v2 {
		waitName = "throttled_usec"
	}
	fmt.Printf("  cpu.stat: nr_periods %d, nr_throttled %d, %s %.2f s\n", periods, throttled, waitName, wait.Seconds())
}

// bar draws used (percent of one CPU) on a scale of what the workers could
// use unthrottled, with the quota marked by '|'.
func bar(used float64, percent, workers int) string {
	const width = 40
	full := float64(100 * workers)
	n := min(width, max(0, int(used/full*width+0.5)))
	mark := min(width-1, int(float64(percent)/full*width+0.5))
	b := []byte(strings.Repeat("#", n) + strings.Repeat(".", width-n))
	if mark < width && b[mark] == '.' {
		b[mark] = '|'
	}
	return "[" + string(b) + "]"
}
