package main

// Capabilities, which the seed's `id` does not show: read the way
// `grep Cap /proc/self/status` does, and named, a tiny capsh --decode.

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"nslab/common"
)

// capNames are the capabilities in bit order (<linux/capability.h>).
var capNames = []string{
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner",
	"cap_fsetid", "cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap",
	"cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
	"cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
	"cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace",
	"cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
	"cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod",
	"cap_lease", "cap_audit_write", "cap_audit_control", "cap_setfcap",
	"cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
	"cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf",
	"cap_checkpoint_restore",
}

// capLastCap is the highest capability this kernel knows
// (/proc/sys/kernel/cap_last_cap; 40 since Linux 5.9).
func capLastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	n, err2 := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || err2 != nil {
		return len(capNames) - 1
	}
	return n
}

// allCaps lists every capability of this kernel, for SysProcAttr.AmbientCaps.
func allCaps() []uintptr {
	var caps []uintptr
	for c := 0; c <= capLastCap(); c++ {
		caps = append(caps, uintptr(c))
	}
	return caps
}

// describeCaps names a capability mask: "all 41", "none", or the names of
// the bits set ("cap_setgid cap_setuid").
func describeCaps(mask uint64, lastCap int) string {
	switch mask {
	case uint64(1)<<(lastCap+1) - 1: // bits 0..lastCap (a shift by 64 gives 0: 0-1 is all 64)
		return fmt.Sprintf("all %d", lastCap+1)
	case 0:
		return "none"
	}
	var names []string
	for i := range 64 {
		switch {
		case mask&(1<<i) == 0:
		case i < len(capNames):
			names = append(names, capNames[i])
		default:
			names = append(names, strconv.Itoa(i))
		}
	}
	return strings.Join(names, " ")
}

// printCaps prints the child's capabilities as the kernel shows them in
// /proc/self/status: "CapEff=000001ffffffffff (all 41) CapPrm=... CapBnd=...".
func printCaps() {
	last := capLastCap()
	var parts []string
	for _, key := range []string{"CapEff", "CapPrm", "CapBnd"} {
		v, err := common.StatusField(os.Getpid(), key) // the main thread's, as /proc/self's
		if err != nil {
			common.ErrExit("reading /proc/self/status", err)
		}
		mask, err := strconv.ParseUint(v, 16, 64)
		if err != nil {
			common.ErrExit("reading /proc/self/status", fmt.Errorf("%s %q: %v", key, v, err))
		}
		parts = append(parts, fmt.Sprintf("%s=%016x (%s)", key, mask, describeCaps(mask, last)))
	}
	fmt.Printf("%s: capabilities: %s\n", common.Child("child"), strings.Join(parts, " "))
}
