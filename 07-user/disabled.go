package main

// When the kernel refuses the seed's `unshare --user` (upstream Linux lets
// anyone create a user namespace, but distributions have switches, each a
// different sysctl), which switch is in the way, read from /proc/sys, and
// its fix.

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// A userNSKnob is one sysctl that can forbid user namespaces.
type userNSKnob struct {
	path       string           // under /proc/sys
	unprivOnly bool             // root is not held back by it
	blocks     func(v int) bool // does this value forbid them?
	explain    string           // what that value means, and the fix
}

var apparmorKnob = userNSKnob{"kernel/apparmor_restrict_unprivileged_userns", true, func(v int) bool { return v != 0 },
	"kernel.apparmor_restrict_unprivileged_userns is 1 (Ubuntu 23.10+): AppArmor takes the capabilities away; as root: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give the program an AppArmor profile with the 'userns,' rule"}

var userNSKnobs = []userNSKnob{
	{"user/max_user_namespaces", false, func(v int) bool { return v == 0 },
		"user.max_user_namespaces is 0: no one may create a user namespace; as root: sysctl -w user.max_user_namespaces=15000"},
	{"kernel/unprivileged_userns_clone", true, func(v int) bool { return v == 0 },
		"kernel.unprivileged_userns_clone is 0 (a Debian/Ubuntu kernel patch; the default up to Debian 10): only root may; as root: sysctl -w kernel.unprivileged_userns_clone=1"},
	apparmorKnob,
}

// userNSHint says why a user namespace could not be made, reading the
// switches through readSysctl (os.ReadFile under /proc/sys; a test passes
// a fake). The first switch found in its blocking position wins; for root
// only the one that holds root back counts.
func userNSHint(root bool, readSysctl func(path string) (string, error)) string {
	var seen []string
	for _, k := range userNSKnobs {
		if root && k.unprivOnly {
			continue
		}
		s, _ := readSysctl(k.path) // "" if this kernel has no such switch
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			continue
		}
		if k.blocks(v) {
			return k.explain
		}
		seen = append(seen, strings.ReplaceAll(k.path, "/", ".")+"="+strconv.Itoa(v))
	}
	if len(seen) == 0 {
		seen = []string{"none found"}
	}
	return "user namespaces are refused, yet no known switch is off here: " + strings.Join(seen, ", ") +
		"; the fixes, as root: sysctl -w user.max_user_namespaces=15000, kernel.unprivileged_userns_clone=1 (Debian <= 10 kernels), kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu 23.10+)"
}

func readProcSys(path string) (string, error) {
	b, err := os.ReadFile("/proc/sys/" + path)
	return string(b), err
}

// userNSRefused ends the program after clone(CLONE_NEWUSER) failed. The
// errnos a disabled user namespace gives get the hint about the switches.
func userNSRefused(err error) {
	hint := ""
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EACCES) {
		hint = userNSHint(unix.Geteuid() == 0, readProcSys)
	}
	common.ErrExit("clone(CLONE_NEWUSER)", err, hint)
}

// setidHint explains a failed setresuid(0)/setresgid(0) in the child.
func setidHint() string {
	hint := "it needs CAP_SETUID and CAP_SETGID in the new user namespace: see CapEff above"
	if v, err := readProcSys("kernel/apparmor_restrict_unprivileged_userns"); err == nil && strings.TrimSpace(v) != "0" {
		hint += "; " + apparmorKnob.explain
	}
	return hint
}
