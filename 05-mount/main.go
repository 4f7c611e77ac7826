// Command 05-mount is the mount-namespace seed in Go: clone a child into new
// UTS, IPC, PID and mount namespaces, set its hostname, mount /proc and run
// a shell. It adds what the seed leaves out: it makes every mount private
// first (the seed's code replaces the host's /proc on a systemd host), a
// tmpfs the host cannot see, and a minimal root filesystem entered by
// chroot or by pivot_root.
//
//	sudo go run ./05-mount [-hostname NAME] [-proc] [-tmpfs DIR] [-rootfs DIR -chroot|-pivot] [cmd [arg...]]
//	sudo go run ./05-mount mkrootfs [-from-host] DIR   (mkrootfs.go)
//	05-mount escape [cmd [arg...]]                     (escape.go, run inside a -rootfs)
//
// The C counterpart is c/mount_namespace.c; this file follows it top to
// bottom: childFunc, usage, main. The root-changing steps are in rootfs.go.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// The seed's clone flags.
const cloneFlags = unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWPID | unix.CLONE_NEWNS

// hostNameMax is HOST_NAME_MAX: sethostname refuses longer names.
const hostNameMax = 64

func init() {
	// The child's half: main re-executes this binary as "childFunc" (see
	// common/reexec.go for why Go cannot clone(childFunc)).
	common.Register("childFunc", childFunc)
}

// step prints what the next lines do, as the shell command that does the
// same, with why in a comment: the C prints the same lines.
func step(color func(a ...any) string, cmd, why string) {
	if why == "" {
		fmt.Println(color("+ " + cmd))
		return
	}
	fmt.Printf("%s  %s\n", color("+ "+cmd), common.Dim("# "+why))
}

// shellJoin quotes argv the way a shell needs it typed: sh -c 'a; b'.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = a
		unsafe := strings.ContainsFunc(a, func(r rune) bool { return !strings.ContainsRune(safeChars, r) })
		if a == "" || unsafe {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

const safeChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%_+=:,./-"

// childFunc runs in the child, already in its new namespaces, as PID 1 of
// the new PID namespace. args: parent PID, hostname, "proc" or "", tmpfs
// dir, rootfs, "chroot"/"pivot"/"", then the command.
func childFunc(args []string) int {
	if len(args) < 7 {
		common.Fatalf("childFunc: want PPID HOSTNAME PROC TMPFS ROOTFS MODE CMD..., got %q", args)
	}
	parentPid, _ := strconv.Atoi(args[0])
	hostname, proc, tmpfs, rootfs, mode, argv := args[1], args[2] == "proc", args[3], args[4], args[5], args[6:]

	// The seed prints getppid() here: 0, as the parent is outside our PID
	// namespace. That is why the parent passes its PID as an argument.
	fmt.Printf(" - [%5d] in new namespaces, parent PID: %d\n", os.Getpid(), os.Getppid())

	// FIRST, before any mount: a new mount namespace starts with copies of
	// the parent's mounts AND of their propagation. systemd makes / shared,
	// so on most hosts the seed's mount of proc on /proc would propagate
	// back and replace the HOST's /proc. From here on, nothing we mount
	// leaves this namespace, and nothing the host mounts comes in.
	if err := common.MakeMountsPrivate(); err != nil {
		common.ErrExit("mount --make-rprivate /", err)
	}
	step(common.Child, "mount --make-rprivate /", "systemd makes / shared: without this our mounts would show up on the host")

	if err := unix.Sethostname([]byte(hostname)); err != nil {
		common.ErrExit("sethostname", err)
	}
	step(common.Child, "hostname "+hostname, "")

	// The root first, then the container's own mounts inside it:
	// pivot_root detaches everything mounted under the old root. (runc
	// does it the other way round: it mounts onto rootfs/... paths, then
	// pivots. Both work; this order keeps the paths the ones the command
	// sees.)
	switch mode {
	case "chroot":
		chrootInto(rootfs)
	case "pivot":
		pivotInto(rootfs)
	}

	if tmpfs != "" {
		if err := unix.Mount("tmpfs", tmpfs, "tmpfs", 0, ""); err != nil {
			common.ErrExit("mount -t tmpfs tmpfs "+tmpfs, err)
		}
		step(common.Child, "mount -t tmpfs tmpfs "+tmpfs, "in this mount namespace only: the host does not see it")
	}

	if proc {
		// The seed: mount("/root/proc", "/proc", "proc", 0, NULL). A fresh
		// proc shows the PID namespace of whoever mounts it: ours.
		if err := common.MountProc(parentPid); err != nil {
			hint := ""
			if rootfs != "" {
				hint = "the new root needs an empty /proc directory"
			}
			common.ErrExitHint("mount -t proc proc /proc", err, hint)
		}
		step(common.Child, "mount -t proc proc /proc", "a proc of the new PID namespace: ps sees only our processes")
	}

	// C: execv(child_args[0], child_args). The command replaces us and
	// becomes PID 1 of the new PID namespace, as in the seed (04-pid is
	// about what that means for signals). There is nothing left for us to
	// clean up: the mounts above belong to this mount namespace, and the
	// kernel takes them down with it when its last process exits. The
	// parent removes what it made on the host.
	step(common.Child, "exec "+shellJoin(argv), "")
	path, err := exec.LookPath(argv[0]) // in the new root's PATH
	if err != nil {
		hint := "check the command name and PATH"
		if rootfs != "" {
			hint = "the command must exist inside " + rootfs + " (see 05-mount mkrootfs)"
		}
		common.ErrExitHint("exec "+argv[0], err, hint)
	}
	err = unix.Exec(path, argv, os.Environ())
	common.ErrExit("exec "+path, err)
	return 1
}

func usageLine() string {
	return common.Prog + " [-hostname NAME] [-proc] [-tmpfs DIR] [-rootfs DIR -chroot|-pivot] [cmd [arg...]]"
}

// usage prints the command lines and the flags (for -h).
func usage(fs *flag.FlagSet) {
	fmt.Printf("usage: %s\n", usageLine())
	fmt.Printf("       %s mkrootfs [-from-host] DIR\n", common.Prog)
	fmt.Printf("       %s escape [cmd [arg...]]   (inside a -rootfs: try to leave it)\n", common.Prog)
	fs.SetOutput(os.Stdout)
	fs.PrintDefaults()
}

// options is the parsed command line.
type options struct {
	hostname, tmpfs, rootfs, mode string
	proc                          bool
	argv                          []string
}

func parseArgs(args []string) options {
	// A FlagSet of our own: the test binary runs this main and has already
	// registered its -test.* flags on flag.CommandLine.
	fs := flag.NewFlagSet(common.Prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed in one line below
	var o options
	fs.StringVar(&o.hostname, "hostname", "namespace", "hostname in the new UTS namespace (the seed's)")
	fs.BoolVar(&o.proc, "proc", false, "mount a fresh /proc, so that ps shows the new PID namespace")
	fs.StringVar(&o.tmpfs, "tmpfs", "", "mount a tmpfs on this absolute `DIR` (inside -rootfs if given); created and removed if missing")
	fs.StringVar(&o.rootfs, "rootfs", "", "run the command in this root filesystem `DIR` (build one with mkrootfs)")
	chroot := fs.Bool("chroot", false, "enter -rootfs with chroot(2): escapable")
	pivot := fs.Bool("pivot", false, "enter -rootfs with pivot_root(2), as container runtimes do")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs)
			common.Exit(0)
		}
		common.UsageError(usageLine(), "%v", err)
	}
	switch {
	case len(o.hostname) > hostNameMax:
		common.UsageError("", "-hostname is %d bytes long; the kernel allows at most %d", len(o.hostname), hostNameMax)
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
	o.argv = fs.Args()
	if len(o.argv) == 0 {
		o.argv = []string{"/bin/sh"} // the seed runs /bin/bash; sh is in every rootfs
	}
	return o
}

func main() {
	common.Dispatch()
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "mkrootfs":
			mkrootfs(os.Args[2:])
			common.Exit(0)
		case "escape":
			escape(os.Args[2:])
		}
	}
	o := parseArgs(os.Args[1:])

	common.RequireRoot("creating mount, PID, UTS and IPC namespaces")
	common.RequireNamespaces(cloneFlags)
	if o.rootfs != "" {
		o.rootfs = checkRootfs(o.rootfs, o.proc)
	}

	// The host side: a directory we create for the tmpfs is on the host's
	// filesystem, so the host sees it (empty: never the tmpfs). Remove it
	// at exit. The mount itself is the child's namespace's business.
	if o.tmpfs != "" {
		makeMountpoint(filepath.Join(o.rootfs, o.tmpfs)) // rootfs "" leaves the path alone
	}

	// The seed prints this line from main, and the child's from child_main.
	fmt.Printf(" - [%5d] in the host's namespaces, parent PID: %d\n", os.Getpid(), os.Getppid())

	// C: clone(child_main, stack, CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID
	// | CLONE_NEWNS | SIGCHLD, NULL). Go: re-execute ourselves as childFunc.
	proc := ""
	if o.proc {
		proc = "proc"
	}
	cmd := common.Command("childFunc", append([]string{strconv.Itoa(os.Getpid()),
		o.hostname, proc, o.tmpfs, o.rootfs, o.mode}, o.argv...)...)
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: cloneFlags}
	// StartChild: the child dies with us (Pdeathsig), and Ctrl-C, SIGTERM
	// or SIGHUP kill and reap it before the cleanups above run.
	child, err := common.StartChild(cmd)
	if err != nil {
		common.ErrExit("clone", err)
	}
	fmt.Printf("PID of child created by clone() is %d\n", child.Pid())

	err = child.Wait() // C: waitpid(child_pid, NULL, 0)
	// The command's status is ours, as with unshare(1): a shell left with
	// `exit 3` makes us exit 3. The cleanups run either way.
	common.Exit(common.ExitStatus(err))
}

// checkRootfs refuses, before anything is created, a -rootfs that cannot
// work, and returns its absolute path.
func checkRootfs(dir string, proc bool) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		common.ErrExit("-rootfs "+dir, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		common.Fatalf("-rootfs %s is not a directory (build one with: %s mkrootfs %s)", dir, common.Prog, dir)
	}
	if proc {
		if st, err := os.Stat(filepath.Join(abs, "proc")); err != nil || !st.IsDir() {
			common.Fatalf("-rootfs %s has no /proc directory to mount proc on (mkdir %s/proc, or build it with mkrootfs)", dir, dir)
		}
	}
	return abs
}

// made remembers the directory we created, for the idempotent cleanup that
// runs on the signal goroutine too.
var made struct {
	sync.Mutex
	dir string
}

// makeMountpoint creates dir if it is missing (its parent must exist) and
// registers its removal. An existing directory is used as it is.
func makeMountpoint(dir string) {
	st, err := os.Stat(dir)
	if err == nil {
		if !st.IsDir() {
			common.Fatalf("-tmpfs %s: not a directory", dir)
		}
		return
	}
	if !errors.Is(err, fs.ErrNotExist) {
		common.ErrExit("-tmpfs "+dir, err)
	}
	common.AtExit(removeMountpoint) // before creating: see common/cleanup.go
	made.Lock()
	err = os.Mkdir(dir, 0o755)
	if err == nil {
		made.dir = dir
	}
	made.Unlock()
	if errors.Is(err, fs.ErrNotExist) {
		common.ErrExitHint("mkdir "+dir, err, "the parent directory must exist")
	} else if err != nil {
		common.ErrExit("mkdir "+dir, err)
	}
	step(common.Parent, "mkdir "+dir, "on the host's filesystem: the host sees this directory, not what the child mounts on it")
}

// removeMountpoint removes the directory makeMountpoint created. It works
// even while the child still has its tmpfs on it: the mount is in another
// mount namespace, and the kernel detaches it (Linux 3.18 and later).
func removeMountpoint() {
	made.Lock()
	defer made.Unlock()
	if made.dir == "" {
		return
	}
	if err := os.Remove(made.dir); err != nil {
		common.Warnf("%s", common.Describe("rmdir "+made.dir, err, ""))
	} else {
		step(common.Parent, "rmdir "+made.dir, "")
	}
	made.dir = ""
}
