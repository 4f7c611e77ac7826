package nstest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// LockCgroups serialises, across test packages, the tests that make
// cgroups with the cpu controller (08-cgroup's quota runs, lab's check-08).
// On cgroup v2 each run switches cpu on in cgroup.subtree_control where it
// is off, and off again at its end; the programs coordinate with nobody, so
// of two runs at once the first to end would switch cpu off under the
// other. go test runs packages side by side (make test); the harness adapts
// to the programs. Call it first in the test: it holds the lock until the
// test and its later cleanups are done.
func LockCgroups(t testing.TB) {
	t.Helper()
	name := filepath.Join(os.TempDir(), "nslab-cgroup-tests.lock")
	f, err := os.OpenFile(name, os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		t.Fatalf("flock %s: %v", name, err)
	}
	t.Cleanup(func() { f.Close() })
}
