// Command 03-ipc is the IPC part of the Korean post "linux namespace" (one
// unshare(1) session per namespace type), the shell session
//
//	ipcs -m; ipcmk -M 1000; ipcs -m; unshare --ipc /bin/sh
//	ipcs -m; exit                      (typed in that new shell)
//	ipcrm -M KEY; ipcs -m
//
// as one program, command by command: each `// $` comment is the post's
// command, the Go below it does the same, and a "+ command" line on stdout
// says which one runs. The C counterpart is c/ipcmk_unshare_ipcs.c.
// What the chapter adds to the session sits in mqueue.go (a POSIX message
// queue, isolated too) and join.go (-hold, to look at the child's
// namespace from another shell); ipcs.go prints ipcs -m's columns.
//
//	sudo go run ./03-ipc [-hold D]
package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"

	"nslab/common"
)

const (
	shmSize = 1000  // bytes, as in `ipcmk -M 1000`
	shmMode = 0o644 // ipcmk's default permissions
)

// made is what this run created, for ipcrm and unlinkQueue. In the post the
// learner removes the segment by hand; here the removal is also the cleanup
// of every other way out (an error, Ctrl-C), which in Go runs on another
// goroutine while main may be creating: the lock makes "create it and
// remember it" one step for it. (C blocks the signals instead.)
var made = struct {
	sync.Mutex
	shmid int    // -1: no segment
	key   uint32 // its key
	queue string // "": no queue
}{shmid: -1}

func init() {
	// The child: see common/reexec.go for why Go re-executes itself where
	// unshare(1) calls unshare(2) and then executes /bin/sh.
	common.Register("sh", sh)
}

func main() {
	common.Dispatch()
	hold := parseFlags() // -hold: see join.go

	common.RequireRoot("creating an IPC namespace")
	common.RequireNamespaces(unix.CLONE_NEWIPC)

	// The undo steps come before the objects they undo (they do nothing
	// while there is none), and run newest first: the post's ipcrm, on
	// every way out.
	common.AtExit(ipcrm)
	queue := fmt.Sprintf("/nslab-03-ipc-%d", os.Getpid())
	common.AtExit(func() { unlinkQueue(queue) })

	// $ ipcs -m
	common.Step("ipcs -m", "the segments of our IPC namespace")
	ipcsM()

	// $ ipcmk -M 1000
	common.Step("ipcmk -M 1000", "a 1000-byte System V shared memory segment")
	key := ipcmk(shmSize)
	createQueue(queue) // not in the post: a POSIX message queue too (mqueue.go)

	// $ ipcs -m
	common.Step("ipcs -m", "there it is")
	ipcsM()
	showQueue(queue) // not in the post: is the queue here? (mqueue.go)

	// $ unshare --ipc /bin/sh
	// Go cannot unshare(CLONE_NEWIPC) itself: it would move one thread of
	// the runtime only. It starts itself again as "sh" (below), cloned
	// with CLONE_NEWIPC, where unshare(1) unshares and executes /bin/sh.
	common.Step("unshare --ipc /bin/sh", "a child in a new IPC namespace")
	cmd := common.Command("sh", queue, hold.String())
	hs := common.NewHandshake(cmd) // fd 3 and 4 in the child
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWIPC}
	// StartChild: the child dies with us, and a signal's cleanup kills and
	// reaps it before the objects are removed (cleanups run newest first).
	child, err := common.StartChild(cmd)
	if err != nil {
		common.ErrExit("starting the child with CLONE_NEWIPC", err)
	}
	hs.Started()

	// Not in the post: which namespaces differ (only ipc), read from
	// /proc/PID/ns while the child waits for us to close fd 4.
	fmt.Printf("PID of child in new IPC namespace: %d\n", child.Pid())
	common.PrintNSTable(os.Stdout,
		common.NSColumn{Label: "parent", PID: os.Getpid()},
		common.NSColumn{Label: "child", PID: child.Pid()})
	fmt.Println()
	hs.Release.Close() // the child may list now

	// $ exit
	// (typed in the child's shell: see sh; the parent waits for it.)
	if err := child.Wait(); err != nil {
		// Fatalf runs the cleanups: the objects are removed all the same.
		common.Fatalf("child %d failed: %v", child.Pid(), err)
	}

	// $ ipcrm -M {shared memory segment key}
	common.Step(fmt.Sprintf("ipcrm -M 0x%08x", key), "remove it")
	ipcrm()
	unlinkQueue(queue) // not in the post

	// $ ipcs -m
	common.Step("ipcs -m", "it is gone")
	ipcsM()
	showQueue(queue) // not in the post: is the queue here? (mqueue.go)
	common.Exit(0)   // not return: Exit runs the (now idle) cleanups too
}

// sh plays the post's /bin/sh, started by `unshare --ipc`: it runs, in the
// new IPC namespace, what the post types into that shell. args: the queue's
// name and how long to stay.
func sh(args []string) int {
	if len(args) != 2 {
		common.Fatalf("sh: want QUEUE SLEEP, got %q", args)
	}
	// Ctrl-C reaches the whole foreground process group, so us too. Leave
	// it to the parent: it kills and reaps us, then removes its objects.
	// SIGPIPE as in the parent (common.AtExit): a closed stdout is no failure.
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)
	common.WaitParentClose() // the parent has printed its namespace table

	// $ ipcs -m
	common.Step(common.Child("ipcs -m"), "in the new IPC namespace: no segment")
	ipcsM()
	showQueue(args[0]) // not in the post (mqueue.go)
	stay(args[1])      // not in the post: -hold (join.go)

	// $ exit
	common.Step(common.Child("exit"), "back to the parent's IPC namespace")
	return 0
}

// keyPrefix is the top half of our keys, "ns": `sudo make reset`
// (lab/reset.sh) tells a segment a crash left behind by it and its size.
const keyPrefix = 0x6e73 << 16

// ipcmk is `ipcmk -M size`: a segment under a random key, as ipcmk makes
// it (but 0x6e73XXXX: see keyPrefix), and ipcmk's one line of output.
func ipcmk(size int) (key uint32) {
	// ipcmk tries one random key without IPC_EXCL, so it could get someone
	// else's segment back; IPC_EXCL and a few tries make sure it is ours.
	for range 10 {
		key = keyPrefix | rand.Uint32N(1<<16)
		made.Lock()
		// key_t is a C int: pass the 32 bits as a signed number.
		id, err := unix.SysvShmGet(int(int32(key)), size, unix.IPC_CREAT|unix.IPC_EXCL|shmMode)
		if err == nil {
			made.shmid, made.key = id, key
		}
		made.Unlock() // before ErrExit, whose cleanups take the lock
		if err == nil {
			fmt.Printf("Shared memory id: %d\n", id)
			return key
		}
		if !errors.Is(err, unix.EEXIST) {
			common.ErrExit("shmget", err)
		}
	}
	common.Fatalf("shmget: 10 random keys were all taken; try again")
	return 0
}

// ipcrm is `ipcrm -M KEY` for our segment, and the cleanup: it does nothing
// when there is no segment (any more), so it is safe to run twice.
func ipcrm() {
	made.Lock()
	defer made.Unlock()
	if made.shmid < 0 {
		return
	}
	// ipcrm -M looks the id up first, shmget(key, 0, 0); we kept it.
	if _, err := unix.SysvShmCtl(made.shmid, unix.IPC_RMID, nil); err != nil {
		common.Warnf("%s (%s)", common.Describe(fmt.Sprintf("shmctl(%d, IPC_RMID)", made.shmid), err), common.LeftHint)
	} else {
		fmt.Printf("Removed shared memory segment %d (key 0x%08x)\n", made.shmid, made.key)
	}
	made.shmid = -1
}
