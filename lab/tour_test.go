package lab

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"nslab/common/nstest"
)

// tourSetup writes tour.sh to a scratch directory next to bin/, which holds
// every chapter program the tour names, and returns the script, bin and the
// chapters in tour order.
func tourSetup(t *testing.T) (script, bin string, chapters []string) {
	t.Helper()
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "ip", "iproute2")
	nstest.RequireTool(t, "busybox", "busybox-static")
	src, err := scripts.ReadFile("tour.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^chapter ([0-9][0-9]-[a-z]+) `).FindAllStringSubmatch(string(src), -1) {
		chapters = append(chapters, m[1])
	}
	if len(chapters) < 7 {
		t.Fatalf("tour.sh has %d chapter banners: %v", len(chapters), chapters)
	}
	dir := labScripts(t, "tour.sh")
	bin = filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range chapters {
		if err := os.Symlink(nstest.Chapter(t, c), filepath.Join(bin, c)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "tour.sh"), bin, chapters
}

// make tour runs every chapter's demo in order: each chapter gets its
// banner, no step fails, it is over in under a minute, and without a TTY
// it prints no color codes.
func TestTour(t *testing.T) {
	script, bin, chapters := tourSetup(t)
	// The tour makes cgroups and /run/netns names, as other packages'
	// tests do meanwhile: take turns with them (cgroup first, always).
	nstest.LockCgroups(t)
	nstest.LockNetns(t)
	cmd := exec.Command("bash", script, bin)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color") // colors would be on, but stdout is no TTY
	start := time.Now().Add(-time.Second)
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("tour: %v\n%s", err, out)
	}
	t.Logf("tour took %s", took.Round(time.Millisecond))
	if took > 60*time.Second {
		t.Errorf("tour took %s, over the minute it promises", took)
	}
	s := string(out)
	for _, c := range chapters {
		if !strings.Contains(s, "== "+c+": ") {
			t.Errorf("no banner for %s", c)
		}
	}
	if strings.Contains(s, "\x1b[") {
		t.Errorf("color codes in output to a pipe")
	}
	// Nothing unsafe left on the host: no new world-writable file (or
	// non-sticky directory), no setuid or setgid file, where a demo could
	// have written.
	for _, root := range []string{"/tmp", "/var/tmp", "/run", "/mnt", "/root", "/etc"} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == root {
				return nil
			}
			info, err := d.Info()
			if err != nil || info.ModTime().Before(start) || d.Type()&fs.ModeSymlink != 0 {
				return nil
			}
			m := info.Mode()
			switch {
			case m&(fs.ModeSetuid|fs.ModeSetgid) != 0 && m.IsRegular():
				t.Errorf("the tour left a setuid/setgid file: %s (%v)", p, m)
			case m.Perm()&0o002 != 0 && (m.IsRegular() || m.IsDir() && m&fs.ModeSticky == 0):
				t.Errorf("the tour left a world-writable file: %s (%v)", p, m)
			}
			return nil
		})
	}
	if !strings.HasSuffix(strings.TrimSpace(s), "tour: done") {
		t.Errorf("tour did not end with 'tour: done':\n%s", s)
	}
}

// TestSetnsDemoTargetGone: the 09-setns step stops waiting for the
// clone-bash target's sleep as soon as the target is gone, as it is after
// a Ctrl-C (a Go program catches SIGINT even as a background job), and
// says so, rather than wait out its 100 rounds (20 s in the amd64 guest,
// whose soak saw the shell go on after a Ctrl-C). The stand-in 09-setns
// ends at once, as the real target does on SIGINT.
func TestSetnsDemoTargetGone(t *testing.T) {
	nstest.RequireRoot(t)
	dir := labScripts(t, "tour.sh")
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "09-setns"), []byte("#!/bin/sh\nexit 130\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "tour.sh")
	n := 0
	for _, st := range tourSteps(t, script, bin) {
		if strings.Contains(st.cmd, "setns_demo") {
			n = st.n
		}
	}
	if n == 0 {
		t.Fatal("tour.sh lists no setns_demo step")
	}
	cmd := exec.Command("bash", script, bin)
	cmd.Env = append(os.Environ(), "NSLAB_TOUR_STEP="+strconv.Itoa(n), "NO_COLOR=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "the clone-bash target did not start") {
		t.Errorf("step %d with a target that ends at once: %v, want exit status 1 and its line:\n%s", n, err, out)
	}
	if took > 2*time.Second {
		t.Errorf("step %d waited %v for a target that was gone", n, took.Round(time.Millisecond))
	}
}
