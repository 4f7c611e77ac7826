package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"nslab/common/nstest"
)

// TestCloneBash: the seed's first program, in Go and in C. Its bash (here
// exec'ing sleep, to stay) is PID 1 of a new PID namespace, in new uts,
// mnt, user and ipc namespaces too, and in ours for net (CLONE_NEWNET is
// commented out in the seed). "clone() returned N" names it by its host PID,
// and "child has terminated" follows its end. The seed leaves the uid map
// empty (its notes write it by hand); Go's -map writes "0 <our uid> 1".
func TestCloneBash(t *testing.T) {
	t.Parallel()
	nstest.RequireRoot(t)
	for _, tc := range []struct {
		name   string
		cmd    func() *exec.Cmd
		uidMap string
	}{
		{"Go", func() *exec.Cmd {
			return nstest.Program(t, prog, "clone-bash", "-map", "-c", "hostname t09-cb; exec sleep 30")
		}, "0 0 1"},
		{"C", func() *exec.Cmd {
			// The seed runs an interactive bash: bash reads its commands
			// from standard input.
			cmd := exec.Command(nstest.BuildC(t, cSources, "clone_bash"))
			cmd.Stdin = strings.NewReader("exec sleep 30\n")
			return cmd
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := tc.cmd()
			s := nstest.Start(t, cmd)
			sleeper := descendantNamed(t, cmd.Process.Pid, "sleep")
			if p := nstest.PPid(sleeper); p != cmd.Process.Pid {
				t.Errorf("bash (%d) has parent %d, want the program %d", sleeper, p, cmd.Process.Pid)
			}
			for _, name := range []string{"uts", "mnt", "pid", "user", "ipc", "net", "cgroup"} {
				theirs, ours := inode(t, sleeper, name), inode(t, 0, name)
				if isNew := name != "net" && name != "cgroup"; isNew != (theirs != ours) {
					t.Errorf("bash's %s namespace %d, ours %d; want a new one: %v", name, theirs, ours, isNew)
				}
			}
			if inNS, levels := nsPID(t, sleeper); inNS != 1 || levels != 2 {
				t.Errorf("bash's NSpid: %d at %d levels; want PID 1, one level down", inNS, levels)
			}
			b, err := os.ReadFile("/proc/" + strconv.Itoa(sleeper) + "/uid_map")
			if got := strings.Join(strings.Fields(string(b)), " "); err != nil || got != tc.uidMap {
				t.Errorf("uid_map %q (%v), want %q", got, err, tc.uidMap)
			}
			if tc.name == "Go" {
				host := strings.TrimSpace(nstest.Exec(t, "nsenter", "-t", strconv.Itoa(sleeper), "-u", "hostname"))
				if host != "t09-cb" {
					t.Errorf("hostname in bash's UTS namespace %q, want t09-cb: with -map, bash is root there", host)
				}
			}

			unix.Kill(sleeper, unix.SIGKILL)
			r := s.Wait(t)
			nstest.NoPanic(t, r.Stderr)
			want := "clone() returned " + strconv.Itoa(sleeper) + "\nchild has terminated\n"
			if r.Code != 0 || !strings.Contains(r.Stdout, want) {
				t.Errorf("exit %d, stdout %q; want 0 and %q", r.Code, r.Stdout, want)
			}
		})
	}
}
