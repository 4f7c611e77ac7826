// Command 06-net is the network-namespace session of ysoftman's Korean
// post "linux namespace" (unshare, lsns, cgroups, stress) in Go. Each
// command of the session is a sub-command, in the session's order here:
//
//	unshare --net /bin/sh; ip a                06-net show [-hold D]
//	ip netns add mynet                         06-net add mynet
//	ip netns list    (or ls /var/run/netns)    06-net list
//	nsenter --net=/var/run/netns/mynet; ip a   06-net exec mynet ip a
//	lsns -p $$                                 06-net exec mynet sh -c 'lsns -p $$'
//	lsns -t net -p $$                          06-net exec mynet sh -c 'lsns -t net -p $$'
//
// Beyond the session: del and what `ip netns` adds (netns.go), two
// namespaces joined by a veth pair (link.go), and why Go enters a
// namespace one thread at a time (thread.go). The session in C is
// c/unshare_net.c.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

func init() {
	// The shell that `unshare --net /bin/sh` starts: show re-executes this
	// binary as "childFunc" (common/reexec.go says why Go cannot fork).
	common.Register("childFunc", childFunc)
}

// show is the session's first two commands: a child in a new network
// namespace runs `ip a`; then the host's `ip a`, to compare.
func show(args []string) {
	hold := showFlags(args) // -hold D (cli.go)
	common.RequireRoot("creating a network namespace")
	common.RequireNamespaces(unix.CLONE_NEWNET)

	// $ unshare --net /bin/sh
	// unshare(1) calls unshare(CLONE_NEWNET), then execs the shell. Go
	// starts this binary again as "childFunc", cloned with CLONE_NEWNET:
	// a Go program cannot unshare its many threads at once (thread.go).
	common.Step("unshare --net /bin/sh", "a child in a new network namespace")
	cmd := common.Command("childFunc", hold.String())
	hs := common.NewHandshake(cmd) // fd 3 and fd 4 in the child
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWNET}
	child, err := common.StartChild(cmd) // dies with us, even on Ctrl-C
	if err != nil {
		common.ErrExit("starting the child (clone CLONE_NEWNET)", err)
	}
	hs.Started()
	// Not in the session, where one person types both: wait until the
	// child has printed its `ip a` (EOF: it died first).
	hs.MustBeReady(child, "the child")

	// $ ip a   (on the host: "the information differs from the host's")
	common.Step("ip a", fmt.Sprintf("on the host, PID %d in %s, to compare", os.Getpid(), netID("/proc/self/ns/net")))
	ipA(common.Parent)
	if pid := child.Pid(); hold > 0 {
		fmt.Printf("child PID %d holds its network namespace for %s; from another shell try\n", pid, hold)
		fmt.Printf("    nsenter -t %d -n ip a   or   lsns -t net -p %d\n", pid, pid)
	}
	hs.Release.Close() // the child may now start its -hold
	child.Wait()
	// A child killed by a signal (kill PID) is how a -hold is ended early:
	// no failure. A child that exited with an error status is.
	if st := cmd.ProcessState; st.ExitCode() > 0 {
		common.Fatalf("the child failed (%s)", st)
	}
}

// childFunc is the session's shell, in the new namespace. args: -hold.
func childFunc(args []string) int {
	hold, err := time.ParseDuration(args[0])
	if err != nil {
		common.Fatalf("childFunc: %v", err)
	}
	// Ctrl-C reaches the whole foreground group: leave it to the parent,
	// which kills and reaps us in order (common.StartChild).
	signal.Ignore(unix.SIGINT, unix.SIGHUP)

	// $ ip a   (in the shell that unshare started). ipA prints what ip a
	// says of each link's index, name and UP flag, not its addresses.
	common.Step(common.Child("ip a"), fmt.Sprintf("in the child, PID %d in %s", os.Getpid(), netID("/proc/self/ns/net")))
	ipA(common.Child)
	common.TellParent()
	common.WaitParentClose() // the parent has printed: now the -hold
	time.Sleep(hold)
	return 0
}

// netnsAdd is `ip netns add NAME`: a new namespace, held by a bind mount
// on the file /run/netns/NAME, whose path is its "name".
func netnsAdd(args []string) {
	name, path, _ := nameArg(common.Prog+" add NAME", args, 1)
	common.RequireRoot("creating a network namespace")
	common.RequireNamespaces(unix.CLONE_NEWNET)
	if _, err := os.Lstat(path); err == nil { // a taken name changes nothing
		common.Fatalf("%s exists: %s del %s first", name, common.Prog, name)
	}
	// The undo step first: if anything below fails, or Ctrl-C comes, it
	// removes the half-made name; after success (u.done) it does nothing:
	// the name must outlive us, as with ip netns add (netns.go).
	u := undoHalfAdd(path)
	if what, err := makeRunDirShared(u); err != nil { // as iproute2 does first (netns.go)
		common.ErrExit(what, err)
	}

	// $ ip netns add mynet
	// iproute2: open(O_CREAT|O_EXCL) an empty file, mode 0: the mount point.
	u.Lock() // a Ctrl-C now waits until the name is whole, then undoes it whole
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0)
	if err == nil {
		f.Close()
		u.made = true
		common.Step("touch "+path, "the mount point")
		// iproute2: unshare(CLONE_NEWNET), bind /proc/self/ns/net on the
		// file, setns() back. Go: the same on a thread of its own, whose
		// namespace is /proc/thread-self/ns/net (/proc/self is the main
		// thread's); the thread then steps back and ends (thread.go).
		err = common.OnThread(func() error {
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
			}
			common.Step("unshare --net  (on one thread, which then exits)", "a new network namespace")
			if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("mount --bind /proc/thread-self/ns/net %s: %w", path, err)
			}
			common.Step("mount --bind /proc/thread-self/ns/net "+path, "now the bind mount holds it")
			return nil
		})
	}
	u.done = err == nil
	u.Unlock()
	if errors.Is(err, fs.ErrExist) { // O_EXCL: someone took the name meanwhile
		common.Fatalf("%s exists: %s del %s first", name, common.Prog, name)
	} else if err != nil {
		common.ErrExit("ip netns add "+name, err)
	}
	fmt.Printf("%s: %s\n", name, common.Child(netID(path)))
}

// netnsList is `ip netns list`, which is `ls /var/run/netns` (/var/run is
// /run), with the namespace each name holds. Reading needs no root.
func netnsList(args []string) {
	common.NewFlags(common.Prog + " list").Parse(args)
	// $ ip netns list
	entries, err := os.ReadDir(netnsRunDir) // sorted by name
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		common.ErrExit("ls "+netnsRunDir, err)
	}
	for _, e := range entries {
		fmt.Printf("%-20s %s\n", e.Name(), heldNetns(filepath.Join(netnsRunDir, e.Name())))
	}
}

// netnsExec is the session's `nsenter --net=/var/run/netns/mynet` and the
// command typed in there (`ip a`, `lsns -p $$`), as `ip netns exec` does
// it: join the namespace, then execve() the command, which replaces us
// (no child: its exit status and signals are the command's own).
func netnsExec(args []string) {
	usage := common.Prog + " exec NAME cmd [arg...]"
	name, path, args := nameArg(usage, args, -1)
	if len(args) < 2 {
		common.UsageError(usage, "missing the command to run in %s", name)
	}
	common.RequireRoot("entering a network namespace")

	// $ nsenter --net=/var/run/netns/mynet
	// Namespaces belong to threads, and execve() turns the calling thread
	// into the whole new process: so lock this goroutine to its thread,
	// change that thread, exec from it. Never unlocked (thread.go).
	runtime.LockOSThread()
	enterNetns(name, path)
	ownSys(name) // not in nsenter: ip netns exec's /sys and /etc/netns (netns.go)

	// $ ip a   (or any command)
	bin, err := exec.LookPath(args[1])
	if err != nil {
		common.ErrExit("exec "+args[1], err)
	}
	common.ErrExit("exec "+bin, unix.Exec(bin, args[1:], os.Environ()))
}
