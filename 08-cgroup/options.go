package main

// options.go adds to the seed its command lines: each sub-command's flags,
// checked before anything is created (one line and exit 2 when wrong).

import (
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"time"

	"nslab/common"
)

func nsUsage() string { return common.Prog + " ns [-hold D]" }
func quotaUsage() string {
	return common.Prog + " quota [-percent P] [-seconds S] [-builtin] [-- command [args]]"
}
func freezeUsage() string { return common.Prog + " freeze [-hold D]" }
func memoryUsage() string { return common.Prog + " memory [-limit SIZE] [-hold D]" }
func pidsUsage() string   { return common.Prog + " pids [-max N] [-hold D]" }

// nsOptions is how long ns keeps its processes and cgroups at the end.
func nsOptions(args []string) time.Duration {
	fs := common.NewFlags(nsUsage())
	hold := fs.Hold(0, "the demo (its processes and cgroups)")
	fs.Parse(args)
	return *hold
}

// freezeOptions is how long freeze stays frozen, and runs after the thaw.
func freezeOptions(args []string) time.Duration {
	fs := common.NewFlags(freezeUsage())
	hold := fs.Hold(time.Second, "the cgroup frozen, and then running after the thaw,")
	fs.Parse(args)
	if *hold == 0 { // Hold refuses a negative one
		common.UsageError("", "-hold %v: want a positive duration", *hold)
	}
	return *hold
}

type quotaOpts struct {
	percent, seconds int
	workers          int      // as many as the quota can fill: 150% needs 2
	load             []string // stress -c N, or "burn N", or the user's command
}

func quotaOptions(args []string) quotaOpts {
	fs := common.NewFlags(quotaUsage())
	percent := fs.Int("percent", 30, "CPU quota in percent of one CPU (150 = one and a half CPUs)")
	seconds := fs.Int("seconds", 5, "how long the load runs")
	builtin := fs.Bool("builtin", false, "use the built-in CPU burner even when stress is installed")
	// Everything after "--" is the load's command line.
	var load []string
	i := slices.Index(args, "--")
	if i >= 0 {
		args, load = args[:i], args[i+1:]
	}
	fs.Parse(args)
	maxPercent := 100 * runtime.NumCPU()
	switch {
	case *percent <= 0 || *percent > maxPercent:
		common.UsageError("", "-percent %d: want 1 to %d (100 per CPU, %d CPUs here)", *percent, maxPercent, runtime.NumCPU())
	case *seconds <= 0:
		common.UsageError("", "-seconds %d: want a positive number of seconds", *seconds)
	case *builtin && len(load) > 0:
		common.UsageError("", "-builtin and a command after -- exclude each other")
	case i >= 0 && len(load) == 0:
		common.UsageError("", "no command after --")
	}

	// One worker per CPU the quota can fill: 150% needs two, each of which
	// could use a whole CPU, for the quota to be what holds them back.
	o := quotaOpts{percent: *percent, seconds: *seconds, workers: (*percent + 99) / 100}
	switch {
	case len(load) > 0:
		path, err := exec.LookPath(load[0])
		if err != nil {
			common.Fatalf("%s: command not found", load[0])
		}
		o.load = append([]string{path}, load[1:]...) // a path: never taken for "burn"
	case !*builtin:
		if _, err := exec.LookPath("stress"); err == nil {
			// --timeout: should we be killed with SIGKILL, which leaves no
			// chance to clean up, the workers still stop by themselves.
			o.load = []string{"stress", "-c", strconv.Itoa(o.workers), "--timeout", strconv.Itoa(o.seconds+10) + "s"}
			break
		}
		fmt.Println("stress is not installed (apt-get install stress): using the built-in burner")
		fallthrough
	default:
		o.load = []string{"burn", strconv.Itoa(o.workers)}
	}
	return o
}

// memoryOptions is memory's limit in bytes (given as a size such as 64M)
// and how long to keep the cgroup after the kill. The limit stays small,
// from 8 MiB (the hog's Go runtime needs a few) to 1 GiB, so that nothing
// else suffers.
func memoryOptions(args []string) (limit int64, hold time.Duration) {
	fs := common.NewFlags(memoryUsage())
	size := fs.String("limit", "64M", "memory.max (v1: memory.limit_in_bytes), in bytes or with K, M or G")
	h := fs.Hold(0, "the cgroup, after the kill,")
	fs.Parse(args)
	n, err := common.ParseSize(*size)
	if err != nil || n < 8<<20 || n > 1<<30 {
		common.UsageError("", "-limit %s: want a size from 8M to 1G, such as 64M", *size)
	}
	return n, *h
}

// pidsOptions is pids.max and how long to keep the full cgroup. At least
// 10: on v1 the process placed in the cgroup is this Go program, with its
// threads, until it execs bash (place.go).
func pidsOptions(args []string) (limit int, hold time.Duration) {
	fs := common.NewFlags(pidsUsage())
	n := fs.Int("max", 20, "pids.max: how many tasks (processes and threads) the cgroup may hold")
	h := fs.Hold(0, "the full cgroup")
	fs.Parse(args)
	if *n < 10 || *n > 1000 {
		common.UsageError("", "-max %d: want 10 to 1000", *n)
	}
	return *n, *h
}
