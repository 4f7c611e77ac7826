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

	"golang.org/x/sys/unix"

	"nslab/common"
	"nslab/common/nstest"
)

//go:embed c/*.c
var cSources embed.FS

func TestMain(m *testing.M) { nstest.Main(m, main) }

const prog = "07-user"

// The tests judge by what the kernel shows: the child's /proc/PID/status,
// uid_map, gid_map and setgroups read from the host; its status read from
// inside its user namespace (nsenter -U); the owner of its namespaces
// (ioctl NS_GET_USERNS); and real peers (nsenter, hostname, cat) that try
// the same privileged things in the same namespace.

// goHeld is the Go program run with its children held alive (-hold), as
// root (with root's groups, see withRootGroups) or as uid (e.g. nobody).
func goHeld(t *testing.T, uid int, args ...string) *exec.Cmd {
	args = append([]string{"-hold", "30s"}, args...)
	if uid != 0 {
		return nstest.ProgramAs(t, uint32(uid), prog, args...)
	}
	return withRootGroups(t, nstest.Program(t, prog, args...))
}

// withRootGroups runs cmd with the supplementary groups a root login often
// has — root (0), and here also the group of /etc/shadow — so that the
// tests see whether they leak into the child (they must not: the child
// could read /etc/shadow through them, and with setgroups denied it could
// not even drop them).
func withRootGroups(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	setpriv := nstest.RequireTool(t, "setpriv", "util-linux")
	var st unix.Stat_t
	if err := unix.Stat("/etc/shadow", &st); err != nil {
		t.Fatal(err)
	}
	cmd.Args = append([]string{"setpriv", fmt.Sprintf("--groups=0,%d", st.Gid), "--", cmd.Path}, cmd.Args[1:]...)
	cmd.Path = setpriv
	return cmd
}

// worldExecutable copies bin into a directory nobody may enter.
func worldExecutable(t *testing.T, bin string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nslab-07-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b, err := os.ReadFile(bin)
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	dst := filepath.Join(dir, filepath.Base(bin))
	if err == nil {
		err = os.WriteFile(dst, b, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// asUser runs a program as uid = gid = uid with no supplementary groups,
// as nstest.ProgramAs does for the Go program.
func asUser(t *testing.T, uid int, bin string, args ...string) *exec.Cmd {
	t.Helper()
	setpriv := nstest.RequireTool(t, "setpriv", "util-linux")
	id := strconv.Itoa(uid)
	cmd := exec.Command(setpriv, append([]string{"--reuid=" + id, "--regid=" + id, "--clear-groups", "--", bin}, args...)...)
	cmd.Dir = "/"
	return cmd
}

// requireUnprivilegedUserNS skips when nobody may not create a user
// namespace here (a distribution switch; see disabled.go).
func requireUnprivilegedUserNS(t *testing.T) {
	t.Helper()
	nstest.RequireRoot(t)
	unshare := nstest.RequireTool(t, "unshare", "util-linux")
	cmd := asUser(t, 65534, unshare, "--user", "--map-root-user", "true")
	if out, err := cmd.CombinedOutput(); err != nil {
		nstest.Skip(t, fmt.Sprintf("unprivileged user namespaces are disabled here (%v: %s): %s",
			err, strings.TrimSpace(string(out)), userNSHint(false, readProcSys)))
	}
}

func fullCapMask() string {
	last := capLastCap()
	return fmt.Sprintf("%016x", uint64(1)<<(last+1)-1)
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// ownerOf is the inode of the user namespace that owns the namespace at
// path (ioctl NS_GET_USERNS).
func ownerOf(t *testing.T, path string) uint64 {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	owner, err := unix.IoctlRetInt(fd, unix.NS_GET_USERNS)
	if err != nil {
		t.Fatalf("ioctl(%s, NS_GET_USERNS): %v", path, err)
	}
	defer unix.Close(owner)
	var st unix.Stat_t
	if err := unix.Fstat(owner, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// checkChild looks at a held child from the host and from inside.
func checkChild(t *testing.T, pid int, hostUID string) {
	t.Helper()
	p := func(f string) string { return fmt.Sprintf("/proc/%d/%s", pid, f) }
	want4 := strings.Repeat(hostUID+" ", 3) + hostUID

	// From the host: the real ids, and no supplementary group.
	for _, key := range []string{"Uid", "Gid"} {
		if v, err := common.StatusField(pid, key); err != nil || v != want4 {
			t.Errorf("host's %s: %s: %q (%v), want %q", p("status"), key, v, err, want4)
		}
	}
	if v, err := common.StatusField(pid, "Groups"); err != nil || v != "" {
		t.Errorf("host's %s: Groups: %q (%v), want none (root's group 0 must not follow the child)", p("status"), v, err)
	}
	if v, err := common.StatusField(pid, "CapEff"); err != nil || v != fullCapMask() {
		t.Errorf("%s: CapEff: %q (%v), want every capability %s (in its namespace)", p("status"), v, err, fullCapMask())
	}
	for _, f := range []string{"uid_map", "gid_map"} {
		if v := readTrim(t, p(f)); v != "0 "+hostUID+" 1" {
			t.Errorf("%s = %q, want \"0 %s 1\"", p(f), v, hostUID)
		}
	}
	if v := readTrim(t, p("setgroups")); v != "deny" {
		t.Errorf("%s = %q, want deny", p("setgroups"), v)
	}

	// Namespaces: a user namespace of its own; its UTS namespace (made by
	// unshare after the demo) is new and owned by that user namespace,
	// while ours belongs to our (the initial) user namespace.
	myUser, _ := common.NSInode(0, "user")
	itsUser, err := common.NSInode(pid, "user")
	if err != nil || itsUser == myUser {
		t.Errorf("child's user namespace %d (%v): want a new one, not ours (%d)", itsUser, err, myUser)
	}
	if o := ownerOf(t, p("ns/uts")); o != itsUser {
		t.Errorf("owner of the child's UTS namespace: user namespace %d, want the child's %d", o, itsUser)
	}
	if o := ownerOf(t, "/proc/self/ns/uts"); o != myUser {
		t.Errorf("owner of the host's UTS namespace: %d, want our user namespace %d", o, myUser)
	}

	// From inside: /proc/PID/status read by a process in the child's user
	// namespace shows the ids as they are there.
	in := nstest.Exec(t, "nsenter", "-t", strconv.Itoa(pid), "-U", "--preserve-credentials", "cat", p("status"))
	if m := regexp.MustCompile(`(?m)^Uid:\s+(.*)$`).FindStringSubmatch(in); m == nil || strings.Join(strings.Fields(m[1]), " ") != "0 0 0 0" {
		t.Errorf("Uid inside the child's user namespace: %q, want 0 0 0 0", m)
	}

	// Peers in the same user namespace, as its uid 0 with every
	// capability there (nsenter -U does setuid(0)), try the host's
	// hostname and /etc/shadow: the kernel says no to both.
	if out, err := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-U", "hostname", "nslab-peer").CombinedOutput(); err == nil {
		t.Errorf("nsenter -U hostname nslab-peer succeeded, want a refusal: %s", out)
	}
	out, err := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-U", "cat", "/etc/shadow").CombinedOutput()
	if hostUID != "0" && (err == nil || !strings.Contains(string(out), "Permission denied")) {
		t.Errorf("nsenter -U cat /etc/shadow: %v %q, want Permission denied", err, firstLine(string(out)))
	}
	if hostUID == "0" && err != nil {
		t.Errorf("mapped to host root, nsenter -U cat /etc/shadow: %v %q, want it readable", err, firstLine(string(out)))
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

var hostViewRE = `^parent: the host's view, /proc/(\d+)/status: Uid: `

// runHeld runs the Go program with held children (two: by hand, then the
// Go shortcut), checks each child while it lives, kills it, and checks that
// the run ends well and leaves nothing.
func runHeld(t *testing.T, uid int, hostUID string, args ...string) string {
	t.Helper()
	const parts = 2
	before := nstest.Hostname(t)
	cmd := goHeld(t, uid, args...)
	s := nstest.Start(t, cmd)
	for part := 1; part <= parts; part++ {
		pid, _ := strconv.Atoi(s.Expect(t, hostViewRE)[1])
		out := s.Output()
		// The program's own report of the kernel's answers, per child.
		for _, want := range []string{
			`child: sethostname("nslab-07") in the host's UTS namespace: EPERM`,
			`child: unshare(CLONE_NEWUTS) + sethostname("nslab-07"): ok, uts.nodename is now nslab-07`,
		} {
			if n := strings.Count(out, want+"\n"); n != part {
				t.Errorf("part %d: %q printed %d times, want %d\n%s", part, want, n, part, out)
			}
		}
		shadow := "EACCES"
		if hostUID == "0" {
			shadow = "ok"
		}
		if n := strings.Count(out, `child: open("/etc/shadow"): `+shadow+"\n"); n != part {
			t.Errorf("part %d: want open(\"/etc/shadow\"): %s\n%s", part, shadow, out)
		}
		checkChild(t, pid, hostUID)
		// The child is alone in its user namespace (asked while it lives:
		// a dead namespace's inode number is soon reused).
		ino, _ := common.NSInode(pid, "user")
		if in := nstest.ProcsInNS("user", ino); !slices.Equal(in, []int{pid}) {
			t.Errorf("processes in the child's user namespace: %v, want only %d", in, pid)
		}
		if err := unix.Kill(pid, unix.SIGKILL); err != nil {
			t.Fatal(err)
		}
		nstest.WaitGone(t, pid)
	}
	r := s.Wait(t)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 0 {
		t.Errorf("exit %d, want 0 (killing a held child ends it early)\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if n := strings.Count(r.Stdout, "\nchild has terminated\n"); n != parts {
		t.Errorf("\"child has terminated\" %d times, want %d:\n%s", n, parts, r.Stdout)
	}
	if after := nstest.Hostname(t); after != before {
		t.Fatalf("host hostname changed: %q -> %q", before, after)
	}
	nstest.WaitGone(t, cmd.Process.Pid)
	return r.Stdout
}

// TestAsRoot: root maps uid 0 inside to host uid 100000. Inside, the child
// is uid 0 with every capability; the host sees uid 100000; it cannot
// change the host's hostname nor read /etc/shadow.
func TestAsRoot(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.RequireNamespace(t, "user")
	nstest.RequireTool(t, "nsenter", "util-linux")
	nstest.RequireTool(t, "hostname", "hostname")
	runHeld(t, 0, strconv.Itoa(rootMapTo))
}

// TestAsNobody: the whole demo works without any privilege.
func TestAsNobody(t *testing.T) {
	t.Parallel()
	requireUnprivilegedUserNS(t)
	nstest.RequireTool(t, "nsenter", "util-linux")
	nstest.RequireTool(t, "hostname", "hostname")
	runHeld(t, 65534, "65534")
}

// TestMapToHostRoot: mapped to host uid 0, the child's root owns what the
// host's root owns: /etc/shadow opens. The capabilities still stop at the
// namespace: the host's hostname stays.
func TestMapToHostRoot(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "nsenter", "util-linux")
	nstest.RequireTool(t, "hostname", "hostname")
	runHeld(t, 0, "0", "-map-to", "0")
}

// seedLines keeps the lines of the seed's steps, which the C prints too,
// up to the end of the first child, with the PIDs replaced; sorted, as the
// PID line and the child's first lines come in either order.
func seedLines(stdout string) []string {
	var out []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "PID of child") || strings.HasPrefix(l, "child: whoami:") ||
			strings.HasPrefix(l, "child: id:") || strings.HasPrefix(l, "child: id after the maps:") ||
			strings.HasPrefix(l, "parent: wrote") || l == "child has terminated" {
			out = append(out, regexp.MustCompile(`/proc/\d+/`).ReplaceAllString(
				regexp.MustCompile(`clone\(\) is \d+`).ReplaceAllString(l, "clone() is N"), "/proc/N/"))
		}
		if l == "child has terminated" {
			break
		}
	}
	slices.Sort(out)
	return out
}

// TestGoVsC: the seed's steps, in Go and in C, print the same lines, as
// root and as nobody; each run ends by itself and leaves no child. The C's
// user namespace line names a new user namespace, and its child is gone.
func TestGoVsC(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	cBin := nstest.BuildC(t, cSources, "unshare_user")
	myUser, _ := common.NSInode(0, "user")
	run := func(cmd *exec.Cmd) string {
		r := nstest.Run(t, cmd)
		nstest.NoPanic(t, r.Stderr)
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("%s: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", cmd.Args[0], r.Code, r.Stdout, r.Stderr)
		}
		for _, m := range regexp.MustCompile(`clone\(\) is (\d+)`).FindAllStringSubmatch(r.Stdout, -1) {
			pid, _ := strconv.Atoi(m[1])
			nstest.WaitGone(t, pid)
		}
		return r.Stdout
	}
	for _, tc := range []struct {
		uid     int
		afterID string // the child's id once the maps are written
	}{
		// Root's child is still nobody: the map covers host uid 100000,
		// not its own (0). nobody's covers its own 65534: uid 0 inside.
		{0, "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"},
		{65534, "uid=0(root) gid=0(root) groups=0(root)"},
	} {
		t.Run(fmt.Sprint("uid-", tc.uid), func(t *testing.T) {
			var goCmd, cCmd *exec.Cmd
			if tc.uid == 0 {
				goCmd, cCmd = withRootGroups(t, nstest.Program(t, prog)), withRootGroups(t, exec.Command(cBin))
			} else {
				requireUnprivilegedUserNS(t)
				goCmd = nstest.ProgramAs(t, uint32(tc.uid), prog)
				cCmd = asUser(t, tc.uid, worldExecutable(t, cBin))
			}
			goOut, cOut := run(goCmd), run(cCmd)
			g, c := seedLines(goOut), seedLines(cOut)
			if len(g) != 8 || !slices.Equal(g, c) {
				t.Errorf("the seed's lines differ:\nGo: %q\nC:  %q\nGo stdout:\n%s\nC stdout:\n%s", g, c, goOut, cOut)
			}
			if want := "child: id after the maps: " + tc.afterID + "\n"; !strings.Contains(cOut, want) {
				t.Errorf("C: want %q\n%s", want, cOut)
			}
			m := regexp.MustCompile(`parent: user namespace: parent user:\[(\d+)\], child user:\[(\d+)\]`).FindStringSubmatch(cOut)
			if m == nil || m[1] != strconv.FormatUint(myUser, 10) || m[2] == m[1] {
				t.Errorf("C: want the parent in our user namespace %d and the child in a new one: %q", myUser, m)
			}
			if n := strings.Count(goOut, "child has terminated\n"); n != 2 {
				t.Errorf("Go: \"child has terminated\" %d times, want 2 (by hand, then the shortcut)", n)
			}
		})
	}
}

// TestParentDies: killing the parent (SIGTERM: its cleanup; SIGKILL: the
// parent-death signal, which the child must set again after setresuid
// cleared it) takes the held child with it.
func TestParentDies(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGKILL} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			t.Parallel()
			cmd := goHeld(t, 0)
			s := nstest.Start(t, cmd)
			pid, _ := strconv.Atoi(s.Expect(t, hostViewRE)[1])
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			r := s.Wait(t)
			nstest.NoPanic(t, r.Stderr)
			if r.Code == 0 {
				t.Errorf("exit 0 after %s, want non-zero", unix.SignalName(sig))
			}
			nstest.WaitGone(t, pid)
		})
	}
}

// TestUserNSRefused: where the kernel refuses a user namespace, one line
// names the errno and the switch to turn. The refusal is real, and the
// host's switches are not touched: user.max_user_namespaces is a setting
// of each user namespace, so the program runs in one of the test's (uid 0
// there is host root) where it is 0, and its clone gets ENOSPC.
func TestUserNSRefused(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	bash := nstest.RequireTool(t, "bash", "bash")
	program := nstest.Program(t, prog)
	cmd := exec.Command(bash, "-c", `echo 0 >/proc/sys/user/max_user_namespaces && exec -a "$0" "$1"`, prog, program.Path)
	cmd.Env = program.Env
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER, GidMappingsEnableSetgroups: true}
	cmd.SysProcAttr.UidMappings = append(cmd.SysProcAttr.UidMappings, idMap{ContainerID: 0, HostID: 0, Size: 1})
	cmd.SysProcAttr.GidMappings = append(cmd.SysProcAttr.GidMappings, idMap{ContainerID: 0, HostID: 0, Size: 1})
	r := nstest.Run(t, cmd)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 1 {
		t.Errorf("exit %d, want 1", r.Code)
	}
	want := prog + ": clone(CLONE_NEWUSER): ENOSPC: no space left on device (user.max_user_namespaces is 0: " +
		"no one may create a user namespace; as root: sysctl -w user.max_user_namespaces=15000)\n"
	if r.Stderr != want {
		t.Errorf("stderr = %q, want %q", r.Stderr, want)
	}
	if strings.Contains(r.Stdout, "PID of child") {
		t.Errorf("a child was started:\n%s", r.Stdout)
	}
}

// TestUserNSHint: each switch, in its blocking position, is the one named.
func TestUserNSHint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		root   bool
		sysctl map[string]string
		want   string
	}{
		{"max-0", false, map[string]string{"user/max_user_namespaces": "0\n"}, "sysctl -w user.max_user_namespaces=15000"},
		{"debian", false, map[string]string{"user/max_user_namespaces": "1000\n", "kernel/unprivileged_userns_clone": "0\n"},
			"sysctl -w kernel.unprivileged_userns_clone=1"},
		{"ubuntu", false, map[string]string{"user/max_user_namespaces": "1000\n", "kernel/apparmor_restrict_unprivileged_userns": "1\n"},
			"sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
		{"ubuntu-root", true, map[string]string{"user/max_user_namespaces": "7\n", "kernel/apparmor_restrict_unprivileged_userns": "1\n"},
			"no known switch is off here: user.max_user_namespaces=7;"},
		{"none-off", false, map[string]string{"user/max_user_namespaces": "7\n", "kernel/unprivileged_userns_clone": "1\n"},
			"no known switch is off here: user.max_user_namespaces=7, kernel.unprivileged_userns_clone=1;"},
	} {
		read := func(path string) (string, error) {
			if v, ok := tc.sysctl[path]; ok {
				return v, nil
			}
			return "", os.ErrNotExist
		}
		if got := userNSHint(tc.root, read); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q does not say %q", tc.name, got, tc.want)
		}
	}
}

func TestDescribeCaps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mask uint64
		last int
		want string
	}{
		{0x1ffffffffff, 40, "all 41"},
		{0xffffffffff, 39, "all 40"},
		{0, 40, "none"},
		{1<<unix.CAP_SETGID | 1<<unix.CAP_SETUID, 40, "cap_setgid cap_setuid"},
		{1 << unix.CAP_SYS_ADMIN, 40, "cap_sys_admin"},
		{1 << 45, 50, "45"},
	} {
		if got := describeCaps(tc.mask, tc.last); got != tc.want {
			t.Errorf("describeCaps(%#x, %d) = %q, want %q", tc.mask, tc.last, got, tc.want)
		}
	}
}

//go:embed README.md
var readme string

//go:embed README.ko.md
var readmeKo string

// The commands and outputs README.md and its translation show are what the
// code does today.
func TestReadme(t *testing.T) {
	nstest.Readme(t, nstest.Doc{Name: "07-user", Text: readme, Ko: readmeKo, C: cSources})
}
