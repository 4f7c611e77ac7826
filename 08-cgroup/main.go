// Command 08-cgroup shows cgroups, v1 and v2, by writing their files:
//
//	sudo go run ./08-cgroup ns [-hold D]
//	sudo go run ./08-cgroup quota [-percent P] [-seconds S] [-builtin] [-- command [args]]
//	sudo go run ./08-cgroup freeze [-hold D]
//
// ns is the seed's cgroup namespace demo (two cgroups, sub1 and sub2, and
// /proc/PID/cgroup read from inside and outside a new cgroup namespace);
// quota is its cgcreate/cgset/cgexec stress run, measured; freeze stops and
// resumes a process with the freezer. Whether the machine runs cgroup v1 or
// v2 is found at run time (cgroupfs.go holds every difference), and the
// cgroups go under the one this program runs in, never the root.
//
// The C counterpart of quota is c/cgroup_quota.c.
package main

import (
	"fmt"
	"os"
	"runtime"

	"nslab/common"
)

func init() {
	// Keep main on the process's main thread: the ns child's unshare
	// changes the calling thread only, and /proc/PID shows the main
	// thread (its namespaces, and the burner's State).
	runtime.LockOSThread()
}

func usageLine() string {
	return common.Prog + " ns|quota|freeze [options]   (" + common.Prog + " SUB-COMMAND -h: its options)"
}

func usage() {
	fmt.Printf("usage: %s\n", usageLine())
	fmt.Printf("  %s\n  %s\n  %s\n", nsUsage(), quotaUsage(), freezeUsage())
}

func main() {
	common.Dispatch()

	if len(os.Args) < 2 {
		common.UsageError(usageLine(), "missing sub-command")
	}
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "ns":
		nsMain(args)
	case "quota":
		quotaMain(args)
	case "freeze":
		freezeMain(args)
	case "-h", "-help", "--help", "help":
		usage()
	default:
		common.UsageError(usageLine(), "unknown sub-command %q", cmd)
	}
	common.Exit(0)
}

// openCgroups finds out how this machine's cgroups are laid out, or exits
// with one line.
func openCgroups() *cgroupFS {
	v2, err := isV2("/")
	if err != nil {
		common.ErrExitHint("statfs "+cgroupMount, err, "no cgroup file system there: mount one, or boot with systemd")
	}
	cfs, err := newCgroupFS("/", v2)
	if err != nil {
		common.ErrExit("reading /proc/self/cgroup and mountinfo", err)
	}
	return cfs
}

// makeGroup plans cgroup nslab-08-PID-WHAT for the controllers, says where
// it goes, and creates it, its removal registered first. Any failure is
// one line and exit 1.
func makeGroup(cfs *cgroupFS, what string, controllers ...string) *group {
	g, err := cfs.newGroup(fmt.Sprintf("nslab-08-%d-%s", os.Getpid(), what), controllers...)
	if err != nil {
		common.Fatalf("%v", err)
	}
	g.say = func(format string, args ...any) { fmt.Printf(format, args...) }
	if !described {
		for _, line := range g.describe() {
			fmt.Println(line)
		}
		described = true
	}
	common.AtExit(g.remove)
	if err := g.create(); err != nil {
		common.ErrExit("creating cgroup "+g.name, err)
	}
	return g
}

var described bool
