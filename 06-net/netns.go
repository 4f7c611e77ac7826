// add, list, exec and del: what `ip netns add/list/exec/del` do, done the
// same way, so that iproute2 and this program see each other's namespaces.
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
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// netnsRunDir is iproute2's NETNS_RUN_DIR, /var/run/netns; /var/run is a
// symbolic link to /run on every current distribution.
const netnsRunDir = "/run/netns"

const (
	usageAdd  = "06-net add NAME"
	usageList = "06-net list"
	usageExec = "06-net exec NAME cmd [arg...]"
	usageDel  = "06-net del NAME"
)

// step prints what the next lines do as the shell command that does the
// same, with why in a comment.
func step(cmd, why string) {
	if why == "" {
		fmt.Println(common.Dim("+ ") + cmd)
		return
	}
	fmt.Printf("%s%s  %s\n", common.Dim("+ "), cmd, common.Dim("# "+why))
}

// nameArg checks a namespace name the way iproute2 does: it becomes a file
// name in /run/netns, so no "/", no "." or "..", nothing empty or too long.
func nameArg(usageLine string, args []string) string {
	if len(args) == 0 {
		common.UsageError(usage(usageLine), "missing NAME")
	}
	name := args[0]
	switch {
	case name == "":
		common.UsageError(usage(usageLine), "NAME must not be empty")
	case name == "." || name == "..":
		common.UsageError(usage(usageLine), "%q is not a valid NAME", name)
	case strings.Contains(name, "/"):
		common.UsageError(usage(usageLine), "NAME %q must not contain '/': it is a file name in %s", name, netnsRunDir)
	case len(name) >= 255: // NAME_MAX, as iproute2 checks it
		common.UsageError(usage(usageLine), "NAME is %d bytes long; a file name has at most 254 here", len(name))
	}
	return name
}

// netnsAdd is `ip netns add NAME`.
func netnsAdd(args []string) {
	args = parseFlags(usageAdd, args, -1, nil)
	name := nameArg(usageAdd, args)
	if len(args) > 1 {
		common.UsageError(usage(usageAdd), "unexpected argument %q", args[1])
	}
	common.RequireRoot("creating a network namespace")
	common.RequireNamespaces(unix.CLONE_NEWNET)
	path := filepath.Join(netnsRunDir, name)

	// Checked before anything is done, so that a taken name changes
	// nothing. (O_EXCL below is the real guard against a race.)
	lockRunDir()
	if _, err := os.Lstat(path); err == nil {
		common.Fatalf("%s exists: %s del %s first", name, common.Prog, name)
	}
	makeRunDirShared()

	// The undo step first: if anything below fails, or Ctrl-C comes,
	// remove the half-made name. After success it does nothing: the
	// namespace must outlive us, as with ip netns add.
	var made struct {
		sync.Mutex
		file, done bool
	}
	common.AtExit(func() {
		made.Lock()
		defer made.Unlock()
		if made.file && !made.done {
			unix.Unmount(path, unix.MNT_DETACH)
			os.Remove(path)
		}
		if !made.done {
			undoRunDir()
		}
	})

	// The mount point: an empty file, mode 0 as iproute2 makes it.
	made.Lock()
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0)
	made.file = err == nil
	made.Unlock()
	if errors.Is(err, fs.ErrExist) {
		common.Fatalf("%s exists: %s del %s first", name, common.Prog, name)
	} else if err != nil {
		common.ErrExit("creating "+path, err)
	}
	f.Close()
	step("touch "+path, "the mount point")

	// iproute2 calls unshare(CLONE_NEWNET), binds /proc/self/ns/net onto
	// the file and then setns()es back to the namespace it saved. Its
	// process has one thread. Ours has several, and unshare() changes only
	// the calling thread: so we do it on a locked thread of its own and
	// bind *that thread's* namespace; onThread (link.go) then steps the
	// thread back and lets it end.
	made.Lock() // a Ctrl-C now waits for the mount, then undoes it whole
	err = onThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
		}
		// /proc/thread-self is /proc/self/task/<this thread's id>.
		// /proc/self/ns/net would be the main thread's namespace: the host's.
		if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("mount --bind /proc/thread-self/ns/net %s: %w", path, err)
		}
		return nil
	})
	made.done = err == nil
	made.Unlock()
	if err != nil {
		common.ErrExit("creating the namespace", err)
	}
	step("unshare --net  (on one thread, which then exits)", "a new network namespace")
	step("mount --bind /proc/thread-self/ns/net "+path, "now the bind mount holds it")
	fmt.Printf("%s: %s\n", name, common.Child(netID(path)))
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
func makeRunDirShared() {
	if err := os.Mkdir(netnsRunDir, 0o755); err == nil {
		step("mkdir "+netnsRunDir, "")
		noteSetup("mkdir")
	} else if !errors.Is(err, fs.ErrExist) {
		common.ErrExit("mkdir "+netnsRunDir, err)
	}
	// Making a directory that is not a mount point shared fails with
	// EINVAL: then bind it onto itself first, and try again.
	err := unix.Mount("", netnsRunDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) {
		if err := unix.Mount(netnsRunDir, netnsRunDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			common.ErrExit("mount --bind "+netnsRunDir+" "+netnsRunDir, err)
		}
		noteSetup("bind")
		step("mount --bind "+netnsRunDir+" "+netnsRunDir, "a mount point of its own, so that it can be shared")
		err = unix.Mount("", netnsRunDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			step("mount --make-shared "+netnsRunDir, "unmounting a name also unmounts it in other mount namespaces")
		}
	}
	if err != nil {
		common.ErrExit("mount --make-shared "+netnsRunDir, err)
	}
}

// setupNote lists what makeRunDirShared did ("mkdir", "bind"), one a line;
// not inside /run/netns, where every file is a name.
const setupNote = "/run/nslab-netns-setup"

// lockRunDir serialises our adds and dels on this machine (flock on /run,
// which leaves no file behind), so that a del undoing /run/netns never
// meets an add that is setting it up. The lock goes with the process.
func lockRunDir() {
	fd, err := unix.Open(filepath.Dir(netnsRunDir), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		err = unix.Flock(fd, unix.LOCK_EX)
	}
	if err != nil {
		common.ErrExit("flock "+filepath.Dir(netnsRunDir), err)
	}
}

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
// to undo: what iproute2 (or anything else) set up stays.
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
			common.ErrExit("umount "+netnsRunDir, err)
		}
		step("umount "+netnsRunDir, "the last name is gone: undo what the first add set up")
	}
	if slices.Contains(did, "mkdir") {
		if err := os.Remove(netnsRunDir); err != nil {
			common.ErrExit("rmdir "+netnsRunDir, err)
		}
		step("rmdir "+netnsRunDir, "")
	}
	os.Remove(setupNote)
}

// netnsList is `ip netns list`: the names are the files in /run/netns. It
// also shows which namespace each holds; a file that is not (or no
// longer) a bind mount holds none. Reading needs no root.
func netnsList(args []string) {
	parseFlags(usageList, args, 0, nil)
	entries, err := os.ReadDir(netnsRunDir)
	if errors.Is(err, fs.ErrNotExist) {
		return // no namespace was ever named here: nothing to list
	} else if err != nil {
		common.ErrExit("reading "+netnsRunDir, err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(netnsRunDir, name)
		var sfs unix.Statfs_t
		if err := unix.Statfs(path, &sfs); err != nil || sfs.Type != unix.NSFS_MAGIC {
			fmt.Printf("%-20s %s\n", name, common.Dim("(no namespace mounted here)"))
			continue
		}
		fmt.Printf("%-20s %s\n", name, netID(path))
	}
}

// netnsDel is `ip netns del NAME`: unmount the name and remove the file.
// The namespace itself goes only when nothing else holds it; a process
// still inside (say, a shell from `ip netns exec`) keeps it, nameless.
func netnsDel(args []string) {
	args = parseFlags(usageDel, args, -1, nil)
	name := nameArg(usageDel, args)
	if len(args) > 1 {
		common.UsageError(usage(usageDel), "unexpected argument %q", args[1])
	}
	common.RequireRoot("deleting a network namespace")
	lockRunDir()
	path := filepath.Join(netnsRunDir, name)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		common.Fatalf("%s: no such network namespace in %s (%s list shows them)", name, netnsRunDir, common.Prog)
	}
	// MNT_DETACH (umount -l), as iproute2: never EBUSY, the name goes now.
	// EINVAL means "not a mount point": a file left without its namespace,
	// which del removes all the same.
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		common.ErrExit("umount -l "+path, err)
	}
	step("umount -l "+path, "the bind mount was holding the namespace")
	if err := os.Remove(path); err != nil {
		common.ErrExit("removing "+path, err)
	}
	step("rm "+path, "")
	undoRunDir()
}

// netnsExec is `ip netns exec NAME cmd...`: join the namespace, give the
// command a /sys that describes it, and execve() the command, which
// replaces this program (no child, so its exit status and signals are the
// command's own).
func netnsExec(args []string) {
	args = parseFlags(usageExec, args, -1, nil)
	name := nameArg(usageExec, args)
	if len(args) < 2 {
		common.UsageError(usage(usageExec), "missing the command to run in %s", name)
	}
	argv := args[1:]
	common.RequireRoot("entering a network namespace")
	path := filepath.Join(netnsRunDir, name)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		common.Fatalf("%s: no such network namespace in %s (%s list shows them)", name, netnsRunDir, common.Prog)
	} else if err != nil {
		common.ErrExit("open "+path, err)
	}

	// Namespaces belong to threads; execve() turns the calling thread into
	// the whole new process. So: pin this goroutine to its thread, change
	// that thread, and execve() from it. Other threads keep the host's
	// namespaces until execve() ends them. We never unlock: the thread is
	// replaced or the program exits.
	runtime.LockOSThread()
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		if errors.Is(err, unix.EINVAL) {
			common.Fatalf("%s: %s holds no network namespace (a file left without its bind mount): %s del %s",
				name, path, common.Prog, name)
		}
		common.ErrExit("setns "+path, err)
	}
	unix.Close(fd)

	// /sys/class/net lists the interfaces of the namespace that *mounted*
	// sysfs: the host's. Like iproute2, mount a fresh sysfs in a mount
	// namespace of the command's own. unshare(CLONE_NEWNS) works on one
	// thread of a multi-threaded process (it gives the thread its own
	// copy of the filesystem context); setns() into an existing mount
	// namespace would not (EINVAL): see the README.
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		common.ErrExit("unshare(CLONE_NEWNS)", err)
	}
	// Slave, not private: mounts made on the host still come in, none of
	// ours go out.
	if err := unix.Mount("", "/", "none", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		common.ErrExit("mount --make-rslave /", err)
	}
	remountSys(name)
	bindEtc(name)

	bin, err := exec.LookPath(argv[0])
	if err != nil {
		common.ErrExit("exec "+argv[0], err)
	}
	err = unix.Exec(bin, argv, os.Environ())
	common.ErrExit("exec "+bin, err)
}

// remountSys replaces /sys, in the command's mount namespace only, by a
// sysfs mounted from inside the network namespace, read-only if the old
// one was.
func remountSys(name string) {
	var flags uintptr
	var sfs unix.Statfs_t
	if unix.Statfs("/sys", &sfs) == nil && sfs.Flags&unix.ST_RDONLY != 0 {
		flags = unix.MS_RDONLY
	}
	if err := unix.Unmount("/sys", unix.MNT_DETACH); err != nil {
		// No sysfs there at all is fine; one we cannot unmount is not.
		if unix.Statfs("/sys", &sfs) == nil && sfs.Type == unix.SYSFS_MAGIC {
			common.ErrExit("umount -l /sys", err)
		}
	}
	if err := unix.Mount(name, "/sys", "sysfs", flags, ""); err != nil {
		common.ErrExit("mount -t sysfs "+name+" /sys", err)
	}
}

// bindEtc is iproute2's per-namespace configuration: each file in
// /etc/netns/NAME/ (resolv.conf, hosts, ...) is bound over its namesake in
// /etc, for the command only. Most systems have no /etc/netns.
func bindEtc(name string) {
	dir := filepath.Join("/etc/netns", name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		src, dst := filepath.Join(dir, e.Name()), filepath.Join("/etc", e.Name())
		if err := unix.Mount(src, dst, "none", unix.MS_BIND, ""); err != nil {
			common.Warnf("bind %s -> %s: %v", src, dst, err)
		}
	}
}
