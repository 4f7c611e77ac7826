// Command 05-mount is newns, the program of the blog post "Linux namespace -
// NS (File System)", in Go: clone a child into new UTS, IPC, PID and mount
// namespaces; the child sets its hostname to "namespace", mounts a proc of
// its own on /proc and runs a shell, in which ps sees only the new PID
// namespace. The C is c/newns.c; this file follows it line for line:
// child_main, then main.
//
//	sudo go run ./05-mount [-hostname NAME] [-proc] [-tmpfs DIR] [-rootfs DIR -chroot|-pivot] [cmd [arg...]]
//	sudo go run ./05-mount mkrootfs [-from-host] DIR   (mkrootfs.go)
//	05-mount escape [cmd [arg...]]                     (escape.go, run inside a -rootfs)
//
// The post has two versions of newns: the first leaves /proc alone (its
// shell session then mounts proc by hand), the second mounts it in
// child_main. Without -proc this is the first, with -proc the second.
// What the post does not have sits behind one call each: the options
// (options.go), a tmpfs the host cannot see (tmpfs.go), and a root
// filesystem of its own entered by chroot or pivot_root (rootfs.go).
package main

import (
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// C: #define STACK_SIZE (1024 * 1024)
// C: static char child_stack[STACK_SIZE];
// Go needs no stack: it cannot clone(child_main) (see common/reexec.go),
// so main re-executes this binary as "child_main" in the new namespaces.
func init() {
	common.Register("child_main", child_main)
}

// The seed's clone flags, without SIGCHLD (Go's exec always asks for it).
const cloneFlags = unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWPID | unix.CLONE_NEWNS

// C: int child_main(void* arg)
//
// child_main runs in the child, already in its new namespaces, as PID 1 of
// the new PID namespace. The seed's name, underscore and all. The C passes
// arg NULL; here args carry the options (see childArgs in options.go).
func child_main(args []string) int {
	o := childOptions(args)
	procHint, execHint := o.hints()
	// Not in the seed: wait until the parent has printed the child's PID,
	// so that the lines come in one order.
	common.WaitParentClose()

	// C: printf(" - [%4d] Current namspace, Parent PID : %d\n", getpid(), getppid() );
	// The seed's code has the two labels the wrong way round (and a typo);
	// its sample output, and this line, say "New namespace" in the child.
	// getppid() is 0: the parent is outside our PID namespace.
	fmt.Printf(" - [%4d] New namespace, Parent PID : %d\n", os.Getpid(), os.Getppid())

	// C: sethostname("namespace", 12);
	// The seed's 12 reads two bytes past "namespace"; Go passes the length.
	common.Did(common.Child, "hostname "+o.hostname, "", unix.Sethostname([]byte(o.hostname)))

	// Not in the seed (c/newns.c has it too), and before any mount: a new
	// mount namespace starts with copies of the parent's mounts AND of
	// their propagation. systemd makes / shared, so on most hosts the
	// seed's proc mount would propagate back and cover the HOST's /proc.
	// From here on, nothing we mount leaves this namespace.
	common.Did(common.Child, "mount --make-rprivate /", "systemd makes / shared: without this our mounts would show up on the host", common.MakeMountsPrivate())

	// Not in the seed: -rootfs DIR -chroot|-pivot (rootfs.go), then a
	// -tmpfs (tmpfs.go) inside it. The root comes first: pivot_root
	// detaches everything mounted under the old root.
	enterRoot(o.rootfs, o.mode)
	mountTmpfs(o.tmpfs)

	// C: mount("/root/proc", "/proc", "proc", 0, NULL);
	// Only with -proc (the post's second version). A fresh proc shows the
	// PID namespace of whoever mounts it: ours. Its source is a mere
	// label: `mount` shows "/root/proc on /proc type proc", as in the post.
	// The first version's shell session does the same by hand:
	// mount -t proc /tmp/proc /proc.
	if o.proc {
		common.Did(common.Child, "mount -t proc /root/proc /proc", "a proc of the new PID namespace: ps sees only our processes",
			unix.Mount("/root/proc", "/proc", "proc", 0, ""), procHint)
	}

	// C: execv(child_args[0], child_args);
	// child_args is {"/bin/bash", NULL}; here the command line's command,
	// /bin/sh by default (every rootfs has sh, not always bash). Go has
	// no execvp: exec.LookPath searches PATH, in the new root if any.
	// The command replaces us and becomes PID 1 of the new PID namespace.
	// The mounts need no cleanup: the kernel takes them down with the
	// mount namespace when its last process exits.
	common.Step(common.Child("exec "+shellJoin(o.argv...)), "")
	path, err := exec.LookPath(o.argv[0])
	if err != nil {
		common.ErrExit("exec "+o.argv[0], err, execHint)
	}
	common.ErrExit("exec "+path, unix.Exec(path, o.argv, os.Environ()))

	// C: return 1;
	return 1
}

// C: int main()
func main() {
	common.Dispatch()
	subcommand(os.Args[1:]) // mkrootfs or escape: they do not return
	o := parseArgs(os.Args[1:])

	common.RequireRoot("creating mount, PID, UTS and IPC namespaces")
	common.RequireNamespaces(cloneFlags)
	// Not in the seed: -tmpfs DIR, if missing, is made on the host's
	// filesystem, and removed at exit (tmpfs.go).
	hostMountpoint(o.rootfs, o.tmpfs)

	// C: printf(" - [%4d] New namespace, Parent PID : %d\n", getpid(), getppid() );
	// The seed's label, swapped as in child_main: its sample output says
	// "Current namespace" here, where the parent is, and so do we.
	fmt.Printf(" - [%4d] Current namespace, Parent PID : %d\n", os.Getpid(), os.Getppid())

	// C: int child_pid = clone(child_main, child_stack+STACK_SIZE, CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, NULL);
	// Go: re-execute ourselves as child_main, cloned with the same flags.
	cmd := common.Command("child_main", o.childArgs()...)
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: cloneFlags}
	hs := common.NewHandshake(cmd) // nslab: the child waits for the PID line
	// StartChild adds what the C lacks: the child dies with us (Pdeathsig),
	// and Ctrl-C, SIGTERM or SIGHUP kill and reap it before the cleanups.
	child, err := common.StartChild(cmd)
	if err != nil {
		common.ErrExit("clone", err)
	}
	// Not in the seed (TLPI's line, as in 02-uts): the child's PID as the
	// host numbers it, for nsenter -t PID and /proc/PID from another shell.
	hs.Started()
	fmt.Printf("PID of child created by clone() is %d\n", child.Pid())
	hs.Release.Close() // the child may print now

	// C: waitpid(child_pid, NULL, 0);
	err = child.Wait()

	// C: return 0;
	// We return the command's status, as unshare(1) does: a shell left
	// with `exit 3` makes us exit 3. The cleanups run either way.
	common.Exit(common.ExitStatus(err))
}
