package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"nslab/common"
	"nslab/common/nstest"
	"nslab/common/nstest/cgfake"
)

// keyed is one "key value" line of a cgroup file or /proc/vmstat.
func keyed(t *testing.T, file, key string) int64 {
	t.Helper()
	for _, line := range strings.Split(nstest.ReadTrim(t, file), "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("%s has no %s line", file, key)
	return 0
}

// TestMemory (alone: it makes the machine's OOM killer act, and on v2 it
// switches memory on in subtree_control): a hog that touches more than
// the limit is killed by the OOM killer, in its cgroup only. The kernel
// shows, while the cgroup is held: the limit in memory.limit_in_bytes or
// memory.max, no swap, oom_kill 1 in memory.oom_control or memory.events,
// a peak no higher than the limit, an empty cgroup.procs, the hog gone,
// the machine's /proc/vmstat oom_kill grown by exactly that one kill, and
// the program, outside the cgroup, alive. Ctrl-C then removes the cgroup.
func TestMemory(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.LockCgroups(t)
	v2 := nstest.CgroupV2(t)
	hostBefore := keyed(t, "/proc/vmstat", "oom_kill")
	cmd := nstest.Program(t, prog, "memory", "-limit", "32M", "-hold", "1m")
	s := nstest.Start(t, cmd)
	interruptOnFailure(t, cmd)
	m := s.Expect(t, `^hog \(pid (\d+)\): (.*)$`)
	hogPid, _ := strconv.Atoi(m[1])
	if m[2] != "signal: killed" {
		t.Errorf("the hog's wait status: %q, want signal: killed", m[2])
	}
	s.Expect(t, `^holding the cgroup`)
	dir := createdDirs(t, s.Output())[0]
	nstest.WaitGone(t, hogPid)

	limit, events, peak := "memory.limit_in_bytes", "memory.oom_control", "memory.max_usage_in_bytes"
	if v2 {
		limit, events, peak = "memory.max", "memory.events", "memory.peak"
	}
	if got := nstest.ReadTrim(t, filepath.Join(dir, limit)); got != "33554432" {
		t.Errorf("%s = %s, want 33554432 (32 MiB)", limit, got)
	}
	for _, swap := range []string{"memory.swap.max", "memory.memsw.limit_in_bytes"} {
		if b, err := os.ReadFile(filepath.Join(dir, swap)); err == nil {
			if got := strings.TrimSpace(string(b)); got != "0" && got != "33554432" {
				t.Errorf("%s = %s: swap beyond the limit", swap, got)
			}
		}
	}
	kills := keyed(t, filepath.Join(dir, events), "oom_kill")
	if kills != 1 {
		t.Errorf("%s: oom_kill %d, want 1", events, kills)
	}
	if b, err := os.ReadFile(filepath.Join(dir, peak)); err == nil {
		n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		// A page or so over the limit happens: the kernel charges some
		// memory (kernel allocations that must not fail) without the limit
		// check, and the peak counts it. Seen: 32 MiB + 4 KiB on v1.
		if n > 33<<20 || n < 24<<20 {
			t.Errorf("%s = %d, want the 32 MiB limit reached, and not passed by more than a little", peak, n)
		}
	}
	if procs := procsOf(t, dir); len(procs) != 0 {
		t.Errorf("%s/cgroup.procs after the kill: %v", dir, procs)
	}
	if got := keyed(t, "/proc/vmstat", "oom_kill") - hostBefore; got != kills {
		t.Errorf("/proc/vmstat oom_kill grew by %d, the cgroup counted %d: a kill outside it", got, kills)
	}
	if !nstest.Alive(cmd.Process.Pid) {
		t.Errorf("the program (pid %d), outside the cgroup, is gone", cmd.Process.Pid)
	} else if p := cgPath(nstest.ReadTrim(t, fmt.Sprintf("/proc/%d/cgroup", cmd.Process.Pid)), v2, "memory"); filepath.Base(p) == filepath.Base(dir) {
		t.Errorf("the program is in the hog's cgroup %s", p)
	}

	interruptEnds(t, cmd, s)
	noLeftovers(t, cmd.Process.Pid)

	// Without -hold: the same to the end.
	runsToEnd(t, "memory", "-limit", "16M")
}

// What memory prints from each version's files, on fake trees: the OOM
// kill counter and the peak, read from the kernel's formats.
func TestMemoryFiles(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		files := map[string]string{
			"proc/self/mountinfo":                                cgfake.V1Separate,
			"proc/self/cgroup":                                   "4:memory:/\n",
			"sys/fs/cgroup/memory/g/memory.oom_control":          "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
			"sys/fs/cgroup/memory/g/memory.max_usage_in_bytes":   "33554432\n",
			"sys/fs/cgroup/memory/g/memory.memsw.limit_in_bytes": "9223372036854771712\n",
			"sys/fs/cgroup/memory/g/memory.limit_in_bytes":       "9223372036854771712\n",
		}
		want := "memory.oom_control: oom_kill 2\nmemory.max_usage_in_bytes: 33554432 (32.0 MiB)\n"
		if v2 {
			files = map[string]string{
				"proc/self/mountinfo":                  cgfake.V2Mountinfo,
				"proc/self/cgroup":                     "0::/\n",
				"sys/fs/cgroup/cgroup.controllers":     "memory pids\n",
				"sys/fs/cgroup/cgroup.subtree_control": "memory pids\n",
				"sys/fs/cgroup/g/memory.events":        "low 0\nhigh 0\nmax 57\noom 2\noom_kill 2\noom_group_kill 0\n",
				"sys/fs/cgroup/g/memory.peak":          "33554432\n",
			}
			want = "memory.events: oom_kill 2\nmemory.peak: 33554432 (32.0 MiB)\n"
		}
		c, err := common.ReadCgroups(cgfake.Tree(t, files), v2)
		if err != nil {
			t.Fatal(err)
		}
		g, err := common.NewGroup(c, "g", "memory")
		if err != nil {
			t.Fatal(err)
		}
		if exists(g, "memory.memsw.limit_in_bytes") == v2 || exists(g, "memory.swap.max") { // memsw: v1 only here
			t.Errorf("v2 %v: exists says memsw %v, swap.max %v", v2, exists(g, "memory.memsw.limit_in_bytes"), exists(g, "memory.swap.max"))
		}
		if got := captureStdout(t, func() { showMemory(g, v2) }); got != want {
			t.Errorf("v2 %v: showMemory printed\n%s\nwant\n%s", v2, got, want)
		}
	}
}

// captureStdout runs fn with os.Stdout going to a pipe, and returns what
// it printed. (Not in a parallel test: os.Stdout is the process's.)
func captureStdout(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	fn()
	os.Stdout = saved
	w.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"65536": 65536, "64K": 64 << 10, "64k": 64 << 10, "64M": 64 << 20, "1G": 1 << 30} {
		if got, err := common.ParseSize(in); err != nil || got != want {
			t.Errorf("common.ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "abc", "64MB", "1.5G"} {
		if got, err := common.ParseSize(in); err == nil {
			t.Errorf("common.ParseSize(%q) = %d, want an error", in, got)
		}
	}
}
