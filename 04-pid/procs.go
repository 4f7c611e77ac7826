package main

// Reading the process table from /proc, as ps(1) does. Which processes a
// proc filesystem shows, and under which numbers, is fixed when it is
// mounted: it belongs to the PID namespace of the process that mounted it.
// That is why childFunc mounts a fresh one: the host's /proc would list the
// host's processes under the host's numbers.

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// procInfo is one line of our `ps -el`.
type procInfo struct {
	PID, PPID int
	State     byte   // R, S, Z, ...
	Flags     uint64 // task flags (stat field 9)
	UID       int
	TIDs      []int // its threads, by the IDs this /proc gives them
	Cmd       string
}

// readProc reads /proc/PID/{stat,status,task,cmdline}.
func readProc(pid int) (procInfo, error) {
	p := procInfo{PID: pid}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	// "pid (comm) S ppid pgrp session tty tpgid flags ...": comm may hold
	// spaces and parentheses, so split after the last ')'.
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return p, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	comm := s[open+1 : closing]
	f := strings.Fields(s[closing+1:])
	if len(f) < 7 {
		return p, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	p.State = f[0][0]
	p.PPID, _ = strconv.Atoi(f[1])
	p.Flags, _ = strconv.ParseUint(f[6], 10, 64)
	if uid := strings.Fields(statusField(pid, "Uid")); len(uid) > 0 {
		p.UID, _ = strconv.Atoi(uid[0])
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid)); err == nil {
		for _, e := range ents {
			if tid, err := strconv.Atoi(e.Name()); err == nil {
				p.TIDs = append(p.TIDs, tid)
			}
		}
		slices.Sort(p.TIDs)
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	p.Cmd = strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	if p.Cmd == "" { // a zombie has no memory left, so no command line
		p.Cmd = "[" + comm + "]"
	}
	if p.State == 'Z' {
		p.Cmd += " <defunct>"
	}
	return p, nil
}

// listProcs returns every process in /proc, by PID.
func listProcs() []procInfo {
	var procs []procInfo
	for _, pid := range allPids() {
		if p, err := readProc(pid); err == nil { // it may just have gone
			procs = append(procs, p)
		}
	}
	return procs
}

// allPids lists the numeric entries of /proc, in order.
func allPids() []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		common.ErrExit("reading /proc", err)
	}
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// printPS prints procs like `ps -el`, with the columns that matter here.
// F is what ps shows: 1 = forked but did not exec, 4 = used superuser
// privileges. TIDS is not in ps -el (ps -eL shows threads): it is there
// because every thread takes a number from the same counter as PIDs.
func printPS(w io.Writer, procs []procInfo) {
	fmt.Fprintln(w, "F S   UID   PID  PPID TIDS     CMD")
	for _, p := range procs {
		cmd := p.Cmd
		if len(cmd) > 48 {
			cmd = cmd[:45] + "..."
		}
		fmt.Fprintf(w, "%x %c %5d %5d %5d %-8s %s\n",
			(p.Flags>>6)&5, p.State, p.UID, p.PID, p.PPID, ranges(p.TIDs), cmd)
	}
}

// ranges writes 1 2 3 4 7 as "1-4,7".
func ranges(ids []int) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(ids[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ids[i], ids[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// statusField returns one field of /proc/PID/status (pid 0: self), such
// as "NSpid" or "SigCgt", or "" if there is none.
func statusField(pid int, key string) string {
	path := fmt.Sprintf("/proc/%d/status", pid)
	if pid == 0 {
		path = "/proc/self/status"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}

// alive says how pid is doing: "running (state S)", "a zombie" or "gone".
func alive(pid int) (string, bool) {
	p, err := readProc(pid)
	switch {
	case err != nil:
		return "gone", false
	case p.State == 'Z':
		return "a zombie", false
	}
	return fmt.Sprintf("running (state %c)", p.State), true
}

// catches reports whether pid has a handler for sig: bit sig-1 of the
// SigCgt mask in /proc/PID/status. The kernel decides with the same bit
// whether a signal may reach the init of a PID namespace.
func catches(pid int, sig unix.Signal) (mask string, caught bool) {
	mask = statusField(pid, "SigCgt")
	bits, err := strconv.ParseUint(mask, 16, 64)
	return mask, err == nil && bits&(1<<(uint(sig)-1)) != 0
}

// pending says which signals wait to be delivered to pid: SigPnd (for the
// thread) and ShdPnd (for the process) in /proc/PID/status. A signal the
// kernel dropped is not there; one that is merely blocked would be.
func pending(pid int) string {
	var bits uint64
	for _, key := range []string{"SigPnd", "ShdPnd"} {
		v, _ := strconv.ParseUint(statusField(pid, key), 16, 64)
		bits |= v
	}
	if bits == 0 {
		return "nothing pending"
	}
	return fmt.Sprintf("pending: %016x", bits)
}

// procsInNS lists, by host PID, the live (not zombie) processes whose PID
// namespace has inode ino.
// childrenOf lists the processes whose parent is ppid, as /proc shows them.
func childrenOf(ppid int) []int {
	var pids []int
	for _, p := range listProcs() {
		if p.PPID == ppid {
			pids = append(pids, p.PID)
		}
	}
	return pids
}
