package main

// security.go adds the last mile no chapter taught: what root inside the
// namespaces may still do. Capabilities cut down to Docker's default set,
// no_new_privs, a seccomp filter written by hand in classic BPF, and no
// file descriptor from outside.

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// keepCaps is Docker's default capability set without CAP_NET_RAW, 13 of
// the kernel's 41. Docker keeps NET_RAW for ping (and sets
// net.ipv4.ping_group_range so ping can do without it one day); Podman 4
// dropped it. Without it no raw socket: no forged packets, no sniffing.
var keepCaps = map[string]uintptr{
	"chown": unix.CAP_CHOWN, "dac_override": unix.CAP_DAC_OVERRIDE, "fowner": unix.CAP_FOWNER,
	"fsetid": unix.CAP_FSETID, "kill": unix.CAP_KILL, "setgid": unix.CAP_SETGID, "setuid": unix.CAP_SETUID,
	"setpcap": unix.CAP_SETPCAP, "net_bind_service": unix.CAP_NET_BIND_SERVICE, "sys_chroot": unix.CAP_SYS_CHROOT,
	"mknod": unix.CAP_MKNOD, "audit_write": unix.CAP_AUDIT_WRITE, "setfcap": unix.CAP_SETFCAP,
}

// deniedSyscalls are those of Docker's default seccomp profile that matter
// here: each would undo a layer (mount, unshare, setns, pivot_root), reach
// the kernel's keyrings, modules, BPF or perf events, reboot or replace the
// kernel, or open a file by handle (the 2014 "shocker" escape).
var deniedSyscalls = []uintptr{
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_UNSHARE, unix.SYS_SETNS,
	unix.SYS_OPEN_TREE, unix.SYS_MOVE_MOUNT, unix.SYS_FSOPEN, unix.SYS_FSCONFIG, unix.SYS_FSMOUNT, unix.SYS_FSPICK,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD, unix.SYS_REBOOT,
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_OPEN_BY_HANDLE_AT,
	// The kernel's log holds the host's messages and kernel addresses
	// (a way round KASLR). Docker allows syslog only with CAP_SYSLOG,
	// which no container of ours keeps; sysctl kernel.dmesg_restrict=0
	// would otherwise let any root read it.
	unix.SYS_SYSLOG,
}

// lastMile gives up, on this thread (locked in init), what a container's
// root must not keep. The command, started from this thread, inherits it.
func lastMile(o options) {
	if !o.isOff("caps") {
		dropCaps()
		// Only this thread dropped them: Go's other threads of PID 1 keep
		// every capability, and the command, same uid and same set as
		// this thread, could write PID 1's memory through /proc/1/mem and
		// run code on one of them. Not dumpable, PID 1's /proc/1/mem,
		// fd, environ and ptrace need CAP_SYS_PTRACE, which the command
		// lacks. runc's init does the same.
		common.Did(common.Child, "prctl(PR_SET_DUMPABLE, 0)", "PID 1's other threads keep their capabilities: its /proc is out of reach",
			unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0))
	}
	if !o.isOff("nnp") {
		// No setuid binary, no file capability can give back what we
		// dropped. seccomp requires it of a process without CAP_SYS_ADMIN.
		common.Did(common.Child, "prctl(PR_SET_NO_NEW_PRIVS, 1)", "exec can never gain privileges again",
			unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
	}
	if !o.isOff("seccomp") {
		loadSeccomp()
	}
}

// dropCaps empties the bounding set but for keepCaps (what any later exec
// may get), then sets the effective, permitted and inheritable sets: the
// first two to keepCaps, the third empty, as Docker does since 20.10.14.
func dropCaps() {
	var keep uint64
	for _, c := range keepCaps {
		keep |= 1 << c
	}
	for c := range lastCap() + 1 {
		if keep&(1<<c) == 0 {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
				common.ErrExit(fmt.Sprintf("prctl(PR_CAPBSET_DROP, %d)", c), err)
			}
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		common.ErrExit("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(keep), Permitted: uint32(keep)},
		{Effective: uint32(keep >> 32), Permitted: uint32(keep >> 32)},
	}
	common.Did(common.Child, fmt.Sprintf("capsh --drop=... (keep %d of %d)", len(keepCaps), lastCap()+1),
		"Docker's default set without net_raw: no sys_admin, sys_boot, sys_module, net_admin, ...", unix.Capset(&hdr, &data[0]))
}

// lastCap is the highest capability this kernel knows,
// /proc/sys/kernel/cap_last_cap (40 since Linux 5.9).
func lastCap() (n int) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		common.ErrExit("reading /proc/sys/kernel/cap_last_cap", err)
	}
	if _, err := fmt.Sscan(string(b), &n); err != nil {
		common.Fatalf("/proc/sys/kernel/cap_last_cap: %q is not a number", b)
	}
	return n
}

// The filter, a classic BPF program the kernel runs on every system call.
// It sees struct seccomp_data: the syscall number at offset 0, the
// architecture at 4, the six arguments from 16 on.
const (
	offNr, offArch, offArg0, offArg1 = 0, 4, 16, 24
	x32Bit                           = 0x40000000 // amd64's x32 ABI: same calls, other numbers
	// clone with a namespace flag is unshare by another name.
	cloneNewNS = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
		unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP
)

// filter assembles the program. Jumps are relative (skip jt or jf
// instructions), so the returns come last and each test jumps forward to
// one of them: the program is a straight line, as BPF wants.
func filter() []unix.SockFilter {
	arch := map[string]uint32{"amd64": unix.AUDIT_ARCH_X86_64, "arm64": unix.AUDIT_ARCH_AARCH64}[runtime.GOARCH]
	type insn struct {
		label  string // a name for jumps to this instruction
		code   uint16
		k      uint32
		jt, jf string // "" falls through; else a label: of a test, or of a return (allow, eperm, enosys, kill)
	}
	p := []insn{
		{code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, k: offArch},
		{code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: arch, jf: "kill"}, // another ABI's numbers mean other calls
		{code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, k: offNr},
	}
	if runtime.GOARCH == "amd64" {
		p = append(p, insn{code: unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K, k: x32Bit, jt: "eperm"})
	}
	for _, nr := range deniedSyscalls {
		p = append(p, insn{code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: uint32(nr), jt: "eperm"})
	}
	p = append(p,
		// clone3 hides its flags in memory a filter cannot read: ENOSYS
		// makes libc fall back to clone, whose flags are argument 0.
		insn{code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: unix.SYS_CLONE3, jt: "enosys"},
		insn{code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: unix.SYS_CLONE, jf: "ioctl"},
		insn{code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, k: offArg0}, // the low 32 bits of flags
		insn{code: unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K, k: cloneNewNS, jt: "eperm", jf: "allow"},
		// TIOCSTI pushes characters into a terminal's input, as if typed:
		// into the caller's shell, on the host, once the container is
		// gone (bubblewrap's CVE-2017-5226). TIOCLINUX can do the same
		// on a virtual console. Refused, as flatpak's filter does.
		insn{label: "ioctl", code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: unix.SYS_IOCTL, jf: "allow"},
		insn{code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, k: offArg1}, // the request, 32 bits
		insn{code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: unix.TIOCSTI, jt: "eperm"},
		insn{code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, k: unix.TIOCLINUX, jt: "eperm"},
		insn{label: "allow", code: unix.BPF_RET | unix.BPF_K, k: unix.SECCOMP_RET_ALLOW},
		insn{label: "eperm", code: unix.BPF_RET | unix.BPF_K, k: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		insn{label: "enosys", code: unix.BPF_RET | unix.BPF_K, k: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		insn{label: "kill", code: unix.BPF_RET | unix.BPF_K, k: unix.SECCOMP_RET_KILL_PROCESS},
	)
	at := func(i int, label string) uint8 {
		if label == "" {
			return 0
		}
		for j, in := range p[i+1:] { // forward only
			if in.label == label {
				return uint8(j)
			}
		}
		panic(label)
	}
	prog := make([]unix.SockFilter, len(p))
	for i, in := range p {
		prog[i] = unix.SockFilter{Code: in.code, K: in.k, Jt: at(i, in.jt), Jf: at(i, in.jf)}
	}
	return prog
}

// loadSeccomp installs the filter on every thread of this process
// (SECCOMP_FILTER_FLAG_TSYNC): a filter, like a capability, belongs to a
// thread, and we have several.
func loadSeccomp() {
	prog := filter()
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		common.ErrExit("seccomp(SECCOMP_SET_MODE_FILTER)", e, "without CAP_SYS_ADMIN the kernel wants no_new_privs first: don't turn off nnp alone")
	}
	common.Step(common.Child(fmt.Sprintf("seccomp(SECCOMP_SET_MODE_FILTER, %d instructions)", len(prog))),
		fmt.Sprintf("%d calls fail with EPERM, and so do clone with a namespace flag and ioctl(TIOCSTI)", len(deniedSyscalls)))
}

// closeOnExec marks every file descriptor from 3 up close-on-exec, so that
// a program started from here gets 0, 1 and 2 and nothing else. One
// descriptor to a host directory is a way out of any root: `cd
// /proc/self/fd/7` is outside. That was runc's CVE-2024-21626 ("Leaky
// Vessels"): its own descriptor to the host's /sys/fs/cgroup reached the
// container as a working directory. Go opens its own files close-on-exec,
// but what the caller left open stays open across exec unless we say so.
// close_range(2) does it in one call since Linux 5.11; older kernels get
// the loop runc uses, over /proc/self/fd. The step is printed as who's
// (common.Parent, common.Child), with why.
func closeOnExec(who func(...any) string, why string) {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			common.ErrExit("reading /proc/self/fd", err)
		}
		for _, f := range fds {
			if fd, _ := strconv.Atoi(f.Name()); fd > 2 {
				unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC) // the directory's own fd is gone: EBADF
			}
		}
	}
	common.Step(who("close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)"), why)
}
