package main

// tmpfs.go adds to the seed a tmpfs (-tmpfs DIR) that only the child's
// mount namespace has, as `unshare --mount` then `mount -t tmpfs` shows.

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// hostMountpoint runs in the parent. A directory we create for the tmpfs
// is on the host's filesystem, so the host sees it (empty: never the
// tmpfs); it is removed at exit. An existing directory is used as it is.
func hostMountpoint(rootfs, tmpfs string) {
	if tmpfs == "" {
		return
	}
	dir := filepath.Join(rootfs, tmpfs) // rootfs "" leaves the path alone
	switch st, err := os.Stat(dir); {
	case err == nil && !st.IsDir():
		common.Fatalf("-tmpfs %s: not a directory", dir)
	case err == nil:
		return
	case !errors.Is(err, fs.ErrNotExist):
		common.ErrExit("-tmpfs "+dir, err)
	}
	// Registered before the mkdir, so that no signal can come between the
	// two; removing a directory that was never made is not an error. This
	// works even while the child's tmpfs is still mounted on it: the mount
	// is in another mount namespace, and the kernel detaches it (Linux 3.18
	// and later).
	common.AtExit(func() {
		if err := os.Remove(dir); err == nil {
			common.Step(common.Parent("rmdir "+dir), "")
		} else if !errors.Is(err, fs.ErrNotExist) {
			common.Warnf("%s", common.Describe("rmdir "+dir, err))
		}
	})
	if err := os.Mkdir(dir, 0o755); errors.Is(err, fs.ErrNotExist) {
		common.ErrExit("mkdir "+dir, err, "the parent directory must exist")
	} else if err != nil {
		common.ErrExit("mkdir "+dir, err)
	}
	common.Step(common.Parent("mkdir "+dir), "on the host's filesystem: the host sees this directory, not what the child mounts on it")
}

// mountTmpfs runs in the child, after the root change: dir is a path in
// the new root. The host does not see this mount.
func mountTmpfs(dir string) {
	if dir != "" {
		common.Did(common.Child, "mount -t tmpfs tmpfs "+dir, "in this mount namespace only: the host does not see it", unix.Mount("tmpfs", dir, "tmpfs", 0, ""))
	}
}
