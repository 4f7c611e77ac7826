// netns.go adds what `ip netns` does around the session's commands: del,
// the checks and set-up of /run/netns, ip netns exec's own /sys, and the
// helpers that print interfaces and namespace ids.
//
// A network namespace has no name in the kernel. It exists as long as
// something holds a reference to it: a process (or just one thread) in it,
// an open file descriptor of /proc/PID/ns/net, a socket created in it, or a
// bind mount of that file. `ip netns add NAME` makes a namespace and binds
// it onto an empty file /run/netns/NAME; the bind mount keeps it alive with
// no process in it, and the file's path is its "name".

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// netnsRunDir is iproute2's NETNS_RUN_DIR, /var/run/netns; /var/run is a
// symbolic link to /run on every current distribution.
const netnsRunDir = "/run/netns"

// ipA is `ip a` cut down to each interface's index, name and IFF_UP flag,
// in the caller's network namespace. net.Interfaces asks the kernel over a
// netlink socket, which belongs to the namespace of the thread that made
// it: here, the whole process's.
func ipA(color func(...any) string) {
	ifs, err := net.Interfaces()
	if err != nil {
		common.ErrExit("ip a (netlink)", err)
	}
	for _, ifc := range ifs {
		fmt.Println(color(fmt.Sprintf("%3d: %-15s %s", ifc.Index, ifc.Name, upDown(ifc.Flags))))
	}
}

// upDown is the state ip a shows of an interface: UP with IFF_UP set.
func upDown(flags net.Flags) string {
	if flags&net.FlagUp != 0 {
		return "UP"
	}
	return "DOWN"
}

// netID names the network namespace behind path (/proc/PID/ns/net, an fd
// in /proc/PID/fd, a file in /run/netns) the way readlink shows it.
func netID(path string) string {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "net:[?]"
	}
	return fmt.Sprintf("net:[%d]", st.Ino)
}

// heldNetns is the namespace a name holds, or says that it holds none: a
// file that is not (or no longer) an nsfs bind mount.
func heldNetns(path string) string {
	var sfs unix.Statfs_t
	if err := unix.Statfs(path, &sfs); err != nil || sfs.Type != unix.NSFS_MAGIC {
		return common.Dim("(no namespace mounted here)")
	}
	return netID(path)
}

// makeRunDirShared does what iproute2 does before its first bind mount:
// /run/netns becomes a mount point of its own (bound onto itself) with
// shared propagation. `ip netns exec` gives each command a new mount
// namespace, which starts with copies of every mount, /run/netns/NAME
// included. Were /run/netns private, such a copy would hold the namespace
// alive after `ip netns del` (and the name would still "exist" in there).
// Shared, the del's unmount propagates into the copies too.
//
// iproute2 leaves that set-up for good. We write down what we set up in
// setupNote, and the del of the last name undoes it (undoRunDir): a host
// that had no /run/netns before 06-net add has none after 06-net del.
//
// It runs under u's lock: a Ctrl-C meanwhile waits until what is done is
// noted, and the undo then undoes exactly that (the soak once caught the
// undo reading the note between the bind mount and its line). So it does
// not exit: it returns the last step it took and that step's error, for
// the caller to exit with if there is one, the lock released.
func makeRunDirShared(u *addUndo) (string, error) {
	u.Lock()
	defer u.Unlock()
	if err := os.Mkdir(netnsRunDir, 0o755); err == nil {
		common.Step("mkdir "+netnsRunDir, "")
		noteSetup("mkdir")
	} else if !errors.Is(err, fs.ErrExist) {
		return "mkdir " + netnsRunDir, err
	}
	// Making a directory that is not a mount point shared fails with
	// EINVAL: then bind it onto itself first, and try again.
	err := unix.Mount("", netnsRunDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) {
		if err := unix.Mount(netnsRunDir, netnsRunDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return "mount --bind " + netnsRunDir + " " + netnsRunDir, err
		}
		noteSetup("bind")
		common.Step("mount --bind "+netnsRunDir+" "+netnsRunDir, "a mount point of its own, so that it can be shared")
		if err = unix.Mount("", netnsRunDir, "none", unix.MS_SHARED|unix.MS_REC, ""); err == nil {
			common.Step("mount --make-shared "+netnsRunDir, "unmounting a name also unmounts it in other mount namespaces")
		}
	}
	return "mount --make-shared " + netnsRunDir, err
}

// setupNote lists what makeRunDirShared did ("mkdir", "bind"), one a line;
// not inside /run/netns, where every file is a name.
const setupNote = "/run/nslab-netns-setup"

func noteSetup(what string) {
	f, err := os.OpenFile(setupNote, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		common.Warnf("cannot note %s in %s: %v (del will leave /run/netns as it is)", what, setupNote, err)
		return
	}
	fmt.Fprintln(f, what)
	f.Close()
}

// undoRunDir undoes makeRunDirShared once no name is left, if it was ours
// to undo: what iproute2 (or anything else) set up stays. add's undo step
// calls it too, so it never exits: a failure is a warning, and the rest
// is left as it is.
func undoRunDir() {
	b, err := os.ReadFile(setupNote)
	if err != nil {
		return // not set up by us
	}
	if names, err := os.ReadDir(netnsRunDir); err != nil || len(names) > 0 {
		return // names left: /run/netns is still in use
	}
	did := strings.Fields(string(b))
	if slices.Contains(did, "bind") {
		if err := unix.Unmount(netnsRunDir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			common.Warnf("%s", common.Describe("umount "+netnsRunDir, err, common.LeftHint))
			return
		}
		common.Step("umount "+netnsRunDir, "the last name is gone: undo what the first add set up")
	}
	if slices.Contains(did, "mkdir") {
		if err := os.Remove(netnsRunDir); err != nil {
			common.Warnf("%s", common.Describe("rmdir "+netnsRunDir, err, common.LeftHint))
			return
		}
		common.Step("rmdir "+netnsRunDir, "")
	}
	os.Remove(setupNote)
}

// addUndo is add's undo step: what it has made of the name so far. The
// mutex lets the undo (run from common's signal goroutine on Ctrl-C) and
// add agree on it.
type addUndo struct {
	sync.Mutex
	made, done bool // the file exists; the name is whole
}

// undoHalfAdd registers add's undo step for the name at path. Like every
// undo step it never exits: a failure is a warning.
func undoHalfAdd(path string) *addUndo {
	u := &addUndo{}
	common.AtExit(func() {
		u.Lock()
		defer u.Unlock()
		if u.done {
			return
		}
		if u.made {
			if err := unmountName(path); err != nil {
				common.Warnf("%v (%s)", err, common.LeftHint)
			}
		}
		undoRunDir()
	})
	return u
}

// unmountName is `ip netns del`'s work, for del and for add's undo step:
// umount -l the name and remove the file. It never exits.
func unmountName(path string) error {
	// MNT_DETACH (umount -l), as iproute2: never EBUSY, the name goes now.
	// EINVAL means "not a mount point": a file left without its namespace,
	// which is removed all the same.
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("umount -l %s: %w", path, err)
	}
	common.Step("umount -l "+path, "the bind mount was holding the namespace")
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rm %s: %w", path, err)
	}
	common.Step("rm "+path, "")
	return nil
}

// netnsDel is `ip netns del NAME`. The namespace itself goes only when
// nothing else holds it; a process still inside (say, a shell from
// `ip netns exec`) keeps it, nameless.
//
// Once begun, del runs to its end: umount, rm, then the undo of
// /run/netns's set-up if the name was the last. Killed by a Ctrl-C after
// the rm, it would leave /run/netns mounted with no name left to del (the
// soak caught the tour's Ctrl-C there), so the signal waits for the end
// (common.HoldSignals) and then exits 130.
func netnsDel(args []string) {
	name, path, _ := nameArg(common.Prog+" del NAME", args, 1)
	common.RequireRoot("deleting a network namespace")
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		common.Fatalf("%s: no such network namespace in %s (%s list shows them)", name, netnsRunDir, common.Prog)
	}
	var err error
	common.HoldSignals(func() {
		if err = unmountName(path); err == nil {
			common.PausePoint("del: name gone") // a test's Ctrl-C comes here (testhooks.go)
			undoRunDir()
		}
	})
	if err != nil {
		common.ErrExit("ip netns del "+name, err)
	}
}

// enterNetns joins the calling thread to the namespace held by path.
func enterNetns(name, path string) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		common.Fatalf("%s: no such network namespace in %s (%s list shows them)", name, netnsRunDir, common.Prog)
	} else if err != nil {
		common.ErrExit("open "+path, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); errors.Is(err, unix.EINVAL) {
		common.Fatalf("%s: %s holds no network namespace (a file left without its bind mount): %s del %s",
			name, path, common.Prog, name)
	} else if err != nil {
		common.ErrExit("setns "+path, err)
	}
}

// ownSys is what `ip netns exec` adds to nsenter. /sys/class/net lists
// the interfaces of the namespace that *mounted* sysfs: the host's. So, in
// a mount namespace of the command's own, mount a fresh sysfs on /sys, and
// bind each file of /etc/netns/NAME/ (resolv.conf, hosts, ...) over its
// namesake in /etc. unshare(CLONE_NEWNS) works on one thread of a
// multi-threaded process (it gives the thread its own copy of the
// filesystem context); setns() into an existing mount namespace would not
// (EINVAL): see thread.go.
func ownSys(name string) {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		common.ErrExit("unshare(CLONE_NEWNS)", err)
	}
	// Slave, not private: mounts made on the host still come in, none of
	// ours go out.
	if err := unix.Mount("", "/", "none", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		common.ErrExit("mount --make-rslave /", err)
	}
	// Read-only if the old /sys was. No sysfs there at all is fine; one we
	// cannot unmount is not.
	var flags uintptr
	var sfs unix.Statfs_t
	if unix.Statfs("/sys", &sfs) == nil && sfs.Flags&unix.ST_RDONLY != 0 {
		flags = unix.MS_RDONLY
	}
	if err := unix.Unmount("/sys", unix.MNT_DETACH); err != nil && unix.Statfs("/sys", &sfs) == nil && sfs.Type == unix.SYSFS_MAGIC {
		common.ErrExit("umount -l /sys", err)
	}
	if err := unix.Mount(name, "/sys", "sysfs", flags, ""); err != nil {
		common.ErrExit("mount -t sysfs "+name+" /sys", err)
	}
	// Most systems have no /etc/netns.
	dir := filepath.Join("/etc/netns", name)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		src, dst := filepath.Join(dir, e.Name()), filepath.Join("/etc", e.Name())
		if err := unix.Mount(src, dst, "none", unix.MS_BIND, ""); err != nil {
			common.Warnf("bind %s -> %s: %v", src, dst, err)
		}
	}
}
