package main

// rootfs.go adds to the seed a root filesystem of its own (-rootfs DIR),
// entered two ways by child_main after MakeMountsPrivate: chroot or
// pivot_root. Both are in common/rootfs.go, which 10-container shares.

import "nslab/common"

// enterRoot enters rootfs the way mode says: "chroot", "pivot", or not
// at all ("").
func enterRoot(rootfs, mode string) {
	switch mode {
	case "chroot":
		common.ChrootInto(rootfs)
	case "pivot":
		common.PivotInto(rootfs)
	}
}
