package main

// ns: the seed's cgroup namespace demo.
//
//	mkdir -p /sys/fs/cgroup/freezer/sub1 /sys/fs/cgroup/freezer/sub2
//	sleep 100000 &  echo $! > /sys/fs/cgroup/freezer/sub2/cgroup.procs
//	echo $$ > /sys/fs/cgroup/freezer/sub1/cgroup.procs
//	unshare -Cm /bin/sh
//	cat /proc/self/cgroup /proc/<sleep>/cgroup      # / and /../sub2
//
// Here the child plays the shell: it is moved into sub1, then unshares its
// cgroup namespace, whose root is therefore sub1, and reads the four
// processes' /proc/PID/cgroup; we read the same files from the host's
// namespace.

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

func init() {
	common.Register("childFunc", childFunc)
}

func nsUsage() string { return common.Prog + " ns [-hold D]" }

func nsMain(args []string) {
	fs := common.NewFlagSet()
	hold := fs.Duration("hold", 0, "keep the processes and cgroups this long, to look at them from another shell (nsenter --cgroup -t PID)")
	common.ParseFlags(fs, nsUsage(), args)
	if *hold < 0 {
		common.UsageError("", "-hold %v: want a duration of 0 or more", *hold)
	}
	common.RequireRoot("creating cgroups and a cgroup namespace")
	common.RequireNamespaces(unix.CLONE_NEWCGROUP)
	cfs := openCgroups()

	// The seed uses the v1 freezer hierarchy; v2 has only one.
	sub1 := makeGroup(cfs, "sub1", "freezer")
	sub2 := makeGroup(cfs, "sub2", "freezer")
	ctls := strings.Join(sub1.parts[0].h.controllers, ",") // "" on v2: the 0:: line

	// sleep 100000 &, in sub2. Being there from the start doesn't matter
	// for a sleeper; startIn is simply how this program starts processes
	// in a cgroup.
	sleeper, _, err := startIn(sub2, []string{"sleep", "infinity"}, placeAuto)
	if err != nil {
		common.ErrExit("starting sleep in "+sub2.dirs[0], err)
	}

	// The child must be in sub1 *when it unshares*: a new cgroup namespace
	// takes the cgroups its creator is in at that moment as its root. So:
	// start it, move it, release it (the handshake of place.go), and it
	// unshares first thing.
	hs := common.NewHandshake()
	cmd := common.Command("childFunc", ctls, strconv.Itoa(os.Getpid()), strconv.Itoa(sleeper.Pid()), hold.String())
	cmd.ExtraFiles = hs.ChildFiles()
	child, err := common.StartChild(cmd)
	if err != nil {
		common.ErrExit("starting the child", err)
	}
	hs.Started()
	if err := sub1.add(child.Pid()); err != nil {
		common.ErrExit("moving the child into sub1", err)
	}
	fmt.Printf("sleeper (pid %d) in %s, child (pid %d) in %s\n\n", sleeper.Pid(), sub2.name, child.Pid(), sub1.name)
	if _, err := hs.Release.Write([]byte{1}); err != nil {
		common.ErrExit("releasing the child", err)
	}
	if !hs.WaitReady() {
		child.Wait()
		common.Fatalf("the child failed before it was ready (%s)", cmd.ProcessState)
	}

	// The same four files, read from the host's cgroup namespace.
	fmt.Printf("%s, in the host's cgroup namespace, reads /proc/PID/cgroup:\n", common.Parent(fmt.Sprintf("parent (pid %d)", os.Getpid())))
	printViews(ctls, os.Getpid(), child.Pid(), sleeper.Pid())
	fmt.Println()
	common.PrintNSTable(os.Stdout,
		common.NSColumn{Label: "parent", PID: os.Getpid()},
		common.NSColumn{Label: "child", PID: child.Pid()})
	hs.Release.Close() // the child may start its -hold

	child.Wait()
	if st := child.Cmd.ProcessState; st.ExitCode() > 0 {
		common.Fatalf("the child failed (%s)", st)
	}
}

// printViews prints the hierarchy's line of /proc/PID/cgroup for the four
// processes, as the calling process sees them.
func printViews(ctls string, parent, child, sleeper int) {
	for _, p := range []struct {
		name string
		pid  int
	}{{"init", 1}, {"parent", parent}, {"child", child}, {"sleeper", sleeper}} {
		fmt.Printf("  %-8s %7d  %s\n", p.name, p.pid, cgroupLine(p.pid, ctls))
	}
}

// childFunc runs in sub1. args: the hierarchy's controllers ("" on v2),
// the parent's and the sleeper's PIDs, and how long to stay.
func childFunc(args []string) int {
	if len(args) != 4 {
		common.Fatalf("childFunc: want CONTROLLERS PARENT SLEEPER HOLD, got %q", args)
	}
	parent, _ := strconv.Atoi(args[1])
	sleeper, _ := strconv.Atoi(args[2])
	hold, err := time.ParseDuration(args[3])
	if err != nil {
		common.Fatalf("childFunc: %v", err)
	}
	signal.Ignore(os.Interrupt) // the parent ends us in order on Ctrl-C
	ready := os.NewFile(common.ReadyFD, "ready")
	release := os.NewFile(common.ReleaseFD, "release")
	if n, _ := release.Read(make([]byte, 1)); n != 1 {
		return 1 // the parent is gone
	}

	// unshare -C. It changes the calling thread only: main.go's init keeps
	// us on the main thread, the one /proc/PID/ns/cgroup shows.
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		common.ErrExit("unshare(CLONE_NEWCGROUP)", err)
	}
	fmt.Printf("%s, in its new cgroup namespace, reads /proc/PID/cgroup:\n", common.Child(fmt.Sprintf("child (pid %d)", os.Getpid())))
	printViews(args[0], parent, os.Getpid(), sleeper)
	fmt.Println()
	if _, err := ready.Write([]byte{1}); err != nil {
		common.ErrExit("write to parent", err)
	}
	ready.Close()
	io.Copy(io.Discard, release) // until the parent has printed its view
	time.Sleep(hold)
	return 0
}
