package main

// veth: what a veth link costs. In two network namespaces of our own, as
// 06-net link does: create a veth pair in place (one end in A, its peer
// straight into B), create both ends in A and move one to B (the ip(8)
// way), delete. No address, no traffic: only the kernel's work on the
// links. Nothing is created in the host's namespace.

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"nslab/common"
)

// veth prints the table of what creating, moving and deleting a veth pair
// costs. The namespaces end with this process, and every link in them:
// the file descriptors are their only holders.
func veth(rounds int) {
	common.RequireNamespaces(unix.CLONE_NEWNET)
	nsA, err := common.NewNetns()
	if err != nil {
		common.ErrExit("creating netns A", err)
	}
	nsB, err := common.NewNetns()
	if err != nil {
		common.ErrExit("creating netns B", err)
	}
	hA, err := netlink.NewHandleAt(netns.NsHandle(nsA))
	if err != nil {
		common.ErrExit("netlink socket in A", err)
	}
	defer hA.Close()

	pid := os.Getpid()
	names := netlink.LinkAttrs{Name: fmt.Sprintf("veth-%d-a", pid)}
	peer := fmt.Sprintf("veth-%d-b", pid)
	var inPlace, bothInA, move, del samples
	timeIt := func(into *samples, what string, fn func() error) {
		start := time.Now()
		if err := fn(); err != nil {
			common.ErrExit(what, err)
		}
		*into = append(*into, time.Since(start))
	}
	for range rounds {
		v := &netlink.Veth{LinkAttrs: names, PeerName: peer, PeerNamespace: netlink.NsFd(nsB)}
		timeIt(&inPlace, "ip link add (peer in B)", func() error { return hA.LinkAdd(v) })
		timeIt(&del, "ip link del", func() error { return hA.LinkDel(v) })

		v = &netlink.Veth{LinkAttrs: names, PeerName: peer}
		timeIt(&bothInA, "ip link add", func() error { return hA.LinkAdd(v) })
		timeIt(&move, "ip link set netns B", func() error {
			p, err := hA.LinkByName(peer)
			if err == nil {
				err = hA.LinkSetNsFd(p, nsB)
			}
			return err
		})
		timeIt(&del, "ip link del", func() error { return hA.LinkDel(v) })
	}

	fmt.Printf("veth links between two namespaces of our own, %d rounds, median / p90 in µs:\n", rounds)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tmedian\tp90\t")
	for _, r := range []struct {
		name string
		d    samples
	}{
		{"create, peer made in B", inPlace},
		{"create, both ends in A", bothInA},
		{"move one end to B", move},
		{"delete the pair", del},
	} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", r.name, r.d.quantile(0.5).Microseconds(), r.d.quantile(0.9).Microseconds())
	}
	tw.Flush()
}
