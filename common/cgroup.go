package common

// Where the cgroup files are, on cgroup v1 and on v2: which version this
// machine runs, where each hierarchy is mounted, which controllers it
// offers, and which cgroup we run in. Everything is read from a root
// directory: "/" when a program runs, a fake tree in the unit tests.
//
// v1 ("legacy", or "hybrid" next to an unused cgroup2 mount): one hierarchy
// per mount, each holding one or more controllers, e.g. cpu and cpuacct as
// two hierarchies (/sys/fs/cgroup/cpu and /sys/fs/cgroup/cpuacct) or as one
// (/sys/fs/cgroup/cpu,cpuacct). A process has one cgroup per hierarchy (a
// line each in /proc/PID/cgroup).
//
// v2 ("unified"): one hierarchy at /sys/fs/cgroup, one cgroup per process
// (the "0::" line), and controllers are switched on per subtree by writing
// +cpu to a parent's cgroup.subtree_control.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// CgroupMount is where the cgroup hierarchies are mounted.
//
// Used by lab/bench.
const CgroupMount = "/sys/fs/cgroup"

// CgroupFS is the cgroup file system as this process sees it.
//
// Used by 08-cgroup and 10-container.
type CgroupFS struct {
	Root  string // "/", or the fake tree of a unit test
	V2    bool
	Hiers []*Hierarchy
}

// Hierarchy is one mounted cgroup hierarchy.
//
// Used by 08-cgroup.
type Hierarchy struct {
	Controllers []string // v1: those mounted together, e.g. [cpu cpuacct]; v2: none
	MountPoint  string   // where it is mounted (mountinfo field 5)
	MountRoot   string   // the cgroup shown at the mount point (field 4): "/" unless a container bind-mounted a sub-tree
	Own         string   // this process's cgroup in it, as /proc/self/cgroup shows it
}

func (h *Hierarchy) String() string {
	if len(h.Controllers) == 0 {
		return "cgroup2"
	}
	return strings.Join(h.Controllers, ",")
}

// OpenCgroups finds out how this machine's cgroups are laid out, or exits
// with one line.
//
// Used by 08-cgroup and 10-container.
func OpenCgroups() *CgroupFS {
	v2, err := IsCgroupV2("/")
	if err != nil {
		ErrExit("statfs "+CgroupMount, err, "no cgroup file system there: mount one, or boot with systemd")
	}
	c, err := ReadCgroups("/", v2)
	if err != nil {
		ErrExit("reading /proc/self/cgroup and mountinfo", err)
	}
	return c
}

// IsCgroupV2 is the test runc and systemd make: a cgroup2 file system
// mounted at /sys/fs/cgroup itself means v2. A tmpfs there (with v1
// hierarchies, and maybe a cgroup2 at /sys/fs/cgroup/unified) means v1.
//
// Used by nstest.
func IsCgroupV2(root string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(filepath.Join(root, CgroupMount), &st); err != nil {
		return false, err
	}
	return st.Type == unix.CGROUP2_SUPER_MAGIC, nil
}

// ReadCgroups reads root/proc/self/cgroup and root/proc/self/mountinfo.
//
// Used by the tests of 08-cgroup (and common's own).
func ReadCgroups(root string, v2 bool) (*CgroupFS, error) {
	self, err := os.ReadFile(filepath.Join(root, "/proc/self/cgroup"))
	if err != nil {
		return nil, err
	}
	mountinfo, err := os.ReadFile(filepath.Join(root, "/proc/self/mountinfo"))
	if err != nil {
		return nil, err
	}
	mounts := parseMountinfo(mountinfo)
	c := &CgroupFS{Root: root, V2: v2}
	for _, line := range strings.Split(strings.TrimSpace(string(self)), "\n") {
		// hierarchy-ID:controller-list:cgroup-path
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 || v2 != (f[0] == "0") {
			continue // on v1, the 0:: line is the unused cgroup2 mount
		}
		var ctls []string
		if f[1] != "" {
			ctls = strings.Split(f[1], ",")
		}
		if m := findMount(mounts, v2, ctls, f[2]); m != nil {
			c.Hiers = append(c.Hiers, &Hierarchy{Controllers: ctls, MountPoint: m.point, MountRoot: m.root, Own: f[2]})
		}
	}
	if v2 && len(c.Hiers) == 0 {
		return nil, fmt.Errorf("no cgroup2 mount at %s for our cgroup (/proc/self/cgroup: %q)", CgroupMount, strings.TrimSpace(string(self)))
	}
	return c, nil
}

type cgMount struct {
	root, point, fstype string
	opts                []string // super options: rw,cpu,cpuacct
}

func parseMountinfo(b []byte) []cgMount {
	var ms []cgMount
	for _, line := range strings.Split(string(b), "\n") {
		// ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS
		f := strings.Fields(line)
		sep := slices.Index(f, "-")
		if sep < 6 || sep+3 >= len(f) {
			continue
		}
		ms = append(ms, cgMount{root: unescapeMount(f[3]), point: unescapeMount(f[4]), fstype: f[sep+1], opts: strings.Split(f[sep+3], ",")})
	}
	return ms
}

// unescapeMount undoes mountinfo's escapes: the kernel writes a space, tab,
// newline or backslash in a path as octal, \040 \011 \012 \134.
var unescapeMount = strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace

// findMount picks the mount of the hierarchy holding ctls (v1) or the
// cgroup2 mount at /sys/fs/cgroup (v2) through which our cgroup is visible.
// The last matching line wins: a later mount hides an earlier one.
func findMount(ms []cgMount, v2 bool, ctls []string, own string) *cgMount {
	var found *cgMount
	for i, m := range ms {
		ok := m.fstype == "cgroup2" && m.point == CgroupMount
		if !v2 {
			ok = m.fstype == "cgroup" && len(ctls) > 0 && !slices.ContainsFunc(ctls, func(c string) bool { return !slices.Contains(m.opts, c) })
		}
		if _, below := relTo(own, m.root); ok && below {
			found = &ms[i]
		}
	}
	return found
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

// Dir is the directory of cgroup cg (a path as /proc/self/cgroup shows it)
// in hierarchy h.
func (c *CgroupFS) Dir(h *Hierarchy, cg string) string {
	rel, _ := relTo(cg, h.MountRoot)
	return filepath.Join(c.Root, h.MountPoint, rel)
}

// MissingController says which controller is missing and how to get it.
//
// Used by common's own tests.
type MissingController struct{ What, Fix string }

func (e *MissingController) Error() string { return e.What + " (" + e.Fix + ")" }

// HierarchyFor is the hierarchy that has controller (v1), or the unified one
// (v2) after checking that it offers the controller. On v2, "cpuacct",
// "freezer" and "devices" are not controllers: cpu.stat's usage and
// cgroup.freeze are in every cgroup but the root, and device rules are eBPF
// programs attached to a cgroup. "" asks for any hierarchy (the first one).
func (c *CgroupFS) HierarchyFor(controller string) (*Hierarchy, error) {
	if c.V2 {
		h := c.Hiers[0]
		switch {
		case controller == "freezer" && injected("controller", controller):
			return nil, &MissingController{"this kernel's cgroup v2 has no cgroup.freeze (it came in Linux 5.2)", "a newer kernel, such as the lab VM's"}
		case controller == "" || controller == "cpuacct" || controller == "freezer" || controller == "devices":
			return h, nil
		}
		top := c.Dir(h, h.MountRoot)
		b, err := os.ReadFile(filepath.Join(top, "cgroup.controllers"))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(strings.Fields(string(b)), controller) || injected("controller", controller) {
			return nil, &MissingController{
				fmt.Sprintf("the cgroup v2 hierarchy offers no %s controller (%s/cgroup.controllers: %q)", controller, top, strings.TrimSpace(string(b))),
				"a v1 hierarchy may hold it: boot with systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all"}
		}
		return h, nil
	}
	for _, h := range c.Hiers {
		if (controller == "" || slices.Contains(h.Controllers, controller)) && !injected("controller", controller) {
			return h, nil
		}
	}
	return nil, &MissingController{
		fmt.Sprintf("no cgroup v1 hierarchy has the %s controller", controller),
		fmt.Sprintf("mount one: mkdir -p %s/%s && mount -t cgroup -o %s cgroup %s/%s", CgroupMount, controller, controller, CgroupMount, controller)}
}
