package main

// cost: what a veth link costs, for make bench (01-clone cost times the
// namespaces themselves). In two namespaces of our own, as link does:
// create a veth pair in place (one end in A, its peer straight into B),
// create both ends in A and move one to B (the ip(8) way), delete. No
// address, no traffic: only the kernel's work on the links.

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"nslab/common"
)

const usageCost = "06-net cost [-n ROUNDS]"

func cost(args []string) {
	var rounds *int
	parseFlags(usageCost, args, 0, func(fs *flag.FlagSet) {
		rounds = fs.Int("n", 20, "rounds per operation (a move or a delete waits ~15-30 ms in the kernel)")
	})
	if *rounds < 5 {
		common.UsageError(usage(usageCost), "-n %d: at least 5 rounds, for a median and a p90", *rounds)
	}
	common.RequireRoot("creating network namespaces")
	common.RequireNamespaces(unix.CLONE_NEWNET)
	nsA, nsB := twoNetns()
	hA := handleIn(nsA, "A")
	defer hA.Close()

	pid := os.Getpid()
	names := netlink.LinkAttrs{Name: fmt.Sprintf("veth-%d-a", pid)}
	peer := fmt.Sprintf("veth-%d-b", pid)
	var inPlace, bothInA, move, del []time.Duration
	timeIt := func(into *[]time.Duration, what string, fn func() error) {
		start := time.Now()
		if err := fn(); err != nil {
			common.ErrExit(what, err)
		}
		*into = append(*into, time.Since(start))
	}
	for range *rounds {
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

	fmt.Printf("veth links between two namespaces of our own, %d rounds, median / p90 in µs:\n", *rounds)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tmedian\tp90\t")
	for _, r := range []struct {
		name string
		d    []time.Duration
	}{
		{"create, peer made in B", inPlace},
		{"create, both ends in A", bothInA},
		{"move one end to B", move},
		{"delete the pair", del},
	} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", r.name, quantile(r.d, 0.5).Microseconds(), quantile(r.d, 0.9).Microseconds())
	}
	tw.Flush()
}

func quantile(d []time.Duration, q float64) time.Duration {
	c := slices.Clone(d)
	slices.Sort(c)
	return c[int(q*float64(len(c)-1)+0.5)]
}
