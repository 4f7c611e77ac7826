// Command 09-setns joins the namespaces of a running process with setns(2),
// in two forms:
//
//	09-setns [-hold] PID
//	09-setns [-go-only] -t PID [-a] [-C] [-i] [-m] [-n] [-p] [-T] [-u] [-U] [cmd [arg...]]
//
// The first is the seed's joiner (c/setns_joiner.c is our C of it): open
// /proc/PID/ns/{uts,user,pid,ipc,net,mnt}, join each in that order and
// print who we are after each step, then fork a child, which is in the
// target's PID namespace, and let it print who it is. The second is a small
// nsenter(1): join any subset and run a command there (default $SHELL).
//
// Go can join most namespace types, from one locked thread (join.go), but
// not a user or time namespace: the kernel refuses them to a process with
// more than one thread, and a Go program always has several. Those, and the
// whole seed joiner, are joined by a C constructor that runs before the Go
// runtime starts (nsexec.c), the way runc's nsenter does.
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// seedOrder is the seed's: uts, user, pid, ipc, net, mnt. uts before user
// works only for root, who holds CAP_SYS_ADMIN over every user namespace
// below its own; anyone else must join the user namespace first (runOrder).
// The seed puts mnt last because it opens each /proc/PID/ns file just before
// joining it, and once in the target's mount namespace, /proc is the
// target's. We open them all first (openTarget); mnt stays last.
var seedOrder = []string{"uts", "user", "pid", "ipc", "net", "mnt"}

// runOrder is nsenter's: user first, which gives a joiner that is not root
// the capabilities it needs for the rest; mnt late, since after it the
// thread's root and working directory are the target's.
var runOrder = []string{"user", "cgroup", "ipc", "uts", "net", "pid", "mnt", "time"}

func init() {
	// Keep main on the process's main thread for good. setns(2) moves the
	// calling thread only, so every join and the fork of the command must
	// happen on one thread; the main thread is also the one /proc/PID/ns
	// shows. The lock is never undone: a thread that has joined other
	// namespaces must not go back to running other goroutines.
	runtime.LockOSThread()

	// The processes the C constructor lets into the Go runtime after its
	// joins (nsexec.c): main re-executes this binary under one of these
	// names (see common/reexec.go for why Go re-executes itself at all).
	common.Register("childFunc", childFunc)
	common.Register("runCmd", runCmd)
}

// childFunc is the seed's child: forked by the joiner after the joins, so
// in the target's PID namespace, it prints who it is. Then it waits until
// the parent has looked at it (fd 4 closed): for good with -hold.
func childFunc(args []string) int {
	constructorRan()
	fmt.Println("********")
	fmt.Println(common.Child("in child process"))
	common.PrintInfo(os.Stdout)
	fmt.Println("********")
	ready := os.NewFile(common.ReadyFD, "ready")
	if _, err := ready.Write([]byte{1}); err != nil {
		common.ErrExit("write to parent", err)
	}
	ready.Close()
	io.Copy(io.Discard, os.NewFile(common.ReleaseFD, "release"))
	return 0
}

// runCmd runs the command in the namespaces the constructor joined. PATH is
// searched now, in the target's mount namespace, as nsenter's execvp does.
func runCmd(args []string) int {
	constructorRan()
	path, err := exec.LookPath(args[0])
	if err != nil {
		common.ErrExit("exec "+args[0], err)
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "NSLAB_PROG=") })
	err = unix.Exec(path, args, env)
	common.ErrExit("exec "+path, err)
	return 1
}

// constructorRan guards the roles: NSLAB_SETNS still set means that no
// constructor read it, so nothing was joined.
func constructorRan() {
	if os.Getenv(specEnv) != "" {
		common.Fatalf("%s is still set: the C constructor did not run (was the program built without cgo?)", specEnv)
	}
}

func usage() string {
	return common.Prog + " [-hold] PID | " + common.Prog + " [-go-only] -t PID [-aCimnpTuU] [cmd [arg...]]"
}

func main() {
	common.Dispatch()
	req := parseArgs(os.Args[1:])
	if !req.run {
		seedJoiner(req.pid, req.hold)
	} else {
		nsenter(req.pid, req.names, req.goOnly, req.argv)
	}
}

// seedJoiner is the seed's program. The C constructor does all of its
// joining and printing, in a re-executed copy of this binary (the joiner);
// we start it, and once its child has printed, show what the kernel says
// about the three processes.
func seedJoiner(pid int, hold bool) {
	requireConstructor("the seed joiner joins a user namespace")
	common.RequireNamespaces(flagsOf(seedOrder))
	comm := checkTarget(pid)
	files := openTarget(pid, seedOrder)
	fmt.Println(common.Dim(fmt.Sprintf("--- the joiner: /proc/%d/ns/{%s} of %s are open; join them in that order ---",
		pid, strings.Join(seedOrder, ","), comm)))

	hs := common.NewHandshake()
	cmd := constructorCmd("childFunc", "seed", files, hs.ChildFiles())
	child, err := common.StartChild(cmd)
	if err != nil {
		common.ErrExit("starting the joiner", err)
	}
	hs.Started()
	closeAll(files)
	if !hs.WaitReady() {
		// The constructor has said why, in one line: pass its status on.
		common.Exit(common.ExitStatus(child.Wait()))
	}

	joiner := child.Pid()
	grandchild := childOf(joiner)
	fmt.Println()
	common.PrintNSTable(os.Stdout,
		common.NSColumn{Label: "target", PID: pid},
		common.NSColumn{Label: "joiner", PID: joiner},
		common.NSColumn{Label: "child", PID: grandchild})
	if ino, err := common.NSInode(joiner, "pid_for_children"); err == nil {
		fmt.Printf("joiner's pid_for_children: %d: setns(CLONE_NEWPID) moved its children, not itself\n", ino)
	}
	fmt.Println()
	if hold {
		fmt.Println(common.Dim(fmt.Sprintf("--- holding the joiner (%d) and its child (%d): Ctrl-C ends them ---", joiner, grandchild)))
	} else {
		hs.Release.Close() // the child may exit now
	}
	common.Exit(common.ExitStatus(child.Wait()))
}

// nsenter is `nsenter -t PID -u -n ... cmd`: join the chosen namespaces and
// run cmd there. Go joins them itself when it can; a user or time namespace
// needs the C constructor, unless -go-only shows what happens without it.
func nsenter(pid int, names []string, goOnly bool, argv []string) {
	common.RequireNamespaces(flagsOf(names))
	checkTarget(pid)
	files := openTarget(pid, names)

	if needsConstructor(files) && !goOnly {
		requireConstructor("joining a user or time namespace")
		cmd := constructorCmd("runCmd", "run", files, nil, argv...)
		child, err := common.StartChild(cmd)
		if err != nil {
			common.ErrExit("starting the joiner", err)
		}
		closeAll(files)
		common.Exit(common.ExitStatus(child.Wait()))
	}

	joinHere(files)
	// Created after the joins and on this thread: exec.Command searches
	// PATH in the target's mount namespace, and the fork inherits this
	// thread's namespaces, pid_for_children included.
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	wait := startCommand(cmd, slices.ContainsFunc(files, func(n nsFile) bool { return n.name == "pid" && n.f != nil }))
	common.Exit(common.ExitStatus(wait()))
}

// request is what the command line asks for.
type request struct {
	run          bool // the nsenter form (-t PID)
	pid          int
	hold, goOnly bool
	names        []string // namespace types, in the order to join them
	argv         []string
}

// parseArgs reads both forms. -hold and -go-only are words, as Go's flags
// are; the nsenter form's one-letter options go through common.Getopt with
// '+': parsing stops at the command, which keeps its own options.
func parseArgs(args []string) request {
	var req request
	args = takeWords(args, &req)
	opts, rest, err := common.Getopt(args, "+ht:aCimnpTuU")
	if err != nil {
		for _, a := range args {
			if _, nerr := strconv.Atoi(a); nerr == nil && a[0] == '-' {
				parsePID(a) // "09-setns -1" is a bad PID, not an option
			}
		}
		common.UsageError(usage(), "%v", err)
	}
	want := map[string]bool{}
	for _, o := range opts {
		switch o.Letter {
		case 'h':
			fmt.Printf("usage: %s\n", usage())
			common.Exit(0)
		case 't':
			req.run = true
			req.pid = parsePID(o.Arg)
		case 'a':
			for _, ns := range common.Namespaces {
				if len(common.MissingNamespaces(ns.Flag)) == 0 {
					want[ns.Name] = true
				}
			}
		default:
			for _, ns := range common.Namespaces {
				if ns.Letter == o.Letter {
					want[ns.Name] = true
				}
			}
		}
	}

	if !req.run {
		switch {
		case len(want) > 0:
			common.UsageError(usage(), "namespace options need -t PID (the seed form joins its six itself)")
		case req.goOnly:
			common.UsageError(usage(), "-go-only goes with -t PID: the seed form always needs the constructor")
		case len(rest) == 0:
			common.UsageError(usage(), "missing PID")
		case len(rest) > 1:
			common.UsageError(usage(), "unexpected argument %q after the PID (options go first)", rest[1])
		}
		req.pid = parsePID(rest[0])
		req.names = seedOrder
		return req
	}
	if req.hold {
		common.UsageError(usage(), "-hold goes with the seed form (%s -hold PID); with -t the command decides how long it runs", common.Prog)
	}
	if len(want) == 0 {
		common.UsageError(usage(), "no namespace chosen: add -a for all, or some of -C -i -m -n -p -T -u -U")
	}
	for _, name := range runOrder {
		if want[name] {
			req.names = append(req.names, name)
		}
	}
	req.argv = rest
	if len(req.argv) == 0 {
		shell := os.Getenv("SHELL")
		if shell == "" {
			shell = "/bin/sh"
		}
		req.argv = []string{shell}
	}
	return req
}

// takeWords takes -hold and -go-only out of the options (before the PID or
// the command), leaving getopt the one-letter options.
func takeWords(args []string, req *request) []string {
	var rest []string
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-hold", "--hold":
			req.hold = true
			continue
		case "-go-only", "--go-only":
			req.goOnly = true
			continue
		case "-help", "--help":
			a = "-h"
		}
		if a == "--" || len(a) < 2 || a[0] != '-' {
			break
		}
		rest = append(rest, a)
		// -t PID, also at the end of a group (-ut PID): keep its value.
		if strings.IndexByte(a[1:], 't') == len(a)-2 && i+1 < len(args) {
			i++
			rest = append(rest, args[i])
		}
	}
	return append(rest, args[i:]...)
}

func parsePID(s string) int {
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		common.UsageError(usage(), "PID must be a positive number, got %q", s)
	}
	return pid
}
