package common

import "golang.org/x/sys/unix"

// HostNameMax is HOST_NAME_MAX: sethostname(2) refuses a longer name with
// EINVAL (a chapter checks its -hostname against it first).
//
// Used by 02-uts, 05-mount and 10-container.
const HostNameMax = 64

// Hostname returns uts.nodename as uname(2) reports it for the calling
// process's UTS namespace.
//
// Used by 02-uts, 07-user and 09-setns.
func Hostname() (string, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "", err
	}
	return unix.ByteSliceToString(uts.Nodename[:]), nil
}
