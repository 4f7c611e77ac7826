package main

// procs.go adds what the demos read of /proc beyond the seed's ps -el:
// NSpid, signal masks, states and parents, as the kernel reports them.

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// nspidOf is the NSpid line of /proc/PID/status (pid 0: self): the PID in
// each PID namespace, from our /proc's down to the process's own.
func nspidOf(pid int) string {
	v, _ := common.StatusField(pid, "NSpid")
	return v
}

// alive says how pid is doing: "running (state S)", "a zombie" or "gone".
func alive(pid int) string {
	switch st, err := common.ReadStat(pid); {
	case err != nil:
		return "gone"
	case st.State == 'Z':
		return "a zombie"
	default:
		return fmt.Sprintf("running (state %c)", st.State)
	}
}

// childrenOf lists the processes whose parent is ppid, as our /proc shows them.
func childrenOf(ppid int) []int {
	return procsWhere(func(pid int) bool {
		st, err := common.ReadStat(pid)
		return err == nil && st.PPID == ppid
	})
}

// procsInNS lists the live processes, by PID in our /proc, whose PID
// namespace has this inode. Inode numbers of namespaces are reused as soon
// as a namespace is freed: keep it open (a descriptor on /proc/PID/ns/pid)
// for as long as you look for its processes, or you may find a newer one's.
func procsInNS(ino uint64) []int {
	return procsWhere(func(pid int) bool {
		n, err := common.NSInode(pid, "pid")
		return err == nil && n == ino && strings.HasPrefix(alive(pid), "running")
	})
}

// procsWhere lists the processes in our /proc for which match is true.
func procsWhere(match func(pid int) bool) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && match(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// statusMask is a hexadecimal signal mask of /proc/PID/status (0 if none).
func statusMask(pid int, key string) uint64 {
	f, _ := common.StatusField(pid, key)
	v, _ := strconv.ParseUint(f, 16, 64)
	return v
}

// catches reports whether pid has a handler for sig: bit sig-1 of the
// SigCgt mask in /proc/PID/status. The kernel decides with the same bit
// whether a signal may reach the init of a PID namespace.
func catches(pid int, sig unix.Signal) (mask uint64, caught bool) {
	mask = statusMask(pid, "SigCgt")
	return mask, mask&(1<<(uint(sig)-1)) != 0
}

// pending says which signals wait to be delivered to pid: SigPnd (for the
// thread) and ShdPnd (for the process) in /proc/PID/status. A signal the
// kernel dropped is not there; one that is merely blocked would be.
func pending(pid int) string {
	if bits := statusMask(pid, "SigPnd") | statusMask(pid, "ShdPnd"); bits != 0 {
		return fmt.Sprintf("pending: %016x", bits)
	}
	return "nothing pending"
}

// status describes a wait status as the shell would.
func status(ws common.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + unix.SignalName(ws.Signal())
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}
