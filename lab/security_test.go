package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"nslab/common/nstest"
)

// 07-user's "root" is root only over what its user namespace owns. Joined
// from the host as uid 0 with every capability in that namespace, it still
// cannot rename the host, mount on the host, write a file host root owns,
// or signal host root's processes: the kernel checks each against the user
// namespace that owns the host's resources.
func TestUserNamespaceRootIsNotHostRoot(t *testing.T) {
	nstest.RequireRoot(t)
	nsenter := nstest.RequireTool(t, "nsenter", "util-linux")
	t.Parallel()
	run := nstest.Start(t, exec.Command(nstest.Chapter(t, "07-user"), "-hold", "30s"))
	pid := run.Expect(t, `PID of child created by clone\(\) is (\d+)`)[1]
	run.Expect(t, `host's view, /proc/\d+/status: Gid: 100000`)
	t.Cleanup(func() { run.Cmd.Process.Signal(unix.SIGINT); run.Wait(t) })

	secret := filepath.Join(t.TempDir(), "host-root-owned")
	if err := os.WriteFile(secret, []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Dir(secret), 0o755)
	host, _ := os.Hostname()
	inside := func(script string) (string, error) {
		out, err := exec.Command(nsenter, "-t", pid, "-U", "--", "sh", "-c", script).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := inside("id -u; grep CapEff /proc/self/status"); err != nil || !strings.HasPrefix(out, "0\n") || !strings.Contains(out, "000001ff") {
		t.Fatalf("inside 07-user's user namespace: %q, %v; want uid 0 with every capability", out, err)
	}
	for _, c := range []struct{ what, script string }{
		{"rename the host", "hostname nslab-pwned"},
		{"mount a tmpfs on the host", "mount -t tmpfs none " + filepath.Dir(secret)},
		{"write a file host root owns", "echo pwned > " + secret},
		{"signal host root's process", "kill -0 1"},
		{"change a host file's owner", "chown 0:0 " + secret},
	} {
		if out, err := inside(c.script); err == nil {
			t.Errorf("%s: `%s` succeeded inside the user namespace: %s", c.what, c.script, out)
		}
	}
	// And what the kernel shows agrees.
	if now, _ := os.Hostname(); now != host {
		t.Errorf("hostname is %q, was %q", now, host)
	}
	if b, _ := os.ReadFile(secret); string(b) != "host\n" {
		t.Errorf("%s now holds %q", secret, b)
	}
	if mountinfoHas(t, filepath.Dir(secret)) {
		t.Errorf("a mount appeared at %s", filepath.Dir(secret))
	}
}

func mountinfoHas(t *testing.T, dir string) bool {
	for _, l := range mountinfoLines(t) {
		if f := strings.Fields(l); len(f) > 2 && f[2] == dir {
			return true
		}
	}
	return false
}
