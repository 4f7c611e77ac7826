package main

// freeze: stop every process of a cgroup at once and let it go on later,
// as docker pause/unpause does. v1 writes FROZEN or THAWED to
// freezer.state (in the freezer hierarchy); v2 writes 1 or 0 to
// cgroup.freeze (in every cgroup but the root) and says in cgroup.events
// when the freeze is complete.

import (
	"fmt"
	"time"

	"nslab/common"
)

func freezeUsage() string { return common.Prog + " freeze [-hold D]" }

func freezeMain(args []string) {
	fs := common.NewFlagSet()
	hold := fs.Duration("hold", time.Second, "how long to stay frozen, and to run after the thaw")
	common.ParseFlags(fs, freezeUsage(), args)
	if *hold <= 0 {
		common.UsageError("", "-hold %v: want a positive duration", *hold)
	}
	common.RequireRoot("creating cgroups")
	cfs := openCgroups()
	g := makeGroup(cfs, "freeze", "freezer")

	burner, _, err := startIn(g, []string{"burn", "1"}, placeAuto)
	if err != nil {
		common.ErrExit("starting the burner", err)
	}
	pid := burner.Pid()
	fmt.Printf("burner (pid %d) spins in the cgroup\n", pid)
	// Let it get going: a process just exec'd is still setting up.
	for t, _ := cpuTime(pid); t < 50*time.Millisecond; t, _ = cpuTime(pid) {
		time.Sleep(10 * time.Millisecond)
	}
	show := func(when string) time.Duration {
		t, _ := cpuTime(pid)
		fmt.Printf("%-8s State: %-16s CPU time %.2f s\n", when, procState(pid), t.Seconds())
		return t
	}
	show("running:")

	fmt.Println(g.freezeCommand(true))
	said, err := g.freeze(true)
	if err != nil {
		common.ErrExit("freezing", err)
	}
	fmt.Println(said)
	before := show("frozen:")
	time.Sleep(*hold)
	after := show("frozen:")
	fmt.Printf("  %.2f s of CPU in %v frozen\n", (after - before).Seconds(), *hold)

	fmt.Println(g.freezeCommand(false))
	said, err = g.freeze(false)
	if err != nil {
		common.ErrExit("thawing", err)
	}
	fmt.Println(said)
	before = show("thawed:")
	time.Sleep(*hold)
	after = show("thawed:")
	fmt.Printf("  %.2f s of CPU in %v thawed\n", (after - before).Seconds(), *hold)
	common.Exit(0)
}
