package common_test

// A test of group.go on the real cgroup file system, as root. Package
// common_test, not common, to use nstest (which imports common): its root
// check and its cgroup lock.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"nslab/common"
	"nslab/common/nstest"
)

// TestGroupAddAndRemove makes a group with cpu and cpuacct (two
// directories on a v1 host with them apart, one on v2) and checks in the
// kernel's files: Echo writes the quota; Add puts a process in every
// directory (cgroup.procs, and /proc/PID/cgroup names the group in each
// hierarchy); Remove kills it, removes the directories and leaves every
// cgroup.subtree_control above as it found it (v2: Create switched cpu on
// where it was off).
func TestGroupAddAndRemove(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.LockCgroups(t) // on v2, Create and Remove switch cpu on and off
	v2, err := common.IsCgroupV2("/")
	if err != nil {
		nstest.Skip(t, "no cgroup file system at "+common.CgroupMount+": "+err.Error())
	}
	c, err := common.ReadCgroups("/", v2)
	if err != nil {
		t.Fatal(err)
	}
	// nslab-NN-*: the name make reset removes, should the test be killed
	// (00: common's, no chapter's).
	name := fmt.Sprintf("nslab-00-%d-grouptest", os.Getpid())
	g, err := common.NewGroup(c, name, "cpu", "cpuacct")
	var missing *common.MissingController
	if errors.As(err, &missing) {
		nstest.Skip(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	dirs := g.Dirs()
	controls := subtreeControls(t, filepath.Dir(dirs[0]))
	t.Cleanup(g.Remove) // idempotent: also after the Remove below
	if err := g.Create(); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Fatalf("after Create, %s: %v", d, err)
		}
	}

	file, value := "cpu.cfs_quota_us", "50000"
	if v2 {
		file, value = "cpu.max", "50000 100000"
	}
	g.Echo("cpu", file, value, "")
	if got := nstest.ReadTrim(t, filepath.Join(g.Dir("cpu"), file)); got != value {
		t.Errorf("%s = %q after Echo, want %q", file, got, value)
	}

	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	t.Cleanup(func() {
		if !waited {
			sleep.Process.Kill()
			sleep.Wait()
		}
	})
	pid := sleep.Process.Pid
	if err := g.Add(pid); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if procs := strings.Fields(nstest.ReadTrim(t, filepath.Join(d, "cgroup.procs"))); !slices.Equal(procs, []string{strconv.Itoa(pid)}) {
			t.Errorf("%s/cgroup.procs = %q after Add(%d)", d, procs, pid)
		}
	}
	if got := g.Procs(); !slices.Equal(got, []int{pid}) {
		t.Errorf("Procs() = %v, want [%d]", got, pid)
	}
	// /proc/PID/cgroup: the cpu and cpuacct lines (v1) or the 0:: line (v2).
	in := 0
	for _, line := range strings.Split(nstest.ReadTrim(t, fmt.Sprintf("/proc/%d/cgroup", pid)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		ctls := strings.Split(f[1], ",")
		if v2 && f[0] != "0" || !v2 && !slices.Contains(ctls, "cpu") && !slices.Contains(ctls, "cpuacct") {
			continue
		}
		if filepath.Base(f[2]) != name {
			t.Errorf("/proc/%d/cgroup: %q, not in %s", pid, line, name)
		}
		in++
	}
	if in != len(dirs) {
		t.Errorf("/proc/%d/cgroup names the group in %d hierarchies, want %d", pid, in, len(dirs))
	}

	g.Remove()
	err = sleep.Wait()
	waited = true
	// (Sys is a syscall.WaitStatus; unix.Signal is syscall.Signal.)
	if ws, ok := sleep.ProcessState.Sys().(interface {
		Signaled() bool
		Signal() unix.Signal
	}); !ok || !ws.Signaled() || ws.Signal() != unix.SIGKILL {
		t.Errorf("sleep after Remove: %v, want killed by SIGKILL", err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after Remove: %v, want it gone", d, err)
		}
	}
	if after := subtreeControls(t, filepath.Dir(dirs[0])); !slices.Equal(after, controls) {
		t.Errorf("cgroup.subtree_control from %s up: %q after Remove, was %q", filepath.Dir(dirs[0]), after, controls)
	}
}

// subtreeControls is cgroup.subtree_control of dir and each directory
// above it up to the mount point, "-" where there is none (v1).
func subtreeControls(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for d := dir; strings.HasPrefix(d, common.CgroupMount+"/") || d == common.CgroupMount; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "cgroup.subtree_control"))
		if err != nil {
			out = append(out, d+": -")
			continue
		}
		out = append(out, d+": "+strings.TrimSpace(string(b)))
	}
	return out
}
