package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"nslab/common/nstest"
)

// make check's fix for a v1 controller that is not mounted works as
// printed. In a mount namespace of the test's own, every cgroup hierarchy
// is unmounted and /sys/fs/cgroup becomes an empty tmpfs, as on a v1
// machine before its hierarchies are mounted:
// make check says freezer is missing, the test runs the "fix:" line as
// printed, and make check then finds freezer. (The fix once lacked
// `mkdir -p`, and its mount failed: the directory did not exist.) freezer,
// because it is never bound to cgroup v2, so it mounts on a v2 host too.
func TestCheckScriptFixMountsAMissingV1Controller(t *testing.T) {
	nstest.RequireRoot(t)
	unshare := nstest.RequireTool(t, "unshare", "util-linux")
	path := filepath.Join(labScripts(t, "check.sh"), "check.sh")
	const script = `set -eu
mount --make-rprivate /
# Every cgroup hierarchy out of this mount namespace: make check looks in
# the mount table, where a covered mount still shows.
awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts | sort -r | xargs -r umount -l
umount -l /sys/fs/cgroup 2>/dev/null || true
mount -t tmpfs nslab-check-test /sys/fs/cgroup
before=$(bash "$1" 2>&1 || true)
line=$(printf '%s\n' "$before" | grep -A1 '^cgroup v1 controller freezer: missing') || {
  printf 'make check did not report freezer missing:\n%s\n' "$before"; exit 1; }
fix=$(printf '%s\n' "$line" | sed -n 's/^ *fix: \(.*\) (or boot with .*/\1/p')
echo "fix: $fix"
eval "$fix"
bash "$1" 2>&1 | grep '^cgroup v1 controller freezer' || true
`
	cmd := exec.Command(unshare, "-m", "bash", "-c", script, "check-test", path)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the printed fix failed: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if last := lines[len(lines)-1]; last != "cgroup v1 controller freezer: ok" {
		t.Errorf("after the printed fix, make check says %q, want freezer ok:\n%s", last, out)
	}
}
