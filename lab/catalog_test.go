package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"nslab/common/nstest"
)

// The bad-input catalog: what a learner mistypes, or runs on the wrong
// machine, across every chapter, in one place (the chapters' own tests
// leave bad input to it). Each must end with one line on stderr that
// names the problem (and, in its words or the usage line after it, the
// fix), and nothing on stdout but what it did before it failed: exit
// status 2 for a bad command line, 1 for a failure at run time, never a Go
// panic, and nothing of the run left running or left in a cgroup.
type badInput struct {
	name    string
	chapter string
	args    []string
	nobody  bool     // run as uid/gid 65534
	env     []string // e.g. an injected "missing feature"
	code    int
	prog    string // the name the line starts with (default: chapter)
	want    string // regexp the first line must match
	usage   bool   // the usage line must follow (03-ipc and 06-net give it to every bad command line)
	stdout  string // regexp for what it printed before it failed; "": nothing
}

// catalog takes what the test made for it: a PID that is gone, a process
// of root's, a netns name that is taken and a root filesystem.
func catalog(vanished, rootPID int, taken, rootfs string) []badInput {
	p := strconv.Itoa
	tooMuch := p(100*runtime.NumCPU() + 1) // one over the highest -percent 08-cgroup takes (100 per CPU)
	return []badInput{
		// unknown flag
		{name: "unknown flag", chapter: "02-uts", args: []string{"-x", "h"}, code: 2, want: `flag provided but not defined: -x`},
		{name: "unknown flag -bogus", chapter: "02-uts", args: []string{"-bogus", "h"}, code: 2, want: `flag provided but not defined: -bogus`},
		{name: "unknown flag", chapter: "03-ipc", args: []string{"-x"}, code: 2, want: `flag provided but not defined: -x`, usage: true},
		{name: "unknown flag -bogus", chapter: "03-ipc", args: []string{"-bogus"}, code: 2, want: `flag provided but not defined: -bogus`, usage: true},
		{name: "unknown flag", chapter: "04-pid", args: []string{"-x"}, code: 2, want: `flag provided but not defined: -x`},
		{name: "unknown flag -bogus", chapter: "04-pid", args: []string{"-bogus"}, code: 2, want: `flag provided but not defined: -bogus`},
		{name: "unknown flag", chapter: "05-mount", args: []string{"-x"}, code: 2, want: `flag provided but not defined: -x`},
		{name: "unknown flag -bogus", chapter: "05-mount", args: []string{"-bogus"}, code: 2, want: `flag provided but not defined: -bogus`},
		{name: "unknown mkrootfs flag", chapter: "05-mount", args: []string{"mkrootfs", "-busybox", "a"}, code: 2, want: `flag provided but not defined: -busybox`},
		{name: "unknown link flag", chapter: "06-net", args: []string{"link", "-bogus"}, code: 2, want: `flag provided but not defined: -bogus`, usage: true},
		{name: "unknown flag", chapter: "07-user", args: []string{"-x"}, code: 2, want: `flag provided but not defined: -x`},
		{name: "unknown flag -bogus", chapter: "07-user", args: []string{"-bogus"}, code: 2, want: `flag provided but not defined: -bogus`},
		{name: "unknown flag", chapter: "08-cgroup", args: []string{"quota", "-x"}, code: 2, want: `flag provided but not defined: -x`},
		{name: "unknown flag -bogus", chapter: "08-cgroup", args: []string{"quota", "-bogus"}, code: 2, want: `flag provided but not defined: -bogus`},
		{name: "unknown clone-bash flag", chapter: "09-setns", args: []string{"clone-bash", "-z"}, code: 2, want: `flag provided but not defined: -z`},
		{name: "unknown option", chapter: "01-clone", args: []string{"ns_child_exec", "-x", "true"}, code: 2, prog: "ns_child_exec", usage: true, want: `invalid option -- 'x'`},
		{name: "unknown option", chapter: "09-setns", args: []string{"-t", "1", "-x"}, code: 2, want: `invalid option -- 'x'`},
		{name: "unknown option without -t", chapter: "09-setns", args: []string{"-z", "1"}, code: 2, want: `invalid option -- 'z'`},
		// unknown sub-command
		{name: "unknown sub-command", chapter: "01-clone", args: []string{"bogus"}, code: 2, want: `unknown sub-command "bogus": choose t_clone or ns_child_exec`},
		{name: "unknown sub-command", chapter: "06-net", args: []string{"bogus"}, code: 2, want: `unknown sub-command "bogus": choose show, add, list, exec, del or link`, usage: true},
		{name: "unknown sub-command", chapter: "08-cgroup", args: []string{"bogus"}, code: 2, want: `unknown sub-command "bogus": choose ns, quota, freeze, memory or pids`},
		{name: "unknown sub-command", chapter: "10-container", args: []string{"bogus"}, code: 2, want: `unknown sub-command "bogus": choose run`},
		// missing argument
		{name: "missing sub-command", chapter: "01-clone", code: 2, want: `missing sub-command: choose t_clone or ns_child_exec`},
		{name: "missing command", chapter: "01-clone", args: []string{"ns_child_exec"}, code: 2, prog: "ns_child_exec", usage: true, want: `missing command`},
		{name: "missing command", chapter: "01-clone", args: []string{"ns_child_exec", "-p"}, code: 2, prog: "ns_child_exec", usage: true, want: `missing command`},
		{name: "missing hostname", chapter: "02-uts", code: 2, want: `missing <child-hostname>`},
		{name: "missing DIR", chapter: "05-mount", args: []string{"mkrootfs"}, code: 2, want: `want one DIR, got 0`},
		{name: "missing NAME", chapter: "06-net", args: []string{"add"}, code: 2, want: `missing NAME`, usage: true},
		{name: "missing NAME to del", chapter: "06-net", args: []string{"del"}, code: 2, want: `missing NAME`, usage: true},
		{name: "missing NAME to exec", chapter: "06-net", args: []string{"exec"}, code: 2, want: `missing NAME`, usage: true},
		{name: "missing command to exec", chapter: "06-net", args: []string{"exec", "x"}, code: 2, want: `missing the command to run in x`, usage: true},
		{name: "missing sub-command", chapter: "06-net", code: 2, want: `missing sub-command: choose show, add, list, exec, del or link`, usage: true},
		{name: "missing sub-command", chapter: "08-cgroup", code: 2, want: `missing sub-command: choose ns, quota, freeze, memory or pids`},
		{name: "missing PID", chapter: "09-setns", code: 2, want: `missing PID`},
		{name: "missing -t value", chapter: "09-setns", args: []string{"-t"}, code: 2, want: `option requires an argument -- 't'`},
		{name: "no namespace chosen", chapter: "09-setns", args: []string{"-t", "1"}, code: 2, want: `no namespace chosen`},
		// an argument too many
		{name: "flag after the hostname", chapter: "02-uts", args: []string{"h", "-hold", "0"}, code: 2, want: `unexpected argument "-hold"`},
		{name: "extra argument", chapter: "03-ipc", args: []string{"extra"}, code: 2, want: `unexpected argument "extra"`, usage: true},
		{name: "extra argument after -hold", chapter: "03-ipc", args: []string{"-hold", "1s", "extra"}, code: 2, want: `unexpected argument "extra"`, usage: true},
		{name: "extra argument", chapter: "04-pid", args: []string{"3", "nested"}, code: 2, want: `unexpected argument "nested"`},
		{name: "two DIRs", chapter: "05-mount", args: []string{"mkrootfs", "a", "b"}, code: 2, want: `want one DIR, got 2`},
		{name: "extra argument to show", chapter: "06-net", args: []string{"show", "x"}, code: 2, want: `unexpected argument "x"`, usage: true},
		{name: "extra argument to add", chapter: "06-net", args: []string{"add", "a", "b"}, code: 2, want: `unexpected argument "b"`, usage: true},
		{name: "extra argument to list", chapter: "06-net", args: []string{"list", "x"}, code: 2, want: `unexpected argument "x"`, usage: true},
		{name: "extra argument to link", chapter: "06-net", args: []string{"link", "now"}, code: 2, want: `unexpected argument "now"`, usage: true},
		{name: "extra argument", chapter: "07-user", args: []string{"x"}, code: 2, want: `unexpected argument "x"`},
		{name: "extra argument", chapter: "08-cgroup", args: []string{"ns", "now"}, code: 2, want: `unexpected argument "now"`},
		{name: "extra argument", chapter: "09-setns", args: []string{"1", "2"}, code: 2, want: `unexpected argument "2"`},
		{name: "extra argument to clone-bash", chapter: "09-setns", args: []string{"clone-bash", "x"}, code: 2, want: `unexpected argument "x"`},
		// options that need, or exclude, one another
		{name: "chroot without rootfs", chapter: "05-mount", args: []string{"-chroot", "true"}, code: 2, want: `-chroot and -pivot need -rootfs DIR`},
		{name: "rootfs without chroot", chapter: "05-mount", args: []string{"-rootfs", "/tmp", "true"}, code: 2, want: `-rootfs needs -chroot or -pivot`},
		{name: "chroot and pivot", chapter: "05-mount", args: []string{"-rootfs", "/tmp", "-chroot", "-pivot"}, code: 2, want: `exclude each other`},
		{name: "builtin and a command", chapter: "08-cgroup", args: []string{"quota", "-builtin", "--", "true"}, code: 2, want: `exclude each other`},
		{name: "namespace option without -t", chapter: "09-setns", args: []string{"-u", "1"}, code: 2, want: `namespace options need -t PID`},
		{name: "hold with -t", chapter: "09-setns", args: []string{"-hold", "-t", "1", "-u"}, code: 2, want: `-hold goes with the seed form`},
		{name: "go-only without -t", chapter: "09-setns", args: []string{"-go-only", "1"}, code: 2, want: `-go-only goes with -t PID`},
		// bad values
		{name: "non-numeric PID", chapter: "09-setns", args: []string{"abc"}, code: 2, want: `PID must be a positive number, got "abc"`},
		{name: "negative PID", chapter: "09-setns", args: []string{"-t", "-1", "true"}, code: 2, want: `PID must be a positive number`},
		{name: "negative PID alone", chapter: "09-setns", args: []string{"-1"}, code: 2, want: `PID must be a positive number, got "-1"`},
		{name: "negative PID with -u", chapter: "09-setns", args: []string{"-t", "-1", "-u"}, code: 2, want: `PID must be a positive number, got "-1"`},
		{name: "non-numeric PID with -u", chapter: "09-setns", args: []string{"-t", "abc", "-u"}, code: 2, want: `PID must be a positive number, got "abc"`},
		{name: "PID 0", chapter: "09-setns", args: []string{"0"}, code: 2, want: `PID must be a positive number, got "0"`},
		{name: "huge PID", chapter: "09-setns", args: []string{"99999999999999999999"}, code: 2, want: `PID`},
		{name: "PID not running", chapter: "09-setns", args: []string{"4194304"}, code: 1, want: `ESRCH.*check the PID`},
		{name: "vanished PID", chapter: "09-setns", args: []string{"-t", p(vanished), "-u", "true"}, code: 1, want: `process ` + p(vanished) + `: ESRCH`},
		{name: "kernel thread", chapter: "09-setns", args: []string{"2"}, code: 1, want: `PID 2 \(kthreadd\) is a kernel thread.*use -t 1`},
		{name: "too many children", chapter: "04-pid", args: []string{"100000"}, code: 2, want: `number of children must be 1 to 100`},
		{name: "101 children", chapter: "04-pid", args: []string{"101"}, code: 2, want: `number of children must be 1 to 100`},
		{name: "no children", chapter: "04-pid", args: []string{"0"}, code: 2, want: `number of children must be 1 to 100`},
		{name: "neither number nor demo", chapter: "04-pid", args: []string{"abc"}, code: 2, want: `"abc" is neither a number of children nor a demo`},
		{name: "bad duration", chapter: "04-pid", args: []string{"-hold", "x", "3"}, code: 2, want: `invalid value "x" for flag -hold: want a duration of 0 or more, such as 60s`},
		{name: "bad duration soon", chapter: "04-pid", args: []string{"-hold", "soon"}, code: 2, want: `invalid value "soon" for flag -hold: want a duration of 0 or more, such as 60s`},
		{name: "negative duration", chapter: "04-pid", args: []string{"-hold", "-1s"}, code: 2, want: `invalid value "-1s" for flag -hold: want a duration of 0 or more, such as 60s`},
		{name: "bad duration", chapter: "02-uts", args: []string{"-hold", "abc", "h"}, code: 2, want: `invalid value "abc" for flag -hold: want a duration of 0 or more, such as 60s`},
		{name: "bad duration soon", chapter: "02-uts", args: []string{"-hold", "soon", "h"}, code: 2, want: `invalid value "soon" for flag -hold: want a duration of 0 or more, such as 60s`},
		{name: "negative duration", chapter: "02-uts", args: []string{"-hold", "-1s", "h"}, code: 2, want: `invalid value "-1s" for flag -hold: want a duration of 0 or more, such as 60s`},
		{name: "hostname too long", chapter: "02-uts", args: []string{strings.Repeat("x", 65)}, code: 2, want: `65 bytes long; the kernel allows at most 64`},
		{name: "bad duration", chapter: "03-ipc", args: []string{"-hold", "soon"}, code: 2, want: `invalid value "soon" for flag -hold: want a duration of 0 or more, such as 60s`, usage: true},
		{name: "negative duration", chapter: "03-ipc", args: []string{"-hold=-1s"}, code: 2, want: `invalid value "-1s" for flag -hold: want a duration of 0 or more, such as 60s`, usage: true},
		{name: "bad map-to", chapter: "07-user", args: []string{"-map-to", "abc"}, code: 2, want: `-map-to wants a host uid`},
		{name: "bad map-to x", chapter: "07-user", args: []string{"-map-to", "x"}, code: 2, want: `-map-to wants a host uid from 0 to 4294967294, got "x"`},
		{name: "map-to uid -1", chapter: "07-user", args: []string{"-map-to", "4294967295"}, code: 2, want: `-map-to wants a host uid`},
		{name: "bad duration", chapter: "07-user", args: []string{"-hold", "soon"}, code: 2, want: `invalid value "soon" for flag -hold`},
		{name: "negative duration", chapter: "07-user", args: []string{"-hold", "-1s"}, code: 2, want: `invalid value "-1s" for flag -hold: want a duration of 0 or more, such as 60s`},
		{name: "relative tmpfs", chapter: "05-mount", args: []string{"-tmpfs", "relative", "true"}, code: 2, want: `-tmpfs wants an absolute path`},
		{name: "relative tmpfs, no command", chapter: "05-mount", args: []string{"-tmpfs", "mnt"}, code: 2, want: `-tmpfs wants an absolute path, got "mnt"`},
		{name: "hostname too long", chapter: "05-mount", args: []string{"-hostname", strings.Repeat("x", 65)}, code: 2, want: `65 bytes long; the kernel allows at most 64`},
		{name: "bad netns name", chapter: "06-net", args: []string{"add", "a/b"}, code: 2, want: `must not contain '/'`, usage: true},
		{name: "empty NAME", chapter: "06-net", args: []string{"add", ""}, code: 2, want: `NAME must not be empty`, usage: true},
		{name: "NAME ..", chapter: "06-net", args: []string{"add", ".."}, code: 2, want: `"\.\." is not a valid NAME`, usage: true},
		{name: "NAME .", chapter: "06-net", args: []string{"add", "."}, code: 2, want: `"\." is not a valid NAME`, usage: true},
		{name: "NAME too long", chapter: "06-net", args: []string{"add", strings.Repeat("x", 300)}, code: 2, want: `300 bytes long`, usage: true},
		{name: "NAME with a slash to del", chapter: "06-net", args: []string{"del", "../etc"}, code: 2, want: `must not contain '/'`, usage: true},
		{name: "NAME .. to exec", chapter: "06-net", args: []string{"exec", "..", "true"}, code: 2, want: `"\.\." is not a valid NAME`, usage: true},
		{name: "bad duration", chapter: "06-net", args: []string{"show", "-hold", "soon"}, code: 2, want: `invalid value "soon" for flag -hold`, usage: true},
		{name: "negative duration", chapter: "06-net", args: []string{"show", "-hold", "-1s"}, code: 2, want: `invalid value "-1s" for flag -hold: want a duration of 0 or more, such as 60s`, usage: true},
		{name: "quota 0", chapter: "08-cgroup", args: []string{"quota", "-percent", "0"}, code: 2, want: `-percent 0: want 1 to \d+ \(100 per CPU`},
		{name: "quota negative", chapter: "08-cgroup", args: []string{"quota", "-percent", "-5"}, code: 2, want: `-percent -5: want 1 to \d+`},
		{name: "quota just over 100×CPUs", chapter: "08-cgroup", args: []string{"quota", "-percent", tooMuch}, code: 2, want: `-percent ` + tooMuch + `: want 1 to \d+`},
		{name: "quota over 100×CPUs", chapter: "08-cgroup", args: []string{"quota", "-percent", "100000"}, code: 2, want: `-percent 100000: want 1 to \d+`},
		{name: "negative seconds", chapter: "08-cgroup", args: []string{"quota", "-seconds", "-1"}, code: 2, want: `-seconds -1: want a positive number`},
		{name: "seconds 0", chapter: "08-cgroup", args: []string{"quota", "-seconds", "0"}, code: 2, want: `-seconds 0: want a positive number`},
		{name: "no command after --", chapter: "08-cgroup", args: []string{"quota", "--"}, code: 2, want: `no command after --`},
		{name: "command not found", chapter: "08-cgroup", args: []string{"quota", "--", "/no/such/nslab"}, code: 1, want: `/no/such/nslab: command not found`},
		{name: "command not in PATH", chapter: "08-cgroup", args: []string{"quota", "--", "nslab-no-such-command"}, code: 1, want: `nslab-no-such-command: command not found`},
		{name: "negative duration", chapter: "08-cgroup", args: []string{"ns", "-hold", "-1s"}, code: 2, want: `invalid value "-1s" for flag -hold: want a duration of 0 or more, such as 60s`},
		{name: "zero duration to freeze", chapter: "08-cgroup", args: []string{"freeze", "-hold", "0"}, code: 2, want: `-hold 0s: want a positive duration`},
		{name: "memory limit not a size", chapter: "08-cgroup", args: []string{"memory", "-limit", "abc"}, code: 2, want: `-limit abc: want a size from 8M to 1G, such as 64M`},
		{name: "memory limit too small", chapter: "08-cgroup", args: []string{"memory", "-limit", "1K"}, code: 2, want: `-limit 1K: want a size from 8M to 1G`},
		{name: "memory limit 1M", chapter: "08-cgroup", args: []string{"memory", "-limit", "1M"}, code: 2, want: `-limit 1M: want a size from 8M to 1G`},
		{name: "memory limit too big", chapter: "08-cgroup", args: []string{"memory", "-limit", "2G"}, code: 2, want: `-limit 2G: want a size from 8M to 1G`},
		{name: "pids max 0", chapter: "08-cgroup", args: []string{"pids", "-max", "0"}, code: 2, want: `-max 0: want 10 to 1000`},
		{name: "pids max negative", chapter: "08-cgroup", args: []string{"pids", "-max", "-1"}, code: 2, want: `-max -1: want 10 to 1000`},
		{name: "pids max -3", chapter: "08-cgroup", args: []string{"pids", "-max", "-3"}, code: 2, want: `-max -3: want 10 to 1000`},
		{name: "pids max not a number", chapter: "08-cgroup", args: []string{"pids", "-max", "abc"}, code: 2, want: `invalid value "abc" for flag -max`},
		{name: "command not found", chapter: "01-clone", args: []string{"ns_child_exec", "-u", "/no/such/nslab"}, code: 1, prog: "ns_child_exec", want: `execvp /no/such/nslab: ENOENT.*check the command name`},
		// the machine lacks something
		{name: "rootfs missing", chapter: "05-mount", args: []string{"-rootfs", "/nonexistent-nslab", "-chroot", "/bin/sh"}, code: 1, want: `-rootfs /nonexistent-nslab is not a directory \(build one with: 05-mount mkrootfs`},
		{name: "no time namespace", chapter: "01-clone", args: []string{"ns_child_exec", "-T", "true"}, env: []string{"NSLAB_SIMULATE_MISSING=ns:time"}, code: 1, prog: "ns_child_exec", want: `this kernel has no time namespace.*use a kernel built with it`},
		{name: "no cgroup namespace", chapter: "08-cgroup", args: []string{"ns"}, env: []string{"NSLAB_SIMULATE_MISSING=ns:cgroup"}, code: 1, want: `this kernel has no cgroup namespace`},
		{name: "no cpu controller", chapter: "08-cgroup", args: []string{"quota"}, env: []string{"NSLAB_SIMULATE_MISSING=controller:cpu"}, code: 1, want: `cpu controller.*\((mount one|a v1 hierarchy)`},
		{name: "no freezer", chapter: "08-cgroup", args: []string{"freeze"}, env: []string{"NSLAB_SIMULATE_MISSING=controller:freezer"}, code: 1, want: `freez`},
		{name: "user namespaces disabled", chapter: "07-user", nobody: true, env: []string{"NSLAB_SIMULATE_USERNS_DISABLED=1"}, code: 1, want: `clone\(CLONE_NEWUSER\): EPERM.*sysctl`, stdout: `^parent: uid=65534 gid=65534; uid 0 inside will be host uid 65534`},
		// not root
		{name: "not root", chapter: "02-uts", args: []string{"-hold", "0", "h"}, nobody: true, code: 1, want: `needs root.*sudo`},
		{name: "not root", chapter: "03-ipc", nobody: true, code: 1, want: `needs root|EPERM`},
		{name: "not root", chapter: "04-pid", args: []string{"3"}, nobody: true, code: 1, want: `needs root.*sudo`},
		{name: "not root", chapter: "05-mount", args: []string{"true"}, nobody: true, code: 1, want: `needs root|EPERM`},
		{name: "not root", chapter: "06-net", args: []string{"show"}, nobody: true, code: 1, want: `needs root.*sudo`},
		{name: "not root maps root", chapter: "07-user", args: []string{"-map-to", "0"}, nobody: true, code: 2, want: `only root may map uid 0 inside to another host uid than its own \(65534\)`},
		{name: "not root", chapter: "08-cgroup", args: []string{"quota"}, nobody: true, code: 1, want: `needs root.*sudo`},
		{name: "not root", chapter: "01-clone", args: []string{"ns_child_exec", "-u", "true"}, nobody: true, code: 1, prog: "ns_child_exec", want: `EPERM.*sudo`},
		{name: "no permission", chapter: "09-setns", args: []string{"-t", p(rootPID), "-u", "true"}, nobody: true, code: 1, want: `EACCES.*sudo`},
		// 10-container
		{name: "missing sub-command", chapter: "10-container", code: 2, want: `missing sub-command: choose run`},
		{name: "unknown flag", chapter: "10-container", args: []string{"run", "-x"}, code: 2, want: `flag provided but not defined: -x`},
		{name: "memory too small", chapter: "10-container", args: []string{"run", "-memory", "1k"}, code: 2, want: `-memory 1k: want a size from 16M to 4G`},
		{name: "pids too few", chapter: "10-container", args: []string{"run", "-pids", "3"}, code: 2, want: `-pids 3: want 32 to 4096`},
		{name: "negative cpus", chapter: "10-container", args: []string{"run", "-cpus", "-1"}, code: 2, want: `-cpus -1: want 0`},
		{name: "unknown layer", chapter: "10-container", args: []string{"run", "-off", "caps,bogus"}, code: 2, want: `no layer "bogus"; the layers are overlay,pivot,masks,devices,caps,nnp,seccomp,fds`},
		{name: "keep without overlay", chapter: "10-container", args: []string{"run", "-off", "overlay", "-keep", "/tmp/nslab-keep"}, code: 2, want: `-keep keeps the overlay's upper layer: it goes with neither -off overlay`},
		{name: "rootless net", chapter: "10-container", args: []string{"run", "-net", "-rootless"}, code: 2, want: `-net needs real root`},
		{name: "no rootfs", chapter: "10-container", args: []string{"run", "-rootfs", "/nonexistent-nslab"}, code: 1, want: `no root filesystem at /nonexistent-nslab.*05-mount mkrootfs /nonexistent-nslab`},
		{name: "not root", chapter: "10-container", args: []string{"run"}, nobody: true, code: 1, want: `without -rootless needs root`},
		// 10-container with a root filesystem in place: a bad value stops
		// it all the same, before anything starts.
		{name: "memory too small, rootfs ready", chapter: "10-container", args: []string{"run", "-rootfs", rootfs, "-memory", "1k"}, code: 2, want: `-memory 1k: want a size from 16M to 4G`},
		{name: "pids too few, rootfs ready", chapter: "10-container", args: []string{"run", "-rootfs", rootfs, "-pids", "3"}, code: 2, want: `-pids 3: want 32 to 4096`},
		{name: "unknown layer alone, rootfs ready", chapter: "10-container", args: []string{"run", "-rootfs", rootfs, "-off", "bogus"}, code: 2, want: `-off bogus: no layer "bogus"`},
		{name: "rootless net, rootfs ready", chapter: "10-container", args: []string{"run", "-rootfs", rootfs, "-net", "-rootless"}, code: 2, want: `-net needs real root`},
		{name: "no rootfs in a directory", chapter: "10-container", args: []string{"run", "-rootfs", rootfs + "/nothing"}, code: 1, want: `no root filesystem at ` + regexp.QuoteMeta(rootfs+"/nothing") + `.*05-mount mkrootfs`},
		// state
		{name: "name in use", chapter: "06-net", args: []string{"add", taken}, code: 1, want: taken + ` exists: 06-net del ` + taken + ` first`},
		{name: "unknown name", chapter: "06-net", args: []string{"del", "nslab-none-" + p(os.Getpid())}, code: 1, want: `no such network namespace in /run/netns \(06-net list shows them\)`},
	}
}

func TestBadInputCatalog(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "setpriv", "util-linux")
	bin := t.TempDir()
	os.Chmod(bin, 0o755)

	// A PID that existed and is gone; a process of root's to be refused
	// (this test's own); a netns name that is taken; a root filesystem,
	// so that a bad value to 10-container run is all that stops it.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	taken := fmt.Sprintf("nslab-cat-%d", os.Getpid())
	// It adds the name to the host's /run/netns, and deletes it: not while
	// 06-net's tests, the tour or check-06 use /run/netns.
	nstest.LockNetns(t)
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	cases := catalog(gone.Process.Pid, os.Getpid(), taken, rootfs)
	if len(cases) < 30 {
		t.Fatalf("the catalog has %d cases; it promises at least 30", len(cases))
	}
	// The programs as make build makes them; a case that injects a fault
	// (env) runs the test build, which has the hooks (common/testhooks.go).
	chapters := map[string]string{}
	for _, c := range cases {
		key, tag := c.chapter, ""
		if len(c.env) > 0 {
			key, tag = "nslabtest/"+c.chapter, "nslabtest"
		}
		if chapters[key] == "" {
			dst := filepath.Join(bin, key)
			// A copy, not a link: nobody must be able to run it. In a
			// directory of its own, named as the program, so that its
			// messages say "08-cgroup: ...".
			b, err := os.ReadFile(nstest.ChapterTags(t, c.chapter, tag))
			if err == nil {
				err = os.MkdirAll(filepath.Dir(dst), 0o755)
			}
			if err == nil {
				err = os.WriteFile(dst, b, 0o755)
			}
			if err != nil {
				t.Fatal(err)
			}
			chapters[key] = dst
		}
	}
	add := exec.Command(chapters["06-net"], "add", taken)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("06-net add %s: %v\n%s", taken, err, out)
	}
	t.Cleanup(func() { exec.Command(chapters["06-net"], "del", taken).Run() })
	if out, err := exec.Command(chapters["05-mount"], "mkrootfs", rootfs).CombinedOutput(); err != nil {
		t.Fatalf("05-mount mkrootfs %s: %v\n%s", rootfs, err, out)
	}

	// "Leave nothing behind": the processes each case started are looked
	// for always; the whole host (mounts, netns, links, cgroups, IPC...)
	// is compared before and after each case only where nothing else runs
	// meanwhile: in the guest (one package at a time) and under make soak.
	// Under go test ./... other packages change the host all the time.
	whole := inGuest() || *soakRounds > 0 || *soakInterrupts > 0
	if !whole {
		t.Log("processes only: the whole host is compared in the guest and under make soak")
	}
	for _, c := range cases {
		t.Run(c.chapter+"/"+strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			marker := fmt.Sprintf("NSLAB_CATALOG=%d-%d", os.Getpid(), time.Now().UnixNano())
			var before snapshot
			if whole {
				before = takeSnapshot(t, marker)
			}
			path := chapters[c.chapter]
			if len(c.env) > 0 {
				path = chapters["nslabtest/"+c.chapter]
			}
			cmd := exec.Command(path, c.args...)
			if c.nobody {
				cmd = exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "--", path}, c.args...)...)
				cmd.Dir = "/"
			}
			cmd.Env = append(append(os.Environ(), "NO_COLOR=1", marker), c.env...)
			r := nstest.Run(t, cmd)
			nstest.NoPanic(t, r.Stderr)
			// The usage of a program with sub-commands may take a line
			// each, indented under the first: one usage all the same.
			var lines []string
			for _, l := range strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n") {
				if len(lines) == 2 && strings.HasPrefix(l, " ") {
					continue
				}
				lines = append(lines, l)
			}
			prog := c.prog
			if prog == "" {
				prog = c.chapter
			}
			switch {
			case r.Code != c.code:
				t.Errorf("%v: exit %d, want %d\nstderr:\n%s", c.args, r.Code, c.code, r.Stderr)
			case !strings.HasPrefix(lines[0], prog+": "):
				t.Errorf("%v: first line %q does not start with %q", c.args, lines[0], prog+": ")
			case !regexp.MustCompile(c.want).MatchString(lines[0]):
				t.Errorf("%v: first line %q does not match /%s/", c.args, lines[0], c.want)
			case len(lines) > 2 || len(lines) == 2 && (c.code != 2 || !strings.HasPrefix(lines[1], "usage: "+prog+" ")):
				t.Errorf("%v: %d lines on stderr; want the problem, and for exit 2 the usage:\n%s", c.args, len(lines), r.Stderr)
			case c.usage && len(lines) != 2:
				t.Errorf("%v: no usage line after the problem:\n%s", c.args, r.Stderr)
			}
			if c.stdout == "" && r.Stdout != "" || !regexp.MustCompile(c.stdout).MatchString(r.Stdout) {
				t.Errorf("%v: stdout does not match /%s/:\n%s", c.args, c.stdout, r.Stdout)
			}
			if left := ourProcesses(marker); len(left) > 0 {
				t.Errorf("%v left processes behind: %v", c.args, left)
			}
			// A cgroup is named after the process that made it
			// (nslab-08-PID-quota, nslab-10-PID): none may outlive it.
			if left := cgroupsOf(t, cmd.Process.Pid); len(left) > 0 {
				t.Errorf("%v left cgroups behind: %v", c.args, left)
			}
			if whole {
				if d := before.diff(takeSnapshot(t, marker)); d != "" {
					t.Errorf("%v left the host changed:\n%s", c.args, d)
				}
			}
		})
	}
	// The refused add changed nothing: the name still holds its namespace.
	if out, err := exec.Command(chapters["06-net"], "exec", taken, "true").CombinedOutput(); err != nil {
		t.Errorf("after the refused add, %s no longer works: %v\n%s", taken, err, out)
	}
}

// cgroupsOf lists the cgroups, in every hierarchy, named after process pid.
func cgroupsOf(t testing.TB, pid int) []string {
	mine := regexp.MustCompile(`^nslab-\d+-` + strconv.Itoa(pid) + `(-|$)`)
	var found []string
	for _, p := range nslabCgroups(t) {
		if mine.MatchString(filepath.Base(p)) {
			found = append(found, p)
		}
	}
	return found
}
