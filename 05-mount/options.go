package main

// options.go adds a command line to the seed, which has none: the
// hostname, -proc, -tmpfs, -rootfs with -chroot or -pivot, and the command.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"nslab/common"
)

// options is the parsed command line.
type options struct {
	hostname, tmpfs, rootfs, mode string // mode: "chroot", "pivot" or ""
	proc                          bool
	argv                          []string
}

func usageLine() string {
	return common.Prog + " [-hostname NAME] [-proc] [-tmpfs DIR] [-rootfs DIR -chroot|-pivot] [cmd [arg...]]"
}

// subcommand runs `05-mount mkrootfs ...`, `05-mount escape ...` or
// `05-mount overlay ...`, and exits; anything else returns.
func subcommand(args []string) {
	subs := map[string]func([]string){"mkrootfs": mkrootfs, "escape": escape, "overlay": overlay}
	if len(args) > 0 && subs[args[0]] != nil {
		subs[args[0]](args[1:])
		common.Exit(0)
	}
}

// parseArgs checks the whole command line before anything is created.
func parseArgs(args []string) options {
	// -h lists the sub-commands too; a mistake shows the first line only.
	fs := common.NewFlags(usageLine() + "\n" + mkrootfsUsage() + "\n" +
		common.Prog + " escape      (inside a -chroot or -pivot rootfs: the chroot breakout)\n" +
		overlayUsage() + "      (lower, upper, copy-up and whiteouts, as a container's root)")
	var o options
	fs.StringVar(&o.hostname, "hostname", "namespace", "hostname in the new UTS namespace (the seed's)")
	fs.BoolVar(&o.proc, "proc", false, "mount a fresh /proc, so that ps shows the new PID namespace (the post's second version)")
	fs.StringVar(&o.tmpfs, "tmpfs", "", "mount a tmpfs on this absolute `DIR` (inside -rootfs if given); created and removed if missing")
	fs.StringVar(&o.rootfs, "rootfs", "", "run the command in this root filesystem `DIR` (build one with mkrootfs)")
	chroot := fs.Bool("chroot", false, "enter -rootfs with chroot(2): escapable")
	pivot := fs.Bool("pivot", false, "enter -rootfs with pivot_root(2), as container runtimes do")
	o.argv = fs.ParseArgs(args)
	switch {
	case len(o.hostname) > common.HostNameMax:
		common.UsageError("", "-hostname is %d bytes long; the kernel allows at most %d", len(o.hostname), common.HostNameMax)
	case o.tmpfs != "" && !filepath.IsAbs(o.tmpfs):
		common.UsageError(usageLine(), "-tmpfs wants an absolute path, got %q", o.tmpfs)
	case *chroot && *pivot:
		common.UsageError(usageLine(), "-chroot and -pivot exclude each other: pick one")
	case (*chroot || *pivot) && o.rootfs == "":
		common.UsageError(usageLine(), "-chroot and -pivot need -rootfs DIR")
	case o.rootfs != "" && !*chroot && !*pivot:
		common.UsageError(usageLine(), "-rootfs needs -chroot or -pivot (how to enter it)")
	}
	if *chroot {
		o.mode = "chroot"
	} else if *pivot {
		o.mode = "pivot"
	}
	if o.tmpfs != "" {
		o.tmpfs = filepath.Clean(o.tmpfs)
	}
	if len(o.argv) == 0 {
		o.argv = []string{"/bin/sh"} // the seed runs /bin/bash; sh is in every rootfs
	}
	if o.rootfs != "" {
		o.rootfs = checkRootfs(o.rootfs, o.proc)
	}
	return o
}

// checkRootfs refuses a -rootfs that cannot work, and returns its absolute
// path.
func checkRootfs(dir string, proc bool) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		common.ErrExit("-rootfs "+dir, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		common.Fatalf("-rootfs %s is not a directory (build one with: %s mkrootfs %s)", dir, common.Prog, dir)
	}
	if st, err := os.Stat(filepath.Join(abs, "proc")); proc && (err != nil || !st.IsDir()) {
		common.Fatalf("-rootfs %s has no /proc directory to mount proc on (mkdir %s/proc, or build it with mkrootfs)", dir, dir)
	}
	return abs
}

// childArgs passes the options to child_main (childOptions reads them).
func (o options) childArgs() []string {
	return append([]string{o.hostname, strconv.FormatBool(o.proc), o.tmpfs, o.rootfs, o.mode}, o.argv...)
}

func childOptions(args []string) options {
	if len(args) < 6 {
		common.Fatalf("child_main: want HOSTNAME PROC TMPFS ROOTFS MODE CMD..., got %q", args)
	}
	return options{hostname: args[0], proc: args[1] == "true", tmpfs: args[2], rootfs: args[3], mode: args[4], argv: args[5:]}
}

// hints are what child_main's failures to mount proc and to exec the
// command add: in a -rootfs, that the new root must have them.
func (o options) hints() (procHint, execHint string) {
	if o.rootfs == "" {
		return "", "check the command name and PATH"
	}
	return "the new root needs an empty /proc directory", "the command must exist inside " + o.rootfs + " (see 05-mount mkrootfs)"
}

// shellJoin quotes argv the way a shell needs it typed: sh -c 'a; b'.
func shellJoin(argv ...string) string {
	const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%_+=:,./-"
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = a
		if a == "" || strings.Trim(a, safe) != "" {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
