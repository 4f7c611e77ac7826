// Command 07-user shows a user namespace: a child starts in a new one as
// "nobody" (no uid is mapped yet), the parent writes its setgroups, gid_map
// and uid_map, and the child is then uid 0 with every capability — inside.
// It still cannot change the host's hostname or read /etc/shadow: root in a
// user namespace is not root on the host. The same runs a second time with
// SysProcAttr.UidMappings, where Go's forkExec writes the maps itself.
//
// The C counterpart is c/userns_child.c, the classic parent-writes-maps
// program; the first half of this file's output is its output.
//
//	go run ./07-user [-map-to HOST-UID] [-hold D]           # as root
//	runuser -u nobody -- ./bin/07-user                       # as anyone
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

const (
	childHostname = "nslab-07"
	// rootMapTo is the host uid (and gid) root maps uid 0 inside to: an
	// unused one, as docker's userns-remap takes from /etc/subuid.
	rootMapTo = 100000
)

// The child and the parent talk over two pipes, which the child finds as
// file descriptors 3 and 4 (cmd.ExtraFiles).
const (
	readyFD   = common.ReadyFD   // child -> parent: one byte after each phase
	releaseFD = common.ReleaseFD // parent -> child: a byte once the maps are written; closed once the parent has looked
)

func init() {
	// Keep main on the process's main thread. Three calls below change the
	// calling thread only, and /proc/PID shows the main thread: setgroups
	// from x/sys (in the parent), unshare(CLONE_NEWUTS) and
	// prctl(PR_SET_PDEATHSIG) (in the child). A LockOSThread in an init
	// function holds main to the main thread for good.
	runtime.LockOSThread()

	// The child's half: main re-executes this binary as "childFunc" (see
	// common/reexec.go for why Go cannot clone(childFunc)).
	common.Register("childFunc", childFunc)
}

// childFunc runs in the new user namespace. args: "hand" (the parent
// writes the maps while we wait) or "shortcut" (Go wrote them before our
// exec), the parent's PID, and how long to stay after the demo.
func childFunc(args []string) int {
	if len(args) != 3 {
		common.Fatalf("childFunc: want MODE PARENT-PID HOLD, got %q", args)
	}
	mode := args[0]
	parent, err := strconv.Atoi(args[1])
	if err != nil {
		common.Fatalf("childFunc: bad parent PID %q", args[1])
	}
	hold, err := time.ParseDuration(args[2])
	if err != nil {
		common.Fatalf("childFunc: %v", err)
	}
	// Ctrl-C reaches us too; the parent kills and reaps us in order.
	signal.Ignore(os.Interrupt)
	ready := os.NewFile(readyFD, "ready")
	release := os.NewFile(releaseFD, "release")

	if mode == "hand" {
		// No map yet: getuid() has no number for our host uid and returns
		// the overflow uid, 65534 (/proc/sys/kernel/overflowuid).
		printIDs("before the maps")
		printCaps()
		tellParent(ready)
		waitParent(release) // one byte: the maps are written
		// The maps changed no one's credentials; they gave numbers a
		// meaning. If they cover our host uid (a user mapping itself), we
		// are uid 0 now; root's child (host uid 0 -> 100000) is not.
		printIDs("after the maps")
	} else {
		printIDs("at start, the maps written before our exec")
		printCaps()
	}

	becomeRoot(parent)
	printIDs("after setresgid(0,0,0) + setresuid(0,0,0)")
	printCaps()
	tryHost()
	tryOwnUTS()

	// Stay alive while the parent reads our /proc/PID/status, even with
	// -hold 0: wait until it closes its end.
	tellParent(ready)
	ready.Close()
	io.Copy(io.Discard, release)
	release.Close()
	time.Sleep(hold)
	return 0
}

func printIDs(when string) {
	fmt.Printf("%s: %s: uid=%d gid=%d\n", common.Child("child"), when, unix.Getuid(), unix.Getgid())
}

func printCaps() {
	line, err := capsLine()
	if err != nil {
		common.ErrExit("reading /proc/self/status", err)
	}
	fmt.Printf("%s: capabilities: %s\n", common.Child("child"), line)
}

// waitParent reads the parent's one-byte "go on"; end-of-file instead
// means the parent is gone.
func waitParent(release *os.File) {
	if n, _ := release.Read(make([]byte, 1)); n != 1 {
		common.Exit(1)
	}
}

func tellParent(ready *os.File) {
	if _, err := ready.Write([]byte{1}); err != nil {
		common.ErrExit("write to parent", err)
	}
}

// becomeRoot makes us uid and gid 0 of the namespace, as container runtimes
// do. It needs CAP_SETUID and CAP_SETGID here; see AmbientCaps in main.
func becomeRoot(parent int) {
	// x/sys's Setresgid/Setresuid are package syscall's, which change every
	// thread of the process (C changes its only one).
	if err := unix.Setresgid(0, 0, 0); err != nil {
		common.ErrExitHint("setresgid(0, 0, 0)", err, setidHint())
	}
	if err := unix.Setresuid(0, 0, 0); err != nil {
		common.ErrExitHint("setresuid(0, 0, 0)", err, setidHint())
	}
	// A change of credentials clears the parent-death signal that
	// StartChild asked for: ask again, and make sure the parent is alive.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		common.ErrExit("prctl(PR_SET_PDEATHSIG)", err)
	}
	if unix.Getppid() != parent {
		common.Exit(1)
	}
}

// tryHost tries two things only the host's root may do.
func tryHost() {
	// The host's UTS namespace belongs to the initial user namespace, where
	// we have no capability at all.
	err := unix.Sethostname([]byte(childHostname))
	fmt.Printf("%s: sethostname(%q) in the host's UTS namespace: %s\n", common.Child("child"), childHostname, result(err))

	// /etc/shadow is root:shadow 0640. Our uid is the host's 100000 (or the
	// user's): neither owner nor group. CAP_DAC_OVERRIDE counts only for
	// files whose owner and group are mapped into our namespace.
	f, err := os.Open("/etc/shadow")
	if err == nil {
		f.Close()
	}
	fmt.Printf("%s: open(%q): %s\n", common.Child("child"), "/etc/shadow", result(err))
}

// tryOwnUTS: a UTS namespace we create belongs to our user namespace, where
// our CAP_SYS_ADMIN counts. (unshare changes the calling thread only: the
// main thread, see init.)
func tryOwnUTS() {
	if err := unix.Unshare(unix.CLONE_NEWUTS); err != nil {
		common.ErrExit("unshare(CLONE_NEWUTS)", err)
	}
	err := unix.Sethostname([]byte(childHostname))
	line := result(err)
	if err == nil {
		host, err := common.Hostname()
		if err != nil {
			common.ErrExit("uname", err)
		}
		line += ", uts.nodename is now " + host
	}
	fmt.Printf("%s: unshare(CLONE_NEWUTS) + sethostname(%q): %s\n", common.Child("child"), childHostname, line)
}

// result is "ok" or the errno's name, as the C prints it.
func result(err error) string {
	var errno unix.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &errno):
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

func usage() string {
	return common.Prog + " [-map-to HOST-UID] [-hold D]"
}

func main() {
	common.Dispatch()

	fs := common.NewFlagSet()
	mapToFlag := fs.String("map-to", "", "host uid (and gid) that uid 0 inside maps to (default 100000 as root; your own uid otherwise, the only one you may map)")
	hold := fs.Duration("hold", 0, "how long each child stays alive after its demo, so that you can look at it (grep Uid /proc/PID/status)")
	common.ParseFlags(fs, usage(), os.Args[1:])
	if *hold < 0 {
		common.UsageError(usage(), "-hold must not be negative, got %v", *hold)
	}

	uid, gid := unix.Geteuid(), unix.Getegid()
	mapUID, mapGID := uid, gid // an unprivileged process may map only its own ids
	if uid == 0 {
		mapUID, mapGID = rootMapTo, rootMapTo
	}
	if *mapToFlag != "" {
		// 4294967295 is (uid_t)-1, "no uid": the kernel refuses it.
		n, err := strconv.ParseUint(*mapToFlag, 10, 32)
		if err != nil || n == 1<<32-1 {
			common.UsageError(usage(), "-map-to wants a host uid from 0 to 4294967294, got %q", *mapToFlag)
		}
		if uid != 0 && int(n) != uid {
			common.UsageError("", "-map-to %d: only root may map uid 0 inside to another host uid than its own (%d); drop -map-to or run as root", n, uid)
		}
		mapUID = int(n)
		if uid == 0 {
			mapGID = int(n)
		}
	}
	common.RequireNamespaces(unix.CLONE_NEWUSER)

	fmt.Printf("%s: uid=%d gid=%d; uid 0 inside will be host uid %d, gid 0 host gid %d\n",
		common.Parent("parent"), uid, gid, mapUID, mapGID)
	if uid == 0 {
		// Root's supplementary groups (gid 0) would go with the child, and
		// with setgroups denied it could never drop them. x/sys's
		// Setgroups acts on this thread only: the one that forks the
		// children (see init).
		if err := unix.Setgroups(nil); err != nil {
			common.ErrExit("setgroups", err)
		}
	}

	byHand(mapUID, mapGID, *hold)
	goShortcut(uid, mapUID, mapGID, *hold)
	common.Exit(0)
}

// byHand is the C program: clone(CLONE_NEWUSER), and the parent writes the
// maps while the child waits on a pipe.
func byHand(mapUID, mapGID int, hold time.Duration) {
	fmt.Println(common.Dim("\n--- 1/2 by hand: clone(CLONE_NEWUSER); the parent writes the maps (as the C does) ---"))
	hs := common.NewHandshake()

	// C: clone(childFunc, stack, CLONE_NEWUSER | SIGCHLD, &args).
	cmd := common.Command("childFunc", "hand", strconv.Itoa(os.Getpid()), hold.String())
	cmd.ExtraFiles = hs.ChildFiles() // fd 3 and fd 4 in the child
	cmd.SysProcAttr = &unix.SysProcAttr{
		Cloneflags: unix.CLONE_NEWUSER,
		// The C child keeps the full set of capabilities that clone gives
		// it in the new namespace. Ours must execve, which recomputes them:
		// with no map yet our uid is not root in the namespace, so it
		// would start with none and could never setresuid(0). Go's
		// forkExec raises them all into the ambient set between clone and
		// exec, and ambient capabilities survive execve.
		AmbientCaps: allCaps(),
	}
	child := start(cmd)
	hs.Started()
	pid := child.Pid()
	fmt.Printf("PID of child created by clone() is %d\n", pid)

	// Reading nothing (end-of-file) means the child died before its lines.
	if !hs.WaitReady() {
		child.Wait()
		common.Fatalf("the child failed before it was ready (%s)", cmd.ProcessState)
	}

	// `lsns -p PID`: only the user namespace is new.
	fmt.Println()
	common.PrintNSTable(os.Stdout,
		common.NSColumn{Label: "parent", PID: os.Getpid()},
		common.NSColumn{Label: "child", PID: pid})
	fmt.Println()

	// setgroups first: an unprivileged process may write gid_map only once
	// setgroups(2) is denied in the namespace (else the child could drop a
	// group that a file's permissions deny). Each map is written once, in
	// one write. "0 HOST 1": uid 0 inside is HOST outside, a range of 1.
	writeProc(pid, "setgroups", "deny")
	writeProc(pid, "gid_map", fmt.Sprintf("0 %d 1", mapGID))
	writeProc(pid, "uid_map", fmt.Sprintf("0 %d 1", mapUID))
	if _, err := hs.Release.Write([]byte{1}); err != nil { // go on, child
		common.ErrExit("write to child", err)
	}

	finish(child, hs.Ready, hs.Release)
}

// idMap is syscall.SysProcIDMap, which x/sys/unix does not re-export: a
// value of this identical unnamed struct type is assignable to it, so
// nslab needs no import of package syscall.
type idMap = struct{ ContainerID, HostID, Size int }

// goShortcut: the same child, but Go writes the maps.
func goShortcut(uid, mapUID, mapGID int, hold time.Duration) {
	fmt.Println(common.Dim("\n--- 2/2 the Go shortcut: SysProcAttr.UidMappings and GidMappings ---"))
	hs := common.NewHandshake()
	cmd := common.Command("childFunc", "shortcut", strconv.Itoa(os.Getpid()), hold.String())
	cmd.ExtraFiles = hs.ChildFiles()
	attr := &unix.SysProcAttr{
		// forkExec does part 1 for us: the child waits on a pipe between
		// clone and exec while the parent writes uid_map, setgroups
		// ("deny", as GidMappingsEnableSetgroups is false) and gid_map.
		Cloneflags:                 unix.CLONE_NEWUSER,
		GidMappingsEnableSetgroups: false,
	}
	attr.UidMappings = append(attr.UidMappings, idMap{ContainerID: 0, HostID: mapUID, Size: 1})
	attr.GidMappings = append(attr.GidMappings, idMap{ContainerID: 0, HostID: mapGID, Size: 1})
	if mapUID != uid {
		// Root mapping 0 to another host uid: the child's own host uid (0)
		// is not in the map, so it would exec as "nobody" with no
		// capabilities and could not setresuid(0). Keep them, as in part 1.
		// (With SysProcAttr.Credential, forkExec would call setresuid
		// itself before exec; its type is package syscall's.)
		attr.AmbientCaps = allCaps()
	}
	cmd.SysProcAttr = attr
	child := start(cmd)
	hs.Started()
	fmt.Printf("PID of child created by clone() is %d\n", child.Pid())
	finish(child, hs.Ready, hs.Release)
}

// start is the clone: it starts the child, or says why it could not.
func start(cmd *exec.Cmd) *common.ChildProc {
	if os.Getenv(simulateEnv) == "1" {
		startFailed(&os.PathError{Op: "fork/exec", Path: cmd.Path, Err: unix.EPERM})
	}
	child, err := common.StartChild(cmd)
	if err != nil {
		startFailed(err)
	}
	return child
}

// writeProc writes one of the child's /proc/PID files, in one write(2) as
// the kernel wants, and says so.
func writeProc(pid int, file, text string) {
	path := fmt.Sprintf("/proc/%d/%s", pid, file)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		_, err = f.Write([]byte(text))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		common.ErrExitHint("write "+path, err,
			"an unprivileged process may map only its own uid and gid, once each, and gid_map only after setgroups=deny")
	}
	fmt.Printf("%s: wrote %q to %s\n", common.Parent("parent"), text, path)
}

// finish waits for the child's demo, shows the child as the host's kernel
// sees it, and waits for the child to end.
func finish(child *common.ChildProc, ready, release *os.File) {
	pid := child.Pid()
	if n, _ := ready.Read(make([]byte, 1)); n == 1 {
		for _, key := range []string{"Uid", "Gid"} {
			v, err := statusField(pid, key)
			if err != nil {
				common.ErrExit("reading the child's status", err)
			}
			fmt.Printf("%s: the host's view, /proc/%d/status: %s: %s\n", common.Parent("parent"), pid, key, v)
		}
	}
	ready.Close()
	release.Close() // the child may now start its -hold, then exit
	child.Wait()    // C: waitpid(child_pid, NULL, 0)
	fmt.Println("child has terminated")
	// A child killed by a signal is how a -hold is ended early: no failure.
	// One that exited with an error has said why on stderr.
	if code := child.Cmd.ProcessState.ExitCode(); code > 0 {
		common.Exit(code)
	}
}
