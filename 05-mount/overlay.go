package main

// overlay.go adds to the seed, which has no overlayfs, the file system a
// container runtime gives each container: `05-mount overlay [DIR]` mounts
// lower and upper as one tree in a mount namespace of its own, and shows
// copy-up, a new file, a whiteout, and what lower and upper hold after.

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// What the lesson writes; the tests look for it in lower and upper.
const (
	helloLower = "hello from lower\n"
	helloNew   = "hello, changed through merged\n"
	doomedText = "delete me\n"
	newText    = "new in merged\n"
)

func init() { common.Register("overlay_child", overlayChild) }

func overlayUsage() string { return common.Prog + " overlay [DIR]" }

// layers are the four directories of an overlay, in dir.
type layers struct{ lower, upper, work, merged string }

func layersIn(d string) layers {
	return layers{filepath.Join(d, "lower"), filepath.Join(d, "upper"), filepath.Join(d, "work"), filepath.Join(d, "merged")}
}

// overlay is the parent, in the host's mount namespace: it makes DIR, lets a
// child do the lesson in a mount namespace of its own, then lists the layers.
func overlay(args []string) {
	args = common.NewFlags(overlayUsage()).ParseArgs(args)
	switch {
	case len(args) > 1:
		common.UsageError(overlayUsage(), "want at most one DIR, got %d arguments", len(args))
	case len(args) == 1 && strings.ContainsAny(args[0], `,:\`):
		common.UsageError(overlayUsage(), "DIR %q holds ',', ':' or '\\', which separate overlayfs's options: pick another DIR", args[0])
	}
	common.RequireRoot("mounting an overlay")
	common.RequireNamespaces(unix.CLONE_NEWNS)
	var dir, in string // in: the layers' directory, as the steps name it
	if len(args) == 1 {
		dir = filepath.Clean(args[0])
		if err := os.Mkdir(dir, 0o755); err != nil {
			common.ErrExit("mkdir "+dir, err, "DIR must not exist yet, its parent must")
		}
		common.AtExit(func() { removeLayers(dir, true) }) // a signal before this leaves DIR, as we do
		common.Step(common.Parent("mkdir "+shellJoin(dir)), "")
		in = dir
	} else {
		// In /tmp, named by our PID: make reset removes it once we are gone.
		// The undo step comes before the mkdir, as in tmpfs.go.
		dir, in = fmt.Sprintf("/tmp/nslab-overlay-%d-%d", os.Getpid(), rand.Uint32()), "."
		common.AtExit(func() { removeLayers(dir, false) })
		common.Did(common.Parent, "mkdir "+shellJoin(dir), "", os.Mkdir(dir, 0o700))
		common.Did(common.Parent, "cd "+dir, "short names from here on", os.Chdir(dir))
	}
	// Go cannot unshare(CLONE_NEWNS) the process: unshare(2) moves the calling
	// thread only, and Go runs goroutines (Ctrl-C's undo steps too) on any
	// thread, LockOSThread or not. So, as newns.go does, a child re-executed in
	// a new mount namespace: dying, even by SIGKILL, it takes the overlay along.
	common.Step(common.Parent("unshare --mount --propagation unchanged"), "a new mount namespace: a copy of the host's mounts, shared ones still shared")
	cmd := common.Command("overlay_child", in, dir)
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWNS}
	child, err := common.StartChild(cmd)
	if err != nil {
		common.ErrExit("clone(CLONE_NEWNS)", err)
	}
	if err := child.Wait(); err != nil {
		common.Exit(common.ExitStatus(err)) // it said why
	}
	lsl(common.Parent, layersIn(in).lower, "on the host, after umount: lower is as it was, for any number of containers to share")
	lsl(common.Parent, layersIn(in).upper, "every change, the whiteout a character device 0, 0: what docker rm throws away, docker commit keeps as a layer")
	common.Exit(0)
}

// overlayChild is the lesson, in the new mount namespace.
func overlayChild(args []string) int {
	// Ctrl-C is the parent's: it kills us, then removes the directories.
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)
	l := layersIn(args[0])
	common.Did(common.Child, "mount --make-rprivate /", "systemd makes / shared: without this the overlay would show up on the host", common.MakeMountsPrivate())
	common.Did(common.Child, "mkdir "+shellJoin(l.lower, l.upper, l.work, l.merged), "work must be on upper's file system: files are made there, then renamed into upper",
		errors.Join(os.Mkdir(l.lower, 0o755), os.Mkdir(l.upper, 0o755), os.Mkdir(l.work, 0o755), os.Mkdir(l.merged, 0o755)))
	write(filepath.Join(l.lower, "hello"), helloLower, "")
	write(filepath.Join(l.lower, "doomed"), doomedText, "lower: in Docker, the image's read-only layers")
	opts := "lowerdir=" + l.lower + ",upperdir=" + l.upper + ",workdir=" + l.work
	mnt := "mount -t overlay overlay -o " + shellJoin(opts, l.merged)
	fsHint := "the file system of " + args[1] + " cannot hold an upper layer, as an overlay or one without d_type or xattrs cannot: put DIR on ext4, xfs or tmpfs, and see dmesg"
	hints := map[error]string{unix.ENODEV: "this kernel has no overlay file system: modprobe overlay", unix.EINVAL: fsHint, unix.EOPNOTSUPP: fsHint}
	err := unix.Mount("overlay", l.merged, "overlay", 0, opts)
	// No undo step: the kernel tears our namespace down when we exit.
	common.Did(common.Child, mnt, "merged shows upper over lower", err, hints[err])
	mi, err := os.ReadFile("/proc/self/mountinfo")
	common.Did(common.Child, "grep ' - overlay ' /proc/self/mountinfo", "", err)
	fmt.Println(strings.Join(regexp.MustCompile(`(?m)^.* - overlay .*$`).FindAllString(string(mi), -1), "\n"))
	hello := filepath.Join(l.merged, "hello")
	cat(hello, "read through merged: lower's file")
	write(hello, helloNew, "the first write copies the file up into upper, then changes the copy")
	cat(filepath.Join(l.upper, "hello"), "upper holds the changed copy")
	cat(filepath.Join(l.lower, "hello"), "lower is never written")
	write(filepath.Join(l.merged, "new"), newText, "a new file lands in upper only")
	doomed := filepath.Join(l.merged, "doomed")
	common.Did(common.Child, "rm "+shellJoin(doomed), "lower cannot change: a whiteout in upper hides the file", os.Remove(doomed))
	lsl(common.Child, l.merged, "")
	whiteout := filepath.Join(l.upper, "doomed")
	var st unix.Stat_t
	common.Did(common.Child, "stat -c '%F %t:%T' "+shellJoin(whiteout), "", unix.Lstat(whiteout, &st))
	fmt.Printf("%s %x:%x\n", map[uint32]string{unix.S_IFCHR: "character special file", unix.S_IFREG: "regular file"}[st.Mode&unix.S_IFMT],
		unix.Major(st.Rdev), unix.Minor(st.Rdev))
	common.Did(common.Child, "umount "+shellJoin(l.merged), "", unix.Unmount(l.merged, 0))
	return 0
}

// removeLayers undoes what overlay made: a fresh directory whole; in a DIR
// the learner named, work and merged, leaving lower and upper to look at.
func removeLayers(dir string, named bool) {
	l := layersIn(dir)
	rm, why := []string{dir}, ""
	if named {
		if _, err := os.Lstat(l.work); err != nil {
			return // the child made nothing
		}
		rm, why = []string{l.work, l.merged}, fmt.Sprintf("%s and %s stay for you to look at: rm -rf %s when done", l.lower, l.upper, dir)
	}
	// rmdir merged first: were an overlay mounted on it here, rmdir fails
	// (EBUSY) where rm -rf would go on into the overlay.
	err := unix.Rmdir(l.merged)
	for _, d := range rm {
		if err == nil || errors.Is(err, unix.ENOENT) {
			err = os.RemoveAll(d)
		}
	}
	if err != nil {
		common.Warnf("%s (%s)", common.Describe("rm -rf "+shellJoin(rm...), err), common.LeftHint)
		return
	}
	common.Step(common.Parent("rm -rf "+shellJoin(rm...)), why)
}

// write is `echo TEXT > FILE`.
func write(file, text, why string) {
	common.Did(common.Child, "echo "+shellJoin(strings.TrimSuffix(text, "\n"))+" > "+shellJoin(file), why, os.WriteFile(file, []byte(text), 0o644))
}

// cat is `cat FILE`.
func cat(file, why string) {
	b, err := os.ReadFile(file)
	common.Did(common.Child, "cat "+shellJoin(file), why, err)
	fmt.Print(string(b))
}

// lsl is `ls -l DIR` without link count, owner and time (a device: major, minor).
func lsl(who func(...any) string, dir, why string) {
	ents, err := os.ReadDir(dir)
	var out strings.Builder
	for _, e := range ents {
		var st unix.Stat_t
		err = errors.Join(err, unix.Lstat(filepath.Join(dir, e.Name()), &st))
		size := fmt.Sprint(st.Size)
		if st.Mode&unix.S_IFMT == unix.S_IFCHR {
			size = fmt.Sprintf("%d, %d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
		kind := map[uint32]string{unix.S_IFREG: "-", unix.S_IFDIR: "d", unix.S_IFCHR: "c", unix.S_IFLNK: "l"}[st.Mode&unix.S_IFMT]
		fmt.Fprintf(&out, "%s%s %5s %s\n", kind, fs.FileMode(st.Mode & 0o777).String()[1:], size, e.Name())
	}
	common.Did(who, "ls -l "+shellJoin(dir), why, err)
	fmt.Print(out.String())
}
