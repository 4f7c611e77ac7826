// ipcs.go is `ipcs -m`, which the session runs four times: the segments of
// the caller's IPC namespace, in ipcs's columns.
package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"

	"nslab/common"
)

// Not in x/sys/unix: from <linux/shm.h>, for the status column.
const (
	shmDest   = 0o1000 // marked for removal ("dest")
	shmLocked = 0o2000 // locked in memory ("locked")
)

// ipcsM prints the segments as `ipcs -m` does. It reads /proc/sysvipc/shm,
// as ipcs does: that file shows the segments of the reader's namespace.
func ipcsM() {
	b, err := os.ReadFile("/proc/sysvipc/shm")
	if err != nil {
		common.Warnf("%s", common.Describe("reading shared memory segments", err))
		return
	}
	fmt.Println("------ Shared Memory Segments --------")
	fmt.Println("key        shmid      owner      perms      bytes      nattch     status")
	// [1:]: after the header, key shmid perms size cpid lpid nattch uid ...
	for _, row := range strings.Split(string(b), "\n")[1:] {
		fl := strings.Fields(row)
		if len(fl) < 8 {
			continue
		}
		key, _ := strconv.ParseInt(fl[0], 10, 64) // a signed int here
		perms, _ := strconv.ParseUint(fl[2], 8, 32)
		owner := fl[7]
		if u, err := user.LookupId(owner); err == nil {
			owner = u.Username
		}
		status := ""
		if perms&shmDest != 0 {
			status += "dest "
		}
		if perms&shmLocked != 0 {
			status += "locked"
		}
		line := fmt.Sprintf("0x%08x %-10s %-10.10s %-10o %-10s %-10s %s",
			uint32(key), fl[1], owner, perms&0o777, fl[3], fl[6], status)
		fmt.Println(strings.TrimRight(line, " "))
	}
	fmt.Println()
}
