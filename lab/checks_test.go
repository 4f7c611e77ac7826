package lab

// Tests of the exercise checkers (make check-NN, lab/checks/NN.sh): for each
// exercise of a chapter's README, the checker says "not yet" in a clean
// state; the test then does what the exercise asks, the way a learner
// would (nsenter, ip, unshare, the chapter's programs), and the checker
// says "done". Everything is undone at the end.

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common/nstest"
)

//go:embed checks/*.sh
var checks embed.FS

// The lab has no program of its own; Main removes what nstest.Chapter built.
func TestMain(m *testing.M) { nstest.Main(m, func() {}) }

// checker is one chapter's check script, written out with checks/lib.sh
// and the lab's lib.sh, which that sources from ../lib.sh.
type checker struct {
	nn     string
	script string
	wrap   []string // runs the script through this, e.g. nsenter -t PID -m
}

func newChecker(t *testing.T, nn string) *checker {
	t.Helper()
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "bash", "bash")
	nstest.RequireTool(t, "nsenter", "util-linux")
	dir := filepath.Join(labScripts(t), "checks")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lib.sh", nn + ".sh"} {
		b, err := checks.ReadFile("checks/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &checker{nn: nn, script: filepath.Join(dir, nn+".sh")}
}

// A line of a checker's output: "exercise N (TITLE): done — DETAIL" or
// "exercise N (TITLE): not yet — WHAT", followed by "    hint: HINT".
var checkLine = regexp.MustCompile(`^exercise (\d+) \((.*)\): (done|not yet)(?: — (.*))?$`)

type report struct {
	out   string
	code  int
	state map[int]string // exercise -> "done" or "not yet"
	text  map[int]string // exercise -> detail, or what is missing and the hint
}

func (c *checker) run(t *testing.T) report {
	t.Helper()
	args := append(append([]string{}, c.wrap...), "bash", c.script)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	// A guard against a checker that hangs, not a timing test: how long
	// a checker takes depends on the machine's load and,
	// in the harness's guest, on qemu's software CPU (TCG).
	limit := 30 * time.Second
	if os.Getenv("NSLAB_GUEST") == "1" {
		limit = 90 * time.Second
	}
	if d := time.Since(start); d > limit {
		t.Errorf("check-%s took %v: it hangs (the limit is %v)", c.nn, d.Round(time.Millisecond), limit)
	}
	r := report{out: out.String(), state: map[int]string{}, text: map[int]string{}}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("bash %s: %v", c.script, err)
	}
	last := 0
	for _, l := range strings.Split(r.out, "\n") {
		if m := checkLine.FindStringSubmatch(l); m != nil {
			last, _ = strconv.Atoi(m[1])
			r.state[last], r.text[last] = m[3], m[4]
		} else if h, ok := strings.CutPrefix(l, "    hint: "); ok && last > 0 {
			r.text[last] += " (hint: " + h + ")"
		}
	}
	return r
}

// expect runs the checker until exercise ex is in state want (done or not
// yet), at most 10 s (a process the test started may take a moment to get
// there), and returns the report. A "not yet" must come with what is
// missing and a hint, and the exit status must say whether all is done.
func (c *checker) expect(t *testing.T, ex int, want string) report {
	t.Helper()
	return c.expectText(t, ex, want, "")
}

// expectText is expect, and the exercise's line must also match re: the
// checker must come to say that within the 10 s, as other processes on the
// machine (tests running in parallel) come and go.
func (c *checker) expectText(t *testing.T, ex int, want, re string) report {
	t.Helper()
	match := regexp.MustCompile(re)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := c.run(t)
		if r.state[ex] == want && match.MatchString(r.text[ex]) {
			t.Logf("check-%s exercise %d: %s — %s", c.nn, ex, want, r.text[ex])
			if want == "not yet" && !strings.Contains(r.text[ex], "(hint: ") {
				t.Errorf("check-%s exercise %d says \"not yet\" without a hint:\n%s", c.nn, ex, r.out)
			}
			allDone := !strings.Contains(r.out, ": not yet")
			if (r.code == 0) != allDone || (r.code != 0 && r.code != 1) {
				t.Errorf("check-%s exited %d; want 0 when every exercise is done, else 1:\n%s", c.nn, r.code, r.out)
			}
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("check-%s: exercise %d is not %q matching /%s/ after 10 s:\n%s", c.nn, ex, want, re, r.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// background starts a command the way a learner leaves one running in
// another shell, and kills it (and waits for it) when the test ends. It
// dies with the test process too.
func background(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &unix.SysProcAttr{Pdeathsig: unix.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// sh runs a shell command line as a learner would type it; it must succeed.
func sh(t *testing.T, line string) string {
	t.Helper()
	return nstest.Exec(t, "bash", "-c", line)
}

// program starts a chapter's program (built by nstest.Chapter) and waits
// for the line that gives the PID the exercise needs.
func program(t *testing.T, chapter, pidLine string, args ...string) (*nstest.Started, int) {
	t.Helper()
	s := nstest.Start(t, exec.Command(nstest.Chapter(t, chapter), args...))
	pid, _ := strconv.Atoi(s.Expect(t, pidLine)[1])
	// The program's child holds its stdout too: make sure it is gone
	// before Start's cleanup waits for the end of that output, even if
	// the parent-death signal did not reach it (seen once). A pidfd, so
	// that a reused PID is never hit.
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		t.Cleanup(func() {
			unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			unix.Close(fd)
		})
	}
	return s, pid
}

// interrupt is Ctrl-C for a program started by program: it cleans up and
// exits. Registered as a cleanup, it runs before Start's own (a SIGKILL,
// which would leave the program's host-side objects behind).
func interrupt(t *testing.T, s *nstest.Started) {
	t.Cleanup(func() {
		s.Cmd.Process.Signal(unix.SIGINT)
		s.Wait(t)
	})
}

// childOf returns a child of pid (the first in /proc), or fails.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if kids := nstest.ProcsWhere(func(n int) bool { return nstest.PPid(n) == pid }); len(kids) > 0 {
			return kids[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d has no child", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pinNS bind-mounts /proc/PID/ns/TYPE on a new file in /run, as the
// exercises ask, and undoes it when the test ends.
func pinNS(t *testing.T, pid int, typ string) string {
	t.Helper()
	path := fmt.Sprintf("/run/nslab-ex-%s-%d", typ, os.Getpid())
	t.Cleanup(func() {
		unix.Unmount(path, unix.MNT_DETACH)
		os.Remove(path)
	})
	sh(t, fmt.Sprintf("touch %s && mount --bind /proc/%d/ns/%s %s", path, pid, typ, path))
	return path
}

// 01-clone: a process with the host's network and new UTS, IPC, mount and
// PID namespaces; a time namespace with a boot-time offset.
func TestCheck01(t *testing.T) {
	t.Parallel()
	c := newChecker(t, "01")
	nstest.RequireNamespace(t, "time")
	nstest.RequireTool(t, "unshare", "util-linux")
	c.expect(t, 1, "not yet")
	c.expect(t, 2, "not yet")
	bin := nstest.Chapter(t, "01-clone")

	// Exercise 1: a wrong set first (a new net), then the right one.
	wrong := background(t, bin, "ns_child_exec", "-n", "-p", "sleep", "1000")
	c.expectText(t, 1, "not yet", `shares uts ipc mnt with the host and has a new net`)
	wrong.Process.Kill()
	wrong.Wait()
	background(t, bin, "ns_child_exec", "-i", "-m", "-p", "-u", "sleep", "1000")
	c.expectText(t, 1, "done", `new uts, ipc, mnt and pid namespaces`)

	// Exercise 2: ns_child_exec -T makes a time namespace too late for an
	// offset; unshare(1) writes one before its child enters.
	zero := background(t, bin, "ns_child_exec", "-T", "sleep", "1000")
	c.expectText(t, 2, "not yet", `boot-time offset is 0 s`)
	zero.Process.Kill()
	zero.Wait()
	background(t, "unshare", "--time", "--fork", "--kill-child", "--boottime", "86400", "sleep", "1000")
	c.expectText(t, 2, "done", `CLOCK_BOOTTIME is 86400 s \(one day\) ahead`)
}

// 02-uts: rename the child's namespace with nsenter; pin it and let it
// outlive the child.
func TestCheck02(t *testing.T) {
	t.Parallel()
	c := newChecker(t, "02")
	c.expect(t, 1, "not yet")
	c.expect(t, 2, "not yet")
	name := fmt.Sprintf("nslab-ex02-%d", os.Getpid())
	s, child := program(t, "02-uts", `^PID of child created by clone\(\) is (\d+)$`, "-hold", "600s", name)
	s.Expect(t, `^uts\.nodename in child: `)
	c.expectText(t, 1, "not yet", `is still called `+name)

	sh(t, fmt.Sprintf("nsenter -t %d -u hostname inside", child))
	c.expectText(t, 1, "done", `named its namespace `+name+`, it is now inside`)

	path := pinNS(t, child, "uts")
	c.expectText(t, 2, "not yet", regexp.QuoteMeta(path)+`.*processes are still in it: PID `+strconv.Itoa(child))
	if err := unix.Kill(child, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if r := s.Wait(t); r.Code != 0 {
		t.Errorf("02-uts exited %d after its child was killed", r.Code)
	}
	c.expectText(t, 2, "done", regexp.QuoteMeta(path)+`.*named inside, and no process is in it`)
	if got := strings.TrimSpace(sh(t, "nsenter --uts="+path+" hostname")); got != "inside" {
		t.Errorf("nsenter --uts=%s hostname = %q, want inside", path, got)
	}
}

// 03-ipc: a System V segment and a POSIX queue in the child's namespace.
func TestCheck03(t *testing.T) {
	t.Parallel()
	c := newChecker(t, "03")
	nstest.RequireTool(t, "ipcmk", "util-linux")
	c.expect(t, 1, "not yet")
	c.expect(t, 2, "not yet")
	s, child := program(t, "03-ipc", `^PID of child in new IPC namespace: (\d+)$`, "-hold", "600s")
	interrupt(t, s)
	s.Expect(t, `^child: staying`)
	c.expectText(t, 1, "not yet", fmt.Sprintf(`PID %d, holds no shared memory segment`, child))

	sh(t, fmt.Sprintf("nsenter -t %d -i ipcmk -M 4096", child))
	c.expectText(t, 1, "done", `4096 bytes\); the host's ipcs -m does not list it`)

	// The usual mistake: a queue made in the host's namespace.
	queue := fmt.Sprintf("nslab-ex03-%d", os.Getpid())
	mq := "unshare -m sh -c 'mount -t mqueue none /mnt && %s /mnt/" + queue + "'"
	t.Cleanup(func() { exec.Command("bash", "-c", fmt.Sprintf(mq, "rm -f")).Run() })
	sh(t, fmt.Sprintf(mq, "touch"))
	c.expectText(t, 2, "not yet", `the host's has /`+queue)
	sh(t, fmt.Sprintf(mq, "rm"))

	sh(t, fmt.Sprintf("nsenter -t %d -i "+mq, child, "touch"))
	c.expectText(t, 2, "done", `holds the queue /`+queue+`; the host's has no /`+queue)
}

// 04-pid: a zombie under PID 1; a pinned PID namespace emptied by killing
// its PID 1.
func TestCheck04(t *testing.T) {
	t.Parallel()
	c := newChecker(t, "04")
	c.expect(t, 1, "not yet")
	c.expect(t, 2, "not yet")
	s, init := program(t, "04-pid", `^cpid: (\d+)$`, "-hold", "600s", "3")
	s.Expect(t, `^holding `)
	c.expectText(t, 1, "not yet", fmt.Sprintf(`children of PID 1 \(host PID %d\) are all alive`, init))

	kid := childOf(t, init)
	if err := unix.Kill(kid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.expectText(t, 1, "done", fmt.Sprintf(`host PID %d \(PID \d+ inside\) is a zombie`, kid))

	path := pinNS(t, init, "pid")
	c.expectText(t, 2, "not yet", fmt.Sprintf(`its PID 1 is host PID %d`, init))
	if err := unix.Kill(init, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.Wait(t)
	c.expectText(t, 2, "done", regexp.QuoteMeta(path)+`.*no process is left in it`)
	// What the exercise shows: a PID namespace without its PID 1 takes no
	// new process.
	out, err := exec.Command("nsenter", "--pid="+path, "true").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Cannot allocate memory") {
		t.Errorf("nsenter --pid=%s true: %v, %q; want fork to fail with ENOMEM", path, err, out)
	}
}

// 05-mount: a mount that leaks from the seed's code on a shared /; a mount
// added to a running container with nsenter -m.
func TestCheck05(t *testing.T) {
	t.Parallel()
	c := newChecker(t, "05")
	nstest.RequireTool(t, "unshare", "util-linux")

	// Exercise 1 in a "systemd host" of our own: a mount namespace whose /
	// is shared, held by a sleep; the checker runs in it, as the README
	// says to do on a host whose / is private.
	const leak = "/mnt/nslab-leak"
	t.Cleanup(func() { os.Remove(leak) }) // runs last: after the holder, with its mounts, is gone
	// Its mounts are made private first, which takes them out of the real
	// host's peer groups (all of them in the guest): the leak stays in it.
	holder := background(t, "unshare", "-m", "--propagation", "private", "sh", "-c", "mount --make-rshared / && exec sleep 1000")
	inHolder := []string{"nsenter", "-t", strconv.Itoa(holder.Process.Pid), "-m"}
	waitNS(t, holder.Process.Pid, "mnt")
	c.wrap = inHolder
	c.expectText(t, 1, "not yet", `nothing is mounted on `+leak)
	if src := filepath.Join("..", "05-mount", "c", "newns.c"); fileExists(src) {
		// As the README says: the seed's C without its make-rprivate and its
		// proc mount, built and run; its bash mounts the tmpfs.
		gcc := nstest.RequireTool(t, "gcc", "gcc")
		leaky := filepath.Join(t.TempDir(), "leaky")
		sh(t, fmt.Sprintf(`sed '/MS_REC | MS_PRIVATE/d; /"\/root\/proc"/d' %s > %s.c && %s -O2 -Wall -Wextra -Werror -o %s %s.c -lrt`,
			src, leaky, gcc, leaky, leaky))
		sh(t, fmt.Sprintf("echo 'mkdir -p %s; mount -t tmpfs tmpfs %s' | %s %s", leak, leak, strings.Join(inHolder, " "), leaky))
	} else {
		// In the guest, which has the test binaries but no sources: the
		// same system calls with unshare(1), whose --propagation unchanged
		// keeps the seed's bug.
		t.Logf("no %s here: leaking with unshare --propagation unchanged instead", src)
		os.Mkdir(leak, 0o755)
		nstest.Exec(t, inHolder[0], append(inHolder[1:], "unshare", "-m", "--propagation", "unchanged",
			"mount", "-t", "tmpfs", "tmpfs", leak)...)
	}
	c.expectText(t, 1, "done", `a tmpfs is mounted on `+leak+` in this mount namespace \(shared:\d+\)`)
	c.wrap = nil
	c.expect(t, 1, "not yet") // the real host: the leak stayed in the holder's namespace

	// Exercise 2.
	s, child := program(t, "05-mount", `^PID of child created by clone\(\) is (\d+)$`, "sleep", "1000")
	s.Expect(t, `^\+ exec sleep 1000`)
	c.expectText(t, 2, "not yet", fmt.Sprintf(`mount namespace \(PID %d\) has no mount whose source is nslab-ex05`, child))
	sh(t, fmt.Sprintf("nsenter -t %d -m mount -t tmpfs nslab-ex05 /mnt", child))
	c.expectText(t, 2, "done", fmt.Sprintf(`PID %d has nslab-ex05 \(tmpfs\) on /mnt; the host has no nslab-ex05`, child))
}

// 06-net: name a process's namespace with ip netns attach; a veth pair
// between two named namespaces, and a ping.
func TestCheck06(t *testing.T) {
	t.Parallel()
	nstest.LockNetns(t) // the exercises add names to the host's /run/netns, as 06-net's tests do
	c := newChecker(t, "06")
	nstest.RequireTool(t, "ip", "iproute2")
	nstest.RequireTool(t, "ping", "iputils-ping")
	c.expect(t, 1, "not yet")
	c.expect(t, 2, "not yet")
	prefix := fmt.Sprintf("nslab-ex06-%d", os.Getpid())
	netns := func(name string) string {
		t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
		return name
	}

	s, child := program(t, "06-net", `^child PID (\d+) holds its network namespace`, "show", "-hold", "600s")
	c.expectText(t, 1, "not yet", fmt.Sprintf(`network namespace of the child, PID %d`, child))
	held := netns(prefix + "-held")
	sh(t, fmt.Sprintf("ip netns attach %s %d", held, child))
	c.expectText(t, 1, "done", fmt.Sprintf(`ip netns list shows %s: the network namespace of PID %d`, held, child))
	s.Cmd.Process.Kill()
	s.Wait(t)

	a, b := netns(prefix+"-a"), netns(prefix+"-b")
	sh(t, "ip netns add "+a+" && ip netns add "+b+" && ip -n "+a+" link add ex06a type veth peer name ex06b netns "+b)
	c.expectText(t, 2, "not yet", `ex06[ab] in `+prefix+`-[ab] is down`)
	sh(t, "ip -n "+a+" link set ex06a up && ip -n "+b+" link set ex06b up && "+
		"ip -n "+a+" addr add 10.200.66.1/24 dev ex06a && ip -n "+b+" addr add 10.200.66.2/24 dev ex06b")
	c.expectText(t, 2, "not yet", `joined and addressed, but .* has had no echo reply yet`)
	sh(t, "ip netns exec "+a+" ping -c 1 -W 5 10.200.66.2")
	c.expectText(t, 2, "done", a+` \(10\.200\.66\.1/24 on ex06a\) and `+b+` \(10\.200\.66\.2/24 on ex06b\) are joined by a veth pair; `+a+` sent \d+ echo requests and got [1-9]\d* replies`)
}

// 07-user: the maps of a user namespace written by hand; a process that is
// uid 1000 inside and 101000 outside.
func TestCheck07(t *testing.T) {
	t.Parallel()
	c := newChecker(t, "07")
	nstest.RequireNamespace(t, "user")
	nstest.RequireTool(t, "unshare", "util-linux")
	c.expect(t, 1, "not yet")
	c.expect(t, 2, "not yet")

	// A map of one id, as 07-user writes it, is not what exercise 1 asks.
	one := background(t, "unshare", "--user", "sleep", "1000")
	waitNS(t, one.Process.Pid, "user")
	c.expectText(t, 1, "not yet", fmt.Sprintf(`PID %d, sleep\): its uid_map is empty`, one.Process.Pid))
	sh(t, fmt.Sprintf("echo '0 100000 1' > /proc/%d/uid_map", one.Process.Pid))
	c.expectText(t, 1, "not yet", `its uid_map maps 1 id\(s\) from 0 inside`)
	one.Process.Kill()
	one.Wait()

	p := background(t, "unshare", "--user", "sleep", "1000").Process.Pid
	waitNS(t, p, "user")
	sh(t, fmt.Sprintf("echo '0 100000 65536' > /proc/%d/uid_map && echo '0 100000 65536' > /proc/%d/gid_map", p, p))
	c.expectText(t, 1, "done", fmt.Sprintf(`PID %d, sleep\): uids and gids 0-65535 inside are host 100000-165535`, p))
	c.expectText(t, 2, "not yet", fmt.Sprintf(`user namespace of PID %d runs as its uid 1000`, p))

	q := background(t, "nsenter", "-t", strconv.Itoa(p), "-U", "--setuid", "1000", "--setgid", "1000", "sleep", "1000").Process.Pid
	c.expectText(t, 2, "done", fmt.Sprintf(`PID %d \(sleep\) is uid 1000 in user:\[\d+\] and host uid 101000`, q))
}

// waitNS waits until pid is in another namespace of this type than the
// test and runs sleep (unshare has set everything up and exec'd it).
func waitNS(t *testing.T, pid int, typ string) {
	t.Helper()
	own, _ := os.Readlink("/proc/self/ns/" + typ)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, typ)); err == nil && l != own {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); strings.HasSuffix(exe, "/sleep") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not get a %s namespace of its own", pid, typ)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// cgroupTop is where a learner makes a cgroup for this controller: the
// cgroup2 root on a v2 machine, else the v1 hierarchy mounted with it.
func cgroupTop(t *testing.T, controller string) (dir string, v2 bool) {
	t.Helper()
	if nstest.CgroupV2(t) {
		return "/sys/fs/cgroup", true
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		_, post, ok := strings.Cut(l, " - ")
		f := strings.Fields(post)
		if !ok || len(f) < 3 || f[0] != "cgroup" {
			continue
		}
		for _, o := range strings.Split(f[2], ",") {
			if o == controller {
				return strings.Fields(l)[4], false
			}
		}
	}
	nstest.Skip(t, "no cgroup v1 hierarchy has the "+controller+" controller")
	return "", false
}

// learnerCgroup makes the cgroup an exercise asks for, and removes it at
// the end of the test with everything in it (thawed first).
func learnerCgroup(t *testing.T, dir string) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
		os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0)
		for i := 0; ; i++ {
			for _, pid := range cgroupProcs(dir) {
				unix.Kill(pid, unix.SIGKILL)
			}
			err := unix.Rmdir(dir)
			if err == nil || err == unix.ENOENT {
				return
			}
			if i == 200 {
				t.Errorf("rmdir %s: %v", dir, err)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	return dir
}

func cgroupProcs(dir string) []int {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// placed starts, the way the exercises say, a shell that moves itself into
// dir and then execs the command line; it waits until the cgroup holds it.
func placed(t *testing.T, dir, command string, prefix ...string) {
	t.Helper()
	args := append(append([]string{}, prefix...), "sh", "-c", "echo $$ > "+dir+"/cgroup.procs && exec "+command)
	cmd := background(t, args[0], args[1:]...)
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(cgroupProcs(dir), cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatalf("%q did not get into %s", command, dir)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// nsdelegate: the cgroup2 file system at /sys/fs/cgroup is mounted with
// the nsdelegate option.
func nsdelegate(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		pre, post, _ := strings.Cut(l, " - ")
		if f, g := strings.Fields(pre), strings.Fields(post); len(f) > 4 && f[4] == "/sys/fs/cgroup" && len(g) > 2 && g[0] == "cgroup2" {
			return slices.Contains(strings.Split(g[2], ","), "nsdelegate")
		}
	}
	return false
}

// writeFile writes a cgroup file as `echo VALUE > FILE` would.
func writeFile(t *testing.T, path, value string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		t.Fatalf("echo %s > %s: %v", value, path, err)
	}
}

// 08-cgroup: 150% for a load of two workers; a frozen (not stopped)
// process; a cgroup namespace made after the move into a cgroup; an OOM
// kill inside a memory cgroup; a fork loop stopped at pids.max.
//
// Not parallel: on v2 it switches cpu on in the root's subtree_control for
// the time of the test, which must not overlap with the tour's 08-cgroup
// run (in this package). No package's tests overlap in the guest.
func TestCheck08(t *testing.T) {
	c := newChecker(t, "08")
	nstest.LockCgroups(t) // nor with 08-cgroup's quota tests, in their package
	nstest.RequireNamespace(t, "cgroup")
	nstest.RequireTool(t, "unshare", "util-linux")
	nstest.RequireTool(t, "stress", "stress")
	for ex := 1; ex <= 5; ex++ {
		c.expect(t, ex, "not yet")
	}

	// Exercise 1.
	cpuTop, v2 := cgroupTop(t, "cpu")
	if v2 {
		enableController(t, cpuTop, "cpu")
	}
	q := learnerCgroup(t, filepath.Join(cpuTop, "nslab-ex08-quota"))
	c.expectText(t, 1, "not yet", regexp.QuoteMeta(q)+` has no quota; want 150%`)
	if v2 {
		writeFile(t, q+"/cpu.max", "50000 100000")
	} else {
		writeFile(t, q+"/cpu.cfs_period_us", "100000")
		writeFile(t, q+"/cpu.cfs_quota_us", "50000")
	}
	c.expectText(t, 1, "not yet", `has a quota of 50000 per 100000 µs, 50% of one CPU; want 150%`)
	if v2 {
		writeFile(t, q+"/cpu.max", "150000 100000")
	} else {
		writeFile(t, q+"/cpu.cfs_quota_us", "150000")
	}
	c.expectText(t, 1, "not yet", `nothing runs in `+regexp.QuoteMeta(q))
	placed(t, q, "stress -c 1 --timeout 60")
	c.expectText(t, 1, "not yet", `used about \d+% of one CPU and were never throttled`)
	for _, pid := range cgroupProcs(q) {
		unix.Kill(pid, unix.SIGKILL)
	}
	placed(t, q, "stress -c 2 --timeout 60")
	c.expectText(t, 1, "done", `quota 150000 per 100000 µs; (PIDs [\d ]+ were throttled in [1-9]\d* of \d+ periods|[2-9] of PIDs [\d ]+ ran at once)`)

	// Exercise 2.
	freezerTop, _ := cgroupTop(t, "freezer")
	f := learnerCgroup(t, filepath.Join(freezerTop, "nslab-ex08-freeze"))
	freeze, thaw := [2]string{f + "/freezer.state", "FROZEN"}, [2]string{f + "/freezer.state", "THAWED"}
	if v2 {
		freeze, thaw = [2]string{f + "/cgroup.freeze", "1"}, [2]string{f + "/cgroup.freeze", "0"}
	}
	c.expectText(t, 2, "not yet", `nothing runs in `+regexp.QuoteMeta(f))
	placed(t, f, "yes > /dev/null")
	c.expectText(t, 2, "not yet", `holds PID \d+, and is not frozen`)
	busy := cgroupProcs(f)[0]
	unix.Kill(busy, unix.SIGSTOP)
	c.expectText(t, 2, "not yet", fmt.Sprintf(`PID %d in .* is stopped by a signal \(state T\)`, busy))
	unix.Kill(busy, unix.SIGCONT)
	writeFile(t, freeze[0], freeze[1])
	c.expectText(t, 2, "done", fmt.Sprintf(`is frozen: PID %d is [DS], not T`, busy))
	writeFile(t, thaw[0], thaw[1])
	c.expectText(t, 2, "not yet", `and is not frozen`)

	// Exercise 3: unshare -C before the move, then after.
	n := learnerCgroup(t, filepath.Join(freezerTop, "nslab-ex08-ns"))
	c.expectText(t, 3, "not yet", `nothing runs in `+regexp.QuoteMeta(n))
	if v2 && nsdelegate(t) {
		// With nsdelegate (systemd mounts cgroup2 so), a cgroup namespace
		// is a delegation boundary: from inside, no move crosses its root,
		// and the wrong order fails (ENOENT).
		out, err := exec.Command("unshare", "-C", "bash", "-c", "echo $$ > "+n+"/cgroup.procs").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "No such file or directory") {
			t.Errorf("moved into %s from a cgroup namespace rooted elsewhere: %v, %q; v2 must refuse it (ENOENT)", n, err, out)
		}
	} else {
		placed(t, n, "sleep 1000", "unshare", "-C")
		c.expectText(t, 3, "not yet", `sees itself at /\S*nslab-ex08-ns: it was moved after the namespace was made`)
		for _, pid := range cgroupProcs(n) {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
	placed(t, n, "unshare -C sleep 1000")
	c.expectText(t, 3, "done", `PID \d+ \(sleep\) is in `+regexp.QuoteMeta(n)+`; its /proc/\d+/cgroup reads /nslab-ex08-ns from the host's cgroup namespace and / from its own`)

	// Exercise 4: a memory limit, then a hog in it.
	memTop, _ := cgroupTop(t, "memory")
	if v2 {
		enableController(t, memTop, "memory")
	}
	mem := learnerCgroup(t, filepath.Join(memTop, "nslab-ex08-memory"))
	limitFile := mem + "/memory.limit_in_bytes"
	if v2 {
		limitFile = mem + "/memory.max"
	}
	c.expectText(t, 4, "not yet", regexp.QuoteMeta(mem)+` has no memory limit`)
	writeFile(t, limitFile, "32M")
	c.expectText(t, 4, "not yet", `has a limit of 32 MiB, and the OOM killer has killed nothing in it`)
	// The pause: placed sees the shell in the cgroup before tail fills it.
	placed(t, mem, "sh -c 'sleep 0.3; exec tail /dev/zero'")
	c.expectText(t, 4, "done", regexp.QuoteMeta(mem)+`: limit 32 MiB; the kernel's OOM killer killed 1 process\(es\) in it \(oom_kill 1\)`)

	// Exercise 5: a limit on tasks, then a fork loop in it.
	pidsTop, _ := cgroupTop(t, "pids")
	if v2 {
		enableController(t, pidsTop, "pids")
	}
	p := learnerCgroup(t, filepath.Join(pidsTop, "nslab-ex08-pids"))
	c.expectText(t, 5, "not yet", regexp.QuoteMeta(p)+` has no limit`)
	writeFile(t, p+"/pids.max", "10")
	c.expectText(t, 5, "not yet", `holds 0 of at most 10 tasks, and no fork in it has been refused yet`)
	placed(t, p, `bash -c 'while :; do sleep 60 & done'`)
	c.expectText(t, 5, "done", regexp.QuoteMeta(p)+`: pids.max 10; the kernel refused [1-9]\d* fork\(s\) in it with EAGAIN \(pids.events max [1-9]\d*\), and it holds 10 task\(s\)`)
}

// 09-setns: a PID namespace joined (the joiner stays outside, its child
// goes in); a user namespace joined from Go through the C constructor.
func TestCheck09(t *testing.T) {
	t.Parallel()
	c := newChecker(t, "09")
	nstest.RequireNamespace(t, "pid")
	nstest.RequireNamespace(t, "user")
	nstest.RequireTool(t, "unshare", "util-linux")
	c.expect(t, 1, "not yet")
	c.expect(t, 2, "not yet")
	bin := nstest.Chapter(t, "09-setns")

	// Exercise 1. The target is unshare's child, PID 1 of the namespace.
	u := background(t, "unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "sleep", "1000")
	target := childOf(t, u.Process.Pid)
	waitNS(t, target, "pid")
	pidns := nstest.KeepNS(t, target, "pid")
	c.expectText(t, 1, "not yet", `no process has joined a PID namespace and started a child in it`)
	j := background(t, bin, "-t", strconv.Itoa(target), "-p", "sleep", "1000")
	c.expectText(t, 1, "done", fmt.Sprintf(`^PID %d \(09-setns\) stayed in pid:\[\d+\], and its pid_for_children is pid:\[%d\]: its child PID \d+ \(sleep\) is PID \d+ in pid:\[%d\]$`,
		j.Process.Pid, pidns, pidns))

	// Exercise 2: Go alone cannot; the constructor can.
	owner := background(t, "unshare", "--user", "--map-root-user", "sleep", "1000").Process.Pid
	waitNS(t, owner, "user")
	userns := nstest.KeepNS(t, owner, "user")
	c.expectText(t, 2, "not yet", `is alone in user:\[\d+\]: nothing has joined it`)
	r := nstest.Run(t, exec.Command(bin, "-go-only", "-t", strconv.Itoa(owner), "-U", "id"))
	if r.Code != 1 || !strings.Contains(r.Stderr, "setns user: EINVAL") {
		t.Errorf("09-setns -go-only -t %d -U id: exit %d, stderr %q; want 1 and setns user: EINVAL", owner, r.Code, r.Stderr)
	}
	background(t, bin, "-t", strconv.Itoa(owner), "-U", "sleep", "1000")
	c.expectText(t, 2, "done", fmt.Sprintf(`^user:\[%d\] has 2 processes that came in from another user namespace: PID %d \(sleep\), PID \d+ \(\S+\); the first made it`,
		userns, owner))
}

// 10-container: Docker's 14 capabilities, a rootless container, and
// /proc/cmdline masked. Exercises 1 and 3 change the chapter's code; the
// test cannot rebuild it (the guest has no network for go.mod's Go), so
// it makes the kernel state they lead to by other means: a process
// dressed as a containerInit (argv[0] and NSLAB_PROG, what the checker
// looks for) whose child has the capabilities, or the mount, the edited
// program would give it. Exercise 2 is the real thing, run as nobody.
func TestCheck10(t *testing.T) {
	t.Parallel()
	c := newChecker(t, "10")
	setpriv := nstest.RequireTool(t, "setpriv", "util-linux")
	c.expect(t, 1, "not yet")
	c.expect(t, 2, "not yet")
	c.expect(t, 3, "not yet")
	c.expect(t, 4, "not yet")

	// What nobody can run: a copy of the program and a rootfs, under a
	// directory anyone may enter.
	// (Not t.TempDir: the directory above it is root's alone.)
	dir, err := os.MkdirTemp("", "nslab-check10-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	prog := filepath.Join(dir, "10-container")
	b, err := os.ReadFile(nstest.Chapter(t, "10-container"))
	if err == nil {
		err = os.WriteFile(prog, b, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(dir, "rootfs")
	sh(t, nstest.Chapter(t, "05-mount")+" mkrootfs "+rootfs+" >/dev/null")

	// The container as the README has it: 13 capabilities, /proc/cmdline
	// readable.
	s := nstest.Start(t, exec.Command(nstest.Chapter(t, "10-container"), "run", "-rootfs", rootfs, "--", "sleep", "600"))
	interrupt(t, s)
	s.Expect(t, `^\+ exec sleep 600`)
	c.expectText(t, 1, "not yet", `CapEff 00000000a80405fb, not Docker's`)
	c.expectText(t, 3, "not yet", `can read the host's kernel command line`)
	c.expectText(t, 4, "not yet", `started by a 10-container run that holds no directory open`)

	// Exercise 4: a shell's `exec 7< DIR`, then the container with -off
	// fds (the directory reaches the command), then without.
	held, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	withFD := func(args ...string) *nstest.Started {
		cmd := exec.Command(nstest.Chapter(t, "10-container"), append([]string{"run", "-rootfs", rootfs}, args...)...)
		cmd.ExtraFiles = []*os.File{nil, nil, nil, nil, held} // fd 7
		s := nstest.Start(t, cmd)
		s.Expect(t, `^\+ exec sleep 600`)
		return s
	}
	leak := withFD("-off", "fds", "--", "sleep", "600")
	c.expectText(t, 4, "not yet", `holds fd 7 -> `+regexp.QuoteMeta(dir)+`, a directory of the host`)
	leak.Cmd.Process.Signal(unix.SIGINT)
	leak.Wait(t)
	interrupt(t, withFD("--", "sleep", "600"))
	c.expectText(t, 4, "done", `the caller held fd 7 -> `+regexp.QuoteMeta(dir)+` \(PID [0-9]+, 10-container run\)`)

	// Rootless, as nobody: uid 0 inside is 65534 outside.
	background(t, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", prog, "run", "-rootless", "-rootfs", rootfs, "--", "sleep", "600")
	c.expectText(t, 2, "done", `uid_map: 0 65534 1\), uid 65534 on the host`)

	// The stand-ins' commands die with them (--pdeathsig): background
	// kills the stand-in alone.

	// Exercise 1's end: Docker's 14, cap_net_raw among them.
	docker14 := "-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap"
	background(t, "env", "NSLAB_PROG=10-container", "bash", "-c",
		`exec -a containerInit bash -c "`+setpriv+` --pdeathsig KILL --bounding-set=`+docker14+` sleep 600 & wait"`)
	c.expectText(t, 1, "done", `Docker's 14 capabilities \(00000000a80425fb\)`)

	// Exercise 3's end: /proc/cmdline a mount in the command's namespace.
	background(t, "env", "NSLAB_PROG=10-container", "bash", "-c",
		`exec -a containerInit bash -c "`+setpriv+` --pdeathsig KILL unshare -m --propagation private sh -c 'mount --bind /dev/null /proc/cmdline && exec sleep 600' & wait"`)
	c.expectText(t, 3, "done", `/proc/cmdline is a mount in its namespace`)
}
