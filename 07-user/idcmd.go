package main

// What id(1) and whoami(1) print, for the seed's shell commands of those
// names: ids with their names from the host's /etc/passwd and /etc/group.

import (
	"fmt"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// whoami is what whoami(1) prints: the name of our uid, or the number.
func whoami() string {
	uid := strconv.Itoa(unix.Geteuid())
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return uid
}

// id is what id(1) prints: "uid=65534(nobody) gid=65534(nogroup)
// groups=65534(nogroup)".
func id() string {
	gid := unix.Getgid()
	s := fmt.Sprintf("uid=%s gid=%s groups=%s", uidName(unix.Getuid()), gidName(gid), gidName(gid))
	groups, err := unix.Getgroups()
	if err != nil {
		common.ErrExit("getgroups", err)
	}
	for _, g := range groups {
		if g != gid { // id lists the gid first, and once
			s += "," + gidName(g)
		}
	}
	return s
}

// uidName and gidName are "65534(nobody)", or "100000" when the host has
// no name for it, as id(1) prints them.
func uidName(n int) string {
	if u, err := user.LookupId(strconv.Itoa(n)); err == nil {
		return fmt.Sprintf("%d(%s)", n, u.Username)
	}
	return strconv.Itoa(n)
}

func gidName(n int) string {
	if g, err := user.LookupGroupId(strconv.Itoa(n)); err == nil {
		return fmt.Sprintf("%d(%s)", n, g.Name)
	}
	return strconv.Itoa(n)
}
