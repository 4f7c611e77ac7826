package main

// The Go shortcut the seed could not take: SysProcAttr.UidMappings and
// GidMappings make Go's forkExec write the maps itself, before the exec.

import (
	"fmt"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// idMap is syscall.SysProcIDMap, which x/sys/unix does not re-export: a
// value of this identical unnamed struct type is assignable to it, so
// nslab needs no import of package syscall.
type idMap = struct{ ContainerID, HostID, Size int }

// goShortcut runs the same child, but Go writes the maps.
func goShortcut(o options) {
	fmt.Println(common.Dim("\n--- the Go shortcut: SysProcAttr.UidMappings and GidMappings ---"))
	attr := &unix.SysProcAttr{
		// forkExec does the parent's part for us: the child waits on a
		// pipe between clone and exec while the parent writes uid_map,
		// setgroups ("deny", as GidMappingsEnableSetgroups is false) and
		// gid_map.
		Cloneflags:                 unix.CLONE_NEWUSER,
		GidMappingsEnableSetgroups: false,
	}
	attr.UidMappings = append(attr.UidMappings, idMap{ContainerID: 0, HostID: o.mapUID, Size: 1})
	attr.GidMappings = append(attr.GidMappings, idMap{ContainerID: 0, HostID: o.mapGID, Size: 1})
	if o.mapUID != o.uid {
		// Root mapping 0 to another host uid: the child's own host uid (0)
		// is not in the map, so it would exec as "nobody" with no
		// capabilities and could not setresuid(0). Keep them, as in main.
		// (With SysProcAttr.Credential, forkExec would call setresuid
		// itself before exec; its type is package syscall's.)
		attr.AmbientCaps = allCaps()
	}
	child, hs := startChildFunc("shortcut", o, attr)
	hostView(child, hs)
	waitChild(child)
}
