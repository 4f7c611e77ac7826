package main

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// The cost of CLONE_NEWUSER in Go: os/exec clones with CLONE_VFORK|CLONE_VM
// (the child borrows the parent's memory until it execs) unless a user
// namespace is asked for; then it is a plain fork that copies the page
// tables (/usr/local/go/src/syscall/exec_linux.go, forkAndExecInChild1).
//
//	go test -run XXX -bench . -benchtime 200x ./07-user
//
// The "+heap" cases first give the parent 256 MiB of touched memory: a
// fork's page-table copy grows with it, a vfork's does not.

func BenchmarkSpawnTrue(b *testing.B) {
	uid, gid := os.Getuid(), os.Getgid()
	cases := []struct {
		name string
		attr func() *unix.SysProcAttr
		heap bool
	}{
		{"plain", func() *unix.SysProcAttr { return nil }, false},
		{"newuser", func() *unix.SysProcAttr { return &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER} }, false},
		{"newuser+maps", func() *unix.SysProcAttr {
			a := &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER}
			a.UidMappings = append(a.UidMappings, idMap{ContainerID: 0, HostID: uid, Size: 1})
			a.GidMappings = append(a.GidMappings, idMap{ContainerID: 0, HostID: gid, Size: 1})
			return a
		}, false},
		{"plain+heap", func() *unix.SysProcAttr { return nil }, true},
		{"newuser+heap", func() *unix.SysProcAttr { return &unix.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER} }, true},
	}
	if err := exec.Command("/bin/true").Run(); err != nil {
		b.Skipf("cannot run /bin/true: %v", err)
	}
	probe := exec.Command("/bin/true")
	probe.SysProcAttr = cases[1].attr()
	if err := probe.Run(); err != nil {
		b.Skipf("cannot create a user namespace here: %v", err)
	}
	var heap []byte
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if c.heap && heap == nil {
				heap = make([]byte, 256<<20)
				for i := 0; i < len(heap); i += 4096 {
					heap[i] = 1 // touch every page
				}
			}
			b.ResetTimer() // not the heap's set-up
			for i := 0; i < b.N; i++ {
				cmd := exec.Command("/bin/true")
				cmd.SysProcAttr = c.attr()
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if heap != nil {
		heap[0]++ // keep it alive to the end
	}
}
