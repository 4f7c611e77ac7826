// link: two network namespaces of our own, joined by a veth pair, with an
// address on each end and a TCP echo between them, all from Go: netlink
// (github.com/vishvananda/netlink) instead of ip(8), and per-thread setns
// instead of `ip netns exec`.
//
// Network safety: addresses go only on the two veth ends, inside the two
// namespaces made here. Nothing is ever created in, or routed to, the
// host's namespace.

package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"nslab/common"
)

const usageLink = "06-net link [-hold D] [-move]"

// The two ends' addresses: a /30 from the private 10.0.0.0/8, just big
// enough for two hosts. No clash is possible with the host or with a
// parallel run: each namespace has its own addresses and routes.
var (
	addrA = netip.MustParsePrefix("10.200.6.1/30")
	addrB = netip.MustParsePrefix("10.200.6.2/30")
)

// echoPort is the echo service's port (RFC 862). Ours to take: the
// namespace has no other listener.
const echoPort = 7

// Entering a network namespace from Go
//
// setns(2) and unshare(2) change the namespaces of the calling *thread*.
// A goroutine may move to another thread at any moment, and other
// goroutines run on its thread after it. So:
//
//   - runtime.LockOSThread pins the goroutine to its thread: from setns to
//     the end, its system calls all run there;
//   - we never unlock: when a goroutine returns still locked, the runtime
//     ends its thread rather than hand it, in a foreign namespace, to other
//     goroutines. Except the main thread, which it cannot end: if the
//     goroutine ran there (it often does), the thread is parked for good,
//     still in the namespace, keeping it alive, and /proc/PID/ns/net (the
//     main thread's) would show it as the process's. So the thread steps
//     back to where it was before the goroutine returns, all the same;
//   - while a goroutine is locked, the runtime starts new threads from a
//     clean "template thread", not from the locked one, so they do not
//     inherit its namespaces either.
//
// That is enough for the network namespace. The kernel lets any thread of
// a process join one, and what it changes is settled per call: a socket
// belongs for life to the namespace of the thread that created it. So the
// thread only has to be in the namespace for socket(2) (net.Listen,
// net.Dial, a netlink socket); after that the socket works from any thread.
//
// It is not enough for every namespace. setns() into a mount namespace
// refuses (EINVAL) a thread that shares its filesystem context with other
// threads, and into a user namespace any process with more than one
// thread: Go's threads always share that context, and a Go program always
// has several threads. A PID (or time) namespace applies to the children
// the thread creates, not to the thread itself (09-setns).

// onThread runs fn on a goroutine locked to its OS thread, and returns
// fn's error. Whatever fn does to the thread's network namespace ends with
// the thread.
func onThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		home, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		err = fn()
		unix.Setns(home, unix.CLONE_NEWNET) // in case this is the main thread
		unix.Close(home)
		errc <- err
	}()
	return <-errc
}

// inNetns runs fn on a thread of its own that has joined the network
// namespace behind the file descriptor ns.
func inNetns(ns int, fn func() error) error {
	return onThread(func() error {
		if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("setns(CLONE_NEWNET): %w", err)
		}
		return fn()
	})
}

// namespaces are the file descriptors that hold link's two namespaces:
// they have no process and no name. The mutex lets the cleanup (on Ctrl-C,
// from common's signal goroutine) and main agree on what is open.
var namespaces struct {
	sync.Mutex
	fds []int
}

// newNetns creates a network namespace on a throwaway thread and returns a
// file descriptor that keeps it alive after the thread has gone.
func newNetns() (int, error) {
	fd := -1
	namespaces.Lock()
	defer namespaces.Unlock()
	err := onThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
		}
		var err error
		fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		return err
	})
	if fd >= 0 {
		namespaces.fds = append(namespaces.fds, fd)
	}
	return fd, err
}

// twoNetns makes the namespaces A and B. Their cleanup is registered before
// either exists.
func twoNetns() (nsA, nsB int) {
	common.AtExit(closeNamespaces)
	nsA, err := newNetns()
	if err != nil {
		common.ErrExit("creating netns A", err)
	}
	nsB, err = newNetns()
	if err != nil {
		common.ErrExit("creating netns B", err)
	}
	return nsA, nsB
}

// handleIn opens a netlink socket in the namespace ns (called name in
// messages): NewHandleAt makes it on a locked thread that has joined the
// namespace, then steps back.
func handleIn(ns int, name string) *netlink.Handle {
	h, err := netlink.NewHandleAt(netns.NsHandle(ns))
	if err != nil {
		common.ErrExit("netlink socket in "+name, err)
	}
	return h
}

// closeNamespaces is link's undo step. Once the last reference to a
// namespace is gone, the kernel destroys it, and every interface in it,
// the veth ends included. Exit alone would do as much: every reference
// here is a file descriptor or a thread of this process, which the kernel
// drops when it ends, even by kill -9. (A name in /run/netns is a mount:
// it outlives us, and `ip netns del` must remove it.)
func closeNamespaces() {
	namespaces.Lock()
	defer namespaces.Unlock()
	for _, fd := range namespaces.fds {
		unix.Close(fd)
	}
	namespaces.fds = nil
}

// timed prints what was done and how long it took.
func timed(start time.Time, format string, args ...any) {
	d := time.Since(start)
	fmt.Printf("%s  %s\n", fmt.Sprintf(format, args...), common.Dim(fmt.Sprintf("[%.1f ms]", float64(d.Microseconds())/1000)))
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
}

func link(args []string) {
	var hold *time.Duration
	var move *bool
	parseFlags(usageLink, args, 0, func(fs *flag.FlagSet) {
		hold = fs.Duration("hold", 0, "after the echo, keep everything this long (e.g. 60s) to look at it from another shell")
		move = fs.Bool("move", false, "the ip(8) way: make both veth ends in A, move one to B, delete the veth at the end (each ~15-30 ms)")
	})
	if *hold < 0 {
		common.UsageError(usage(usageLink), "-hold must not be negative")
	}
	common.RequireRoot("creating network namespaces")
	common.RequireNamespaces(unix.CLONE_NEWNET)
	pid := os.Getpid()
	vethA, vethB := fmt.Sprintf("veth-%d-a", pid), fmt.Sprintf("veth-%d-b", pid)

	// Two namespaces, each held by a file descriptor.
	start := time.Now()
	nsA, nsB := twoNetns()
	idA, idB := netID(fmt.Sprintf("/proc/self/fd/%d", nsA)), netID(fmt.Sprintf("/proc/self/fd/%d", nsB))
	timed(start, "netns A %s (fd %d), netns B %s (fd %d): unshare on two throwaway threads",
		common.Child(idA), nsA, common.Child(idB), nsB)

	// A netlink socket in each namespace.
	hA, hB := handleIn(nsA, "A"), handleIn(nsB, "B")

	// The veth pair. By default each end is created where it belongs:
	// the request goes to A's netlink socket, so the first end is made in
	// A, and IFLA_NET_NS_FD on the peer puts the second straight into B.
	// `ip link add A type veth peer name B netns NSB`. With -move, the
	// usual two steps: both ends in A, then `ip link set B netns NSB`.
	// Moving an interface waits for the kernel (~15-30 ms here).
	start = time.Now()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: vethA}, PeerName: vethB}
	if !*move {
		veth.PeerNamespace = netlink.NsFd(nsB)
	}
	if err := hA.LinkAdd(veth); err != nil {
		common.ErrExit("ip link add "+vethA+" type veth peer name "+vethB, err)
	}
	if !*move {
		timed(start, "%s in A, its peer %s in B: made in place, nothing moved", vethA, vethB)
	} else {
		timed(start, "%s and its peer %s, both in A", vethA, vethB)
		start = time.Now()
		peer, err := hA.LinkByName(vethB)
		if err == nil {
			err = hA.LinkSetNsFd(peer, nsB)
		}
		if err != nil {
			common.ErrExit("ip link set "+vethB+" netns B", err)
		}
		timed(start, "moved %s from A to B", vethB)
	}

	// An address on each end, inside its namespace, and both ends up.
	start = time.Now()
	la, err := hA.LinkByName(vethA)
	if err != nil {
		common.ErrExit("finding "+vethA+" in A", err)
	}
	lb, err := hB.LinkByName(vethB)
	if err != nil {
		common.ErrExit("finding "+vethB+" in B", err)
	}
	for _, s := range []struct {
		h    *netlink.Handle
		l    netlink.Link
		addr netip.Prefix
	}{{hA, la, addrA}, {hB, lb, addrB}} {
		if err := s.h.AddrAdd(s.l, &netlink.Addr{IPNet: ipNet(s.addr)}); err != nil {
			common.ErrExit("ip addr add "+s.addr.String()+" dev "+s.l.Attrs().Name, err)
		}
		if err := s.h.LinkSetUp(s.l); err != nil {
			common.ErrExit("ip link set "+s.l.Attrs().Name+" up", err)
		}
	}
	timed(start, "%s on %s, %s on %s, both up", addrA, vethA, addrB, vethB)

	echo(nsA, nsB)

	fmt.Println()
	printLinks("netns A "+idA, hA)
	printLinks("netns B "+idB, hB)

	if *hold > 0 {
		fmt.Printf("\nholding for %s: no process is in these namespaces and they have no name; the file descriptors %d and %d of PID %d hold them. From another shell try\n",
			*hold, nsA, nsB, pid)
		fmt.Printf("    nsenter --net=/proc/%d/fd/%d ip -br addr\n", pid, nsA)
		fmt.Printf("    nsenter --net=/proc/%d/fd/%d ip -s link show %s\n", pid, nsB, vethB)
		time.Sleep(*hold)
	}

	fmt.Println()
	if *move {
		start = time.Now()
		if err := hA.LinkDel(la); err != nil {
			common.ErrExit("ip link del "+vethA, err)
		}
		timed(start, "deleted %s (and with it %s)", vethA, vethB)
	}
	start = time.Now()
	hA.Close()
	hB.Close()
	closeNamespaces()
	timed(start, "closed the last file descriptors of A and B")
	fmt.Println("the kernel destroys both namespaces, with every interface in them, in the background:")
	fmt.Println("the ~15-30 ms a veth deletion waits in the kernel are not spent by this program")
}

// echo runs the TCP echo: a server on 10.200.6.1:7 in A, a client in B.
func echo(nsA, nsB int) {
	server := netip.AddrPortFrom(addrA.Addr(), echoPort).String()

	// Only socket() needs the thread in A. The listening socket stays in
	// A; Accept, Read and Write work on it from any goroutine.
	var ln net.Listener
	err := inNetns(nsA, func() (err error) {
		ln, err = net.Listen("tcp4", server)
		return err
	})
	if err != nil {
		common.ErrExit("listen on "+server+" in A", err)
	}
	defer ln.Close()
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		common.ErrExit("listener", err)
	}
	fmt.Printf("server: listening on %s, in %s\n", server, common.Child(sockNetns(rc.Control)))

	type result struct {
		n   int64
		err error
	}
	served := make(chan result, 1)
	go func() {
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		c, err := ln.Accept()
		if err != nil {
			served <- result{0, err}
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		n, err := io.Copy(c, c) // echo everything until the client's EOF
		served <- result{n, err}
	}()

	var conn net.Conn
	err = inNetns(nsB, func() (err error) {
		d := net.Dialer{Timeout: 5 * time.Second}
		conn, err = d.Dial("tcp4", server)
		return err
	})
	if err != nil {
		common.ErrExit("connect to "+server+" from B", err)
	}
	defer conn.Close()
	rc, err = conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		common.ErrExit("client socket", err)
	}
	fmt.Printf("client: %s -> %s, in %s\n", conn.LocalAddr(), conn.RemoteAddr(), common.Child(sockNetns(rc.Control)))

	msg := []byte("hello from netns B\n")
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(msg); err != nil {
		common.ErrExit("send", err)
	}
	conn.(*net.TCPConn).CloseWrite() // EOF for the server: it stops echoing
	back, err := io.ReadAll(conn)
	if err != nil {
		common.ErrExit("receive", err)
	}
	r := <-served
	if r.err != nil {
		common.ErrExit("echo server", r.err)
	}
	fmt.Printf("B -> A: %d bytes %q, and the server in A got %d\n", len(msg), msg, r.n)
	fmt.Printf("A -> B: %d bytes %q\n", len(back), back)
	if string(back) != string(msg) {
		common.Fatalf("the echo differs from what was sent")
	}
}

// sockNetns asks the kernel which network namespace a socket belongs to:
// ioctl(fd, SIOCGSKNS) returns a file descriptor of it. control is the
// Control method of the socket's SyscallConn.
func sockNetns(control func(func(fd uintptr)) error) string {
	id := "net:[?]"
	control(func(fd uintptr) {
		nsfd, err := unix.IoctlRetInt(int(fd), unix.SIOCGSKNS)
		if err == nil {
			id = netID(fmt.Sprintf("/proc/self/fd/%d", nsfd))
			unix.Close(nsfd)
		}
	})
	return id
}

// printLinks lists a namespace's interfaces, addresses and byte counters,
// through the netlink socket that lives in it.
func printLinks(title string, h *netlink.Handle) {
	fmt.Println(title)
	links, err := h.LinkList()
	if err != nil {
		common.ErrExit("ip link (netlink)", err)
	}
	for _, l := range links {
		a := l.Attrs()
		state := "DOWN"
		if a.Flags&net.FlagUp != 0 {
			state = "UP"
		}
		line := fmt.Sprintf("%3d: %-15s %-4s", a.Index, a.Name, state)
		addrs, _ := h.AddrList(l, netlink.FAMILY_V4)
		for _, ad := range addrs {
			line += " " + ad.IPNet.String()
		}
		if s := a.Statistics; s != nil && (s.RxBytes > 0 || s.TxBytes > 0) {
			line += fmt.Sprintf("  rx %d bytes, tx %d bytes", s.RxBytes, s.TxBytes)
		}
		fmt.Println(line)
	}
}
