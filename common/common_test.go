package common

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

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

func TestCleanupRunsNewestFirstAndOnce(t *testing.T) {
	var order []int
	cleanup.Lock()
	saved := cleanup.fns
	cleanup.fns, cleanup.done, cleanup.started = nil, false, true // no signal goroutine in tests
	cleanup.Unlock()
	AtExit(func() { order = append(order, 1) })
	AtExit(func() { order = append(order, 2) })
	RunCleanups()
	RunCleanups()
	AtExit(func() { order = append(order, 3) }) // after cleanup: runs at once
	if !reflect.DeepEqual(order, []int{2, 1, 3}) {
		t.Errorf("order %v, want [2 1 3]", order)
	}
	cleanup.Lock()
	cleanup.fns, cleanup.done = saved, false
	cleanup.Unlock()
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

func TestPrintInfoReportsTheKernelsView(t *testing.T) {
	var buf bytes.Buffer
	PrintInfo(&buf)
	host, _ := os.Hostname()
	want := fmt.Sprintf("pid : %d\nppid : %d\nuid : %d\ngid : %d\nhostname : %s\n",
		os.Getpid(), os.Getppid(), os.Getuid(), os.Getgid(), host)
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
