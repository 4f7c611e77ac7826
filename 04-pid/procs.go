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

// statusField returns one field of /proc/PID/status (pid 0: self), such
// as "NSpid" or "SigCgt", or "" if there is none.
func statusField(pid int, key string) string {
	path := fmt.Sprintf("/proc/%d/status", pid)
	if pid == 0 {
		path = "/proc/self/status"
	}
	b, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
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
	var kids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := common.ReadStat(pid); err == nil && st.PPID == ppid {
			kids = append(kids, pid)
		}
	}
	return kids
}

// statusMask is a hexadecimal signal mask of /proc/PID/status (0 if none).
func statusMask(pid int, key string) uint64 {
	v, _ := strconv.ParseUint(statusField(pid, key), 16, 64)
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
