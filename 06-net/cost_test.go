package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"nslab/common/nstest"
)

// make bench's veth half: four operations, each with a median and a p90,
// and no veth of the run anywhere on the host afterwards.
func TestCost(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	cmd := nstest.Program(t, "06-net", "cost", "-n", "5")
	r := nstest.Run(t, cmd)
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	nstest.NoPanic(t, r.Stderr)
	row := regexp.MustCompile(`(?m)^\s*(create, peer made in B|create, both ends in A|move one end to B|delete the pair)\s+(\d+)\s+(\d+)\s*$`)
	rows := row.FindAllStringSubmatch(r.Stdout, -1)
	if len(rows) != 4 {
		t.Fatalf("want 4 rows, got %d:\n%s", len(rows), r.Stdout)
	}
	for _, m := range rows {
		med, _ := strconv.Atoi(m[2])
		p90, _ := strconv.Atoi(m[3])
		if med <= 0 || p90 < med {
			t.Errorf("%s: median %d, p90 %d", m[1], med, p90)
		}
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	for _, l := range ipLinks(t) {
		if strings.Contains(l.name, pid) {
			t.Errorf("veth %s of the run is on the host", l.name)
		}
	}
}
