package common

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProcStat is what the workshop reads of /proc/PID/stat (proc(5)).
//
// Used by 04-pid, 08-cgroup, 09-setns and nstest.
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
//
// Used by 04-pid, 08-cgroup, 09-setns and nstest.
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

// StatusField returns one field of /proc/PID/status (pid 0: the calling
// process), such as "NSpid" or "CapEff", its words separated by one space:
// 04-pid's PIDs and signal masks, 07-user's ids and capabilities.
//
// Used by 04-pid and 07-user.
func StatusField(pid int, key string) (string, error) {
	path := procPath(pid, "status")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.Join(strings.Fields(v), " "), nil
		}
	}
	return "", fmt.Errorf("%s: no %s line", path, key)
}
