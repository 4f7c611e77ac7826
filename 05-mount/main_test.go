package main

import (
	"bufio"
	"embed"
	"fmt"
	"math/rand/v2"
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

const prog = "05-mount"

// The tests run the programs inside an outer mount namespace whose / is
// shared, as on a systemd host (see sharedHost), and
// judge by the kernel: /proc/PID/mountinfo of the outer namespace and of
// the child, /proc/PID/root, nsenter, chroot(8). The programs' own lines
// are never the evidence.

// impl is a program to run: the options below are the Go program's. The
// C, c/newns.c, is the seed and has none: TestSeed runs it beside the Go.
type impl struct {
	name string
	bin  func(t *testing.T) string
}

var goImpl = impl{"Go", func(t *testing.T) string {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return self
}}

var impls = []impl{goImpl}

// sharedHost starts a process in a new mount namespace whose mounts are
// all shared, and returns its PID: a stand-in for a systemd host. Its
// mounts are shared among themselves only: made private first, they leave
// the peer groups of the real host's shared mounts (all of them in the
// guest, /run/netns here), so that what parallel tests mount on the host
// does not propagate into it and change its mountinfo under a test.
func sharedHost(t *testing.T) int {
	t.Helper()
	nstest.RequireRoot(t)
	nstest.RequireNamespace(t, "mnt")
	unshare := nstest.RequireTool(t, "unshare", "util-linux")
	nstest.RequireTool(t, "nsenter", "util-linux")
	// Without /run/netns: 06-net's tests, running beside these, add and
	// delete named network namespaces on the real host, and the copy of
	// one made here would vanish when they remove its file (since Linux
	// 3.18 unlinking a mount point detaches its mounts in every mount
	// namespace), as if the program under test had unmounted it.
	cmd := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-c",
		"mount --make-rshared / && { umount -R -l /run/netns 2>/dev/null; exec sleep 120; }")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	deadline := time.Now().Add(nstest.Patience(5 * time.Second))
	for {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if string(comm) == "sleep\n" { // unshare has set up and exec'd
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unshare -m ... mount --make-rshared / did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if mi := mountinfo(t, pid); !strings.Contains(strings.SplitN(mi, "\n", 2)[0], "shared:") {
		t.Fatalf("the outer namespace's first mount is not shared:\n%s", mi)
	}
	return pid
}

// inHost runs bin with args in the mount namespace of host (nsenter -m),
// under a symlink called name so that its messages say "05-mount: ...". The
// test binary runs the chapter's main (see nstest.Program).
func inHost(t *testing.T, host int, bin, name string, args ...string) *exec.Cmd {
	t.Helper()
	link := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(host), "-m", "--", link}, args...)...)
	cmd.Env = append(os.Environ(), "NSLAB_TEST_MAIN=1", "NO_COLOR=1")
	return cmd
}

func mountinfo(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mountsAt returns the filesystem types mounted at point in pid's mountinfo.
func mountsAt(t *testing.T, pid int, point string) []string {
	t.Helper()
	return typesAt(mountinfo(t, pid), point)
}

// typesAt returns the filesystem types mounted at point in a mountinfo.
func typesAt(mountinfo, point string) []string {
	var types []string
	sc := bufio.NewScanner(strings.NewReader(mountinfo))
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		f := strings.Fields(pre)
		if ok && len(f) > 4 && f[4] == point {
			types = append(types, strings.Fields(post)[0])
		}
	}
	return types
}

// procView is the outer namespace's /proc as the kernel shows it there:
// its device, and the outer process's own mountinfo read through it. If a
// proc of another PID namespace covered it, the outer PID would not exist.
func procView(t *testing.T, host int) string {
	t.Helper()
	root := fmt.Sprintf("/proc/%d/root/proc", host)
	var st unix.Stat_t
	if err := unix.Stat(root, &st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("%s/%d/mountinfo", root, host))
	if err != nil {
		t.Fatalf("the outer namespace's /proc does not show the outer process: %v", err)
	}
	return fmt.Sprintf("dev %d\n%s", st.Dev, b)
}

// unchanged fails the test if the outer namespace's mounts or /proc differ
// from before.
func unchanged(t *testing.T, host int, mountsBefore, procBefore string) {
	t.Helper()
	if after := mountinfo(t, host); after != mountsBefore {
		t.Errorf("the outer namespace's mountinfo changed:\nbefore:\n%s\nafter:\n%s", mountsBefore, after)
	}
	if after := procView(t, host); after != procBefore {
		t.Errorf("the outer namespace's /proc changed:\nbefore:\n%s\nafter:\n%s", procBefore, after)
	}
}

func freshDir(t *testing.T, tag string) string {
	t.Helper()
	dir := fmt.Sprintf("/tmp/nslab-05-%s-%d", tag, rand.Uint32())
	t.Cleanup(func() { os.Remove(dir) })
	return dir
}

var childPidRE = `^PID of child created by clone\(\) is (\d+)$`

// TestSharedHost: the seed's run (hostname, proc, shell) plus a tmpfs, in
// an outer namespace with shared mounts: the child sees its own hostname,
// PID 1 and /proc, and the outer namespace's mounts and /proc are byte for
// byte what they were. Without MakeMountsPrivate this fails.
func TestSharedHost(t *testing.T) {
	t.Parallel()
	dir := freshDir(t, "shared")
	script := `hostname; echo "pid $$"; ls /proc | grep -c '^[0-9]'; cat /proc/self/mountinfo`
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			host := sharedHost(t)
			mountsBefore, procBefore := mountinfo(t, host), procView(t, host)
			r := nstest.Run(t, inHost(t, host, im.bin(t), prog,
				"-hostname", "nslab-05", "-proc", "-tmpfs", dir, "sh", "-c", script))
			nstest.NoPanic(t, r.Stderr)
			if r.Code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
			}
			for _, want := range []string{"\nnslab-05\npid 1\n", " " + dir + " ", " /proc rw,relatime - proc /root/proc "} {
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("the command's output lacks %q:\n%s", want, r.Stdout)
				}
			}
			// ls /proc | grep -c: sh, ls and grep; the host has hundreds.
			m := regexp.MustCompile(`(?m)^pid 1\n(\d+)$`).FindStringSubmatch(r.Stdout)
			if n := 0; m != nil {
				n, _ = strconv.Atoi(m[1])
				if n < 1 || n > 5 {
					m = nil
				}
			}
			if m == nil {
				t.Errorf("the child's /proc should list a few processes:\n%s", r.Stdout)
			}
			unchanged(t, host, mountsBefore, procBefore)
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("%s was created for the run and is still there", dir)
			}
		})
	}
}

// TestSeed runs the post's program, c/newns.c, and the Go with -proc and
// no command, as the post does: a shell (bash, sh) reading its commands,
// here from stdin, in an outer namespace whose / is shared. In both the
// shell runs as PID 1 with the hostname "namespace", its /proc lists a few
// processes and is the seed's mount, a proc whose source is /root/proc;
// and the outer namespace's mounts and /proc are what they were (the
// nslab line that makes / rprivate first: without it the seed covers the
// host's /proc).
func TestSeed(t *testing.T) {
	t.Parallel()
	script := "hostname; echo \"pid $$\"; ls /proc | grep -c '^[0-9]'; cat /proc/self/mountinfo\n"
	seeds := []struct {
		name string
		bin  func(t *testing.T) string
		args []string
	}{
		{"Go", goImpl.bin, []string{"-proc"}},
		{"C", func(t *testing.T) string { return nstest.BuildC(t, cSources, "newns") }, nil},
	}
	for _, sd := range seeds {
		t.Run(sd.name, func(t *testing.T) {
			t.Parallel()
			host := sharedHost(t)
			mountsBefore, procBefore := mountinfo(t, host), procView(t, host)
			cmd := inHost(t, host, sd.bin(t), prog, sd.args...)
			cmd.Stdin = strings.NewReader(script)
			r := nstest.Run(t, cmd)
			nstest.NoPanic(t, r.Stderr)
			if r.Code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
			}
			m := regexp.MustCompile(`(?m)^namespace\npid 1\n(\d+)$`).FindStringSubmatch(r.Stdout)
			if n := 0; m != nil {
				n, _ = strconv.Atoi(m[1])
				if n < 1 || n > 5 {
					m = nil
				}
			}
			if m == nil {
				t.Errorf("want hostname namespace, PID 1 and a /proc with a few processes:\n%s", r.Stdout)
			}
			// The top mount on /proc, which the shell sees, is the seed's.
			var top string
			for _, l := range strings.Split(r.Stdout, "\n") {
				if pre, post, ok := strings.Cut(l, " - "); ok && len(strings.Fields(pre)) > 4 && strings.Fields(pre)[4] == "/proc" {
					top = post
				}
			}
			if f := strings.Fields(top); len(f) < 2 || f[0] != "proc" || f[1] != "/root/proc" {
				t.Errorf("the top mount on /proc is %q, want the seed's: proc, source /root/proc\n%s", top, r.Stdout)
			}
			unchanged(t, host, mountsBefore, procBefore)
		})
	}
}

// TestTmpfsInvisible: while the child runs, its tmpfs and a file in it are
// in the child's mountinfo and root, and in no other namespace; the host
// sees only the empty directory made for it. Ctrl-C then ends the run and
// removes the directory.
func TestTmpfsInvisible(t *testing.T) {
	t.Parallel()
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			t.Parallel()
			host := sharedHost(t)
			mountsBefore, procBefore := mountinfo(t, host), procView(t, host)
			dir := freshDir(t, "tmpfs-"+im.name)
			cmd := inHost(t, host, im.bin(t), prog, "-tmpfs", dir, "sh", "-c", "echo inside > "+dir+"/file && exec sleep 30")
			s := nstest.Start(t, cmd)
			m := s.Expect(t, childPidRE)
			child, _ := strconv.Atoi(m[1])

			deadline := time.Now().Add(nstest.Patience(5 * time.Second))
			for {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", child))
				if string(comm) == "sleep\n" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the child did not reach sleep:\n%s", s.Output())
				}
				time.Sleep(5 * time.Millisecond)
			}
			if got := mountsAt(t, child, dir); !slices.Equal(got, []string{"tmpfs"}) {
				t.Errorf("child %d's mountinfo at %s: %q, want [tmpfs]", child, dir, got)
			}
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root%s/file", child, dir)); string(b) != "inside\n" {
				t.Errorf("the file in the child's tmpfs, read via /proc/%d/root: %q, %v", child, b, err)
			}
			for who, pid := range map[string]int{"the outer namespace": host, "the test's namespace": os.Getpid()} {
				if got := mountsAt(t, pid, dir); len(got) > 0 {
					t.Errorf("%s sees %q at %s", who, got, dir)
				}
			}
			if ents, err := os.ReadDir(dir); err != nil || len(ents) > 0 {
				t.Errorf("the host should see %s as an empty directory: %v, %v", dir, ents, err)
			}

			if err := cmd.Process.Signal(unix.SIGINT); err != nil {
				t.Fatal(err)
			}
			r := s.Wait(t)
			nstest.NoPanic(t, r.Stderr)
			if r.Code != 130 {
				t.Errorf("exit %d after SIGINT, want 130\nstderr:\n%s", r.Code, r.Stderr)
			}
			nstest.WaitGone(t, child)
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("%s is still there after Ctrl-C", dir)
			}
			unchanged(t, host, mountsBefore, procBefore)
		})
	}
}

// TestErrorCleanup: a command that does not exist fails the run after the
// mounts were made; nothing is left, neither the mounts nor the directory.
func TestErrorCleanup(t *testing.T) {
	t.Parallel()
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			t.Parallel()
			host := sharedHost(t)
			mountsBefore, procBefore := mountinfo(t, host), procView(t, host)
			dir := freshDir(t, "err-"+im.name)
			r := nstest.Run(t, inHost(t, host, im.bin(t), prog, "-proc", "-tmpfs", dir, "nslab-no-such-command"))
			nstest.NoPanic(t, r.Stderr)
			if r.Code != 1 {
				t.Errorf("exit %d, want 1\nstderr:\n%s", r.Code, r.Stderr)
			}
			if !strings.Contains(r.Stderr, "nslab-no-such-command") && !strings.Contains(r.Stderr, "execvp") {
				t.Errorf("stderr does not name the failure:\n%s", r.Stderr)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("%s is still there", dir)
			}
			unchanged(t, host, mountsBefore, procBefore)
		})
	}
}

// TestRootfs builds one busybox rootfs (and one from the host's binaries),
// then runs the Go and the C program in it with -chroot and -pivot.
func TestRootfs(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "busybox", "busybox-static")
	chroot := nstest.RequireTool(t, "chroot", "coreutils")
	tmp := t.TempDir()
	rootfs := filepath.Join(tmp, "rootfs")
	r := nstest.Run(t, nstest.Program(t, prog, "mkrootfs", rootfs))
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 0 {
		t.Fatalf("mkrootfs: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	entries := func(dir string) []string {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}
	top := entries(rootfs)
	// After all subtests: no .escape-*, nothing new.
	t.Cleanup(func() {
		if got := entries(rootfs); !slices.Equal(got, top) {
			t.Errorf("the rootfs changed: %q, was %q", got, top)
		}
	})

	// A file outside the rootfs, with a content nobody could guess.
	token := fmt.Sprintf("host-secret-%d", rand.Uint64())
	marker := filepath.Join(tmp, "marker")
	if err := os.WriteFile(marker, []byte(token+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("mkrootfs-busybox", func(t *testing.T) {
		t.Parallel()
		if l, err := os.Readlink(filepath.Join(rootfs, "bin/sh")); err != nil || l != "busybox" {
			t.Errorf("bin/sh -> %q, %v; want busybox", l, err)
		}
		// chroot(8), a real peer: the rootfs runs on its own.
		out := nstest.Exec(t, chroot, rootfs, "/bin/sh", "-c", "echo ok; ls /; test -x /bin/05-mount && echo self")
		if want := "ok\n" + strings.Join(top, "\n") + "\nself\n"; out != want {
			t.Errorf("chroot %s sh: %q, want %q", rootfs, out, want)
		}
	})

	t.Run("mkrootfs-from-host", func(t *testing.T) {
		t.Parallel()
		nstest.RequireTool(t, "ldd", "libc-bin")
		dir := filepath.Join(t.TempDir(), "r")
		r := nstest.Run(t, nstest.Program(t, prog, "mkrootfs", "-from-host", dir))
		nstest.NoPanic(t, r.Stderr)
		if r.Code != 0 {
			t.Fatalf("mkrootfs -from-host: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "bin/busybox")); err == nil {
			t.Errorf("-from-host copied busybox")
		}
		// The host's dynamically linked ls and sh find their libraries and
		// loader inside the rootfs, or this fails.
		out := nstest.Exec(t, chroot, dir, "/bin/sh", "-c", "ls /bin; cat /etc/passwd")
		for _, want := range []string{"\nls\n", "\nmount\n", "root:x:0:0"} {
			if !strings.Contains("\n"+out, want) {
				t.Errorf("chroot %s: output lacks %q:\n%s", dir, want, out)
			}
		}
		// And it works as a container root.
		host := sharedHost(t)
		before := mountinfo(t, host)
		r = nstest.Run(t, inHost(t, host, goImpl.bin(t), prog, "-rootfs", dir, "-pivot", "-proc", "/bin/ps", "-e"))
		if r.Code != 0 || !regexp.MustCompile(`(?m)^\s+1 \?\s+\S+ ps$`).MatchString(r.Stdout) {
			t.Errorf("ps -e as PID 1 in the host-built rootfs: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
		if after := mountinfo(t, host); after != before {
			t.Errorf("the outer namespace's mountinfo changed")
		}
	})

	for _, im := range impls {
		for _, mode := range []string{"chroot", "pivot"} {
			// While the child sleeps, nsenter joins its mount namespace
			// (which sets the joiner's root to the namespace's root) and
			// lists /: the host's / after chroot, the rootfs after
			// pivot_root. Reading the host file there works only after
			// chroot.
			t.Run("nsenter-"+mode+"-"+im.name, func(t *testing.T) {
				t.Parallel()
				host := sharedHost(t)
				mountsBefore, procBefore := mountinfo(t, host), procView(t, host)
				cmd := inHost(t, host, im.bin(t), prog, "-rootfs", rootfs, "-"+mode, "-proc", "sleep", "30")
				s := nstest.Start(t, cmd)
				m := s.Expect(t, childPidRE)
				child, _ := strconv.Atoi(m[1])
				s.Expect(t, `^\+ exec sleep 30$`)
				// That line comes just before execve. When a multithreaded
				// process (Go) execs from a thread other than its first,
				// the first thread exits and is a zombie for an instant
				// before the execing thread takes over its PID; a zombie
				// has no /proc/PID/ns/*, and nsenter failed on it once
				// with ENOENT. Wait until the child is sleep.
				for deadline := time.Now().Add(nstest.Patience(5 * time.Second)); ; time.Sleep(5 * time.Millisecond) {
					if st, err := common.ReadStat(child); err == nil && st.Comm == "sleep" {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("pid %d is not sleep 5 s after the exec line", child)
					}
				}
				nsRoot := strings.Fields(nstest.Exec(t, "nsenter", "-t", m[1], "-m", "ls", "-a", "/"))
				// An escape subtest running meanwhile makes and removes its
				// .escape-* directory in the rootfs (that none is left,
				// the Cleanup above checks).
				nsRoot = slices.DeleteFunc(nsRoot, func(n string) bool { return strings.HasPrefix(n, ".escape-") })
				slices.Sort(nsRoot)
				catErr := exec.Command("nsenter", "-t", m[1], "-m", "cat", marker).Run()
				if mode == "chroot" {
					hostRoot := append([]string{".", ".."}, entries("/")...)
					if slices.Sort(hostRoot); !slices.Equal(nsRoot, hostRoot) {
						t.Errorf("after chroot the namespace's / should be the host's %q, got %q", hostRoot, nsRoot)
					}
					if catErr != nil {
						t.Errorf("after chroot the host file should be reachable in the namespace: %v", catErr)
					}
				} else {
					want := append([]string{".", ".."}, top...)
					if slices.Sort(want); !slices.Equal(nsRoot, want) {
						t.Errorf("after pivot_root the namespace's / should be the rootfs %q, got %q", want, nsRoot)
					}
					if catErr == nil {
						t.Errorf("after pivot_root %s is still reachable", marker)
					}
					// Its mount table holds the new root and its /proc.
					if got := mountsAt(t, child, "/"); len(got) != 1 {
						t.Errorf("mounts on / after pivot_root: %q, want one", got)
					}
				}
				if err := unix.Kill(child, unix.SIGKILL); err != nil {
					t.Fatal(err)
				}
				r := s.Wait(t)
				nstest.NoPanic(t, r.Stderr)
				if r.Code != 128+9 {
					t.Errorf("exit %d after the child was killed, want 137\nstderr:\n%s", r.Code, r.Stderr)
				}
				unchanged(t, host, mountsBefore, procBefore)
			})

			// The classic escape, run inside: after chroot it reads the
			// host file; after pivot_root it cannot.
			t.Run("escape-"+mode+"-"+im.name, func(t *testing.T) {
				t.Parallel()
				host := sharedHost(t)
				mountsBefore, procBefore := mountinfo(t, host), procView(t, host)
				r := nstest.Run(t, inHost(t, host, im.bin(t), prog, "-rootfs", rootfs, "-"+mode,
					"/bin/05-mount", "escape", "cat", marker))
				nstest.NoPanic(t, r.Stderr)
				escaped := strings.Contains(r.Stdout, token)
				if mode == "chroot" && (!escaped || r.Code != 0) {
					t.Errorf("the escape from chroot should read %s: exit %d\nstdout:\n%s\nstderr:\n%s", marker, r.Code, r.Stdout, r.Stderr)
				}
				if mode == "pivot" && (escaped || r.Code == 0) {
					t.Errorf("the escape after pivot_root reached %s: exit %d\nstdout:\n%s\nstderr:\n%s", marker, r.Code, r.Stdout, r.Stderr)
				}
				unchanged(t, host, mountsBefore, procBefore)
			})
		}
	}
}

// TestRuntimeErrors: things found wrong before any namespace exists get
// one line and exit 1, and mkrootfs never touches a directory it did not
// make.
func TestRuntimeErrors(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	noProc := t.TempDir()
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "keep"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no-rootfs", []string{"-rootfs", "/nonexistent-nslab", "-pivot"}, "-rootfs /nonexistent-nslab is not a directory"},
		{"rootfs-without-proc", []string{"-rootfs", noProc, "-chroot", "-proc"}, "has no /proc directory"},
		{"mkrootfs-not-empty", []string{"mkrootfs", full}, "exists and is not an empty directory"},
		{"mkrootfs-no-parent", []string{"mkrootfs", "/nonexistent-nslab/r"}, "the parent directory must exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := nstest.Run(t, nstest.Program(t, prog, tc.args...))
			nstest.NoPanic(t, r.Stderr)
			if r.Code != 1 {
				t.Errorf("exit %d, want 1", r.Code)
			}
			if strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, prog+": ") || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("stderr = %q, want one line saying %q", r.Stderr, tc.want)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(full, "keep")); string(b) != "mine" {
		t.Errorf("mkrootfs touched a directory it did not make: %q, %v", b, err)
	}
}

// TestNotRoot: as nobody, one clear line and exit 1; escape too.
func TestNotRoot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-proc", "true"}, prog + ": creating mount, PID, UTS and IPC namespaces needs root"},
		{[]string{"escape"}, prog + ": escape calls chroot(2), which needs root"},
	} {
		r := nstest.Run(t, nstest.ProgramAs(t, 65534, prog, tc.args...))
		nstest.NoPanic(t, r.Stderr)
		if r.Code != 1 {
			t.Errorf("%q: exit %d, want 1", tc.args, r.Code)
		}
		if strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, tc.want) {
			t.Errorf("%q: stderr = %q, want one line starting %q", tc.args, r.Stderr, tc.want)
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
	nstest.Readme(t, nstest.Doc{Name: "05-mount", Text: readme, Ko: readmeKo, C: cSources})
}
