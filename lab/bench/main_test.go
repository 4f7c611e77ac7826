package main

import (
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"nslab/common/nstest"
)

//go:embed c/*.c
var cSources embed.FS

func TestMain(m *testing.M) { nstest.Main(m, main) }

// programs lays out what make bench gives the benchmark: DIR/01-clone,
// DIR/05-mount, DIR/10-container and DIR/c/{clone_cost,ns_child_exec}. The
// Go programs and 01-clone's C ns_child_exec come from $NSLAB_BIN (the
// guest's built programs) or from the source tree.
func programs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "c"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := func(src, dst string) {
		if err := os.Symlink(src, filepath.Join(dir, dst)); err != nil {
			t.Fatal(err)
		}
	}
	link(nstest.BuildC(t, cSources, "clone_cost"), "c/clone_cost")
	goPrograms := []string{"01-clone", "05-mount", "10-container"}
	if bin := os.Getenv("NSLAB_BIN"); bin != "" {
		for _, p := range goPrograms {
			link(filepath.Join(bin, p), p)
		}
	} else {
		args := []string{"build", "-buildvcs=false", "-o", dir + "/"}
		for _, p := range goPrograms {
			args = append(args, "../../"+p)
		}
		out, err := exec.Command(goCmd(), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", strings.Join(goPrograms, " "), err, out)
		}
	}
	src := "../../01-clone/c/ns_child_exec.c"
	if _, err := os.Stat(src); err != nil {
		// The guest runs test binaries without the source tree: take
		// make c's binary if the harness shipped it.
		if c := filepath.Join(os.Getenv("NSLAB_BIN"), "c", "ns_child_exec"); os.Getenv("NSLAB_BIN") != "" && fileExists(c) {
			link(c, "c/ns_child_exec")
			return dir
		}
		nstest.Skip(t, "no 01-clone/c/ns_child_exec.c here and no $NSLAB_BIN/c/ns_child_exec (vm-test ships make c's programs there)")
	}
	gcc := nstest.RequireTool(t, "gcc", "gcc")
	out, err := exec.Command(gcc, "-O2", "-Wall", "-Wextra", "-Werror", "-o", filepath.Join(dir, "c", "ns_child_exec"), src, "-lrt").CombinedOutput()
	if err != nil {
		t.Fatalf("gcc ns_child_exec.c: %v\n%s", err, out)
	}
	return dir
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func goCmd() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// make bench's output: both namespace tables have a row per namespace set,
// every cell a median and a p90 (p90 >= median), the verdict line names the
// target, the veth table has its four operations, the container table (with
// runc installed) has runc's row and 10-container's, each of these with its
// ratio to runc, and no veth, directory or runc cgroup of the run is left
// on the host. The numbers themselves are the benchmark's business, not a
// test's.
func TestBench(t *testing.T) {
	nstest.RequireRoot(t)
	// 10-container and runc make cgroups with the cpu controller.
	nstest.LockCgroups(t)
	nstest.RequireTool(t, "unshare", "util-linux")
	cmd := nstest.Program(t, "bench", "-n", "5", "-bin", programs(t))
	// About 40 whole containers among the rest: 5 s here, over a minute
	// under the guests' emulation.
	r := nstest.RunFor(t, cmd, 5*time.Minute)
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

	row := regexp.MustCompile(`(?m)^\s*(create, peer made in B|create, both ends in A|move one end to B|delete the pair)\s+(\d+)\s+(\d+)\s*$`)
	rows := row.FindAllStringSubmatch(r.Stdout, -1)
	if len(rows) != 4 {
		t.Fatalf("want 4 veth rows, got %d:\n%s", len(rows), r.Stdout)
	}
	for _, m := range rows {
		med, _ := strconv.Atoi(m[2])
		p90, _ := strconv.Atoi(m[3])
		if med <= 0 || p90 < med {
			t.Errorf("%s: median %d, p90 %d", m[1], med, p90)
		}
	}
	checkContainerTable(t, r.Stdout)
	pid := cmd.Process.Pid
	if _, err := os.Lstat(fmt.Sprintf("/tmp/nslab-rootfs.bench-%d", pid)); err == nil {
		t.Errorf("the run's rootfs and bundle /tmp/nslab-rootfs.bench-%d are left", pid)
	}
	if left := runcCgroups(fmt.Sprintf("nslab-10-runc-%d", pid)); len(left) > 0 {
		t.Errorf("runc's cgroups are left: %v", left)
	}

	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	prefix := "veth-" + strconv.Itoa(cmd.Process.Pid) + "-"
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, prefix) {
			t.Errorf("veth %s of the run is on the host", l.Attrs().Name)
		}
	}
}

// checkContainerTable checks the container table's rows, in order, or the
// one line that says it is skipped.
func checkContainerTable(t *testing.T, out string) {
	t.Helper()
	if _, err := exec.LookPath("runc"); err != nil {
		if !strings.Contains(out, "A whole container: skipped, runc is not installed") {
			t.Errorf("runc is not installed, and no line says the container table is skipped:\n%s", out)
		}
		return
	}
	i := strings.Index(out, "A whole container running")
	if i < 0 {
		t.Fatalf("no container table:\n%s", out)
	}
	row := regexp.MustCompile(`^\s*(runc run|10-container.*?)\s+([\d.]+) / ([\d.]+)(\s+([\d.]+))?\s*$`)
	want := []string{"runc run"}
	for _, r := range ourRuns {
		want = append(want, r.name)
	}
	var got []string
	for _, line := range strings.Split(out[i:], "\n")[2:] {
		if strings.TrimSpace(line) == "" {
			break
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("container row %q: want NAME MEDIAN / P90 [RATIO]", line)
			continue
		}
		got = append(got, m[1])
		med, _ := strconv.ParseFloat(m[2], 64)
		p90, _ := strconv.ParseFloat(m[3], 64)
		if med <= 0 || p90 < med {
			t.Errorf("%s: median %s ms, p90 %s ms: want 0 < median <= p90", m[1], m[2], m[3])
		}
		x, err := strconv.ParseFloat(m[5], 64)
		switch {
		case m[1] == "runc run" && m[4] != "":
			t.Errorf("runc run: a ratio %q to itself", m[5])
		case m[1] != "runc run" && (err != nil || x <= 0):
			t.Errorf("%s: ratio to runc %q, want a number > 0", m[1], m[5])
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("container rows %q, want %q:\n%s", got, want, out[i:])
	}
	if !regexp.MustCompile(`10-container run: [\d.]+ ms = [\d.]+× runc run \(target ≤ 0.60×: (met|missed)\)`).MatchString(out) {
		t.Errorf("no container verdict line:\n%s", out[i:])
	}
}

// Bad input is one line and exit status 2.
func TestBenchBadInput(t *testing.T) {
	for _, args := range [][]string{{"-n", "2"}, {"-x"}, {"extra"}} {
		r := nstest.Run(t, nstest.Program(t, "bench", args...))
		if r.Code != 2 || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line (+ usage)", args, r.Code, r.Stderr)
		}
		nstest.NoPanic(t, r.Stderr)
	}
}
