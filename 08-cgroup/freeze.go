package main

// freeze.go adds to the seed what its freezer hierarchy is for: stopping
// every process of a cgroup at once and letting it go on later, as docker
// pause/unpause does. v1 writes FROZEN or THAWED to freezer.state; v2
// writes 1 or 0 to cgroup.freeze (in every cgroup but the root) and says
// in cgroup.events when the freeze is complete.
//
//	sudo go run ./08-cgroup freeze [-hold D]

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"nslab/common"
)

func freezeMain(args []string) {
	hold := freezeOptions(args) // options.go
	common.RequireRoot("creating cgroups")
	g := makeGroup(common.OpenCgroups(), fmt.Sprintf("nslab-08-%d-freeze", os.Getpid()), "freezer")

	burner, _ := startIn(g, command([]string{"burn", "1"}), "the burner")
	pid := burner.Pid()
	fmt.Printf("burner (pid %d) spins in the cgroup\n", pid)
	// Let it get going: a process just exec'd is still setting up.
	for cpuTime(pid) < 50*time.Millisecond {
		time.Sleep(10 * time.Millisecond)
	}
	show := func(when string) time.Duration {
		st, _ := common.ReadStat(pid)
		t := cpuTime(pid)
		fmt.Printf("%-8s State: %c  CPU time %.2f s\n", when+":", st.State, t.Seconds())
		return t
	}
	show("running")

	// What to write to freeze and then thaw, and what says it is done.
	file, values, check, wants := "freezer.state", []string{"FROZEN", "THAWED"}, "freezer.state", []string{"FROZEN", "THAWED"}
	if g.CFS.V2 {
		file, values, check, wants = "cgroup.freeze", []string{"1", "0"}, "cgroup.events", []string{"frozen 1", "frozen 0"}
	}
	for i, when := range []string{"frozen", "thawed"} {
		g.Echo("freezer", file, values[i], "")
		fmt.Println(waitFor(filepath.Join(g.Dir("freezer"), check), wants[i]))
		before := show(when)
		time.Sleep(hold)
		after := show(when)
		fmt.Printf("  %.2f s of CPU in %v %s\n", (after - before).Seconds(), hold, when)
	}
	// Returning is common.Exit(0) (main.go's SubCommands): the cleanups
	// kill the burner and remove the cgroup.
}

// waitFor waits until a line of file is want (v1 freezer.state goes
// FREEZING -> FROZEN; v2 cgroup.events says "frozen 1"), and returns
// "FILE: LINE"; or exits after 5 s.
func waitFor(file, want string) string {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(file)
		if err != nil {
			common.ErrExit("cat "+file, err)
		}
		if slices.Contains(strings.Split(string(b), "\n"), want) {
			return filepath.Base(file) + ": " + want
		}
		if time.Now().After(deadline) {
			common.Fatalf("%s still says %q after 5 s", file, strings.TrimSpace(string(b)))
		}
	}
}
