package common

// A cgroup of a program, made with mkdir and removed with rmdir: where it
// may go (under the cgroup we run in, never the root; on v2 above the
// cgroups that hold processes, with +cpu passed down), and how to remove
// it whatever runs in it. 08-cgroup and 10-container make theirs with it;
// cgroup.go says where the hierarchies are.

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
)

// Group is one cgroup of a program, by name, in every hierarchy it needs:
// with v1's separate cpu and cpuacct that is two directories, with them
// co-mounted or on v2 it is one.
//
// Used by 08-cgroup and 10-container.
type Group struct {
	CFS   *CgroupFS
	Name  string
	parts []part   // one per controller asked for
	dirs  []string // the distinct directories; procs are read from dirs[0]

	// v2: controllers to switch on down to the base, and where we did
	need    []string
	h       *Hierarchy
	baseCg  string
	enabled [][2]string // {its cgroup.subtree_control, controller}

	mu      sync.Mutex // Create runs in main, Remove maybe in the signal handler
	created []string
	stopped bool
}

// part is where the group lives for one controller.
type part struct {
	ctl  string
	h    *Hierarchy
	base string // the cgroup it goes under
	dir  string
}

// NewGroup plans cgroup name under the base, for the controllers (the
// first one's directory is where processes are listed). It creates
// nothing: Create does.
//
// Used by 08-cgroup and 10-container.
func NewGroup(c *CgroupFS, name string, controllers ...string) (*Group, error) {
	g := &Group{CFS: c, Name: name}
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
			if ctl != "cpuacct" && ctl != "freezer" && ctl != "devices" { // no v2 controllers
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
func base(c *CgroupFS, h *Hierarchy) (string, error) {
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
func lacking(c *CgroupFS, h *Hierarchy, base, ctl string) ([]string, error) {
	var dirs []string
	for cg := base; ; cg = path.Dir(cg) { // upwards, so each one found goes first
		d := c.Dir(h, cg)
		b, err := os.ReadFile(filepath.Join(d, "cgroup.subtree_control"))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(strings.Fields(string(b)), ctl) {
			dirs = append([]string{d}, dirs...)
		}
		if cg == h.MountRoot || cg == "/" {
			return dirs, nil
		}
	}
}

// why says where a part goes and why there, for the mkdir step.
func (g *Group) why(p part) string {
	switch {
	case !g.CFS.V2:
		return fmt.Sprintf("v1 hierarchy %s, under our cgroup %s", p.h, p.base)
	case p.base == p.h.Own:
		return "v2, under our cgroup " + p.base
	}
	return fmt.Sprintf("v2, under %s: our cgroup %s holds processes", p.base, p.h.Own)
}

// Create switches the controllers on (v2) and makes the directories.
// Register Remove with AtExit before calling it.
func (g *Group) Create() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return errors.New("stopping")
	}
	for _, ctl := range g.need {
		dirs, err := lacking(g.CFS, g.h, g.baseCg, ctl)
		if err != nil {
			return err
		}
		for _, d := range dirs {
			file := filepath.Join(d, "cgroup.subtree_control")
			g.note(d, ctl)
			Step("echo +"+ctl+" > "+file, "v2: "+ctl+" for the cgroups below")
			if err := WriteCgroupFile(file, "+"+ctl); err != nil {
				return fmt.Errorf("echo +%s > %s: %w", ctl, file, err)
			}
			g.enabled = append(g.enabled, [2]string{file, ctl})
		}
	}
	for _, p := range g.parts {
		if slices.Contains(g.created, p.dir) {
			continue
		}
		Step("mkdir "+p.dir, g.why(p))
		if err := os.Mkdir(p.dir, 0o755); err != nil {
			return err
		}
		g.created = append(g.created, p.dir)
	}
	return nil
}

// Remove kills what runs in the group, removes its directories and
// switches off what Create switched on, and nothing else. It is
// idempotent, never exits, and does what it can even after an error. (Two
// runs at once on v2: the first to end switches cpu off under the other.
// A program meant to share a tree asks systemd for a delegated one: see
// 08-cgroup/README.md, Pitfalls.)
func (g *Group) Remove() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	if len(g.created) > 0 {
		g.Kill()
	}
	for i := len(g.created) - 1; i >= 0; i-- {
		d := g.created[i]
		Step("rmdir "+d, "")
		if err := rmdirWait(d); err != nil {
			Warnf("rmdir %s: %v (%s)", d, err, LeftHint)
		}
	}
	g.created = nil
	off := true
	for i := len(g.enabled) - 1; i >= 0; i-- {
		file, ctl := g.enabled[i][0], g.enabled[i][1]
		Step("echo -"+ctl+" > "+file, "off again: we switched it on")
		if err := WriteCgroupFile(file, "-"+ctl); err != nil {
			Warnf("echo -%s > %s: %v (%s)", ctl, file, err, LeftHint)
			off = false
		}
	}
	g.enabled = nil
	if off {
		os.Remove(g.notePath())
	}
}

// notePath is where a run on v2 notes each controller it switches on in a
// cgroup.subtree_control, before it does: a run killed before Remove
// leaves it on, and make reset (lab/reset.sh) switches off what the note
// lists. The name is the group's, unique to the run.
func (g *Group) notePath() string { return "/run/nslab-subtree." + g.Name }

// note adds "DIR CONTROLLER" to the note. Without root (10-container
// -rootless in a tree delegated to the user) there is none: the tree is
// the user's, and reset does not touch it.
func (g *Group) note(dir, ctl string) {
	f, err := os.OpenFile(g.notePath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "%s %s\n", dir, ctl)
	f.Close()
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

// Echo writes value to the group's file for controller ctl, as
// `echo VALUE > FILE` does, printing that command first; or exits. A
// value a shell would take for a file name pattern (devices.allow's
// "c *:* m") is printed in quotes.
func (g *Group) Echo(ctl, file, value, why string) {
	shown := value
	if strings.ContainsAny(value, "*?[") {
		shown = "'" + value + "'"
	}
	cmd := fmt.Sprintf("echo %s > %s", shown, filepath.Join(g.Dir(ctl), file))
	Step(cmd, why)
	if err := WriteCgroupFile(filepath.Join(g.Dir(ctl), file), value); err != nil {
		ErrExit(cmd, err)
	}
}

// Dir is the group's directory for a controller (the first one's for a
// controller it was not made for).
func (g *Group) Dir(ctl string) string {
	for _, p := range g.parts {
		if p.ctl == ctl {
			return p.dir
		}
	}
	return g.dirs[0]
}

// Dirs are the group's distinct directories, one per hierarchy: Dirs()[0]
// is where its processes are listed.
func (g *Group) Dirs() []string { return slices.Clone(g.dirs) }

// Procs lists the processes in the group.
func (g *Group) Procs() []int {
	b, _ := os.ReadFile(filepath.Join(g.dirs[0], "cgroup.procs"))
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Kill ends every process in the group, not only our child: stress forks
// its workers, and a cgroup with a process left cannot be removed. v2 has
// cgroup.kill (Linux 5.14+) for exactly this; otherwise SIGKILL each PID in
// cgroup.procs until none is left. A frozen v1 process must be thawed
// first to die.
func (g *Group) Kill() {
	if !g.CFS.V2 {
		WriteCgroupFile(filepath.Join(g.Dir("freezer"), "freezer.state"), "THAWED") // no such file: not a freezer cgroup
	}
	// Never ourselves (08-cgroup's ns moves itself into sub1, and back
	// before its rmdir).
	self := slices.Contains(g.Procs(), os.Getpid())
	if g.CFS.V2 && !self && WriteCgroupFile(filepath.Join(g.dirs[0], "cgroup.kill"), "1") == nil {
		return
	}
	deadline := time.Now().Add(3 * time.Second)
	for pids := g.Procs(); len(pids) > 0 && time.Now().Before(deadline); pids = g.Procs() {
		for _, pid := range pids {
			if pid != os.Getpid() {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Add puts a process in the group, in every hierarchy: echo PID >
// cgroup.procs in each directory (v1 with cpu and cpuacct apart needs two
// moves). It prints nothing. Moving a process never moves the children it
// has already: place a process before it forks (08-cgroup/place.go).
func (g *Group) Add(pid int) error {
	for _, d := range g.dirs {
		if err := WriteCgroupFile(filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("echo %d > %s/cgroup.procs: %w", pid, d, err)
		}
	}
	return nil
}

// WriteCgroupFile writes one value to an existing cgroup file, as echo
// does. A cgroup file never needs creating: a missing one means the
// controller is not enabled there.
//
// Used by 08-cgroup.
func WriteCgroupFile(file, value string) error {
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
