package common

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// RequireRoot exits with one clear line when the program is not run as
// root. why says what needs it, e.g. "creating a UTS namespace".
func RequireRoot(why string) {
	if unix.Geteuid() != 0 {
		Fatalf("%s needs root (CAP_SYS_ADMIN): run it as root, e.g. with sudo", why)
	}
}

// RequireNamespaces exits with one clear line when the running kernel lacks
// one of the namespace types in flags: /proc/self/ns/NAME exists exactly for
// the types the kernel was built with.
func RequireNamespaces(flags uintptr) {
	if missing := MissingNamespaces(flags); len(missing) > 0 {
		Fatalf("this kernel has no %s namespace (no /proc/self/ns/%s): use a kernel built with it, such as the lab VM's",
			strings.Join(missing, ", "), missing[0])
	}
}

// MissingNamespaces returns the types in flags that this kernel lacks.
func MissingNamespaces(flags uintptr) []string {
	var missing []string
	for _, name := range NSNames(flags) {
		if _, err := os.Lstat("/proc/self/ns/" + name); err != nil || injected("ns", name) {
			missing = append(missing, name)
		}
	}
	return missing
}
