package main

// group.go adds to the seed's mkdir/rmdir where a cgroup may go (under the
// one we run in, never the root; on v2 above the cgroups that hold
// processes, with +cpu passed down) and how to remove it whatever runs in it.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// group is one cgroup of this program, by name, in every hierarchy it
// needs: with v1's separate cpu and cpuacct that is two directories, with
// them co-mounted or on v2 it is one.
type group struct {
	cfs   *common.CgroupFS
	name  string
	parts []part   // one per controller asked for
	dirs  []string // the distinct directories; procs are read from dirs[0]

	// v2: controllers to switch on down to the base, and where we did
	need    []string
	h       *common.Hierarchy
	baseCg  string
	enabled [][2]string // {directory, controller}

	mu      sync.Mutex // create runs in main, remove maybe in the signal handler
	created []string
	stopped bool
}

// part is where the group lives for one controller.
type part struct {
	ctl  string
	h    *common.Hierarchy
	base string // the cgroup it goes under
	dir  string
}

// makeGroup is cgcreate: it plans cgroup nslab-08-PID-WHAT for the
// controllers, registers its removal, and creates it (printing each
// mkdir), or exits with one line.
func makeGroup(cfs *common.CgroupFS, what string, controllers ...string) *group {
	g, err := newGroup(cfs, fmt.Sprintf("nslab-08-%d-%s", os.Getpid(), what), controllers...)
	if err != nil {
		common.Fatalf("%v", err)
	}
	common.AtExit(g.remove)
	if err := g.create(); err != nil {
		common.ErrExit("creating cgroup "+g.name, err)
	}
	return g
}

// newGroup plans cgroup name under the base, for the controllers (the
// first one's directory is where processes are listed).
func newGroup(c *common.CgroupFS, name string, controllers ...string) (*group, error) {
	g := &group{cfs: c, name: name}
	for _, ctl := range controllers {
		h, err := c.HierarchyFor(ctl)
		if err != nil {
			return nil, err
		}
		b, err := base(c, h)
		if err != nil {
			return nil, err
		}
		d := filepath.Join(c.Dir(h, b), name)
		g.parts = append(g.parts, part{ctl, h, b, d})
		if !slices.Contains(g.dirs, d) {
			g.dirs = append(g.dirs, d)
		}
		if c.V2 {
			g.h, g.baseCg = h, b
			if ctl != "cpuacct" && ctl != "freezer" { // no v2 controllers
				g.need = append(g.need, ctl) // cpu, memory, pids
			}
		}
	}
	return g, nil
}

// base is the cgroup under which this program makes its own: the one it
// runs in, never the root, which belongs to whoever runs the machine.
//
// v2 adds the "no internal processes" rule: a cgroup other than the root
// may pass controllers to its children (subtree_control) only while no
// process sits in it. The cgroup we run in holds at least us (and under
// systemd, our whole service or login session), so on v2 the base is the
// nearest cgroup, from ours upwards, that is the root or holds no process.
func base(c *common.CgroupFS, h *common.Hierarchy) (string, error) {
	cg := h.Own
	for c.V2 && cg != h.MountRoot && cg != "/" {
		procs, err := os.ReadFile(filepath.Join(c.Dir(h, cg), "cgroup.procs"))
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
// base, whose cgroup.subtree_control lacks the controller: where +ctl must
// be written, in this order, for base's children to get it.
func lacking(c *common.CgroupFS, h *common.Hierarchy, base, ctl string) ([]string, error) {
	var cgs, dirs []string
	for cg := base; ; cg = path.Dir(cg) {
		cgs = append([]string{cg}, cgs...)
		if cg == h.MountRoot || cg == "/" {
			break
		}
	}
	for _, cg := range cgs {
		d := c.Dir(h, cg)
		b, err := os.ReadFile(filepath.Join(d, "cgroup.subtree_control"))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(strings.Fields(string(b)), ctl) {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// why says where a part goes and why there, for the mkdir step.
func (g *group) why(p part) string {
	switch {
	case !g.cfs.V2:
		return fmt.Sprintf("v1 hierarchy %s, under our cgroup %s", p.h, p.base)
	case p.base == p.h.Own:
		return "v2, under our cgroup " + p.base
	}
	return fmt.Sprintf("v2, under %s: our cgroup %s holds processes", p.base, p.h.Own)
}

// create switches the controllers on (v2) and makes the directories.
// Register remove with common.AtExit before calling it.
func (g *group) create() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return errors.New("stopping")
	}
	for _, ctl := range g.need {
		dirs, err := lacking(g.cfs, g.h, g.baseCg, ctl)
		if err != nil {
			return err
		}
		for _, d := range dirs {
			file := filepath.Join(d, "cgroup.subtree_control")
			common.Step("echo +"+ctl+" > "+file, "v2: "+ctl+" for the cgroups below")
			if err := writeFile(file, "+"+ctl); err != nil {
				return fmt.Errorf("echo +%s > %s: %w", ctl, file, err)
			}
			g.enabled = append(g.enabled, [2]string{d, ctl})
		}
	}
	for _, p := range g.parts {
		if slices.Contains(g.created, p.dir) {
			continue
		}
		common.Step("mkdir "+p.dir, g.why(p))
		if err := os.Mkdir(p.dir, 0o755); err != nil {
			return err
		}
		g.created = append(g.created, p.dir)
	}
	return nil
}

// remove kills what runs in the group, removes its directories and
// switches off what create switched on, and nothing else. It is
// idempotent, and does what it can even after an error. (Two runs at once
// on v2: the first to end switches cpu off under the other. A program
// meant to share a tree asks systemd for a delegated one: see README.)
func (g *group) remove() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	if len(g.created) > 0 {
		g.kill()
	}
	for i := len(g.created) - 1; i >= 0; i-- {
		d := g.created[i]
		common.Step("rmdir "+d, "")
		if err := rmdirWait(d); err != nil {
			common.Leftf("rmdir %s: %v", d, err)
		}
	}
	g.created = nil
	for i := len(g.enabled) - 1; i >= 0; i-- {
		file, ctl := filepath.Join(g.enabled[i][0], "cgroup.subtree_control"), g.enabled[i][1]
		common.Step("echo -"+ctl+" > "+file, "off again: we switched it on")
		if err := writeFile(file, "-"+ctl); err != nil {
			common.Leftf("echo -%s > %s: %v", ctl, file, err)
		}
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

// echo writes value to the group's file for controller ctl, as
// `echo VALUE > FILE` does, printing that command first; or exits.
func (g *group) echo(ctl, file, value, why string) {
	cmd := fmt.Sprintf("echo %s > %s", value, filepath.Join(g.dir(ctl), file))
	common.Step(cmd, why)
	if err := writeFile(filepath.Join(g.dir(ctl), file), value); err != nil {
		common.ErrExit(cmd, err)
	}
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

// procs lists the processes in the group.
func (g *group) procs() []int {
	b, _ := os.ReadFile(filepath.Join(g.dirs[0], "cgroup.procs"))
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
// cgroup.procs until none is left. A frozen v1 process must be thawed
// first to die.
func (g *group) kill() {
	if !g.cfs.V2 {
		writeFile(filepath.Join(g.dir("freezer"), "freezer.state"), "THAWED") // no such file: not a freezer cgroup
	}
	// Never ourselves (ns moves us into sub1, and back before its rmdir).
	self := slices.Contains(g.procs(), os.Getpid())
	if g.cfs.V2 && !self && writeFile(filepath.Join(g.dirs[0], "cgroup.kill"), "1") == nil {
		return
	}
	deadline := time.Now().Add(3 * time.Second)
	for pids := g.procs(); len(pids) > 0 && time.Now().Before(deadline); pids = g.procs() {
		for _, pid := range pids {
			if pid != os.Getpid() {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
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
