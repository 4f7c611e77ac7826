package main

// The joiner adds what Go cannot do itself: a single-threaded process (the C
// constructor in nsexec.c) that calls setns for us, one request at a time.

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// specEnv names, for the constructor, the joiner's end of the socket pair.
const specEnv = "NSLAB_SETNS"

// joiner is this binary re-executed, held in its C constructor: it never
// reaches the Go runtime, but its child, forked on request, does.
type joiner struct {
	ctl   int // our end of a SOCK_SEQPACKET pair: one message each way per request
	child *common.ChildProc
	hs    *common.Handshake // with the joiner's child, if asked for
}

// startJoiner re-executes this binary as role, with the handshake pipes (if
// asked for) as fd 3 and 4 and the socket after them. SOCK_SEQPACKET keeps
// each request and answer one message, descriptors attached.
func startJoiner(role string, handshake bool, args ...string) *joiner {
	if !haveConstructor {
		common.Fatalf("joining a user or time namespace (the seed joiner, -U, -T) needs the C constructor, and this binary was built without cgo: rebuild it with gcc installed and CGO_ENABLED=1 (the default when gcc is there)")
	}
	cmd := common.Command(role, args...)
	var hs *common.Handshake
	if handshake {
		hs = common.NewHandshake(cmd)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		common.ErrExit("socketpair", err)
	}
	theirs := os.NewFile(uintptr(fds[1]), "joiner")
	cmd.ExtraFiles = append(cmd.ExtraFiles, theirs)
	// ExtraFiles[i] is descriptor 3+i in the child.
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", specEnv, 2+len(cmd.ExtraFiles)))
	child, err := common.StartChild(cmd)
	theirs.Close()
	if err != nil {
		common.ErrExit("starting the joiner", err)
	}
	if hs != nil {
		hs.Started()
	}
	return &joiner{ctl: fds[0], child: child, hs: hs}
}

// ask sends one request (with a descriptor in rights, if any) and returns
// the answer's n fields after its errno. The C separates them with one
// blank each, and the last takes the rest of the line: a nodename may hold
// blanks, or be empty.
func (j *joiner) ask(req string, rights []byte, n int) ([]string, error) {
	if err := unix.Sendmsg(j.ctl, []byte(req), rights, nil, unix.MSG_NOSIGNAL); err != nil {
		j.exit()
	}
	buf := make([]byte, 256)
	got, err := unix.Read(j.ctl, buf)
	if err != nil || got == 0 {
		j.exit()
	}
	f := strings.SplitN(string(buf[:got]), " ", n+1)
	errno, err := strconv.Atoi(f[0])
	switch {
	case err != nil || errno == 0 && len(f) != n+1:
		common.ErrExit("the joiner's answer to "+req, unix.EPROTO)
	case errno != 0:
		return nil, unix.Errno(errno)
	}
	return f[1:], nil
}

// exit waits for the joiner and ends the program with its status: the
// child's it passes on, or its own if it died (or never started its
// constructor). It does not return.
func (j *joiner) exit() {
	common.Exit(common.ExitStatus(j.child.Wait()))
}

// setns asks the joiner to call setns(fd, flag).
func (j *joiner) setns(f *os.File, flag uintptr) error {
	_, err := j.ask(fmt.Sprintf("s %d", flag), unix.UnixRights(int(f.Fd())), 0)
	return err
}

// info is the joiner's getpid, getppid, getuid, getgid and uname nodename.
func (j *joiner) info() (pid, ppid, uid, gid int, host string) {
	f, err := j.ask("i", nil, 5)
	if err != nil {
		common.ErrExit("asking the joiner who it is", err)
	}
	n := make([]int, 4)
	for i := range n {
		n[i], _ = strconv.Atoi(f[i])
	}
	return n[0], n[1], n[2], n[3], f[4]
}

// ownInfo is info for the calling process itself: the joiner's child.
func ownInfo() (pid, ppid, uid, gid int, host string) {
	host, err := common.Hostname()
	if err != nil {
		host = "? (" + err.Error() + ")"
	}
	return unix.Getpid(), unix.Getppid(), unix.Getuid(), unix.Getgid(), host
}

// fork asks the joiner to fork; the child goes on into Go as the role
// startJoiner named. It returns the child's PID, as the joiner sees it.
func (j *joiner) fork() int {
	f, err := j.ask("f", nil, 1)
	if err != nil {
		common.ErrExit("fork", err)
	}
	unix.Close(j.ctl)
	pid, _ := strconv.Atoi(f[0])
	return pid
}

// constructorRan guards the roles: NSLAB_SETNS still set means that no
// constructor read it, so nothing was joined.
func constructorRan() {
	if os.Getenv(specEnv) != "" {
		common.Fatalf("%s is still set: the C constructor did not run (was the program built without cgo?)", specEnv)
	}
}
