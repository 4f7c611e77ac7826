package main

// mkrootfs.go adds to the seed a root filesystem to run in:
// 05-mount mkrootfs [-from-host] DIR builds the minimal root filesystem the
// seed built by hand (mkdir new_root/{bin,lib,lib64}; cp /bin/bash ...; cp
// the libraries). With busybox-static installed it takes /bin/busybox, one
// static binary that is sh, ls, mount, ps and some 300 other tools. Without
// it, or with -from-host, it copies the host's binaries and every shared
// library ldd lists for them, the dynamic loader included.
//
// It also copies this program in as /bin/05-mount, for `05-mount escape`.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"nslab/common"
)

// hostTools are the seed's list (bash, mount, ls, cat, umount, mkdir, rmdir,
// rm, cp, grep, ps) plus sh and a few the demos use. Missing ones are
// skipped.
var hostTools = []string{"sh", "bash", "ls", "cat", "mount", "umount", "mkdir", "rmdir", "rm", "cp",
	"grep", "ps", "hostname", "sleep", "readlink", "stat", "id"}

// rootDirs are the directories a root filesystem needs to be useful:
// mount points for proc, sys and dev, a writable tmp.
var rootDirs = []string{"bin", "dev", "etc", "proc", "root", "sys", "tmp"}

func mkrootfsUsage() string {
	return common.Prog + " mkrootfs [-from-host] DIR"
}

func mkrootfs(args []string) {
	fs := common.NewFlags(mkrootfsUsage())
	fromHost := fs.Bool("from-host", false, "copy the host's binaries and their libraries even if busybox is installed")
	args = fs.ParseArgs(args)
	if len(args) != 1 {
		common.UsageError(mkrootfsUsage(), "want one DIR, got %d arguments", len(args))
	}
	dir, err := filepath.Abs(args[0])
	if err != nil {
		common.ErrExit(args[0], err)
	}
	r := startRootfs(dir)

	// Debian's busybox-static (and busybox) install /bin/busybox.
	busybox, err := exec.LookPath("busybox")
	withBusybox := err == nil && !*fromHost
	if err != nil && !*fromHost {
		fmt.Println("no busybox (apt-get install busybox-static): copying the host's binaries and their libraries")
	}

	for _, d := range rootDirs {
		r.mkdir(d)
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		common.ErrExit("chmod 1777 tmp", err)
	}
	// Enough for `id` and `ls -l` to show names.
	r.write("etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"), 0o644)
	r.write("etc/group", []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)

	if withBusybox {
		r.copyBinary(busybox, "bin/busybox")
		applets, _, err := runHelper(busybox, "--list")
		if err != nil {
			common.ErrExit(busybox+" --list", err)
		}
		n := 0
		for _, a := range strings.Fields(applets) {
			if a == "busybox" || strings.Contains(a, "/") {
				continue
			}
			if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
				common.ErrExit("ln -s busybox bin/"+a, err)
			}
			n++
		}
		fmt.Printf("bin/busybox from %s, and %d links to it (sh, ls, mount, ps, ...)\n", busybox, n)
	} else {
		var copied []string
		for _, tool := range hostTools {
			if path, err := exec.LookPath(tool); err == nil {
				r.copyBinary(path, "bin/"+tool)
				copied = append(copied, tool)
			}
		}
		fmt.Printf("bin/: %s, from the host\n", strings.Join(copied, " "))
	}

	self, err := os.Executable()
	if err != nil {
		common.ErrExit("finding this program", err)
	}
	r.copyBinary(self, "bin/05-mount")
	if len(r.libs) > 0 {
		fmt.Printf("libraries (from ldd): %s\n", strings.Join(r.libs, " "))
	}
	r.done.Store(true) // keep it
	fmt.Printf("%s is ready (%d files, %.1f MB); try:\n", dir, r.files, float64(r.bytes)/1e6)
	fmt.Printf("    %s -rootfs %s -pivot -proc\n", common.Prog, dir)
}

// startRootfs creates dir, or accepts an empty existing one, and registers
// the removal of what is made in it unless the build is done: on failure
// or Ctrl-C mkrootfs takes back what it made, on success it keeps it.
func startRootfs(dir string) *rootfs {
	r := &rootfs{dir: dir}
	ents, err := os.ReadDir(dir)
	switch {
	case err == nil && len(ents) > 0, err != nil && !errors.Is(err, fs.ErrNotExist):
		common.Fatalf("%s exists and is not an empty directory: pick a new DIR", dir)
	case err != nil: // it does not exist: make it, and remove it on failure
		if err := os.Mkdir(dir, 0o755); errors.Is(err, fs.ErrNotExist) {
			common.ErrExit("mkdir "+dir, err, "the parent directory must exist")
		} else if err != nil {
			common.ErrExit("mkdir "+dir, err)
		}
		r.created = true
	}
	// After the mkdir: a signal in between leaves an empty directory, but
	// a failed mkdir cannot remove a directory someone else made.
	common.AtExit(func() {
		if r.done.Load() {
			return
		}
		if r.created {
			os.RemoveAll(dir)
		} else if ents, err := os.ReadDir(dir); err == nil {
			for _, e := range ents {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
		fmt.Fprintf(os.Stderr, "%s: removed the unfinished %s\n", common.Prog, dir)
	})
	return r
}

type rootfs struct {
	dir          string
	created      bool        // we made dir itself (else it existed, empty)
	done         atomic.Bool // built: keep it (read by the cleanup, maybe on the signal goroutine)
	libs         []string    // host paths of the libraries copied
	files, bytes int64
}

func (r *rootfs) mkdir(rel string) {
	if err := os.MkdirAll(filepath.Join(r.dir, rel), 0o755); err != nil {
		common.ErrExit("mkdir "+rel, err)
	}
}

// write writes b to rel, mode perm, and counts it.
func (r *rootfs) write(rel string, b []byte, perm os.FileMode) {
	dst := filepath.Join(r.dir, rel)
	if err := os.WriteFile(dst, b, perm); err != nil {
		common.ErrExit("writing "+dst, err)
	}
	r.files++
	r.bytes += int64(len(b))
}

// copyFile copies src (following symlinks: /bin/sh is dash) to rel, as
// an executable: every file it copies is a program or a library.
func (r *rootfs) copyFile(src, rel string) {
	b, err := os.ReadFile(src)
	if err != nil {
		common.ErrExit("reading "+src, err)
	}
	r.mkdir(filepath.Dir(rel))
	r.write(rel, b, 0o755)
}

// copyBinary copies an executable and, if it is dynamically linked, the
// libraries it needs, each to the same path under the rootfs: the loader
// looks for them in /lib/x86_64-linux-gnu and the like, and the kernel
// for the loader itself at the path written in the binary.
func (r *rootfs) copyBinary(src, rel string) {
	r.copyFile(src, rel)
	for _, lib := range sharedLibs(src) {
		if !slices.Contains(r.libs, lib) {
			r.copyFile(lib, lib)
			r.libs = append(r.libs, lib)
		}
	}
}

// sharedLibs runs ldd on bin and returns the absolute paths it lists:
//
//	linux-vdso.so.1 (0x...)                        in the kernel: skip
//	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)
//	/lib64/ld-linux-x86-64.so.2 (0x...)            the dynamic loader
//
// A static binary ("not a dynamic executable") needs none.
func sharedLibs(bin string) []string {
	ldd, err := exec.LookPath("ldd")
	if err != nil {
		common.Fatalf("%s is dynamically linked and ldd is missing to list its libraries (apt-get install libc-bin), or install busybox-static", bin)
	}
	out, errs, err := runHelper(ldd, bin)
	if strings.Contains(out+errs, "not a dynamic executable") {
		return nil
	}
	if err != nil {
		common.Fatalf("ldd %s: %v: %s", bin, err, strings.TrimSpace(errs))
	}
	var libs []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[1] == "=>" && f[2] == "not":
			common.Fatalf("ldd %s: %s is not found on this host", bin, f[0])
		case len(f) >= 3 && f[1] == "=>" && filepath.IsAbs(f[2]):
			libs = append(libs, f[2])
		case len(f) >= 1 && filepath.IsAbs(f[0]):
			libs = append(libs, f[0])
		}
	}
	return libs
}

// runHelper runs a helper (busybox --list, ldd) to its end and returns
// what it printed on stdout and on stderr. Started by common.StartChild,
// it is killed and reaped if a Ctrl-C ends us meanwhile, rather than left
// running on its own after we exit.
func runHelper(name string, args ...string) (stdout, stderr string, err error) {
	var out, errs strings.Builder
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errs
	c, err := common.StartChild(cmd)
	if err == nil {
		err = c.Wait()
	}
	return out.String(), errs.String(), err
}
