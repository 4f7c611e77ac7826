package main

// quota.go is the seed's CPU quota session, in its order:
//
//	cgcreate -a root -g cpu:mycgroup
//	ls -al /sys/fs/cgroup/cpu,cpuacct/ | grep mycgroup
//	cgset -r cpu.cfs_quota_us=30000 mycgroup
//	cgexec -g cpu:mycgroup stress -c 1 &
//	top        # stress at 30.0 %CPU
//
// done by writing the cgroup files ourselves, the way those libcgroup
// tools do. (The seed first builds a chroot with bash, stress and the
// tools in it, and mounts cgroup hierarchies there; on a normal host they
// are mounted already, and nothing needs copying.)
//
//	sudo go run ./08-cgroup quota [-percent 30] [-seconds 5] [-builtin] [-- command args]

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"nslab/common"
)

func quotaMain(args []string) {
	o := quotaOptions(args) // -percent, -seconds and the load: options.go
	common.RequireRoot("creating cgroups")

	// mount | grep -E "cgroup*.cpu"
	// Which cgroup version runs here, and where each hierarchy is mounted:
	// v1 has one per controller (or per group of them: cpu,cpuacct), v2
	// one for all. common/cgroup.go reads /proc/self/mountinfo.
	cfs := common.OpenCgroups()

	// cgcreate -a root -g cpu:mycgroup
	// mkdir in the cpu hierarchy, and in cpuacct's if it is a separate one
	// (cpuacct counts the CPU time used). Ours is nslab-08-PID-quota, under
	// the cgroup we run in, removed at the end (common/group.go). On v2,
	// cpu must be switched on in the parents' cgroup.subtree_control first.
	g := makeGroup(cfs, fmt.Sprintf("nslab-08-%d-quota", os.Getpid()), "cpu", "cpuacct")

	// ls -al /sys/fs/cgroup/cpu,cpuacct/ | grep mycgroup
	// The new directory, and the files the kernel put in it with the mkdir.
	// (fmt.Sprint: a step in no colour, as common.Step prints.)
	files, err := os.ReadDir(g.Dir("cpu"))
	common.Did(fmt.Sprint, fmt.Sprintf("ls -al %s/ | grep %s", filepath.Dir(g.Dir("cpu")), g.Name),
		fmt.Sprintf("a directory, with %d files the kernel made in it", len(files)), err)

	// # cat /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us
	// The period, 100000 µs (100 ms) unless changed: CPU use (%) =
	// quota / period * 100. v2 keeps it as cpu.max's second number.
	period := readPeriod(g, cfs.V2)

	// cgset -r cpu.cfs_quota_us=30000 mycgroup
	// v1: cpu.cfs_quota_us, µs of CPU per period of cpu.cfs_period_us.
	// v2: cpu.max holds both, "QUOTA PERIOD": "30000 100000".
	quota := o.percent * period / 100
	why := fmt.Sprintf("%d µs of CPU every %d µs: %d%% of one CPU", quota, period, o.percent)
	if cfs.V2 {
		g.Echo("cpu", "cpu.max", fmt.Sprintf("%d %d", quota, period), why)
	} else {
		g.Echo("cpu", "cpu.cfs_quota_us", strconv.Itoa(quota), why)
	}

	// cgexec -g cpu:mycgroup stress -c 1 &
	// The load is in the cgroup before it runs a single instruction: on
	// v2 the kernel starts it there (clone3); on v1 we move it, then let
	// it exec (place.go: cgexec moves itself, Go cannot). stress -c N for
	// a quota of more than one CPU (options.go).
	ctls := "cpu"
	if len(g.Dirs()) > 1 {
		ctls = "cpu,cpuacct" // v1 with two hierarchies: the process goes in both
	}
	child := cgexec(g, ctls, command(o.load), o.load[0], strings.Join(o.load, " "))

	// top      -> stress at 30.0 %CPU
	// Instead of top, we measure the share the cgroup got, once a second
	// and over the whole run, two ways, and how often the quota held the
	// load back (measure.go).
	watch(g, child, o)

	// The seed leaves stress running. We return, and SubCommands (main.go)
	// calls common.Exit(0): our cleanups kill every process in the cgroup
	// and remove it (rmdir).
}

// readPeriod reads the group's CPU period in µs, printing the cat.
func readPeriod(g *common.Group, v2 bool) int {
	file, field := filepath.Join(g.Dir("cpu"), "cpu.cfs_period_us"), 0
	if v2 {
		file, field = filepath.Join(g.Dir("cpu"), "cpu.max"), 1 // "max 100000"
	}
	b, err := os.ReadFile(file)
	if err != nil {
		common.ErrExit("reading "+file, err)
	}
	period := 0
	if f := strings.Fields(string(b)); len(f) > field {
		period, _ = strconv.Atoi(f[field])
	}
	if period <= 0 {
		common.Fatalf("reading %s: %q: not a period", file, b)
	}
	common.Step("cat "+file, fmt.Sprintf("%s: a period of %d µs", strings.TrimSpace(string(b)), period))
	return period
}
