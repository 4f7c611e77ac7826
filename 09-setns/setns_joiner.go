// Command 09-setns joins the namespaces of a running process with setns(2).
// This file is the seed's second program, the setns joiner ("代碼2"), line
// for line: join the uts, user, pid, ipc, net and mnt namespaces of PID,
// printing who we are after each, then fork a child to show the PID
// namespace difference. c/setns_joiner.c is the seed's C.
//
//	sudo 09-setns [-hold] PID
//	09-setns clone-bash [-map] [-c CMD]   the seed's first program (clone_bash.go)
//	sudo 09-setns -t PID -aCimnpTuU [cmd]  a small nsenter (runner.go)
//
// One divergence runs through it: a Go program is several threads before
// main, and the kernel lets only a single-threaded process join a user
// namespace. So the setns calls happen in a helper, the "joiner": this
// binary re-executed and held in a C constructor before Go starts
// (nsexec.c, joiner.go). Every other line is Go, in the seed's order.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"nslab/common"
)

func init() {
	// setns(2) moves the calling thread only: keep main on the main thread
	// for good (runner.go joins from it; /proc/PID/ns shows that thread).
	runtime.LockOSThread()
	// The joiner's child leaves the constructor into Go as one of these.
	common.Register("childFunc", childFunc)
	common.Register("runCmd", runCmd)
}

// C: #define MAX_PROCPATH_LEN 1024
// Go strings have no fixed size: the path needs no buffer.

// C: int main(int argc, char *argv[])
func main() {
	common.Dispatch()
	// C: if (argc < 2) { fprintf(stdout, "usage : execname pid(...)\n"); return 0; }
	// Go: a missing or bad PID is one line and exit 2; a process that is
	// gone, or a kernel thread, one line and exit 1. clone-bash and -t PID
	// are the other forms, run from here and never returning (args.go).
	pid, hold := parseArgs(os.Args[1:])

	// Not in the seed: the joiner, which makes the calls a Go program
	// cannot (joiner.go), with two pipes to order our lines with its
	// child's (the seed's processes just print as they go).
	j := startJoiner("childFunc", true)

	// C: printInfo();
	printInfo(j.info)

	// C: fprintf(stdout, "---- setns for uts ----\n");
	fmt.Println("---- setns for uts ----")
	// C: snprintf(uts, MAX_PROCPATH_LEN, "/proc/%s/ns/uts", argv[1]);
	uts := fmt.Sprintf("/proc/%d/ns/uts", pid)
	// C: openAndSetns(uts);
	openAndSetns(j, uts)
	// C: printInfo();
	printInfo(j.info)

	// C: fprintf(stdout, "---- setns for user ----\n");
	fmt.Println("---- setns for user ----")
	// C: snprintf(user, MAX_PROCPATH_LEN, "/proc/%s/ns/user", argv[1]);
	user := fmt.Sprintf("/proc/%d/ns/user", pid)
	// C: openAndSetns(user);
	openAndSetns(j, user)
	// C: printInfo();
	printInfo(j.info)

	// C: // 注意pid namespace的不同行為,只有後續創建的子進程進入setns設置的新的pid namespace,本進程不會改變
	// (Mind the PID namespace: only children created afterwards are in it; this process does not move.)
	// C: fprintf(stdout, "---- setns for pid ----\n");
	fmt.Println("---- setns for pid ----")
	// C: snprintf(pidpath, MAX_PROCPATH_LEN, "/proc/%s/ns/pid", argv[1]);
	pidpath := fmt.Sprintf("/proc/%d/ns/pid", pid)
	// C: openAndSetns(pidpath);
	openAndSetns(j, pidpath)
	// C: printInfo();
	printInfo(j.info)

	// C: fprintf(stdout, "---- setns for ipc ----\n");
	fmt.Println("---- setns for ipc ----")
	// C: snprintf(ipc, MAX_PROCPATH_LEN, "/proc/%s/ns/ipc", argv[1]);
	ipc := fmt.Sprintf("/proc/%d/ns/ipc", pid)
	// C: openAndSetns(ipc);
	openAndSetns(j, ipc)
	// C: printInfo();
	printInfo(j.info)

	// C: fprintf(stdout, "---- setns for net ----\n");
	fmt.Println("---- setns for net ----")
	// C: snprintf(net, MAX_PROCPATH_LEN, "/proc/%s/ns/net", argv[1]);
	net := fmt.Sprintf("/proc/%d/ns/net", pid)
	// C: openAndSetns(net);
	openAndSetns(j, net)
	// C: printInfo();
	printInfo(j.info)

	// C: // 注意mnt namespace需要放在其他後面,避免mnt namespace改變後找不到/proc/pid/ns下的文件
	// (mnt goes last: after it, /proc is the target's and /proc/PID/ns/... may not be found.)
	// Here the Go parent opens every file and never moves, so the order
	// no longer matters for that; it is kept, as nsenter keeps it.
	// C: fprintf(stdout, "---- setns for mount ----\n");
	fmt.Println("---- setns for mount ----")
	// C: snprintf(mount, MAX_PROCPATH_LEN, "/proc/%s/ns/mnt", argv[1]);
	mount := fmt.Sprintf("/proc/%d/ns/mnt", pid)
	// C: openAndSetns(mount);
	openAndSetns(j, mount)
	// C: printInfo();
	printInfo(j.info)

	// C: // 測試子進程的pid namespace   (test the child's PID namespace)
	// C: int ret = fork();
	// Go: the joiner forks; its child goes on into Go, as childFunc.
	ret := j.fork()
	// C: } else { fprintf(stdout, "child pid : %d\n", ret); }
	fmt.Printf("child pid : %d\n", ret)
	j.hs.Release.Write([]byte{1}) // the child may print now

	// C: for (;;) { sleep(5); }   waitpid(ret, NULL, 0);
	// Go: wait for the child's lines, show the kernel's view of the three
	// processes, and end (or, with -hold, wait for Ctrl-C): view.go.
	showKernelView(pid, j, ret, hold)
}

// childFunc is the seed's `ret == 0` branch, in the joiner's child: forked
// after every join, so in all six of the target's namespaces.
func childFunc(args []string) int {
	constructorRan()
	if !common.WaitForParent() { // until "child pid : N" is printed
		return 1
	}
	// C: fprintf(stdout, "********\n");
	fmt.Println("********")
	// C: fprintf(stdout, "in child process\n");
	fmt.Println(common.Child("in child process"))
	// C: printInfo();
	printInfo(ownInfo) // the same lines, from this process
	// C: fprintf(stdout, "********\n");
	fmt.Println("********")
	// C: for (;;) { sleep(5); }
	// Go: stay until the parent has looked at us (for good with -hold).
	common.TellParent()
	common.WaitParentClose()
	return 0
}

// C: void printInfo()
// Go: in the parent the joiner runs the calls (it is the process that
// moves: j.info); the child, a Go process, runs them itself (ownInfo).
func printInfo(info func() (pid, ppid, uid, gid int, host string)) {
	// C: pid = getpid(); uid = getuid(); gid = getgid(); uname(&uts);
	pid, ppid, uid, gid, hostname := info()
	// C: fprintf(stdout, "pid : %d\n", pid);
	fmt.Printf("pid : %d\n", pid)
	fmt.Printf("ppid : %d\n", ppid) // not in the seed: the parent, as seen from here
	// C: fprintf(stdout, "uid : %d\n", uid);
	fmt.Printf("uid : %d\n", uid)
	// C: fprintf(stdout, "gid : %d\n", gid);
	fmt.Printf("gid : %d\n", gid)
	// C: fprintf(stdout, "hostname : %s\n", uts.nodename);
	fmt.Printf("hostname : %s\n", hostname)
}

// C: int openAndSetns(const char *path)
func openAndSetns(j *joiner, path string) {
	// C: int ret = open(path, O_RDONLY, 0);
	f, err := os.Open(path)
	if err != nil {
		// C: fprintf(stderr, "%s\n", strerror(errno)); errorExit("failed to open fd");
		openFailed(path, err) // one line, with the likely cause
	}
	defer f.Close()
	// Not in the seed: a namespace the joiner is in already is skipped.
	// Joining our own user namespace fails (EINVAL), and after joining
	// the target's user namespace we may not rejoin a host namespace.
	name := filepath.Base(path) // uts, user, pid, ipc, net, mnt
	if sameAsOurs(f, name) {
		fmt.Println("(already in this namespace: nothing to join)")
		return
	}
	// C: if (-1 == (ret = setns(ret, 0))) { ...; errorExit("failed to setns"); }
	if err := j.setns(f, 0); err != nil {
		common.ErrExit("setns "+name, err, setnsHint(name, err))
	}
}
