package main

// ns.go is the seed's cgroup namespace session, in its order:
//
//	mkdir -p /sys/fs/cgroup/freezer/sub2
//	sleep 100000 &
//	echo ${sleep_pid} > /sys/fs/cgroup/freezer/sub2/cgroup.procs
//	mkdir -p /sys/fs/cgroup/freezer/sub1
//	echo ${parent_pid} > /sys/fs/cgroup/freezer/sub1/cgroup.procs
//	cat /proc/1/cgroup | grep freezer              (and the parent's, the sleep's)
//	unshare -Cm /bin/sh
//	cat /proc/1/cgroup | grep freezer              (the same three, from inside)
//
// This program plays the seed's shell (the parent, $$); the child it
// starts plays the shell that unshare runs.
//
//	sudo go run ./08-cgroup ns [-hold D]

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

func init() {
	// The child's half: main re-executes this binary as "childFunc" (see
	// common/reexec.go for why Go cannot just fork and go on).
	common.Register("childFunc", childFunc)
}

func nsMain(args []string) {
	hold := nsOptions(args) // -hold: options.go
	common.RequireRoot("creating cgroups and a cgroup namespace")
	common.RequireNamespaces(unix.CLONE_NEWCGROUP)
	cfs := common.OpenCgroups() // v1 or v2, and where: common/cgroup.go

	// mkdir -p /sys/fs/cgroup/freezer/sub2
	// The seed's freezer hierarchy on v1; v2 has a single one. Ours are
	// named nslab-08-PID-sub2 and -sub1, under the cgroup we run in, made
	// without -p (one already there is not ours), and removed at the end
	// (common/group.go).
	sub2 := makeGroup(cfs, fmt.Sprintf("nslab-08-%d-sub2", os.Getpid()), "freezer")

	// sleep 100000 &
	// StartChild: the sleep is killed when we end, unlike the seed's.
	sleeper, err := common.StartChild(exec.Command("sleep", "100000"))
	if err != nil {
		common.ErrExit("starting sleep", err)
	}
	common.Step("sleep 100000 &", fmt.Sprintf("sleep_pid=%d", sleeper.Pid()))

	// echo ${sleep_pid} > /sys/fs/cgroup/freezer/sub2/cgroup.procs
	sub2.Echo("freezer", "cgroup.procs", strconv.Itoa(sleeper.Pid()), "")

	// mkdir -p /sys/fs/cgroup/freezer/sub1
	sub1 := makeGroup(cfs, fmt.Sprintf("nslab-08-%d-sub1", os.Getpid()), "freezer")

	// export parent_pid=$(echo $$)
	// echo ${parent_pid} > /sys/fs/cgroup/freezer/sub1/cgroup.procs
	// We go back where we were before sub1 is removed: this cleanup runs
	// before sub1's, registered earlier.
	parent := os.Getpid()
	h, _ := cfs.HierarchyFor("freezer") // makeGroup found it: no error
	common.AtExit(func() { moveBack(cfs, h, parent) })
	sub1.Echo("freezer", "cgroup.procs", strconv.Itoa(parent), "parent_pid: this program, the seed's shell")

	// cat /proc/1/cgroup | grep freezer
	// cat /proc/${parent_pid}/cgroup | grep freezer
	// cat /proc/${sleep_pid}/cgroup | grep freezer
	ctls := strings.Join(h.Controllers, ",") // "freezer"; "" on v2: its one 0:: line
	catCgroups(common.Parent, ctls, "1", strconv.Itoa(parent), strconv.Itoa(sleeper.Pid()))

	// tree -L 1 /sys/fs/cgroup/freezer/
	// sub1 and sub2 side by side, in the directory they were made in.
	// (fmt.Sprint: a step in no colour, neither Parent's nor Child's.)
	under := filepath.Dir(sub1.Dir("freezer"))
	entries, err := os.ReadDir(under)
	var ours []string
	for _, e := range entries {
		if e.Name() == sub1.Name || e.Name() == sub2.Name {
			ours = append(ours, e.Name()+"/")
		}
	}
	common.Did(fmt.Sprint, "tree -L 1 "+under+"/", fmt.Sprintf("%s among its %d entries", strings.Join(ours, " and "), len(entries)), err)

	unshareShell(ctls, parent, sleeper.Pid(), hold)
}

// unshareShell starts the child in new cgroup and mount namespaces, prints
// the namespaces of both, and waits for the child.
func unshareShell(ctls string, parent, sleeper int, hold time.Duration) {
	// unshare -Cm /bin/sh
	// In C (nslab's; the seed has only the shell) that would be
	//   clone(childFunc, stack, CLONE_NEWCGROUP | CLONE_NEWNS | SIGCHLD, ...)
	// The child is born in our cgroups, sub1 among them, and a new cgroup
	// namespace takes its creator's cgroups at that moment as its root: in
	// it, sub1 is "/". (-m, a mount namespace, only matters to whoever
	// mounts a cgroup file system in it; we take it as the seed does.)
	common.Step("unshare -Cm /bin/sh", "the child: new cgroup and mount namespaces")
	cmd := common.Command("childFunc", ctls, strconv.Itoa(parent), strconv.Itoa(sleeper), hold.String())
	hs := common.NewHandshake(cmd) // fd 3 and 4: common's handshake
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWCGROUP | unix.CLONE_NEWNS}
	child, err := common.StartChild(cmd)
	if err != nil {
		common.ErrExit("starting the child", err)
	}
	hs.Started()
	// The seed reads inside, in the shell unshare started. Go: wait until
	// the child has read and printed.
	hs.MustBeReady(child, "the child")

	// Not in the seed: which namespaces the two processes are in (cgroup
	// and mnt differ).
	fmt.Println()
	common.PrintNSTable(os.Stdout,
		common.NSColumn{Label: "parent", PID: parent},
		common.NSColumn{Label: "child", PID: child.Pid()})
	hs.Release.Close() // the child may start its -hold

	// The seed's shell stays until exit; ours -hold long. A child killed by
	// a signal (kill PID from another shell) ends the demo early.
	child.Wait()
	if st := cmd.ProcessState; st.ExitCode() > 0 {
		common.Fatalf("the child failed (%s)", st)
	}
}

// childFunc is the shell unshare started, in the new namespaces. args:
// the hierarchy's controllers ("" on v2), the parent's and the sleeper's
// PIDs, and how long to stay.
func childFunc(args []string) int {
	if len(args) != 4 {
		common.Fatalf("childFunc: want CONTROLLERS PARENT SLEEPER HOLD, got %q", args)
	}
	hold, _ := time.ParseDuration(args[3])
	signal.Ignore(os.Interrupt) // the parent ends us in order on Ctrl-C

	// cat /proc/1/cgroup | grep freezer      -> /..        (outside our root)
	// cat /proc/2178/cgroup | grep freezer   -> /          (sub1: our root)
	// cat /proc/2932/cgroup | grep freezer   -> /../sub2   (beside it)
	catCgroups(common.Child, args[0], "1", args[1], args[2])

	common.TellParent() // the parent prints the namespace table
	common.WaitParentClose()
	time.Sleep(hold)
	return 0
}

// catCgroups is `cat /proc/PID/cgroup | grep CONTROLLERS` for each pid: the
// hierarchy's line, as the caller's cgroup namespace shows it (paths are
// relative to its root). v2 has only the 0:: line: no grep.
func catCgroups(colour func(...any) string, ctls string, pids ...string) {
	for _, pid := range pids {
		file := "/proc/" + pid + "/cgroup"
		cmd := "cat " + file
		if ctls != "" {
			cmd += " | grep " + ctls
		}
		b, err := os.ReadFile(file)
		common.Did(colour, cmd, "", err)
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.SplitN(line, ":", 3); len(f) == 3 && f[1] == ctls && (ctls != "" || f[0] == "0") {
				fmt.Println(line)
			}
		}
	}
}

// moveBack puts us back in our own cgroup (not in the seed, whose shell
// stays in sub1), so that sub1 is empty and can be removed.
func moveBack(cfs *common.CgroupFS, h *common.Hierarchy, pid int) {
	file := filepath.Join(cfs.Dir(h, h.Own), "cgroup.procs")
	common.Step(fmt.Sprintf("echo %d > %s", pid, file), "back where we came from, so that sub1 can go")
	if err := common.WriteCgroupFile(file, strconv.Itoa(pid)); err != nil {
		common.Warnf("echo %d > %s: %v (%s)", pid, file, err, common.LeftHint)
	}
}
