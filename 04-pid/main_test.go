package main

import (
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

	"nslab/common"
	"nslab/common/nstest"
)

//go:embed c/*.c
var cSources embed.FS

func TestMain(m *testing.M) { nstest.Main(m, main) }

const prog = "04-pid"

// goCmd is the Go program, with -hold N seconds if hold > 0.
func goCmd(t *testing.T, hold int, args ...string) *exec.Cmd {
	if hold > 0 {
		args = append([]string{"-hold", fmt.Sprintf("%ds", hold)}, args...)
	}
	return nstest.Program(t, prog, args...)
}

// cSeed is the article's program, c/namespace.c, built.
func cSeed(t *testing.T) string { return nstest.BuildC(t, cSources, "namespace") }

// privileged marks a test that makes PID namespaces: parallel, as root.
func privileged(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.RequireNamespace(t, "pid")
}

// --- what the kernel shows -----------------------------------------------------

// nspid is the NSpid field of /proc/PID/status (or of a thread's, for a
// path under /proc/PID/task): the PID in each namespace, host first.
func nspid(t *testing.T, statusPath string) []int {
	t.Helper()
	b, err := os.ReadFile(statusPath)
	if err != nil {
		t.Fatalf("%s: %v", statusPath, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "NSpid:"); ok {
			var ids []int
			for _, f := range strings.Fields(v) {
				n, _ := strconv.Atoi(f)
				ids = append(ids, n)
			}
			return ids
		}
	}
	t.Fatalf("%s has no NSpid line", statusPath)
	return nil
}

func inner(ids []int) int { return ids[len(ids)-1] }

// statusHex is a hexadecimal mask of /proc/PID/status (SigCgt, ShdPnd...).
func statusHex(t *testing.T, pid int, key string) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}

func bit(sig unix.Signal) uint64 { return 1 << (uint(sig) - 1) }

// hostChildren lists the processes whose parent is ppid, by the test's
// own reading of the host's /proc (not the program's childrenOf).
func hostChildren(ppid int) []int {
	return nstest.ProcsWhere(func(pid int) bool { return nstest.PPid(pid) == ppid })
}

// zombiesUnder lists the zombies (state Z) that descend from root.
func zombiesUnder(root int) []int {
	return nstest.ProcsWhere(func(pid int) bool {
		if st, err := common.ReadStat(pid); err != nil || st.State != 'Z' {
			return false
		}
		for p, depth := nstest.PPid(pid), 0; p > 1 && depth < 20; p, depth = nstest.PPid(p), depth+1 {
			if p == root {
				return true
			}
		}
		return false
	})
}

func pidNSInode(t *testing.T, pid int) uint64 {
	t.Helper()
	ino, err := common.NSInode(pid, "pid")
	if err != nil {
		t.Fatalf("pid namespace of %d: %v", pid, err)
	}
	return ino
}

// nothingLeft checks that no process remains in the PID namespaces
// (kept with keepNS).
func nothingLeft(t *testing.T, inos ...uint64) {
	t.Helper()
	for _, ino := range inos {
		if left := nstest.ProcsInNS("pid", ino); len(left) > 0 {
			t.Errorf("processes %v are still in pid:[%d]", left, ino)
		}
	}
}

// procMounts is what the test's /proc/self/mountinfo says is mounted on
// /proc (other chapters' tests may mount elsewhere meanwhile).
func procMounts(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == "/proc" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// psRows parses the `ps -el` table in out: PID -> [F, S, PPID, CMD].
func psRows(t *testing.T, out string) map[int][]string {
	t.Helper()
	rows := map[int][]string{}
	header := false
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == "F" && strings.HasSuffix(l, " CMD") {
			header = true
			continue
		}
		if !header || len(f) < 14 || len(f[0]) != 1 {
			continue
		}
		pid, err := strconv.Atoi(f[3])
		if err != nil {
			continue
		}
		rows[pid] = []string{f[0], f[1], f[4], f[len(f)-1]}
	}
	if !header {
		t.Fatalf("no ps -el table in:\n%s", out)
	}
	return rows
}

// forked are the PIDs in the "pid of my child is N" lines.
func forked(out string) []int {
	var pids []int
	for _, m := range regexp.MustCompile(`(?m)^pid of my child is (\d+)$`).FindAllStringSubmatch(out, -1) {
		p, _ := strconv.Atoi(m[1])
		pids = append(pids, p)
	}
	return pids
}

// checkPS checks the seed's ps -el, run as PID 1 of the new namespace: ps
// is PID 1 (it exec'd there), no parent inside; the children are the
// forked PIDs, children of PID 1, flagged F (1: forked, did not exec).
func checkPS(t *testing.T, out string, kids []int, f string) {
	t.Helper()
	rows := psRows(t, out)
	if r := rows[1]; r == nil || r[3] != "ps" || r[2] != "0" {
		t.Errorf("ps -el row of PID 1 = %v, want ps with PPID 0\n%s", r, out)
	}
	if len(rows) != len(kids)+1 {
		t.Errorf("ps -el shows %d processes, want PID 1 and %v\n%s", len(rows), kids, out)
	}
	for _, k := range kids {
		if r := rows[k]; r == nil || r[2] != "1" || r[0] != f {
			t.Errorf("ps -el row of child %d = %v, want F %s, PPID 1\n%s", k, r, f, out)
		}
	}
}

// holdLine waits for the -hold line and returns the PID it names.
func holdLine(t *testing.T, s *nstest.Started) int {
	t.Helper()
	m := s.Expect(t, `^holding .*?nsenter -t (\d+) `)
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// insideKill sends sig to PID 1 from inside pid's PID namespace, as a
// real peer: nsenter joins it and runs kill. The test guards the command:
// if it did not run in that namespace, "kill 1" would hit the host's init.
// If the signal kills PID 1, the kernel kills the sender too (it is in the
// namespace), and nsenter passes that on: fatal expects it.
func insideKill(t *testing.T, pid int, ino uint64, sig string, fatal bool) {
	t.Helper()
	out, err := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-p", "--", "sh", "-c",
		fmt.Sprintf(`[ "$(readlink /proc/self/ns/pid)" = "pid:[%d]" ] && kill -s %s 1`, ino, sig)).CombinedOutput()
	if err != nil && !(fatal && strings.Contains(err.Error(), "signal: killed")) {
		t.Fatalf("nsenter -t %d -p kill -s %s 1: %v\n%s", pid, sig, err, out)
	}
}

// --- the claims ------------------------------------------------------------------

// TestChildren: PID 1 sees itself as 1 and its children get the next
// PIDs; after PID 1 exits, nothing of the run is left, and the host's
// /proc mount never changed.
func TestChildren(t *testing.T) {
	privileged(t)
	nstest.RequireTool(t, "nsenter", "util-linux")
	nstest.RequireTool(t, "ps", "procps")
	const n = 3
	mountsBefore := procMounts(t)
	s := nstest.Start(t, goCmd(t, 2, strconv.Itoa(n)))
	m := s.Expect(t, `^cpid: (\d+)$`)
	cpid, _ := strconv.Atoi(m[1])
	if got := holdLine(t, s); got != cpid {
		t.Fatalf("hold line names %d, cpid is %d", got, cpid)
	}

	// The kernel's view from the host, while the namespace is held.
	ino := nstest.KeepNS(t, cpid, "pid")
	if mine := pidNSInode(t, os.Getpid()); ino == mine {
		t.Fatalf("PID 1 %d is in the test's own PID namespace", cpid)
	}
	if got := nspid(t, fmt.Sprintf("/proc/%d/status", cpid)); !slices.Equal(got, []int{cpid, 1}) {
		t.Errorf("NSpid of PID 1 = %v, want [%d 1]", got, cpid)
	}
	kids := hostChildren(cpid)
	if len(kids) != n {
		t.Fatalf("PID 1 (%d) has children %v, want %d", cpid, kids, n)
	}
	var inside []int
	for _, k := range kids {
		if pidNSInode(t, k) != ino {
			t.Errorf("child %d is not in PID 1's namespace", k)
		}
		inside = append(inside, inner(nspid(t, fmt.Sprintf("/proc/%d/status", k))))
	}
	slices.Sort(inside)
	// PID 1's threads: IDs from the same counter. The runtime's
	// threads take 2..T first, so the children come after them (the
	// C's PID 1 has one thread: its children are 2..N+1, TestSeedC).
	var tids []int
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", cpid))
	for _, e := range ents {
		tids = append(tids, inner(nspid(t, fmt.Sprintf("/proc/%d/task/%s/status", cpid, e.Name()))))
	}
	slices.Sort(tids)
	for i, tid := range tids {
		if tid != i+1 {
			t.Fatalf("PID 1's thread IDs inside = %v, want 1..%d", tids, len(tids))
		}
	}
	if inside[0] <= len(tids) {
		t.Errorf("children inside = %v, want all above PID 1's thread IDs %v", inside, tids)
	}

	// A real peer: ps, run inside the namespace (and its mount
	// namespace, whose /proc is the new one) shows the same PIDs.
	var psKids []int
	sawInit := false
	for _, line := range strings.Split(nstest.Exec(t, "nsenter", "-t", strconv.Itoa(cpid), "-p", "-m",
		"ps", "-e", "-o", "pid=,ppid="), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if f[0] == "1" && f[1] == "0" {
			sawInit = true
		}
		if f[1] == "1" {
			p, _ := strconv.Atoi(f[0])
			psKids = append(psKids, p)
		}
	}
	slices.Sort(psKids)
	if !sawInit || !slices.Equal(psKids, inside) {
		t.Errorf("ps inside: init seen %v, children %v; want PID 1 and %v", sawInit, psKids, inside)
	}

	r := s.Wait(t)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	// PID 1 has exited: the kernel killed and reaped the rest.
	nothingLeft(t, ino)
	for _, k := range kids {
		nstest.WaitGone(t, k)
	}
	if procMounts(t) != mountsBefore {
		t.Errorf("the host's /proc mounts changed during the run:\nbefore:\n%s\nafter:\n%s", mountsBefore, procMounts(t))
	}
	// The seed's end: PID 1 became ps, whose table (the kernel's
	// /proc, read by a real peer) shows it as PID 1 and the children.
	if got := forked(r.Stdout); !slices.Equal(got, inside) {
		t.Errorf("pid of my child lines %v, want %v", got, inside)
	}
	checkPS(t, r.Stdout, inside, "0")
}

// TestSeedC runs the article's C as the article does (./namespace N, here
// 3), where / is shared (sharedRoot): the host's mounts stay the same; its
// PID 1 becomes ps, whose table shows the children as 2, 3, 4, forked
// copies (F 1); its parent sleeps 20 s. The Go port prints the same seed
// lines in the same order.
func TestSeedC(t *testing.T) {
	privileged(t)
	nstest.RequireTool(t, "ps", "procps")
	nstest.RequireTool(t, "bash", "bash")
	start := time.Now()
	stdout, stderr := sharedRoot(t, exec.Command(cSeed(t), "3"))
	if stderr != "Parent sleeping 20 seconds\n" {
		t.Errorf("stderr %q, want the article's one line", stderr)
	}
	if d := time.Since(start); d < 20*time.Second {
		t.Errorf("the parent slept %v, not 20 s", d)
	}
	if got := forked(stdout); !slices.Equal(got, []int{2, 3, 4}) {
		t.Errorf("pid of my child lines %v, want [2 3 4]\n%s", got, stdout)
	}
	checkPS(t, stdout, []int{2, 3, 4}, "1")

	g := nstest.Run(t, goCmd(t, 0, "3"))
	if seed, port := seedLines(stdout), seedLines(g.Stdout); !slices.Equal(seed, port) {
		t.Errorf("the seed's lines differ:\nC:  %q\nGo: %q", seed, port)
	}
}

// seedLines keeps the lines the article's program prints before ps, with
// numbers made N, and the parent's cpid line second: the parent prints it
// while PID 1 prints its own lines, so it may come anywhere among them.
func seedLines(out string) []string {
	var lines []string
	cpid := 0
	seed := regexp.MustCompile(`^(Out of the container, my pid is: |cpid: |In the container, my pid is: |pid of my child is )\d+$`)
	for _, l := range strings.Split(out, "\n") {
		if !seed.MatchString(l) {
			continue
		}
		if strings.HasPrefix(l, "cpid: ") {
			cpid++
			continue
		}
		lines = append(lines, regexp.MustCompile(`\d+`).ReplaceAllString(l, "N"))
	}
	for ; cpid > 0 && len(lines) > 0; cpid-- {
		lines = slices.Insert(lines, 1, "cpid: N")
	}
	return lines
}

// TestHostProcUntouchedOnSharedRoot: the Go port, run where / is shared,
// leaves the mounts as they were (TestSeedC does the same for the C).
func TestHostProcUntouchedOnSharedRoot(t *testing.T) {
	privileged(t)
	sharedRoot(t, goCmd(t, 0, "2"))
}

// sharedRoot runs target where / has shared propagation, as on a systemd
// host (unshare -m, then mount --make-rshared /, makes such a place
// without touching the real host; made private first, its mounts leave the
// host's peer groups, so that what parallel tests mount on the host does
// not show up here), checks that it exits 0 and that the mount table is
// the same after it, and returns its stdout and stderr. Mounting /proc
// without making the mounts private first would show up in the second dump.
func sharedRoot(t *testing.T, target *exec.Cmd) (stdout, stderr string) {
	t.Helper()
	unshare := nstest.RequireTool(t, "unshare", "util-linux")
	out := filepath.Join(t.TempDir(), "stdout")
	script := `mount --make-rshared / || exit 1; cat /proc/self/mountinfo; echo =====; "$@" >` + out + `; echo "===== $?"; cat /proc/self/mountinfo`
	cmd := exec.Command(unshare, append([]string{"-m", "--propagation", "private", "--",
		"sh", "-c", script, "sh", target.Path}, target.Args[1:]...)...)
	cmd.Env = target.Env
	r := nstest.Run(t, cmd)
	nstest.NoPanic(t, r.Stderr)
	parts := regexp.MustCompile(`(?m)^===== ?(\d*)\n`).FindAllStringSubmatchIndex(r.Stdout, -1)
	if r.Code != 0 || len(parts) != 2 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	before := r.Stdout[:parts[0][0]]
	status := r.Stdout[parts[1][2]:parts[1][3]]
	after := r.Stdout[parts[1][1]:]
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if status != "0" {
		t.Fatalf("program exited %s\nstdout:\n%s\nstderr:\n%s", status, b, r.Stderr)
	}
	if !regexp.MustCompile(`(?m)^\S+ \S+ \S+ \S+ / .* shared:\d+`).MatchString(before) {
		t.Fatalf("/ is not shared in the test's mount namespace; the test proves nothing:\n%s", before)
	}
	if before != after {
		t.Errorf("mounts changed where / is shared: a mount leaked out of the program\nbefore:\n%s\nafter:\n%s", before, after)
	}
	return string(b), r.Stderr
}

// TestOrphans: after PID 1 has reaped the orphan it adopted, no zombie is
// left and PID 1 is alone; Ctrl-C then ends the run and leaves nothing.
func TestOrphans(t *testing.T) {
	privileged(t)
	cmd := goCmd(t, 30, "orphans")
	s := nstest.Start(t, cmd)
	cpid := holdLine(t, s)
	ino := nstest.KeepNS(t, cpid, "pid")
	if z := zombiesUnder(cmd.Process.Pid); len(z) > 0 {
		t.Errorf("zombies left after the orphan demo: %v", z)
	}
	if procs := nstest.ProcsInNS("pid", ino); !slices.Equal(procs, []int{cpid}) {
		t.Errorf("processes in the namespace: %v, want PID 1 (%d) alone", procs, cpid)
	}
	// What PID 1 saw while it happened: the orphan re-parented to it,
	// then a zombie in its /proc until it reaped it.
	out := s.Output()
	orphan := regexp.MustCompile(`(?m)^  orphan: getpid\(\) = (\d+), getppid\(\) = (\d+)$`).FindStringSubmatch(out)
	if orphan == nil || orphan[2] == "1" ||
		!strings.Contains(out, "\n  orphan: getppid() = 1 now; exiting\n") ||
		!regexp.MustCompile(`(?m)^ +`+orphan[1]+` +1 Z `).MatchString(out) ||
		!strings.Contains(out, "PID 1: reaped "+orphan[1]+", an orphan I never started") {
		t.Errorf("the orphan was not shown re-parented, a zombie and reaped:\n%s", out)
	}

	if err := cmd.Process.Signal(unix.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := s.Wait(t)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 128+int(unix.SIGINT) {
		t.Errorf("exit %d after SIGINT, want %d\nstderr:\n%s", r.Code, 128+int(unix.SIGINT), r.Stderr)
	}
	nstest.WaitReaped(t, cpid)
	nothingLeft(t, ino)
}

// TestSignals: PID 1 without a handler ignores SIGTERM and even SIGKILL
// sent from inside its namespace, and SIGTERM from the host; SIGKILL from
// the host kills it and its namespace. PID 1 with a handler (every Go
// program) gets SIGTERM from inside.
func TestSignals(t *testing.T) {
	privileged(t)
	nstest.RequireTool(t, "nsenter", "util-linux")
	s := nstest.Start(t, goCmd(t, 30, "signals"))

	// Round 1: no handler.
	pid := holdLine(t, s)
	ino := nstest.KeepNS(t, pid, "pid")
	if statusHex(t, pid, "SigCgt")&bit(unix.SIGTERM) != 0 {
		t.Fatalf("round 1: PID 1 (%d) has a SIGTERM handler", pid)
	}
	dropped := func(who string) {
		t.Helper()
		// The kernel drops the signal while sending it: nothing is
		// pending (a blocked signal would be), and PID 1 lives on.
		if p := statusHex(t, pid, "ShdPnd") | statusHex(t, pid, "SigPnd"); p != 0 {
			t.Errorf("%s: pending signals %x, want the signal dropped", who, p)
		}
		time.Sleep(50 * time.Millisecond)
		if !nstest.Alive(pid) {
			t.Fatalf("%s killed PID 1", who)
		}
	}
	insideKill(t, pid, ino, "TERM", false)
	dropped("SIGTERM from inside")
	insideKill(t, pid, ino, "KILL", false)
	dropped("SIGKILL from inside")
	if err := unix.Kill(pid, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	dropped("SIGTERM from the host")
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	nstest.WaitReaped(t, pid)
	nothingLeft(t, ino)

	// Round 2: a handler (the Go runtime's).
	pid = holdLine(t, s)
	ino = nstest.KeepNS(t, pid, "pid")
	if statusHex(t, pid, "SigCgt")&bit(unix.SIGTERM) == 0 {
		t.Fatalf("round 2: PID 1 (%d) has no SIGTERM handler", pid)
	}
	insideKill(t, pid, ino, "TERM", true)
	nstest.WaitReaped(t, pid)
	nothingLeft(t, ino)

	r := s.Wait(t)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, ") ended: killed by SIGKILL;") || !strings.Contains(r.Stdout, ") ended: exit status 2;") {
		t.Errorf("want round 1 killed by SIGKILL and round 2 exited with status 2:\n%s", r.Stdout)
	}
}

// TestNested: one process, one PID per level: NSpid read from the host and
// from level 1 (by nsenter and cat, real peers), and NS_GET_PARENT links
// the namespaces. SIGTERM to the program then ends both levels.
func TestNested(t *testing.T) {
	privileged(t)
	nstest.RequireTool(t, "nsenter", "util-linux")
	cmd := goCmd(t, 30, "nested")
	s := nstest.Start(t, cmd)
	l1 := holdLine(t, s)
	ino1 := nstest.KeepNS(t, l1, "pid")
	var l2 int
	for _, k := range hostChildren(l1) {
		if pidNSInode(t, k) != ino1 {
			l2 = k
		}
	}
	if l2 == 0 {
		t.Fatalf("no child of %d in a PID namespace of its own", l1)
	}
	ino2 := nstest.KeepNS(t, l2, "pid")
	hostNS := pidNSInode(t, os.Getpid())

	ids := nspid(t, fmt.Sprintf("/proc/%d/status", l2))
	if len(ids) != 3 || ids[0] != l2 || ids[1] <= 1 || ids[2] != 1 {
		t.Fatalf("NSpid of the level-2 init, from the host = %v, want [%d X 1]", ids, l2)
	}
	// Level 1's view, by a peer inside level 1: its /proc numbers the
	// same process ids[1] and shows the two inner levels only.
	out := nstest.Exec(t, "nsenter", "-t", strconv.Itoa(l1), "-p", "-m", "cat", fmt.Sprintf("/proc/%d/status", ids[1]))
	if want := fmt.Sprintf("\nNSpid:\t%d\t1\n", ids[1]); !strings.Contains(out, want) {
		t.Errorf("level 1's /proc/%d/status lacks %q:\n%s", ids[1], want, out)
	}
	out = nstest.Exec(t, "nsenter", "-t", strconv.Itoa(l2), "-p", "-m", "cat", "/proc/1/status")
	if !strings.Contains(out, "\nNSpid:\t1\n") {
		t.Errorf("level 2's /proc/1/status lacks NSpid: 1:\n%s", out)
	}
	// The kernel's family tree of namespaces.
	if got := parentNS(t, l2); got != ino1 {
		t.Errorf("NS_GET_PARENT of level 2 = %d, want level 1 %d", got, ino1)
	}
	if got := parentNS(t, l1); got != hostNS {
		t.Errorf("NS_GET_PARENT of level 1 = %d, want the host's %d", got, hostNS)
	}

	if err := cmd.Process.Signal(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := s.Wait(t)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 128+int(unix.SIGTERM) {
		t.Errorf("exit %d after SIGTERM, want %d", r.Code, 128+int(unix.SIGTERM))
	}
	nstest.WaitReaped(t, l1)
	nothingLeft(t, ino1, ino2)
}

// parentNS is the inode of the parent of pid's PID namespace.
func parentNS(t *testing.T, pid int) uint64 {
	t.Helper()
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/pid", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	pfd, err := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
	if err != nil {
		t.Fatalf("ioctl(NS_GET_PARENT): %v", err)
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestTour runs each demo as `make tour` does: without -hold, it must end
// by itself, quickly, with exit 0 and nothing on stderr.
func TestTour(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	for _, args := range [][]string{nil, {"orphans"}, {"signals"}, {"nested"}} {
		name := "children"
		if args != nil {
			name = args[0]
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Every process of the run inherits this mark in its
			// environment (bash and ps too): the kernel's /proc must show
			// none of them once the run has exited.
			mark := fmt.Sprintf("NSLAB_TEST_RUN=%s-%d", name, time.Now().UnixNano())
			cmd := goCmd(t, 0, args...)
			if cmd.Env == nil {
				cmd.Env = os.Environ()
			}
			cmd.Env = append(cmd.Env, mark)
			start := time.Now()
			r := nstest.Run(t, cmd)
			elapsed := time.Since(start)
			nstest.NoPanic(t, r.Stderr)
			if r.Code != 0 || r.Stderr != "" {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
			}
			if pids := withEnv(mark); len(pids) > 0 {
				t.Errorf("processes of the run still alive after it exited: %v", pids)
			}
			// A guard against a demo that hangs; its speed is the tour's
			// (TestTour), not a timing test here.
			if elapsed > 30*time.Second {
				t.Errorf("took %v: it hangs", elapsed)
			}
			// And the program's own line, which it prints from what it
			// pinned of the namespace.
			left := regexp.MustCompile(`processes left in .*: (.*)`).FindAllStringSubmatch(r.Stdout, -1)
			if len(left) == 0 {
				t.Errorf("no processes-left line:\n%s", r.Stdout)
			}
			for _, m := range left {
				if m[1] != "none" {
					t.Errorf("reports processes left: %s", m[0])
				}
			}
			if name == "children" {
				if n := len(forked(r.Stdout)); n != 7 {
					t.Errorf("default run: %d children, want 7", n)
				}
			}
		})
	}
}

// TestBadInputC: the article's C has one check (argc != 2) and exits 255
// ("return -1") with "Wrong usage". The Go program's bad input is in the
// lab's catalog (lab/catalog_test.go), which runs no C.
func TestBadInputC(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"3", "4"}} {
		r := nstest.Run(t, exec.Command(cSeed(t), args...))
		if r.Code != 255 || r.Stderr != "Wrong usage\n." || r.Stdout != "" {
			t.Errorf("C %q: exit %d, stderr %q; want 255 and the article's \"Wrong usage\\n.\"", args, r.Code, r.Stderr)
		}
	}
}

// TestNotRoot: as nobody, one line and exit 1.
func TestNotRoot(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	r := nstest.Run(t, nstest.ProgramAs(t, 65534, prog, "3"))
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "creating a PID namespace needs root") {
		t.Errorf("as nobody: exit %d, stderr %q; want exit 1 and one line saying it needs root", r.Code, r.Stderr)
	}
}

//go:embed README.md
var readme string

//go:embed README.ko.md
var readmeKo string

// The commands and outputs README.md and its translation show are what the
// code does today.
// Parallel: the C block sleeps 20 s, as the article's program does (twice:
// the translation has the same block).
func TestReadme(t *testing.T) {
	t.Parallel()
	nstest.Readme(t, nstest.Doc{Name: "04-pid", Text: readme, Ko: readmeKo, C: cSources})
}

// withEnv lists the processes whose environment holds the line kv, as the
// kernel shows it in /proc/PID/environ.
func withEnv(kv string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/environ")
		if err != nil {
			continue // gone meanwhile
		}
		if slices.Contains(strings.Split(string(b), "\x00"), kv) {
			pid, _ := strconv.Atoi(filepath.Base(d))
			pids = append(pids, pid)
		}
	}
	return pids
}
