package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common/nstest"
)

// The devices filter decides as the list says: run on a small interpreter
// of the eBPF instructions it uses, for devices in the list and out of it,
// with each kind of access. No root needed.
func TestDeviceFilterDecides(t *testing.T) {
	prog := deviceFilter(defaultDevices)
	const blk, chr = unix.BPF_DEVCG_DEV_BLOCK, unix.BPF_DEVCG_DEV_CHAR
	const m, r, w = unix.BPF_DEVCG_ACC_MKNOD, unix.BPF_DEVCG_ACC_READ, unix.BPF_DEVCG_ACC_WRITE
	for _, c := range []struct {
		what         string
		typ, access  uint32
		major, minor uint32
		allow        bool
	}{
		{"read /dev/null", chr, r, 1, 3, true},
		{"write /dev/null", chr, w, 1, 3, true},
		{"mknod /dev/urandom", chr, m, 1, 9, true},
		{"read /dev/zero", chr, r, 1, 5, true},
		{"write /dev/pts/7", chr, w, 136, 7, true},
		{"read /dev/ptmx", chr, r | w, 5, 2, true},
		{"read /dev/net/tun", chr, r | w, 10, 200, true},
		{"mknod a disk", blk, m, 254, 0, true},
		{"mknod a loop device", blk, m, 7, 0, true},
		{"mknod /dev/tty1", chr, m, 4, 1, true},
		{"read a disk", blk, r, 254, 0, false},
		{"write a loop device", blk, w, 7, 0, false},
		{"read a block device with /dev/null's numbers", blk, r, 1, 3, false},
		{"write /dev/tty1", chr, w, 4, 1, false},
		{"read /dev/mem", chr, r, 1, 1, false},
		{"read /dev/kmsg", chr, r, 1, 11, false},
		{"read /dev/console (runc dropped it)", chr, r, 5, 1, false},
		{"read /dev/fuse", chr, r, 10, 229, false},
		{"read 137:0, next to the ptys", chr, r, 137, 0, false},
	} {
		if got := runFilter(t, prog, c.access<<16|c.typ, c.major, c.minor); got != c.allow {
			t.Errorf("%s (%d:%d): allowed %v, want %v", c.what, c.major, c.minor, got, c.allow)
		}
	}
}

// runFilter interprets the program on struct bpf_cgroup_dev_ctx, as the
// kernel would: only the instructions deviceFilter emits, jumps forward.
func runFilter(t *testing.T, prog []bpfInsn, accessType, major, minor uint32) bool {
	t.Helper()
	ctx := []uint32{accessType, major, minor}
	var reg [11]uint64 // r1 = 0: the context's address, in this model
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		dst, src := in.regs&0xf, in.regs>>4
		jump := false
		switch in.code {
		case unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W:
			reg[dst] = uint64(ctx[(int64(reg[src])+int64(in.off))/4])
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			reg[dst] = uint64(uint32(reg[dst]) & uint32(in.imm))
		case unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K:
			reg[dst] = uint64(uint32(reg[dst]) >> in.imm)
		case unix.BPF_ALU | unix.BPF_MOV | unix.BPF_K:
			reg[dst] = uint64(uint32(in.imm))
		case unix.BPF_ALU | unix.BPF_MOV | unix.BPF_X:
			reg[dst] = uint64(uint32(reg[src]))
		case unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K:
			jump = reg[dst] != uint64(int64(in.imm))
		case unix.BPF_JMP | unix.BPF_JNE | unix.BPF_X:
			jump = reg[dst] != reg[src]
		case unix.BPF_JMP | unix.BPF_EXIT:
			if reg[0] > 1 {
				t.Fatalf("insn %d: returns %d, not 0 or 1", pc, reg[0])
			}
			return reg[0] == 1
		default:
			t.Fatalf("insn %d: opcode %#x not interpreted", pc, in.code)
		}
		if jump {
			if in.off < 0 || pc+1+int(in.off) >= len(prog) {
				t.Fatalf("insn %d: jump %d out of the program", pc, in.off)
			}
			pc += int(in.off)
		}
	}
	t.Fatal("ran past the last instruction")
	return false
}

// The program in this kernel, attached to a cgroup of the unified (v2)
// hierarchy: a shell moved into the cgroup opens /dev/null and makes a
// block device node, but cannot open it (EPERM), while the test, outside
// the cgroup, can. On a v1 ("hybrid") machine such as the development
// one, the kernel runs the programs of a task's cgroup in the cgroup2
// mount (/sys/fs/cgroup/unified) too, besides v1's devices lists: this is
// the v2 code path, tested where it can be.
func TestDeviceFilterInKernel(t *testing.T) {
	nstest.RequireRoot(t)
	disk := testDisk(t)
	dir := filepath.Join(unifiedCgroup(t), fmt.Sprintf("nslab-10-devtest-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if err := unix.Rmdir(dir); err == nil || time.Now().After(deadline) {
				if err != nil {
					t.Errorf("rmdir %s: %v", dir, err)
				}
				return
			}
		}
	})
	if err := attachDeviceFilter(dir); err != nil {
		t.Fatal(err)
	}
	node := filepath.Join(t.TempDir(), "disk")
	script := fmt.Sprintf(`echo $$ > %s/cgroup.procs || exit 9
grep '^0::' /proc/self/cgroup
true < /dev/null && echo null-ok
mknod %s b %d %d && echo mknod-ok
true < %s && echo open-ok
exit 0`, dir, node, disk.major, disk.minor, node)
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	t.Logf("in %s:\n%s", dir, out)
	for _, want := range []string{"0::/" + strings.TrimPrefix(dir, unifiedMount(t)+"/"), "null-ok", "mknod-ok", "Operation not permitted"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %q in the shell's output", want)
		}
	}
	if strings.Contains(string(out), "open-ok") {
		t.Errorf("the shell in %s opened %s (%s, %d:%d): the program did not deny it", dir, node, disk.path, disk.major, disk.minor)
	}
	var st unix.Stat_t
	if err := unix.Stat(node, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK || unix.Major(st.Rdev) != disk.major || unix.Minor(st.Rdev) != disk.minor {
		t.Fatalf("%s: %v, mode %#o, rdev %d:%d; want the block device %d:%d", node, err, st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev), disk.major, disk.minor)
	}
	fd, err := unix.Open(node, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("outside the cgroup, open %s: %v (want it to work: only the cgroup's program denies it)", node, err)
	}
	unix.Close(fd)
}

// unifiedMount is where the cgroup2 hierarchy is mounted: /sys/fs/cgroup
// on v2, /sys/fs/cgroup/unified on a v1 hybrid machine.
func unifiedMount(t *testing.T) string {
	t.Helper()
	for _, line := range strings.Split(nstest.ReadTrim(t, "/proc/self/mountinfo"), "\n") {
		f := strings.Fields(line)
		for i := 6; i+1 < len(f); i++ {
			if f[i] == "-" && f[i+1] == "cgroup2" && f[3] == "/" {
				return f[4]
			}
		}
	}
	nstest.Skip(t, "no cgroup2 file system mounted: nowhere to attach an eBPF device program")
	return ""
}

// unifiedCgroup is the directory of our cgroup in the unified hierarchy
// (the 0:: line of /proc/self/cgroup).
func unifiedCgroup(t *testing.T) string {
	t.Helper()
	mnt := unifiedMount(t)
	for _, line := range strings.Split(nstest.ReadTrim(t, "/proc/self/cgroup"), "\n") {
		if cg, ok := strings.CutPrefix(line, "0::"); ok {
			return filepath.Join(mnt, cg)
		}
	}
	t.Fatal("/proc/self/cgroup has no 0:: line")
	return ""
}

// disk is a block device the test may read from the host.
type disk struct {
	path         string
	major, minor uint32
	bytes        string // the 2 bytes at offset 1080, as `od -An -tx1` shows them
}

// testDisk is the disk / is on, if root may open it here (in the qemu
// guests: /dev/vda, ext4, whose magic 53 ef is at 1080), else a loop
// device over a file with that magic (this machine's sandbox refuses root
// its own disk), detached at the end.
func testDisk(t *testing.T) disk {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	d := disk{major: unix.Major(st.Dev), minor: unix.Minor(st.Dev)}
	uevent, _ := os.ReadFile(fmt.Sprintf("/sys/dev/block/%d:%d/uevent", d.major, d.minor))
	for _, line := range strings.Split(string(uevent), "\n") {
		if name, ok := strings.CutPrefix(line, "DEVNAME="); ok {
			d.path = "/dev/" + name
		}
	}
	if d.path != "" {
		var err error
		if d.bytes, err = readAt1080(d.path); err == nil {
			return d
		}
		t.Logf("the disk of /, %s (%d:%d): %v; a loop device instead", d.path, d.major, d.minor, err)
	}
	nstest.RequireTool(t, "losetup", "mount")
	img := filepath.Join(t.TempDir(), "disk.img")
	b := make([]byte, 64<<10)
	b[1080], b[1081] = 0x53, 0xef
	if err := os.WriteFile(img, b, 0o600); err != nil {
		t.Fatal(err)
	}
	d.path = strings.TrimSpace(nstest.Exec(t, "losetup", "-f", "--show", img))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", d.path).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v\n%s", d.path, err, out)
		}
	})
	if err := unix.Stat(d.path, &st); err != nil {
		t.Fatal(err)
	}
	d.major, d.minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
	var err error
	if d.bytes, err = readAt1080(d.path); err != nil {
		t.Fatal(err)
	}
	return d
}

func readAt1080(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b := make([]byte, 2)
	if _, err := f.ReadAt(b, 1080); err != nil {
		return "", err
	}
	return fmt.Sprintf(" %02x %02x", b[0], b[1]), nil
}
