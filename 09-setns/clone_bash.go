package main

// This file is the seed's first program ("代碼1", c/clone_bash.c): clone a
// child into new UTS, mount, PID, user and IPC namespaces, where it runs
// /bin/bash, the target that the joiner (setns_joiner.go) joins. It is the
// sub-command `09-setns clone-bash`:
//
//	09-setns clone-bash [-map] [-c CMD]
//
// The seed's notes say the uid and gid maps are set through
// /proc/pid/uid_map and gid_map, "把這放前面是因為後面hostname和mount需要權限"
// (first, because hostname and mount need the privilege), and show no
// command; nslab's is `echo '0 0 1' > /proc/PID/uid_map` (and gid_map),
// from another shell. Until then bash is
// uid 65534 (unmapped) and has no capability in its namespaces. -map has
// the parent write them before bash starts (07-user shows how).

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// C: static int childFunc(void *arg) { ... execv(binary, argv); ... }
// Go: no childFunc. The child does nothing but execv, and os/exec clones
// and executes in one step: cmd.Path and cmd.Args below are its binary and
// argv (common/reexec.go says why Go cannot run Go code in a clone).

// cloneBash is the seed's main; it exits, never returns.
func cloneBash(args []string) {
	// Not in the seed: two options, for the maps and for a script.
	fs := common.NewFlags(common.Prog + " clone-bash [-map] [-c CMD]")
	mapRoot := fs.Bool("map", false, "write uid_map and gid_map (0 -> our uid and gid) before bash starts, as the seed's notes do by hand")
	script := fs.String("c", "", "run `bash -c CMD` instead of an interactive bash")
	fs.Parse(args)

	// C: const char *binary = "/bin/bash";
	binary := "/bin/bash"
	// C: char *const argv[] = { "/bin/bash", NULL };
	argv := []string{"/bin/bash"}
	if *script != "" {
		argv = append(argv, "-c", *script)
	}

	// C: stack = malloc(STACK_SIZE); ... stackTop = stack + STACK_SIZE;
	// Go: no stack to give: the child only executes bash.

	// C: pid = clone(childFunc, stackTop, CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWIPC | SIGCHLD, NULL);
	// Go: SIGCHLD, the signal the parent gets when the child ends, is what
	// os/exec always asks for. CLONE_NEWNET stays commented out, as in the
	// seed: the target keeps our network.
	cmd := exec.Command(binary)
	cmd.Args = argv
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &unix.SysProcAttr{
		Cloneflags: unix.CLONE_NEWUTS | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUSER | unix.CLONE_NEWIPC,
	}
	if *mapRoot {
		// Go writes /proc/PID/uid_map and gid_map between clone and
		// execve (and "deny" to setgroups first, as an unprivileged
		// user must): bash starts as root of its user namespace.
		// (The element type is syscall.SysProcIDMap; an identical
		// unnamed struct is assignable to it, so no import of syscall.)
		type idMap = struct{ ContainerID, HostID, Size int }
		cmd.SysProcAttr.UidMappings = append(cmd.SysProcAttr.UidMappings, idMap{ContainerID: 0, HostID: os.Getuid(), Size: 1})
		cmd.SysProcAttr.GidMappings = append(cmd.SysProcAttr.GidMappings, idMap{ContainerID: 0, HostID: os.Getgid(), Size: 1})
	}
	common.RequireNamespaces(cmd.SysProcAttr.Cloneflags)
	// Not in the seed: bash dies with us, and Ctrl-C, SIGTERM or SIGHUP
	// kill and reap it before we exit. The mounts bash makes stay in its
	// mount namespace: one owned by a new user namespace receives the
	// host's shared mounts as slaves, so none propagates back.
	child, err := common.StartChild(cmd)
	// C: if (pid == -1) errExit("clone");
	// Go: a failed execv ("execve error" in the seed's child) is reported
	// here too, by the parent: os/exec passes the child's errno back.
	if err != nil {
		common.ErrExit("clone", err, "creating a user namespace together with the others needs no root, unless the kernel forbids it (sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces): then run it with sudo")
	}
	if *script == "" && common.IsTerminal(0) {
		// Ctrl-C at bash's prompt is bash's: it must not end us (and,
		// through the cleanup, bash). Exit bash to end the demo.
		signal.Ignore(os.Interrupt)
	}

	// C: printf("clone() returned %ld\n", (long) pid);
	fmt.Printf("clone() returned %d\n", child.Pid())

	// C: if (waitpid(pid, NULL, 0) == -1) errExit("waitpid");
	child.Wait()

	// C: printf("child has terminated\n");
	fmt.Println("child has terminated")

	// C: exit(EXIT_SUCCESS);
	common.Exit(0)
}
