// Command 04-pid is the classic "namespace N" PID-namespace example in Go:
// a child cloned with CLONE_NEWPID|CLONE_NEWNS is PID 1 of a new PID
// namespace; it mounts a /proc of its own (without touching the host's),
// starts N children, which get the next PIDs, and lists the processes as
// `ps -el` would. Three more demos show what makes PID 1 special (pid1.go):
//
//	sudo go run ./04-pid [-hold D] [N]        N children (default 7)
//	sudo go run ./04-pid [-hold D] orphans    PID 1 adopts and reaps an orphan
//	sudo go run ./04-pid [-hold D] signals    which signals reach PID 1
//	sudo go run ./04-pid [-hold D] nested     a PID namespace inside another
//
// -hold D keeps the namespace alive for D, to look at it from another shell
// (nsenter -t PID -p -m ps -el; lsns -t pid).
//
// The C counterpart is c/pid_namespace.c, with the same command line. This
// file follows it: childFunc (the seed's fork_child), usage, main.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

const maxChildren = 100

func init() {
	// The roles this binary can be re-executed as (common/reexec.go):
	// PID 1 of a new namespace, and the processes it starts inside.
	common.Register("childFunc", childFunc)
	common.Register("sleeper", sleeper)
	common.Register("orphaner", orphaner)
	common.Register("orphan", orphan)
	common.Register("signaller", signaller)
}

// childFunc is PID 1 of the new PID namespace, in a new mount namespace.
// args: the demo, the parent's PID, the demo's arguments.
func childFunc(args []string) int {
	if len(args) < 2 {
		common.Fatalf("childFunc: want DEMO PARENT-PID [ARGS], got %q", args)
	}
	parentPid, err := strconv.Atoi(args[1])
	if err != nil {
		common.Fatalf("childFunc: bad parent PID %q", args[1])
	}
	demoArg := ""
	if len(args) > 2 {
		demoArg = args[2]
	}
	// Ctrl-C reaches every process of the terminal's foreground group:
	// leave it to the parent, which kills us (and so the namespace) in
	// order. SIGPIPE: a closed stdout (04-pid | head) is no reason to die.
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)

	if args[0] != "level2" {
		fmt.Printf("In the container, my pid is: %s\n", common.Child(os.Getpid()))
	}

	// ps reads /proc, and a proc filesystem shows the PID namespace of
	// whoever mounted it, so mount a fresh one. First make every mount
	// private: on a systemd host / is "shared", and the mount would
	// propagate back and replace the host's /proc (the seed's bug). The
	// mount belongs to our mount namespace and goes away with it.
	if err := common.MakeMountsPrivate(); err != nil {
		common.ErrExit("making mounts private", err)
	}
	if err := common.MountProc(parentPid); err != nil {
		common.ErrExit("mounting /proc", err)
	}

	switch args[0] {
	case "children":
		n, _ := strconv.Atoi(demoArg)
		return forkChildren(n)
	case "orphans":
		return adoptOrphan()
	case "signals":
		return signalTarget(demoArg)
	case "nested":
		return nestLevel2()
	case "level2":
		return level2()
	}
	common.Fatalf("childFunc: unknown demo %q", args[0])
	return 1
}

// forkChildren is the seed's fork_child: start n children, print their
// PIDs, list the processes, then exit, which kills the children.
func forkChildren(n int) int {
	for range n {
		// C: fork(). Go: start this binary again as "sleeper" (startRole).
		// The child prints its own PIDs, then says it is ready.
		r, w := pipe()
		cmd := startRole("sleeper", []*os.File{w})
		w.Close()
		if !readByte(r) {
			common.Fatalf("child %d failed before it was ready", cmd.Process.Pid)
		}
		r.Close()
		fmt.Printf("pid of my child is %s\n", common.Child(cmd.Process.Pid)) // fork()'s return value
	}

	// The seed runs `ps -el` here. We read the new /proc ourselves, which
	// is all ps does, so the demo needs no procps.
	fmt.Println("The new /proc, as PID 1 reads it (ps -el reads the same files):")
	printPS(os.Stdout, listProcs())
	fmt.Println("(PIDs and thread IDs (TIDS) are numbers from one counter: every thread takes one)")

	tell()
	waitEOF(releasePipe())
	// Return, and so exit, without waiting for the children: the kernel
	// kills them all. The seed ends the same way: its PID 1 becomes ps,
	// which exits after listing, long before the children's sleep(30).
	return 0
}

// sleeper is one of forkChildren's children: it prints its PIDs as the
// kernel reports them, then sleeps until PID 1 ends and takes it along.
func sleeper([]string) int {
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)
	fmt.Printf("  child: getpid() = %d, getppid() = %d\n", os.Getpid(), os.Getppid())
	tell()
	pauseForever() // C: pause()
	return 0
}

func usageLine() string {
	return common.Prog + " [-hold D] [N | orphans | signals | nested]"
}

func main() {
	common.Dispatch()

	// A FlagSet of our own: the test binary registers its -test.* flags
	// on flag.CommandLine and runs this main.
	fs := flag.NewFlagSet(common.Prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors in one line, by UsageError
	hold := fs.Duration("hold", 0, "keep each namespace alive this long before it ends, to look at it from another shell")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Printf("usage: %s\n", usageLine())
			fmt.Println("  N        PID 1 starts N children (default 7, at most 100) and lists /proc")
			fmt.Println("  orphans  PID 1 adopts an orphaned grandchild and reaps it")
			fmt.Println("  signals  which signals reach PID 1: from inside, from the host")
			fmt.Println("  nested   a PID namespace inside a PID namespace; NSpid at each level")
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			common.Exit(0)
		}
		if strings.Contains(err.Error(), "-hold") {
			common.UsageError(usageLine(), "%v (-hold takes a duration such as 30s)", err)
		}
		common.UsageError(usageLine(), "%v", err)
	}
	demo, n := "children", 7
	switch {
	case fs.NArg() > 1:
		common.UsageError(usageLine(), "unexpected argument %q (flags go first)", fs.Arg(1))
	case *hold < 0:
		common.UsageError(usageLine(), "-hold must not be negative, got %v", *hold)
	case fs.NArg() == 1:
		switch a := fs.Arg(0); a {
		case "orphans", "signals", "nested":
			demo = a
		default:
			v, err := strconv.Atoi(a)
			if err != nil {
				common.UsageError(usageLine(), "%q is neither a number of children nor a demo (orphans, signals, nested)", a)
			}
			if v < 1 || v > maxChildren {
				common.UsageError(usageLine(), "number of children must be 1 to %d, got %d", maxChildren, v)
			}
			n = v
		}
	}

	common.RequireRoot("creating a PID namespace")
	common.RequireNamespaces(unix.CLONE_NEWPID | unix.CLONE_NEWNS)

	fmt.Printf("Out of the container, my pid is: %s\n", common.Parent(os.Getpid()))
	switch demo {
	case "children":
		runChildren(n, *hold)
	case "orphans":
		runOrphans(*hold)
	case "signals":
		runSignals(*hold)
	case "nested":
		runNested(*hold)
	}
	common.Exit(0)
}

// runChildren is the seed's main: clone PID 1, let it fork, then (unlike
// the seed, which sleeps 20 s and leaves) wait for it.
func runChildren(n int, hold time.Duration) {
	ns := startInit("children", strconv.Itoa(n))
	ns.mustBeReady()
	hostView(ns.ino)
	ns.hold(hold, fmt.Sprintf("nsenter -t %d -p -m ps -el; lsns -t pid", ns.pid))
	fmt.Println("PID 1 exits now; the kernel kills every other process in its namespace.")
	if st := ns.finish(); !st.Success() {
		common.Fatalf("PID 1 failed")
	}
}

// hostView prints the processes of a PID namespace as the host sees them:
// /proc/PID/status's NSpid lists a process's PID in each namespace from
// the one /proc belongs to (here the host's) down to its own.
func hostView(ino uint64) {
	fmt.Println("Seen from the host (NSpid in /proc/PID/status: the PID outside, then inside):")
	for _, pid := range common.ProcsInNS("pid", ino) {
		fmt.Printf("  PID %-7d NSpid: %s\n", pid, common.Parent(statusField(pid, "NSpid")))
	}
}
