// Command 07-user is the seed's user namespace session in Go:
//
//	$ unshare --user /bin/sh       # a shell in a new user namespace
//	$ whoami; id                   # nobody: no uid is mapped yet
//	$ ls -al /proc/$$/ns; lsns -p $$
//	# echo '0 100000 1' > /proc/PID/uid_map    (nslab's: see below)
//
// The first three lines are the Korean blog's `unshare --user` session. The
// fourth is nslab's: the Chinese blog says only that the maps are set
// "通過/proc/pid/uid_map和/proc/pid/gid_map" and shows no command; the
// host uid 100000 is nslab's choice (-map-to). The child plays the shell,
// the parent plays the host's shell that writes the maps. The C counterpart
// is c/unshare_user.c. After the seed, the child becomes root of its
// namespace and finds out what that root may not do (rootinside.go), and
// the same runs again with Go's own way to write the maps (shortcut.go).
//
//	go run ./07-user [-map-to HOST-UID] [-hold D]           # as root
//	runuser -u nobody -- ./bin/07-user                       # as anyone
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

func init() {
	// Keep main on the process's main thread: setgroups (in the parent) and
	// unshare (in the child, rootinside.go) change the calling thread only,
	// and /proc/PID shows the main thread. Locked in init, for good.
	runtime.LockOSThread()

	// The child's half: main re-executes this binary as "childFunc" (see
	// common/reexec.go for why Go cannot clone(childFunc) as C does).
	common.Register("childFunc", childFunc)
}

// childFunc is the seed's /bin/sh, in the new user namespace. args: "hand"
// (the parent writes the maps while we wait) or "shortcut" (Go wrote them
// before our exec, shortcut.go), and how long to stay after the demo.
func childFunc(args []string) int {
	if len(args) != 2 {
		common.Fatalf("childFunc: want MODE HOLD, got %q", args)
	}
	hold, err := time.ParseDuration(args[1])
	if err != nil {
		common.Fatalf("childFunc: %v", err)
	}
	parent := unix.Getppid() // alive: StartChild's Pdeathsig checked it
	// Ctrl-C reaches us too; the parent kills and reaps us in order.
	signal.Ignore(os.Interrupt)

	// $ whoami
	// $ id
	// No map yet: getuid() has no number for our host uid and returns the
	// overflow uid, 65534 (/proc/sys/kernel/overflowuid): nobody.
	fmt.Printf("%s: whoami: %s\n", common.Child("child"), whoami())
	fmt.Printf("%s: id: %s\n", common.Child("child"), id())

	if args[0] == "hand" {
		// The seed's shell waits at its prompt while the host writes the
		// maps; we wait on a pipe for the parent's byte.
		common.TellParent()
		if !common.WaitForParent() {
			return 1 // the parent is gone
		}
		// $ id
		// The maps changed no one's credentials, they gave numbers a
		// meaning. A user mapping its own uid is uid 0 now; root's child
		// (host uid 0, and the map covers only 100000) is still nobody.
		fmt.Printf("%s: id after the maps: %s\n", common.Child("child"), id())
	}

	// Not in the seed: become root of the namespace and try the host.
	rootInside(parent)

	// Stay alive while the parent reads our /proc/PID/status, even with
	// -hold 0: wait until it closes its end. Then hold, for `nsenter -U`.
	common.TellParent()
	common.WaitParentClose()
	time.Sleep(hold)
	return 0
}

func main() {
	common.Dispatch()
	o := parseOptions() // options.go: -map-to, -hold; who maps to whom
	common.RequireNamespaces(unix.CLONE_NEWUSER)
	fmt.Printf("%s: uid=%d gid=%d; uid 0 inside will be host uid %d, gid 0 host gid %d\n",
		common.Parent("parent"), o.uid, o.gid, o.mapUID, o.mapGID)
	dropRootGroups() // not in the seed: rootinside.go

	// $ unshare --user /bin/sh
	// nslab's C (c/unshare_user.c; the seed has only the shell):
	//   clone(childFunc, stack + STACK_SIZE, CLONE_NEWUSER | SIGCHLD, NULL);
	// Go: start this same binary as "childFunc", cloned with CLONE_NEWUSER.
	child, hs := startChildFunc("hand", o, &unix.SysProcAttr{
		Cloneflags: unix.CLONE_NEWUSER,
		// unshare's sh and our child both execve before any map exists,
		// and execve recomputes capabilities: an unmapped uid is not root
		// in the namespace, so they would start with none (as the seed's
		// sh does) and could never setresuid(0) (rootinside.go). The C
		// child keeps what clone gave it: it does not exec. Go's forkExec
		// raises them all into the ambient set between clone and exec, and
		// ambient capabilities survive execve.
		AmbientCaps: allCaps(),
	})
	pid := child.Pid()
	hs.MustBeReady(child, "the child") // after its first lines

	// $ ls -al /proc/$$/ns
	// $ lsns -p $$
	// Asked from the host for both: only the user row differs.
	fmt.Println()
	common.PrintNSTable(os.Stdout,
		common.NSColumn{Label: "parent", PID: os.Getpid()},
		common.NSColumn{Label: "child", PID: pid})
	fmt.Println()

	// Not in the seeds: since Linux 3.19 (the Chinese blog ran 3.13) an
	// unprivileged process may write gid_map only once setgroups(2) is
	// denied in the namespace, else the child could drop a group that a
	// file's permissions deny and get in. Root may skip it; we don't.
	// nslab's: echo deny > /proc/PID/setgroups
	writeProc(pid, "setgroups", "deny")
	// nslab's: echo '0 100000 1' > /proc/PID/gid_map
	writeProc(pid, "gid_map", fmt.Sprintf("0 %d 1", o.mapGID))
	// nslab's: echo '0 100000 1' > /proc/PID/uid_map
	// "0 HOST 1": uid 0 inside is HOST outside, a range of 1. Each map is
	// written once, in one write(2).
	writeProc(pid, "uid_map", fmt.Sprintf("0 %d 1", o.mapUID))
	if _, err := hs.Release.Write([]byte{1}); err != nil { // go on, child
		common.ErrExit("write to child", err)
	}

	hostView(child, hs) // not in the seed: rootinside.go
	waitChild(child)
	goShortcut(o) // not in the seed: shortcut.go, the maps written by Go
	common.Exit(0)
}

// startChildFunc starts childFunc in mode ("hand" or "shortcut") with attr
// and says its PID, as the C does after clone().
func startChildFunc(mode string, o options, attr *unix.SysProcAttr) (*common.ChildProc, *common.Handshake) {
	cmd := common.Command("childFunc", mode, o.hold.String())
	hs := common.NewHandshake(cmd) // fd 3 and fd 4 in the child
	cmd.SysProcAttr = attr
	child, err := common.StartChild(cmd)
	if err != nil {
		userNSRefused(err) // disabled.go: which sysctl forbids it
	}
	hs.Started()
	fmt.Printf("PID of child created by clone() is %d\n", child.Pid())
	return child, hs
}

// waitChild waits for the child to end, as the seed's `exit` ends its sh.
func waitChild(child *common.ChildProc) {
	child.Wait() // C: waitpid(pid, NULL, 0)
	fmt.Println("child has terminated")
	// A child killed by a signal is how a -hold is ended early: no failure.
	// One that exited with an error has said why on stderr.
	if code := child.Cmd.ProcessState.ExitCode(); code > 0 {
		common.Exit(code)
	}
}

// writeProc is the host shell's `echo TEXT > /proc/PID/FILE`, in one
// write(2) as the kernel wants, and says so.
func writeProc(pid int, file, text string) {
	path := fmt.Sprintf("/proc/%d/%s", pid, file)
	if err := os.WriteFile(path, []byte(text), 0); err != nil {
		common.ErrExit("write "+path, err,
			"an unprivileged process may map only its own uid and gid, once each, and gid_map only after setgroups=deny")
	}
	fmt.Printf("%s: wrote %q to %s\n", common.Parent("parent"), text, path)
}
