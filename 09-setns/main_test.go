package main

import (
	"embed"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
	"nslab/common/nstest"
)

//go:embed c/*.c
var cSources embed.FS

//go:embed README.md
var readme string

//go:embed README.ko.md
var readmeKo string

func TestMain(m *testing.M) { nstest.Main(m, main) }

// TestReadme: the commands and outputs README.md and its translation show
// are what the code does today.
func TestReadme(t *testing.T) {
	t.Parallel()
	nstest.Readme(t, nstest.Doc{Name: prog, Text: readme, Ko: readmeKo, C: cSources})
}

const prog = "09-setns"

// The tests judge by what the kernel shows: the inodes of /proc/PID/ns/*
// of the target, of the joined process and of its child, read from the
// host's /proc by host PID; NSpid in /proc/PID/status; the hostname a
// joined command gets from uname(2); and nsenter(1) as a peer.

// seedTypes are the six the seed joins.
var seedTypes = []string{"uts", "user", "pid", "ipc", "net", "mnt"}

// startTarget starts a process in namespaces of its own, as the brief's
// util-linux command does, run by uid (0 or 65534), and returns the host
// PID of its `sleep` (PID 1 of its PID namespace) once the hostname is set.
// unshareArgs come after "--fork --kill-child": killing unshare at the end
// of the test kills the sleep, and with it the namespaces.
func startTarget(t *testing.T, uid int, unshareArgs ...string) int {
	t.Helper()
	unshare := nstest.RequireTool(t, "unshare", "util-linux")
	args := append([]string{"--fork", "--kill-child"}, unshareArgs...)
	cmd := exec.Command(unshare, args...)
	if uid != 0 {
		setpriv := nstest.RequireTool(t, "setpriv", "util-linux")
		id := strconv.Itoa(uid)
		cmd = exec.Command(setpriv, append([]string{"--reuid=" + id, "--regid=" + id, "--clear-groups", "--", unshare}, args...)...)
		cmd.Dir = "/"
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := 0
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if pid != 0 {
			nstest.WaitGone(t, pid)
		}
	})
	pid = descendantNamed(t, cmd.Process.Pid, "sleep")
	return pid
}

// onlyTarget checks that no process but the target (and unshare, its
// parent, which is in all of its namespaces but the PID namespace) is left
// in the target's namespaces.
func onlyTarget(t *testing.T, what string, pid int, ns map[string]uint64) {
	t.Helper()
	for _, name := range seedTypes {
		procs := nstest.ProcsInNS(name, ns[name])
		procs = slices.DeleteFunc(procs, func(p int) bool { return p == pid || p == nstest.PPid(pid) })
		if len(procs) > 0 {
			t.Errorf("left in %s's %s namespace: %v", what, name, procs)
		}
	}
}

// allNew is the brief's target: six new namespaces and hostname host.
func allNew(host string) []string {
	return []string{"--pid", "--mount-proc", "--uts", "--ipc", "--net", "--mount", "--user", "--map-root-user",
		"sh", "-c", "hostname " + host + "; exec sleep 60"}
}

// descendantNamed waits (at most 10 s) for a descendant of root whose
// command name is comm, and returns its PID.
func descendantNamed(t *testing.T, root int, comm string) int {
	t.Helper()
	limit := nstest.Patience(10 * time.Second)
	deadline := time.Now().Add(limit)
	for {
		kids := map[int][]int{}
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if pid, err := strconv.Atoi(e.Name()); err == nil {
				kids[nstest.PPid(pid)] = append(kids[nstest.PPid(pid)], pid)
			}
		}
		for queue := kids[root]; len(queue) > 0; queue = queue[1:] {
			p := queue[0]
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p)); err == nil && strings.TrimSpace(string(b)) == comm {
				return p
			}
			queue = append(queue, kids[p]...)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no process %q below %d after %v", comm, root, limit)
		}
		// Not faster: each look reads every /proc/PID/stat, and seven
		// subtests look at once (TestRunSubsets), which in the emulated
		// arm64 guest took the CPU from the very processes looked for.
		time.Sleep(50 * time.Millisecond)
	}
}

// inode is /proc/PID/ns/NAME's inode as the host sees it.
func inode(t *testing.T, pid int, name string) uint64 {
	t.Helper()
	ino, err := common.NSInode(pid, name)
	if err != nil {
		t.Fatalf("namespace %s of %d: %v", name, pid, err)
	}
	return ino
}

// pinTarget holds the target's namespaces open till the test ends and
// returns their inodes.
func pinTarget(t *testing.T, pid int) map[string]uint64 {
	t.Helper()
	ns := map[string]uint64{}
	for _, name := range seedTypes {
		ns[name] = nstest.KeepNS(t, pid, name)
	}
	return ns
}

// nsPID is the last field of NSpid in /proc/PID/status: the process's PID
// in its own PID namespace; levels is the number of fields.
func nsPID(t *testing.T, pid int) (last, levels int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^NSpid:\s+(.*)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no NSpid in /proc/%d/status", pid)
	}
	f := strings.Fields(string(m[1]))
	last, _ = strconv.Atoi(f[len(f)-1])
	return last, len(f)
}

// checkJoined: for each seed type, pid's namespace is the target's when
// joined says so, and ours (the test's) otherwise.
func checkJoined(t *testing.T, who string, pid int, target map[string]uint64, joined func(string) bool) {
	t.Helper()
	for _, name := range seedTypes {
		got, theirs, ours := inode(t, pid, name), target[name], inode(t, 0, name)
		if want := joined(name); (want && got != theirs) || (!want && got != ours) {
			t.Errorf("%s (%d) %s namespace %d: target's is %d, ours %d; want the %s", who, pid, name, got, theirs, ours,
				map[bool]string{true: "target's", false: "test's"}[want])
		}
	}
}

// impl is the Go program or its C counterpart, the seed joiner with -hold.
type impl struct {
	name string
	cmd  func(t *testing.T, args ...string) *exec.Cmd
	// joiner returns the PID of the process that called setns: for Go the
	// re-executed copy that the constructor ran in, for C the program.
	joiner func(t *testing.T, started int) int
}

var impls = []impl{
	{"Go",
		func(t *testing.T, args ...string) *exec.Cmd { return nstest.Program(t, prog, args...) },
		func(t *testing.T, started int) int { return descendantNamed(t, started, "exe") }},
	{"C",
		func(t *testing.T, args ...string) *exec.Cmd {
			return exec.Command(nstest.BuildC(t, cSources, "setns_joiner"), args...)
		},
		func(t *testing.T, started int) int { return started }},
}

var childBlock = regexp.MustCompile(`(?m)^\*{8}\nin child process\npid : (\d+)\nppid : (\d+)\nuid : (\d+)\ngid : (\d+)\nhostname : (.*)\n\*{8}$`)

// TestSeedJoiner: the seed's claims, in Go and in C. The joiner (the
// process that called setns) is in the target's uts, user, ipc, net and mnt
// namespaces, but its own PID namespace is still ours: only its
// pid_for_children is the target's. Its child is in all six, numbered by
// the target's PID namespace, and prints what /proc/CHILD/status says.
func TestSeedJoiner(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			t.Parallel()
			pid := startTarget(t, 0, allNew("t09-"+strings.ToLower(im.name))...)
			target := pinTarget(t, pid)
			cmd := im.cmd(t, "-hold", strconv.Itoa(pid))
			s := nstest.Start(t, cmd)
			child, _ := strconv.Atoi(s.Expect(t, `^child pid : (\d+)$`)[1])
			s.Expect(t, `^in child process$`)
			s.Expect(t, `^\*{8}$`)
			s.Expect(t, `^\*{8}$`)
			joiner := im.joiner(t, cmd.Process.Pid)

			if pp := nstest.PPid(child); pp != joiner {
				t.Errorf("child %d has parent %d, want the joiner %d", child, pp, joiner)
			}
			checkJoined(t, "joiner", joiner, target, func(n string) bool { return n != "pid" })
			if got := inode(t, joiner, "pid_for_children"); got != target["pid"] {
				t.Errorf("joiner's pid_for_children %d, want the target's pid namespace %d", got, target["pid"])
			}
			checkJoined(t, "child", child, target, func(string) bool { return true })

			// The C, like the seed, prints "child pid" while its child
			// prints: anywhere among the child's lines.
			out := regexp.MustCompile(`(?m)^child pid : \d+\n`).ReplaceAllString(s.Output(), "")
			m := childBlock.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no child block in:\n%s", s.Output())
			}
			inNS, levels := nsPID(t, child)
			if printed, _ := strconv.Atoi(m[1]); printed != inNS || levels != 2 || inNS > 20 {
				t.Errorf("child prints pid %d; NSpid says %d at level %d; want them equal, small, one level down", printed, inNS, levels)
			}
			if m[2] != "0" || m[5] != "t09-"+strings.ToLower(im.name) {
				t.Errorf("child prints ppid %s, hostname %q; want 0 (its parent is outside) and the target's", m[2], m[5])
			}
			// The joiner's own PID never changed: every "pid :" line
			// before the child's block is its host PID.
			before, _, _ := strings.Cut(out, "********")
			for _, l := range regexp.MustCompile(`(?m)^pid : (\d+)$`).FindAllStringSubmatch(before, -1) {
				if l[1] != strconv.Itoa(joiner) {
					t.Errorf("joiner printed pid %s, want %d every time", l[1], joiner)
				}
			}
			var headers []string
			for _, h := range regexp.MustCompile(`(?m)^---- setns for (\w+) ----$`).FindAllStringSubmatch(before, -1) {
				headers = append(headers, h[1])
			}
			if want := []string{"uts", "user", "pid", "ipc", "net", "mount"}; !slices.Equal(headers, want) {
				t.Errorf("joined in the order %v, want the seed's %v", headers, want)
			}

			// End it: Ctrl-C for Go (the way -hold says), kill the child
			// for C. Nothing may stay in the target's namespaces.
			if im.name == "Go" {
				cmd.Process.Signal(unix.SIGINT)
			} else {
				unix.Kill(child, unix.SIGKILL)
			}
			r := s.Wait(t)
			nstest.NoPanic(t, r.Stderr)
			if r.Code == 0 {
				t.Errorf("exit 0 after the end of -hold, want 128+signal")
			}
			nstest.WaitGone(t, joiner)
			nstest.WaitGone(t, child)
			onlyTarget(t, "the target", pid, target)
		})
	}
}

var digits = regexp.MustCompile(`\d+`)

// seedLines keeps the lines the seed prints, numbers made N, but for
// "child pid : N": the seed's parent prints it while its child prints, in
// either order (Go orders them; the C, like the seed, does not).
func seedLines(t *testing.T, stdout string) []string {
	var out []string
	if n := strings.Count(stdout, "\nchild pid : "); n != 1 {
		t.Errorf("%d lines \"child pid : N\", want 1:\n%s", n, stdout)
	}
	for _, l := range strings.Split(stdout, "\n") {
		if regexp.MustCompile(`^(pid|ppid|uid|gid|hostname) : |^---- setns for |^\*{8}$|^in child process$|^\(already`).MatchString(l) {
			out = append(out, digits.ReplaceAllString(l, "N"))
		}
	}
	return out
}

// TestGoVsC: without -hold, both run to the end, exit 0, and print the same
// lines, against a target with six new namespaces and against clone-bash's
// (which keeps our net namespace: both skip it, where the seed would fail).
func TestGoVsC(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	for _, target := range []string{"unshare", "clone-bash"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			var pid int
			if target == "unshare" {
				pid = startTarget(t, 0, allNew("t09-vs")...)
			} else {
				cmd := nstest.Program(t, prog, "clone-bash", "-map", "-c", "hostname t09-vs; exec sleep 60")
				nstest.Start(t, cmd)
				t.Cleanup(func() { cmd.Process.Signal(unix.SIGTERM) })
				pid = descendantNamed(t, cmd.Process.Pid, "sleep")
			}
			var outs [][]string
			for _, im := range impls {
				r := nstest.Run(t, im.cmd(t, strconv.Itoa(pid)))
				nstest.NoPanic(t, r.Stderr)
				if r.Code != 0 || r.Stderr != "" {
					t.Fatalf("%s: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", im.name, r.Code, r.Stdout, r.Stderr)
				}
				outs = append(outs, seedLines(t, r.Stdout))
			}
			skips := slices.Index(outs[0], "(already in this namespace: nothing to join)") >= 0
			if !slices.Equal(outs[0], outs[1]) || len(outs[0]) < 40 || skips != (target == "clone-bash") {
				t.Errorf("Go and C print different lines, or skip net where they should not (or do not where they should):\nGo: %q\nC:  %q", outs[0], outs[1])
			}
		})
	}
}

// TestRunSubsets: -t PID with some letters runs the command with exactly
// those namespaces of the target and ours for the rest. Without -U the Go
// code joins them on its main thread, which /proc/PID/ns shows, and forks
// the command from it; with -U the C constructor joins them all.
func TestRunSubsets(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	pid := startTarget(t, 0, allNew("t09-sub")...)
	target := pinTarget(t, pid)
	for _, letters := range []string{"-u -n", "-i -p", "-m", "-p -m", "-U -u", "-U -p -m", "-a"} {
		t.Run(strings.ReplaceAll(letters, " ", ""), func(t *testing.T) {
			t.Parallel()
			want := map[string]bool{}
			for _, l := range strings.Fields(letters) {
				for _, ns := range common.Namespaces {
					if l == "-a" || l == "-"+string(ns.Letter) {
						want[ns.Name] = true
					}
				}
			}
			args := append([]string{"-t", strconv.Itoa(pid)}, strings.Fields(letters)...)
			cmd := nstest.Program(t, prog, append(args, "sleep", "30")...)
			s := nstest.Start(t, cmd)
			sleeper := descendantNamed(t, cmd.Process.Pid, "sleep")
			checkJoined(t, "command", sleeper, target, func(n string) bool { return want[n] })
			if inNS, levels := nsPID(t, sleeper); want["pid"] != (levels == 2) || (want["pid"] && inNS > 50) {
				t.Errorf("command's NSpid: %d at %d levels; pid namespace joined: %v", inNS, levels, want["pid"])
			}
			if !want["user"] {
				// The Go path: the main thread of the program itself moved.
				checkJoined(t, "09-setns", cmd.Process.Pid, target, func(n string) bool { return want[n] && n != "pid" })
				if got := inode(t, cmd.Process.Pid, "pid_for_children"); want["pid"] != (got == target["pid"]) {
					t.Errorf("09-setns's pid_for_children %d, target's pid namespace %d; -p given: %v", got, target["pid"], want["pid"])
				}
			} else if p := nstest.PPid(sleeper); p == cmd.Process.Pid {
				t.Errorf("with -U the command's parent should be the re-executed joiner, not 09-setns")
			}

			cmd.Process.Signal(unix.SIGTERM)
			r := s.Wait(t)
			nstest.NoPanic(t, r.Stderr)
			if r.Code != 128+int(unix.SIGTERM) {
				t.Errorf("exit %d after SIGTERM, want %d\nstderr:\n%s", r.Code, 128+int(unix.SIGTERM), r.Stderr)
			}
			nstest.WaitGone(t, sleeper)
		})
	}
}

// TestRunPrints: the command prints its PID and hostname: both are the
// kernel's answers inside (getpid, uname), and the PID is the one NSpid
// shows; the exit status is the command's.
func TestRunPrints(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	pid := startTarget(t, 0, allNew("t09-run")...)
	pinTarget(t, pid)
	cmd := nstest.Program(t, prog, "-t", strconv.Itoa(pid), "-a", "sh", "-c", `echo "pid=$$ host=$(hostname)"; exec sleep 30`)
	s := nstest.Start(t, cmd)
	m := s.Expect(t, `^pid=(\d+) host=(.*)$`)
	sleeper := descendantNamed(t, cmd.Process.Pid, "sleep")
	if inNS, _ := nsPID(t, sleeper); m[1] != strconv.Itoa(inNS) || m[2] != "t09-run" {
		t.Errorf("command says pid=%s host=%s; NSpid says %d; want equal and host t09-run", m[1], m[2], inNS)
	}
	unix.Kill(sleeper, unix.SIGKILL)
	if r := s.Wait(t); r.Code != 128+int(unix.SIGKILL) {
		t.Errorf("exit %d, want the command's status %d", r.Code, 128+int(unix.SIGKILL))
	}

	r := nstest.Run(t, nstest.Program(t, prog, "-t", strconv.Itoa(pid), "-u", "sh", "-c", "exit 7"))
	if r.Code != 7 {
		t.Errorf("exit %d, want the command's 7", r.Code)
	}
}

// TestJoin02Uts: the peer is another chapter's program. 02-uts keeps its
// child in a UTS namespace of its own; joining it gives the child's
// hostname, as nsenter does.
func TestJoin02Uts(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "nsenter", "util-linux")
	uts := exec.Command(nstest.Chapter(t, "02-uts"), "-hold", "30s", "nslab-09-uts")
	s := nstest.Start(t, uts)
	child, _ := strconv.Atoi(s.Expect(t, `^PID of child created by clone\(\) is (\d+)$`)[1])
	s.Expect(t, `^uts\.nodename in child: nslab-09-uts$`)
	nstest.KeepNS(t, child, "uts")

	r := nstest.Run(t, nstest.Program(t, prog, "-t", strconv.Itoa(child), "-u", "hostname"))
	nstest.NoPanic(t, r.Stderr)
	peer := strings.TrimSpace(nstest.Exec(t, "nsenter", "-t", strconv.Itoa(child), "-u", "hostname"))
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "nslab-09-uts" || peer != "nslab-09-uts" {
		t.Errorf("09-setns -t %d -u hostname: %q (exit %d); nsenter: %q; want nslab-09-uts\nstderr:\n%s", child, r.Stdout, r.Code, peer, r.Stderr)
	}
	if h := nstest.Hostname(t); h == "nslab-09-uts" {
		t.Errorf("the host's hostname changed")
	}
	unix.Kill(child, unix.SIGKILL)
	s.Wait(t)
	nstest.WaitGone(t, child)
}

// TestGoOnly: the Go boundary. From Go, on its locked thread, a user
// namespace is refused with EINVAL and a time namespace with EUSERS: the
// process has several threads. Through the constructor, both work.
func TestGoOnly(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	pid := strconv.Itoa(startTarget(t, 0, allNew("t09-go")...))
	r := nstest.Run(t, nstest.Program(t, prog, "-go-only", "-t", pid, "-U", "true"))
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, prog+": setns user: EINVAL: ") {
		t.Errorf("-go-only -U: exit %d, stderr %q; want 1 and one line \"%s: setns user: EINVAL: ...\"", r.Code, r.Stderr, prog)
	}
	for _, args := range [][]string{{"-t", pid, "-U", "true"}, {"-go-only", "-t", pid, "-u", "-m", "true"}} {
		if r := nstest.Run(t, nstest.Program(t, prog, args...)); r.Code != 0 {
			t.Errorf("%v: exit %d, want 0\nstderr:\n%s", args, r.Code, r.Stderr)
		}
	}
}

// TestTimeNamespace: a time namespace too needs a single-threaded caller
// (EUSERS from Go); through the constructor the command sees the target's
// clocks: /proc/uptime shows its boot-time offset.
func TestTimeNamespace(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.RequireNamespace(t, "time")
	const offset = 1000000 // seconds
	pid := startTarget(t, 0, "--time", "--boottime", strconv.Itoa(offset), "sleep", "60")
	nstest.KeepNS(t, pid, "time")
	pidS := strconv.Itoa(pid)

	r := nstest.Run(t, nstest.Program(t, prog, "-go-only", "-t", pidS, "-T", "true"))
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, prog+": setns time: EUSERS: ") {
		t.Errorf("-go-only -T: exit %d, stderr %q; want 1 and one line \"%s: setns time: EUSERS: ...\"", r.Code, r.Stderr, prog)
	}

	uptime := func(stdout string) float64 {
		v, err := strconv.ParseFloat(strings.Fields(stdout + " x")[0], 64)
		if err != nil {
			t.Fatalf("uptime %q: %v", stdout, err)
		}
		return v
	}
	host, _ := os.ReadFile("/proc/uptime")
	r = nstest.Run(t, nstest.Program(t, prog, "-t", pidS, "-T", "cat", "/proc/uptime"))
	if r.Code != 0 {
		t.Fatalf("-t -T: exit %d\nstderr:\n%s", r.Code, r.Stderr)
	}
	if got, h := uptime(r.Stdout), uptime(string(host)); got < h+offset-5 || got > h+offset+30 {
		t.Errorf("uptime in the joined time namespace %.0f s, host's %.0f s; want about %d s more", got, h, offset)
	}
}

// kernelThread finds a kernel thread: kthreadd (PID 2 on most hosts) or
// one of its children, which have no command line.
func kernelThread(t *testing.T) int {
	t.Helper()
	for _, pid := range []int{2, 3, 4, 5} {
		st, err := common.ReadStat(pid)
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && (st.PID == 2 || st.PPID == 2) && len(cmdline) == 0 {
			return pid
		}
	}
	nstest.Skip(t, "no kernel thread visible in /proc (a PID namespace of its own?)")
	return 0
}

// TestBadTarget: a PID that names no process, one that has exited, and a
// kernel thread: one line, exit 1, in both forms.
func TestBadTarget(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	kthread := kernelThread(t)
	for _, tc := range []struct {
		name string
		pid  int
		want string
	}{
		{"no-such", 99999999, "process 99999999: ESRCH: no such process"},
		{"exited", gone.Process.Pid, fmt.Sprintf("process %d: ESRCH: no such process", gone.Process.Pid)},
		{"kthread", kthread, fmt.Sprintf("PID %d (", kthread)},
	} {
		for _, args := range [][]string{{strconv.Itoa(tc.pid)}, {"-t", strconv.Itoa(tc.pid), "-a", "true"}} {
			t.Run(tc.name+"/"+args[0], func(t *testing.T) {
				t.Parallel()
				r := nstest.Run(t, nstest.Program(t, prog, args...))
				nstest.NoPanic(t, r.Stderr)
				if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, tc.want) || r.Stdout != "" {
					t.Errorf("exit %d, stderr %q, stdout %q; want 1 and one line with %q", r.Code, r.Stderr, r.Stdout, tc.want)
				}
			})
		}
	}
}

// TestUnprivileged: nobody may not open root's /proc/PID/ns files (EACCES).
// Against nobody's own target it may, and then the order matters: the
// seed's (uts before user) fails in the constructor with EPERM, since
// nobody has no CAP_SYS_ADMIN until it is in the target's user namespace;
// -a joins user first and works. Nothing is left behind.
func TestUnprivileged(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	rootTarget := startTarget(t, 0, allNew("t09-root")...)
	rootNS := pinTarget(t, rootTarget)
	own := startTarget(t, 65534, allNew("t09-nobody")...)
	ownNS := pinTarget(t, own)

	oneLine := func(t *testing.T, r nstest.Result, want string) {
		t.Helper()
		nstest.NoPanic(t, r.Stderr)
		if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, want) {
			t.Errorf("exit %d, stderr %q; want 1 and one line with %q", r.Code, r.Stderr, want)
		}
	}
	for _, args := range [][]string{{strconv.Itoa(rootTarget)}, {"-t", strconv.Itoa(rootTarget), "-u", "true"}} {
		r := nstest.Run(t, nstest.ProgramAs(t, 65534, prog, args...))
		oneLine(t, r, fmt.Sprintf("%s: open /proc/%d/ns/uts: EACCES: permission denied", prog, rootTarget))
	}

	r := nstest.Run(t, nstest.ProgramAs(t, 65534, prog, strconv.Itoa(own)))
	oneLine(t, r, prog+": setns uts: EPERM: operation not permitted (")
	if !strings.Contains(r.Stdout, "---- setns for uts ----") {
		t.Errorf("the joiner should have printed the uts header before failing:\n%s", r.Stdout)
	}

	cmd := nstest.ProgramAs(t, 65534, prog, "-t", strconv.Itoa(own), "-a", "sleep", "30")
	s := nstest.Start(t, cmd)
	sleeper := descendantNamed(t, cmd.Process.Pid, "sleep")
	checkJoined(t, "command", sleeper, ownNS, func(string) bool { return true })
	cmd.Process.Signal(unix.SIGTERM)
	nstest.NoPanic(t, s.Wait(t).Stderr)
	nstest.WaitGone(t, sleeper)

	onlyTarget(t, "root's target", rootTarget, rootNS)
	onlyTarget(t, "nobody's target", own, ownNS)
}
