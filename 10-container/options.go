package main

// options.go adds the command line: run's flags, their checks, and how
// the parent hands the child what it needs.

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// defaultRootfs is where the README's first command puts the root
// filesystem: `sudo ./bin/05-mount mkrootfs /tmp/nslab-rootfs`.
const defaultRootfs = "/tmp/nslab-rootfs"

// layers can be turned off with -off, one by one, to see which one stops
// an escape (what `docker run --privileged` does to all of them at once).
var layers = []string{"overlay", "pivot", "masks", "devices", "caps", "nnp", "seccomp", "fds"}

type options struct {
	rootfs, hostname string
	keep             string  // -keep: the overlay's directory, kept
	layer            string  // the overlay's directory of this run; "" with -off overlay
	cpus             float64 // 0: no cpu limit
	memory           int64   // bytes; 0: no memory limit
	pids             int     // 0: no pids limit
	net, rootless    bool
	uid, gid         int // -rootless: the user root inside is, outside
	off              []string
	argv             []string
}

func usageLine() string {
	return common.Prog + " run [-rootfs DIR] [-hostname NAME] [-cpus F] [-memory SIZE] [-pids N] [-net] [-rootless] [-keep DIR] [-off LAYERS] [-- cmd [args]]"
}

// parseOptions reads run's command line (args: what follows "run").
func parseOptions(args []string) options {
	f := common.NewFlags(usageLine())
	o := options{}
	f.StringVar(&o.rootfs, "rootfs", defaultRootfs, "the root filesystem, made by `05-mount mkrootfs DIR`")
	f.StringVar(&o.hostname, "hostname", "container", "the hostname inside")
	f.Float64Var(&o.cpus, "cpus", 1, "CPUs the container may use (cpu.max / cpu.cfs_quota_us); 0: no limit")
	memory := f.String("memory", "128M", "memory.max (v1: memory.limit_in_bytes), such as 128M; 0: no limit")
	f.IntVar(&o.pids, "pids", 64, "pids.max: processes and threads inside, PID 1 included; 0: no limit")
	f.BoolVar(&o.net, "net", false, "a veth to a namespace of our own, addresses on both ends, a ping between them")
	f.BoolVar(&o.rootless, "rootless", false, "a user namespace: root inside is the invoking user outside")
	f.StringVar(&o.keep, "keep", "", "keep the container's writable layer in `DIR` (made, must not exist): DIR/upper holds what it wrote")
	off := f.String("off", "", "layers to turn off, comma-separated: "+strings.Join(layers, ","))
	o.argv = f.ParseArgs(args)
	if len(o.argv) == 0 {
		o.argv = []string{"sh"}
	}
	var err error
	if o.memory, err = common.ParseSize(*memory); err != nil || o.memory != 0 && (o.memory < 16<<20 || o.memory > 4<<30) {
		common.UsageError("", "-memory %s: want a size from 16M to 4G, such as 128M, or 0 for none", *memory)
	}
	o.off = layerList(*off)
	unknown := slices.IndexFunc(o.off, func(l string) bool { return !slices.Contains(layers, l) })
	switch {
	case unknown >= 0:
		common.UsageError("", "-off %s: no layer %q; the layers are %s", *off, o.off[unknown], strings.Join(layers, ","))
	case o.cpus < 0 || o.cpus > 64:
		common.UsageError("", "-cpus %g: want 0 (no limit) to 64, such as 0.5", o.cpus)
	case o.pids != 0 && (o.pids < 32 || o.pids > 4096):
		// PID 1 is a Go program: its threads count too, about 14 with
		// its spare ones (limits.go).
		common.UsageError("", "-pids %d: want 32 to 4096, or 0 for none", o.pids)
	case len(o.hostname) == 0 || len(o.hostname) > common.HostNameMax:
		common.UsageError("", "-hostname %q: want 1 to %d bytes", o.hostname, common.HostNameMax)
	case o.keep != "" && (o.isOff("overlay") || o.rootless):
		common.UsageError("", "-keep keeps the overlay's upper layer: it goes with neither -off overlay nor -rootless (no overlay)")
	case o.net && o.rootless:
		common.UsageError("", "-net needs real root: a rootless container has lo only (rootless runtimes use slirp4netns or pasta)")
	}
	if o.rootless {
		// Root inside is who runs us: under sudo, the user who ran sudo.
		o.uid, o.gid = os.Getuid(), os.Getgid()
		if s := os.Getenv("SUDO_USER"); o.uid == 0 && s != "" {
			if u, err := user.Lookup(s); err == nil {
				o.uid, _ = strconv.Atoi(u.Uid)
				o.gid, _ = strconv.Atoi(u.Gid)
			}
		}
	} else {
		common.RequireRoot("creating a container without -rootless")
	}
	o.rootfs = checkRootfs(o.rootfs)
	checkLayerPath("-rootfs", o.rootfs)
	if o.keep != "" {
		o.keep, _ = filepath.Abs(o.keep)
		checkLayerPath("-keep", o.keep)
	}
	common.RequireNamespaces(unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP)
	return o
}

// checkRootfs wants a directory with a shell in it, or exits with how to
// make one. Its proc, sys and dev must be directories: PID 1 mounts there
// before pivot_root, with the host's tree still in reach, and a symbolic
// link (dev -> /etc) would send a mount outside the root. runc resolves
// such paths inside the rootfs instead (securejoin, CVE-2021-30465).
func checkRootfs(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		common.ErrExit(dir, err)
	}
	if _, err := os.Stat(filepath.Join(abs, "bin", "sh")); errors.Is(err, os.ErrNotExist) {
		common.Fatalf("no root filesystem at %s (no bin/sh): make one with `sudo ./bin/05-mount mkrootfs %s`", abs, abs)
	}
	for _, d := range []string{"proc", "sys", "dev"} {
		st, err := os.Lstat(filepath.Join(abs, d))
		switch {
		case err != nil:
			common.ErrExit(filepath.Join(abs, d), err, "the root filesystem needs the directory: mkdir it")
		case st.Mode()&os.ModeSymlink != 0:
			common.Fatalf("%s/%s is a symbolic link: a mount there could land outside the root (rm it, then mkdir it)", abs, d)
		case !st.IsDir():
			common.Fatalf("%s/%s is not a directory: rm it, then mkdir it", abs, d)
		}
	}
	return abs
}

func (o options) isOff(layer string) bool { return slices.Contains(o.off, layer) }

// childArgs and initOptions carry what the child needs across the exec.
func (o options) childArgs() []string {
	return append([]string{o.rootfs, o.layer, o.hostname, strings.Join(o.off, ","), strconv.FormatBool(o.rootless)}, o.argv...)
}

func initOptions(args []string) options {
	if len(args) < 6 {
		common.Fatalf("want rootfs layer hostname off rootless cmd..., got %q", args)
	}
	return options{rootfs: args[0], layer: args[1], hostname: args[2], off: layerList(args[3]),
		rootless: args[4] == "true", argv: args[5:]}
}

// layerList reads -off's "caps,seccomp"; an empty name is none.
func layerList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' })
}

// cloneNames spells flags as C does: CLONE_NEWUTS|CLONE_NEWIPC|...
func cloneNames(flags uintptr) string {
	var s []string
	for _, ns := range common.Namespaces {
		if flags&ns.Flag != 0 { // mnt is CLONE_NEWNS: the first namespace had no name to spare
			s = append(s, "CLONE_NEW"+strings.ToUpper(strings.Replace(ns.Name, "mnt", "ns", 1)))
		}
	}
	return strings.Join(s, "|")
}

// idMap is syscall.SysProcIDMap, which x/sys/unix does not re-export (as in
// 07-user/shortcut.go).
type idMap = struct{ ContainerID, HostID, Size int }

// allCaps lists every capability of this kernel, for AmbientCaps.
func allCaps() []uintptr {
	var caps []uintptr
	for c := 0; c <= lastCap(); c++ {
		caps = append(caps, uintptr(c))
	}
	return caps
}
