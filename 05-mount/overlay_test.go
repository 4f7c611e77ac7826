package main

import (
	"bytes"
	"fmt"
	"io"
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

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
	}
	return string(b)
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Error(err)
	}
	var n []string
	for _, e := range ents {
		n = append(n, e.Name())
	}
	return n
}

// held is a run of the lesson stopped by its own output, with the
// overlay mounted: its stdout is a pipe of one page, which the test fills
// before the start so that exactly the lines up to the mount step fit.
// The next line's write blocks until the test reads.
type held struct {
	cmd    *exec.Cmd
	out    *os.File // the pipe's read end
	stderr bytes.Buffer
	child  int // the program's child, in its own mount namespace
}

// holdRun starts `05-mount overlay dir` in host's mount namespace, its
// output held after upTo bytes (those of a whole run up to the end of the
// mount step), and returns once the child's mount table has the overlay.
func holdRun(t *testing.T, host int, dir string, upTo int) *held {
	t.Helper()
	page := os.Getpagesize()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if n, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, page); err != nil || n != page {
		t.Fatalf("F_SETPIPE_SZ %d: %d, %v", page, n, err)
	}
	if upTo >= page {
		t.Fatalf("the output up to the mount is %d bytes, more than a pipe of one page holds", upTo)
	}
	if _, err := w.Write(bytes.Repeat([]byte("\n"), page-upTo)); err != nil {
		t.Fatal(err)
	}
	h := &held{cmd: inHost(t, host, goImpl.bin(t), prog, "overlay", dir), out: r}
	h.cmd.Stdout, h.cmd.Stderr = w, &h.stderr
	h.cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true} // for a Ctrl-C to the group
	err = h.cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if h.cmd.ProcessState == nil {
			unix.Kill(-h.cmd.Process.Pid, unix.SIGKILL)
			h.cmd.Wait()
		}
	})
	merged := filepath.Join(dir, "merged")
	for deadline := time.Now().Add(nstest.Patience(10 * time.Second)); ; time.Sleep(5 * time.Millisecond) {
		// Any of the program's threads may have forked the child.
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", h.cmd.Process.Pid))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			if c := strings.Fields(string(b)); len(c) > 0 {
				h.child, _ = strconv.Atoi(c[0])
			}
		}
		// Not mountsAt: the child may be between two states, and its
		// mountinfo unreadable for an instant (EINVAL, seen in the amd64
		// guest): look again.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", h.child)); h.child > 0 && err == nil &&
			slices.Equal(typesAt(string(b), merged), []string{"overlay"}) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("no overlay on %s in the child's (%d) mount table after 10 s; stderr:\n%s", merged, h.child, h.stderr.String())
		}
	}
}

// release reads the rest of the output and waits for the run's end.
func (h *held) release(t *testing.T) (stdout string, code int) {
	t.Helper()
	timer := time.AfterFunc(nstest.Patience(30*time.Second), func() { unix.Kill(-h.cmd.Process.Pid, unix.SIGKILL) })
	defer timer.Stop()
	b, _ := io.ReadAll(h.out)
	h.cmd.Wait()
	return strings.TrimLeft(string(b), "\n"), h.cmd.ProcessState.ExitCode()
}

// TestOverlay runs the lesson with DIRs of the test's, on a host whose /
// is shared, and judges by the files and mount tables. A whole run leaves
// in upper the copied-up hello, the new file and a whiteout (a character
// device 0:0) for doomed; lower as the lesson made it; work and merged
// removed. Then two runs are held with the overlay mounted: it is in the
// child's mount table, in a mount namespace other than the outer one, and
// not in the outer namespace's table nor the test's; released, the run
// ends well; interrupted (Ctrl-C to its process group), the child is
// killed, work and merged are removed, exit 130. The outer namespace's
// mounts and /proc are unchanged after each.
func TestOverlay(t *testing.T) {
	t.Parallel()
	// The outer namespace starts with copies of the host's mounts, those
	// on /run/netns/NAME too, which go when 06-net's tests remove NAME:
	// unchanged would see them go. Take turns with those tests.
	nstest.LockNetns(t)
	tmp := t.TempDir()
	host := sharedHost(t)
	mountsBefore, procBefore := mountinfo(t, host), procView(t, host)

	dir := filepath.Join(tmp, "ov1")
	r := nstest.Run(t, inHost(t, host, goImpl.bin(t), prog, "overlay", dir))
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	unchanged(t, host, mountsBefore, procBefore)
	lower, upper := filepath.Join(dir, "lower"), filepath.Join(dir, "upper")
	if got := readFile(t, filepath.Join(upper, "hello")); got != helloNew {
		t.Errorf("upper/hello = %q, want the copied-up file with the new content %q", got, helloNew)
	}
	if got := readFile(t, filepath.Join(lower, "hello")); got != helloLower {
		t.Errorf("lower/hello = %q, want it unchanged, %q", got, helloLower)
	}
	if got := readFile(t, filepath.Join(lower, "doomed")); got != doomedText {
		t.Errorf("lower/doomed = %q, want it unchanged, %q", got, doomedText)
	}
	if got := readFile(t, filepath.Join(upper, "new")); got != newText {
		t.Errorf("upper/new = %q, want %q", got, newText)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(upper, "doomed"), &st); err != nil {
		t.Errorf("no whiteout upper/doomed: %v", err)
	} else if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("upper/doomed: mode %#o, rdev %d:%d; want a whiteout, a character device 0:0",
			st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	if got := names(t, lower); !slices.Equal(got, []string{"doomed", "hello"}) {
		t.Errorf("lower holds %q, want [doomed hello]: the new file only in upper, doomed still there", got)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"lower", "upper"}) {
		t.Errorf("DIR holds %q after the run, want [lower upper]: work and merged removed, the layers left to look at", got)
	}
	if !strings.Contains(r.Stdout, "stay for you to look at") {
		t.Errorf("the output does not say that lower and upper stay:\n%s", r.Stdout)
	}

	// ov2 and ov3 are as long as ov1: the output up to the mount step is
	// as long too.
	m := regexp.MustCompile(`(?m)^\+ mount -t overlay .*\n`).FindStringIndex(r.Stdout)
	if m == nil {
		t.Fatalf("no mount step in the output:\n%s", r.Stdout)
	}
	for _, how := range []string{"released", "interrupted"} {
		dir := filepath.Join(tmp, map[string]string{"released": "ov2", "interrupted": "ov3"}[how])
		h := holdRun(t, host, dir, m[1])
		merged := filepath.Join(dir, "merged")
		for who, pid := range map[string]int{"the outer namespace": host, "the test's namespace": os.Getpid()} {
			if got := mountsAt(t, pid, merged); len(got) > 0 {
				t.Errorf("%s: %s has %q on %s while the child has the overlay there", how, who, got, merged)
			}
		}
		// Both alive: their namespaces' inode numbers cannot be reused
		// meanwhile. (KeepNS would pin the child's namespace, and the
		// overlay in it, past the child.)
		a, err1 := common.NSInode(h.child, "mnt")
		b, err2 := common.NSInode(host, "mnt")
		if err1 != nil || err2 != nil || a == b {
			t.Errorf("%s: the child with the overlay is in mount namespace %d, the outer one is %d (%v, %v)", how, a, b, err1, err2)
		}
		if how == "interrupted" {
			unix.Kill(-h.cmd.Process.Pid, unix.SIGINT)
		}
		out, code := h.release(t)
		nstest.NoPanic(t, h.stderr.String())
		want, left := 0, []string{"lower", "upper"}
		if how == "interrupted" {
			want = 130
		}
		if code != want || h.stderr.Len() > 0 {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", how, code, want, out, h.stderr.String())
		}
		if got := names(t, dir); !slices.Equal(got, left) {
			t.Errorf("%s: DIR holds %q, want %q", how, got, left)
		}
		nstest.WaitGone(t, h.child)
		unchanged(t, host, mountsBefore, procBefore)
	}
}

// freshLeft lists what a run of PID left of its fresh directory in /tmp.
func freshLeft(pid int) []string {
	m, _ := filepath.Glob(fmt.Sprintf("/tmp/nslab-overlay-%d-*", pid))
	return m
}

// TestOverlayFresh: without DIR the lesson works in a fresh directory in
// /tmp and removes it, after a whole run and after Ctrl-C (SIGINT to its
// process group) at random moments; the outer namespace's mounts and /proc
// are unchanged each time.
func TestOverlayFresh(t *testing.T) {
	t.Parallel()
	nstest.LockNetns(t) // as TestOverlay
	host := sharedHost(t)
	mountsBefore, procBefore := mountinfo(t, host), procView(t, host)
	start := time.Now()
	cmd := inHost(t, host, goImpl.bin(t), prog, "overlay")
	s := nstest.Start(t, cmd)
	r := s.Wait(t)
	took := time.Since(start)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "+ rm -rf /tmp/nslab-overlay-") {
		t.Errorf("no fresh directory in /tmp was made and removed:\n%s", r.Stdout)
	}
	if left := freshLeft(cmd.Process.Pid); len(left) > 0 {
		t.Errorf("the run left %q", left)
	}
	unchanged(t, host, mountsBefore, procBefore)

	for i := range 8 {
		at := time.Duration(rand.Int64N(int64(took)))
		cmd := inHost(t, host, goImpl.bin(t), prog, "overlay")
		cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
		s := nstest.Start(t, cmd)
		time.Sleep(at)
		unix.Kill(-cmd.Process.Pid, unix.SIGINT)
		r := s.Wait(t)
		nstest.NoPanic(t, r.Stderr)
		if r.Code != 0 && r.Code != 130 && r.Code != -1 || strings.Contains(r.Stderr, common.LeftHint) {
			t.Errorf("run %d, SIGINT after %s: exit %d\nstdout:\n%s\nstderr:\n%s", i, at, r.Code, r.Stdout, r.Stderr)
		}
		if left := freshLeft(cmd.Process.Pid); len(left) > 0 {
			t.Errorf("run %d, SIGINT after %s: left %q, exit %d\nstdout:\n%s\nstderr:\n%s", i, at, left, r.Code, r.Stdout, r.Stderr)
		}
		unchanged(t, host, mountsBefore, procBefore)
	}
}

// TestOverlayBadDir: a DIR that cannot be made gets one line and exit 1,
// a bad command line exit 2 (one line, then the usage), before anything
// is made or mounted.
func TestOverlayBadDir(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"a-file", []string{"overlay", file}, 1, "mkdir " + file + ": EEXIST"},
		{"a-dir", []string{"overlay", tmp}, 1, "mkdir " + tmp + ": EEXIST"},
		{"no-parent", []string{"overlay", "/nonexistent-nslab/ov"}, 1, "mkdir /nonexistent-nslab/ov: ENOENT"},
		{"two-dirs", []string{"overlay", "a", "b"}, 2, "want at most one DIR, got 2 arguments"},
		{"comma", []string{"overlay", "a,b"}, 2, "which separate overlayfs's options"},
		{"bad-flag", []string{"overlay", "-x"}, 2, "flag provided but not defined: -x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := nstest.Run(t, nstest.Program(t, prog, tc.args...))
			nstest.NoPanic(t, r.Stderr)
			lines := strings.Split(strings.TrimSuffix(r.Stderr, "\n"), "\n")
			if r.Code != tc.code || !strings.HasPrefix(lines[0], prog+": ") || !strings.Contains(lines[0], tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and a line saying %q", r.Code, r.Stderr, tc.code, tc.want)
			}
			if tc.code == 1 && len(lines) != 1 || tc.code == 2 && (len(lines) != 2 || lines[1] != "usage: 05-mount overlay [DIR]") {
				t.Errorf("stderr = %q: want one line (and the usage, for a bad command line)", r.Stderr)
			}
			if r.Stdout != "" {
				t.Errorf("something was done:\n%s", r.Stdout)
			}
		})
	}
	if b, err := os.ReadFile(file); string(b) != "mine" {
		t.Errorf("the file given as DIR changed: %q, %v", b, err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 1 {
		t.Errorf("the directory given as DIR changed: %v", ents)
	}

	r := nstest.Run(t, nstest.ProgramAs(t, 65534, prog, "overlay"))
	if r.Code != 1 || r.Stderr != prog+": mounting an overlay needs root (CAP_SYS_ADMIN): run it as root, e.g. with sudo\n" {
		t.Errorf("as nobody: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// TestOverlayRefused: with DIR on an overlay, which the kernel refuses as
// an upper layer (EINVAL), one line says so and what to do, exit 1; work
// and merged are removed, lower and upper left.
func TestOverlayRefused(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	host := sharedHost(t)
	for _, d := range []string{"l", "u", "w", "m"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m := filepath.Join(base, "m")
	nstest.Exec(t, "nsenter", "-t", strconv.Itoa(host), "-m", "mount", "-t", "overlay", "overlay", "-o",
		fmt.Sprintf("lowerdir=%s/l,upperdir=%s/u,workdir=%s/w", base, base, base), m)
	dir := filepath.Join(m, "ov")
	r := nstest.Run(t, inHost(t, host, goImpl.bin(t), prog, "overlay", dir))
	nstest.NoPanic(t, r.Stderr)
	want := ": EINVAL: invalid argument (the file system of " + dir + " cannot hold an upper layer"
	if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, prog+": mount -t overlay ") ||
		!strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, "put DIR on ext4, xfs or tmpfs") {
		t.Errorf("exit %d, stderr %q; want exit 1 and one line saying %q and the fix", r.Code, r.Stderr, want)
	}
	// DIR is on the outer namespace's overlay, whose upper is base/u.
	ents, err := os.ReadDir(filepath.Join(base, "u", "ov"))
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, []string{"lower", "upper"}) {
		t.Errorf("DIR holds %q (%v), want [lower upper]", got, err)
	}
}
