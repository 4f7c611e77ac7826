package common

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// MakeMountsPrivate marks every mount in the caller's mount namespace
// private, recursively: `mount --make-rprivate /`.
//
// Call it first thing in a new mount namespace. A new mount namespace starts
// with copies of the parent's mounts *and their propagation*. systemd makes
// `/` shared at boot, so on most hosts a mount made in the "isolated"
// namespace would propagate straight back to the host: mounting proc on
// /proc there would replace the host's /proc. After this call nothing
// propagates either way.
//
// Used by 04-pid, 05-mount and 10-container.
func MakeMountsPrivate() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("mount --make-rprivate /: %w", err)
	}
	return nil
}
