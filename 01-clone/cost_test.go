package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"nslab/common/nstest"
)

// make bench's first half: both tables have a row per namespace set, every
// cell a median and a p90 (p90 >= median), and the verdict line names the
// target. The numbers themselves are the benchmark's business, not a test's.
func TestCost(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "unshare", "util-linux")
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []string{"clone_cost", "ns_child_exec"} {
		if err := os.Symlink(nstest.BuildC(t, cSources, c), dir+"/"+c); err != nil {
			t.Fatal(err)
		}
	}
	r := nstest.Run(t, nstest.Program(t, "01-clone", "cost", "-n", "5", "-c", dir))
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	nstest.NoPanic(t, r.Stderr)
	cell := regexp.MustCompile(`(\d+) / (\d+)`)
	for _, table := range []string{"Spawning from a running program", "Whole commands"} {
		i := strings.Index(r.Stdout, table)
		if i < 0 {
			t.Fatalf("no table %q:\n%s", table, r.Stdout)
		}
		rows := 0
		for _, line := range strings.Split(r.Stdout[i:], "\n")[2:] {
			if strings.TrimSpace(line) == "" {
				break
			}
			rows++
			cells := cell.FindAllStringSubmatch(line, -1)
			if len(cells) < 2 {
				t.Errorf("row without cells: %q", line)
			}
			for _, c := range cells {
				med, _ := strconv.Atoi(c[1])
				p90, _ := strconv.Atoi(c[2])
				if med <= 0 || p90 < med {
					t.Errorf("cell %q: want 0 < median <= p90", c[0])
				}
			}
		}
		if rows != len(costRows) {
			t.Errorf("%s: %d rows, want %d:\n%s", table, rows, len(costRows), r.Stdout)
		}
	}
	if !regexp.MustCompile(`Go ns_child_exec, all 7: \d+ = [\d.]+× C \(target ≤ 1.30×: (met|missed)\)`).MatchString(r.Stdout) {
		t.Errorf("no verdict line:\n%s", r.Stdout)
	}
}

// Bad input is one line and exit status 2.
func TestCostBadInput(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"cost", "-n", "2"}, {"cost", "-x"}, {"cost", "extra"}} {
		r := nstest.Run(t, nstest.Program(t, "01-clone", args...))
		if r.Code != 2 || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line (+ usage)", args, r.Code, r.Stderr)
		}
		nstest.NoPanic(t, r.Stderr)
	}
}
