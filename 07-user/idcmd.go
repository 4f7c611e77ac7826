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

// id is what id(1) prints: "uid=65534(nobody) gid=65534(nogroup)
// groups=65534(nogroup)", names from the host's /etc/passwd and /etc/group.
func id() string {
	uid, gid := unix.Getuid(), unix.Getgid()
	s := fmt.Sprintf("uid=%s gid=%s groups=%s", name(uid, lookupUser), name(gid, lookupGroup), name(gid, lookupGroup))
	groups, err := unix.Getgroups()
	if err != nil {
		common.ErrExit("getgroups", err)
	}
	for _, g := range groups {
		if g != gid { // id lists the gid first, and once
			s += "," + name(g, lookupGroup)
		}
	}
	return s
}

// whoami is what whoami(1) prints: the name of our uid, or the number.
func whoami() string {
	uid := strconv.Itoa(unix.Geteuid())
	if s, err := lookupUser(uid); err == nil {
		return s
	}
	return uid
}

// name is "65534(nobody)", or "100000" when no name is known, as id(1)
// prints it; whoami's is the name alone.
func name(n int, lookup func(string) (string, error)) string {
	s, err := lookup(strconv.Itoa(n))
	if err != nil {
		return strconv.Itoa(n)
	}
	return fmt.Sprintf("%d(%s)", n, s)
}

func lookupUser(n string) (string, error) {
	u, err := user.LookupId(n)
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

func lookupGroup(n string) (string, error) {
	g, err := user.LookupGroupId(n)
	if err != nil {
		return "", err
	}
	return g.Name, nil
}
