package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
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

const prog = "06-net"

// ---- what the kernel shows ------------------------------------------------

// ipLink is one line of `ip -o link`: the name (without @peer) and flags.
type ipLink struct {
	name  string
	flags []string
}

var ipLinkRE = regexp.MustCompile(`^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>`)

// ipLinks runs `ip -o link` through prefix (nil: on the host; or e.g.
// nsenter -t PID -n) and parses it.
func ipLinks(t *testing.T, prefix ...string) []ipLink {
	t.Helper()
	argv := append(append([]string{}, prefix...), "ip", "-o", "link")
	out := nstest.Exec(t, argv[0], argv[1:]...)
	var links []ipLink
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		m := ipLinkRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("cannot parse ip -o link line %q", l)
		}
		links = append(links, ipLink{m[1], strings.Split(m[2], ",")})
	}
	return links
}

// onlyLoDown fails unless links is exactly lo, without IFF_UP.
func onlyLoDown(t *testing.T, what string, links []ipLink) {
	t.Helper()
	if len(links) != 1 || links[0].name != "lo" || slices.Contains(links[0].flags, "UP") {
		t.Errorf("%s: want exactly lo, DOWN; got %+v", what, links)
	}
}

// netInode is the inode of a network namespace file (/proc/PID/ns/net, a
// /proc/PID/fd/N, /run/netns/NAME).
func netInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func mountinfo(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mountsAt counts the mounts whose mount point is path.
func mountsAt(t *testing.T, path string) int {
	t.Helper()
	n := 0
	for _, l := range strings.Split(mountinfo(t), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == path {
			n++
		}
	}
	return n
}

// netnsNames is `ip netns list`, names only.
func netnsNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, l := range strings.Split(nstest.Exec(t, "ip", "netns", "list"), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// oneLine checks a failure: exit code, one line on stderr containing want,
// no panic.
func oneLine(t *testing.T, r nstest.Result, code int, want string) {
	t.Helper()
	nstest.NoPanic(t, r.Stderr)
	if r.Code != code {
		t.Errorf("exit %d, want %d\nstderr:\n%s", r.Code, code, r.Stderr)
	}
	if strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, want) {
		t.Errorf("stderr = %q, want one line containing %q", r.Stderr, want)
	}
}

func ok(t *testing.T, r nstest.Result) {
	t.Helper()
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
}

// ---- show -------------------------------------------------------------

// steps cuts a session's output into its steps: each "+ cmd  # why" line
// and the lines after it, with the spacing squeezed ("1: lo DOWN").
type step struct {
	cmd, why string
	out      []string
}

func steps(out string) []step {
	var ss []step
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if c, ok := strings.CutPrefix(l, "+ "); ok {
			cmd, why, _ := strings.Cut(c, "  # ")
			ss = append(ss, step{cmd: cmd, why: why})
		} else if len(ss) > 0 {
			ss[len(ss)-1].out = append(ss[len(ss)-1].out, strings.Join(strings.Fields(l), " "))
		}
	}
	return ss
}

var (
	childStep = regexp.MustCompile(`^in the child, PID (\d+) in net:\[(\d+)\]$`)
	hostStep  = regexp.MustCompile(`^on the host, PID (\d+) in net:\[(\d+)\], to compare$`)
)

// table is show's output: the two PIDs and each side's `ip a` lines.
type table struct {
	hostPid, childPid int
	host, child       []string
}

func parseShow(t *testing.T, out string) table {
	t.Helper()
	ss := steps(out)
	if len(ss) != 3 || ss[0].cmd != "unshare --net /bin/sh" || ss[1].cmd != "ip a" || ss[2].cmd != "ip a" {
		t.Fatalf("want the steps unshare --net /bin/sh, ip a (child), ip a (host):\n%s", out)
	}
	mc, mh := childStep.FindStringSubmatch(ss[1].why), hostStep.FindStringSubmatch(ss[2].why)
	if mc == nil || mh == nil {
		t.Fatalf("the ip a steps do not say whose they are:\n%s", out)
	}
	var tb table
	tb.childPid, _ = strconv.Atoi(mc[1])
	tb.hostPid, _ = strconv.Atoi(mh[1])
	tb.child = ss[1].out
	for _, l := range ss[2].out {
		if strings.HasPrefix(l, "child PID ") {
			break // -hold's lines
		}
		tb.host = append(tb.host, l)
	}
	return tb
}

// TestShow: the child's `ip a` is exactly lo, DOWN, and the host's is
// what `ip link` shows on the host.
func TestShow(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "ip", "iproute2")
	r := nstest.Run(t, nstest.Program(t, prog, "show"))
	ok(t, r)
	tb := parseShow(t, r.Stdout)
	if !slices.Equal(tb.child, []string{"1: lo DOWN"}) {
		t.Errorf("child's ip a = %q, want [\"1: lo DOWN\"]\n%s", tb.child, r.Stdout)
	}
	var want []string
	for _, l := range ipLinks(t) {
		state := "DOWN"
		if slices.Contains(l.flags, "UP") {
			state = "UP"
		}
		want = append(want, l.name+" "+state)
	}
	var got []string
	for _, c := range tb.host {
		got = append(got, c[strings.Index(c, " ")+1:]) // drop "N:"
	}
	if !slices.Equal(got, want) {
		t.Errorf("host's ip a %q, but ip -o link on the host shows %q", got, want)
	}
	nstest.WaitGone(t, tb.childPid)
}

// startShow starts show with a hold, and returns it once the child's PID
// is known; the child is alive then.
func startShow(t *testing.T, cmd *exec.Cmd) (*nstest.Started, int) {
	t.Helper()
	s := nstest.Start(t, cmd)
	m := s.Expect(t, `^child PID (\d+) holds its network namespace`)
	pid, _ := strconv.Atoi(m[1])
	return s, pid
}

// checkShowChild is what a learner checks by hand: nsenter into the
// child's network namespace sees only lo, DOWN; the namespace is not ours.
func checkShowChild(t *testing.T, pid int) {
	t.Helper()
	onlyLoDown(t, "nsenter -n ip -o link", ipLinks(t, "nsenter", "-t", strconv.Itoa(pid), "-n"))
	if mine, its := netInode(t, "/proc/self/ns/net"), netInode(t, fmt.Sprintf("/proc/%d/ns/net", pid)); mine == its {
		t.Errorf("child %d is in our network namespace (%d)", pid, mine)
	}
	// Every other namespace is shared: CLONE_NEWNET was the only flag.
	for _, ns := range common.Namespaces {
		if ns.Name == "net" {
			continue
		}
		if _, err := os.Lstat("/proc/self/ns/" + ns.Name); err != nil {
			continue
		}
		mine, _ := common.NSInode(0, ns.Name)
		its, _ := common.NSInode(pid, ns.Name)
		if mine != its {
			t.Errorf("%s namespace differs (%d vs %d); only net should", ns.Name, mine, its)
		}
	}
}

// TestShowInterrupt: while the child holds its namespace, the kernel shows
// it with only lo, DOWN; Ctrl-C on the parent takes the child with it.
func TestShowInterrupt(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "ip", "iproute2")
	nstest.RequireTool(t, "nsenter", "util-linux")
	cmd := nstest.Program(t, prog, "show", "-hold", "30s")
	s, pid := startShow(t, cmd)
	checkShowChild(t, pid)
	if err := cmd.Process.Signal(unix.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := s.Wait(t)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 130 {
		t.Errorf("exit %d after SIGINT, want 130", r.Code)
	}
	nstest.WaitGone(t, pid)
}

// ---- add, list, exec, del ------------------------------------------------

// TestNetns groups the tests that use the host's /run/netns, and runs
// them one after another: add sets /run/netns up and the del of the last
// name undoes it (netns.go), which two at once would do in each other's
// way. If this package made /run/netns a mount point (as iproute2 and
// `add` do), the group's cleanup undoes it once they are all done.
func TestNetns(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.LockNetns(t) // nor with lab's tour and check-06, in their package
	nstest.RequireTool(t, "ip", "iproute2")
	_, err := os.Lstat(netnsRunDir)
	existed := err == nil
	wasMount := mountsAt(t, netnsRunDir) > 0
	t.Cleanup(func() {
		if !wasMount {
			unix.Unmount(netnsRunDir, 0) // EBUSY if someone else's name is in it: then keep it
		}
		if !existed {
			os.Remove(netnsRunDir) // only if empty
		}
	})
	t.Run("AddListDel", testAddListDel)
	t.Run("ExecIntoIPNetnsAdd", testExecIntoIPNetnsAdd)
	t.Run("Stale", testStale)
	t.Run("SeedC", testSeedC)
}

// testAddListDel: a namespace made by `add` is one iproute2 sees and can
// use; add refuses a taken name; del removes it for iproute2 too.
func testAddListDel(t *testing.T) {
	name := fmt.Sprintf("nslab-t%d-add", os.Getpid())
	path := filepath.Join(netnsRunDir, name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })

	ok(t, nstest.Run(t, nstest.Program(t, prog, "add", name)))
	if !slices.Contains(netnsNames(t), name) {
		t.Fatalf("ip netns list does not show %s", name)
	}
	// One bind mount; on a systemd host, where /run is a shared mount of
	// its own, mountinfo shows it twice (propagated into /run as well).
	mounts := mountsAt(t, path)
	if mounts < 1 {
		t.Errorf("no mount at %s in /proc/self/mountinfo", path)
	}
	onlyLoDown(t, "ip netns exec "+name+" ip -o link", ipLinks(t, "ip", "netns", "exec", name))
	ino := netInode(t, path)
	id := strings.TrimSpace(nstest.Exec(t, "ip", "netns", "exec", name, "readlink", "/proc/self/ns/net"))
	if id != fmt.Sprintf("net:[%d]", ino) || ino == netInode(t, "/proc/self/ns/net") {
		t.Errorf("ip netns exec %s readlink = %s; /run/netns/%s is inode %d", name, id, name, ino)
	}
	r := nstest.Run(t, nstest.Program(t, prog, "list"))
	ok(t, r)
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` +net:\[` + fmt.Sprint(ino) + `\]$`).MatchString(r.Stdout) {
		t.Errorf("list does not show %s net:[%d]:\n%s", name, ino, r.Stdout)
	}

	// A taken name: one line, exit 1, and nothing changed.
	r = nstest.Run(t, nstest.Program(t, prog, "add", name))
	oneLine(t, r, 1, name+" exists: "+prog+" del "+name+" first")
	if n := mountsAt(t, path); n != mounts || netInode(t, path) != ino {
		t.Errorf("after a refused add: %d mounts at %s (want %d), inode %d (want %d)", n, path, mounts, netInode(t, path), ino)
	}

	ok(t, nstest.Run(t, nstest.Program(t, prog, "del", name)))
	if slices.Contains(netnsNames(t), name) {
		t.Errorf("ip netns list still shows %s after del", name)
	}
	if n := mountsAt(t, path); n != 0 {
		t.Errorf("%d mounts left at %s after del", n, path)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still exists after del (%v)", path, err)
	}
	oneLine(t, nstest.Run(t, nstest.Program(t, prog, "del", name)), 1, name+": no such network namespace")
	oneLine(t, nstest.Run(t, nstest.Program(t, prog, "exec", name, "true")), 1, name+": no such network namespace")
}

// testExecIntoIPNetnsAdd: exec enters a namespace made by `ip netns add`,
// with a /sys of its own, and the command's exit status comes back.
func testExecIntoIPNetnsAdd(t *testing.T) {
	name := fmt.Sprintf("nslab-t%d-ip", os.Getpid())
	nstest.Exec(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	ino := netInode(t, filepath.Join(netnsRunDir, name))
	hostSys, _ := os.ReadDir("/sys/class/net")

	r := nstest.Run(t, nstest.Program(t, prog, "exec", name, "readlink", "/proc/self/ns/net"))
	ok(t, r)
	if got, want := strings.TrimSpace(r.Stdout), fmt.Sprintf("net:[%d]", ino); got != want {
		t.Errorf("exec %s readlink /proc/self/ns/net = %q, want %q (the inode of /run/netns/%s)", name, got, want, name)
	}
	r = nstest.Run(t, nstest.Program(t, prog, "exec", name, "ip", "-o", "link"))
	ok(t, r)
	if !strings.HasPrefix(r.Stdout, "1: lo: <LOOPBACK>") || strings.Count(r.Stdout, "\n") != 1 {
		t.Errorf("exec %s ip -o link: want only lo, DOWN:\n%s", name, r.Stdout)
	}
	// /sys was remounted for the command (in its own mount namespace).
	r = nstest.Run(t, nstest.Program(t, prog, "exec", name, "ls", "/sys/class/net"))
	ok(t, r)
	if strings.TrimSpace(r.Stdout) != "lo" {
		t.Errorf("exec %s ls /sys/class/net = %q, want lo", name, r.Stdout)
	}
	if after, _ := os.ReadDir("/sys/class/net"); !sameNames(hostSys, after) {
		t.Errorf("the host's /sys/class/net changed: %v before, %v after", hostSys, after)
	}
	// The command replaces the program: its status is ours.
	if r = nstest.Run(t, nstest.Program(t, prog, "exec", name, "sh", "-c", "exit 7")); r.Code != 7 {
		t.Errorf("exec %s sh -c 'exit 7': exit %d, want 7", name, r.Code)
	}
	r = nstest.Run(t, nstest.Program(t, prog, "list"))
	ok(t, r)
	if !strings.Contains(r.Stdout, fmt.Sprintf("net:[%d]", ino)) {
		t.Errorf("list does not show %s (net:[%d]):\n%s", name, ino, r.Stdout)
	}
}

// testStale: a file in /run/netns with no namespace bound on it.
func testStale(t *testing.T) {
	name := fmt.Sprintf("nslab-t%d-stale", os.Getpid())
	path := filepath.Join(netnsRunDir, name)
	if err := os.MkdirAll(netnsRunDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
	oneLine(t, nstest.Run(t, nstest.Program(t, prog, "exec", name, "true")), 1, "holds no network namespace")
	r := nstest.Run(t, nstest.Program(t, prog, "list"))
	ok(t, r)
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` +\(no namespace mounted here\)$`).MatchString(r.Stdout) {
		t.Errorf("list does not mark %s as holding no namespace:\n%s", name, r.Stdout)
	}
	ok(t, nstest.Run(t, nstest.Program(t, prog, "del", name)))
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still exists after del", path)
	}
}

// testSeedC: the session in C names a namespace that iproute2 sees and
// can use, with only lo, DOWN, and its `ip a` in a new namespace prints
// what the Go show's child prints.
func testSeedC(t *testing.T) {
	nstest.RequireTool(t, "nsenter", "util-linux")
	cBin := nstest.BuildC(t, cSources, "unshare_net")
	name := fmt.Sprintf("nslab-t%d-c", os.Getpid())
	path := filepath.Join(netnsRunDir, name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	c := exec.Command(cBin, name)
	r := nstest.Run(t, c)
	ok(t, r)
	ss := steps(r.Stdout)
	var cmds []string
	for _, s := range ss {
		cmds = append(cmds, s.cmd)
	}
	want := []string{"unshare --net /bin/sh", "ip a", "ip netns add " + name, "ip netns list",
		"nsenter --net=" + path, "ip a", fmt.Sprintf("lsns -t net -p %d", c.Process.Pid)}
	if !slices.Equal(cmds, want) {
		t.Fatalf("steps %q, want the session's %q", cmds, want)
	}
	if !slices.Equal(ss[1].out, []string{"1: lo DOWN"}) || !slices.Equal(ss[5].out, ss[1].out) {
		t.Errorf("ip a in the new namespace %q and in %s %q; want [\"1: lo DOWN\"] twice", ss[1].out, name, ss[5].out)
	}
	if !slices.Contains(ss[3].out, name) {
		t.Errorf("ip netns list %q does not show %s", ss[3].out, name)
	}
	// What the kernel shows: the name is a mount that holds a namespace,
	// not ours, the one the C found itself in after nsenter; iproute2
	// sees it with only lo, DOWN.
	ino := netInode(t, path)
	if mountsAt(t, path) < 1 || ino == netInode(t, "/proc/self/ns/net") {
		t.Errorf("%s: %d mounts, net:[%d]; want a mount of a namespace other than ours", path, mountsAt(t, path), ino)
	}
	if got := fmt.Sprintf("net:[%d]", ino); !slices.Equal(ss[6].out, []string{got}) {
		t.Errorf("lsns step printed %q; %s holds %s", ss[6].out, path, got)
	}
	onlyLoDown(t, "ip netns exec "+name+" ip -o link", ipLinks(t, "ip", "netns", "exec", name))
	// Go's show prints the same `ip a` in its child.
	goR := nstest.Run(t, nstest.Program(t, prog, "show"))
	ok(t, goR)
	if tb := parseShow(t, goR.Stdout); !slices.Equal(tb.child, ss[1].out) {
		t.Errorf("Go show's child prints %q, the C %q", tb.child, ss[1].out)
	}
	// A taken name: the C stops at its add, and the name keeps its namespace.
	r2 := nstest.Run(t, exec.Command(cBin, name))
	if r2.Code != 1 || !strings.Contains(r2.Stderr, "File exists") || netInode(t, path) != ino {
		t.Errorf("second run with %s: exit %d, stderr %q, net:[%d] (want exit 1, File exists, net:[%d])", name, r2.Code, r2.Stderr, netInode(t, path), ino)
	}
}

// TestAddFailsCleanly: when add fails half-way (here unshare(CLONE_NEWNET)
// with ENOSPC: the test runs it in a user namespace of its own whose
// max_net_namespaces is 0, over an empty /run), its undo step removes what
// it made, and the program exits 1 with one error line, within seconds.
// In "undo fails", /run/netns is set up as an earlier add leaves it (bound
// onto itself, noted in /run/nslab-netns-setup) and, seen from the user
// namespace, locked: the undo cannot unmount or remove it. It must warn
// and go on; an undo step that exits (it used to) hung on the cleanup
// lock.
func TestAddFailsCleanly(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	unshare := nstest.RequireTool(t, "unshare", "util-linux")
	// Mounts at /run/netns... that the host has show here too (copies,
	// under the new /run): only a change counts.
	run := `mounts() { awk '$5 ~ "^/run/netns" {print $5}' /proc/self/mountinfo; }
echo 0 >/proc/sys/user/max_net_namespaces || exit 98
before=$(mounts)
"$0" add nslab-fails
echo "exit $?"
ls -A /run/netns 2>/dev/null
[ "$(mounts)" = "$before" ] || mounts`
	for _, tc := range []struct {
		name, setup string
		last        string // the undo's last step
		warning     string // what the undo could not do ("": none)
	}{
		{"fresh", "true", "rmdir /run/netns", ""},
		{"undo fails", `mkdir /run/netns && mount --bind /run/netns /run/netns &&
printf 'mkdir\nbind\n' >/run/nslab-netns-setup`, "umount /run/netns", "rmdir /run/netns: EBUSY: device or resource busy (sudo make reset removes what is left)"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			cmd := nstest.Program(t, prog)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// An empty /run in a mount namespace of the test's own, set up
			// as root; then a user namespace (where the set-up is locked)
			// for the run. The host's /run/netns goes first: a parallel
			// test's name there, removed meanwhile, would leave this
			// namespace too (unlinking a mount point detaches its copies
			// everywhere), and look like a mount the run changed.
			outer := "umount -R -l /run/netns 2>/dev/null; mount -t tmpfs nslab /run || exit 99\n" + tc.setup + " || exit 99\n" +
				`exec "$1" --user --map-root-user --mount sh -c "$2" "$0"`
			wrapped := exec.CommandContext(ctx, unshare, "--mount", "sh", "-c", outer, cmd.Path, unshare, run)
			wrapped.Env = cmd.Env
			start := time.Now()
			r := nstest.Run(t, wrapped)
			if ctx.Err() != nil {
				t.Fatalf("still running after %s: an undo step hangs\nstdout:\n%s\nstderr:\n%s", time.Since(start), r.Stdout, r.Stderr)
			}
			if r.Code >= 98 {
				nstest.Skip(t, "cannot set up the failure (a user namespace with its own /run and max_net_namespaces 0): "+r.Stderr)
			}
			nstest.NoPanic(t, r.Stderr)
			ss := steps(r.Stdout)
			if len(ss) < 2 || ss[0].cmd == "touch /run/netns/nslab-fails" && ss[1].cmd != "umount -l /run/netns/nslab-fails" {
				t.Errorf("the undo did not remove the name first:\n%s", r.Stdout)
			}
			var tail []string
			if len(ss) > 0 && ss[len(ss)-1].cmd == tc.last {
				tail = ss[len(ss)-1].out
			}
			if !slices.Equal(tail, []string{"exit 1"}) {
				t.Errorf("want the undo to end with %q, then exit 1, no name left and no mount changed:\n%s", tc.last, r.Stdout)
			}
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			if !strings.Contains(lines[0], "ip netns add nslab-fails: ENOSPC") ||
				tc.warning == "" && len(lines) != 1 || tc.warning != "" && (len(lines) != 2 || !strings.Contains(lines[1], tc.warning)) {
				t.Errorf("stderr = %q, want the ENOSPC line, then the undo's warning %q, if any", r.Stderr, tc.warning)
			}
		})
	}
}

// ---- link -------------------------------------------------------------

var linkNSRE = regexp.MustCompile(`(?m)^netns A net:\[(\d+)\] \(fd (\d+)\), netns B net:\[(\d+)\] \(fd (\d+)\)`)

// linkRun is what a link run says about itself: its PID and, per
// namespace, the inode and the fd that holds it.
type linkRun struct {
	pid      int
	ino, fd  [2]int
	vethName [2]string
	cookie   [2]uint64 // see netnsCookie
}

func parseLink(t *testing.T, pid int, out string) linkRun {
	t.Helper()
	m := linkNSRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no namespace line:\n%s", out)
	}
	lr := linkRun{pid: pid}
	for i := range 2 {
		lr.ino[i], _ = strconv.Atoi(m[1+2*i])
		lr.fd[i], _ = strconv.Atoi(m[2+2*i])
		lr.vethName[i] = fmt.Sprintf("veth-%d-%c", pid, 'a'+i)
	}
	return lr
}

// snmp reads /proc/net/snmp or /proc/net/netstat in the namespace held by
// the fd (nsenter --net=/proc/PID/fd/N cat ...) and returns proto.field.
func snmp(t *testing.T, ns, file string) map[string]int64 {
	t.Helper()
	out := nstest.Exec(t, "nsenter", "--net="+ns, "cat", file)
	vals := map[string]int64{}
	lines := strings.Split(out, "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		keys, nums := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		for j := 1; j < len(keys) && j < len(nums); j++ {
			n, _ := strconv.ParseInt(nums[j], 10, 64)
			vals[strings.TrimSuffix(keys[0], ":")+"."+keys[j]] = n
		}
	}
	return vals
}

// checkLinkInside is what another shell sees while link holds: in each
// namespace, its veth end UP with its address, and TCP traffic both ways;
// on the host, none of it.
func checkLinkInside(t *testing.T, lr linkRun) {
	t.Helper()
	addrs := []string{"10.200.6.1/30", "10.200.6.2/30"}
	for i, side := range []string{"A", "B"} {
		ns := fmt.Sprintf("/proc/%d/fd/%d", lr.pid, lr.fd[i])
		if got := netInode(t, ns); got != uint64(lr.ino[i]) {
			t.Errorf("netns %s: %s is net:[%d], the program said %d", side, ns, got, lr.ino[i])
		}
		var links []struct {
			Name  string   `json:"ifname"`
			Flags []string `json:"flags"`
			Addrs []struct {
				Family string `json:"family"`
				Local  string `json:"local"`
				Len    int    `json:"prefixlen"`
			} `json:"addr_info"`
		}
		if err := json.Unmarshal([]byte(nstest.Exec(t, "nsenter", "--net="+ns, "ip", "-j", "addr")), &links); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range links {
			names = append(names, l.Name)
			if l.Name != lr.vethName[i] {
				continue
			}
			if !slices.Contains(l.Flags, "UP") || !slices.Contains(l.Flags, "LOWER_UP") {
				t.Errorf("netns %s: %s flags %v, want UP and LOWER_UP", side, l.Name, l.Flags)
			}
			var v4 []string
			for _, a := range l.Addrs {
				if a.Family == "inet" {
					v4 = append(v4, fmt.Sprintf("%s/%d", a.Local, a.Len))
				}
			}
			if !slices.Equal(v4, []string{addrs[i]}) {
				t.Errorf("netns %s: %s has IPv4 %v, want [%s]", side, l.Name, v4, addrs[i])
			}
		}
		if !slices.Equal(names, []string{"lo", lr.vethName[i]}) {
			t.Errorf("netns %s has interfaces %v, want [lo %s]", side, names, lr.vethName[i])
		}
		// TCP, as the kernel of each namespace counted it: one passive
		// open in A, one active open in B, IPv4 bytes in and out of both.
		tcp := snmp(t, ns, "/proc/net/snmp")
		ip := snmp(t, ns, "/proc/net/netstat")
		opens := map[string]int64{"A": tcp["Tcp.PassiveOpens"], "B": tcp["Tcp.ActiveOpens"]}[side]
		if opens != 1 || ip["IpExt.InOctets"] == 0 || ip["IpExt.OutOctets"] == 0 {
			t.Errorf("netns %s: TCP opens %d (want 1), IPv4 bytes in %d, out %d (want both > 0)",
				side, opens, ip["IpExt.InOctets"], ip["IpExt.OutOctets"])
		}
	}
	checkHostUntouched(t, lr)
}

// checkHostUntouched: no interface of ours and none of our addresses in
// the host's namespace.
func checkHostUntouched(t *testing.T, lr linkRun) {
	t.Helper()
	for _, l := range ipLinks(t) {
		if strings.HasPrefix(l.name, fmt.Sprintf("veth-%d-", lr.pid)) {
			t.Errorf("the host has %s", l.name)
		}
	}
	if out := nstest.Exec(t, "ip", "-o", "addr"); strings.Contains(out, "10.200.6.") {
		t.Errorf("a 10.200.6.x address on the host:\n%s", out)
	}
}

// soNetnsCookie is SO_NETNS_COOKIE from <asm-generic/socket.h> (Linux
// 5.14), not in x/sys/unix yet; 71 on x86 and arm.
const soNetnsCookie = 71

// netnsCookie is the identity of the network namespace behind path that,
// unlike its inode number, the kernel never gives to another namespace:
// the SO_NETNS_COOKIE of a socket made in it. It uses
// common.OnThread, which steps the thread back afterwards.
func netnsCookie(path string) (uint64, error) {
	var cookie uint64
	err := common.OnThread(func() error {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			return err
		}
		s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(s)
		cookie, err = unix.GetsockoptUint64(s, unix.SOL_SOCKET, soNetnsCookie)
		return err
	})
	return cookie, err
}

// cookies records the identity of link's two namespaces while it holds.
func cookies(t *testing.T, lr *linkRun) {
	t.Helper()
	for i := range 2 {
		c, err := netnsCookie(fmt.Sprintf("/proc/%d/fd/%d", lr.pid, lr.fd[i]))
		if errors.Is(err, unix.ENOPROTOOPT) {
			nstest.Skip(t, "this kernel has no SO_NETNS_COOKIE (Linux 5.14+), which tells a leftover namespace from a new one")
		} else if err != nil {
			t.Fatal(err)
		}
		lr.cookie[i] = c
	}
}

// checkNothingLeft: after a link run, neither of its namespaces exists
// any more: nothing holds one (no process or thread in it, no open fd of
// it, no mount of it anywhere), nothing is named after the run in
// /run/netns, and the host has no veth of ours. A namespace whose inode
// number matches is compared by cookie: the kernel frees a namespace
// asynchronously and may give its number to a new one at once.
func checkNothingLeft(t *testing.T, lr linkRun) {
	t.Helper()
	nstest.WaitGone(t, lr.pid)
	deadline := time.Now().Add(nstest.Patience(2 * time.Second))
	for {
		left := leftovers(lr)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left behind after the run:\n%s", strings.Join(left, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, n := range netnsNames(t) {
		if strings.Contains(n, strconv.Itoa(lr.pid)) {
			t.Errorf("ip netns list shows %s", n)
		}
	}
	checkHostUntouched(t, lr)
}

func leftovers(lr linkRun) []string {
	var left []string
	ids := map[string]bool{}
	for i := range 2 {
		ids[fmt.Sprintf("net:[%d]", lr.ino[i])] = true
	}
	ours := func(path string) bool {
		c, err := netnsCookie(path)
		return err == nil && (c == lr.cookie[0] || c == lr.cookie[1])
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		links, _ := filepath.Glob(p + "/task/*/ns/net")
		fds, _ := filepath.Glob(p + "/fd/*")
		for _, l := range append(links, fds...) {
			if id, err := os.Readlink(l); err == nil && ids[id] && ours(l) {
				left = append(left, l+" -> "+id)
			}
		}
		mi, _ := os.ReadFile(p + "/mountinfo")
		for _, line := range strings.Split(string(mi), "\n") {
			if f := strings.Fields(line); len(f) > 4 && ids[f[3]] && ours(p+"/root"+f[4]) {
				left = append(left, p+"/mountinfo: "+line)
			}
		}
	}
	return left
}

// TestLink: link runs its echo and leaves nothing behind, whether it ends
// normally, is interrupted while holding, or is killed outright. Every
// run holds a moment, so that the test can take its namespaces' cookies.
func TestLink(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "ip", "iproute2")
	nstest.RequireTool(t, "nsenter", "util-linux")

	for _, args := range [][]string{{"link", "-hold", "1s"}, {"link", "-hold", "1s", "-move"}} {
		t.Run(strings.Join(args[1:], ""), func(t *testing.T) {
			t.Parallel()
			cmd := nstest.Program(t, prog, args...)
			s := nstest.Start(t, cmd)
			s.Expect(t, `^holding for 1s`)
			lr := parseLink(t, cmd.Process.Pid, s.Output())
			cookies(t, &lr)
			r := s.Wait(t)
			ok(t, r)
			for _, want := range []string{
				`B -> A: 19 bytes "hello from netns B\n", and the server in A got 19`,
				`A -> B: 19 bytes "hello from netns B\n"`,
				`closed the last file descriptors of A and B`,
			} {
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("no line %q:\n%s", want, r.Stdout)
				}
			}
			if moved := strings.Contains(r.Stdout, "moved veth-"); moved != slices.Contains(args, "-move") {
				t.Errorf("moved = %v with args %q:\n%s", moved, args, r.Stdout)
			}
			checkNothingLeft(t, lr)
		})
	}
	for _, sig := range []unix.Signal{unix.SIGINT, unix.SIGKILL} {
		t.Run("hold-"+unix.SignalName(sig), func(t *testing.T) {
			t.Parallel()
			cmd := nstest.Program(t, prog, "link", "-hold", "30s")
			s := nstest.Start(t, cmd)
			s.Expect(t, `^holding for 30s`)
			lr := parseLink(t, cmd.Process.Pid, s.Output())
			cookies(t, &lr)
			checkLinkInside(t, lr)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			r := s.Wait(t)
			nstest.NoPanic(t, r.Stderr)
			if sig == unix.SIGINT && r.Code != 130 {
				t.Errorf("exit %d after SIGINT, want 130", r.Code)
			}
			checkNothingLeft(t, lr)
		})
	}
}

// ---- the thread claims the README makes ----------------------------------

// TestLockedThread: on a locked thread that has unshared its network
// namespace, a child started with os/exec is in that namespace (Go clones
// it from the calling thread), and setns() into a mount namespace fails
// with EINVAL (Go's threads share their filesystem context).
func TestLockedThread(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	errc := make(chan error, 1)
	go func() {
		// Unlocked only once back home: this may be the main thread, which
		// the runtime would park, not end (see common.OnThread).
		runtime.LockOSThread()
		home, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(home)
		errc <- func() error {
			before, _ := os.Readlink("/proc/thread-self/ns/net")
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				return err
			}
			mine, _ := os.Readlink("/proc/thread-self/ns/net")
			if mine == before {
				return fmt.Errorf("unshare did not change the thread's netns (%s)", mine)
			}
			for range 20 {
				out, err := exec.Command("readlink", "/proc/self/ns/net").Output()
				if err != nil {
					return err
				}
				if got := strings.TrimSpace(string(out)); got != mine {
					return fmt.Errorf("child of the locked thread is in %s, the thread in %s", got, mine)
				}
			}
			fd, err := unix.Open("/proc/self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			if err := unix.Setns(fd, unix.CLONE_NEWNS); !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("setns(mnt) from a Go thread: %v, want EINVAL", err)
			}
			return nil
		}()
		if unix.Setns(home, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// ---- bad input ----------------------------------------------------------

// TestNotRoot: as nobody, everything but list is one line and exit 1.
func TestNotRoot(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"show"}, {"add", "x"}, {"del", "x"}, {"exec", "x", "true"}, {"link"}} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			r := nstest.Run(t, nstest.ProgramAs(t, 65534, prog, args...))
			oneLine(t, r, 1, "needs root")
		})
	}
	t.Run("list", func(t *testing.T) {
		t.Parallel()
		r := nstest.Run(t, nstest.ProgramAs(t, 65534, prog, "list"))
		ok(t, r)
	})
}

func sameNames(a, b []os.DirEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name() != b[i].Name() {
			return false
		}
	}
	return true
}

//go:embed README.md
var readme string

//go:embed README.ko.md
var readmeKo string

// The commands and outputs README.md and its translation show are what the
// code does today.
// The named namespaces are made under an empty /run of the block's own
// (tmpfs=/run), so that the first add is the machine's first, as shown,
// and no other name on the machine shows in the lists.
func TestReadme(t *testing.T) {
	nstest.LockNetns(t) // its ip netns blocks use the host's /run/netns
	nstest.Readme(t, nstest.Doc{Name: "06-net", Text: readme, Ko: readmeKo, C: cSources})
}
