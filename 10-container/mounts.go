package main

// mounts.go adds the file systems a container needs in its root before it
// enters it (a fresh /proc, a minimal /dev, /sys read-only), and after,
// the /proc and /sys paths runc hides or makes read-only.

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// devices are bind-mounted from the host's /dev: the ones runc's default
// spec creates (with mknod, which a user namespace may not do: a bind
// mount works in both).
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// maskedPaths and readonlyPaths are `runc spec`'s defaults: what a
// container's root must not read (kcore is the host's memory, keys its
// keyrings, timer_list and sched_debug reveal other processes), or must
// not write (sysrq-trigger would reboot the host, sys its kernel settings).
var (
	maskedPaths = []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

const noSuidDevExec = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC

// buildRoot mounts /proc, /sys and /dev inside the rootfs, while the host's
// tree is still here to take devices from.
func buildRoot(root string) {
	common.Did(common.Child, "mount -t proc proc "+root+"/proc", "a fresh /proc: our PID namespace only",
		unix.Mount("proc", filepath.Join(root, "proc"), "proc", noSuidDevExec, ""))
	common.Did(common.Child, "mount -t sysfs -o ro sysfs "+root+"/sys", "read-only: no kernel knob is ours to turn",
		unix.Mount("sysfs", filepath.Join(root, "sys"), "sysfs", noSuidDevExec|unix.MS_RDONLY, ""))
	dev := filepath.Join(root, "dev")
	common.Did(common.Child, "mount -t tmpfs tmpfs "+dev, "a /dev of our own, not the host's disks",
		unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID, "mode=755,size=64k"))
	for _, d := range devices {
		if err := os.WriteFile(filepath.Join(dev, d), nil, 0o666); err != nil {
			common.ErrExit("creating /dev/"+d, err)
		}
		if err := unix.Mount("/dev/"+d, filepath.Join(dev, d), "", unix.MS_BIND, ""); err != nil {
			common.ErrExit("mount --bind /dev/"+d, err)
		}
	}
	common.Step(common.Child("mount --bind /dev/{null,zero,full,random,urandom,tty} "+dev), "the devices a program expects, and no other")
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			common.ErrExit("ln -s "+target+" /dev/"+name, err)
		}
	}
	if err := os.Mkdir(filepath.Join(dev, "shm"), 0o1777); err != nil {
		common.ErrExit("mkdir /dev/shm", err)
	}
	common.Did(common.Child, "mount -t tmpfs shm "+dev+"/shm", "POSIX shared memory, for this IPC namespace",
		unix.Mount("shm", filepath.Join(dev, "shm"), "tmpfs", noSuidDevExec, "mode=1777,size=16m"))
}

// maskPaths hides runc's masked paths (/dev/null over a file, an empty
// read-only tmpfs over a directory) and makes its read-only paths so.
func maskPaths() {
	masked := 0
	for _, p := range maskedPaths {
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue // not on this kernel
		}
		if err == nil && st.IsDir() {
			err = unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "size=0")
		} else if err == nil {
			err = unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
		}
		if err != nil {
			common.ErrExit("masking "+p, err)
		}
		masked++
	}
	common.Step(common.Child("mount --bind /dev/null /proc/kcore"), "and the rest of runc's masked paths: "+strconv.Itoa(masked)+" here")
	for _, p := range readonlyPaths {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			continue
		}
		// A bind mount of the path onto itself, remounted read-only. The
		// remount must repeat proc's nosuid,nodev,noexec: in a user
		// namespace the kernel refuses to clear flags it locked.
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			common.ErrExit("mount --bind "+p+" "+p, err)
		}
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|noSuidDevExec, ""); err != nil {
			common.ErrExit("mount -o remount,bind,ro "+p, err)
		}
	}
	common.Step(common.Child("mount -o remount,bind,ro /proc/sys"), "and /proc/{bus,fs,irq,sysrq-trigger}: read-only")
}
