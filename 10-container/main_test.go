package main

import (
	_ "embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common/nstest"
)

//go:embed README.md
var readme string

//go:embed README.ko.md
var readmeKo string

// The commands and outputs README.md and its translation show are what the
// code does today.
func TestReadme(t *testing.T) {
	// Its memory hog is an OOM kill, which 08-cgroup's TestMemory must not
	// count as one outside its cgroup (/proc/vmstat counts them all).
	nstest.LockCgroups(t)
	nstest.Readme(t, nstest.Doc{Name: prog, Text: readme, Ko: readmeKo})
}

func TestMain(m *testing.M) { nstest.Main(m, main) }

const prog = "10-container"

// The tests judge by what the kernel shows: exit statuses (the wait status
// of PID 1, which is the command's), the cgroup files of the container's
// cgroup read from the host, /proc files read from inside, the host's
// process list, links and addresses. None runs in parallel with another:
// the fork bomb counts the host's processes.

// rootfs makes a fresh busybox root filesystem with 05-mount mkrootfs, as
// the README's first command does, in a directory of the test's own.
func rootfs(t *testing.T) string {
	t.Helper()
	nstest.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "rootfs")
	out, err := exec.Command(nstest.Chapter(t, "05-mount"), "mkrootfs", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("05-mount mkrootfs %s: %v\n%s", dir, err, out)
	}
	return dir
}

// runIn runs `10-container run -rootfs ROOT args...` to its end and checks
// that it left no cgroup behind.
func runIn(t *testing.T, root string, args ...string) nstest.Result {
	t.Helper()
	cmd := nstest.Program(t, prog, append([]string{"run", "-rootfs", root}, args...)...)
	r := nstest.Run(t, cmd)
	nstest.NoPanic(t, r.Stderr)
	noCgroupLeft(t, cmd.Process.Pid)
	return r
}

// noCgroupLeft wants no nslab-10-PID directory anywhere under /sys/fs/cgroup.
func noCgroupLeft(t *testing.T, pid int) {
	t.Helper()
	name := fmt.Sprintf("nslab-10-%d", pid)
	filepath.WalkDir("/sys/fs/cgroup", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == name {
			t.Errorf("cgroup left behind: %s", p)
		}
		return nil
	})
}

// initPid waits for the container's PID 1, the only child of the parent
// (the process the test started), as the host's /proc shows it.
func initPid(t *testing.T, parent int) int {
	t.Helper()
	deadline := time.Now().Add(nstest.Patience(10 * time.Second))
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", parent))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			if fields := strings.Fields(string(b)); len(fields) > 0 {
				pid, _ := strconv.Atoi(fields[0])
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d started no child", parent)
	return 0
}

// cgroupDir is the directory, on the host, of pid's cgroup in the
// hierarchy of ctl (v1: a line like "4:cpu,cpuacct:/x" of /proc/PID/cgroup)
// or in the unified one (v2: the "0::/x" line).
func cgroupDir(t *testing.T, pid int, ctl string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	v2 := nstest.CgroupV2(t)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if v2 && f[0] == "0" {
			return filepath.Join("/sys/fs/cgroup", f[2])
		}
		if !v2 && slices.Contains(strings.Split(f[1], ","), ctl) {
			return filepath.Join("/sys/fs/cgroup", f[1], f[2])
		}
	}
	t.Fatalf("/proc/%d/cgroup has no %s hierarchy:\n%s", pid, ctl, b)
	return ""
}

// mountsOf counts the host's mounts under dir (the rootfs): the container
// mounts its /proc, /sys and /dev there, in its own mount namespace only.
func mountsOf(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(nstest.ReadTrim(t, "/proc/self/mountinfo"), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir) {
			n++
		}
	}
	return n
}

// The limits asked for are in the kernel's files of the cgroup the
// container's PID 1 is in, read from the host while it runs; Ctrl-C then
// ends it with 130 and leaves no cgroup, process or mount.
func TestLimitsThenCtrlC(t *testing.T) {
	root := rootfs(t)
	cmd := nstest.Program(t, prog, "run", "-rootfs", root, "-cpus", "0.5", "-memory", "64M", "-pids", "32", "--", "sleep", "30")
	s := nstest.Start(t, cmd)
	s.Expect(t, `exec sleep 30`)
	pid := initPid(t, cmd.Process.Pid)
	v2 := nstest.CgroupV2(t)
	type limit struct{ ctl, file, want string }
	limits := []limit{{"pids", "pids.max", "32"}}
	if v2 {
		limits = append(limits, limit{"cpu", "cpu.max", "50000 100000"}, limit{"memory", "memory.max", "67108864"})
	} else {
		limits = append(limits, limit{"cpu", "cpu.cfs_quota_us", "50000"}, limit{"cpu", "cpu.cfs_period_us", "100000"},
			limit{"memory", "memory.limit_in_bytes", "67108864"})
	}
	for _, l := range limits {
		dir := cgroupDir(t, pid, l.ctl)
		if !strings.HasPrefix(filepath.Base(dir), "nslab-10-") {
			t.Errorf("PID 1 (%d) is in %s, not an nslab-10-* cgroup", pid, dir)
		}
		if got := nstest.ReadTrim(t, filepath.Join(dir, l.file)); got != l.want {
			t.Errorf("%s/%s = %q, want %q", dir, l.file, got, l.want)
		}
	}
	if n := mountsOf(t, root); n != 0 {
		t.Errorf("the host sees %d mounts under %s: the container's mounts leaked", n, root)
	}
	if err := cmd.Process.Signal(unix.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := s.Wait(t)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 130 {
		t.Errorf("exit %d after SIGINT, want 130\nstderr:\n%s", r.Code, r.Stderr)
	}
	nstest.WaitReaped(t, pid)
	noCgroupLeft(t, cmd.Process.Pid)
	if n := mountsOf(t, root); n != 0 {
		t.Errorf("%d mounts under %s after Ctrl-C", n, root)
	}
}

// Inside: the hostname asked for, every cgroup line "/" (the cgroup
// namespace's root is the container's cgroup), and PID 1 reaps an orphan:
// the background sleep's parent exits at once, so it ends as PID 1's
// child, and no zombie is left when it has ended.
func TestInside(t *testing.T) {
	root := rootfs(t)
	r := runIn(t, root, "-hostname", "box", "--", "sh", "-c",
		"hostname; cat /proc/self/cgroup; (sleep 0.1 &); sleep 0.5; ps -o stat,pid,comm")
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	var lines []string
	for _, l := range strings.Split(r.Stdout, "\n") {
		if !strings.HasPrefix(l, "+ ") && l != "" && !strings.HasPrefix(l, "container exited") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 || lines[0] != "box" {
		t.Fatalf("hostname inside: want box first\n%s", r.Stdout)
	}
	if lines[0] == nstest.Hostname(t) {
		t.Errorf("the host is called %s too", lines[0])
	}
	sawCgroup, sawPS := false, false
	for _, l := range lines[1:] {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 {
			sawCgroup = true
			if f[2] != "/" {
				t.Errorf("/proc/self/cgroup inside: %q, want every path /", l)
			}
			continue
		}
		if f := strings.Fields(l); len(f) >= 2 {
			if f[0] == "STAT" {
				sawPS = true
			} else if strings.HasPrefix(f[0], "Z") {
				t.Errorf("a zombie inside: %q\n%s", l, r.Stdout)
			}
		}
	}
	if !sawCgroup || !sawPS {
		t.Errorf("no /proc/self/cgroup or no ps output:\n%s", r.Stdout)
	}
}

// hostLines is `ip -o link` and `ip -o addr` on the host.
func hostLines(t *testing.T) []string {
	t.Helper()
	out := nstest.Exec(t, "ip", "-o", "link") + nstest.Exec(t, "ip", "-o", "addr")
	return strings.Split(out, "\n")
}

// -net: eth0 inside has the container's address (read inside), the peer's
// ping was answered, and the host has no link or address of the veth pair
// afterwards (other tests may add theirs meanwhile: only ours are looked for).
func TestNet(t *testing.T) {
	root := rootfs(t)
	nstest.RequireTool(t, "ping", "iputils-ping")
	before := hostLines(t)
	r := runIn(t, root, "-net", "--", "ip", "-o", "-4", "addr", "show", "eth0")
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "inet "+containerAddr.String()) {
		t.Errorf("eth0 inside has no %s:\n%s", containerAddr, r.Stdout)
	}
	if !strings.Contains(r.Stdout, "1 received") {
		t.Errorf("the peer's ping got no answer:\n%s", r.Stdout)
	}
	for _, l := range hostLines(t) {
		if !slices.Contains(before, l) && (strings.Contains(l, "veth0") || strings.Contains(l, "10.200.10.")) {
			t.Errorf("new on the host: %s", l)
		}
	}
}

// -rootless as nobody: uid 0 inside is 65534 outside (uid_map read inside),
// and without a delegated cgroup one warning line says it runs unlimited.
// Under sudo (root with SUDO_USER=nobody) the map is the same, and the
// cgroup is made.
func TestRootless(t *testing.T) {
	root := rootfs(t)
	for d := root; d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil { // t.TempDir is 0700 root
			t.Fatal(err)
		}
		if strings.Count(d, "/") <= 2 {
			break
		}
	}
	cmd := nstest.ProgramAs(t, 65534, prog, "run", "-rootless", "-rootfs", root, "--", "cat", "/proc/self/uid_map")
	r := nstest.Run(t, cmd)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 0 || !strings.Contains(strings.Join(strings.Fields(r.Stdout), " "), "0 65534 1") {
		t.Errorf("as nobody: exit %d, want 0 and uid_map 0 65534 1\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if n := strings.Count(r.Stderr, "no cgroup delegated"); n != 1 || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Errorf("stderr: want the one warning line, got:\n%s", r.Stderr)
	}
	noCgroupLeft(t, cmd.Process.Pid)

	sudo := nstest.Program(t, prog, "run", "-rootless", "-rootfs", root, "-pids", "32", "--", "sh", "-c", "cat /proc/self/uid_map; sleep 0.3")
	sudo.Env = append(sudo.Env, "SUDO_USER=nobody")
	s := nstest.Start(t, sudo)
	s.Expect(t, `^\s*0\s+65534\s+1\s*$`)
	if got := nstest.ReadTrim(t, filepath.Join(cgroupDir(t, initPid(t, sudo.Process.Pid), "pids"), "pids.max")); got != "32" {
		t.Errorf("under sudo: pids.max %q, want 32", got)
	}
	if r := s.Wait(t); r.Code != 0 {
		t.Errorf("under sudo: exit %d\nstderr:\n%s", r.Code, r.Stderr)
	}
	noCgroupLeft(t, sudo.Process.Pid)
}

// run is the one sub-command: anything else is one line and the usage
// line, exit 2; -h prints the usage on stdout.
func TestSubCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "10-container: missing sub-command: choose run\nusage: 10-container run [-rootfs DIR]"},
		{[]string{"bogus"}, "10-container: unknown sub-command \"bogus\": choose run\nusage: 10-container run [-rootfs DIR]"},
	} {
		r := nstest.Run(t, nstest.Program(t, "10-container", c.args...))
		nstest.NoPanic(t, r.Stderr)
		if r.Code != 2 || !strings.HasPrefix(r.Stderr, c.want) || strings.Count(r.Stderr, "\n") != 2 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
	if r := nstest.Run(t, nstest.Program(t, "10-container", "-h")); r.Code != 0 || !strings.HasPrefix(r.Stdout, "usage: 10-container run [") {
		t.Errorf("-h: exit %d, stdout %q; want 0 and the usage", r.Code, r.Stdout)
	}
}

// A command the container cannot run: 127 when there is no such command,
// 126 when there is one but it cannot be executed, as a shell and `docker
// run` say; one line on stderr, the errno named once.
func TestCommandNotRun(t *testing.T) {
	root := rootfs(t)
	for _, c := range []struct {
		argv string
		code int
		msg  string
	}{
		{"nosuch", 127, "10-container: nosuch: command not found in the container"},
		{"/etc/passwd", 126, "10-container: /etc/passwd: EACCES: permission denied (found, but the container cannot execute it"},
	} {
		r := runIn(t, root, "--", c.argv)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.msg) {
			t.Errorf("run -- %s: exit %d, want %d and %q on stderr:\n%s", c.argv, r.Code, c.code, c.msg, r.Stderr)
		}
	}
}

// A rootfs whose dev is a symbolic link to a directory of the host: PID 1
// would mount its /dev there, outside the root. It is refused before
// anything is made, in one line.
func TestRootfsSymlink(t *testing.T) {
	root := rootfs(t)
	target := t.TempDir()
	if err := os.Remove(filepath.Join(root, "dev")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(root, "dev")); err != nil {
		t.Fatal(err)
	}
	r := runIn(t, root, "--", "true")
	if want := root + "/dev is a symbolic link"; r.Code != 1 || !strings.Contains(r.Stderr, want) {
		t.Errorf("exit %d, want 1 and %q:\n%s", r.Code, want, r.Stderr)
	}
	if ents, _ := os.ReadDir(target); len(ents) > 0 {
		t.Errorf("%s, the symbolic link's target on the host, got %d entries", target, len(ents))
	}
}

// The caller's environment stays outside: not in the command's, and not
// in PID 1's either, which the command could read in /proc/1/environ (a
// token in an administrator's shell, say) if PID 1 were dumpable, as it is
// with -off caps.
func TestEnvironment(t *testing.T) {
	root := rootfs(t)
	for _, off := range []string{"caps", ""} {
		cmd := nstest.Program(t, prog, "run", "-rootfs", root, "-off", off, "--", "sh", "-c", `env; tr '\0' '\n' < /proc/1/environ && echo read PID 1s`)
		cmd.Env = append(cmd.Env, "TOKEN_OUTSIDE=hunter2")
		r := nstest.Run(t, cmd)
		if !strings.Contains(r.Stdout, "PATH=/bin:/sbin:/usr/bin:/usr/sbin") {
			t.Fatalf("-off %q: exit %d, no container PATH:\n%s%s", off, r.Code, r.Stdout, r.Stderr)
		}
		if read := strings.Contains(r.Stdout, "read PID 1s"); read != (off == "caps") {
			t.Errorf("-off %q: /proc/1/environ read: %v, want %v\n%s", off, read, off == "caps", r.Stderr)
		}
		if strings.Contains(r.Stdout, "hunter2") {
			t.Errorf("-off %q: the caller's variable is inside, in the command's or PID 1's environment:\n%s", off, r.Stdout)
		}
	}
}
