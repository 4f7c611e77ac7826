package lab

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"nslab/common/nstest"
)

// The set-up's refusals (lab/setup.sh, run first by make tour and make
// test): each is one line on stderr, nothing on stdout, exit status 2. The
// script runs from its embedded copy with a PATH that holds only what the
// script itself uses, so every tool of lab/packages.sh looks missing, and
// with GO naming no Go; NSLAB_OS_RELEASE stands for /etc/os-release.

// setupRun runs setup.sh as argv (e.g. setpriv ... bash) with env; it
// returns stdout, stderr and the exit status.
func setupRun(t *testing.T, env []string, argv ...string) (string, string, int) {
	t.Helper()
	// Readable by the unprivileged user of TestSetupNotRoot.
	dir := labScripts(t, "setup.sh", "packages.sh")
	bare := filepath.Join(dir, "bin")
	if err := os.Mkdir(bare, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"bash", "dirname", "awk", "sort", "head", "id"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s not found", tool)
		}
		if err := os.Symlink(p, filepath.Join(bare, tool)); err != nil {
			t.Fatal(err)
		}
	}
	bash, _ := exec.LookPath("bash")
	cmd := exec.Command(argv[0], append(argv[1:], bash, filepath.Join(dir, "setup.sh"))...)
	cmd.Env = append([]string{"PATH=" + bare, "GO=/nonexistent/go"}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	}
	t.Fatalf("running setup.sh: %v", err)
	return "", "", 0
}

func osRelease(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "os-release")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// oneLine checks the refusal's shape and that the line names each of want.
func oneLine(t *testing.T, stdout, stderr string, rc int, want ...string) {
	t.Helper()
	if rc != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("want exit 2, nothing on stdout, one line on stderr; got exit %d, stdout %q, stderr %q", rc, stdout, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("the line does not name %q: %s", w, stderr)
		}
	}
}

// On a distribution it does not know, it installs nothing: it names what is
// missing (Debian's names), and Go.
func TestSetupUnknownDistribution(t *testing.T) {
	fedora := osRelease(t, "ID=fedora\nVERSION_ID=41\nPRETTY_NAME=\"Fedora Linux 41\"\n")
	stdout, stderr, rc := setupRun(t, []string{"NSLAB_OS_RELEASE=" + fedora}, "env")
	oneLine(t, stdout, stderr, rc, "Fedora Linux 41", "stress", "busybox-static", "iputils-ping", "Go 1.21+", "NSLAB_SETUP=0")
}

// On Debian 12 but not root, it says it needs root (make tour and make test
// do anyway).
func TestSetupNotRoot(t *testing.T) {
	nstest.RequireRoot(t)
	setpriv := nstest.RequireTool(t, "setpriv", "util-linux")
	debian := osRelease(t, "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
	if err := os.Chmod(debian, 0o644); err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(debian); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, rc := setupRun(t, []string{"NSLAB_OS_RELEASE=" + debian},
		setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")
	oneLine(t, stdout, stderr, rc, "run as root", "stress")
}

// NSLAB_SETUP=0 skips it all: nothing printed, exit 0, though all is missing.
func TestSetupSkipped(t *testing.T) {
	stdout, stderr, rc := setupRun(t, []string{"NSLAB_SETUP=0"}, "env")
	if rc != 0 || stdout != "" || stderr != "" {
		t.Fatalf("NSLAB_SETUP=0: want exit 0 and no output; got exit %d, stdout %q, stderr %q", rc, stdout, stderr)
	}
}
