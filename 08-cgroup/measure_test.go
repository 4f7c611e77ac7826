package main

import (
	"testing"
	"time"

	"nslab/common"
	"nslab/common/nstest/cgfake"
)

// These tests need no root: each builds a fake cgroup file system
// (cgfake), with its own proc/self/cgroup and proc/self/mountinfo, and
// checks what measure.go (and memory.go: memory_test.go)
// reads there. Where a new cgroup goes is common/group_test.go's.

// What the counters look like in each version's files.
func TestCounterFiles(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		name := map[bool]string{false: "v1", true: "v2"}[v2]
		t.Run(name, func(t *testing.T) {
			files := map[string]string{
				"proc/self/mountinfo": cgfake.V1Separate,
				"proc/self/cgroup":    "2:cpuacct:/\n1:cpu:/\n",
				// the control files of the group, as the kernel makes them
				"sys/fs/cgroup/cpu/g/cpu.cfs_period_us": "100000\n",
				"sys/fs/cgroup/cpu/g/cpu.cfs_quota_us":  "-1\n",
				"sys/fs/cgroup/cpu/g/cpu.stat":          "nr_periods 50\nnr_throttled 48\nthrottled_time 3480000000\n",
				"sys/fs/cgroup/cpuacct/g/cpuacct.usage": "1510000000\n",
			}
			if v2 {
				files = map[string]string{
					"proc/self/mountinfo":                  cgfake.V2Mountinfo,
					"proc/self/cgroup":                     "0::/\n",
					"sys/fs/cgroup/cgroup.controllers":     "cpu\n",
					"sys/fs/cgroup/cgroup.subtree_control": "cpu\n",
					"sys/fs/cgroup/g/cpu.max":              "max 100000\n",
					"sys/fs/cgroup/g/cpu.stat":             "usage_usec 1510000\nuser_usec 1500000\nnr_periods 50\nnr_throttled 48\nthrottled_usec 3480000\n",
				}
			}
			c, err := common.ReadCgroups(cgfake.Tree(t, files), v2)
			if err != nil {
				t.Fatal(err)
			}
			g, err := common.NewGroup(c, "g", "cpu", "cpuacct")
			if err != nil {
				t.Fatal(err)
			}
			if used, err := usage(g); err != nil || used != 1510*time.Millisecond {
				t.Errorf("usage %v, %v; want 1.51s", used, err)
			}
			p, th, wait, err := throttling(g)
			if err != nil || p != 50 || th != 48 || wait != 3480*time.Millisecond {
				t.Errorf("throttling %d %d %v %v, want 50 48 3.48s", p, th, wait, err)
			}
		})
	}
}

func TestBar(t *testing.T) {
	for _, c := range []struct {
		used             float64
		percent, workers int
		want             string
	}{
		{0, 30, 1, "[............|...........................]"},
		{30, 30, 1, "[############|...........................]"},
		{100, 30, 1, "[########################################]"},
		{150, 150, 2, "[##############################|.........]"},
	} {
		if got := bar(c.used, c.percent, c.workers); got != c.want {
			t.Errorf("bar(%v, %d, %d) = %q, want %q", c.used, c.percent, c.workers, got, c.want)
		}
	}
}
