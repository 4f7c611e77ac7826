package common

// Entering a root filesystem, the two ways 05-mount teaches and
// 10-container uses: chroot, and pivot_root as container runtimes do.
// Call either in a mount namespace of the caller's own whose mounts are
// private (MakeMountsPrivate). Each prints its steps in the child's colour
// and exits with one line on failure.

import "golang.org/x/sys/unix"

// ChrootInto is chroot(2): it changes this process's idea of "/", nothing
// else. The mount namespace still holds the host's whole tree, which a
// root process can climb back to (05-mount escape shows how).
//
// Used by 05-mount and 10-container.
func ChrootInto(dir string) {
	Did(Child, "chroot "+dir, "changes what / means for this process: the host's tree is still in this mount namespace", unix.Chroot(dir))
	// Without this the working directory would still be outside the new
	// root: the first step of every chroot escape.
	childChdir("/")
}

// childChdir is chdir(2), printed as the child's step "cd DIR".
func childChdir(dir string) {
	if err := unix.Chdir(dir); err != nil {
		ErrExit("chdir "+dir, err)
	}
	Step(Child("cd "+dir), "")
}

// pivotHint lists why pivot_root fails. EBUSY: the new root, or put_old, is
// on the same mount as / (the new root is not a mount point).
const pivotHint = "pivot_root fails with EINVAL when / or the new root's parent mount is shared " +
	"(make mounts private first), when the new root is not a mount point (EBUSY if it sits on the " +
	"mount of /), or in the initial mount namespace of an " +
	"initramfs (ramfs) root: use chroot or switch_root there"

// PivotInto is what container runtimes do: make dir the root mount of this
// mount namespace and detach the old root, so that nothing outside dir is
// left to reach.
//
// Used by 05-mount and 10-container.
func PivotInto(dir string) {
	// pivot_root wants the new root to be a mount point. A bind mount of
	// the directory onto itself makes it one (MS_REC keeps any mounts
	// below it). It is private like everything else by now.
	Did(Child, "mount --rbind "+dir+" "+dir, "pivot_root needs the new root to be a mount point", unix.Mount(dir, dir, "", unix.MS_BIND|unix.MS_REC, ""))
	childChdir(dir)
	// pivot_root(new_root, put_old): the new root becomes /, the old root
	// is moved to put_old, which must be at or under the new root. Naming
	// the new root itself for both, as runc does, stacks the old root on
	// top of the new one: no put_old directory to make on the rootfs's
	// disk (where the host, or a second container using the same rootfs,
	// would see it), and nothing to remove afterwards.
	Did(Child, "pivot_root . .", "the new root is now /; the old root is stacked on top of it", unix.PivotRoot(".", "."), pivotHint)
	// Detach the old root, the top mount on ".", and every mount under it
	// (MNT_DETACH: even if busy). After this no path leads out.
	Did(Child, "umount -l .", "the host's tree is gone from this mount namespace", unix.Unmount(".", unix.MNT_DETACH))
	childChdir("/")
}
