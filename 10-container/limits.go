package main

// limits.go adds the container's cgroup: 08-cgroup's cpu quota, memory
// limit and pids limit on one cgroup (common/group.go), on v1 or v2, and
// the devices it may open (devices.go).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// cpuPeriod is the CFS period the quota is a share of: 100 ms, the
// kernel's default, as docker run --cpus uses.
const cpuPeriod = 100000

// makeLimits creates cgroup nslab-10-PID with the limits asked for and
// the devices layer, or returns nil when there is none of these. Rootless,
// it needs a cgroup delegated to the user; without one it says so in one
// line and the container runs unlimited.
func makeLimits(o options) *common.Group {
	// The controllers asked for; devices is a hierarchy on v1, and on v2 no
	// controller but a program. Rootless skips the devices layer: v1's
	// devices files and a v2 eBPF program need real root, and a user
	// namespace already refuses mknod of a device (CAP_MKNOD counts only in
	// the host's user namespace).
	on := map[string]bool{"cpu": o.cpus > 0, "memory": o.memory > 0, "pids": o.pids > 0,
		"devices": !o.isOff("devices") && !o.rootless}
	ctls := slices.DeleteFunc([]string{"cpu", "memory", "pids", "devices"}, func(c string) bool { return !on[c] })
	if len(ctls) == 0 {
		return nil
	}
	g, err := common.NewGroup(common.OpenCgroups(), fmt.Sprintf("nslab-10-%d", os.Getpid()), ctls...)
	if err != nil {
		common.Fatalf("%v", err)
	}
	common.AtExit(g.Remove)
	if err := g.Create(); err != nil {
		if o.rootless && (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS)) {
			common.Warnf("no cgroup delegated to uid %d (%v): running without limits; `systemd-run --user --scope -p Delegate=yes` gives one", os.Getuid(), err)
			g.Remove()
			return nil
		}
		common.ErrExit("creating cgroup "+g.Name, err)
	}
	if on["cpu"] {
		quota := strconv.Itoa(int(o.cpus * cpuPeriod))
		if g.CFS.V2 {
			g.Echo("cpu", "cpu.max", quota+" "+strconv.Itoa(cpuPeriod), fmt.Sprintf("%g CPU", o.cpus))
		} else {
			g.Echo("cpu", "cpu.cfs_period_us", strconv.Itoa(cpuPeriod), "")
			g.Echo("cpu", "cpu.cfs_quota_us", quota, fmt.Sprintf("%g CPU", o.cpus))
		}
	}
	if on["memory"] {
		limit := strconv.FormatInt(o.memory, 10)
		// v1 limits memory and swap together; v2 limits swap on its own.
		file, swap, swapValue := "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", limit
		if g.CFS.V2 {
			file, swap, swapValue = "memory.max", "memory.swap.max", "0"
		}
		g.Echo("memory", file, limit, "past it, the OOM killer, inside only")
		// Swap too, or a process over the limit swaps instead of dying; a
		// kernel without swap accounting lacks the file.
		if _, err := os.Stat(filepath.Join(g.Dir("memory"), swap)); err == nil {
			g.Echo("memory", swap, swapValue, "no swap either")
		}
	}
	if on["pids"] {
		g.Echo("pids", "pids.max", strconv.Itoa(o.pids), "fork fails with EAGAIN past it")
	}
	if on["devices"] {
		allowDevices(g)
	}
	return g
}

// spareThreads has PID 1 hold n threads of its Go runtime's at once before
// the command runs, and leaves them idle (PID 1 has about 14 then). pids.max counts PID 1's threads
// too: a fork bomb inside takes every free one, and a Go runtime that
// then wants a new thread (to run the garbage collector while PID 1 waits
// in wait4, say) aborts (pthread_create: EAGAIN), PID 1 with it. Go keeps
// an idle thread for the next time it needs one, and never ends it.
func spareThreads(n int) {
	var locked sync.WaitGroup
	locked.Add(n)
	release := make(chan struct{})
	for range n {
		go func() {
			runtime.LockOSThread() // a thread to itself, while all n are held
			locked.Done()
			<-release
			runtime.UnlockOSThread() // then idle, kept by the runtime
		}()
	}
	locked.Wait()
	close(release)
}
