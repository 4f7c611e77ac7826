package common

import (
	"strings"

	"golang.org/x/sys/unix"
)

// RequireRoot exits with one clear line when the program is not run as
// root. why says what needs it, e.g. "creating a UTS namespace".
//
// Used by 02-uts, 03-ipc, 04-pid, 05-mount, 06-net, 08-cgroup,
// 10-container and lab/bench.
func RequireRoot(why string) {
	if unix.Geteuid() != 0 {
		Fatalf("%s needs root (CAP_SYS_ADMIN): run it as root, e.g. with sudo", why)
	}
}

// RequireNamespaces exits with one clear line when the running kernel lacks
// one of the namespace types in flags (Namespace.InKernel).
//
// Used by every chapter and lab/bench.
func RequireNamespaces(flags uintptr) {
	var missing []string
	for _, ns := range Namespaces {
		if flags&ns.Flag != 0 && !ns.InKernel() {
			missing = append(missing, ns.Name)
		}
	}
	if len(missing) > 0 {
		Fatalf("this kernel has no %s namespace (no /proc/self/ns/%s): use a kernel built with it, such as the lab VM's",
			strings.Join(missing, ", "), missing[0])
	}
}
