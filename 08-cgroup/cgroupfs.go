package main

// cgroupfs.go: where the cgroup files are, on cgroup v1 and on v2, and the
// few files this chapter reads and writes. Everything goes through a
// cgroupFS built from a root directory: "/" when the program runs, a fake
// tree in a temporary directory in the unit tests (cgroupfs_test.go).
//
// v1 ("legacy", or "hybrid" next to an unused cgroup2 mount): one hierarchy
// per mount, each holding one or more controllers. Here cpu and cpuacct are
// two hierarchies (/sys/fs/cgroup/cpu and /sys/fs/cgroup/cpuacct); many
// distributions mount them together at /sys/fs/cgroup/cpu,cpuacct. A
// process has one cgroup per hierarchy (a line each in /proc/PID/cgroup).
//
// v2 ("unified"): one hierarchy at /sys/fs/cgroup, one cgroup per process
// (the "0::" line), and controllers are switched on per subtree by writing
// +cpu to a parent's cgroup.subtree_control.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

const cgroupMount = "/sys/fs/cgroup"

// cgroupFS is the cgroup file system as this process sees it.
type cgroupFS struct {
	root  string // "/", or the fake tree of a unit test
	v2    bool
	hiers []*hierarchy
}

// hierarchy is one mounted cgroup hierarchy.
type hierarchy struct {
	controllers []string // v1: those mounted together, e.g. [cpu cpuacct]; v2: none
	mountPoint  string   // where it is mounted (mountinfo field 5)
	mountRoot   string   // the cgroup shown at the mount point (field 4): "/" unless a container bind-mounted a sub-tree
	own         string   // this process's cgroup in it, as /proc/self/cgroup shows it
}

func (h *hierarchy) String() string {
	if len(h.controllers) == 0 {
		return "cgroup2"
	}
	return strings.Join(h.controllers, ",")
}

// isV2 is the test runc and systemd make: a cgroup2 file system mounted at
// /sys/fs/cgroup itself means v2. A tmpfs there (with v1 hierarchies, and
// maybe a cgroup2 at /sys/fs/cgroup/unified) means v1 or hybrid.
func isV2(root string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(filepath.Join(root, cgroupMount), &st); err != nil {
		return false, err
	}
	return st.Type == unix.CGROUP2_SUPER_MAGIC, nil
}

// newCgroupFS reads root/proc/self/cgroup and root/proc/self/mountinfo.
func newCgroupFS(root string, v2 bool) (*cgroupFS, error) {
	self, err := os.ReadFile(filepath.Join(root, "/proc/self/cgroup"))
	if err != nil {
		return nil, err
	}
	mountinfo, err := os.ReadFile(filepath.Join(root, "/proc/self/mountinfo"))
	if err != nil {
		return nil, err
	}
	mounts := parseMountinfo(mountinfo)
	c := &cgroupFS{root: root, v2: v2}
	for _, line := range strings.Split(strings.TrimSpace(string(self)), "\n") {
		// hierarchy-ID:controller-list:cgroup-path
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if v2 != (f[0] == "0") {
			continue // on v1, the 0:: line is the unused cgroup2 mount
		}
		var ctls []string
		if f[1] != "" {
			ctls = strings.Split(f[1], ",")
		}
		if m := findMount(mounts, v2, ctls, f[2]); m != nil {
			c.hiers = append(c.hiers, &hierarchy{controllers: ctls, mountPoint: m.point, mountRoot: m.root, own: f[2]})
		}
	}
	if v2 && len(c.hiers) == 0 {
		return nil, fmt.Errorf("no cgroup2 mount at %s for our cgroup (/proc/self/cgroup: %q)", cgroupMount, strings.TrimSpace(string(self)))
	}
	return c, nil
}

type mount struct {
	root, point, fstype string
	opts                []string // super options: rw,cpu,cpuacct
}

func parseMountinfo(b []byte) []mount {
	var ms []mount
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		sep := slices.Index(f, "-")
		if sep < 6 || sep+3 >= len(f) {
			continue
		}
		ms = append(ms, mount{root: unescape(f[3]), point: unescape(f[4]), fstype: f[sep+1], opts: strings.Split(f[sep+3], ",")})
	}
	return ms
}

// unescape undoes mountinfo's octal escapes (a space is \040).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// findMount picks the mount of the hierarchy holding ctls (v1) or the
// cgroup2 mount at /sys/fs/cgroup (v2) through which our cgroup is visible.
// The last matching line wins: a later mount hides an earlier one.
func findMount(ms []mount, v2 bool, ctls []string, own string) *mount {
	var found *mount
	for i, m := range ms {
		switch {
		case v2 && (m.fstype != "cgroup2" || m.point != cgroupMount):
			continue
		case !v2 && m.fstype != "cgroup":
			continue
		case !v2 && !containsAll(m.opts, ctls):
			continue
		}
		if _, ok := relTo(own, m.root); ok {
			found = &ms[i]
		}
	}
	return found
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return len(want) > 0
}

// relTo is cg relative to the cgroup at a mount point, if it is below it.
func relTo(cg, mountRoot string) (string, bool) {
	if mountRoot == "/" {
		return cg, true
	}
	if cg == mountRoot {
		return "/", true
	}
	rel, ok := strings.CutPrefix(cg, mountRoot+"/")
	return "/" + rel, ok
}

// dir is the directory of cgroup cg (a path as /proc/self/cgroup shows it).
func (c *cgroupFS) dir(h *hierarchy, cg string) string {
	rel, _ := relTo(cg, h.mountRoot)
	return filepath.Join(c.root, h.mountPoint, rel)
}

// missingError says which controller is missing and how to get it.
type missingError struct{ what, fix string }

func (e *missingError) Error() string { return e.what + " (" + e.fix + ")" }

// hierarchyFor is the hierarchy that has controller (v1), or the unified one
// (v2), after checking that it offers the controller. On v2, "cpuacct" and
// "freezer" are not controllers: cpu.stat's usage and cgroup.freeze are in
// every cgroup.
func (c *cgroupFS) hierarchyFor(controller string) (*hierarchy, error) {
	if c.v2 {
		h := c.hiers[0]
		if controller == "freezer" && common.SimulateMissing("controller", controller) {
			return nil, &missingError{"this kernel's cgroup v2 has no cgroup.freeze (it came in Linux 5.2)", "a newer kernel, such as the lab VM's"}
		}
		if controller == "" || controller == "cpuacct" || controller == "freezer" {
			return h, nil
		}
		top := c.dir(h, h.mountRoot)
		b, err := os.ReadFile(filepath.Join(top, "cgroup.controllers"))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(strings.Fields(string(b)), controller) || common.SimulateMissing("controller", controller) {
			return nil, &missingError{
				fmt.Sprintf("the cgroup v2 hierarchy offers no %s controller (%s/cgroup.controllers: %q)", controller, top, strings.TrimSpace(string(b))),
				"a v1 hierarchy may hold it: boot with systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all"}
		}
		return h, nil
	}
	for _, h := range c.hiers {
		if slices.Contains(h.controllers, controller) && !common.SimulateMissing("controller", controller) {
			return h, nil
		}
	}
	return nil, &missingError{
		fmt.Sprintf("no cgroup v1 hierarchy has the %s controller", controller),
		fmt.Sprintf("mount one: mkdir -p %s/%s && mount -t cgroup -o %s cgroup %s/%s", cgroupMount, controller, controller, cgroupMount, controller)}
}

// base is the cgroup under which this program makes its own: the one it
// runs in — never the root, which belongs to whoever runs the machine.
//
// v2 adds the "no internal processes" rule: a cgroup other than the root
// may pass controllers to its children (subtree_control) only while no
// process sits in it. The cgroup we run in holds at least us (and under
// systemd, our whole service or login session), so on v2 the base is the
// nearest cgroup, from ours upwards, that is the root or holds no process.
func (c *cgroupFS) base(h *hierarchy) (string, error) {
	if !c.v2 {
		return h.own, nil
	}
	cg := h.own
	for cg != h.mountRoot && cg != "/" {
		procs, err := os.ReadFile(filepath.Join(c.dir(h, cg), "cgroup.procs"))
		if err != nil {
			return "", err
		}
		if len(bytes.TrimSpace(procs)) == 0 {
			break
		}
		cg = path.Dir(cg)
	}
	return cg, nil
}

// lacking lists the directories, from the top of the hierarchy down to
// base, whose cgroup.subtree_control does not have controller yet: where
// +controller must be written, in this order, for base's children to get it.
func (c *cgroupFS) lacking(h *hierarchy, base, controller string) ([]string, error) {
	var dirs []string
	for _, cg := range ancestors(base, h.mountRoot) {
		d := c.dir(h, cg)
		has, err := hasController(filepath.Join(d, "cgroup.subtree_control"), controller)
		if err != nil {
			return nil, err
		}
		if !has {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// ancestors lists top, the cgroups below it and cg itself, top first.
func ancestors(cg, top string) []string {
	list := []string{cg}
	for cg != top && cg != "/" {
		cg = path.Dir(cg)
		list = append(list, cg)
	}
	slices.Reverse(list)
	return list
}

func hasController(file, controller string) (bool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return false, err
	}
	return slices.Contains(strings.Fields(string(b)), controller), nil
}

// group is one cgroup of this program, by name, in every hierarchy it
// needs: with v1's separate cpu and cpuacct that is two directories, with
// them co-mounted or on v2 it is one.
type group struct {
	cfs   *cgroupFS
	name  string
	parts []part   // one per controller asked for
	dirs  []string // the distinct directories; procs are read from dirs[0]

	// v2: controllers to switch on down to the base, and which ones we did
	need    []string
	h       *hierarchy
	baseCg  string
	enabled [][2]string // {directory, controller}
	lock    *os.File    // the hierarchy's top directory, flock(2)ed, see enable

	mu       sync.Mutex // create runs in main, remove maybe in the signal handler
	created  []string
	stopped  bool
	stopping atomic.Bool
	say      func(format string, args ...any) // progress lines (stdout)
}

// part is where the group lives for one controller.
type part struct {
	ctl  string
	h    *hierarchy
	base string // the cgroup it goes under
	dir  string
}

// newGroup plans cgroup name under the base, for the controllers (the
// first one's directory is where processes are listed).
func (c *cgroupFS) newGroup(name string, controllers ...string) (*group, error) {
	g := &group{cfs: c, name: name, say: func(string, ...any) {}}
	if len(controllers) == 0 {
		controllers = []string{""}
	}
	for _, ctl := range controllers {
		h, err := c.hierarchyFor(ctl)
		if err != nil {
			return nil, err
		}
		base, err := c.base(h)
		if err != nil {
			return nil, err
		}
		d := filepath.Join(c.dir(h, base), name)
		g.parts = append(g.parts, part{ctl, h, base, d})
		if !slices.Contains(g.dirs, d) {
			g.dirs = append(g.dirs, d)
		}
		if c.v2 {
			g.h, g.baseCg = h, base
			if ctl == "cpu" {
				g.need = append(g.need, ctl)
			}
		}
	}
	return g, nil
}

// dir is the group's directory for a controller.
func (g *group) dir(ctl string) string {
	for _, p := range g.parts {
		if p.ctl == ctl {
			return p.dir
		}
	}
	return g.dirs[0]
}

// describe says, per hierarchy, where it is mounted, where we run and
// where the group goes.
func (g *group) describe() []string {
	var lines []string
	seen := map[*hierarchy]bool{}
	for _, p := range g.parts {
		if seen[p.h] {
			continue
		}
		seen[p.h] = true
		what := "cgroup v2, mounted at " + p.h.mountPoint
		if !g.cfs.v2 {
			what = fmt.Sprintf("cgroup v1, hierarchy %s mounted at %s", p.h, p.h.mountPoint)
		}
		line := fmt.Sprintf("%s: we run in %s", what, p.h.own)
		if p.base != p.h.own {
			line += fmt.Sprintf(", which holds processes: our cgroups go under %s", p.base)
		}
		lines = append(lines, line)
	}
	return lines
}

// create makes the directories (on v2 after switching the controllers on).
// Register remove with common.AtExit before calling it.
func (g *group) create() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return errors.New("stopping")
	}
	if len(g.need) > 0 {
		if err := g.enable(); err != nil {
			return err
		}
	}
	for _, d := range g.dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
		g.created = append(g.created, d)
		g.say("created %s\n", d)
	}
	return nil
}

// enable writes +cpu into cgroup.subtree_control from the top of the
// hierarchy down to the base, where it is missing, and remembers where, to
// write -cpu there at the end: only what we switched on.
//
// subtree_control is shared by everyone below it, so two runs at once must
// agree. Every run that needs a controller holds a flock(2) on the
// hierarchy's top directory while it runs: shared, once the controller is
// on; exclusive for the moment it switches it on. The run that switched it
// on takes the lock exclusive again at the end, so it waits until no other
// run needs the controller before switching it off. c/cgroup_quota.c does
// the same. (Other managers of the tree, systemd first, know nothing of
// this lock: see README.)
func (g *group) enable() error {
	f, err := os.Open(g.cfs.dir(g.h, g.h.mountRoot))
	if err != nil {
		return err
	}
	g.lock = f
	for try := 0; try < 5; try++ {
		// Usually another run, or the system, has switched it on already.
		if err := g.flock(unix.LOCK_SH); err != nil {
			return err
		}
		if missing, err := g.lacking(); err != nil || len(missing) == 0 {
			return err
		}
		// Shared to exclusive (and back) is not atomic (flock(2)): look
		// again once alone, and once more back in shared mode.
		if err := g.flock(unix.LOCK_EX); err != nil {
			return err
		}
		missing, err := g.lacking()
		if err != nil {
			return err
		}
		for _, e := range missing {
			file := filepath.Join(e[0], "cgroup.subtree_control")
			if err := writeFile(file, "+"+e[1]); err != nil {
				return fmt.Errorf("echo +%s > %s: %w", e[1], file, err)
			}
			g.say("enabled %s in %s\n", e[1], file)
			if !slices.Contains(g.enabled, e) {
				g.enabled = append(g.enabled, e)
			}
		}
	}
	return fmt.Errorf("%v keeps disappearing from the subtree_control files under %s: does another program manage this tree?", g.need, g.lock.Name())
}

// lacking lists {directory, controller} for every controller the group
// needs that is missing from a subtree_control on the way to the base.
func (g *group) lacking() ([][2]string, error) {
	var list [][2]string
	for _, ctl := range g.need {
		dirs, err := g.cfs.lacking(g.h, g.baseCg, ctl)
		if err != nil {
			return nil, err
		}
		for _, d := range dirs {
			list = append(list, [2]string{d, ctl})
		}
	}
	return list, nil
}

// flock takes the lock shared or exclusive, waiting while another run
// holds it the other way, but not past a Ctrl-C.
func (g *group) flock(how int) error {
	said := false
	for {
		err := unix.Flock(int(g.lock.Fd()), how|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, unix.EWOULDBLOCK):
			return fmt.Errorf("flock %s: %w", g.lock.Name(), err)
		case g.stopping.Load():
			return errors.New("stopped while waiting for another run")
		case !said:
			g.say("waiting for another run that is changing %s/cgroup.subtree_control\n", g.lock.Name())
			said = true
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// remove kills what runs in the group, removes its directories and
// switches off what enable switched on. It is idempotent, and does what it
// can even after an error.
func (g *group) remove() {
	g.stopping.Store(true) // create may be waiting for the lock: let it go
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	if len(g.created) > 0 {
		g.kill()
	}
	for i := len(g.created) - 1; i >= 0; i-- {
		d := g.created[i]
		if err := rmdirWait(d); err != nil {
			common.Warnf("rmdir %s: %v", d, err)
			continue
		}
		g.say("removed %s\n", d)
	}
	g.created = nil
	g.disable()
}

func (g *group) disable() {
	if g.lock == nil {
		return
	}
	defer func() { g.lock.Close(); g.lock = nil }()
	if len(g.enabled) == 0 {
		return // closing drops our shared lock
	}
	fd := int(g.lock.Fd())
	deadline := time.Now().Add(30 * time.Second)
	waiting := false
	for unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil {
		if !waiting {
			g.say("waiting for other runs that need %s to finish\n", g.need[0])
			waiting = true
		}
		if time.Now().After(deadline) {
			for _, e := range g.enabled {
				common.Warnf("another run still needs %s after 30 s: left it on (echo -%[1]s > %s)", e[1], filepath.Join(e[0], "cgroup.subtree_control"))
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := len(g.enabled) - 1; i >= 0; i-- {
		d, ctl := g.enabled[i][0], g.enabled[i][1]
		file := filepath.Join(d, "cgroup.subtree_control")
		if err := writeFile(file, "-"+ctl); err != nil {
			common.Warnf("echo -%s > %s: %v", ctl, file, err)
			continue
		}
		g.say("disabled %s in %s again\n", ctl, file)
	}
	g.enabled = nil
}

// rmdirWait removes a cgroup directory. rmdir fails with EBUSY while a
// process is in the cgroup, and a killed process leaves it only once it
// has exited: try for a while.
func rmdirWait(d string) error {
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := unix.Rmdir(d)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// add moves a process into the group, in every hierarchy.
func (g *group) add(pid int) error {
	for _, d := range g.dirs {
		if err := writeFile(filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("echo %d > %s/cgroup.procs: %w", pid, d, err)
		}
	}
	return nil
}

// procs lists the processes in the group.
func (g *group) procs() []int {
	b, err := os.ReadFile(filepath.Join(g.dirs[0], "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// kill ends every process in the group, not only our child: stress forks
// its workers, and a cgroup with a process left cannot be removed. v2 has
// cgroup.kill (Linux 5.14+) for exactly this; otherwise SIGKILL each PID in
// cgroup.procs until none is left. A frozen process must be thawed first
// to die (v1).
func (g *group) kill() {
	if slices.ContainsFunc(g.parts, func(p part) bool { return p.ctl == "freezer" }) {
		g.thawQuietly()
	}
	if g.cfs.v2 && writeFile(filepath.Join(g.dirs[0], "cgroup.kill"), "1") == nil {
		return
	}
	deadline := time.Now().Add(3 * time.Second)
	for pids := g.procs(); len(pids) > 0 && time.Now().Before(deadline); pids = g.procs() {
		for _, pid := range pids {
			unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// setQuota limits the group to percent of one CPU per 100 ms period: v1
// cpu.cfs_period_us and cpu.cfs_quota_us, v2 cpu.max "QUOTA PERIOD". It
// returns the file(s) and what they hold now.
func (g *group) setQuota(percent int) (string, error) {
	const period = 100000 // µs, the kernel's default
	quota := percent * period / 100
	d := g.dir("cpu")
	if g.cfs.v2 {
		f := filepath.Join(d, "cpu.max")
		if err := writeFile(f, fmt.Sprintf("%d %d", quota, period)); err != nil {
			return "", err
		}
		return "cpu.max = " + readTrim(f), nil
	}
	for _, kv := range [][2]string{{"cpu.cfs_period_us", strconv.Itoa(period)}, {"cpu.cfs_quota_us", strconv.Itoa(quota)}} {
		if err := writeFile(filepath.Join(d, kv[0]), kv[1]); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("cpu.cfs_quota_us = %s, cpu.cfs_period_us = %s",
		readTrim(filepath.Join(d, "cpu.cfs_quota_us")), readTrim(filepath.Join(d, "cpu.cfs_period_us"))), nil
}

// usageFile is where the group's CPU time is counted.
func (g *group) usageFile() string {
	if g.cfs.v2 {
		return "cpu.stat usage_usec"
	}
	return "cpuacct.usage"
}

// usage is the CPU time the group's processes used, by the cgroup's own
// count: v1 cpuacct.usage (ns), v2 cpu.stat usage_usec.
func (g *group) usage() (time.Duration, error) {
	if g.cfs.v2 {
		st, err := readStat(filepath.Join(g.dir("cpu"), "cpu.stat"))
		return time.Duration(st["usage_usec"]) * time.Microsecond, err
	}
	n, err := strconv.ParseInt(readTrim(filepath.Join(g.dir("cpuacct"), "cpuacct.usage")), 10, 64)
	return time.Duration(n), err
}

// throttling is cpu.stat's bandwidth counters: periods with a runnable
// process, periods in which the quota ran out, and the time spent waiting.
func (g *group) throttling() (periods, throttled int64, wait time.Duration, err error) {
	st, err := readStat(filepath.Join(g.dir("cpu"), "cpu.stat"))
	if g.cfs.v2 {
		wait = time.Duration(st["throttled_usec"]) * time.Microsecond
	} else {
		wait = time.Duration(st["throttled_time"])
	}
	return st["nr_periods"], st["nr_throttled"], wait, err
}

// readStat parses a flat keyed file such as cpu.stat ("key value" lines).
func readStat(file string) (map[string]int64, error) {
	b, err := os.ReadFile(file)
	st := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				st[k] = n
			}
		}
	}
	return st, err
}

// freezeWrite is what freeze writes, and where: v1 FROZEN or THAWED to
// freezer.state, v2 1 or 0 to cgroup.freeze.
func (g *group) freezeWrite(on bool) (file, value string) {
	switch {
	case g.cfs.v2 && on:
		return "cgroup.freeze", "1"
	case g.cfs.v2:
		return "cgroup.freeze", "0"
	case on:
		return "freezer.state", "FROZEN"
	}
	return "freezer.state", "THAWED"
}

// freezeCommand is freezeWrite as a shell command.
func (g *group) freezeCommand(on bool) string {
	file, value := g.freezeWrite(on)
	return fmt.Sprintf("echo %s > %s", value, filepath.Join(g.dir("freezer"), file))
}

// freeze freezes (or thaws) the group and waits until the kernel says it
// is done: v1 freezer.state goes FREEZING -> FROZEN, v2 cgroup.events says
// "frozen 1". It returns the line that said so.
func (g *group) freeze(on bool) (string, error) {
	d := g.dir("freezer")
	file, value := g.freezeWrite(on)
	check, want := "freezer.state", value
	if g.cfs.v2 {
		check, want = "cgroup.events", "frozen "+value
	}
	if err := writeFile(filepath.Join(d, file), value); err != nil {
		if errors.Is(err, fs.ErrNotExist) && g.cfs.v2 {
			return "", &missingError{"no " + filepath.Join(d, file), "the v2 freezer needs Linux 5.2 or later"}
		}
		return "", fmt.Errorf("echo %s > %s: %w", value, filepath.Join(d, file), err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(d, check))
		if err != nil {
			return "", err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line == want {
				return check + ": " + line, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s still says %q after 5 s", check, strings.TrimSpace(string(b)))
		}
		time.Sleep(time.Millisecond)
	}
}

func (g *group) thawQuietly() {
	file, value := g.freezeWrite(false)
	writeFile(filepath.Join(g.dir("freezer"), file), value)
}

// writeFile writes one value to an existing cgroup file, as echo does. A
// cgroup file never needs creating: a missing one means the controller is
// not enabled there.
func writeFile(file, value string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func readTrim(file string) string {
	b, _ := os.ReadFile(file)
	return strings.TrimSpace(string(b))
}
