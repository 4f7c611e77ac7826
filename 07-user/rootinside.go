package main

// Root inside is not root outside: the child makes itself uid 0 of its
// namespace, with every capability there, and still may not change the
// host's hostname nor read /etc/shadow; the parent shows its host uid.

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"nslab/common"
)

const childHostname = "nslab-07"

// dropRootGroups: root's supplementary groups (gid 0, maybe shadow) would
// go with the child, and with setgroups denied it could never drop them.
// x/sys's Setgroups acts on this thread only: the main thread, which forks
// the children (see init).
func dropRootGroups() {
	if unix.Geteuid() != 0 {
		return
	}
	if err := unix.Setgroups(nil); err != nil {
		common.ErrExit("setgroups", err)
	}
}

// rootInside runs in the child after the seed's steps.
func rootInside(parent int) {
	becomeRoot(parent)
	fmt.Printf("%s: id after setresgid(0,0,0) + setresuid(0,0,0): %s\n", common.Child("child"), id())
	printCaps()
	tryHost()
	tryOwnUTS()
}

// becomeRoot makes us uid and gid 0 of the namespace, as container runtimes
// do. It needs CAP_SETUID and CAP_SETGID here; see AmbientCaps in main.
func becomeRoot(parent int) {
	// x/sys's Setresgid/Setresuid are package syscall's, which change every
	// thread of the process (C changes its only one).
	if err := unix.Setresgid(0, 0, 0); err != nil {
		common.ErrExit("setresgid(0, 0, 0)", err, setidHint())
	}
	if err := unix.Setresuid(0, 0, 0); err != nil {
		common.ErrExit("setresuid(0, 0, 0)", err, setidHint())
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

// result is "ok" or the errno's name, as strerrorname_np prints it.
func result(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	if err != nil {
		return err.Error()
	}
	return "ok"
}

// hostView, in the parent: once the child has tried everything, show it as
// the host's kernel sees it (uid 100000, not 0), then let it go on.
func hostView(child *common.ChildProc, hs *common.Handshake) {
	if hs.WaitReady() {
		for _, key := range []string{"Uid", "Gid"} {
			v, err := common.StatusField(child.Pid(), key)
			if err != nil {
				common.ErrExit("reading the child's status", err)
			}
			fmt.Printf("%s: the host's view, /proc/%d/status: %s: %s\n", common.Parent("parent"), child.Pid(), key, v)
		}
	}
	hs.Ready.Close()
	hs.Release.Close() // the child may now start its -hold, then exit
}
