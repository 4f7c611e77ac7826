// mqueue.go adds a POSIX message queue to the session's System V segment:
// the IPC namespace isolates those names too, but /dev/mqueue may not say so.
package main

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// mqueueMagic is the statfs f_type of an mqueue filesystem (<linux/magic.h>;
// not in x/sys/unix).
const mqueueMagic = 0x19800202

// createQueue creates a POSIX message queue with default attributes and
// closes our descriptor: like a segment, the queue lives on until unlinked.
func createQueue(name string) {
	made.Lock()
	fd, errno := mq(unix.SYS_MQ_OPEN, name, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR, shmMode)
	if errno == 0 {
		made.queue = name
		unix.Close(fd)
	}
	made.Unlock()
	if errno != 0 {
		common.ErrExit("mq_open "+name, errno) // the cleanups remove the segment
	}
	fmt.Printf("Created POSIX message queue %s\n", name)
}

// unlinkQueue removes our queue, if we made it (idempotent: it is also a
// cleanup).
func unlinkQueue(name string) {
	made.Lock()
	defer made.Unlock()
	if made.queue != name {
		return
	}
	if _, errno := mq(unix.SYS_MQ_UNLINK, name, 0, 0); errno != 0 {
		common.Warnf("%s (%s)", common.Describe("mq_unlink "+name, errno), common.LeftHint)
	} else {
		fmt.Printf("Removed POSIX message queue %s\n", name)
	}
	made.queue = ""
}

// mq is the raw system call mq_open or mq_unlink (trap): x/sys/unix has no
// wrapper. glibc's mq_open("/name") strips the leading slash before the
// system call; the kernel wants the bare name, and rejects one containing a
// slash. mq_open's fourth argument, the attributes, is NULL: the defaults;
// mq_unlink reads the name only. It returns what the system call does: a
// descriptor and an errno, 0 if none.
func mq(trap uintptr, name string, flags int, mode uint32) (int, unix.Errno) {
	p, err := unix.BytePtrFromString(strings.TrimPrefix(name, "/"))
	if err != nil {
		return -1, unix.EINVAL // a NUL byte in the name
	}
	fd, _, errno := unix.Syscall6(trap, uintptr(unsafe.Pointer(p)), uintptr(flags), uintptr(mode), 0, 0, 0)
	return int(fd), errno
}

// showQueue follows each `ipcs -m`: whether our queue exists in the
// caller's IPC namespace (POSIX queue names, like SysV keys, are looked up
// per namespace), and what /dev/mqueue lists.
func showQueue(name string) {
	state := "found"
	if fd, errno := mq(unix.SYS_MQ_OPEN, name, unix.O_RDONLY, 0); errno != 0 {
		state = fmt.Sprintf("not found (%s)", unix.ErrnoName(errno))
	} else {
		unix.Close(fd)
	}
	fmt.Printf("POSIX message queue %s: %s\n", name, state)
	listMqueueFS()
	fmt.Println()
}

// listMqueueFS lists /dev/mqueue if an mqueue filesystem is mounted there.
// Beware: that filesystem shows the queues of the IPC namespace of whoever
// MOUNTED it, not of whoever looks. A child in a new IPC namespace that
// shares our mount namespace still sees the host's queues there, until it
// mounts a fresh mqueue filesystem (in a mount namespace of its own).
func listMqueueFS() {
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/mqueue", &st); err != nil || st.Type != mqueueMagic {
		fmt.Println(common.Dim("(/dev/mqueue is not a mounted mqueue filesystem: nothing to list there)"))
		return
	}
	ents, err := os.ReadDir("/dev/mqueue")
	if err != nil {
		common.Warnf("%s", common.Describe("reading /dev/mqueue", err))
		return
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, "/"+e.Name())
	}
	if len(names) == 0 {
		names = append(names, "(empty)")
	}
	fmt.Printf("/dev/mqueue (the IPC namespace of whoever mounted it): %s\n", strings.Join(names, " "))
}
