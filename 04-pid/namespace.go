// Command 04-pid is "Examples 1: namespace pid examples" of the article
// "namespace mechanism Linux kernel analysis" (the nsproxy article), run
// there as `./namespace 7`, in Go: a child cloned with CLONE_NEWPID |
// CLONE_NEWNS is PID 1 of a new PID namespace; it mounts a /proc of its
// own, forks N children, which get the next PIDs, and becomes `ps -el`.
// The C is c/namespace.c; this file follows it top to bottom: fork_child,
// main. Three more demos show what makes PID 1 special (orphans.go,
// signals.go, nested.go); pidns.go holds the plumbing.
//
//	sudo go run ./04-pid [-hold D] [N]        N children (default 7)
//	sudo go run ./04-pid [-hold D] orphans    PID 1 adopts and reaps an orphan
//	sudo go run ./04-pid [-hold D] signals    which signals reach PID 1
//	sudo go run ./04-pid [-hold D] nested     a PID namespace inside another
//
// -hold D keeps the namespace alive for D, to look at it from another shell
// (nsenter -t PID -p -m ps -el; lsns -t pid).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"

	"golang.org/x/sys/unix"

	"nslab/common"
)

func init() {
	// The C clone()s fork_child and fork()s the children; Go re-executes
	// this binary under these names (common/reexec.go says why).
	common.Register("fork_child", fork_child)
	common.Register("child", child)
}

// C: static int fork_child(void *arg)
//
// PID 1 of the new PID namespace, in a new mount namespace. args: the
// parent's PID (for mountProc's check), then a, the number of children.
func fork_child(args []string) int {
	parentPid := args[0]
	// C: int a = (int) arg;
	a, _ := strconv.Atoi(args[1])
	// Not in the C: Ctrl-C reaches the terminal's whole foreground group.
	// Leave it to the parent, which kills PID 1 and so the namespace.
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)

	// C: printf("In the container, my pid is: %d\n", getpid());
	fmt.Printf("In the container, my pid is: %s\n", common.Child(os.Getpid()))

	// C: mount("proc", "/proc", "proc", 0, "");
	// ps reads /proc, and a proc filesystem shows the PID namespace of
	// whoever mounted it. mountProc first makes every mount private: on a
	// systemd host / is shared, and the seed's mount would propagate back
	// and replace the host's /proc. Where the seed passes 0 as the flags,
	// nslab passes nosuid,nodev,noexec, as the host's /proc has.
	mountProc(parentPid)

	// C: for (i = 0; i
	// C (lost in the post): < a; i++) {
	for i := 0; i < a; i++ {
		// C: pid = fork();
		// C: if (pid < 0) return pid;
		// Go cannot fork and go on running Go code: it starts this binary
		// again as "child" (startRole, which exits PID 1 if it cannot).
		// PID 1 is the parent all the same.
		pid := startRole("child").Process.Pid
		// C: else if (pid) printf("pid of my child is %d\n", pid);
		fmt.Printf("pid of my child is %s\n", common.Child(pid))
	}

	// Not in the C: tell the host the children are there, and wait until
	// it has looked at them (and held the namespace, with -hold).
	common.TellParent()
	common.WaitParentClose()

	// C: char * cmd = "ps -el;
	// (the post lost the closing quote: the command is "ps -el")
	// C: execl("/bin/bash", "/bin/bash", "-c", cmd, NULL);
	// PID 1 becomes bash, and bash becomes ps (one command: bash execs
	// it): ps is PID 1 now. When it exits, after its listing, the kernel
	// kills every other process of the namespace, the children included.
	err := unix.Exec("/bin/bash", []string{"/bin/bash", "-c", "ps -el"}, os.Environ())
	common.ErrExit("execl /bin/bash", err, "the seed runs ps -el with /bin/bash")
	return 1
}

// child is what the C's fork() children run.
//
// C: else if (pid == 0) { sleep(30); exit(0); }
//
// The seed's children never finish their sleep(30): PID 1 exits first,
// after ps, and the kernel kills them. Ours sleep until then without a
// limit, so that -hold can keep them longer than 30 s.
func child([]string) int {
	for {
		unix.Pause() // also returns for signals Go uses itself (SIGURG)
	}
}

func main() {
	common.Dispatch()

	// C: if (argc != 2) { fprintf(stderr, "Wrong usage\n."); return -1; }
	// parseArgs says what is wrong in one line and exits 2; N defaults
	// to 7, and orphans, signals or nested run the demos beyond the seed.
	demo, a, hold := parseArgs()

	// C: printf("Out of the container, my pid is: %d\n", getpid());
	fmt.Printf("Out of the container, my pid is: %s\n", common.Parent(os.Getpid()))
	if demo != "" {
		demos[demo](hold)
		common.Exit(0)
	}

	// C: stack = malloc(stacksize); childstack = stack + stacksize;
	// Go needs no stack: the child is a new process (startInit).
	// C: flags = CLONE_NEWPID | CLONE_NEWNS;
	// C: cpid = clone(fork_child, childstack, flags, (void *) atoi(argv[1]));
	// C: if (cpid < 0) { perror("clone"); ret = -1; goto out; }
	// startInit re-executes this binary as "fork_child" with those flags
	// (or exits with clone's error) and, unlike the C, makes sure it dies
	// with us (common.StartChild).
	ns := startInit("fork_child", strconv.Itoa(a))
	// C: printf("cpid: %d\n", cpid);
	fmt.Printf("cpid: %s\n", common.Parent(ns.pid))

	// C: fprintf(stderr, "Parent sleeping 20 seconds\n"); sleep(20);
	// We wait for PID 1's byte instead (it has forked its children), show
	// the namespace from the host, hold it if asked, then let PID 1 run
	// ps and wait until it has exited: no race, and no 20 s lost.
	ns.mustBeReady()
	hostView(ns)
	ns.hold(hold, fmt.Sprintf("nsenter -t %d -p -m ps -el; lsns -t pid", ns.pid))
	// Not in the C: what comes next, and why it ends the children too.
	fmt.Println("PID 1 becomes ps -el; when it exits, the kernel kills every other process in its namespace.")
	// C: free(stack); return ret;
	// finish also checks with the kernel that nothing is left inside.
	if st := ns.finish(); !st.Success() {
		common.Fatalf("PID 1 failed (%s)", st)
	}
}
