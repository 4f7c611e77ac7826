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

// The commands and outputs README.md and its translation show are what the
// code does today.
func TestReadme(t *testing.T) {
	nstest.Readme(t, nstest.Doc{Name: "02-uts", Text: readme, Ko: readmeKo, C: cSources})
}

func TestMain(m *testing.M) { nstest.Main(m, main) }

const prog = "02-uts"

// The first two lines come in either order, in the C as in Go: the parent
// prints the PID as soon as clone returns, the child its line when ready.
const firstLines = `^(?:PID of child created by clone\(\) is (\d+)|uts\.nodename in child: (.*))$`

// startAndJoin starts cmd (the Go or the C program), waits until the child
// has printed its hostname and returns the child's PID and that hostname.
func startAndJoin(t *testing.T, cmd *exec.Cmd) (*nstest.Started, int, string) {
	t.Helper()
	s := nstest.Start(t, cmd)
	pid, name := 0, ""
	for pid == 0 || name == "" {
		m := s.Expect(t, firstLines)
		if m[1] != "" {
			pid, _ = strconv.Atoi(m[1])
		} else {
			name = m[2]
		}
	}
	return s, pid, name
}

// nsenterHostname is what a real peer sees: util-linux nsenter joins the
// UTS namespace of pid and runs hostname(1) there.
func nsenterHostname(t *testing.T, pid int) string {
	t.Helper()
	return strings.TrimSpace(nstest.Exec(t, "nsenter", "-t", strconv.Itoa(pid), "-u", "hostname"))
}

// TestRun: a plain run with -hold 0, as in the tour. The kernel accepts a
// hostname of exactly HOST_NAME_MAX (64) bytes.
func TestRun(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	for _, name := range []string{"nslab-uts-run", strings.Repeat("x", 64)} {
		t.Run(fmt.Sprintf("%d-bytes", len(name)), func(t *testing.T) {
			t.Parallel()
			before := nstest.Hostname(t)
			r := nstest.Run(t, nstest.Program(t, prog, "-hold", "0", name))
			nstest.NoPanic(t, r.Stderr)
			if r.Code != 0 {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
			}
			if after := nstest.Hostname(t); after != before {
				t.Fatalf("host hostname changed: %q -> %q", before, after)
			}
			lines := strings.Split(r.Stdout, "\n")
			child := slices.Index(lines, "uts.nodename in child: "+name)
			parent := slices.Index(lines, "uts.nodename in parent: "+before)
			done := slices.Index(lines, "child has terminated")
			if child < 0 || parent < child || done < parent {
				t.Fatalf("want the child line, the parent line (host name %q) and \"child has terminated\", in that order:\n%s", before, r.Stdout)
			}
			// The namespace table: only the uts row is marked as new.
			for _, l := range lines {
				f := strings.Fields(l)
				if len(f) == 0 || !slices.ContainsFunc(common.Namespaces, func(ns common.Namespace) bool { return ns.Name == f[0] }) {
					continue
				}
				if isNew := f[len(f)-1] == "new"; isNew != (f[0] == "uts") {
					t.Errorf("table row %q: marked new = %v, want it only on uts", l, isNew)
				}
			}
			pid := regexp.MustCompile(`(?m)^PID of child created by clone\(\) is (\d+)$`).FindStringSubmatch(r.Stdout)
			if pid == nil {
				t.Fatalf("no PID line:\n%s", r.Stdout)
			}
			n, _ := strconv.Atoi(pid[1])
			nstest.WaitGone(t, n)
		})
	}
}

// TestJoinWhileSleeping: while the child sleeps, the kernel shows it in a
// UTS namespace of its own, which nsenter can join, and in ours for every
// other type. Killing the child ends the run and leaves nothing behind.
func TestJoinWhileSleeping(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "nsenter", "util-linux")
	const name = "nslab-uts-join"
	before := nstest.Hostname(t)

	cmd := nstest.Program(t, prog, "-hold", "30s", name)
	s, pid, got := startAndJoin(t, cmd)
	if got != name {
		t.Fatalf("child line shows %q, want %q", got, name)
	}
	if h := nsenterHostname(t, pid); h != name {
		t.Fatalf("nsenter -t %d -u hostname = %q, want %q", pid, h, name)
	}
	for _, ns := range common.Namespaces {
		if _, err := os.Lstat("/proc/self/ns/" + ns.Name); err != nil {
			continue // this kernel lacks the type
		}
		mine, err := common.NSInode(0, ns.Name)
		if err != nil {
			t.Fatal(err)
		}
		its, err := common.NSInode(pid, ns.Name)
		if err != nil {
			t.Fatal(err)
		}
		if same := mine == its; same == (ns.Name == "uts") {
			t.Errorf("%s namespace: test %d, child %d; want them to differ only for uts", ns.Name, mine, its)
		}
	}
	s.Expect(t, `^uts\.nodename in parent: `+regexp.QuoteMeta(before)+`$`)

	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r := s.Wait(t)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 0 {
		t.Errorf("exit %d after the child was killed, want 0 (as the C)\nstderr:\n%s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "\nchild has terminated\n") {
		t.Errorf("no \"child has terminated\":\n%s", r.Stdout)
	}
	nstest.WaitGone(t, cmd.Process.Pid)
	nstest.WaitGone(t, pid)
	if after := nstest.Hostname(t); after != before {
		t.Fatalf("host hostname changed: %q -> %q", before, after)
	}
}

// TestInterrupt: a signal to the parent alone must take the child with it.
func TestInterrupt(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	for _, sig := range []unix.Signal{unix.SIGINT, unix.SIGTERM} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			t.Parallel()
			before := nstest.Hostname(t)
			cmd := nstest.Program(t, prog, "-hold", "30s", "nslab-uts-"+strings.ToLower(unix.SignalName(sig)))
			s, pid, _ := startAndJoin(t, cmd)
			s.Expect(t, `^uts\.nodename in parent: `)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			r := s.Wait(t)
			nstest.NoPanic(t, r.Stderr)
			if r.Code == 0 {
				t.Errorf("exit 0 after %s, want non-zero", unix.SignalName(sig))
			}
			if strings.Contains(r.Stdout, "child has terminated") {
				t.Errorf("interrupted run printed \"child has terminated\":\n%s", r.Stdout)
			}
			nstest.WaitGone(t, cmd.Process.Pid)
			nstest.WaitGone(t, pid)
			if after := nstest.Hostname(t); after != before {
				t.Fatalf("host hostname changed: %q -> %q", before, after)
			}
		})
	}
}

// TestNotRoot: run as nobody, one clear line and exit 1.
func TestNotRoot(t *testing.T) {
	t.Parallel()
	r := nstest.Run(t, nstest.ProgramAs(t, 65534, prog, "-hold", "0", "h"))
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 1 {
		t.Errorf("exit %d, want 1", r.Code)
	}
	want := prog + ": creating a UTS namespace needs root"
	if strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, want) {
		t.Errorf("stderr = %q, want one line starting %q", r.Stderr, want)
	}
}

var pidRE = regexp.MustCompile(`\d+`)

// shapes keeps the lines that the C prints too, with PIDs replaced by N,
// sorted (the first two come in either order).
func shapes(stdout string) []string {
	var out []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "PID of child") || strings.HasPrefix(l, "uts.nodename in ") || l == "child has terminated" {
			out = append(out, pidRE.ReplaceAllString(l, "N"))
		}
	}
	slices.Sort(out)
	return out
}

// TestGoVsC: the C counterpart and the Go port, run and joined the same
// way, print the same lines and leave the kernel in the same state.
func TestGoVsC(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "nsenter", "util-linux")
	cBin := nstest.BuildC(t, cSources, "demo_uts_namespaces")
	before := nstest.Hostname(t)

	run := func(t *testing.T, cmd *exec.Cmd, name string) (stdout, joined string) {
		s, pid, got := startAndJoin(t, cmd)
		if got != name {
			t.Fatalf("%s: child line shows %q, want %q", cmd.Args[0], got, name)
		}
		joined = nsenterHostname(t, pid)
		// The parent line (after 1 s in the C) says the parent is done
		// looking; then kill the child, which ends the run.
		s.Expect(t, `^uts\.nodename in parent: `)
		if err := unix.Kill(pid, unix.SIGKILL); err != nil {
			t.Fatal(err)
		}
		r := s.Wait(t)
		nstest.NoPanic(t, r.Stderr)
		if r.Code != 0 {
			t.Errorf("%s: exit %d, want 0\nstderr:\n%s", cmd.Args[0], r.Code, r.Stderr)
		}
		nstest.WaitGone(t, cmd.Process.Pid)
		nstest.WaitGone(t, pid)
		return r.Stdout, joined
	}
	goOut, goJoined := run(t, nstest.Program(t, prog, "-hold", "30s", "nslab-uts-vs"), "nslab-uts-vs")
	cOut, cJoined := run(t, exec.Command(cBin, "nslab-uts-vs"), "nslab-uts-vs")

	if goJoined != "nslab-uts-vs" || cJoined != goJoined {
		t.Errorf("nsenter -u hostname: Go %q, C %q; want both %q", goJoined, cJoined, "nslab-uts-vs")
	}
	if g, c := shapes(goOut), shapes(cOut); !slices.Equal(g, c) {
		t.Errorf("different lines:\nGo: %q\nC:  %q\nGo stdout:\n%s\nC stdout:\n%s", g, c, goOut, cOut)
	}
	if after := nstest.Hostname(t); after != before {
		t.Fatalf("host hostname changed: %q -> %q", before, after)
	}
}
