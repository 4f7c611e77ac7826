package main

import (
	"embed"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
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

// --- t_clone ---------------------------------------------------------------

// The claim, checked on the kernel's fd table of this very process: after a
// CLONE_FILES child closes a descriptor, it is gone for the parent too;
// without the flag it stays open.
func TestTCloneChildCloseReachesParentOnlyWithCloneFiles(t *testing.T) {
	signal.Ignore(childSig)
	for _, shared := range []bool{false, true} {
		fd, err := unix.Open("/dev/null", unix.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		var flags uintptr
		if shared {
			flags = unix.CLONE_FILES
		}
		pid, err := rawClone(flags|uintptr(childSig), fd)
		if err != nil {
			t.Fatalf("clone: %v", err)
		}
		var ws unix.WaitStatus
		if _, err := unix.Wait4(pid, &ws, unix.WCLONE, nil); err != nil {
			t.Fatalf("wait4: %v", err)
		}
		if !ws.Exited() || ws.ExitStatus() != 0 {
			t.Fatalf("child status %v, want exit 0 (its close() failed?)", ws)
		}
		_, statErr := os.Lstat(fmt.Sprintf("/proc/self/fd/%d", fd))
		_, fcntlErr := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if shared {
			if statErr == nil || fcntlErr != unix.EBADF {
				t.Errorf("CLONE_FILES: fd %d still open in the parent after the child closed it", fd)
			}
		} else {
			if statErr != nil || fcntlErr != nil {
				t.Errorf("no CLONE_FILES: the child's close() closed the parent's fd %d (%v, %v)", fd, statErr, fcntlErr)
			}
			unix.Close(fd)
		}
	}
}

var fdNumber = regexp.MustCompile(`descriptor \d+`)

// The program and the C original report the same outcome (the fd number
// differs: Go's runtime holds a few descriptors of its own).
func TestTCloneGoMatchesC(t *testing.T) {
	cBin := nstest.BuildC(t, cSources, "t_clone")
	want := map[string]string{
		"":  "child has terminated\nwrite() on file descriptor N succeeded\n",
		"x": "child has terminated\nfile descriptor N has been closed\n",
	}
	for arg, expected := range want {
		var args []string
		if arg != "" {
			args = []string{arg}
		}
		goRes := nstest.Run(t, nstest.Program(t, "01-clone", append([]string{"t_clone"}, args...)...))
		cRes := nstest.Run(t, exec.Command(cBin, args...))
		for who, r := range map[string]nstest.Result{"Go": goRes, "C": cRes} {
			got := fdNumber.ReplaceAllString(r.Stdout, "descriptor N")
			if r.Code != 0 || got != expected {
				t.Errorf("%s t_clone %q: exit %d, output\n%s\nwant\n%s\nstderr: %s", who, arg, r.Code, got, expected, r.Stderr)
			}
		}
	}
}

// --- ns_child_exec -----------------------------------------------------------

// nsOfChild runs `prog [flags] readlink /proc/self/ns/...` and returns what
// the kernel shows the child: namespace name -> inode link text.
func nsOfChild(t *testing.T, cmd *exec.Cmd) map[string]string {
	t.Helper()
	r := nstest.Run(t, cmd)
	if r.Code != 0 {
		t.Fatalf("%v: exit %d\nstderr: %s", cmd.Args, r.Code, r.Stderr)
	}
	got := map[string]string{}
	for _, line := range strings.Fields(r.Stdout) {
		name, _, _ := strings.Cut(line, ":")
		got[name] = line
	}
	return got
}

func readlinkArgs() []string {
	args := []string{"readlink"}
	for _, ns := range common.Namespaces {
		if _, err := os.Lstat("/proc/self/ns/" + ns.Name); err == nil {
			args = append(args, "/proc/self/ns/"+ns.Name)
		}
	}
	return args
}

func hostNS(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, ns := range common.Namespaces {
		if l, err := os.Readlink("/proc/self/ns/" + ns.Name); err == nil {
			m[ns.Name] = l
		}
	}
	return m
}

// Each option creates exactly its namespace and no other, in the Go port
// and in the C original alike.
func TestNsChildExecCreatesExactlyTheRequestedNamespaces(t *testing.T) {
	nstest.RequireRoot(t)
	cBin := nstest.BuildC(t, cSources, "ns_child_exec")
	host := hostNS(t)
	cases := []string{"-C", "-i", "-m", "-n", "-p", "-u", "-U", "-T", "-CimnpuUT"}
	for _, opt := range cases {
		want := map[string]bool{}
		for _, ns := range common.Namespaces {
			if strings.IndexByte(opt, ns.Letter) > 0 {
				want[ns.Name] = true
			}
		}
		for _, ns := range common.Namespaces {
			if want[ns.Name] && host[ns.Name] == "" {
				nstest.RequireNamespace(t, ns.Name)
			}
		}
		for who, cmd := range map[string]*exec.Cmd{
			"Go": nstest.Program(t, "01-clone", append([]string{"ns_child_exec", opt}, readlinkArgs()...)...),
			"C":  exec.Command(cBin, append([]string{opt}, readlinkArgs()...)...),
		} {
			child := nsOfChild(t, cmd)
			for name, link := range host {
				// pid_for_children-style entries are not in the list; the
				// pid link of a -p child is its own (new) PID namespace.
				differs := child[name] != link
				if differs != want[name] {
					t.Errorf("%s ns_child_exec %s: %s namespace new=%v, want new=%v (host %s, child %s)",
						who, opt, name, differs, want[name], link, child[name])
				}
			}
		}
	}
}

// With -p the child is PID 1 of its namespace: the kernel's NSpid line for
// it ends in 1 (its PID in the innermost namespace), and getpid() says 1.
func TestNsChildExecPIDNamespaceChildIsPID1(t *testing.T) {
	nstest.RequireRoot(t)
	cBin := nstest.BuildC(t, cSources, "ns_child_exec")
	for who, prog := range map[string]func(args ...string) *exec.Cmd{
		"Go": func(a ...string) *exec.Cmd {
			return nstest.Program(t, "01-clone", append([]string{"ns_child_exec"}, a...)...)
		},
		"C": func(a ...string) *exec.Cmd { return exec.Command(cBin, a...) },
	} {
		r := nstest.Run(t, prog("-p", "grep", "^NSpid:", "/proc/self/status"))
		f := strings.Fields(r.Stdout)
		if r.Code != 0 || len(f) != 3 || f[2] != "1" {
			t.Errorf("%s: -p child's NSpid = %q (exit %d), want \"NSpid: <host pid> 1\"", who, r.Stdout, r.Code)
		}
		r = nstest.Run(t, prog("-p", "sh", "-c", "echo $$"))
		if strings.TrimSpace(r.Stdout) != "1" {
			t.Errorf("%s: -p child's getpid() = %q, want 1", who, r.Stdout)
		}
	}
}

// The '+' in getopt: options after the command belong to the command.
func TestNsChildExecStopsAtFirstNonOption(t *testing.T) {
	nstest.RequireRoot(t)
	r := nstest.Run(t, nstest.Program(t, "01-clone", "ns_child_exec", "-u", "echo", "-n", "-p", "hi"))
	if r.Code != 0 || r.Stdout != "-p hi" {
		t.Errorf("got %q exit %d, want echo to receive -n -p hi", r.Stdout, r.Code)
	}
}

func TestNsChildExecExitStatusIsTheChilds(t *testing.T) {
	nstest.RequireRoot(t)
	cBin := nstest.BuildC(t, cSources, "ns_child_exec")
	for who, cmd := range map[string]*exec.Cmd{
		"Go": nstest.Program(t, "01-clone", "ns_child_exec", "-u", "sh", "-c", "exit 7"),
		"C":  exec.Command(cBin, "-u", "sh", "-c", "exit 7"),
	} {
		if r := nstest.Run(t, cmd); r.Code != 7 {
			t.Errorf("%s: exit %d, want the child's 7", who, r.Code)
		}
	}
}

// -v prints the child's PID; the kernel confirms it is our child, in the new
// namespace, and that it is gone after "terminating".
func TestNsChildExecVerbose(t *testing.T) {
	nstest.RequireRoot(t)
	s := nstest.Start(t, nstest.Program(t, "01-clone", "ns_child_exec", "-v", "-n", "sleep", "0.5"))
	m := s.Expect(t, `^ns_child_exec: PID of child created by clone\(\) is (\d+)$`)
	var pid int
	fmt.Sscan(m[1], &pid)
	ino, err := common.NSInode(pid, "net")
	own, _ := common.NSInode(0, "net")
	if err != nil || ino == own {
		t.Errorf("PID %d: net namespace inode %d (err %v), want one different from ours (%d)", pid, ino, err, own)
	}
	ppid := nstest.PPid(pid)
	if ppid != s.Cmd.Process.Pid {
		t.Errorf("PID %d has parent %d, want the program %d", pid, ppid, s.Cmd.Process.Pid)
	}
	r := s.Wait(t)
	if r.Code != 0 || !strings.HasSuffix(r.Stdout, "ns_child_exec: terminating\n") {
		t.Errorf("exit %d, output %q", r.Code, r.Stdout)
	}
	nstest.WaitGone(t, pid)
}

// Nothing outlives the program. SIGTERM to the parent alone is passed on;
// a PID-namespace init ignores signals it has no handler for, so the parent
// then kills it. SIGKILL to the parent takes the child down too (Pdeathsig).
// Either way the kernel shows no process left in the run's PID namespace.
func TestNsChildExecChildDiesWithParent(t *testing.T) {
	nstest.RequireRoot(t)
	cBin := nstest.BuildC(t, cSources, "ns_child_exec")
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGKILL} {
		for who, cmd := range map[string]*exec.Cmd{
			"Go": nstest.Program(t, "01-clone", "ns_child_exec", "-v", "-p", "sh", "-c", "sleep 30 & wait"),
			"C":  exec.Command(cBin, "-v", "-p", "sh", "-c", "sleep 30 & wait"),
		} {
			s := nstest.Start(t, cmd)
			m := s.Expect(t, `is (\d+)$`)
			var pid int
			fmt.Sscan(m[1], &pid)
			pidns := nstest.KeepNS(t, pid, "pid")
			for len(nstest.ProcsInNS("pid", pidns)) < 2 { // sh and its sleep
				time.Sleep(5 * time.Millisecond)
			}
			s.Cmd.Process.Signal(sig)
			r := s.Wait(t)
			nstest.WaitGone(t, pid)
			if left := nstest.ProcsInNS("pid", pidns); len(left) > 0 {
				t.Errorf("%s after %v: processes %v are still in the run's PID namespace", who, sig, left)
			}
			if sig == unix.SIGTERM && r.Code <= 128 {
				t.Errorf("%s after SIGTERM: exit %d, want 128+signal", who, r.Code)
			}
		}
	}
}

// Ctrl-C reaches the whole foreground process group: the command gets it
// from the terminal, and from ns_child_exec, which passes on what it
// receives. A command that handles SIGINT and goes on must be left alone to
// finish: only a PID-namespace init (-p), which drops the signals it has
// no handler for, is killed after a grace period (the test above).
func TestNsChildExecCtrlCLeavesAHandlingCommandAlone(t *testing.T) {
	cBin := nstest.BuildC(t, cSources, "ns_child_exec")
	script := `trap "echo got INT" INT; echo ready; sleep 2 & wait; wait; echo done`
	for who, cmd := range map[string]*exec.Cmd{
		"Go": nstest.Program(t, "01-clone", "ns_child_exec", "sh", "-c", script),
		"C":  exec.Command(cBin, "sh", "-c", script),
	} {
		// A process group of its own, as a shell gives a foreground job.
		cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
		s := nstest.Start(t, cmd)
		s.Expect(t, `^ready$`) // the trap is set
		unix.Kill(-s.Cmd.Process.Pid, unix.SIGINT)
		r := s.Wait(t)
		if r.Code != 0 || !strings.Contains(r.Stdout, "got INT\n") || !strings.HasSuffix(r.Stdout, "done\n") {
			t.Errorf("%s: Ctrl-C to a command that handles it: exit %d, stdout %q, stderr %q; want exit 0, got INT and done",
				who, r.Code, r.Stdout, r.Stderr)
		}
	}
}

// -h prints the options on stdout; a bad option gets the C's very lines.
// (The bad-input cases themselves are in the lab's catalog.)
func TestNsChildExecUsage(t *testing.T) {
	if r := nstest.Run(t, nstest.Program(t, "01-clone", "ns_child_exec", "-h")); r.Code != 0 || !strings.Contains(r.Stdout, "-U   new user namespace") {
		t.Errorf("ns_child_exec -h: exit %d, stdout %q; want 0 and the options", r.Code, r.Stdout)
	}
	// The same usage text as the C.
	cBin := nstest.BuildC(t, cSources, "ns_child_exec")
	cRes := nstest.Run(t, exec.Command(cBin, "-z"))
	goRes := nstest.Run(t, nstest.Program(t, "01-clone", "ns_child_exec", "-z"))
	norm := func(s string) string { return strings.ReplaceAll(s, cBin, "ns_child_exec") }
	if norm(cRes.Stderr) != goRes.Stderr || cRes.Code != goRes.Code {
		t.Errorf("usage differs from the C:\nC (%d):\n%s\nGo (%d):\n%s", cRes.Code, norm(cRes.Stderr), goRes.Code, goRes.Stderr)
	}
}

// An unprivileged user can create a user namespace (and others inside it)
// but nothing else; the refusal is one line with the fix.
func TestNsChildExecUnprivileged(t *testing.T) {
	r := nstest.Run(t, nstest.ProgramAs(t, 65534, "01-clone", "ns_child_exec", "-u", "true"))
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 1 || !strings.Contains(r.Stderr, "EPERM") || !strings.Contains(r.Stderr, "sudo") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Errorf("as nobody without -U: exit %d, stderr %q; want one EPERM line with the fix", r.Code, r.Stderr)
	}
	r = nstest.Run(t, nstest.ProgramAs(t, 65534, "01-clone", "ns_child_exec", "-Uu", "readlink", "/proc/self/ns/uts"))
	own, _ := os.Readlink("/proc/self/ns/uts")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) == own {
		nstest.Skip(t, fmt.Sprintf("unprivileged user namespaces seem disabled here (exit %d, %q): see the README", r.Code, r.Stderr))
	}
}

// A missing or unknown sub-program is one line naming both choices, and
// the usage line: exit 2. -h prints both usages on stdout.
func TestSubprogramChoice(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "01-clone: missing sub-command: choose t_clone or ns_child_exec\nusage: 01-clone t_clone [x]\n"},
		{[]string{"bogus"}, "01-clone: unknown sub-command \"bogus\": choose t_clone or ns_child_exec\nusage: 01-clone t_clone [x]\n"},
	} {
		r := nstest.Run(t, nstest.Program(t, "01-clone", c.args...))
		nstest.NoPanic(t, r.Stderr)
		if r.Code != 2 || r.Stderr != c.want {
			t.Errorf("01-clone %v: exit %d, stderr %q; want exit 2 and %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
	r := nstest.Run(t, nstest.Program(t, "01-clone", "-h"))
	if r.Code != 0 || !strings.Contains(r.Stdout, "01-clone t_clone [x]") || !strings.Contains(r.Stdout, "01-clone ns_child_exec [-C]") {
		t.Errorf("01-clone -h: exit %d, stdout %q; want 0 and both usages", r.Code, r.Stdout)
	}
}

//go:embed README.md
var readme string

//go:embed README.ko.md
var readmeKo string

// The commands and outputs README.md and its translation show are what the
// code does today.
func TestReadme(t *testing.T) {
	nstest.Readme(t, nstest.Doc{Name: "01-clone", Text: readme, Ko: readmeKo, C: cSources})
}
