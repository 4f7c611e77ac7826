package common

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"nslab/common/nstest/cgfake"
)

// These tests need no root: each builds a fake cgroup file system
// (cgfake), with its own proc/self/cgroup and proc/self/mountinfo, and
// checks where group.go puts a new cgroup (discovery: cgroup.go).

// The development machine: cpu and cpuacct are separate hierarchies, and
// we run in the root cgroup of each but memory.
func TestV1SeparateCPUAndCPUAcct(t *testing.T) {
	root := cgfake.Tree(t, map[string]string{
		"proc/self/mountinfo": cgfake.V1Separate,
		"proc/self/cgroup":    "9:name=systemd:/\n6:freezer:/\n4:memory:/process_api/abc\n2:cpuacct:/\n1:cpu:/\n0::/\n",
	})
	c, err := ReadCgroups(root, false)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGroup(c, "g", "cpu", "cpuacct")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{root + "/sys/fs/cgroup/cpu/g", root + "/sys/fs/cgroup/cpuacct/g"}
	if !slices.Equal(g.dirs, want) {
		t.Errorf("dirs %q, want %q", g.dirs, want)
	}
	if g.Dir("cpuacct") != want[1] {
		t.Errorf("cpuacct dir %q, want %q", g.Dir("cpuacct"), want[1])
	}
	// Not the root: the cgroup we are in.
	m, err := NewGroup(c, "m", "memory")
	if err != nil {
		t.Fatal(err)
	}
	if want := root + "/sys/fs/cgroup/memory/process_api/abc/m"; m.dirs[0] != want {
		t.Errorf("memory dir %q, want %q", m.dirs[0], want)
	}
	if len(g.need) != 0 {
		t.Errorf("v1 has no subtree_control, but need = %v", g.need)
	}
	// A controller with no hierarchy: one line saying how to mount one.
	_, err = NewGroup(c, "p", "pids")
	var missing *MissingController
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids") {
		t.Errorf("pids: err %v, want the mount command", err)
	}
}

// Many distributions co-mount cpu and cpuacct: one hierarchy, one
// directory, whose name is not "cpu".
func TestV1CoMountedCPUAndCPUAcct(t *testing.T) {
	root := cgfake.Tree(t, map[string]string{
		"proc/self/mountinfo": `25 18 0:21 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755
29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
30 25 0:26 / /sys/fs/cgroup/freezer rw,nosuid - cgroup cgroup rw,freezer
`,
		"proc/self/cgroup": "5:freezer:/\n3:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice/session-2.scope\n",
	})
	c, err := ReadCgroups(root, false)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGroup(c, "g", "cpu", "cpuacct")
	if err != nil {
		t.Fatal(err)
	}
	want := root + "/sys/fs/cgroup/cpu,cpuacct/user.slice/g"
	if !slices.Equal(g.dirs, []string{want}) || g.Dir("cpu") != want || g.Dir("cpuacct") != want {
		t.Errorf("dirs %q (cpu %q, cpuacct %q), want one: %q", g.dirs, g.Dir("cpu"), g.Dir("cpuacct"), want)
	}
	if got := g.why(g.parts[0]); got != "v1 hierarchy cpu,cpuacct, under our cgroup /user.slice" {
		t.Errorf("why: %q", got)
	}
}

// In a container the hierarchy's mount shows a sub-tree (mountinfo's root
// field), and a mount point may hold escaped characters.
func TestV1BindMountedSubtree(t *testing.T) {
	root := cgfake.Tree(t, map[string]string{
		"proc/self/mountinfo": `600 500 0:25 /docker/abc /sys/fs/cgroup/cpu\040acct rw - cgroup cgroup rw,cpu,cpuacct
`,
		"proc/self/cgroup": "3:cpu,cpuacct:/docker/abc/inner\n",
	})
	c, err := ReadCgroups(root, false)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGroup(c, "g", "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if want := root + "/sys/fs/cgroup/cpu acct/inner/g"; g.dirs[0] != want {
		t.Errorf("dir %q, want %q", g.dirs[0], want)
	}
}

// v2 as in the lab's guest: we run in a service (it has processes), so the
// cgroup goes under its slice; cpu is missing from subtree_control at the
// root and the slice, where +cpu must be written, top first.
func TestV2WithoutCPUInSubtreeControl(t *testing.T) {
	root := cgfake.Tree(t, map[string]string{
		"proc/self/mountinfo":                                                   cgfake.V2Mountinfo,
		"proc/self/cgroup":                                                      "0::/system.slice/nslab-guest.service\n",
		"sys/fs/cgroup/cgroup.controllers":                                      "cpuset cpu io memory hugetlb pids rdma misc\n",
		"sys/fs/cgroup/cgroup.subtree_control":                                  "memory pids\n",
		"sys/fs/cgroup/cgroup.procs":                                            "1\n2\n",
		"sys/fs/cgroup/system.slice/cgroup.subtree_control":                     "memory pids\n",
		"sys/fs/cgroup/system.slice/cgroup.procs":                               "",
		"sys/fs/cgroup/system.slice/nslab-guest.service/cgroup.subtree_control": "",
		"sys/fs/cgroup/system.slice/nslab-guest.service/cgroup.procs":           "300\n301\n",
	})
	c, err := ReadCgroups(root, true)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGroup(c, "g", "cpu", "cpuacct")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{root + "/sys/fs/cgroup/system.slice/g"}; !slices.Equal(g.dirs, want) {
		t.Errorf("dirs %q, want %q", g.dirs, want)
	}
	if !slices.Equal(g.need, []string{"cpu"}) {
		t.Errorf("need %v, want [cpu] (cpuacct is no v2 controller)", g.need)
	}
	lacking, err := lacking(c, g.h, g.baseCg, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{root + "/sys/fs/cgroup", root + "/sys/fs/cgroup/system.slice"}; !slices.Equal(lacking, want) {
		t.Errorf("+cpu goes to %q, want %q", lacking, want)
	}
	if got := g.why(g.parts[0]); got != "v2, under /system.slice: our cgroup /system.slice/nslab-guest.service holds processes" {
		t.Errorf("why: %q", got)
	}
}

// v2 with cpu already passed down: nothing to write.
func TestV2WithCPUInSubtreeControl(t *testing.T) {
	root := cgfake.Tree(t, map[string]string{
		"proc/self/mountinfo":                                                   cgfake.V2Mountinfo,
		"proc/self/cgroup":                                                      "0::/user.slice/user-1000.slice/session-3.scope\n",
		"sys/fs/cgroup/cgroup.controllers":                                      "cpu memory pids\n",
		"sys/fs/cgroup/cgroup.subtree_control":                                  "cpu memory pids\n",
		"sys/fs/cgroup/user.slice/cgroup.subtree_control":                       "cpu memory pids\n",
		"sys/fs/cgroup/user.slice/cgroup.procs":                                 "",
		"sys/fs/cgroup/user.slice/user-1000.slice/cgroup.procs":                 "",
		"sys/fs/cgroup/user.slice/user-1000.slice/cgroup.subtree_control":       "cpu memory pids\n",
		"sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/cgroup.procs": "900\n",
	})
	c, err := ReadCgroups(root, true)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGroup(c, "g", "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if want := root + "/sys/fs/cgroup/user.slice/user-1000.slice/g"; g.dirs[0] != want {
		t.Errorf("dir %q, want %q (the session scope has processes; its slice has none)", g.dirs[0], want)
	}
	lacking, err := lacking(c, g.h, g.baseCg, "cpu")
	if err != nil || len(lacking) != 0 {
		t.Errorf("lacking %q, %v; want nothing", lacking, err)
	}
}

// v2, and every cgroup from ours up holds processes: only the root is left.
// Without cpu in the root's cgroup.controllers: one line with the fix. The
// freezer needs no controller on v2.
func TestV2OwnCgroupWithProcessesAndNoCPU(t *testing.T) {
	root := cgfake.Tree(t, map[string]string{
		"proc/self/mountinfo":                  cgfake.V2Mountinfo,
		"proc/self/cgroup":                     "0::/a/b\n",
		"sys/fs/cgroup/cgroup.controllers":     "memory pids\n",
		"sys/fs/cgroup/cgroup.subtree_control": "",
		"sys/fs/cgroup/a/cgroup.procs":         "5\n",
		"sys/fs/cgroup/a/b/cgroup.procs":       "6\n",
	})
	c, err := ReadCgroups(root, true)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewGroup(c, "f", "freezer")
	if err != nil {
		t.Fatal(err)
	}
	if want := root + "/sys/fs/cgroup/f"; f.dirs[0] != want || f.baseCg != "/" {
		t.Errorf("dir %q (base %q), want %q", f.dirs[0], f.baseCg, want)
	}
	_, err = NewGroup(c, "g", "cpu")
	var missing *MissingController
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "systemd.unified_cgroup_hierarchy=1") {
		t.Errorf("no cpu: err %v, want the boot option", err)
	}
}

// Memory and pids, like cpu, are passed down on v2 where they are missing,
// and only there.
func TestV2MemoryAndPids(t *testing.T) {
	root := cgfake.Tree(t, map[string]string{
		"proc/self/mountinfo":                                         cgfake.V2Mountinfo,
		"proc/self/cgroup":                                            "0::/system.slice/nslab-guest.service\n",
		"sys/fs/cgroup/cgroup.controllers":                            "cpu memory pids\n",
		"sys/fs/cgroup/cgroup.subtree_control":                        "memory pids\n",
		"sys/fs/cgroup/system.slice/cgroup.subtree_control":           "memory\n",
		"sys/fs/cgroup/system.slice/cgroup.procs":                     "",
		"sys/fs/cgroup/system.slice/nslab-guest.service/cgroup.procs": "300\n",
	})
	c, err := ReadCgroups(root, true)
	if err != nil {
		t.Fatal(err)
	}
	for ctl, want := range map[string][]string{"memory": nil, "pids": {root + "/sys/fs/cgroup/system.slice"}} {
		g, err := NewGroup(c, "g", ctl)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(g.need, []string{ctl}) {
			t.Errorf("need %v, want [%s]", g.need, ctl)
		}
		got, err := lacking(c, g.h, g.baseCg, ctl)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("+%s goes to %q (%v), want %q", ctl, got, err, want)
		}
	}
}

// devices (10-container): on v1 a hierarchy of its own, one more
// directory; on v2 no controller (rules are eBPF programs attached to the
// cgroup), so never a +devices to write, and no need for it in
// cgroup.controllers.
func TestDevices(t *testing.T) {
	root := cgfake.Tree(t, map[string]string{
		"proc/self/mountinfo": cgfake.V1Separate + "41 30 0:38 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n",
		"proc/self/cgroup":    "5:devices:/\n1:cpu:/\n0::/\n",
	})
	c, err := ReadCgroups(root, false)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGroup(c, "g", "cpu", "devices")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{root + "/sys/fs/cgroup/cpu/g", root + "/sys/fs/cgroup/devices/g"}
	if !slices.Equal(g.dirs, want) || g.Dir("devices") != want[1] {
		t.Errorf("v1: dirs %q (devices %q), want %q", g.dirs, g.Dir("devices"), want)
	}

	root = cgfake.Tree(t, map[string]string{
		"proc/self/mountinfo":                  cgfake.V2Mountinfo,
		"proc/self/cgroup":                     "0::/\n",
		"sys/fs/cgroup/cgroup.controllers":     "cpu memory pids\n",
		"sys/fs/cgroup/cgroup.subtree_control": "cpu\n",
	})
	if c, err = ReadCgroups(root, true); err != nil {
		t.Fatal(err)
	}
	if g, err = NewGroup(c, "g", "pids", "devices"); err != nil {
		t.Fatalf("v2: %v", err)
	}
	if want := root + "/sys/fs/cgroup/g"; !slices.Equal(g.dirs, []string{want}) || g.Dir("devices") != want {
		t.Errorf("v2: dirs %q (devices %q), want one: %q", g.dirs, g.Dir("devices"), want)
	}
	if !slices.Equal(g.need, []string{"pids"}) {
		t.Errorf("v2: need %v, want [pids] (devices is no v2 controller)", g.need)
	}
}
