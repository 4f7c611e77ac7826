// Command 10-container is the nine chapters composed: one process started
// with every switch turned on, read top to bottom in the chapters' order.
//
//	sudo ./bin/10-container run [-rootfs DIR] [-hostname NAME] [-cpus F]
//	     [-memory SIZE] [-pids N] [-net] [-rootless] [-keep DIR] [-off LAYERS]
//	     [-- cmd [args]]
//
// The parent (run, on the host) makes the cgroup, starts the child in new
// namespaces and, while the child waits, places it in the cgroup and wires
// its network. The child (containerInit, PID 1 inside) builds its own view
// of the machine, gives up what a container must not keep, then starts the
// command and reaps whatever ends in its namespace until the command does.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// containerPath is the PATH PID 1 looks the command up in, and its own.
const containerPath = "/bin:/sbin:/usr/bin:/usr/sbin"

func init() {
	// Capabilities, no_new_privs and the seccomp filter belong to a thread,
	// not to a process, and Go runs every process on several threads. Main
	// stays on the process's first thread, the one /proc/PID/status shows:
	// the last mile is done there, and the command is started from there,
	// so it inherits exactly what that thread kept (see lastMile).
	runtime.LockOSThread()
	common.Register("containerInit", containerInit)
}

func main() {
	common.Dispatch()
	common.SubCommands{{"run", func(args []string) { run(parseOptions(args)) }}}.Run(usageLine())
}

// run is the parent, on the host.
func run(o options) {
	// Descriptors (security.go): what the caller left open stops here.
	// The child gets 0, 1, 2 and the handshake pipes, nothing else.
	if !o.isOff("fds") {
		closeOnExec(common.Parent, "the caller's descriptors stay outside")
	}

	// cgroup (08-cgroup): cpu, memory and pids limits, made first, so
	// that the child can be placed in it before it runs anything of its own.
	g := makeLimits(o)
	// overlayfs (05-mount overlay): the rootfs stays as it is; the
	// container writes to a layer of this run (overlay.go).
	o.layer = makeLayer(o)

	// clone with a new namespace of each kind the chapters taught: UTS
	// (02), IPC (03), PID (04), mount (05), net (06), and with -rootless
	// user (07). The cgroup namespace (08) comes later, from inside: see
	// containerInit. Go cannot clone into a function: the child is this
	// binary again, as containerInit (common/reexec.go).
	cmd := common.Command("containerInit", o.childArgs()...)
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET}
	hs := common.NewHandshake(cmd)
	// PID 1's environment can be read through /proc/1/environ: the
	// caller's, with whatever tokens it holds, must stay outside. PID 1
	// keeps nslab's own marks (common/reexec.go) and TERM, and looks the
	// command up in the container's PATH.
	cmd.Env = append(slices.DeleteFunc(cmd.Env, func(kv string) bool {
		return !strings.HasPrefix(kv, "NSLAB_") && !strings.HasPrefix(kv, "TERM=")
	}), "PATH="+containerPath)
	if !o.isOff("fds") {
		// Go 1.25 and later keep the cpu.max (v1: cpu.cfs_quota_us) of
		// the cgroup they start in open, to follow its limit: for PID 1
		// that is the host's cgroup, and a command could write it through
		// /proc/1/fd. This asks the runtime to read it once and close it.
		cmd.Env = append(cmd.Env, "GODEBUG=containermaxprocs=0")
	}
	if o.rootless {
		// user (07-user): root inside is the invoking user outside. Go
		// writes uid_map and gid_map itself, between clone and exec, and
		// "deny" to setgroups first (GidMappingsEnableSetgroups is false).
		cmd.SysProcAttr.Cloneflags |= unix.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = append(cmd.SysProcAttr.UidMappings, idMap{ContainerID: 0, HostID: o.uid, Size: 1})
		cmd.SysProcAttr.GidMappings = append(cmd.SysProcAttr.GidMappings, idMap{ContainerID: 0, HostID: o.gid, Size: 1})
		if os.Getuid() != o.uid {
			// Under sudo: our own uid 0 is not in the map, and exec would
			// drop the capabilities of an unmapped uid. Ambient ones
			// survive it; containerInit then becomes uid 0 inside.
			cmd.SysProcAttr.AmbientCaps = allCaps()
		}
	}
	common.Step(common.Parent("clone("+cloneNames(cmd.SysProcAttr.Cloneflags)+")"), "a new namespace of each kind but cgroup")
	child, err := common.StartChild(cmd)
	if o.rootless && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSPC)) {
		common.ErrExit("clone(CLONE_NEWUSER)", err,
			"this kernel refuses user namespaces to unprivileged users: see sysctl kernel.unprivileged_userns_clone and user.max_user_namespaces")
	} else if err != nil {
		common.ErrExit("starting the container", err)
	}
	hs.Started()
	pid := child.Pid()

	// The child waits while we put it in the cgroup and give it a network:
	// nothing it runs is ever outside its limits.
	if g != nil {
		if err := g.Add(pid); err != nil {
			common.ErrExit(fmt.Sprintf("echo %d > cgroup.procs", pid), err)
		}
		common.Step(common.Parent(fmt.Sprintf("echo %d > %s/cgroup.procs", pid, g.Dirs()[0])), "placed before it runs")
	}
	if o.net {
		veth(pid) // net.go: a veth from the container to a namespace of our own
	}
	if _, err := hs.Release.Write([]byte{1}); err != nil {
		common.ErrExit("releasing the container", err)
	}

	// Wait for PID 1 of the container. Its status is the command's: what
	// `docker run` returns, 137 for a command the OOM killer ended.
	status := common.ExitStatus(child.Wait())
	how := child.Cmd.ProcessState.String()
	if status > 128 && child.Cmd.ProcessState.Exited() { // init passes on a signal as 128+N, as a shell does
		how = "the command was killed by " + unix.SignalName(unix.Signal(status-128))
	}
	fmt.Println(common.Parent(fmt.Sprintf("container exited: %s (status %d)", how, status)))
	if o.keep != "" {
		fmt.Println(common.Parent("what it wrote is kept in " + o.keep + "/upper"))
	}
	common.Exit(status)
}

// containerInit is PID 1 of the container. Each step below is one chapter.
// args: rootfs, the overlay's directory, hostname, the layers turned off,
// rootless, then the command.
func containerInit(args []string) int {
	o := initOptions(args)
	// The terminal's Ctrl-C reaches the whole process group: the parent
	// ends us in order (common.StartChild).
	signal.Ignore(os.Interrupt)
	if !common.WaitForParent() { // placed in the cgroup, network wired
		common.Fatalf("the parent ended before releasing the container")
	}
	if o.rootless && os.Getuid() != 0 {
		// Under sudo (see run): setresgid(0,0,0) and setresuid(0,0,0)
		// inside the user namespace, with the ambient capabilities run gave
		// us. (x/sys/unix makes both calls on every thread, as they must be
		// in Go.)
		if err := unix.Setresgid(0, 0, 0); err != nil {
			common.ErrExit("setresgid(0, 0, 0)", err)
		}
		if err := unix.Setresuid(0, 0, 0); err != nil {
			common.ErrExit("setresuid(0, 0, 0)", err)
		}
	}

	// UTS (02-uts): our own hostname.
	common.Did(common.Child, "hostname "+o.hostname, "UTS: the host keeps its name", unix.Sethostname([]byte(o.hostname)))

	// IPC (03-ipc): nothing to do; the namespace is empty, and `ipcs`
	// inside shows none of the host's queues, semaphores or segments.
	common.Step(common.Child("ipcs"), "IPC: empty, the host's objects are elsewhere")

	// cgroup namespace (08-cgroup ns): /proc/self/cgroup shows "/" for
	// the cgroup we are in now. The root of a cgroup namespace is the
	// cgroup its creator is in at the time: made at clone, it would be the
	// parent's. So, like runc, unshare it now that the parent has moved us.
	// unshare changes the calling thread only: this one, locked in init,
	// from which the command will be started.
	common.Did(common.Child, "unshare --cgroup", "cgroup: our cgroup is / in here", unix.Unshare(unix.CLONE_NEWCGROUP))

	// mount (05-mount): nothing propagates back; the rootfs becomes /.
	common.Did(common.Child, "mount --make-rprivate /", "no mount propagates to the host", common.MakeMountsPrivate())
	if o.layer != "" {
		o.rootfs = mountLayer(o) // from here on, the root is the overlay
	}
	buildRoot(o.rootfs) // mounts.go: a fresh /proc, a minimal /dev, /sys read-only
	if o.isOff("pivot") {
		common.ChrootInto(o.rootfs) // the host's tree stays reachable
	} else {
		common.PivotInto(o.rootfs) // the host's tree is gone
	}
	if !o.isOff("masks") {
		maskPaths() // runc's masked and read-only /proc and /sys paths
	}

	// net (06-net): loopback up; eth0 came from the parent with -net.
	common.Did(common.Child, "ip link set lo up", "net: lo only, unless -net gave an eth0", loUp())

	// The last mile (security.go): what root in here may still do.
	lastMile(o)

	// PID (04-pid): we are PID 1. Start the command as our child, and
	// reap every process that ends in the namespace: orphans are ours.
	// Started from this locked thread, it inherits its capabilities,
	// no_new_privs and seccomp filter.
	cmd := exec.Command(o.argv[0], o.argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = []string{"PATH=" + containerPath, "HOME=/root", "TERM=" + os.Getenv("TERM")}
	shown := strings.Join(o.argv, " ")
	if first, _, _ := strings.Cut(shown, "\n"); first != shown || len(shown) > 60 {
		shown = first[:min(len(first), 60)] + " ..."
	}
	if !o.isOff("fds") {
		closeOnExec(common.Child, "the command gets 0, 1 and 2 only")
	}
	spareThreads(8) // limits.go: none to ask for once the command runs
	common.Step(common.Child("exec "+shown), fmt.Sprintf("PID %d is %s: it starts this and reaps", os.Getpid(), common.Prog))
	// Not StartChild: its Wait would take the status reap's wait4(-1) waits for.
	if err := cmd.Start(); err != nil {
		notStarted(o.argv[0], err)
	}
	return reap(cmd.Process.Pid)
}

// notStarted exits as a shell and `docker run` do when the command cannot
// run: 127 when there is no such command, 126 when it is not executable.
// The line is the shell's kind ("sh: x: not found"), not one of common's
// error lines, whose status is 1 or 2.
func notStarted(name string, err error) {
	code, line := 126, common.Describe(name, err, "found, but the container cannot execute it: its mode or format")
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, unix.ENOENT) {
		code, line = 127, fmt.Sprintf("%s: command not found in the container (PATH=%s)", name, containerPath)
	}
	fmt.Fprintf(os.Stderr, "%s: %s\n", common.Prog, line)
	common.Exit(code)
}

// reap is PID 1's loop: wait for any child, forward the signals a
// container is stopped with, and return the command's status once it has
// ended. (When PID 1 exits, the kernel kills every process left in the
// namespace.)
func reap(cmdPid int) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGHUP)
	go func() {
		for s := range sigs {
			unix.Kill(cmdPid, s.(unix.Signal))
		}
	}()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case err == unix.EINTR: // a signal came: wait again
		case err != nil:
			common.ErrExit("wait4", err)
		case pid == cmdPid:
			return common.ShellStatus(ws)
		} // else an orphan: reaped, as init must
	}
}
