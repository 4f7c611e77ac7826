package common

import (
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// The C programs order parent and child with pipes: the child says "ready"
// (its namespace is set up, its lines are printed), the parent says "go on"
// (it has looked at the child, or written its uid map). Handshake is that
// pair of pipes. In the child they are file descriptors readyFD and
// releaseFD (NewHandshake puts them there); Dispatch makes
// both close-on-exec there, so that no program the child executes (ps,
// sleep, a container's command) inherits them.
const (
	readyFD   = 3 // child -> parent: write a byte when ready
	releaseFD = 4 // parent -> child: the parent writes or closes its end
)

// Handshake holds the parent's ends: Ready to read the child's byte,
// Release to write or close when the child may go on.
//
// Used by every chapter but 01-clone.
type Handshake struct {
	Ready, Release   *os.File
	readyW, releaseR *os.File
}

// NewHandshake makes the two pipes and gives cmd the child's ends, as its
// fd 3 and fd 4 (cmd.ExtraFiles, which it sets: call it before adding
// others), or exits with one line if it can't.
//
// Used by every chapter but 01-clone.
func NewHandshake(cmd *exec.Cmd) *Handshake {
	var h Handshake
	var err error
	if h.Ready, h.readyW, err = os.Pipe(); err != nil {
		ErrExit("pipe", err)
	}
	if h.releaseR, h.Release, err = os.Pipe(); err != nil {
		ErrExit("pipe", err)
	}
	cmd.ExtraFiles = []*os.File{h.readyW, h.releaseR}
	return &h
}

// Started closes the parent's copies of the child's ends, so that reading
// Ready sees EOF if the child dies before it is ready.
func (h *Handshake) Started() {
	h.readyW.Close()
	h.releaseR.Close()
}

// WaitReady waits for the child's byte; false means EOF: the child is gone.
func (h *Handshake) WaitReady() bool {
	n, _ := h.Ready.Read(make([]byte, 1))
	return n == 1
}

// MustBeReady waits for the child's byte. End-of-file means the child died
// before it sent it: it is reaped, and the program ends with one line that
// names it (who, "the child") and how it ended.
func (h *Handshake) MustBeReady(child *ChildProc, who string) {
	if h.WaitReady() {
		return
	}
	child.Wait()
	Fatalf("%s failed before it was ready (%s)", who, child.Cmd.ProcessState)
}

// The child's half. A re-executed child finds the two pipes at readyFD and
// releaseFD (NewHandshake put them there).

// TellParent writes one byte to the parent: "ready" (the parent's
// WaitReady returns true). A child with several phases calls it once a
// phase.
//
// Used by 02-uts, 04-pid, 06-net, 07-user, 08-cgroup and 09-setns.
func TellParent() {
	if _, err := unix.Write(readyFD, []byte{1}); err != nil {
		ErrExit("telling the parent", err)
	}
}

// WaitForParent reads one byte from the parent; false means the parent
// closed its end (or died) instead.
//
// Used by 07-user, 08-cgroup, 09-setns and 10-container.
func WaitForParent() bool {
	var b [1]byte
	for {
		n, err := unix.Read(releaseFD, b[:])
		if err == unix.EINTR {
			continue
		}
		return n == 1
	}
}

// WaitParentClose waits until the parent closes its end of the release
// pipe (Release.Close()), or dies; then closes ours.
//
// Used by 02-uts, 03-ipc, 04-pid, 05-mount, 06-net, 07-user, 08-cgroup
// and 09-setns.
func WaitParentClose() {
	for WaitForParent() {
	}
	unix.Close(releaseFD)
}
