package main

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"nslab/common/nstest"
)

//go:embed c/*.c
var cSources embed.FS

func TestMain(m *testing.M) { nstest.Main(m, main) }

// The tests judge by what the kernel shows: /proc/sysvipc/shm read here (the
// host's IPC namespace), util-linux ipcs and nsenter, and mq_open issued by
// the test itself. The program's own listing is never the evidence.

// childLine is the line in which the child (Go or C), told to stay, gives
// its PID.
const childLine = `^    nsenter -t (\d+) -i ipcs -m$`

// segment is one line of /proc/sysvipc/shm.
type segment struct {
	key            uint32
	id, size, cpid int
}

// readSegments parses /proc/sysvipc/shm of the caller's IPC namespace (the
// calling thread's, which matters in inNamespaceOf).
func readSegments() ([]segment, error) {
	f, err := os.Open("/proc/sysvipc/shm")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var segs []segment
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 5 {
			return nil, fmt.Errorf("short line in /proc/sysvipc/shm: %q", sc.Text())
		}
		n := make([]int64, 5)
		for i := range n {
			if i == 2 {
				continue // perms, octal: not needed
			}
			if n[i], err = strconv.ParseInt(fl[i], 10, 64); err != nil {
				return nil, fmt.Errorf("/proc/sysvipc/shm: %q: %v", sc.Text(), err)
			}
		}
		segs = append(segs, segment{key: uint32(n[0]), id: int(n[1]), size: int(n[3]), cpid: int(n[4])})
	}
	return segs, sc.Err()
}

// segmentsOf returns the host's segments created by process pid.
func segmentsOf(t *testing.T, pid int) []segment {
	t.Helper()
	all, err := readSegments()
	if err != nil {
		t.Fatal(err)
	}
	var mine []segment
	for _, s := range all {
		if s.cpid == pid {
			mine = append(mine, s)
		}
	}
	return mine
}

// hostHasShmid reports whether the host's /proc/sysvipc/shm lists shmid.
func hostHasShmid(t *testing.T, shmid int) bool {
	t.Helper()
	all, err := readSegments()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.id == shmid {
			return true
		}
	}
	return false
}

// queueName is the kernel's name for the run's queue: the program calls it
// /nslab-03-ipc-PID; the system call takes it without the slash.
func queueName(pid int) string { return fmt.Sprintf("nslab-03-ipc-%d", pid) }

// openQueue is mq_open(name, O_RDONLY) by raw system call; it closes the
// descriptor and returns nil when the queue exists.
func openQueue(name string) error {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	fd, _, errno := unix.Syscall6(unix.SYS_MQ_OPEN, uintptr(unsafe.Pointer(p)), unix.O_RDONLY, 0, 0, 0, 0)
	if errno != 0 {
		return errno
	}
	unix.Close(int(fd))
	return nil
}

// inNamespaceOf runs fn on a thread that joined pid's IPC namespace. The
// thread stays locked, so it dies with the goroutine and the namespace
// never leaks into other goroutines. fn must not call t.Fatal.
func inNamespaceOf(pid int, fn func()) error {
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked, on purpose
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/ipc", pid))
		if err != nil {
			done <- err
			return
		}
		err = unix.Setns(int(f.Fd()), unix.CLONE_NEWIPC)
		f.Close()
		if err != nil {
			done <- fmt.Errorf("setns: %w", err)
			return
		}
		fn()
		done <- nil
	}()
	return <-done
}

// ipcsShmids returns the shmid column of `ipcs -m` output.
func ipcsShmids(out string) []string {
	var ids []string
	for _, line := range strings.Split(out, "\n") {
		fl := strings.Fields(line)
		if len(fl) >= 5 && strings.HasPrefix(fl[0], "0x") {
			ids = append(ids, fl[1])
		}
	}
	return ids
}

// leaveNothing is a safety net for a failed test: it stops the program
// gently (so its own cleanup runs) and then removes whatever it left.
// os.Process.Signal goes through a pidfd: it never hits a reused PID.
func leaveNothing(t *testing.T, cmd *exec.Cmd) {
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		if cmd.Process.Signal(unix.SIGTERM) == nil {
			for i := 0; i < 200 && nstest.Alive(pid); i++ {
				time.Sleep(10 * time.Millisecond)
			}
		}
		for _, s := range segmentsOf(t, pid) {
			if s.size == shmSize {
				unix.SysvShmCtl(s.id, unix.IPC_RMID, nil)
				t.Logf("safety net removed segment %d", s.id)
			}
		}
		name := queueName(pid)
		if p, err := unix.BytePtrFromString(name); err == nil {
			if _, _, errno := unix.Syscall(unix.SYS_MQ_UNLINK, uintptr(unsafe.Pointer(p)), 0, 0); errno == 0 {
				t.Logf("safety net unlinked queue %s", name)
			}
		}
	})
}

// variant is the Go program or its C counterpart. Only the Go program adds
// a POSIX message queue to the session.
type variant struct {
	name  string
	cmd   func(t *testing.T, sleepSecs int) *exec.Cmd
	queue bool
}

func goProgram(t *testing.T, sleepSecs int) *exec.Cmd {
	return nstest.Program(t, "03-ipc", "-hold", fmt.Sprintf("%ds", sleepSecs))
}

func cProgram(t *testing.T, sleepSecs int) *exec.Cmd {
	return exec.Command(nstest.BuildC(t, cSources, "ipcmk_unshare_ipcs"), strconv.Itoa(sleepSecs))
}

var variants = []variant{{"Go", goProgram, true}, {"C", cProgram, false}}

// assertGone checks with the kernel that the run left no segment and no queue.
func assertGone(t *testing.T, v variant, pid, shmid int) {
	t.Helper()
	if segs := segmentsOf(t, pid); len(segs) > 0 {
		t.Errorf("segments created by pid %d still exist: %+v", pid, segs)
	}
	if hostHasShmid(t, shmid) {
		t.Errorf("shmid %d still in /proc/sysvipc/shm", shmid)
	}
	if err := openQueue(queueName(pid)); v.queue && !errors.Is(err, unix.ENOENT) {
		t.Errorf("mq_open %s after the run: got %v, want ENOENT", queueName(pid), err)
	}
}

func TestNormalRun(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			nstest.RequireRoot(t)
			cmd := v.cmd(t, 0)
			s := nstest.Start(t, cmd)
			pid := cmd.Process.Pid
			leaveNothing(t, cmd)
			m := s.Expect(t, `^Shared memory id: (\d+)$`)
			shmid, _ := strconv.Atoi(m[1])
			r := s.Wait(t)
			nstest.NoPanic(t, r.Stderr)
			if r.Code != 0 {
				t.Fatalf("exit status %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
			}
			assertGone(t, v, pid, shmid)
		})
	}
}

func TestDuringRunThenSignal(t *testing.T) {
	cases := []struct {
		v    variant
		sig  unix.Signal
		want int
	}{
		{variants[0], unix.SIGINT, 130},
		{variants[0], unix.SIGTERM, 143},
		{variants[1], unix.SIGINT, 130},
	}
	for _, c := range cases {
		t.Run(c.v.name+"/"+unix.SignalName(c.sig), func(t *testing.T) {
			t.Parallel()
			nstest.RequireRoot(t)
			nstest.RequireTool(t, "ipcs", "util-linux")
			nstest.RequireTool(t, "nsenter", "util-linux")
			cmd := c.v.cmd(t, 30)
			s := nstest.Start(t, cmd)
			pid := cmd.Process.Pid
			leaveNothing(t, cmd)
			m := s.Expect(t, `^Shared memory id: (\d+)$`)
			printed, _ := strconv.Atoi(m[1])
			m = s.Expect(t, childLine)
			childPid, _ := strconv.Atoi(m[1])

			// The kernel has a 1000-byte segment made by the program.
			segs := segmentsOf(t, pid)
			if len(segs) != 1 || segs[0].size != shmSize {
				t.Fatalf("segments created by pid %d: %+v, want one of %d bytes", pid, segs, shmSize)
			}
			seg := segs[0]
			if seg.id != printed {
				t.Errorf("program says shmid %d, kernel says %d", printed, seg.id)
			}

			// A real peer on the host sees it...
			if ids := ipcsShmids(nstest.Exec(t, "ipcs", "-m")); !contains(ids, strconv.Itoa(seg.id)) {
				t.Errorf("ipcs -m on the host does not list shmid %d (ids %v)", seg.id, ids)
			}
			// ...and the same tool in the child's IPC namespace sees nothing.
			inChild := nstest.Exec(t, "nsenter", "-t", strconv.Itoa(childPid), "-i", "ipcs", "-m")
			if ids := ipcsShmids(inChild); len(ids) != 0 {
				t.Errorf("nsenter -t %d -i ipcs -m lists segments %v, want none:\n%s", childPid, ids, inChild)
			}
			hostNS, err := os.Readlink("/proc/self/ns/ipc")
			if err != nil {
				t.Fatal(err)
			}
			childNS, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/ipc", childPid))
			if err != nil {
				t.Fatal(err)
			}
			if hostNS == childNS {
				t.Errorf("child %d is in the test's IPC namespace %s", childPid, hostNS)
			}

			// The POSIX queue: present here, absent in the child's namespace.
			if err := openQueue(queueName(pid)); c.v.queue && err != nil {
				t.Errorf("mq_open %s on the host: %v, want it to exist", queueName(pid), err)
			}
			var childQueueErr, childShmErr error
			var childSegs []segment
			err = inNamespaceOf(childPid, func() {
				childQueueErr = openQueue(queueName(pid))
				childSegs, childShmErr = readSegments()
			})
			if err != nil {
				t.Fatalf("joining the child's IPC namespace: %v", err)
			}
			if c.v.queue && !errors.Is(childQueueErr, unix.ENOENT) {
				t.Errorf("mq_open %s in the child's namespace: %v, want ENOENT", queueName(pid), childQueueErr)
			}
			if childShmErr != nil || len(childSegs) != 0 {
				t.Errorf("/proc/sysvipc/shm in the child's namespace: %+v, %v; want empty", childSegs, childShmErr)
			}

			// Now interrupt the parent alone, as kill -INT PID would.
			if err := cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			r := s.Wait(t)
			nstest.NoPanic(t, r.Stderr)
			if r.Code != c.want {
				t.Errorf("exit status after %s: %d, want %d\nstdout:\n%s\nstderr:\n%s",
					unix.SignalName(c.sig), r.Code, c.want, r.Stdout, r.Stderr)
			}
			nstest.WaitGone(t, pid)
			nstest.WaitGone(t, childPid)
			assertGone(t, c.v, pid, seg.id)
		})
	}
}

// TestChildDies kills the child mid-run: the parent must still remove both
// objects, and say what happened in one line.
func TestChildDies(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			nstest.RequireRoot(t)
			cmd := v.cmd(t, 30)
			s := nstest.Start(t, cmd)
			pid := cmd.Process.Pid
			leaveNothing(t, cmd)
			m := s.Expect(t, `^Shared memory id: (\d+)$`)
			shmid, _ := strconv.Atoi(m[1])
			m = s.Expect(t, childLine)
			childPid, _ := strconv.Atoi(m[1])
			if len(segmentsOf(t, pid)) != 1 {
				t.Fatalf("no segment made by pid %d", pid)
			}
			if err := unix.Kill(childPid, unix.SIGKILL); err != nil {
				t.Fatal(err)
			}
			r := s.Wait(t)
			nstest.NoPanic(t, r.Stderr)
			if r.Code != 1 {
				t.Errorf("exit status %d, want 1\nstderr:\n%s", r.Code, r.Stderr)
			}
			if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); len(lines) != 1 {
				t.Errorf("want one line on stderr, got:\n%s", r.Stderr)
			}
			assertGone(t, v, pid, shmid)
		})
	}
}

// TestClosedStdout runs the program with a stdout nobody reads (like
// `03-ipc | head -1`): the first write fails with EPIPE, and the default
// SIGPIPE would kill the program before it removes anything.
func TestClosedStdout(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			nstest.RequireRoot(t)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			r.Close() // no reader, before the program even starts
			cmd := v.cmd(t, 0)
			cmd.Stdout = w
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			pid := cmd.Process.Pid
			leaveNothing(t, cmd)
			err = cmd.Wait()
			nstest.NoPanic(t, stderr.String())
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() == -1 {
				t.Errorf("killed by a signal: %v\nstderr:\n%s", err, stderr.String())
			}
			if segs := segmentsOf(t, pid); len(segs) > 0 {
				t.Errorf("segments left behind: %+v", segs)
			}
			if err := openQueue(queueName(pid)); v.queue && !errors.Is(err, unix.ENOENT) {
				t.Errorf("mq_open %s after the run: got %v, want ENOENT", queueName(pid), err)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestBadInputC: the C program gives its usage line and exits 2 before it
// creates anything. The Go program's bad input is in the lab's catalog
// (lab/catalog_test.go), which runs no C.
func TestBadInputC(t *testing.T) {
	for _, args := range [][]string{{"soon"}, {"-1"}, {"1", "2"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(nstest.BuildC(t, cSources, "ipcmk_unshare_ipcs"), args...)
			r := nstest.Run(t, cmd)
			if r.Code != 2 {
				t.Errorf("exit status %d, want 2\nstderr:\n%s", r.Code, r.Stderr)
			}
			if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "usage: ") {
				t.Errorf("want the usage line on stderr, got:\n%s", r.Stderr)
			}
			if r.Stdout != "" {
				t.Errorf("stdout should be empty, got:\n%s", r.Stdout)
			}
			if segs := segmentsOf(t, cmd.Process.Pid); len(segs) > 0 {
				t.Errorf("a bad command line left segments: %+v", segs)
			}
		})
	}
}

// TestNotRoot runs the program as nobody: one clear line, exit 1, and no
// segment left behind.
func TestNotRoot(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t) // to switch to nobody
	cmd := nstest.ProgramAs(t, 65534, "03-ipc")
	r := nstest.Run(t, cmd)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 1 {
		t.Errorf("exit status %d, want 1\nstderr:\n%s", r.Code, r.Stderr)
	}
	if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "needs root") {
		t.Errorf("want one line saying it needs root, got:\n%s", r.Stderr)
	}
	if segs := segmentsOf(t, cmd.Process.Pid); len(segs) > 0 {
		t.Errorf("an unprivileged run left segments: %+v", segs)
	}
}

//go:embed README.md
var readme string

//go:embed README.ko.md
var readmeKo string

// The commands and outputs README.md and its translation show are what the
// code does today.
// The main run happens in an IPC namespace of its own, so that other
// processes' segments (parallel tests, a desktop) do not show in its
// listing, and with /dev/mqueue empty, as on the machine the README was
// made on.
func TestReadme(t *testing.T) {
	nstest.Readme(t, nstest.Doc{Name: "03-ipc", Text: readme, Ko: readmeKo, C: cSources})
}
