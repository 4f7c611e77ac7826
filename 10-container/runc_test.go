package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"

	"nslab/common/nstest"
)

// TestRuncPeer runs one probe script in one busybox rootfs twice: under
// `runc run`, with the bundle `runc spec` writes (changed only where the
// comments in runcBundle say), and under `10-container run` with its
// defaults. It compares what the kernel shows from inside, field by field:
// the namespaces, the capability sets, no_new_privs and seccomp from
// /proc/self/status, the mount table's shape, the masked and read-only
// paths, the hostname and PID 1. Every difference must be in
// runcDifferences with its reason; `go test -v` logs the side-by-side.
func TestRuncPeer(t *testing.T) {
	nstest.RequireRoot(t)
	runc := nstest.RequireTool(t, "runc", "runc")
	// Both make cgroups with the cpu controller (see LockCgroups).
	nstest.LockCgroups(t)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle")
	rootfs := filepath.Join(bundle, "rootfs") // runc spec's root.path
	if err := os.Mkdir(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(nstest.Chapter(t, "05-mount"), "mkrootfs", rootfs).CombinedOutput(); err != nil {
		t.Fatalf("05-mount mkrootfs %s: %v\n%s", rootfs, err, out)
	}

	ours := runOurs(t, rootfs)
	survived(ours, rootfs)
	theirs := runRunc(t, runc, dir, bundle)
	survived(theirs, rootfs)
	compareWithRunc(t, ours, theirs)
}

// probe prints key=value lines, each behind "@" to tell them from the
// steps 10-container prints. Busybox applets only.
const probe = `
for n in cgroup ipc mnt net pid time user uts; do echo "@ns $n=$(readlink /proc/self/ns/$n)"; done
grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status | while read k v; do echo "@${k%:}=$v"; done
echo "@hostname=$(hostname)"
echo "@id=$(id)"
echo "@probe's PID=$$"
echo "@PID 1=$(cat /proc/1/comm)"
echo "@lo flags=$(cat /sys/class/net/lo/flags)"
echo "@links=$(ls /sys/class/net | tr '\n' ' ')"
echo "@ulimit -n=$(ulimit -n)"
echo "@descriptors=$(ls /proc/self/fd | tr '\n' ' ')"
mknod /dev/probe-loop b 7 0 2>/dev/null
if [ -b /dev/probe-loop ]; then echo "@open b 7:0=$( (head -c 1 /dev/probe-loop > /dev/null) 2>&1 | sed 's/.*: //')"; else echo "@open b 7:0=no mknod"; fi
echo "@write /etc=$( (echo x > /etc/nslab-probe && echo written) 2>&1 | sed 's/.*: //')"
echo "@echo x > /proc/sys/kernel/hostname=$( (echo x > /proc/sys/kernel/hostname) 2>&1 | sed 's/.*: //')"
for p in ` + "MASKED" + `; do
	if [ ! -e $p ]; then s=absent
	elif [ -d $p ]; then if [ -z "$(ls -A $p)" ]; then s=empty; else s=content; fi
	elif [ -c $p ] && [ "$(head -c 1 $p | wc -c)" = 0 ]; then s=empty
	else s=content; fi
	echo "@read $p=$s"
done
for p in ` + "READONLY" + `; do [ -e $p ] || echo "@read-only $p=absent"; done
sed 's/^/@mountinfo=/' /proc/self/mountinfo
`

func probeScript() string {
	r := strings.NewReplacer("MASKED", strings.Join(maskedPaths, " "), "READONLY", strings.Join(readonlyPaths, " "))
	return r.Replace(probe)
}

// survived adds whether the file the probe wrote is in the rootfs
// directory once the run is over, and removes it for the next run.
func survived(f map[string]string, rootfs string) {
	file := filepath.Join(rootfs, "etc", "nslab-probe")
	_, err := os.Stat(file)
	f["/etc/nslab-probe on the host after the run"] = map[bool]string{true: "there", false: "gone"}[err == nil]
	os.Remove(file)
}

// runOurs is `10-container run -rootfs ROOTFS -- sh -c PROBE`, defaults
// otherwise (hostname "container").
func runOurs(t *testing.T, rootfs string) map[string]string {
	t.Helper()
	cmd := nstest.Program(t, "10-container", "run", "-rootfs", rootfs, "--", "sh", "-c", probeScript())
	r := nstest.Run(t, cmd)
	nstest.NoPanic(t, r.Stderr)
	if r.Code != 0 {
		t.Fatalf("10-container run: status %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	return probed(t, "10-container", r.Stdout)
}

// runRunc writes the bundle and runs `runc run`, its state in dir: nothing
// in /run/runc.
func runRunc(t *testing.T, runc, dir, bundle string) map[string]string {
	t.Helper()
	runcBundle(t, runc, bundle)
	state := filepath.Join(dir, "runc-state")
	// Named like 10-container's cgroups: runc (cgroupfs driver, no
	// cgroupsPath) names the container's cgroup after it.
	id := fmt.Sprintf("nslab-10-runc-%d", os.Getpid())
	t.Cleanup(func() {
		// `runc run` deletes the container when its process ends; this is
		// for a run the hang guard killed.
		exec.Command(runc, "--root", state, "delete", "-f", id).Run()
	})
	r := nstest.Run(t, exec.Command(runc, "--root", state, "run", "-b", bundle, id))
	if r.Code != 0 {
		t.Fatalf("runc run: status %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if left := runcCgroups(t, id); len(left) > 0 {
		t.Errorf("runc run left its cgroups: %v", left)
	}
	return probed(t, "runc", r.Stdout)
}

// runcCgroups lists the cgroups named id, where runc (cgroupfs, no
// cgroupsPath) makes them: below the root of each hierarchy, or below
// this process's own cgroup in it.
func runcCgroups(t *testing.T, id string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	patterns := []string{"/sys/fs/cgroup/" + id, "/sys/fs/cgroup/*/" + id}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 {
			patterns = append(patterns, filepath.Join("/sys/fs/cgroup", parts[2], id), filepath.Join("/sys/fs/cgroup/*", parts[2], id))
		}
	}
	var left []string
	for _, p := range patterns {
		m, _ := filepath.Glob(p)
		left = append(left, m...)
	}
	slices.Sort(left)
	return slices.Compact(left)
}

// runcBundle writes config.json with `runc spec` and changes only what it
// must, leaving every other key as runc spec wrote it.
func runcBundle(t *testing.T, runc, bundle string) {
	t.Helper()
	cmd := exec.Command(runc, "spec")
	cmd.Dir = bundle
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v\n%s", err, out)
	}
	file := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	process := spec["process"].(map[string]any)
	// A test has no terminal to give the container (runc would want one
	// on its stdin, or a console socket).
	process["terminal"] = false
	// The probe instead of runc spec's interactive sh.
	process["args"] = []string{"sh", "-c", probeScript()}
	// 10-container's default hostname, so that the hostnames can be
	// compared (runc spec says "runc").
	spec["hostname"] = "container"
	// Nothing else: root.readonly, the namespaces (no cgroup one), the
	// capabilities, the mounts, the masked and read-only paths stay runc
	// spec's, and every difference they make is in runcDifferences.
	if b, err = json.MarshalIndent(spec, "", "\t"); err == nil {
		err = os.WriteFile(file, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// probed turns the probe's output into fields: the "@key=value" lines,
// the namespaces as "new" or "host" (against this test process's own),
// the capability masks as names, and the mount table as one field per
// mount point.
func probed(t *testing.T, who, out string) map[string]string {
	t.Helper()
	f := map[string]string{}
	var mountinfo []string
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "@"), "=")
		if !ok || !strings.HasPrefix(line, "@") {
			continue
		}
		if k == "mountinfo" {
			mountinfo = append(mountinfo, v)
			continue
		}
		f[k] = strings.TrimSpace(v)
	}
	if len(mountinfo) == 0 || f["hostname"] == "" {
		t.Fatalf("%s: the probe printed no mountinfo or no hostname:\n%s", who, out)
	}
	for _, n := range []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"} {
		k := "ns " + n
		if f[k] == "" {
			continue // the kernel has no such namespace: absent on both
		}
		host, err := os.Readlink("/proc/self/ns/" + n)
		if err != nil {
			t.Fatal(err)
		}
		if f[k] == host {
			f[k] = "host"
		} else {
			f[k] = "new"
		}
	}
	for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		mask, err := strconv.ParseUint(f[k], 16, 64)
		if err != nil {
			t.Fatalf("%s: %s=%q: %v", who, k, f[k], err)
		}
		f[k] = capNames(mask)
	}
	f["Seccomp"] += map[string]string{"0": " (none)", "1": " (strict)", "2": " (filter)"}[f["Seccomp"]]
	mountShape(f, mountinfo)
	return f
}

// mountShape adds "mount POINT" = "FSTYPE ro|rw" for each mount point (the
// top mount where several are stacked), with the cgroup mounts below
// /sys/fs/cgroup counted as one field, and the host's device nodes bound
// into /dev as another. The masked and read-only paths
// become fields of their own: "masked PATH" and "read-only PATH".
func mountShape(f map[string]string, mountinfo []string) {
	shape := map[string]string{}
	cgroups := map[string]int{}
	var devices []string // bind mounts of the host's device nodes
	var devFS string
	for _, line := range mountinfo {
		fields := strings.Fields(line)
		sep := slices.Index(fields, "-")
		if len(fields) < 6 || sep < 0 || sep+1 >= len(fields) {
			continue
		}
		point, rw := fields[4], strings.Split(fields[5], ",")[0]
		v := fields[sep+1] + " " + rw
		if strings.HasPrefix(point, "/sys/fs/cgroup/") {
			cgroups[v]++
			continue
		}
		// A node bound from the host's /dev: mounted at /dev/NAME, its
		// root is /NAME in the file system it comes from (devtmpfs).
		if dev, ok := strings.CutPrefix(point, "/dev/"); ok && fields[3] == "/"+dev {
			devices = append(devices, dev)
			devFS = v
			continue
		}
		shape[point] = v
	}
	if len(devices) > 0 {
		slices.Sort(devices)
		f["mount /dev/HOST-DEVICE"] = devFS + ": " + strings.Join(devices, ",")
	}
	if len(cgroups) > 0 {
		var s []string
		for v, n := range cgroups {
			s = append(s, fmt.Sprintf("%s x%d", v, n))
		}
		slices.Sort(s)
		f["mount /sys/fs/cgroup/*"] = strings.Join(s, ", ")
	}
	for _, p := range maskedPaths {
		read := f["read "+p]
		delete(f, "read "+p)
		_, mounted := shape[p]
		switch {
		case read == "absent":
			f["masked "+p] = "absent"
		case read == "empty" && mounted:
			f["masked "+p] = "masked"
		case mounted:
			f["masked "+p] = "a mount, but not empty"
		default:
			f["masked "+p] = read + ", not a mount"
		}
		delete(shape, p)
	}
	for _, p := range readonlyPaths {
		v, mounted := shape[p]
		switch {
		case f["read-only "+p] == "absent":
		case mounted && strings.HasSuffix(v, " ro"):
			f["read-only "+p] = "ro"
		case mounted:
			f["read-only "+p] = "rw"
		default:
			f["read-only "+p] = "not a mount"
		}
		delete(shape, p)
	}
	for p, v := range shape {
		f["mount "+p] = v
	}
}

// capName is the kernel's capability names, bit by bit (capability.h).
var capName = []string{"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
	"setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin",
	"net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace",
	"sys_pacct", "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config",
	"mknod", "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin",
	"syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore"}

// capNames spells a capability mask as "N: name,name,...".
func capNames(mask uint64) string {
	var s []string
	for c := 0; c < 64; c++ {
		if mask&(1<<c) == 0 {
			continue
		}
		if c < len(capName) {
			s = append(s, capName[c])
		} else {
			s = append(s, fmt.Sprintf("cap_%d", c))
		}
	}
	if len(s) == 0 {
		return "0"
	}
	return fmt.Sprintf("%d: %s", len(s), strings.Join(s, ","))
}

// runcDiff is a difference between 10-container and runc spec's container
// that is meant to be. Field may be a path.Match pattern; ours and runc are
// the values each must show, as patterns too ("*": whatever this host
// gives, "-": no such field).
type runcDiff struct{ field, ours, runc, why string }

// runcDifferences is every difference a run shows, and why it is there.
func runcDifferences(v2 bool) []runcDiff {
	var keep uint64
	for _, c := range keepCaps {
		keep |= 1 << c
	}
	ourCaps := capNames(keep)
	const runcCaps = "3: kill,net_bind_service,audit_write"
	capsWhy := "runc spec keeps 3 (kill, net_bind_service, audit_write); we keep Docker's 14 but net_raw (security.go)"
	var diffs []runcDiff
	if !v2 {
		// runc spec asks for a cgroup namespace on a v2 host only.
		diffs = append(diffs, runcDiff{"ns cgroup", "new", "host", "runc spec (1.1) asks for a cgroup namespace on cgroup v2 only; we unshare one on v1 too"})
	}
	return append(diffs, []runcDiff{
		{"CapBnd", ourCaps, runcCaps, capsWhy},
		{"CapEff", ourCaps, runcCaps, capsWhy},
		{"CapPrm", ourCaps, runcCaps, capsWhy},
		{"Seccomp", "2 (filter)", "0 (none)", "runc spec writes no seccomp profile; Docker adds its default one, we a hand-written filter"},
		{"probe's PID", "[1-9][0-9]", "1", "runc execs the command as PID 1; our PID 1 is an init that starts it and reaps (docker run --init)"},
		{"PID 1", "exe", "sh", "our init is 10-container run again, from /proc/self/exe (common.Command)"},
		{"ulimit -n", "*", "1024", "runc spec sets RLIMIT_NOFILE to 1024; we keep the caller's limits"},
		{"mount /", "overlay rw", "* ro", "runc spec sets root.readonly (docker run --read-only); ours is a writable overlay thrown away with the run, as Docker's"},
		{"write /etc", "written", "Read-only file system", "the same: runc's root refuses the write, ours takes it in the run's own layer (gone after it in both)"},
		{"open b 7:0", "Operation not permitted", "no mknod", "runc spec drops CAP_MKNOD; we keep it, as Docker does, and the devices layer refuses the open"},
		{"mount /dev/pts", "-", "devpts rw", "runc spec mounts a devpts for a terminal; we have no terminal of our own (the command uses the caller's)"},
		{"mount /dev/mqueue", "-", "mqueue rw", "runc spec mounts the IPC namespace's POSIX message queues; we do not"},
		{"mount /sys/fs/cgroup", "-", "*", "runc mounts the container's cgroups read-only; our limits are set from outside and not shown"},
		{"mount /sys/fs/cgroup/*", "-", "*", "cgroup v1: one mount per hierarchy under runc's /sys/fs/cgroup tmpfs"},
		{"mount /dev/HOST-DEVICE", "* rw: *", "-", "we bind-mount the host's null, zero, full, random, urandom and tty (works in a user namespace too); runc makes them with mknod"},
	}...)
}

// compareWithRunc checks each field: equal, or a listed difference with
// the values listed. It logs the side-by-side table.
func compareWithRunc(t *testing.T, ours, theirs map[string]string) {
	t.Helper()
	var keys []string
	for k := range ours {
		keys = append(keys, k)
	}
	for k := range theirs {
		if _, ok := ours[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(fieldOrder(a), fieldOrder(b)) })
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "field\t10-container\trunc\tsame, or why not")
	diffs := runcDifferences(nstest.CgroupV2(t))
	for _, k := range keys {
		o, r := value(ours, k), value(theirs, k)
		why := "same"
		// A listed field must show the listed values even where they
		// happen to agree: a difference that vanished is a stale table.
		if d, ok := findDiff(diffs, k); o != r || ok {
			switch {
			case !ok:
				t.Errorf("%s: 10-container shows %q, runc %q: add it to runcDifferences with a reason if intended", k, o, r)
				why = "UNEXPECTED"
			case !match(d.ours, o) || !match(d.runc, r):
				t.Errorf("%s: 10-container shows %q, runc %q, but runcDifferences says %q and %q (%s): fix the code or the table", k, o, r, d.ours, d.runc, d.why)
				why = "NOT AS LISTED"
			default:
				why = d.why
			}
		}
		if (k == "CapEff" || k == "CapPrm") && o == ours["CapBnd"] && r == theirs["CapBnd"] {
			o, r = "as CapBnd", "as CapBnd" // compared in full above; shorter to read
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k, o, r, why)
	}
	tw.Flush()
	t.Logf("what the kernel shows inside, 10-container and runc (runc spec's bundle):\n%s", table.String())

	// The fields that must be the same, and what they must be: the
	// comparison alone would pass if both lacked a layer.
	if ours["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs: %q in both, want 1", ours["NoNewPrivs"])
	}
	// ls's own descriptor for /proc/self/fd is 3.
	if ours["descriptors"] != "0 1 2 3" {
		t.Errorf("descriptors: %q in both, want 0 1 2 (and ls's 3)", ours["descriptors"])
	}
	if ours["/etc/nslab-probe on the host after the run"] != "gone" {
		t.Errorf("a file written inside is on the host after the run, in both")
	}
	masked, absent := 0, []string{}
	for _, p := range maskedPaths {
		switch ours["masked "+p] {
		case "masked":
			masked++
		case "absent":
			absent = append(absent, p)
		default:
			t.Errorf("masked %s: %q, want masked", p, ours["masked "+p])
		}
	}
	if masked == 0 {
		t.Errorf("no masked path exists on this kernel: the masks were not compared")
	}
	if len(absent) > 0 {
		t.Logf("not on this kernel, so neither masks them: %s", strings.Join(absent, " "))
	}
	for _, p := range readonlyPaths {
		if v := ours["read-only "+p]; v != "ro" && v != "absent" {
			t.Errorf("read-only %s: %q, want ro", p, v)
		}
	}
	if w := ours["echo x > /proc/sys/kernel/hostname"]; w != "Read-only file system" {
		t.Errorf("echo x > /proc/sys/kernel/hostname: %q, want EROFS", w)
	}
	for _, n := range []string{"ipc", "mnt", "net", "pid", "uts"} {
		if ours["ns "+n] != "new" {
			t.Errorf("ns %s: %q, want new", n, ours["ns "+n])
		}
	}
}

func value(f map[string]string, k string) string {
	if v, ok := f[k]; ok {
		return v
	}
	return "-"
}

func findDiff(diffs []runcDiff, field string) (runcDiff, bool) {
	for _, d := range diffs {
		if match(d.field, field) {
			return d, true
		}
	}
	return runcDiff{}, false
}

func match(pattern, s string) bool {
	ok, err := path.Match(pattern, s)
	return ok && err == nil
}

// fieldOrder sorts the table as the brief lists the fields: namespaces,
// credentials, mounts, hostname, processes.
func fieldOrder(k string) string {
	for i, p := range []string{"ns ", "id", "Cap", "NoNewPrivs", "Seccomp", "mount ", "masked ", "read-only ", "echo ", "write ", "/etc", "open ", "descriptors", "hostname", "lo ", "links", "probe", "PID", "ulimit"} {
		if strings.HasPrefix(k, p) {
			return fmt.Sprintf("%02d %s", i, k)
		}
	}
	return "99 " + k
}
