// Command 08-cgroup is the seed's two cgroup sessions, done by writing the
// cgroup files ourselves, on cgroup v1 or v2 (found at run time):
//
//	sudo go run ./08-cgroup ns [-hold D]        # ns.go: freezer sub1/sub2, unshare -Cm
//	sudo go run ./08-cgroup quota [-percent P] [-seconds S] [-builtin] [-- command [args]]
//	                                            # quota.go: cgcreate, cgset, cgexec stress, top
//	sudo go run ./08-cgroup freeze [-hold D]    # freeze.go: what the freezer is for
//	sudo go run ./08-cgroup memory [-limit SIZE] [-hold D]  # memory.go: OOM kill in the cgroup
//	sudo go run ./08-cgroup pids [-max N] [-hold D]         # pids.go: a fork loop stopped at pids.max
//
// The cgroups go under the one this program runs in, never the root
// (common/group.go). The C counterpart of quota is c/cgroup_stress.c.
package main

import (
	"runtime"
	"strings"

	"nslab/common"
)

func init() {
	// Keep main on the process's main thread: the burner's State in
	// /proc/PID/stat is the main thread's.
	runtime.LockOSThread()
}

func main() {
	common.Dispatch()
	// -h lists each sub-command's usage; a mistake shows the first line only.
	common.SubCommands{
		{"ns", nsMain}, {"quota", quotaMain}, {"freeze", freezeMain},
		{"memory", memoryMain}, {"pids", pidsMain},
	}.Run(strings.Join([]string{
		common.Prog + " ns|quota|freeze|memory|pids [options]   (" + common.Prog + " SUB-COMMAND -h: its options)",
		nsUsage(), quotaUsage(), freezeUsage(), memoryUsage(), pidsUsage()}, "\n  "))
}

// makeGroup is cgcreate: it plans cgroup name for the controllers,
// registers its removal, and creates it (printing each mkdir), or exits
// with one line. The name says whose it is and is unique to the run,
// nslab-08-PID-WHAT (make reset removes what a killed run left: the
// cgroups named nslab-NN-*).
func makeGroup(c *common.CgroupFS, name string, controllers ...string) *common.Group {
	g, err := common.NewGroup(c, name, controllers...)
	if err != nil {
		common.Fatalf("%v", err)
	}
	common.AtExit(g.Remove)
	if err := g.Create(); err != nil {
		common.ErrExit("creating cgroup "+g.Name, err)
	}
	return g
}
