package nstest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// LockHost serialises, across test packages, the tests that change one
// shared part of the host, named by what ("cgroup", "netns"). go test runs
// packages side by side (make test), and the programs coordinate with
// nobody, as a learner's would: the harness adapts to them, never the other
// way round. Call it first in the test: it holds the lock until the test
// and its later cleanups are done.
func LockHost(t testing.TB, what string) {
	t.Helper()
	f := lockHost(t, what)
	t.Cleanup(func() { f.Close() })
}

// WithHostLock runs fn holding LockHost's lock, for a test that takes
// turns with the others many times rather than once (make soak with
// SOAK_PART=1, on a host where other tests run).
func WithHostLock(t testing.TB, what string, fn func()) {
	t.Helper()
	f := lockHost(t, what)
	defer f.Close()
	fn()
}

func lockHost(t testing.TB, what string) *os.File {
	t.Helper()
	name := filepath.Join(os.TempDir(), "nslab-"+what+"-tests.lock")
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
	return f
}

// LockCgroups is for the tests that make cgroups with the cpu controller
// (08-cgroup's quota runs, lab's check-08 and tour). On cgroup v2 each run
// switches cpu on in cgroup.subtree_control where it is off, and off again
// at its end, so of two runs at once the first to end would switch cpu off
// under the other.
func LockCgroups(t testing.TB) { LockHost(t, "cgroup") }

// LockNetns is for the tests that add and delete names in the host's
// /run/netns (06-net's, lab's check-06 and tour): the del of the last name
// undoes the /run/netns set-up that another test's add may be using.
func LockNetns(t testing.TB) { LockHost(t, "netns") }
