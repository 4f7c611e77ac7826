package main

// memory.go adds to the seed a memory limit: a hog that touches more
// memory than memory.max (v1: memory.limit_in_bytes) is killed by the OOM
// killer inside its cgroup, and nothing outside it is touched.
//
//	sudo go run ./08-cgroup memory [-limit 64M] [-hold D]

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

const mib = 1 << 20

func init() { common.Register("hog", hog) }

func memoryMain(args []string) {
	limit, hold := memoryOptions(args) // -limit, -hold: options.go
	common.RequireRoot("creating cgroups")
	g := makeGroup(common.OpenCgroups(), fmt.Sprintf("nslab-08-%d-memory", os.Getpid()), "memory")

	// The limit, and no swap beyond it: with swap, the hog would be
	// swapped out rather than killed once it reaches the limit. (v1's
	// memory+swap is written after memory.limit_in_bytes, which it may not
	// be below.)
	bytes := strconv.FormatInt(limit, 10)
	file, swap, noSwap, why := "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", bytes, "memory+swap: no swap either"
	if g.CFS.V2 {
		file, swap, noSwap, why = "memory.max", "memory.swap.max", "0", "and no swap"
	}
	g.Echo("memory", file, bytes, fmt.Sprintf("%d MiB for the cgroup's processes together", limit/mib))
	if exists(g, swap) {
		g.Echo("memory", swap, noSwap, why)
	} else if !g.CFS.V2 {
		fmt.Println("no memory.memsw.limit_in_bytes: swap accounting is off (boot with swapaccount=1), so the hog may swap before it is killed")
	}

	// The hog is this program, re-executed: it touches 1 MiB after another
	// and says how far it got every quarter of the limit. It gives up
	// (exit 1) at twice the limit, should the limit not hold.
	before, _ := readKeyed("/proc/vmstat") // its oom_kill counts every OOM kill on the machine
	step, most := strconv.FormatInt(max(1, limit/mib/4), 10), strconv.FormatInt(2*limit/mib, 10)
	child := cgexec(g, "memory", command([]string{"hog", step, most}), "the hog", "hog "+step+" "+most)

	// What the kernel says: the wait status (SIGKILL is what the OOM
	// killer sends; a shell shows it as exit status 137 = 128+9), the
	// cgroup's own counters, and the host's.
	child.Wait()
	st := child.Cmd.ProcessState
	fmt.Printf("hog (pid %d): %s\n", child.Pid(), st)
	if ws, ok := st.Sys().(common.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != unix.SIGKILL {
		common.Fatalf("the hog was not killed by SIGKILL: the limit did not hold")
	}
	showMemory(g, g.CFS.V2)
	after, _ := readKeyed("/proc/vmstat")
	fmt.Printf("host: /proc/vmstat oom_kill +%d; this program (pid %d), outside the cgroup, runs on\n", after["oom_kill"]-before["oom_kill"], os.Getpid())
	holdCgroup(hold)
}

// holdCgroup keeps the cgroup hold long (memory's and pids' -hold). The
// sub-command returns then, and common.Exit's cleanups kill what runs in
// the cgroup, and rmdir it.
func holdCgroup(hold time.Duration) {
	if hold > 0 {
		fmt.Printf("holding the cgroup for %v\n", hold)
		time.Sleep(hold)
	}
}

// showMemory prints the cgroup's OOM kills and its peak use: v2
// memory.events and memory.peak (Linux 5.19+), v1 memory.oom_control
// (oom_kill since 4.13) and memory.max_usage_in_bytes.
func showMemory(g *common.Group, v2 bool) {
	events, peak := "memory.oom_control", "memory.max_usage_in_bytes"
	if v2 {
		events, peak = "memory.events", "memory.peak"
	}
	ev, err := readKeyed(filepath.Join(g.Dir("memory"), events))
	if err != nil {
		common.ErrExit("cat "+events, err)
	}
	fmt.Printf("%s: oom_kill %d\n", events, ev["oom_kill"])
	if n, err := strconv.ParseInt(readTrim(filepath.Join(g.Dir("memory"), peak)), 10, 64); err == nil {
		fmt.Printf("%s: %d (%.1f MiB)\n", peak, n, float64(n)/mib)
	}
}

// exists says whether the group has the file (memory.swap.max: only with
// swap configured in the kernel; memory.memsw.*: only with swap accounting).
func exists(g *common.Group, file string) bool {
	_, err := os.Stat(filepath.Join(g.Dir("memory"), file))
	return err == nil
}

// hog touches memory 1 MiB at a time, writing to every page so that each
// is really allocated (mmap alone only reserves addresses), until the OOM
// killer ends it; every STEP MiB it says how far it got.
func hog(args []string) int {
	step, _ := strconv.Atoi(args[0])
	most, _ := strconv.Atoi(args[1])
	page := os.Getpagesize()
	for n := 1; n <= most; n++ {
		b, err := unix.Mmap(-1, 0, mib, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			common.ErrExit("mmap", err)
		}
		for i := 0; i < len(b); i += page {
			b[i] = 1
		}
		if n%step == 0 {
			fmt.Printf("hog: %d MiB touched\n", n)
		}
	}
	fmt.Printf("hog: %d MiB touched, and not killed\n", most)
	return 1
}
