// Command 02-uts is TLPI's demo_uts_namespaces.c (the blog post's title
// calls it demo_uts_namespace) in Go: it starts a child in a new UTS
// namespace, the child sets its own hostname, and the parent shows that
// its hostname did not change. The C is c/demo_uts_namespaces.c; this file
// follows it top to bottom, childFunc then main, each line of the seed
// quoted in a "C:" comment above the Go that does it. options.go holds
// nslab's command line (-hold and the usage checks).
//
//	sudo go run ./02-uts [-hold D] <child-hostname>
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

// C: #define errExit(msg) do { perror(msg); exit(EXIT_FAILURE); … } while (0)
// common.ErrExit(msg, err) is errExit: perror's line (with the errno's
// name and a hint), then exit status 1.

func init() {
	// The C clone()s childFunc; Go re-executes this binary as "childFunc"
	// (common/reexec.go says why Go cannot clone a function).
	common.Register("childFunc", childFunc)
}

// C: static int /* Start function for cloned child */
// C: childFunc(void *arg)
//
// childFunc runs in the child, already inside its new UTS namespace. args
// are the C's arg, the child's hostname, and nslab's -hold.
func childFunc(args []string) int {
	if len(args) != 2 {
		common.Fatalf("want <hostname> <sleep>, got %q", args)
	}
	sleep, err := time.ParseDuration(args[1])
	if err != nil {
		common.Fatalf("bad sleep %q: %v", args[1], err)
	}
	// Not in the C: Ctrl-C reaches every process of the terminal's
	// foreground group, so the child gets it too. Leave it to the parent:
	// it kills and reaps us in order (common.StartChild). `kill PID`
	// (SIGTERM) still works.
	signal.Ignore(os.Interrupt)

	// Change the hostname in the child's UTS namespace.
	// C: if (sethostname(arg, strlen(arg)) == -1)
	// C: errExit("sethostname");
	if err := unix.Sethostname([]byte(args[0])); err != nil {
		common.ErrExit("sethostname", err)
	}

	// Retrieve and display it, as the kernel reports it here.
	// C: struct utsname uts;
	// C: if (uname(&uts) == -1)
	// C: errExit("uname");
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		common.ErrExit("uname", err)
	}
	// C: printf("uts.nodename in child: %s\n", uts.nodename);
	// C's %s stops at the NUL that ends nodename; Go's needs the cut made.
	fmt.Printf("uts.nodename in child: %s\n", common.Child(unix.ByteSliceToString(uts.Nodename[:])))

	// Not in the C: tell the parent we are done (fd 3, common.Handshake).
	// The C's parent just sleeps one second and hopes the child was quick.
	common.TellParent()
	// Not in the C: stay alive while the parent prints its namespace table
	// (it reads /proc/<our pid>/ns), even with -hold 0: wait for it to
	// close its end of fd 4.
	common.WaitParentClose()

	// Keep the namespace open for a while, so that another process can
	// join it (nsenter -t PID -u).
	// C: sleep(1000);
	// -hold D: its default, 1000s, is this sleep(1000); 0: no sleep at all.
	time.Sleep(sleep)

	// C: return 0; /* Terminates child */
	return 0
}

// C: #define STACK_SIZE (1024 * 1024) /* Stack size for cloned child */
// Go allocates no stack for the child (see the mmap in main).

// C: int
// C: main(int argc, char *argv[])
func main() {
	// Not in the C: a re-executed child runs childFunc here and exits.
	common.Dispatch()

	// C: if (argc < 2) {
	// C: fprintf(stderr, "Usage: %s <child-hostname>\n", argv[0]);
	// C: exit(EXIT_SUCCESS);
	// C: }
	// parseArgs (options.go) also reads -hold; a mistake gets one line
	// and exit status 2, not the C's 0.
	hostname, sleep := parseArgs()

	// Not in the C: without root, or on a kernel without UTS namespaces,
	// say so in one line rather than as clone's EPERM or EINVAL.
	common.RequireRoot("creating a UTS namespace")
	common.RequireNamespaces(unix.CLONE_NEWUTS)

	// C: char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
	// C: MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	// C: if (stack == MAP_FAILED)
	// C: errExit("mmap");
	// None in Go: the child is this binary re-executed (common/reexec.go), stack and all.

	// Create a child that has its own UTS namespace.
	// C: pid_t child_pid = clone(childFunc,
	// C: stack + STACK_SIZE, /* Assume stack grows downward */
	// C: CLONE_NEWUTS | SIGCHLD, argv[1]);
	// Go: start this same binary as "childFunc", cloned with CLONE_NEWUTS
	// (os/exec asks for SIGCHLD itself).
	cmd := common.Command("childFunc", hostname, sleep.String())
	// Not in the C: two pipes (common.Handshake), fd 3 and 4 in the child,
	// replace its sleep(1) below: the child writes to fd 3 when its
	// hostname is set and printed; we close fd 4's other end once we have
	// looked at the child.
	hs := common.NewHandshake(cmd)
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWUTS}
	// StartChild adds what the C lacks: the child dies with us (Pdeathsig),
	// and Ctrl-C, SIGTERM or SIGHUP kill and reap it before we exit.
	child, err := common.StartChild(cmd)
	// C: if (child_pid == -1)
	// C: errExit("clone");
	// os/exec's Start is clone and execve in one: the message names neither.
	if err != nil {
		common.ErrExit("starting the child", err)
	}
	hs.Started()
	childPid := child.Pid()
	// C: printf("PID of child created by clone() is %ld\n", (long) child_pid);
	fmt.Printf("PID of child created by clone() is %d\n", childPid)

	// C: munmap(stack, STACK_SIZE);
	// Go mapped no stack (see the mmap above), so there is none to unmap.

	// C: sleep(1); /* Give child time to change its hostname */
	// We wait for the child's byte instead: no race, and no second lost.
	// Reading nothing (EOF) means the child died before sending it.
	hs.MustBeReady(child, "the child")

	// The hostname in the parent's UTS namespace: not the child's.
	// C: struct utsname uts;
	// C: if (uname(&uts) == -1)
	// C: errExit("uname");
	// common.Hostname makes the same uname(2) call as childFunc.
	host, err := common.Hostname()
	if err != nil {
		common.ErrExit("uname", err)
	}
	// C: printf("uts.nodename in parent: %s\n", uts.nodename);
	fmt.Printf("uts.nodename in parent: %s\n", common.Parent(host))

	// Not in the C: ask the kernel which namespaces the two processes are
	// in. Only the uts row should differ.
	fmt.Println()
	common.PrintNSTable(os.Stdout,
		common.NSColumn{Label: "parent", PID: os.Getpid()},
		common.NSColumn{Label: "child", PID: childPid})
	fmt.Println()
	hs.Release.Close() // the child may now start its -hold

	// C: if (waitpid(child_pid, NULL, 0) == -1) /* Wait for child */
	// C: errExit("waitpid");
	// StartChild's goroutine reaps the child (cmd.Wait); this waits for
	// that. The child's status is looked at below.
	child.Wait()
	// C: printf("child has terminated\n");
	fmt.Println("child has terminated")

	// C: exit(EXIT_SUCCESS);
	// A child killed by a signal (kill PID from another shell) is how the
	// demo is ended early, as with the C: not a failure, exit 0. A child
	// that exited with an error status is: exit 1.
	if st := cmd.ProcessState; st.ExitCode() > 0 {
		common.Fatalf("the child failed (%s)", st)
	}
}
