package common

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"
)

// Why Go re-executes itself
//
// In C, clone(childFunc, stack, CLONE_NEWUTS|SIGCHLD, arg) creates a child
// that starts running childFunc in a copy of the parent. A Go program cannot
// do that: the Go runtime is several OS threads (scheduler, garbage
// collector, signal handling). clone() copies only the calling thread, so the
// child would hold a runtime whose other threads vanished mid-work — locks
// held forever, a heap half-updated. Any Go code that allocates, grows its
// stack or blocks can then deadlock or crash. (01-clone's t_clone shows the
// one honest exception: a child that only issues raw system calls.)
//
// So Go's os/exec does clone(flags) + execve() in one step, and to run *our
// own* code in the new namespaces we execve ourselves: /proc/self/exe is this
// very binary, and argv[0] names the child role to run. Dispatch, called as
// the first statement of main, notices the role and runs it instead of main.

// progEnv carries the parent's program name to the re-executed child.
const progEnv = "NSLAB_PROG"

// runEnv marks every process an nslab program starts, its re-executed
// children and whatever they run (sleep, stress, a shell), however far down:
// set in our environment at start-up, it is inherited. `sudo make reset`
// (lab/reset.sh) kills the processes carrying it that a crash left behind.
// Its value names the first nslab program of the chain, "PROG:PID". Test
// binaries (*.test) do not set it: what a test harness runs is not a
// program's.
const runEnv = "NSLAB_RUN"

func init() {
	if os.Getenv(runEnv) == "" && !strings.HasSuffix(os.Args[0], ".test") {
		os.Setenv(runEnv, fmt.Sprintf("%s:%d", Prog, os.Getpid()))
	}
}

var roles = map[string]func(args []string) int{}

// Register names a child role. Call it from an init function; fn receives
// the arguments after the role name and returns the exit status.
//
// Used by lab/bench and every chapter but 01-clone.
func Register(role string, fn func(args []string) int) {
	if _, dup := roles[role]; dup {
		panic("common.Register: duplicate role " + role)
	}
	roles[role] = fn
}

// Dispatch runs the registered role named by os.Args[0], if any, and exits
// with its status. It returns only when this process is not a re-executed
// child, so it must be the first statement of main.
//
// Used by lab/bench and every chapter but 01-clone.
func Dispatch() {
	fn, ok := roles[os.Args[0]]
	if !ok {
		return
	}
	// Speak with the parent's name: "02-uts: sethostname: ...", not
	// "childFunc: ...".
	if p := os.Getenv(progEnv); p != "" {
		Prog = p
	}
	// C's child would close its pipe ends before execve; here they are
	// marked once (handshake.go), for every program the child executes.
	unix.CloseOnExec(readyFD)
	unix.CloseOnExec(releaseFD)
	Exit(fn(os.Args[1:]))
}

// Command prepares a re-execution of this binary as the child role. The
// caller sets SysProcAttr (Cloneflags, Pdeathsig, ...) and starts it.
// Standard input, output and error are shared with the parent, as they are
// with a cloned C child.
//
// Used by lab/bench and every chapter but 01-clone.
func Command(role string, args ...string) *exec.Cmd {
	if _, ok := roles[role]; !ok {
		panic(fmt.Sprintf("common.Command: role %q is not registered", role))
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = append([]string{role}, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), progEnv+"="+Prog)
	return cmd
}
