package common

import (
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// HostNameMax is HOST_NAME_MAX: sethostname(2) refuses a longer name with
// EINVAL (02-uts, 05-mount and 10-container check their -hostname first).
const HostNameMax = 64

// Hostname returns uts.nodename as uname(2) reports it for the calling
// process's UTS namespace.
func Hostname() (string, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "", err
	}
	return unix.ByteSliceToString(uts.Nodename[:]), nil
}

// PrintInfo is the seeds' printInfo(): who am I, as the kernel sees the
// caller from inside its own namespaces. Each line answers for one
// namespace: pid/ppid (PID), uid/gid (user), hostname (UTS).
func PrintInfo(w io.Writer) {
	host, err := Hostname()
	if err != nil {
		host = "? (" + err.Error() + ")"
	}
	fmt.Fprintf(w, "pid : %d\n", unix.Getpid())
	fmt.Fprintf(w, "ppid : %d\n", unix.Getppid())
	fmt.Fprintf(w, "uid : %d\n", unix.Getuid())
	fmt.Fprintf(w, "gid : %d\n", unix.Getgid())
	fmt.Fprintf(w, "hostname : %s\n", host)
}
