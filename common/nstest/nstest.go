// Package nstest is what the chapters' tests share: running the chapter's
// own main from the test binary, building the C counterparts, and skipping
// (or, under NSLAB_REQUIRE_PRIVILEGED=1, failing) when root or a kernel
// feature is missing.
package nstest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

const mainEnv = "NSLAB_TEST_MAIN"

// Main is a chapter's TestMain. Run as the chapter program (see Program), the
// test binary calls the chapter's main instead of the tests, so the tests
// exercise the very code a learner runs, and a test binary built with
// `go test -c` is all a guest machine needs (plus gcc for the C side).
func Main(m *testing.M, chapterMain func()) {
	if os.Getenv(mainEnv) == "1" {
		chapterMain()
		os.Exit(0)
	}
	code := m.Run()
	for _, d := range []string{cDir, exeDir, chapDir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

// Program returns a command that runs the chapter's main with args, named
// name in argv[0] (so messages read "02-uts: ..."). Colors are off.
func Program(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("os.Executable: %v", err)
	}
	cmd := exec.Command(self, args...)
	cmd.Args[0] = name
	cmd.Env = append(os.Environ(), mainEnv+"=1", "NO_COLOR=1")
	return cmd
}

var (
	exeMu  sync.Mutex
	exeDir string
)

// ProgramAs is Program run as an unprivileged user (uid = gid = id, e.g.
// 65534 for nobody). The test binary usually sits in a directory only root
// can enter, so a copy goes to a world-readable temporary directory first.
func ProgramAs(t testing.TB, id uint32, name string, args ...string) *exec.Cmd {
	t.Helper()
	RequireRoot(t) // only root can switch to another user
	exeMu.Lock()
	defer exeMu.Unlock()
	if exeDir == "" {
		d, err := os.MkdirTemp("", "nslab-exe-")
		if err == nil {
			err = os.Chmod(d, 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
		exeDir = d
	}
	// Named like the program, so that its messages say "02-uts: ...".
	exe := filepath.Join(exeDir, name)
	if _, err := os.Stat(exe); err != nil {
		self, err := os.Executable()
		if err == nil {
			err = copyFile(self, exe)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// setpriv (util-linux) drops to the user; SysProcAttr.Credential would
	// do the same but is a type of package syscall, which nslab avoids.
	setpriv := RequireTool(t, "setpriv", "util-linux")
	ids := fmt.Sprint(id)
	cmd := Program(t, name, append([]string{"--reuid=" + ids, "--regid=" + ids, "--clear-groups",
		"--", exe}, args...)...)
	cmd.Path, cmd.Args[0] = setpriv, "setpriv"
	cmd.Dir = "/"
	return cmd
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// Patience is how long a hang guard waits: d, times NSLAB_PATIENCE where
// machines are slow (vm-test sets 3 in an emulated arm64 guest). A guard
// only tells "stuck" from "slow"; how fast things are is make bench's
// business.
func Patience(d time.Duration) time.Duration {
	if n, err := strconv.Atoi(os.Getenv("NSLAB_PATIENCE")); err == nil && n > 1 {
		return d * time.Duration(n)
	}
	return d
}

// Strict reports whether skips must fail (CI sets NSLAB_REQUIRE_PRIVILEGED=1
// so that a run that silently skipped the privileged tests cannot be green).
func Strict() bool { return os.Getenv("NSLAB_REQUIRE_PRIVILEGED") == "1" }

// Skip skips the test with reason, or fails it in strict mode.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if Strict() {
		t.Fatalf("%s (NSLAB_REQUIRE_PRIVILEGED=1 turns this skip into a failure)", reason)
	}
	t.Skip(reason)
}

// RequireRoot skips unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if unix.Geteuid() != 0 {
		Skip(t, "needs root: run `sudo make test`")
	}
}

// RequireTool skips unless the command is on PATH, naming its Debian package.
func RequireTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Skip(t, fmt.Sprintf("needs %s: apt-get install %s", name, pkg))
	}
	return p
}

// RequireNamespace skips unless the kernel has the namespace type.
func RequireNamespace(t testing.TB, name string) {
	t.Helper()
	if _, err := os.Lstat("/proc/self/ns/" + name); err != nil {
		Skip(t, "this kernel has no "+name+" namespace")
	}
}

var (
	cMu    sync.Mutex
	cDir   string
	cBuilt = map[string]string{}
)

// BuildC compiles one C counterpart from the chapter's embedded sources
// (fsys holds c/NAME.c) and returns the binary's path. Each is built once per
// test binary, with warnings as errors, into a directory Main removes.
func BuildC(t testing.TB, fsys fs.FS, name string) string {
	t.Helper()
	gcc := RequireTool(t, "gcc", "gcc")
	cMu.Lock()
	defer cMu.Unlock()
	if bin, ok := cBuilt[name]; ok {
		return bin
	}
	if cDir == "" {
		d, err := os.MkdirTemp("", "nslab-c-")
		if err != nil {
			t.Fatal(err)
		}
		cDir = d
	}
	src, err := fs.ReadFile(fsys, "c/"+name+".c")
	if err != nil {
		t.Fatalf("C source for %s: %v", name, err)
	}
	srcPath := filepath.Join(cDir, name+".c")
	if err := os.WriteFile(srcPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(cDir, name)
	out, err := exec.Command(gcc, "-O2", "-Wall", "-Wextra", "-Werror", "-o", bin, srcPath, "-lrt").CombinedOutput()
	if err != nil {
		t.Fatalf("gcc %s: %v\n%s", name, err, out)
	}
	cBuilt[name] = bin
	return bin
}

// Result is what a finished command left behind.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs cmd to completion (at most 60 s) and returns its output and exit
// status; a start failure or a time-out fails the test.
func Run(t testing.TB, cmd *exec.Cmd) Result {
	t.Helper()
	return RunFor(t, cmd, 60*time.Second)
}

// RunFor is Run for a command that may take longer: at most limit (times
// NSLAB_PATIENCE, as every guard).
func RunFor(t testing.TB, cmd *exec.Cmd, limit time.Duration) Result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v: %v", cmd.Args, err)
		}
		return Result{out.String(), errb.String(), code}
	case <-time.After(Patience(limit)):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v: still running after %s\nstdout:\n%s\nstderr:\n%s", cmd.Args, Patience(limit), out.String(), errb.String())
	}
	return Result{}
}

// Started is a command running in the background whose output lines the
// test reads as they come.
type Started struct {
	Cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	used   []bool        // lines an Expect has already returned
	eof    bool          // stdout has ended
	more   chan struct{} // closed (and replaced) when a line arrives or stdout ends
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

// Start starts cmd with its stdout piped to the test; t.Cleanup kills it if
// the test has not waited for it.
func Start(t testing.TB, cmd *exec.Cmd) *Started {
	t.Helper()
	s := &Started{Cmd: cmd, more: make(chan struct{}), done: make(chan struct{})}
	r, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	go s.read(r)
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

func (s *Started) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		s.mu.Lock()
		s.lines = append(s.lines, sc.Text())
		s.used = append(s.used, false)
		close(s.more)
		s.more = make(chan struct{})
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.eof = true
	close(s.more)
	s.mu.Unlock()
	s.err = s.Cmd.Wait()
	close(s.done)
}

// Expect waits (at most 20 s) for a stdout line matching re and returns its
// submatches. It looks at every line not yet returned by an Expect, in the
// order printed, so lines that two processes print in either order (a
// parent's and its child's) can be expected in any order.
func (s *Started) Expect(t testing.TB, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	timeout := time.After(Patience(20 * time.Second))
	for {
		s.mu.Lock()
		for i, line := range s.lines {
			if m := rx.FindStringSubmatch(line); m != nil && !s.used[i] {
				s.used[i] = true
				s.mu.Unlock()
				return m
			}
		}
		eof, more := s.eof, s.more
		s.mu.Unlock()
		if eof {
			<-s.done
			t.Fatalf("%v exited before printing /%s/\nstdout:\n%s\nstderr:\n%s", s.Cmd.Args, re, s.Output(), s.stderr.String())
		}
		select {
		case <-more:
		case <-timeout:
			t.Fatalf("%v: no line /%s/ within 20s\nstdout:\n%s", s.Cmd.Args, re, s.Output())
		}
	}
}

// Wait waits (at most 30 s) for the command to exit and returns its result.
func (s *Started) Wait(t testing.TB) Result {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(Patience(30 * time.Second)):
		s.Cmd.Process.Kill()
		<-s.done
		t.Fatalf("%v: still running after 30s\nstdout:\n%s", s.Cmd.Args, s.Output())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		code = ee.ExitCode()
		if ee.ExitCode() == -1 {
			code = -1
		}
	}
	return Result{s.Output(), s.stderr.String(), code}
}

// Output is all stdout read so far.
func (s *Started) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lines) == 0 {
		return ""
	}
	return strings.Join(s.lines, "\n") + "\n"
}

// Exec runs a command line (a real peer such as nsenter or ipcs) and returns
// its combined output; a non-zero exit fails the test.
func Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Patience(20*time.Second))
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// CgroupV2 reports whether this machine runs cgroup v2, by
// common.IsCgroupV2, the one test of it; an error fails the test.
func CgroupV2(t testing.TB) bool {
	t.Helper()
	v2, err := common.IsCgroupV2("/")
	if err != nil {
		t.Fatal(err)
	}
	return v2
}

// ReadTrim reads a small kernel file (a cgroup's cpu.max, a /proc entry)
// without its trailing newline; a file that cannot be read fails the test.
func ReadTrim(t testing.TB, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Hostname is the host's (the test's own UTS namespace's) hostname.
func Hostname(t testing.TB) string {
	t.Helper()
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		t.Fatal(err)
	}
	return unix.ByteSliceToString(uts.Nodename[:])
}

// NoPanic fails the test if stderr holds a Go panic or stack trace.
func NoPanic(t testing.TB, stderr string) {
	t.Helper()
	for _, bad := range []string{"panic:", "goroutine ", "runtime error", ".go:"} {
		if strings.Contains(stderr, bad) {
			t.Fatalf("stderr holds a Go panic or stack trace (%q):\n%s", bad, stderr)
		}
	}
}

// Alive reports whether a process with this PID exists (and is not a zombie).
func Alive(pid int) bool {
	st, err := common.ReadStat(pid)
	return err == nil && st.State != 'Z'
}

// WaitGone waits (at most 10 s) until pid no longer exists.
func WaitGone(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(Patience(10 * time.Second))
	for Alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still exists", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitReaped waits (at most 10 s) until /proc/PID is gone altogether: not
// even a zombie. A multi-threaded PID 1 shows Z for its main thread while
// another of its threads is still tearing the namespace down.
func WaitReaped(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(Patience(10 * time.Second))
	for {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d was not reaped", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ProcsInNS lists the processes (by host PID) whose namespace of this type
// has this inode: after a run, none should remain in the namespaces it made.
// Pin the namespace with KeepNS first: inode numbers are reused.
func ProcsInNS(name string, ino uint64) []int {
	return ProcsWhere(func(pid int) bool {
		n, err := common.NSInode(pid, name)
		return err == nil && n == ino && Alive(pid)
	})
}

// ProcsWhere lists the processes in the test's /proc for which match is
// true: the tests' own reading of the host, not a program's.
func ProcsWhere(match func(pid int) bool) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && match(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// KeepNS returns the inode of pid's namespace of this type and holds the
// namespace open until the test ends. Otherwise, once it is gone, the
// kernel may give its inode number to a namespace a parallel test creates,
// and ProcsInNS would find that test's processes.
func KeepNS(t testing.TB, pid int, name string) uint64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, name))
	if err != nil {
		t.Fatalf("namespace %s of %d: %v", name, pid, err)
	}
	t.Cleanup(func() { f.Close() })
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// PPid is the parent PID the kernel reports for pid (0 if it is gone).
func PPid(pid int) int {
	st, err := common.ReadStat(pid)
	if err != nil {
		return 0
	}
	return st.PPID
}

var (
	chapMu    sync.Mutex
	chapDir   string
	chapBuilt = map[string]string{}
)

// Chapter returns the path of another chapter's program (name like
// "02-uts"), for tests whose peer is that program: 09-setns joins what
// 02-uts made. In the guest the harness passes the programs it built in
// $NSLAB_BIN; on the host the test builds it once with the go command into
// a directory Main removes.
func Chapter(t testing.TB, name string) string {
	t.Helper()
	return chapter(t, name, "")
}

// ChapterTags is Chapter built with a build tag, for the one test that
// needs it: "nslabtest" gives the program its test hooks, fault injection
// and pause points (common/testhooks.go).
// The program is NAME in a directory named after the tag, $NSLAB_BIN/TAG/NAME
// in the guest, so that its messages still say "06-net: ...".
func ChapterTags(t testing.TB, name, tag string) string {
	t.Helper()
	return chapter(t, name, tag)
}

func chapter(t testing.TB, name, tag string) string {
	t.Helper()
	chapMu.Lock()
	defer chapMu.Unlock()
	key := filepath.Join(tag, name)
	if bin, ok := chapBuilt[key]; ok {
		return bin
	}
	if dir := os.Getenv("NSLAB_BIN"); dir != "" {
		bin := filepath.Join(dir, key)
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("NSLAB_BIN=%s has no %s: %v", dir, key, err)
		}
		chapBuilt[key] = bin
		return bin
	}
	// A test runs in its package's directory: a chapter's or lab's, beside
	// the chapter, or the module's root (hooks_test.go), above it.
	src := filepath.Join("..", name)
	if _, err := os.Stat("go.mod"); err == nil {
		src = "./" + name
	}
	// A chapter's program is its package main, whatever its seed file is
	// called (newns.go, unshare_user.go, ...).
	if srcs, _ := filepath.Glob(filepath.Join(src, "*.go")); len(srcs) == 0 {
		Skip(t, fmt.Sprintf("%s: no source at %s and no NSLAB_BIN with the built programs", name, src))
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = "/usr/local/go/bin/go"
	}
	if chapDir == "" {
		d, err := os.MkdirTemp("", "nslab-bin-")
		if err != nil {
			t.Fatal(err)
		}
		chapDir = d
	}
	bin := filepath.Join(chapDir, key)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(goCmd, "build", "-buildvcs=false", "-tags", tag, "-o", bin, src).CombinedOutput()
	if err != nil {
		t.Fatalf("go build -tags '%s' %s: %v\n%s", tag, name, err, out)
	}
	chapBuilt[key] = bin
	return bin
}
