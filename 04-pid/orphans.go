package main

// orphans.go adds PID 1's first duty: it adopts every orphan of its
// namespace, and nobody but PID 1 can reap them.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

func init() {
	common.Register("orphans", adoptOrphan)
	common.Register("orphaner", orphaner)
	common.Register("orphan", orphan)
}

// adoptOrphan is PID 1 of the orphans demo. It starts the orphaner, which
// starts the orphan and exits without waiting for it. The kernel gives the
// orphan a new parent: the init of its PID namespace (or a "child
// subreaper" if there is one), that is, us. When the orphan exits, only we
// can reap it; until we do, it is a zombie.
func adoptOrphan(args []string) int {
	becomeInit(args)
	// The gate: the orphan exits at EOF on its stdin, once we close gateW.
	gateR, gateW, err := os.Pipe()
	if err != nil {
		common.ErrExit("pipe", err)
	}
	cmd := common.Command("orphaner")
	cmd.Stdin = gateR // the orphaner passes its stdin on (common.Command)
	// Not StartChild: its Wait would take the status that reap's wait4(-1) prints below.
	if err := cmd.Start(); err != nil {
		common.ErrExit("starting the orphaner", err)
	}
	gateR.Close()

	// wait4(-1): the only child that can end now is the orphaner.
	pid, ws := reap()
	fmt.Printf("PID 1: reaped %d, my own child (%s)\n", pid, status(ws))
	kids := childrenOf(1)
	fmt.Printf("PID 1: my children now (PPid 1 in /proc): %v; the orphan was re-parented to me\n", kids)
	if len(kids) != 1 {
		common.Fatalf("expected the orphan as my only child, found %v", kids)
	}

	gateW.Close()
	// waitid(WNOWAIT) returns once a child has exited, without reaping
	// it: the moment to see a zombie.
	var info unix.Siginfo
	for err = unix.EINTR; err == unix.EINTR; { // again if a signal interrupts it
		err = unix.Waitid(unix.P_PID, kids[0], &info, unix.WEXITED|unix.WNOWAIT, nil)
	}
	if err != nil {
		common.ErrExit("waitid", err)
	}
	fmt.Printf("PID 1: %d has exited; it is a zombie (Z) until its parent, me, waits for it:\n", kids[0])
	ps()

	pid, ws = reap()
	fmt.Printf("PID 1: reaped %d, an orphan I never started (%s)\n", pid, status(ws))
	if _, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); errors.Is(err, unix.ECHILD) {
		fmt.Println("PID 1: wait4(-1) fails with ECHILD: no child left, no zombie. The new /proc:")
	}
	ps()

	common.TellParent()
	common.WaitParentClose()
	return 0
}

// ps lists the new /proc with ps(1). cmd.Run() waits for ps alone (one
// PID): it neither reaps the zombie nor steals another child's status.
func ps() {
	cmd := exec.Command("ps", "-e", "-o", "pid,ppid,s,args")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		common.ErrExit("ps", err)
	}
}

// orphaner starts the orphan, waits until it has printed its line and
// exits without waiting for it.
func orphaner([]string) int {
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)
	fmt.Printf("  orphaner: getpid() = %d; starting a child\n", os.Getpid())
	// Not StartChild: the orphan must outlive us, by design.
	pid, _ := startReady("starting the orphan", "the orphan", 0, "orphan")
	fmt.Printf("  orphaner: exiting without waiting for my child %d\n", pid)
	return 0
}

// orphan prints its parent before and after the orphaner's exit.
func orphan([]string) int {
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)
	fmt.Printf("  orphan: getpid() = %d, getppid() = %d\n", os.Getpid(), os.Getppid())
	common.TellParent()
	io.Copy(io.Discard, os.Stdin) // the gate: PID 1 closes it once it has adopted us
	fmt.Printf("  orphan: getppid() = %d now; exiting\n", os.Getppid())
	return 0
}

// runOrphans is the host's side of the orphans demo.
func runOrphans(hold time.Duration) {
	ns := startInit("orphans")
	fmt.Printf("cpid: %s\n", common.Parent(ns.pid))
	ns.mustBeReady()
	hostView(ns)
	zombies := slices.DeleteFunc(childrenOf(ns.pid), func(pid int) bool { return alive(pid) != "a zombie" })
	fmt.Printf("Zombies among PID 1's children, seen from the host: %s\n", pidList(zombies))
	ns.hold(hold, fmt.Sprintf("nsenter -t %d -p -m ps -el; lsns -t pid", ns.pid))
	if st := ns.finish(); !st.Success() {
		common.Fatalf("PID 1 failed (%s)", st)
	}
}
