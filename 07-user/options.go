package main

// The command line, which the seed's session does not have: which host uid
// root inside maps to, and how long each child stays for a look.

import (
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// rootMapTo is the host uid (and gid) root maps uid 0 inside to: an unused
// one, as docker's userns-remap takes from /etc/subuid.
const rootMapTo = 100000

type options struct {
	uid, gid       int           // ours
	mapUID, mapGID int           // what uid 0 and gid 0 inside map to
	hold           time.Duration // how long each child stays after its demo
}

// parseOptions reads the flags, or exits 2 with one line.
func parseOptions() options {
	usage := common.Prog + " [-map-to HOST-UID] [-hold D]"
	fs := common.NewFlags(usage)
	mapTo := fs.String("map-to", "", "host uid (and gid) that uid 0 inside maps to (default 100000 as root; your own uid otherwise, the only one you may map)")
	hold := fs.Hold(0, "each child, after its demo,")
	fs.Parse(os.Args[1:])

	o := options{uid: unix.Geteuid(), gid: unix.Getegid(), hold: *hold}
	to := uint64(rootMapTo)
	if *mapTo != "" {
		// 4294967295 is (uid_t)-1, "no uid": the kernel refuses it.
		n, err := strconv.ParseUint(*mapTo, 10, 32)
		if err != nil || n == 1<<32-1 {
			common.UsageError(usage, "-map-to wants a host uid from 0 to 4294967294, got %q", *mapTo)
		}
		if o.uid != 0 && int(n) != o.uid {
			common.UsageError("", "-map-to %d: only root may map uid 0 inside to another host uid than its own (%d); drop -map-to or run as root", n, o.uid)
		}
		to = n
	}
	o.mapUID, o.mapGID = o.uid, o.gid // an unprivileged process may map only its own ids
	if o.uid == 0 {
		o.mapUID, o.mapGID = int(to), int(to)
	}
	return o
}
