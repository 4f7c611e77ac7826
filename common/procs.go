package common

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProcStat is what the workshop reads of /proc/PID/stat (proc(5)).
type ProcStat struct {
	PID          int
	Comm         string // without the parentheses
	State        byte   // R, S, D, Z, T, ...
	PPID, PGRP   int
	Utime, Stime uint64 // CPU time in clock ticks (usually 1/100 s)
	Threads      int
}

// ReadStat reads /proc/PID/stat (pid 0: the calling process), the one
// reader of that file in nslab. comm may hold spaces and parentheses, so
// the fields are counted from the last ')'.
func ReadStat(pid int) (ProcStat, error) {
	path := procPath(pid, "stat")
	b, err := os.ReadFile(path)
	if err != nil {
		return ProcStat{}, err
	}
	s := string(b)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	f := strings.Fields(s[close+1:]) // f[0] is field 3 (state)
	if open < 0 || close < open || len(f) < 20 || len(f[0]) != 1 {
		return ProcStat{}, fmt.Errorf("%s: unexpected format", path)
	}
	n := func(field int) uint64 { v, _ := strconv.ParseUint(f[field-3], 10, 64); return v }
	i := func(field int) int { v, _ := strconv.Atoi(f[field-3]); return v }
	p := ProcStat{Comm: s[open+1 : close], State: f[0][0],
		PPID: i(4), PGRP: i(5), Utime: n(14), Stime: n(15), Threads: i(20)}
	p.PID, _ = strconv.Atoi(strings.TrimSpace(s[:open]))
	return p, nil
}

// Alive reports whether a process with this PID exists and is not a zombie,
// as /proc/PID/stat shows it.
func Alive(pid int) bool {
	st, err := ReadStat(pid)
	return err == nil && st.State != 'Z'
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
		if n, err := NSInode(pid, name); err == nil && n == ino && Alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
