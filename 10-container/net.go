package main

// net.go adds the container's network: loopback, and with -net a veth
// from the container to a second network namespace of this program's own,
// with an address on each end and a ping between them. The host's
// namespace gets no interface, no address and no route; the second
// namespace is held only by a file descriptor of ours, so it and the veth
// vanish when we exit, even by SIGKILL.

import (
	"fmt"
	"net"
	"os"
	"os/exec"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"nslab/common"
)

// A /30 from 10.0.0.0/8 that lives only inside the two namespaces.
var (
	peerAddr      = &net.IPNet{IP: net.IPv4(10, 200, 10, 1), Mask: net.CIDRMask(30, 32)}
	containerAddr = &net.IPNet{IP: net.IPv4(10, 200, 10, 2), Mask: net.CIDRMask(30, 32)}
)

// loUp is `ip link set lo up`, from inside: every thread of ours is in the
// container's network namespace, so the netlink socket is too.
func loUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	return netlink.LinkSetUp(lo)
}

// veth wires the container (PID pid, still waiting) to a namespace of ours:
// eth0 inside, veth0 in the peer, then pings the container from the peer.
func veth(pid int) {
	// `ip netns add`, without a name in /run/netns: unshare on a thread
	// that is thrown away after (06-net's thread.go says why).
	peer, err := common.NewNetns()
	if err != nil {
		common.ErrExit("creating the peer namespace", err)
	}
	common.AtExit(func() { unix.Close(peer) })
	hp, err := netlink.NewHandleAt(netns.NsHandle(peer))
	if err != nil {
		common.ErrExit("netlink socket in the peer namespace", err)
	}
	cns, err := netns.GetFromPid(pid)
	if err != nil {
		common.ErrExit("opening the container's network namespace", err)
	}
	defer cns.Close()
	hc, err := netlink.NewHandleAt(cns)
	if err != nil {
		common.ErrExit("netlink socket in the container's namespace", err)
	}
	// `ip link add veth0 type veth peer name eth0 netns PID`: made in the
	// peer namespace, its other end straight in the container's.
	if err := hp.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "veth0"}, PeerName: "eth0", PeerNamespace: netlink.NsPid(pid)}); err != nil {
		common.ErrExit("ip link add veth0 type veth peer name eth0", err)
	}
	// `ip addr add ADDR dev NAME; ip link set NAME up`, through h's socket.
	addrUp := func(h *netlink.Handle, name string, addr *net.IPNet) {
		l, err := h.LinkByName(name)
		if err == nil {
			err = h.AddrAdd(l, &netlink.Addr{IPNet: addr})
		}
		if err == nil {
			err = h.LinkSetUp(l)
		}
		if err != nil {
			common.ErrExit(fmt.Sprintf("ip addr add %s dev %s", addr, name), err)
		}
	}
	addrUp(hp, "veth0", peerAddr)
	addrUp(hc, "eth0", containerAddr)
	common.Step(common.Parent(fmt.Sprintf("ip link add veth0 type veth peer name eth0 netns %d", pid)), "")
	common.Step(common.Parent(fmt.Sprintf("ip addr add %s dev veth0; ip -n CONTAINER addr add %s dev eth0", peerAddr, containerAddr)),
		"both ends inside namespaces: the host gets no address")
	// `ip netns exec peer ping`: the host's ping, started from a thread in
	// the peer namespace. The container needs no program for this: its
	// kernel answers.
	var pingErr error
	err = common.InNetns(peer, func() error {
		c := exec.Command("ping", "-c", "1", "-W", "2", containerAddr.IP.String())
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		common.Step(common.Parent("ip netns exec PEER ping -c 1 "+containerAddr.IP.String()), "from the peer to the container")
		// StartChild: a Ctrl-C meanwhile kills and reaps it before we exit.
		p, err := common.StartChild(c)
		if err == nil {
			err = p.Wait()
		}
		pingErr = err
		return nil
	})
	switch {
	case err != nil: // setns into the peer: not ping's fault
		common.ErrExit("entering the peer namespace", err)
	case pingErr != nil:
		common.ErrExit("ping "+containerAddr.IP.String(), pingErr, "apt-get install iputils-ping")
	}
}
