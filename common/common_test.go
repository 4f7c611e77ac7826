package common

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestGetoptBehavesLikeGlibcWithPlus(t *testing.T) {
	cases := []struct {
		args    []string
		opts    string
		rest    []string
		wantErr string
	}{
		{[]string{"-p", "-u", "ls", "-l"}, "p u", []string{"ls", "-l"}, ""},
		{[]string{"-pu", "ls"}, "p u", []string{"ls"}, ""},
		{[]string{"-t", "42", "-u"}, "t=42 u", []string{}, ""},
		{[]string{"-t42", "cmd"}, "t=42", []string{"cmd"}, ""},
		{[]string{"--", "-p"}, "", []string{"-p"}, ""},
		{[]string{"-", "x"}, "", []string{"-", "x"}, ""},
		{[]string{"-z"}, "", nil, "invalid option -- 'z'"},
		{[]string{"-t"}, "", nil, "option requires an argument -- 't'"},
	}
	for _, c := range cases {
		opts, rest, err := Getopt(c.args, "+put:")
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("Getopt(%q): err %v, want %q", c.args, err, c.wantErr)
			}
			continue
		}
		var got []string
		for _, o := range opts {
			if o.Arg != "" {
				got = append(got, fmt.Sprintf("%c=%s", o.Letter, o.Arg))
			} else {
				got = append(got, string(o.Letter))
			}
		}
		if strings.Join(got, " ") != c.opts || !reflect.DeepEqual(append([]string{}, rest...), c.rest) || err != nil {
			t.Errorf("Getopt(%q) = %v %q %v, want %s %q", c.args, got, rest, err, c.opts, c.rest)
		}
	}
}

func TestDescribeNamesTheErrnoAndTheFix(t *testing.T) {
	got := Describe("clone", unix.EPERM, "")
	if got != "clone: EPERM: operation not permitted (creating namespaces needs root (CAP_SYS_ADMIN): run it with sudo)" {
		t.Errorf("got %q", got)
	}
	got = Describe("setns", fmt.Errorf("wrapped: %w", unix.EINVAL), "join mnt last")
	if got != "setns: EINVAL: invalid argument (join mnt last)" {
		t.Errorf("wrapped errno: got %q", got)
	}
	if got = Describe("open", fmt.Errorf("plain"), ""); got != "open: plain" {
		t.Errorf("plain error: got %q", got)
	}
}

// asMain runs fn, in a test's child process, as a program's main: on a
// goroutine that Exit may end (runtime.Goexit, which the testing package
// takes for a failure of the test's own goroutine), while the test's
// goroutine waits for the process to end. A program that ends without
// exiting fails the test.
func asMain(fn func()) {
	go fn()
	time.Sleep(10 * time.Second)
	fmt.Println("the program did not exit")
	os.Exit(99)
}

// The undo steps run newest first, each once, even when two goroutines
// exit at the same time (main fails while a Ctrl-C is being handled): the
// second steps aside and the first's status stands.
func TestCleanupRunsNewestFirstAndOnce(t *testing.T) {
	if os.Getenv("NSLAB_TEST_ORDER") == "1" {
		asMain(func() {
			AtExit(func() { fmt.Println("1") })
			AtExit(func() { fmt.Println("2"); time.Sleep(100 * time.Millisecond) })
			go Exit(3)
			time.Sleep(20 * time.Millisecond)
			Exit(4)
			fmt.Println("main went on after Exit")
		})
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCleanupRunsNewestFirstAndOnce$")
	cmd.Env = append(os.Environ(), "NSLAB_TEST_ORDER=1")
	out, _ := cmd.Output()
	if code := cmd.ProcessState.ExitCode(); code != 3 || string(out) != "2\n1\n" {
		t.Errorf("exit status %d, stdout %q; want 3 and \"2\\n1\\n\"", code, out)
	}
}

func TestNSTableMarksExactlyTheNewNamespaces(t *testing.T) {
	if unix.Geteuid() != 0 {
		if os.Getenv("NSLAB_REQUIRE_PRIVILEGED") == "1" {
			t.Fatal("needs root (NSLAB_REQUIRE_PRIVILEGED=1 turns this skip into a failure)")
		}
		t.Skip("needs root: run `sudo make test`")
	}
	cmd := exec.Command("sleep", "10")
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWUTS | unix.CLONE_NEWIPC}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var buf bytes.Buffer
	differ := PrintNSTable(&buf, NSColumn{"parent", os.Getpid()}, NSColumn{"child", cmd.Process.Pid})
	if !reflect.DeepEqual(differ, []string{"ipc", "uts"}) {
		t.Errorf("differ = %v, want [ipc uts]\n%s", differ, buf.String())
	}
	if n := strings.Count(buf.String(), "new"); n != 2 {
		t.Errorf("%d rows marked new, want 2:\n%s", n, buf.String())
	}
}

func TestReadStatAgreesWithTheKernel(t *testing.T) {
	cmd := exec.Command("sh", "-c", "exec sleep 10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	st, err := ReadStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != cmd.Process.Pid || st.PPID != os.Getpid() || st.Threads != 1 || st.PGRP != unix.Getpgrp() {
		t.Errorf("ReadStat(%d) = %+v; want pid %d, ppid %d, 1 thread, pgrp %d",
			cmd.Process.Pid, st, cmd.Process.Pid, os.Getpid(), unix.Getpgrp())
	}
	self, err := ReadStat(0)
	if err != nil || self.PID != os.Getpid() || self.Threads < 2 {
		t.Errorf("ReadStat(0) = %+v, %v; want pid %d and the Go runtime's threads", self, err, os.Getpid())
	}
	if _, err := ReadStat(1 << 30); err == nil {
		t.Error("ReadStat of a PID that cannot exist succeeded")
	}
}

// A Ctrl-C while the program goes on making things: the signal goroutine
// runs the undo steps while main registers the next step and makes its
// resource. Registered after the undo began, the step would run at once,
// before the resource exists, and the resource would be left: main must
// stop at AtExit instead. Here the resource is a file, made only if
// AtExit returns.
func TestAtExitWhileExiting(t *testing.T) {
	if dir := os.Getenv("NSLAB_TEST_EXITING_DIR"); dir != "" {
		asMain(func() {
			started := make(chan struct{})
			AtExit(func() { close(started); time.Sleep(200 * time.Millisecond) })
			go Exit(130) // as handleSignals does
			<-started
			file := filepath.Join(dir, "made")
			AtExit(func() { os.Remove(file) })
			os.WriteFile(file, nil, 0o644)
		})
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAtExitWhileExiting$")
	cmd.Env = append(os.Environ(), "NSLAB_TEST_EXITING_DIR="+dir)
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit status %d, want 130:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "made")); err == nil {
		t.Errorf("the file made after the undo steps began is still there: AtExit let main go on")
	}
}

// A Ctrl-C while main waits for its child: the undo step kills the child,
// and main must not take that death for the child's own and go on (print
// its status, make the next thing): Wait ends main's goroutine instead.
func TestWaitWhileStopping(t *testing.T) {
	if os.Getenv("NSLAB_TEST_WAIT_STOPPING") == "1" {
		asMain(func() {
			child, err := StartChild(exec.Command("sleep", "10"))
			if err != nil {
				Fatalf("%v", err)
			}
			go func() { time.Sleep(100 * time.Millisecond); Exit(130) }()
			err = child.Wait()
			fmt.Printf("main went on after Wait: %v\n", err)
		})
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWaitWhileStopping$")
	cmd.Env = append(os.Environ(), "NSLAB_TEST_WAIT_STOPPING=1")
	start := time.Now()
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 130 || strings.Contains(string(out), "went on") || time.Since(start) > 5*time.Second {
		t.Errorf("exit status %d after %s, output %q; want 130 at once, and main stopped in Wait", code, time.Since(start).Round(time.Millisecond), out)
	}
}

// An undo step that exits (ErrExit, Fatalf) must not hang the program or
// skip the other steps: before this was handled, the nested Exit waited on
// the cleanup lock forever (06-net's add, interrupted during set-up).
func TestExitInsideACleanupEndsOnlyThatStep(t *testing.T) {
	if os.Getenv("NSLAB_TEST_NESTED_EXIT") == "1" {
		asMain(func() {
			AtExit(func() { fmt.Println("oldest step ran") })
			AtExit(func() { Fatalf("a step that fails and exits") })
			AtExit(func() { fmt.Println("newest step ran") })
			Exit(3)
		})
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestExitInsideACleanupEndsOnlyThatStep$")
	cmd.Env = append(os.Environ(), "NSLAB_TEST_NESTED_EXIT=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the program hung in its cleanup; stdout %q", stdout.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Errorf("exit status %d, want 3 (the status it was exiting with)", code)
	}
	if got := stdout.String(); got != "newest step ran\noldest step ran\n" {
		t.Errorf("stdout %q: every other step must still run, newest first", got)
	}
	if !strings.Contains(stderr.String(), "a step that fails and exits") {
		t.Errorf("stderr %q lacks the failing step's line", stderr.String())
	}
}
