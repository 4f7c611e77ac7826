package common

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Alive reports whether a process with this PID exists and is not a zombie,
// as /proc/PID/stat shows it.
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// ProcsInNS lists the live processes, by PID in our /proc, whose namespace
// of this type (name under /proc/PID/ns) has this inode.
//
// Inode numbers of namespaces are reused as soon as a namespace is freed:
// keep the namespace open (a descriptor on /proc/PID/ns/NAME) for as long
// as you look for its processes, or you may find a newer namespace's.
func ProcsInNS(name string, ino uint64) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(fmt.Sprintf("/proc/%d/ns/%s", pid, name), &st) == nil && st.Ino == ino && Alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
