package lab

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"nslab/common/nstest"
)

// snapshot is what a learner's host looks like from the outside, in every
// respect a chapter could change: mounts, hostname, named network
// namespaces and links, cgroups of ours, IPC objects, processes of ours. Two
// snapshots, before and after a demo, must be identical.
type snapshot map[string][]string

// takeSnapshot reads the host's state; marker is what the processes under
// test carry in their environment (see ourProcesses).
func takeSnapshot(t testing.TB, marker string) snapshot {
	t.Helper()
	s := snapshot{}
	s["mountinfo"] = mountinfoLines(t)
	if h, err := os.Hostname(); err == nil {
		s["hostname"] = []string{h}
	}
	s["/run/netns"] = dirNames("/run/netns")
	s["POSIX message queues"] = mqueueNames()
	s["nslab files"] = nslabFiles()
	if ifs, err := net.Interfaces(); err == nil {
		for _, i := range ifs {
			s["links"] = append(s["links"], i.Name)
		}
	}
	for _, kind := range []string{"shm", "msg", "sem"} {
		s["sysvipc "+kind] = sysvipc(kind)
	}
	s["cgroups named nslab*"] = nslabCgroups(t)
	s["v2 subtree_control above us"] = subtreeControls(t)
	s["processes of ours"] = ourProcesses(marker)
	for k, v := range s {
		slices.Sort(v)
		s[k] = v
	}
	return s
}

// diff lists, per category, what b has that a does not (+) and the reverse.
func (a snapshot) diff(b snapshot) string {
	var out strings.Builder
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, l := range b[k] {
			if !slices.Contains(a[k], l) {
				fmt.Fprintf(&out, "%s: + %s\n", k, l)
			}
		}
		for _, l := range a[k] {
			if !slices.Contains(b[k], l) {
				fmt.Fprintf(&out, "%s: - %s\n", k, l)
			}
		}
	}
	return out.String()
}

// hasPart tells the chapters whose part of the photograph only knows.
func hasPart(chapter string) bool { return chapter == "06-net" || chapter == "05-mount" }

// only keeps what the chapter changes on the host (06-net: its names, the
// mounts at /run/netns and its note in /run, the host's links; 05-mount:
// the tour's scratch directories, not lab/bench's), for a run that is not
// alone on the host: other tests change the rest meanwhile. Processes of
// ours are always kept.
func (a snapshot) only(chapter string) snapshot {
	if !hasPart(chapter) {
		panic("snapshot.only: no part for chapter " + chapter)
	}
	keep := func(l string) bool {
		return strings.Contains(l, "/run/netns") || strings.Contains(l, "/run/nslab-netns")
	}
	b := snapshot{"processes of ours": a["processes of ours"], "/run/netns": a["/run/netns"], "links": a["links"]}
	if chapter == "05-mount" {
		keep = func(l string) bool {
			return strings.Contains(l, "/tmp/nslab-rootfs.") && !strings.Contains(l, "/tmp/nslab-rootfs.bench-")
		}
		b = snapshot{"processes of ours": a["processes of ours"]}
	}
	for _, k := range []string{"mountinfo", "nslab files"} {
		b[k] = nil // a key, even if empty: diff compares a's keys
		for _, l := range a[k] {
			if keep(l) {
				b[k] = append(b[k], l)
			}
		}
	}
	return b
}

// mountinfoLines is /proc/self/mountinfo without the mount IDs, which a
// mount that is replaced by an identical one would change: what must not
// change is what is mounted where, how, and its propagation.
func mountinfoLines(t testing.TB) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		// systemd mounts a service's credentials under /run/credentials
		// while the service runs (systemd-tmpfiles-clean, 15 minutes after
		// boot): the machine's own coming and going, never nslab's.
		if len(f) > 4 && !strings.HasPrefix(f[4], "/run/credentials/") {
			lines = append(lines, strings.Join(f[2:], " "))
		}
	}
	return lines
}

func dirNames(dir string) []string {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// mqueueMagic is the statfs f_type of an mqueue filesystem (<linux/magic.h>).
const mqueueMagic = 0x19800202

// mqueueNames lists the POSIX message queues of our IPC namespace: the files
// of an mqueue filesystem. If /dev/mqueue is none (this host mounts none),
// one goes over /tmp in a mount namespace of a child of our own. (Not of a
// thread of ours: that could be the main thread, whose namespace is what
// /proc/self/mountinfo shows.)
func mqueueNames() []string {
	var sfs unix.Statfs_t
	if unix.Statfs("/dev/mqueue", &sfs) == nil && sfs.Type == mqueueMagic {
		return dirNames("/dev/mqueue")
	}
	out, err := exec.Command("unshare", "--mount", "--propagation", "private", "--",
		"sh", "-c", "mount -t mqueue nslab-snapshot /tmp && ls -A /tmp").CombinedOutput()
	if err != nil {
		return []string{fmt.Sprintf("(cannot list: %v: %s)", err, bytes.TrimSpace(out))}
	}
	return strings.Fields(string(out))
}

// nslabFiles lists the files the programs and the tour name nslab-* outside
// /run/netns: 05-mount -tmpfs's directory in the tour, the tour's
// throwaway rootfs, 06-net's note of its /run/netns set-up.
func nslabFiles() []string {
	var files []string
	for _, g := range []string{"/mnt/nslab-*", "/tmp/nslab-rootfs.*", "/tmp/nslab-overlay-*", "/run/nslab-*"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	return files
}

// sysvipc lists the System V objects of one kind by key and id (the other
// columns are times and counters that other users of the host change).
func sysvipc(kind string) []string {
	b, err := os.ReadFile("/proc/sysvipc/" + kind)
	if err != nil {
		return nil
	}
	var objs []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		if f := strings.Fields(l); len(f) >= 2 {
			objs = append(objs, f[0]+" "+f[1])
		}
	}
	return objs
}

// nslabCgroups walks every mounted cgroup hierarchy (v1 and v2) for
// directories whose name starts with nslab: the chapters name theirs so.
func nslabCgroups(t testing.TB) []string {
	var found []string
	seen := map[string]bool{}
	for _, l := range mountinfoLines(t) {
		f := strings.Fields(l)
		i := slices.Index(f, "-")
		if i < 0 || i+1 >= len(f) || (f[i+1] != "cgroup" && f[i+1] != "cgroup2") {
			continue
		}
		root := f[2] // mount point (fields shifted by two: no IDs)
		if seen[root] {
			continue
		}
		seen[root] = true
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if strings.HasPrefix(d.Name(), "nslab") {
				found = append(found, p)
			}
			return nil
		})
	}
	return found
}

// subtreeControls reads cgroup.subtree_control in every cgroup of a v2
// hierarchy from its root down to our own, where 08-cgroup and
// 10-container switch cpu, memory and pids on for the cgroups they make
// (common/group.go) and off again.
func subtreeControls(t testing.TB) []string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	own := ""
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			own = p
		}
	}
	var out []string
	for _, l := range mountinfoLines(t) {
		f := strings.Fields(l)
		i := slices.Index(f, "-")
		if i < 0 || i+1 >= len(f) || f[i+1] != "cgroup2" || own == "" {
			continue
		}
		// The mount's root within the hierarchy (f[1], "/" unless a
		// cgroup namespace or a bind mount) down to our cgroup.
		rel, err := filepath.Rel(f[1], own)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		d := f[2]
		for _, part := range append([]string{""}, strings.Split(rel, "/")...) {
			if part == "." {
				continue
			}
			d = filepath.Join(d, part)
			if c, err := os.ReadFile(filepath.Join(d, "cgroup.subtree_control")); err == nil {
				out = append(out, d+": "+strings.TrimSpace(string(c)))
			}
		}
	}
	return out
}

// ourProcesses lists the processes, anywhere on the host, that carry
// marker in their environment (the soak sets it for the demos it runs;
// children inherit it), or name it on their command line.
func ourProcesses(marker string) []string {
	var procs []string
	es, _ := os.ReadDir("/proc")
	self := strconv.Itoa(os.Getpid())
	for _, e := range es {
		if _, err := strconv.Atoi(e.Name()); err != nil || e.Name() == self {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if !bytes.Contains(env, []byte(marker)) && !bytes.Contains(cmdline, []byte(marker)) {
			continue
		}
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		args := strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")
		procs = append(procs, fmt.Sprintf("pid %s: %s (%s)", e.Name(), args, strings.TrimSpace(string(stat))))
	}
	return procs
}

// strangers lists the nslab programs running on the host that are not the
// photographer's (no marker): a chapter's binary by name, or a process an
// nslab program started (NSLAB_RUN or NSLAB_PROG in its environment). A
// photograph that differs while some ran meanwhile was likely changed by
// them, not by the step under test: a failure says so.
func strangers(marker string) []string {
	chapter := regexp.MustCompile(`^[01][0-9]-[a-z]+$`)
	var found []string
	es, _ := os.ReadDir("/proc")
	for _, e := range es {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		comm, _ := os.ReadFile("/proc/" + e.Name() + "/comm")
		if bytes.Contains(env, []byte(marker)) ||
			!chapter.Match(bytes.TrimSpace(comm)) && !bytes.Contains(env, []byte("NSLAB_RUN=")) && !bytes.Contains(env, []byte("NSLAB_PROG=")) {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if len(cmdline) == 0 {
			continue // a zombie: it changes nothing any more
		}
		found = append(found, fmt.Sprintf("pid %d (parent %d): %s", pid, nstest.PPid(pid),
			strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")))
	}
	return found
}
