package lab

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// make vm-test ARCH=...: each spelling of the two architectures names the
// same guest (qemu, console, Debian's name), and the cross tools are needed
// exactly when the guest is not this machine's architecture.
func TestVMArch(t *testing.T) {
	dir := labScripts(t, "vm-arch.sh")
	uname, err := exec.Command("uname", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimSpace(string(uname))
	for _, c := range []struct{ arg, arch, uname, qemu, console string }{
		{"", "amd64", "x86_64", "qemu-system-x86_64", "ttyS0"},
		{"amd64", "amd64", "x86_64", "qemu-system-x86_64", "ttyS0"},
		{"x86_64", "amd64", "x86_64", "qemu-system-x86_64", "ttyS0"},
		{"arm64", "arm64", "aarch64", "qemu-system-aarch64", "ttyAMA0"},
		{"aarch64", "arm64", "aarch64", "qemu-system-aarch64", "ttyAMA0"},
	} {
		out, err := exec.Command("bash", "-c", `. "$1"/vm-arch.sh && nslab_vm_arch "$2" &&
			echo "$VM_ARCH $VM_UNAME $VM_QEMU_SYSTEM $VM_CONSOLE $VM_FOREIGN $VM_CC ${VM_PKGS[*]}"`,
			"-", dir, c.arg).CombinedOutput()
		if err != nil {
			t.Fatalf("nslab_vm_arch %q: %v\n%s", c.arg, err, out)
		}
		f := strings.Fields(string(out))
		if len(f) < 6 || f[0] != c.arch || f[1] != c.uname || f[2] != c.qemu || f[3] != c.console {
			t.Errorf("nslab_vm_arch %q: got %q, want %s %s %s %s ...", c.arg, out, c.arch, c.uname, c.qemu, c.console)
			continue
		}
		foreign := host != c.uname
		if got := f[4] == "1"; got != foreign {
			t.Errorf("nslab_vm_arch %q on %s: VM_FOREIGN=%s", c.arg, host, f[4])
		}
		cross := strings.Contains(string(out), "qemu-user-static") && f[5] == c.uname+"-linux-gnu-gcc"
		if cross != foreign {
			t.Errorf("nslab_vm_arch %q on %s: cross tools %v, want %v: %q", c.arg, host, cross, foreign, out)
		}
	}
}

// A wrong ARCH is one line naming both choices, exit status 2, before
// anything else happens (no root needed, no tool installed).
func TestVMTestUnknownArch(t *testing.T) {
	dir := labScripts(t, "vm-arch.sh", "vm-test.sh", "vm-image.sh")
	for _, script := range []string{"vm-test.sh", "vm-image.sh"} {
		cmd := exec.Command("bash", filepath.Join(dir, script))
		cmd.Env = append(os.Environ(), "NSLAB_VM_ARCH=riscv64")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		msg := strings.TrimSpace(stderr.String())
		if code != 2 || stdout.Len() != 0 || strings.Count(msg, "\n") != 0 ||
			!strings.Contains(msg, "riscv64") || !strings.Contains(msg, "ARCH=arm64") {
			t.Errorf("%s with ARCH=riscv64: exit %d, stdout %q, stderr %q; want exit 2 and one line naming ARCH=amd64 or ARCH=arm64",
				script, code, stdout.String(), msg)
		}
	}
}
