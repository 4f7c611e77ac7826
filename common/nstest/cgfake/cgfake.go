// Package cgfake builds fake cgroup file systems in a temporary directory,
// with their own proc/self/cgroup and proc/self/mountinfo, for the tests
// that need no root: where common's group.go puts a new cgroup
// (common/group_test.go) and what 08-cgroup's measure.go reads
// (08-cgroup/measure_test.go). It imports nothing of nslab, so that a test
// of package common itself can use it (nstest imports common).
package cgfake

import (
	"os"
	"path/filepath"
	"testing"
)

// Tree writes files (path relative to the root -> content) and returns the
// root.
func Tree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// Mountinfo lines: ID PARENT MAJ:MIN ROOT POINT OPTIONS - FSTYPE SOURCE SUPER-OPTIONS.

// V1Separate is a v1 host whose cpu and cpuacct are separate hierarchies
// (this development machine's kind).
const V1Separate = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

// V2Mountinfo is a v2-only host (the learners' VMs).
const V2Mountinfo = `30 21 0:25 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`
