package lab

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common/nstest"
)

// resetScript writes lab/reset.sh (embedded: the guest has no source tree)
// and its lib.sh to a scratch directory and returns the script's path.
func resetScript(t *testing.T) string {
	t.Helper()
	return filepath.Join(labScripts(t, "reset.sh"), "reset.sh")
}

// sudo make reset after a crash: the programs are killed with SIGKILL,
// which no program can clean up after, at a moment when they hold each kind
// of thing they make (processes, a frozen cgroup, cgroups with a quota,
// a SysV segment and a POSIX queue, a /run/netns name, a -tmpfs directory).
// reset.sh must list each removal, leave the host as the photograph taken
// before showed it, and leave alone look-alikes that are not nslab's: a
// cgroup and a netns name without the prefix, segments with only half of
// 03-ipc's mark, a process without the mark. A second run has nothing to
// remove. Not root, it says so in one line and exits 2.
//
// Like the soak it changes and photographs the whole host, so it runs alone
// (make soak) or in the guest, where packages run one at a time.
func TestReset(t *testing.T) {
	if *soakRounds == 0 && *soakInterrupts == 0 && *soakKills == 0 && !inGuest() {
		t.Skip("reset kills every nslab process and removes what other tests make meanwhile, so it runs alone: make soak")
	}
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "ip", "iproute2")
	nstest.RequireTool(t, "ipcrm", "util-linux")
	setpriv := nstest.RequireTool(t, "setpriv", "util-linux")
	reset := resetScript(t)

	t.Run("not_root", func(t *testing.T) {
		cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "bash", reset)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 || len(lines) != 1 || !strings.Contains(lines[0], "sudo make reset") || stdout.Len() > 0 {
			t.Errorf("reset as nobody: %v, stdout %q, stderr %q; want exit 2 and one line naming sudo make reset", err, stdout.String(), stderr.String())
		}
	})

	id := os.Getpid()
	marker := fmt.Sprintf("NSLAB_RESET_TEST=%d-%d", id, time.Now().UnixNano())
	prog := func(name string) string { return nstest.Chapter(t, name) }

	// The look-alikes, made before the first photograph, which must still
	// show them at the end.
	cgMount := firstCgroupMount(t)
	// The second starts with nslab but is not named as the programs name
	// theirs (nslab-08-PID-WHAT): the guest's own service is
	// nslab-guest.service, whose cgroup holds the test runner.
	lookCgs := []string{filepath.Join(cgMount, fmt.Sprintf("lookalike-%d", id)),
		filepath.Join(cgMount, fmt.Sprintf("nslab-unit-%d.service", id))}
	for _, cg := range lookCgs {
		if err := os.Mkdir(cg, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Rmdir(cg) })
	}
	lookNs := fmt.Sprintf("lookalike-%d", id)
	nstest.Exec(t, prog("06-net"), "add", lookNs)
	t.Cleanup(func() { exec.Command(prog("06-net"), "del", lookNs).Run() })
	for _, seg := range []struct{ key, size int }{{0x6e73_0000 | id&0xffff, 999}, {0x1e73_0000 | id&0xffff, 1000}} {
		shmid, err := unix.SysvShmGet(seg.key, seg.size, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
		if err != nil {
			t.Fatalf("shmget(0x%08x, %d): %v", seg.key, seg.size, err)
		}
		t.Cleanup(func() { unix.SysvShmCtl(shmid, unix.IPC_RMID, nil) })
	}
	plain := exec.Command("sleep", "300") // no NSLAB_RUN: the test binary sets none
	if err := plain.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Process.Kill(); plain.Wait() })
	// 05-mount overlay's fresh directory while its run still goes on (a
	// process named 05-mount, with that PID): reset must leave it.
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	liveProg := filepath.Join(t.TempDir(), "05-mount")
	if b, err := os.ReadFile(sleep); err != nil || os.WriteFile(liveProg, b, 0o755) != nil {
		t.Fatalf("copying %s: %v", sleep, err)
	}
	liveRun := exec.Command(liveProg, "300")
	if err := liveRun.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { liveRun.Process.Kill(); liveRun.Wait() })
	liveDir := fmt.Sprintf("/tmp/nslab-overlay-%d-reset%d", liveRun.Process.Pid, id)
	overlayLeft(t, liveDir)

	rootfs := filepath.Join(t.TempDir(), "rootfs") // for 10-container
	if out, err := exec.Command(prog("05-mount"), "mkrootfs", rootfs).CombinedOutput(); err != nil {
		t.Fatalf("05-mount mkrootfs: %v\n%s", err, out)
	}

	// cgroup v2: a cgroup not of ours whose subtree_control passes no cpu
	// down, and a leaf in it for a run of 08-cgroup quota, which must
	// then switch cpu on there itself (in the lab's guest systemd already
	// has cpu on above the test's own cgroup). Killed, the run leaves it
	// on: reset must switch it off.
	v2 := nstest.CgroupV2(t)
	cpuParent := filepath.Join("/sys/fs/cgroup", fmt.Sprintf("subtree-%d", id))
	leaf := filepath.Join(cpuParent, "leaf")
	if v2 {
		for _, d := range []string{cpuParent, leaf} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() { unix.Rmdir(leaf); unix.Rmdir(cpuParent) })
	}

	before := takeSnapshot(t, marker)

	// The crashes: each program killed, with its whole process group, once
	// it says it holds what it makes.
	tmpfs := fmt.Sprintf("/mnt/nslab-reset-%d", id)
	nsName := fmt.Sprintf("nslab-reset-%d", id)
	killAt(t, marker, "PID of child in new IPC namespace", prog("03-ipc"), "-hold", "60s")
	killAt(t, marker, "frozen:", prog("08-cgroup"), "freeze", "-hold", "60s")
	killAt(t, marker, "dispatching hogs", prog("08-cgroup"), "quota", "-seconds", "60")
	killAt(t, marker, "unshare -Cm", prog("08-cgroup"), "ns", "-hold", "60s")
	if v2 {
		killAt(t, marker, "dispatching hogs", "sh", "-c", `echo $$ > "$1"/cgroup.procs && exec "$2" quota -seconds 60`,
			"-", leaf, prog("08-cgroup"))
		if !passesCPU(t, cpuParent) {
			t.Errorf("%s/cgroup.subtree_control has no cpu after the kill: 08-cgroup quota did not switch it on there", cpuParent)
		}
	}
	killAt(t, marker, "ready", prog("05-mount"), "-tmpfs", tmpfs, "sh", "-c", "echo ready; exec sleep 60")
	// The shell prints up-2 once it runs: its command line, which
	// 10-container prints first, says up-$((1+1)).
	killAt(t, marker, "up-2", prog("10-container"), "run", "-rootfs", rootfs, "-net", "--", "sh", "-c", "echo up-$((1+1)); exec sleep 60")
	// A name is meant to outlive 06-net add; an orphan that left the
	// process group and the parent-death signal behind outlives a kill.
	runMarked(t, marker, prog("06-net"), "add", nsName)
	runMarked(t, marker, prog("01-clone"), "ns_child_exec", "sh", "-c", "setsid sleep 300 >/dev/null 2>&1 &")
	// What SIGKILL leaves of 05-mount overlay (its mount died with the
	// run's mount namespace): the run is too short to kill at a chosen
	// moment, so the directory is made as it would be left, under the PID
	// of a process that has exited.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	goneDir := fmt.Sprintf("/tmp/nslab-overlay-%d-reset%d", gone.Process.Pid, id)
	overlayLeft(t, goneDir)

	left := before.diff(takeSnapshot(t, marker))
	for _, want := range []string{"processes of ours: +", "cgroups named nslab*: +", "sysvipc shm: +",
		"POSIX message queues: +", "/run/netns: + " + nsName, "nslab files: + " + tmpfs,
		"nslab files: + /run/nslab-10-"} {
		if !strings.Contains(left, want) {
			t.Errorf("after the kills the photograph lacks %q: the crash left less than the test means to reset:\n%s", want, left)
		}
	}

	start := time.Now()
	out, err := exec.Command("bash", reset).CombinedOutput()
	t.Logf("reset took %s:\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("reset: %v", err)
	}
	wants := []string{"reset: killed process ", "reset: removed cgroup ", "reset: removed SysV shared memory segment ",
		"reset: removed POSIX message queue /nslab-03-ipc-", "reset: removed network namespace name /run/netns/" + nsName,
		"reset: removed directory " + tmpfs, "reset: removed directory /run/nslab-10-", "reset: removed directory " + goneDir}
	// On v2, where 08-cgroup quota had to switch cpu on above its cgroup
	// (it was off there), the kill left it on.
	if strings.Contains(left, "v2 subtree_control above us: +") {
		wants = append(wants, "reset: switched cpu off in ", "reset: removed /run/nslab-subtree.nslab-08-")
	}
	for _, want := range wants {
		if !strings.Contains(string(out), want) {
			t.Errorf("reset's output has no %q", want)
		}
	}
	if d := before.diff(takeSnapshot(t, marker)); d != "" {
		t.Errorf("after reset the host differs from before the crashes:\n%s(nslab programs not this test's, running now: %q)", d, strangers(marker))
	}
	if v2 {
		if passesCPU(t, cpuParent) {
			t.Errorf("%s/cgroup.subtree_control: cpu still on after reset", cpuParent)
		}
		if want := "reset: switched cpu off in " + cpuParent + "/cgroup.subtree_control"; !strings.Contains(string(out), want) {
			t.Errorf("reset's output has no %q", want)
		}
	}
	for _, cg := range lookCgs {
		if _, err := os.Stat(cg); err != nil {
			t.Errorf("reset removed the cgroup %s, which is not nslab's: %v", cg, err)
		}
	}
	if _, err := os.Stat(goneDir); err == nil {
		t.Errorf("reset left %s, of a 05-mount overlay run that is gone", goneDir)
	}
	if _, err := os.Stat(liveDir); err != nil {
		t.Errorf("reset removed %s, of a 05-mount overlay run that still goes on: %v", liveDir, err)
	}
	if err := plain.Process.Signal(unix.Signal(0)); err != nil {
		t.Errorf("reset killed a process without the mark (sleep %d): %v", plain.Process.Pid, err)
	}

	out, err = exec.Command("bash", reset).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "reset: nothing to remove") || strings.Contains(string(out), "removed") {
		t.Errorf("a second reset: %v\n%s\nwant: reset: nothing to remove", err, out)
	}
}

// overlayLeft makes dir as a killed 05-mount overlay leaves it: lower,
// upper with a whiteout (a character device 0, 0), work with the kernel's
// mode-0 work/work, and merged, no longer a mount point.
func overlayLeft(t *testing.T, dir string) {
	t.Helper()
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"lower", "upper", "work/work", "merged"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(os.Chmod(filepath.Join(dir, "work/work"), 0),
		unix.Mknod(filepath.Join(dir, "upper/doomed"), unix.S_IFCHR, 0)); err != nil {
		t.Fatal(err)
	}
}

// passesCPU: the cgroup passes the cpu controller on to its children.
func passesCPU(t *testing.T, dir string) bool {
	return slices.Contains(strings.Fields(nstest.ReadTrim(t, filepath.Join(dir, "cgroup.subtree_control"))), "cpu")
}

// firstCgroupMount is the mount point of a cgroup hierarchy (v2's, if any).
func firstCgroupMount(t *testing.T) string {
	var found []string
	for _, l := range mountinfoLines(t) {
		f := strings.Fields(l)
		i := slices.Index(f, "-")
		if i > 0 && i+1 < len(f) && f[i+1] == "cgroup2" {
			return f[2]
		}
		if i > 0 && i+1 < len(f) && f[i+1] == "cgroup" {
			found = append(found, f[2])
		}
	}
	if len(found) == 0 {
		nstest.Skip(t, "no cgroup hierarchy is mounted")
	}
	return found[0]
}

// killAt starts a program in a process group of its own and, once its
// output has a line holding ready, kills the group with SIGKILL. The
// output goes through a pipe of our own, which a process the kill leaves
// (a frozen one) may hold open: nothing waits for its end.
func killAt(t *testing.T, marker, ready, prog string, args ...string) {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), marker, "NO_COLOR=1")
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	seen := make(chan string, 1)
	go func() {
		defer r.Close()
		var out strings.Builder
		s := bufio.NewScanner(r)
		for s.Scan() {
			out.WriteString(s.Text() + "\n")
			if strings.Contains(s.Text(), ready) {
				seen <- ""
				io.Copy(io.Discard, r)
				return
			}
		}
		seen <- out.String()
	}()
	var missed string
	select {
	case missed = <-seen:
	case <-time.After(30 * time.Second):
		missed = "(nothing in 30 s)"
	}
	unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
	cmd.Wait()
	if missed != "" {
		t.Fatalf("%s %s never printed %q:\n%s", filepath.Base(prog), strings.Join(args, " "), ready, missed)
	}
}

// runMarked runs a program to its end, with the test's marker.
func runMarked(t *testing.T, marker, prog string, args ...string) {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), marker, "NO_COLOR=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(prog), strings.Join(args, " "), err, out)
	}
}
