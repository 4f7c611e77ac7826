package common

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// MakeMountsPrivate marks every mount in the caller's mount namespace
// private, recursively: `mount --make-rprivate /`.
//
// Call it first thing in a new mount namespace. A new mount namespace starts
// with copies of the parent's mounts *and their propagation*. systemd makes
// `/` shared at boot, so on most hosts a mount made in the "isolated"
// namespace would propagate straight back to the host: mounting proc on
// /proc there would replace the host's /proc. After this call nothing
// propagates either way.
func MakeMountsPrivate() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("mount --make-rprivate /: %w", err)
	}
	return nil
}

// sameMountNamespace reports whether the caller shares its mount namespace
// with pid: a guard against mounting over the host's /proc by mistake.
func sameMountNamespace(pid int) bool {
	own, err1 := NSInode(0, "mnt")
	other, err2 := NSInode(pid, "mnt")
	return err1 == nil && err2 == nil && own == other
}

// MountProc mounts a fresh proc filesystem on /proc, so that /proc shows the
// caller's PID namespace (ps, /proc/self, top). It must be called in a mount
// namespace of the caller's own whose mounts are private (see
// MakeMountsPrivate). parentPid is a process outside that namespace, as the
// still-mounted old /proc numbers it — the parent's own os.Getpid(), passed
// to the child (getppid() is 0 in a new PID namespace) — and the mount is
// refused if the caller is in fact still in that process's mount namespace.
// 0 skips the check.
func MountProc(parentPid int) error {
	if parentPid > 0 && sameMountNamespace(parentPid) {
		return fmt.Errorf("refusing to mount /proc: this process shares its mount namespace with %d (CLONE_NEWNS missing?)", parentPid)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount -t proc proc /proc: %w", err)
	}
	return nil
}
