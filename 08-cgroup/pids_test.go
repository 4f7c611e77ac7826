package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"nslab/common/nstest"
)

// TestPids (alone: on v2 it switches pids on in subtree_control): bash's
// fork loop fills the cgroup and stops there. While it runs, the test
// samples pids.current and the cgroup's tasks: never more than pids.max.
// Once full, the kernel shows pids.max 12, pids.current 12, pids.events
// max >= 1 (a fork refused), and bash said EAGAIN's message. Ctrl-C then
// kills bash and every sleep, and removes the cgroup.
func TestPids(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.LockCgroups(t)
	v2 := nstest.CgroupV2(t)
	cmd := nstest.Program(t, prog, "pids", "-max", "12", "-hold", "1m")
	s := nstest.Start(t, cmd)
	interruptOnFailure(t, cmd)
	s.Expect(t, `^\+ cgexec `) // after the mkdir and pids.max: bash forks from here
	dir := createdDirs(t, s.Output())[0]
	threadsFile := "tasks"
	if v2 {
		threadsFile = "cgroup.threads"
	}

	// Sample until the program holds the full cgroup.
	var mu sync.Mutex
	most, seen := 0, map[int]bool{}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			if b, err := os.ReadFile(filepath.Join(dir, "pids.current")); err == nil {
				n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				b, _ = os.ReadFile(filepath.Join(dir, threadsFile))
				mu.Lock()
				most = max(most, n, len(strings.Fields(string(b))))
				b, _ = os.ReadFile(filepath.Join(dir, "cgroup.procs"))
				for _, f := range strings.Fields(string(b)) {
					pid, _ := strconv.Atoi(f)
					seen[pid] = true
				}
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	m := s.Expect(t, `^bash: fork: .*$`)
	s.Expect(t, `^holding the cgroup`)
	close(stop)
	<-stopped
	if !strings.Contains(m[0], "Resource temporarily unavailable") {
		t.Errorf("bash said %q, want strerror(EAGAIN): Resource temporarily unavailable", m[0])
	}
	if got := nstest.ReadTrim(t, filepath.Join(dir, "pids.max")); got != "12" {
		t.Errorf("pids.max = %s, want 12", got)
	}
	if got := nstest.ReadTrim(t, filepath.Join(dir, "pids.current")); got != "12" {
		t.Errorf("pids.current = %s with the loop stopped, want 12: the cgroup full", got)
	}
	if n := keyed(t, filepath.Join(dir, "pids.events"), "max"); n < 1 {
		t.Errorf("pids.events: max %d, want a fork refused", n)
	}
	if most > 12 {
		t.Errorf("saw %d tasks in the cgroup, pids.max 12", most)
	}
	t.Logf("at most %d tasks seen; %d processes in all", most, len(seen))

	interruptEnds(t, cmd, s)
	for pid := range seen {
		nstest.WaitGone(t, pid)
	}
	noLeftovers(t, cmd.Process.Pid)

	// Without -hold: the same to the end.
	runsToEnd(t, "pids", "-max", "10")
}
