package main

// measure.go adds to the seed's look at top a measurement of the share the
// load got, by the cgroup's own count and by its processes' CPU time, and
// how often the quota held it back (cpu.stat).

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"nslab/common"
)

// usage is the CPU time the group's processes used, by the cgroup's own
// count: v1 cpuacct.usage (ns, in the cpuacct hierarchy), v2 cpu.stat
// usage_usec.
func usage(g *common.Group) (time.Duration, error) {
	if g.CFS.V2 {
		st, err := readKeyed(filepath.Join(g.Dir("cpu"), "cpu.stat"))
		return time.Duration(st["usage_usec"]) * time.Microsecond, err
	}
	n, err := strconv.ParseInt(readTrim(filepath.Join(g.Dir("cpuacct"), "cpuacct.usage")), 10, 64)
	return time.Duration(n), err
}

// throttling is cpu.stat's bandwidth counters: periods with a runnable
// process, periods in which the quota ran out, and the time spent waiting
// (v1 throttled_time in ns, v2 throttled_usec).
func throttling(g *common.Group) (periods, throttled int64, wait time.Duration, err error) {
	st, err := readKeyed(filepath.Join(g.Dir("cpu"), "cpu.stat"))
	wait = time.Duration(st["throttled_time"]) + time.Duration(st["throttled_usec"])*time.Microsecond
	return st["nr_periods"], st["nr_throttled"], wait, err
}

// readTrim is a one-value cgroup file's value, or "?" (which no ParseInt
// takes for a number).
func readTrim(file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// readKeyed parses a flat keyed file such as cpu.stat ("key value" lines).
func readKeyed(file string) (map[string]int64, error) {
	b, err := os.ReadFile(file)
	st := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				st[k] = n
			}
		}
	}
	return st, err
}

// cpuTime is utime+stime of a process (/proc/PID/stat; USER_HZ is 100 on
// every Linux architecture Go supports: sysconf(_SC_CLK_TCK) in C).
func cpuTime(pid int) time.Duration {
	st, _ := common.ReadStat(pid)
	return time.Duration(st.Utime+st.Stime) * time.Second / 100
}

// sample is the CPU time used so far, counted two ways, at a moment.
type sample struct {
	at    time.Time
	group time.Duration // the cgroup's own count
	procs time.Duration // utime+stime of the processes in the cgroup
}

func take(g *common.Group) sample {
	s := sample{at: time.Now()}
	s.group, _ = usage(g)
	for _, pid := range g.Procs() {
		s.procs += cpuTime(pid)
	}
	return s
}

// share is the CPU used between two samples, in percent of one CPU.
func share(used time.Duration, a, b sample) float64 {
	return 100 * used.Seconds() / b.at.Sub(a.at).Seconds()
}

// watch is our top: the load's share once a second while it runs, then
// what it used over the whole run, and how often the quota held it back.
func watch(g *common.Group, child *common.ChildProc, o quotaOpts) {
	cr, nl := "", "\n" // a line a second, into a pipe or a file
	if common.IsTerminal(1) {
		cr, nl = "\r", "" // one line, redrawn
	}
	first := take(g)
	last, early := first, false
	for i := 1; i <= o.seconds && !early; i++ {
		select {
		case <-time.After(time.Until(first.at.Add(time.Duration(i) * time.Second))):
		case <-child.Done():
			child.Wait() // never returns if a signal is stopping us
			early = true
		}
		now := take(g)
		periods, throttled, _, _ := throttling(g)
		used := share(now.group-last.group, last, now)
		fmt.Printf("%s%4.0fs %s %5.1f%%  (throttled in %d of %d periods so far)%s", cr,
			now.at.Sub(first.at).Seconds(), bar(used, o.percent, o.workers), used, throttled, periods, nl)
		last = now
	}
	if early {
		fmt.Printf("\nthe load exited early (%s)\n", child.Cmd.ProcessState)
	}
	if cr != "" {
		fmt.Println() // the redrawn line ends
	}
	periods, throttled, wait, err := throttling(g)
	if err != nil {
		common.ErrExit("reading cpu.stat", err)
	}
	// Where usage and throttling read.
	usageName, waitName := "cpuacct.usage", "throttled_time"
	if g.CFS.V2 {
		usageName, waitName = "cpu.stat usage_usec", "throttled_usec"
	}
	fmt.Printf("measured over %.1f s, quota %d%%:\n", last.at.Sub(first.at).Seconds(), o.percent)
	fmt.Printf("  the cgroup's own count (%s): %5.1f%% of one CPU\n", usageName, share(last.group-first.group, first, last))
	fmt.Printf("  utime+stime of its processes (/proc/PID/stat): %5.1f%%\n", share(last.procs-first.procs, first, last))
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
	if b[mark] == '.' {
		b[mark] = '|'
	}
	return "[" + string(b) + "]"
}
