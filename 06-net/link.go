// link.go adds a network between namespaces, which the seed never builds:
// two namespaces of our own joined by a veth pair, with an address on each
// end and a TCP echo between them, all from Go: netlink
// (github.com/vishvananda/netlink) instead of ip(8), and per-thread setns
// (thread.go) instead of `ip netns exec`.
//
// Network safety: addresses go only on the two veth ends, inside the two
// namespaces made here. Nothing is ever created in, or routed to, the
// host's namespace.

package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"nslab/common"
)

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

// newNetns creates a network namespace on a throwaway thread and returns a
// file descriptor that keeps it alive after the thread has gone (name is
// for messages). Once the last reference to a namespace is gone, the
// kernel destroys it, and every interface in it, the veth ends included.
// link's undo step closes the two descriptors, but exit alone would do as
// much: every reference here is a file descriptor or a thread of this
// process, which the kernel drops when it ends, even by kill -9. (A name
// in /run/netns is a mount: it outlives us, and `ip netns del` must
// remove it.)
func newNetns(name string) int {
	fd, err := common.NewNetns()
	if err != nil {
		common.ErrExit("creating netns "+name, err)
	}
	return fd
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

// timed prints what was done and how long it took.
func timed(start time.Time, format string, args ...any) {
	fmt.Printf("%s  %s\n", fmt.Sprintf(format, args...), common.Dim(fmt.Sprintf("[%.1f ms]", float64(time.Since(start).Microseconds())/1000)))
}

func link(args []string) {
	fs := common.NewFlags(common.Prog + " link [-hold D] [-move]")
	hold := fs.Hold(0, "both namespaces and the veth pair, after the echo,")
	move := fs.Bool("move", false, "the ip(8) way: make both veth ends in A, move one to B, delete the veth at the end (each ~15-30 ms)")
	fs.Parse(args)
	common.RequireRoot("creating network namespaces")
	common.RequireNamespaces(unix.CLONE_NEWNET)
	t := newTwoNets()
	t.addVeth(*move)
	t.addAddrs()

	tcpEcho(t.nsA, t.nsB)

	fmt.Println()
	printLinks("netns A "+t.idA, t.hA)
	printLinks("netns B "+t.idB, t.hB)
	t.hold(*hold)
	t.tearDown(*move)
}

// twoNets is what link builds: two namespaces, each held by a file
// descriptor, a netlink socket in each, and the names of the veth pair's
// ends.
type twoNets struct {
	pid          int
	nsA, nsB     int    // file descriptors
	idA, idB     string // net:[inode]
	hA, hB       *netlink.Handle
	vethA, vethB string
	veth         *netlink.Veth // vethA, as addVeth made it: LinkAdd fills in its index in A
	closeAB      func()        // the undo step: close nsA and nsB, once
}

// newTwoNets makes the two namespaces and a netlink socket in each.
func newTwoNets() *twoNets {
	t := &twoNets{pid: os.Getpid()}
	t.vethA, t.vethB = fmt.Sprintf("veth-%d-a", t.pid), fmt.Sprintf("veth-%d-b", t.pid)

	// Two namespaces, each held by a file descriptor.
	start := time.Now()
	t.nsA, t.nsB = newNetns("A"), newNetns("B")
	t.closeAB = sync.OnceFunc(func() { unix.Close(t.nsA); unix.Close(t.nsB) })
	common.AtExit(t.closeAB) // Ctrl-C: exit 130 after closing them
	t.idA, t.idB = netID(fmt.Sprintf("/proc/self/fd/%d", t.nsA)), netID(fmt.Sprintf("/proc/self/fd/%d", t.nsB))
	timed(start, "netns A %s (fd %d), netns B %s (fd %d): unshare on two throwaway threads",
		common.Child(t.idA), t.nsA, common.Child(t.idB), t.nsB)

	// A netlink socket in each namespace.
	t.hA, t.hB = handleIn(t.nsA, "A"), handleIn(t.nsB, "B")
	return t
}

// addVeth makes the veth pair. By default each end is created where it
// belongs: the request goes to A's netlink socket, so the first end is made
// in A, and IFLA_NET_NS_FD on the peer puts the second straight into B.
// `ip link add A type veth peer name B netns NSB`. With -move, the usual
// two steps: both ends in A, then `ip link set B netns NSB`. Moving an
// interface waits for the kernel (~15-30 ms here).
func (t *twoNets) addVeth(move bool) {
	start := time.Now()
	t.veth = &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: t.vethA}, PeerName: t.vethB}
	if !move {
		t.veth.PeerNamespace = netlink.NsFd(t.nsB)
	}
	if err := t.hA.LinkAdd(t.veth); err != nil {
		common.ErrExit("ip link add "+t.vethA+" type veth peer name "+t.vethB, err)
	}
	if !move {
		timed(start, "%s in A, its peer %s in B: made in place, nothing moved", t.vethA, t.vethB)
		return
	}
	timed(start, "%s and its peer %s, both in A", t.vethA, t.vethB)
	start = time.Now()
	peer, err := t.hA.LinkByName(t.vethB)
	if err == nil {
		err = t.hA.LinkSetNsFd(peer, t.nsB)
	}
	if err != nil {
		common.ErrExit("ip link set "+t.vethB+" netns B", err)
	}
	timed(start, "moved %s from A to B", t.vethB)
}

// addAddrs puts an address on each end, inside its namespace, and both
// ends up.
func (t *twoNets) addAddrs() {
	start := time.Now()
	for _, s := range []struct {
		h          *netlink.Handle
		veth, name string
		addr       netip.Prefix
	}{{t.hA, t.vethA, "A", addrA}, {t.hB, t.vethB, "B", addrB}} {
		l, err := s.h.LinkByName(s.veth)
		if err != nil {
			common.ErrExit("finding "+s.veth+" in "+s.name, err)
		}
		ipnet := &net.IPNet{IP: s.addr.Addr().AsSlice(), Mask: net.CIDRMask(s.addr.Bits(), 32)}
		if err := s.h.AddrAdd(l, &netlink.Addr{IPNet: ipnet}); err != nil {
			common.ErrExit("ip addr add "+s.addr.String()+" dev "+s.veth, err)
		}
		if err := s.h.LinkSetUp(l); err != nil {
			common.ErrExit("ip link set "+s.veth+" up", err)
		}
	}
	timed(start, "%s on %s, %s on %s, both up", addrA, t.vethA, addrB, t.vethB)
}

// hold (-hold D) keeps everything for D, to look at from another shell.
func (t *twoNets) hold(d time.Duration) {
	if d <= 0 {
		return
	}
	fmt.Printf("\nholding for %s: no process is in these namespaces and they have no name; the file descriptors %d and %d of PID %d hold them. From another shell try\n",
		d, t.nsA, t.nsB, t.pid)
	fmt.Printf("    nsenter --net=/proc/%d/fd/%d ip -br addr\n", t.pid, t.nsA)
	fmt.Printf("    nsenter --net=/proc/%d/fd/%d ip -s link show %s\n", t.pid, t.nsB, t.vethB)
	time.Sleep(d)
}

// tearDown is link's undo step: with -move, the ip(8) way, delete the veth;
// then close the netlink sockets and the namespaces' last file descriptors.
func (t *twoNets) tearDown(move bool) {
	fmt.Println()
	if move {
		start := time.Now()
		if err := t.hA.LinkDel(t.veth); err != nil {
			common.ErrExit("ip link del "+t.vethA, err)
		}
		timed(start, "deleted %s (and with it %s)", t.vethA, t.vethB)
	}
	start := time.Now()
	t.hA.Close()
	t.hB.Close()
	t.closeAB() // the undo step, now: close A and B
	timed(start, "closed the last file descriptors of A and B")
	fmt.Println("the kernel destroys both namespaces, with every interface in them, in the background:")
	fmt.Println("the ~15-30 ms a veth deletion waits in the kernel are not spent by this program")
}

// tcpEcho runs the TCP echo: a server on 10.200.6.1:7 in A, a client in B.
// Each socket is made on a thread in its namespace (common.InNetns): only
// socket() needs the thread there. The socket stays in that namespace for
// life, and Accept, Read and Write work on it from any goroutine.
func tcpEcho(nsA, nsB int) {
	server := netip.AddrPortFrom(addrA.Addr(), echoPort)
	var ln *net.TCPListener
	err := common.InNetns(nsA, func() (err error) {
		ln, err = net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(server))
		return err
	})
	if err != nil {
		common.ErrExit("listen on "+server.String()+" in A", err)
	}
	defer ln.Close()
	fmt.Printf("server: listening on %s, in %s\n", server, common.Child(sockNetns(ln)))
	// The server, in a goroutine: it accepts one client, echoes what it
	// sends until its EOF, and reports on served: nil, and the bytes
	// echoed in n, or why it could not.
	var n int64
	served := make(chan error, 1)
	go func() {
		ln.SetDeadline(time.Now().Add(5 * time.Second))
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			n, err = io.Copy(c, c) // echo everything until the client's EOF
		}
		served <- err
	}()

	// The client, from a socket made in B: it sends msg, closes its
	// writing side, and reads everything the server sent back.
	var conn *net.TCPConn
	err = common.InNetns(nsB, func() error {
		c, err := net.DialTimeout("tcp4", server.String(), 5*time.Second)
		conn, _ = c.(*net.TCPConn) // what tcp4 dials; nil after an error
		return err
	})
	if err != nil {
		common.ErrExit("connect to "+server.String()+" from B", err)
	}
	defer conn.Close()
	fmt.Printf("client: %s -> %s, in %s\n", conn.LocalAddr(), conn.RemoteAddr(), common.Child(sockNetns(conn)))
	msg := []byte("hello from netns B\n")
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(msg); err != nil {
		common.ErrExit("send", err)
	}
	conn.CloseWrite() // EOF for the server: it stops echoing
	back, err := io.ReadAll(conn)
	if err != nil {
		common.ErrExit("receive", err)
	}

	if err := <-served; err != nil {
		common.ErrExit("echo server", err)
	}
	fmt.Printf("B -> A: %d bytes %q, and the server in A got %d\n", len(msg), msg, n)
	fmt.Printf("A -> B: %d bytes %q\n", len(back), back)
	if string(back) != string(msg) {
		common.Fatalf("the echo differs from what was sent")
	}
}

// sockNetns asks the kernel which network namespace a socket belongs to:
// ioctl(fd, SIOCGSKNS) returns a file descriptor of it.
func sockNetns(sock syscall.Conn) string {
	id := "net:[?]"
	if rc, err := sock.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			if nsfd, err := unix.IoctlRetInt(int(fd), unix.SIOCGSKNS); err == nil {
				id = netID(fmt.Sprintf("/proc/self/fd/%d", nsfd))
				unix.Close(nsfd)
			}
		})
	}
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
		line := fmt.Sprintf("%3d: %-15s %-4s", a.Index, a.Name, upDown(a.Flags))
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
