// Package lab holds the tests of the lab itself: the scripts parse, and
// inside the harness's guest (make vm-test, NSLAB_GUEST=1) the machine really
// is what later chapters' cgroup-v2 code paths need. The scripts are embedded,
// so the compiled test binary needs nothing from the source tree.
package lab

import (
	"bytes"
	"embed"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

//go:embed *.sh
var scripts embed.FS

// labScripts writes the embedded lab scripts names, and lib.sh, which they
// source from beside them, into a fresh directory that any user can read
// (some tests run a script as nobody), and returns the directory.
func labScripts(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range append(names, "lib.sh") {
		src, err := scripts.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const cgroupRoot = "/sys/fs/cgroup"

func inGuest() bool { return os.Getenv("NSLAB_GUEST") == "1" }

func requireGuest(t *testing.T) {
	t.Helper()
	if !inGuest() {
		t.Skip("only meaningful inside the cgroup-v2 guest (make vm-test)")
	}
}

// bash -n on every lab script (provision.sh first among them): a syntax
// error in provision.sh would only show at `vagrant up`.
func TestLabScriptsAreValidBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash not found")
	}
	names, err := scripts.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(names, func(e os.DirEntry) bool { return e.Name() == "provision.sh" }) {
		t.Fatal("provision.sh is not embedded")
	}
	for _, e := range names {
		t.Run(e.Name(), func(t *testing.T) {
			src, err := scripts.ReadFile(e.Name())
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bash, "-n")
			cmd.Stdin = bytes.NewReader(src)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("bash -n %s: %v\n%s", e.Name(), err, out)
			}
		})
	}
}

// The guest's kernel runs the unified hierarchy with the controllers later
// chapters use, and the cpu controller can really be given to a new cgroup
// (its cpu.max accepts a quota): so the v2 code paths run for real here.
func TestGuestHasCgroupV2WithCPUController(t *testing.T) {
	requireGuest(t)
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil {
		t.Fatalf("statfs %s: %v", cgroupRoot, err)
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		t.Fatalf("%s has filesystem magic %#x, not cgroup2 (%#x): not the unified hierarchy",
			cgroupRoot, st.Type, unix.CGROUP2_SUPER_MAGIC)
	}
	b, err := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers"))
	if err != nil {
		t.Fatal(err)
	}
	available := strings.Fields(string(b))
	t.Logf("%s/cgroup.controllers: %s", cgroupRoot, strings.Join(available, " "))
	for _, c := range []string{"cpu", "cpuset", "pids", "memory"} {
		if !slices.Contains(available, c) {
			t.Errorf("controller %s is not available at the root", c)
		}
	}
	if t.Failed() {
		return
	}

	own := ownCgroup(t)
	base := delegationBase(t, own)
	t.Logf("this test runs in cgroup %s; a new cgroup goes under %s", own, base)
	// cpu must be enabled in subtree_control all the way down to base (v2 only
	// offers a child what its parent enables). Enable what is missing, and
	// turn it back off afterwards.
	for _, dir := range pathFromRoot(base) {
		enableController(t, dir, "cpu")
	}

	child, err := os.MkdirTemp(base, "nslab-guest-test-")
	if err != nil {
		t.Fatalf("creating a cgroup under %s: %v", base, err)
	}
	t.Cleanup(func() {
		if err := os.Remove(child); err != nil {
			t.Errorf("removing %s: %v", child, err)
		}
	})
	b, err = os.ReadFile(filepath.Join(child, "cgroup.controllers"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Fields(string(b)), "cpu") {
		t.Fatalf("%s/cgroup.controllers = %q: no cpu", child, strings.TrimSpace(string(b)))
	}
	cpuMax := filepath.Join(child, "cpu.max")
	if err := os.WriteFile(cpuMax, []byte("30000 100000"), 0); err != nil {
		t.Fatalf("setting a 30%% CPU quota: %v", err)
	}
	b, err = os.ReadFile(cpuMax)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != "30000 100000" {
		t.Fatalf("%s = %q after writing \"30000 100000\"", cpuMax, got)
	}
	t.Logf("%s: cpu.max = %s", child, strings.TrimSpace(string(b)))
}

// systemd (as on a learner's VM) makes / a shared mount: the realism that
// chapter 05's "make / rprivate first" lesson depends on.
func TestGuestRootMountIsShared(t *testing.T) {
	requireGuest(t)
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 6 && f[4] == "/" {
			i := slices.Index(f, "-")
			if i < 0 {
				t.Fatalf("bad mountinfo line %q", line)
			}
			if !slices.ContainsFunc(f[6:i], func(s string) bool { return strings.HasPrefix(s, "shared:") }) {
				t.Fatalf("/ is not a shared mount: %q", line)
			}
			return
		}
	}
	t.Fatal("no / in /proc/self/mountinfo")
}

// make check (lab/check.sh) passes on the guest, a Debian 12 machine
// provisioned by lab/provision.sh: what a learner's `vagrant up` gives.
func TestGuestPassesCheckScript(t *testing.T) {
	requireGuest(t)
	path := filepath.Join(labScripts(t, "check.sh"), "check.sh")
	cmd := exec.Command("bash", path)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	t.Logf("bash lab/check.sh:\n%s", out)
	if err != nil {
		t.Fatalf("check.sh: %v", err)
	}
}

// ownCgroup is this process's cgroup v2 path, from /proc/self/cgroup.
func ownCgroup(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p
		}
	}
	t.Fatalf("no cgroup v2 entry (0::) in /proc/self/cgroup:\n%s", b)
	return ""
}

// delegationBase is where this process may create a cgroup that gets
// controllers: v2's "no internal processes" rule forbids enabling controllers
// in a non-root cgroup that has processes of its own — such as the one this
// test runs in (a systemd service or session scope). So: the nearest
// cgroup, from ours upwards, that is the root or holds no process itself.
func delegationBase(t *testing.T, own string) string {
	t.Helper()
	rel := own
	for {
		dir := filepath.Join(cgroupRoot, rel)
		if rel == "/" {
			return dir
		}
		procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(procs)) == 0 {
			return dir
		}
		rel = filepath.Dir(rel)
	}
}

// pathFromRoot lists cgroupRoot and each directory below it down to dir.
func pathFromRoot(dir string) []string {
	rel, _ := filepath.Rel(cgroupRoot, dir)
	dirs := []string{cgroupRoot}
	if rel == "." {
		return dirs
	}
	cur := cgroupRoot
	for _, part := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, part)
		dirs = append(dirs, cur)
	}
	return dirs
}

// enableController makes sure c is in dir's cgroup.subtree_control, and if
// it had to add it, removes it again when the test ends.
func enableController(t *testing.T, dir, c string) {
	t.Helper()
	ctl := filepath.Join(dir, "cgroup.subtree_control")
	b, err := os.ReadFile(ctl)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(strings.Fields(string(b)), c) {
		return
	}
	if err := os.WriteFile(ctl, []byte("+"+c), 0); err != nil {
		if errors.Is(err, unix.EBUSY) {
			t.Fatalf("enabling %s in %s: %v (the cgroup has processes of its own)", c, ctl, err)
		}
		t.Fatalf("enabling %s in %s: %v", c, ctl, err)
	}
	t.Logf("enabled %s in %s", c, ctl)
	t.Cleanup(func() {
		if err := os.WriteFile(ctl, []byte("-"+c), 0); err != nil {
			t.Logf("note: could not disable %s again in %s: %v", c, ctl, err)
		}
	})
}
