package main

// nested.go adds PID namespaces inside PID namespaces: one process has one
// PID per level, from the host's down to its own.

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

func init() {
	common.Register("nested", nestLevel2)
	common.Register("level2", level2)
}

// nestLevel2 is PID 1 of the nested demo (level 1): it starts PID 1 of a
// PID namespace inside its own (level 2) and reads that process's NSpid.
func nestLevel2(args []string) int {
	becomeInit(args)
	// The same clone flags the host used for us. "1": our PID as level
	// 2's /proc (ours, until it mounts its own) numbers us, for mountProc.
	// Not StartChild: PID 1 reaps with wait4(-1) (reapAll), which its Wait would race (see reap).
	pid, hs := startReady("clone(CLONE_NEWPID|CLONE_NEWNS) inside", "the level-2 init",
		unix.CLONE_NEWPID|unix.CLONE_NEWNS, "level2", "1")
	fmt.Printf("level 1: the level-2 init is my child %d; /proc/%[1]d/status NSpid: %s\n", pid, common.Child(nspidOf(pid)))

	common.TellParent()
	common.WaitParentClose()
	hs.Release.Close()
	reapAll()
	return 0
}

// level2 is PID 1 of the innermost namespace.
func level2(args []string) int {
	becomeInit(args)
	fmt.Printf("  level 2: /proc/self/status NSpid: %s\n", common.Child(nspidOf(0)))
	common.TellParent()
	common.WaitParentClose()
	return 0
}

// runNested is the host's side of the nested demo.
func runNested(hold time.Duration) {
	ns := startInit("nested")
	fmt.Printf("cpid: %s\n", common.Parent(ns.pid))
	ns.mustBeReady()
	l2 := 0
	for _, pid := range childrenOf(ns.pid) {
		if ino, err := common.NSInode(pid, "pid"); err == nil && ino != ns.ino {
			l2 = pid
		}
	}
	if l2 == 0 {
		common.Fatalf("found no level-2 init among the children of %d", ns.pid)
	}
	pin, l2ino := pinNS(l2)
	fmt.Printf("host: the level-2 init is %d; /proc/%[1]d/status NSpid: %s\n", l2, common.Parent(nspidOf(l2)))
	host, _ := common.NSInode(0, "pid")
	fmt.Printf("PID namespaces: host pid:[%d] > level 1 pid:[%d] > level 2 pid:[%d]\n", host, ns.ino, l2ino)
	ns.hold(hold, fmt.Sprintf("nsenter -t %d -p -m ps -el; nsenter -t %d -p -m ps -el; lsns -t pid", ns.pid, l2))
	if st := ns.finish(); !st.Success() {
		common.Fatalf("PID 1 failed (%s)", st)
	}
	mustBeEmpty("processes left in level 2's namespace", l2ino, pin)
}
