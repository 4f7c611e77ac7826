package main

// The kernel's view adds what the seed's screenshots showed by hand: the
// /proc/PID/ns inodes of the target, the joiner and its child, side by side.

import (
	"fmt"
	"os"

	"nslab/common"
)

// showKernelView prints the table once the child has printed, then lets the
// child exit, or with -hold keeps both until Ctrl-C; it exits with the
// joiner's status (the child's).
func showKernelView(target int, j *joiner, child int, hold bool) {
	if j.hs.WaitReady() { // false: the child died first
		fmt.Println()
		common.PrintNSTable(os.Stdout,
			common.NSColumn{Label: "target", PID: target},
			common.NSColumn{Label: "joiner", PID: j.child.Pid()},
			common.NSColumn{Label: "child", PID: child})
		if ino, err := common.NSInode(j.child.Pid(), "pid_for_children"); err == nil {
			fmt.Printf("joiner's pid_for_children: %d: setns(CLONE_NEWPID) moved its children, not itself\n", ino)
		}
		fmt.Println()
		if hold {
			fmt.Println(common.Dim(fmt.Sprintf("--- holding the joiner (%d) and its child (%d): Ctrl-C ends them ---", j.child.Pid(), child)))
		} else {
			j.hs.Release.Close() // the child may exit now
		}
	}
	j.exit()
}
