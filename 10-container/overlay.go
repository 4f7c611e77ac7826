package main

// overlay.go adds the container's own writable layer (05-mount overlay
// teaches overlayfs): the rootfs directory is the read-only lower layer,
// and what the container writes goes to an upper directory of this run,
// removed when it ends, as Docker's container layer is. Two runs start
// from the same files, and nothing the container writes, a device node
// included, reaches the rootfs directory on the host.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// makeLayer makes the run's directory for the overlay: upper (what the
// container writes), work (overlayfs's scratch space, on the same file
// system) and merged (the mount point, mounted by PID 1 in its own mount
// namespace only). It is /run/nslab-10-PID, mode 0700: no user of the host
// may reach what the container writes (a device node made inside, say).
// With -keep DIR it is DIR, left behind for the learner. "" with -off
// overlay, and rootless (see below).
func makeLayer(o options) string {
	if o.isOff("overlay") {
		return ""
	}
	if o.rootless {
		// A copy-up gives the copy its lower file's owner: root outside,
		// whom a user namespace cannot name (EOVERFLOW). Rootless runtimes
		// unpack their images as the user for that reason. Here the rootfs
		// belongs to root: the container may write only where anyone may
		// (/tmp), as the user, and make no device node.
		common.Step(common.Parent("# no overlay"), "rootless: the rootfs is root's, and root outside has no name inside for a copy-up")
		return ""
	}
	dir := o.keep
	if dir == "" {
		dir = fmt.Sprintf("/run/nslab-10-%d", os.Getpid())
		// Registered before the mkdir: a Ctrl-C between the two still
		// removes it. (make reset removes what a SIGKILL leaves.)
		common.AtExit(func() { os.RemoveAll(dir) })
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		common.ErrExit("mkdir "+dir, err, "-keep wants a directory that does not exist yet")
	}
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			common.ErrExit("mkdir "+filepath.Join(dir, d), err)
		}
	}
	common.Step(common.Parent("mkdir -m 0700 "+dir+" "+dir+"/{upper,work,merged}"), "the container's layer: its writes, and nobody else's eyes")
	return dir
}

// mountLayer, in PID 1, mounts the overlay on layer/merged and returns it:
// the root to build and enter.
func mountLayer(o options) string {
	merged := filepath.Join(o.layer, "merged")
	opts := "lowerdir=" + o.rootfs + ",upperdir=" + o.layer + "/upper,workdir=" + o.layer + "/work"
	err := unix.Mount("overlay", merged, "overlay", 0, opts)
	switch {
	case errors.Is(err, unix.ENODEV):
		common.ErrExit("mount -t overlay", err, "this kernel has no overlayfs: modprobe overlay, or run with -off overlay")
	case err != nil:
		common.ErrExit("mount -t overlay", err, "overlayfs refuses the upper directory's file system (an overlay, or one without xattrs): -keep DIR on ext4, xfs or tmpfs, or -off overlay")
	}
	common.Step(common.Child("mount -t overlay overlay -o "+opts+" "+merged), "the rootfs, read-only below; our writes on top")
	return merged
}

// checkLayerPath refuses what overlayfs's option string cannot carry: a
// comma or a colon separates its options and its lower directories.
func checkLayerPath(flag, dir string) {
	if strings.ContainsAny(dir, ",:") {
		common.UsageError("", "%s %s: overlayfs cannot take a path with a comma or a colon: move or rename it", flag, dir)
	}
}
