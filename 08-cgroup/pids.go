package main

// pids.go adds to the seed a limit on the number of tasks: a fork loop in
// the cgroup stops at pids.max, where fork fails with EAGAIN, while the
// host goes on starting processes.
//
//	sudo go run ./08-cgroup pids [-max 20] [-hold D]

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"nslab/common"
)

// loop is the fork loop: bash, not a Go program, because pids.max counts
// tasks, that is threads, and a Go program has several (the runtime's);
// one that cannot make a thread when it needs one dies ("runtime: failed
// to create new OS thread"). bash has one thread, and when fork fails with
// EAGAIN it says "fork: retry: Resource temporarily unavailable", which is
// strerror(EAGAIN), and retries after 1, 2, 4 and 8 s.
const loop = "while :; do sleep 30 & done"

func pidsMain(args []string) {
	limit, hold := pidsOptions(args) // -max, -hold: options.go
	common.RequireRoot("creating cgroups")
	g := makeGroup(common.OpenCgroups(), fmt.Sprintf("nslab-08-%d-pids", os.Getpid()), "pids")
	g.Echo("pids", "pids.max", strconv.Itoa(limit), fmt.Sprintf("at most %d tasks: processes, and each of their threads", limit))

	// The loop's errors come to us through a pipe: we show its first line
	// once the kernel has refused a fork.
	r, w, err := os.Pipe()
	if err != nil {
		common.ErrExit("pipe", err)
	}
	cmd := command([]string{"bash", "-c", loop})
	cmd.Stderr = w
	child := cgexec(g, "pids", cmd, "bash", "bash -c '"+loop+"'")
	w.Close()
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(r).ReadString('\n')
	switch {
	case os.IsTimeout(err):
		common.Fatalf("bash's fork loop still runs after 10 s: pids.max did not stop it")
	case line == "": // EOF: bash ended without a word
		child.Wait()
		common.Fatalf("bash ended (%s) before the limit stopped it", child.Cmd.ProcessState)
	}
	fmt.Println(strings.TrimSpace(line))

	// What the kernel shows: the cgroup is full, and counted the refusal.
	dir := g.Dir("pids")
	ev, _ := readKeyed(filepath.Join(dir, "pids.events"))
	fmt.Printf("pids.current: %s (pids.max %d)\n", readTrim(filepath.Join(dir, "pids.current")), limit)
	fmt.Printf("pids.events: max %d (forks refused so far)\n", ev["max"])
	// Tasks are threads: v1 lists them in tasks, v2 in cgroup.threads.
	threads := "tasks"
	if g.CFS.V2 {
		threads = "cgroup.threads"
	}
	fmt.Printf("cgroup.procs: %d processes (bash and its sleeps); %s: %d\n", len(g.Procs()), threads,
		len(strings.Fields(readTrim(filepath.Join(dir, threads)))))

	// The host goes on: outside the cgroup, we still start processes.
	// (StartChild: a Ctrl-C meanwhile kills and reaps it before we exit.)
	t, err := common.StartChild(exec.Command("true"))
	if err == nil {
		err = t.Wait()
	}
	if err != nil {
		common.ErrExit("true, outside the cgroup", err)
	}
	self, _ := common.ReadStat(0)
	fmt.Printf("host: this program (pid %d, %d threads, outside the cgroup) started true: exit 0\n", os.Getpid(), self.Threads)
	holdCgroup(hold) // memory.go; then the cleanups kill bash and its sleeps
}
