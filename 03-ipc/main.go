// 03-ipc shows what an IPC namespace isolates. Like `ipcmk -M 1000` it
// creates a 1000-byte System V shared memory segment (and a POSIX message
// queue), lists them as `ipcs -m` would, then starts a child in a new IPC
// namespace, where the same listing comes back empty. On the way out (also
// on an error or Ctrl-C) it removes both objects.
//
// The C counterpart is c/ipc_namespace.c.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"nslab/common"
)

const (
	shmSize = 1000  // bytes, as in `ipcmk -M 1000`
	shmMode = 0o644 // ipcmk's default permissions

	// Not in x/sys/unix: from <linux/magic.h> and <linux/shm.h>.
	mqueueMagic = 0x19800202 // statfs f_type of an mqueue filesystem
	shmDest     = 0o1000     // segment marked for removal ("dest" in ipcs)
	shmLocked   = 0o2000     // segment locked in memory ("locked" in ipcs)
)

func init() {
	// The child role: see common/reexec.go for why Go re-executes itself
	// where C calls clone(childFunc, ...).
	common.Register("childFunc", childFunc)
}

// childFunc runs in the new IPC namespace. args: the queue name and how long
// to stay. Fd 3 is the read end of a pipe: the parent closes the write end
// once it has printed its side, so the two outputs do not interleave.
func childFunc(args []string) int {
	if len(args) != 2 {
		common.Fatalf("childFunc: want QUEUE SLEEP, got %q", args)
	}
	queue := args[0]
	sleep, err := time.ParseDuration(args[1])
	if err != nil {
		common.Fatalf("childFunc: %v", err)
	}

	// Ctrl-C sends SIGINT to the whole foreground process group, so to us
	// too. Ignore it: the parent owns the cleanup and kills us itself.
	// SIGPIPE as in the parent (see main): a closed stdout is no failure.
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)

	ready := os.NewFile(3, "ready")
	io.Copy(io.Discard, ready) // returns at EOF: the parent closed its end
	ready.Close()

	fmt.Println()
	listIPC(common.Child("child"), queue)
	if sleep > 0 {
		fmt.Printf("%s: staying %v in my IPC namespace; from another shell try\n",
			common.Child("child"), sleep)
		fmt.Printf("    nsenter -t %d -i ipcs -m\n", os.Getpid())
		time.Sleep(sleep)
	}
	return 0
}

func usage() string {
	return common.Prog + " [-sleep DURATION]"
}

func main() {
	common.Dispatch()

	fs := common.NewFlagSet()
	sleep := fs.Duration("sleep", 0, "how long the child stays in its IPC namespace after listing, e.g. 60s")
	common.ParseFlags(fs, usage(), os.Args[1:])
	if *sleep < 0 {
		common.UsageError(usage(), "-sleep must not be negative, got %v", *sleep)
	}

	common.RequireRoot("creating an IPC namespace")
	common.RequireNamespaces(unix.CLONE_NEWIPC)

	// Undo steps first (C: atexit + a SIGINT/SIGTERM handler), then the
	// objects. AtExit runs them newest first: kill the child, then unlink
	// the queue, then remove the segment.
	common.AtExit(removeSegment)
	createSegment()
	queue := fmt.Sprintf("/nslab-03-ipc-%d", os.Getpid())
	common.AtExit(func() { unlinkQueue(queue) })
	createQueue(queue)

	fmt.Println()
	listIPC(common.Parent("parent"), queue)

	runChild(queue, *sleep)

	fmt.Println()
	unlinkQueue(queue) // the same steps AtExit holds; they run only once
	removeSegment()
	fmt.Println()
	listIPC(common.Parent("parent, after removing"), queue)
	common.Exit(0) // not return: Exit runs the (now idle) cleanups too
}

// The objects this program made. The mutex makes "create it and remember
// it" a single step as far as the cleanup is concerned: in Go the cleanup
// runs on another goroutine (common's signal handler) while main may be
// in the middle of creating. C gets the same effect by blocking signals.
var made struct {
	sync.Mutex
	shmid int    // -1: no segment
	queue string // "": no queue
}

func init() { made.shmid = -1 }

// createSegment is `ipcmk -M 1000`: a new segment under a random key.
func createSegment() {
	made.Lock()
	var key uint32
	var id int
	var err error
	for range 10 {
		key = rand.Uint32()
		if key == unix.IPC_PRIVATE {
			continue
		}
		// key_t is a C int: pass the 32 bits as a signed number.
		id, err = unix.SysvShmGet(int(int32(key)), shmSize, unix.IPC_CREAT|unix.IPC_EXCL|shmMode)
		if !errors.Is(err, unix.EEXIST) {
			break // created, or failed for a reason another key won't fix
		}
	}
	if err == nil {
		made.shmid = id
	}
	made.Unlock()
	if err != nil {
		common.ErrExit("shmget", err) // never while holding the mutex: ErrExit runs the cleanups
	}
	fmt.Printf("Created shared memory segment: key 0x%08x, %d bytes, mode %04o\n", key, shmSize, shmMode)
	fmt.Printf("Shared memory id: %d\n", id)
}

// removeSegment is `ipcrm -m ID`. It does nothing if there is no segment,
// so it is safe as an AtExit step and safe to call twice.
func removeSegment() {
	made.Lock()
	defer made.Unlock()
	if made.shmid < 0 {
		return
	}
	if _, err := unix.SysvShmCtl(made.shmid, unix.IPC_RMID, nil); err != nil {
		common.Warnf("%s", common.Describe(fmt.Sprintf("shmctl(%d, IPC_RMID)", made.shmid), err, ""))
	} else {
		fmt.Printf("Removed shared memory segment %d\n", made.shmid)
	}
	made.shmid = -1
}

// createQueue creates a POSIX message queue with default attributes and
// closes our descriptor: like a segment, the queue lives on until unlinked.
func createQueue(name string) {
	made.Lock()
	fd, err := mqOpen(name, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR, shmMode)
	if err == nil {
		made.queue = name
		unix.Close(fd)
	}
	made.Unlock()
	if err != nil {
		common.ErrExit("mq_open "+name, err) // the cleanups remove the segment
	}
	fmt.Printf("Created POSIX message queue %s\n", name)
}

// unlinkQueue removes our queue, if we made it (idempotent).
func unlinkQueue(name string) {
	made.Lock()
	defer made.Unlock()
	if made.queue != name {
		return
	}
	if err := mqUnlink(name); err != nil {
		common.Warnf("%s", common.Describe("mq_unlink "+name, err, ""))
	} else {
		fmt.Printf("Removed POSIX message queue %s\n", name)
	}
	made.queue = ""
}

// mqOpen and mqUnlink are the raw system calls: x/sys/unix has no wrapper.
// glibc's mq_open("/name") strips the leading slash before the system call;
// the kernel wants the bare name, and rejects one containing a slash.
func mqOpen(name string, flags int, mode uint32) (int, error) {
	p, err := unix.BytePtrFromString(strings.TrimPrefix(name, "/"))
	if err != nil {
		return -1, err
	}
	fd, _, errno := unix.Syscall6(unix.SYS_MQ_OPEN, uintptr(unsafe.Pointer(p)), uintptr(flags), uintptr(mode), 0, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

func mqUnlink(name string) error {
	p, err := unix.BytePtrFromString(strings.TrimPrefix(name, "/"))
	if err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_MQ_UNLINK, uintptr(unsafe.Pointer(p)), 0, 0); errno != 0 {
		return errno
	}
	return nil
}

// runChild starts childFunc in a new IPC namespace, shows parent and child
// namespaces side by side, lets the child list, and waits for it.
func runChild(queue string, sleep time.Duration) {
	r, w, err := os.Pipe()
	if err != nil {
		common.ErrExit("pipe", err)
	}
	cmd := common.Command("childFunc", queue, sleep.String())
	cmd.ExtraFiles = []*os.File{r} // fd 3 in the child
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWIPC}
	// StartChild: the child dies with us, and a signal's cleanup kills and
	// reaps it before the objects are removed (cleanups run newest first).
	child, err := common.StartChild(cmd)
	r.Close()
	if err != nil {
		w.Close()
		common.ErrExit("starting the child with CLONE_NEWIPC", err)
	}

	pid := child.Pid()
	fmt.Printf("\nPID of child in new IPC namespace: %d\n", pid)
	common.PrintNSTable(os.Stdout,
		common.NSColumn{Label: "parent", PID: os.Getpid()},
		common.NSColumn{Label: "child", PID: pid})
	w.Close() // the child may list now

	if err := child.Wait(); err != nil {
		// Fatalf runs the cleanups: the objects are removed all the same.
		common.Fatalf("child %d failed: %v", pid, err)
	}
}

// listIPC prints what the caller's IPC namespace holds: the shared memory
// segments as `ipcs -m` prints them, and whether our queue exists here.
func listIPC(who, queue string) {
	ino, _ := common.NSInode(0, "ipc")
	fmt.Printf("%s: IPC objects in my IPC namespace (ipc:[%d])\n", who, ino)
	listShm(os.Stdout)
	fmt.Printf("POSIX message queue %s: %s\n", queue, queueState(queue))
	listMqueueFS(os.Stdout)
}

// listShm prints /proc/sysvipc/shm as `ipcs -m` does. The file shows the
// segments of the reader's IPC namespace, which is what ipcs reads too.
func listShm(w io.Writer) {
	f, err := os.Open("/proc/sysvipc/shm")
	if err != nil {
		common.Warnf("%s", common.Describe("reading shared memory segments", err, ""))
		return
	}
	defer f.Close()
	fmt.Fprintln(w, "------ Shared Memory Segments --------")
	fmt.Fprintln(w, "key        shmid      owner      perms      bytes      nattch     status")
	sc := bufio.NewScanner(f)
	sc.Scan() // header: key shmid perms size cpid lpid nattch uid ...
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 8 {
			continue
		}
		key, _ := strconv.ParseInt(fl[0], 10, 64) // printed as a signed int
		perms, _ := strconv.ParseUint(fl[2], 8, 32)
		status := ""
		if perms&shmDest != 0 {
			status += "dest "
		}
		if perms&shmLocked != 0 {
			status += "locked"
		}
		line := fmt.Sprintf("0x%08x %-10s %-10.10s %-10o %-10s %-10s %s",
			uint32(key), fl[1], owner(fl[7]), perms&0o777, fl[3], fl[6], status)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintln(w)
}

// owner is the user name for a uid, as ipcs shows it, or the number.
func owner(uid string) string {
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return uid
}

// queueState says whether the queue exists in the caller's IPC namespace:
// POSIX queue names, like SysV keys, are looked up per namespace.
func queueState(name string) string {
	fd, err := mqOpen(name, unix.O_RDONLY, 0)
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			return fmt.Sprintf("not found (%s)", unix.ErrnoName(errno))
		}
		return err.Error()
	}
	unix.Close(fd)
	return "found"
}

// listMqueueFS lists /dev/mqueue if an mqueue filesystem is mounted there.
// Beware: that filesystem shows the queues of the IPC namespace of whoever
// MOUNTED it, not of whoever looks. A child in a new IPC namespace that
// shares our mount namespace still sees the host's queues there, until it
// mounts a fresh mqueue filesystem (in a mount namespace of its own).
func listMqueueFS(w io.Writer) {
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/mqueue", &st); err != nil || st.Type != mqueueMagic {
		fmt.Fprintln(w, common.Dim("(/dev/mqueue is not a mounted mqueue filesystem: nothing to list there)"))
		return
	}
	ents, err := os.ReadDir("/dev/mqueue")
	if err != nil {
		common.Warnf("%s", common.Describe("reading /dev/mqueue", err, ""))
		return
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, "/"+e.Name())
	}
	if len(names) == 0 {
		names = append(names, "(empty)")
	}
	fmt.Fprintf(w, "/dev/mqueue (the IPC namespace of whoever mounted it): %s\n",
		strings.Join(names, " "))
}
