// Command 06-net is the network-namespace part of the unshare / ip netns
// seed in Go:
//
//	06-net show [-hold D]          unshare --net + ip link: a new netns has only lo, DOWN
//	06-net add NAME                ip netns add NAME      (netns.go)
//	06-net list                    ip netns list
//	06-net exec NAME cmd [arg...]  ip netns exec NAME cmd
//	06-net del NAME                ip netns del NAME
//	06-net link [-hold D] [-move]  two namespaces, a veth pair, a TCP echo (link.go)
//
// The C counterpart of show is c/netns_show.c; this file follows it top to
// bottom: listInterfaces, childFunc, show, then usage and main.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// The child and the parent of show talk over two pipes, which the child
// finds as file descriptors 3 and 4 (cmd.ExtraFiles below).
const (
	listFD    = 3 // child -> parent: the child's interfaces, one a line
	releaseFD = 4 // parent -> child: closed once the parent has printed
)

// column is the width of the host's half of show's table (the C uses the
// same, so the two print identical lines).
const column = 38

func init() {
	// The child's half of show: main re-executes this binary as
	// "childFunc" (see common/reexec.go for why Go cannot clone(childFunc)).
	common.Register("childFunc", childFunc)
}

// listInterfaces is `ip -br link` cut down to the index, the name and the
// IFF_UP flag, as seen from the caller's network namespace. net.Interfaces
// asks the kernel over a netlink socket (RTM_GETLINK), and a socket belongs
// to the network namespace of the thread that created it: here, the whole
// process's. The C calls if_nameindex() and ioctl(SIOCGIFFLAGS).
func listInterfaces() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, ifc := range ifs {
		state := "DOWN"
		if ifc.Flags&net.FlagUp != 0 {
			state = "UP"
		}
		lines = append(lines, fmt.Sprintf("%3d: %-15s %s", ifc.Index, ifc.Name, state))
	}
	return lines, nil
}

// netID names the network namespace behind path (/proc/PID/ns/net, an fd
// in /proc/PID/fd, a file in /run/netns) the way readlink shows it.
func netID(path string) string {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "net:[?]"
	}
	return fmt.Sprintf("net:[%d]", st.Ino)
}

// childFunc runs in the child, already in its new network namespace. It
// sends the parent its list of interfaces, then stays alive until the
// parent has printed (and for -hold), so that the parent can read
// /proc/<child>/ns/net and a learner can nsenter it.
func childFunc(args []string) int {
	if len(args) != 1 {
		common.Fatalf("childFunc: want HOLD, got %q", args)
	}
	hold, err := time.ParseDuration(args[0])
	if err != nil {
		common.Fatalf("childFunc: %v", err)
	}
	// Ctrl-C reaches the whole foreground process group: leave it to the
	// parent, which kills and reaps us (common.StartChild).
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)

	lines, err := listInterfaces()
	if err != nil {
		common.ErrExit("listing interfaces", err)
	}
	out := os.NewFile(listFD, "list")
	fmt.Fprint(out, strings.Join(lines, "\n")+"\n")
	out.Close()

	io.Copy(io.Discard, os.NewFile(releaseFD, "release")) // EOF: the parent is done
	time.Sleep(hold)
	return 0
}

// show is the seed's `unshare --net /bin/sh` then `ip a`, with the host's
// list beside the child's.
func show(args []string) {
	var hold *time.Duration
	parseFlags(usageShow, args, 0, func(fs *flag.FlagSet) {
		hold = fs.Duration("hold", 0, "keep the child and its namespace alive this long after printing, e.g. 60s")
	})
	if *hold < 0 {
		common.UsageError(usage(usageShow), "-hold must not be negative")
	}
	common.RequireRoot("creating a network namespace")
	common.RequireNamespaces(unix.CLONE_NEWNET)

	list, listW, err := os.Pipe()
	if err != nil {
		common.ErrExit("pipe", err)
	}
	releaseR, release, err := os.Pipe()
	if err != nil {
		common.ErrExit("pipe", err)
	}

	// C: clone(childFunc, stack, CLONE_NEWNET | SIGCHLD, &hold).
	cmd := common.Command("childFunc", hold.String())
	cmd.ExtraFiles = []*os.File{listW, releaseR} // fd 3 and fd 4 in the child
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWNET}
	child, err := common.StartChild(cmd) // dies with us, even on Ctrl-C
	if err != nil {
		common.ErrExit("starting the child (clone CLONE_NEWNET)", err)
	}
	listW.Close()
	releaseR.Close()
	pid := child.Pid()

	var childLines []string
	sc := bufio.NewScanner(list)
	for sc.Scan() {
		childLines = append(childLines, sc.Text())
	}
	if len(childLines) == 0 { // EOF before any line: the child failed
		child.Wait()
		common.Fatalf("the child failed before listing its interfaces (%s)", cmd.ProcessState)
	}
	hostLines, err := listInterfaces()
	if err != nil {
		common.ErrExit("listing interfaces", err)
	}

	row("host  pid "+fmt.Sprint(os.Getpid())+" "+netID("/proc/self/ns/net"),
		"child pid "+fmt.Sprint(pid)+" "+netID(fmt.Sprintf("/proc/%d/ns/net", pid)))
	for i := 0; i < max(len(hostLines), len(childLines)); i++ {
		var h, c string
		if i < len(hostLines) {
			h = common.Parent(hostLines[i])
		}
		if i < len(childLines) {
			c = common.Child(childLines[i])
		}
		row(h, c)
	}
	if *hold > 0 {
		fmt.Printf("child PID %d holds its network namespace for %s; from another shell try\n", pid, *hold)
		fmt.Printf("    nsenter -t %d -n ip a   or   lsns -t net -p %d\n", pid, pid)
	}
	release.Close() // the child may now start its -hold

	child.Wait() // C: waitpid(pid, NULL, 0)
	// Killing the child (kill PID) is how a -hold is ended early: no
	// failure. A child that exited with an error status is.
	if st := cmd.ProcessState; st.ExitCode() > 0 {
		common.Fatalf("the child failed (%s)", st)
	}
}

// row prints two cells side by side. The padding counts the visible
// characters only: the cells may carry color escapes.
func row(left, right string) {
	if right == "" {
		fmt.Println(left)
		return
	}
	pad := max(column-1-len(stripANSI(left)), 0) // C: printf("%-37s %s\n", ...)
	fmt.Print(left, strings.Repeat(" ", pad), " ", right, "\n")
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

const (
	usageShow = "06-net show [-hold D]"
	usageAll  = `06-net show [-hold D]
       06-net add NAME | list | exec NAME cmd [arg...] | del NAME
       06-net link [-hold D] [-move]`
)

// usage is a usage text with this program's name in it.
func usage(text string) string {
	return strings.ReplaceAll(text, "06-net", common.Prog)
}

// parseFlags parses a sub-command's flags (define adds them to fs) and
// returns the arguments after them, which must number exactly nargs
// (-1: any). A bad command line ends the program with exit status 2.
func parseFlags(usageLine string, args []string, nargs int, define func(fs *flag.FlagSet)) []string {
	usageLine = usage(usageLine)
	// A FlagSet of our own: the test binary registers its -test.* flags
	// on flag.CommandLine, and runs this main.
	fs := flag.NewFlagSet(common.Prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed as one line, below
	if define != nil {
		define(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Printf("usage: %s\n", usageLine)
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			common.Exit(0)
		}
		common.UsageError(usageLine, "%v", err)
	}
	rest := fs.Args()
	switch {
	case nargs >= 0 && len(rest) > nargs:
		common.UsageError(usageLine, "unexpected argument %q (flags go first)", rest[nargs])
	case nargs >= 0 && len(rest) < nargs:
		common.UsageError(usageLine, "missing argument")
	}
	return rest
}

func main() {
	common.Dispatch()

	if len(os.Args) < 2 {
		common.UsageError(usage(usageAll), "missing command: show, add, list, exec, del or link")
	}
	switch sub, args := os.Args[1], os.Args[2:]; sub {
	case "show":
		show(args)
	case "add":
		netnsAdd(args)
	case "list":
		netnsList(args)
	case "exec":
		netnsExec(args)
	case "del":
		netnsDel(args)
	case "link":
		link(args)
	case "-h", "-help", "--help", "help":
		fmt.Printf("usage: %s\n", usage(usageAll))
	default:
		common.UsageError(usage(usageAll), "unknown command %q: choose show, add, list, exec, del or link", sub)
	}
	common.Exit(0)
}
