// Command 02-uts is TLPI's demo_uts_namespace in Go: it starts a child in a
// new UTS namespace, the child sets its own hostname, and the parent shows
// that its hostname did not change. The C counterpart is
// c/demo_uts_namespace.c; this file follows it top to bottom: childFunc,
// usage, main.
//
//	sudo go run ./02-uts [-sleep D] <child-hostname>
//
// While the child sleeps, another shell can join its namespace:
//
//	sudo nsenter -t <child-pid> -u hostname
package main

import (
	"fmt"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// hostNameMax is HOST_NAME_MAX: the kernel refuses longer names (EINVAL).
const hostNameMax = 64

// The child and the parent talk over two pipes (common.Handshake): the
// child writes to fd 3 when its hostname is set and printed; the parent
// closes fd 4's other end once it has looked at the child.

func init() {
	// The child's half of the program: main re-executes this binary as
	// "childFunc" (see common/reexec.go for why Go cannot clone(childFunc)).
	common.Register("childFunc", childFunc)
}

// childFunc runs in the child, already inside its new UTS namespace.
// args are the child's hostname and how long to keep the namespace open.
func childFunc(args []string) int {
	if len(args) != 2 {
		common.Fatalf("want <hostname> <sleep>, got %q", args)
	}
	sleep, err := time.ParseDuration(args[1])
	if err != nil {
		common.Fatalf("bad sleep %q: %v", args[1], err)
	}
	// Ctrl-C reaches every process of the terminal's foreground group, so
	// the child gets it too. Leave it to the parent: it kills and reaps us
	// in order (the AtExit step in main). `kill PID` (SIGTERM) still works.
	signal.Ignore(os.Interrupt)

	// Change the hostname in the child's UTS namespace.
	if err := unix.Sethostname([]byte(args[0])); err != nil {
		common.ErrExit("sethostname", err)
	}

	// Read it back, as the kernel reports it here.
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		common.ErrExit("uname", err)
	}
	fmt.Printf("uts.nodename in child: %s\n", common.Child(unix.ByteSliceToString(uts.Nodename[:])))

	// Tell the parent we are done. The C has no such message: its parent
	// just sleeps one second and hopes the child was quick enough.
	common.TellParent()
	common.DoneTellingParent()

	// Stay alive while the parent prints its namespace table (it reads
	// /proc/<our pid>/ns), even with -sleep 0: wait for it to close its end.
	common.WaitParentClose()

	// Keep the namespace open for a while, so that another process can
	// join it (nsenter -t PID -u). The C always sleeps 1000 s.
	time.Sleep(sleep)
	return 0
}

func usageLine() string {
	return common.Prog + " [-sleep D] <child-hostname>"
}

func main() {
	common.Dispatch()

	fs := common.NewFlagSet()
	sleep := fs.Duration("sleep", 1000*time.Second,
		"how long the child keeps its namespace open; the C always sleeps 1000s (0: not at all)")
	common.ParseFlagsArgs(fs, usageLine(), os.Args[1:])
	switch {
	case fs.NArg() == 0:
		// The C prints its usage and exits 0 (EXIT_SUCCESS). We exit 2, the
		// convention for a bad command line, so scripts and tests can tell
		// "did nothing" from "worked".
		common.UsageError(usageLine(), "missing <child-hostname>")
	case fs.NArg() > 1:
		// The C ignores extra arguments. Go's flag stops at the first
		// non-flag, so `02-uts myhost -sleep 0` would silently drop -sleep.
		common.UsageError(usageLine(), "unexpected argument %q after <child-hostname> (flags go first)", fs.Arg(1))
	case len(fs.Arg(0)) > hostNameMax:
		// The C finds out from sethostname's EINVAL in the child; we say
		// what is wrong before creating anything.
		common.UsageError("", "child hostname is %d bytes long; the kernel allows at most %d", len(fs.Arg(0)), hostNameMax)
	case *sleep < 0:
		common.UsageError(usageLine(), "-sleep must not be negative")
	}
	hostname := fs.Arg(0)

	common.RequireRoot("creating a UTS namespace")
	common.RequireNamespaces(unix.CLONE_NEWUTS)

	// Two pipes replace the C's sleep(1): see childFunc.
	hs := common.NewHandshake()

	// C: clone(childFunc, stack, CLONE_NEWUTS | SIGCHLD, argv[1]).
	// Go: start this same binary as "childFunc", cloned with CLONE_NEWUTS.
	cmd := common.Command("childFunc", hostname, sleep.String())
	cmd.ExtraFiles = hs.ChildFiles() // fd 3 and fd 4 in the child
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWUTS}

	// StartChild adds what the C lacks: the child dies with us (Pdeathsig),
	// and Ctrl-C, SIGTERM or SIGHUP kill and reap it before we exit.
	child, err := common.StartChild(cmd)
	if err != nil {
		common.ErrExit("starting the child", err)
	}
	hs.Started()
	childPid := child.Pid()
	fmt.Printf("PID of child created by clone() is %d\n", childPid)

	// C: sleep(1) "to give the child time to change its hostname". We
	// wait for the child's byte instead: no race, and no second lost.
	// Reading nothing (EOF) means the child died before sending it.
	if !hs.WaitReady() {
		child.Wait()
		common.Fatalf("the child failed before it was ready (%s)", cmd.ProcessState)
	}

	// Same uname(2) call as in the child, here in the parent's namespace.
	host, err := common.Hostname()
	if err != nil {
		common.ErrExit("uname", err)
	}
	fmt.Printf("uts.nodename in parent: %s\n", common.Parent(host))

	// Not in the C: ask the kernel which namespaces the two processes are
	// in. Only the uts row should differ.
	fmt.Println()
	common.PrintNSTable(os.Stdout,
		common.NSColumn{Label: "parent", PID: os.Getpid()},
		common.NSColumn{Label: "child", PID: childPid})
	fmt.Println()
	hs.Release.Close() // the child may now start its -sleep

	child.Wait() // C: waitpid(child_pid, NULL, 0)
	fmt.Println("child has terminated")
	// A child killed by a signal (kill PID from another shell) is how the
	// demo is ended early, as with the C: not a failure. A child that
	// exited with an error status is.
	if st := cmd.ProcessState; st.ExitCode() > 0 {
		common.Fatalf("the child failed (%s)", st)
	}
}
