// bench: what isolation costs, measured side by side in one run (make
// bench). Not a chapter: it times the chapters' programs and their C
// counterparts against each other and against util-linux unshare.
//
// Four tables. "Spawning from a running program" times clone()+wait inside
// one process: C's clone() (c/clone_cost.c: the child returns, or execs
// /bin/true), Go's exec.Cmd with Cloneflags running /bin/true, and Go
// re-executing itself (what the chapters do to run Go code in the child).
// "Whole commands" times a command from start to exit, as `time` would: C
// ns_child_exec, Go ns_child_exec (01-clone) and `unshare --fork`, each
// running /bin/true. The third times veth links between two network
// namespaces of our own (06-net link's way and ip(8)'s). "A whole
// container" times 10-container run against runc run on one rootfs, and
// 10-container with a layer or its limits off (container.go).
//
//	bench [-n ROUNDS] [-bin DIR]
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

const usage = "bench [-n ROUNDS] [-bin DIR]"

func init() {
	// The re-executed child of the "Go re-exec self" column: it starts the
	// Go runtime and returns, like the C child that returns at once.
	common.Register("bench-child", func([]string) int { return 0 })
}

// costRow is one line of the namespace tables: a set of namespaces, as
// ns_child_exec flags. The time namespace is left out: clone() cannot take
// its flag.
type costRow struct {
	name    string
	letters string
}

var costRows = []costRow{
	{"none", ""}, {"cgroup", "C"}, {"ipc", "i"}, {"mnt", "m"}, {"net", "n"},
	{"pid", "p"}, {"uts", "u"}, {"user", "U"}, {"all 7", "CimnpuU"},
}

func (r costRow) flags() uintptr {
	var f uintptr
	for _, l := range []byte(r.letters) {
		if ns, ok := common.NSByLetter(l); ok {
			f |= ns.Flag
		}
	}
	return f
}

// opts is the row's flags as command-line options, e.g. [-C -i].
func (r costRow) opts() []string {
	var o []string
	for _, l := range r.letters {
		o = append(o, "-"+string(l))
	}
	return o
}

// samples is one cell: the time of each round.
type samples []time.Duration

func (s samples) quantile(q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return c[int(q*float64(len(c)-1)+0.5)]
}

func main() {
	common.Dispatch() // the "Go re-exec self" child
	fs := common.NewFlags(usage)
	rounds := fs.Int("n", 100, "rounds per namespace cell; the veth and container rows take a fifth as many (at least 5): a move or a delete waits ~15-30 ms in the kernel, a container runs ~100 ms")
	bin := fs.String("bin", "", "directory of the built programs: 01-clone, 05-mount, 10-container, and c/ with clone_cost and ns_child_exec (default: this program's directory, where make bench puts them)")
	fs.Parse(os.Args[1:])
	if *rounds < 5 {
		common.UsageError(usage, "-n %d: at least 5 rounds, for a median and a p90", *rounds)
	}
	common.RequireRoot("creating namespaces")
	if *bin == "" {
		self, err := os.Executable()
		if err != nil {
			common.ErrExit("finding this program", err)
		}
		*bin = filepath.Dir(self)
	}
	containers := newContainerBench(*bin)
	namespaces(*rounds, *bin)
	fmt.Println()
	veth(max(*rounds/5, 5))
	fmt.Println()
	containers.run(max(*rounds/5, 5))
	common.Exit(0)
}

// namespaces prints the two tables of what each namespace costs.
func namespaces(rounds int, bin string) {
	cloneCost := filepath.Join(bin, "c", "clone_cost")
	cNsChildExec := filepath.Join(bin, "c", "ns_child_exec")
	goNsChildExec := filepath.Join(bin, "01-clone")
	for _, p := range []string{cloneCost, cNsChildExec, goNsChildExec} {
		if _, err := os.Stat(p); err != nil {
			common.ErrExit(p, err, "build them with make build c, or point -bin at them")
		}
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		common.ErrExit("unshare", err, "install util-linux")
	}

	fmt.Printf("%d rounds per cell, median / p90 in µs; ×C = median over C's median; %d CPUs, kernel %s\n",
		rounds, numCPU(), kernelRelease())
	progress := common.IsTerminal(2)
	type cells struct{ cClone, cExec, goExec, goSelf, cCmd, goCmd, unshare samples }
	results := make([]cells, len(costRows))
	for i, r := range costRows {
		if progress {
			fmt.Fprintf(os.Stderr, "\rmeasuring %-8s", r.name)
		}
		c := &results[i]
		c.cClone = cSamples(cloneCost, append([]string{"-c", strconv.Itoa(rounds)}, r.opts()...))
		c.cExec = cSamples(cloneCost, append([]string{"-e", "-c", strconv.Itoa(rounds)}, r.opts()...))
		// Round-robin, so that a slow moment of the machine hits every
		// column alike.
		trueArgs := append(r.opts(), "/bin/true")
		for range rounds {
			c.goExec = append(c.goExec, timeRun(exec.Command("/bin/true"), r.flags()))
			c.goSelf = append(c.goSelf, timeRun(common.Command("bench-child"), r.flags()))
			c.cCmd = append(c.cCmd, timeRun(exec.Command(cNsChildExec, trueArgs...), 0))
			c.goCmd = append(c.goCmd, timeRun(exec.Command(goNsChildExec, append([]string{"ns_child_exec"}, trueArgs...)...), 0))
			c.unshare = append(c.unshare, timeRun(exec.Command(unshare, append([]string{"--fork"}, trueArgs...)...), 0))
		}
	}
	if progress {
		fmt.Fprintf(os.Stderr, "\r%-20s\r", "")
	}

	fmt.Println("\nSpawning from a running program (clone + wait):")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "namespaces\tC clone, child returns\tC clone + exec true\tGo exec.Cmd true\t×C\tGo re-exec self\t×C\t")
	for i, r := range costRows {
		c := results[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.name, cell(c.cClone), cell(c.cExec),
			cell(c.goExec), ratio(c.goExec, c.cExec), cell(c.goSelf), ratio(c.goSelf, c.cExec))
	}
	tw.Flush()

	fmt.Println("\nWhole commands running /bin/true (start to exit):")
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "namespaces\tC ns_child_exec\tGo ns_child_exec\t×C\tunshare --fork\t×C\t")
	for i, r := range costRows {
		c := results[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", r.name, cell(c.cCmd), cell(c.goCmd),
			ratio(c.goCmd, c.cCmd), cell(c.unshare), ratio(c.unshare, c.cCmd))
	}
	tw.Flush()

	// The project's own spawn path against its targets (issue #7): within
	// 1.3× of C, faster than unshare --fork.
	all := results[len(results)-1]
	goMed, cMed, unMed := all.goCmd.quantile(0.5), all.cCmd.quantile(0.5), all.unshare.quantile(0.5)
	verdict := func(ok bool) string {
		if ok {
			return common.Child("met")
		}
		return common.Differ("missed")
	}
	fmt.Printf("\nGo ns_child_exec, all 7: %s = %.2f× C (target ≤ 1.30×: %s); unshare --fork %s (target: slower than Go: %s)\n",
		us(goMed), float64(goMed)/float64(cMed), verdict(float64(goMed) <= 1.3*float64(cMed)),
		us(unMed), verdict(goMed < unMed))
}

// timeRun runs cmd to completion in new namespaces (flags) and returns how
// long it took, or exits with the reason it failed.
func timeRun(cmd *exec.Cmd, flags uintptr) time.Duration {
	if flags != 0 {
		cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: flags}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		common.Fatalf("%s: %v: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return d
}

// cSamples runs clone_cost and reads its one-line-per-round microseconds.
func cSamples(bin string, args []string) samples {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		common.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
	var s samples
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		v, err := strconv.ParseFloat(sc.Text(), 64)
		if err != nil {
			common.Fatalf("%s: unexpected line %q", bin, sc.Text())
		}
		s = append(s, time.Duration(v*float64(time.Microsecond)))
	}
	return s
}

func us(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) }

func cell(s samples) string { return us(s.quantile(0.5)) + " / " + us(s.quantile(0.9)) }

func ratio(s, base samples) string {
	return fmt.Sprintf("%.2f", float64(s.quantile(0.5))/float64(base.quantile(0.5)))
}

func numCPU() int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return 0
	}
	return set.Count()
}

func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}
