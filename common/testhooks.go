//go:build !nslabtest

package common

// Test hooks: what the tests need a program to do that a learner's program
// never does. They exist only in a test build (go build -tags nslabtest,
// testhooks_nslabtest.go; nstest.ChapterTags builds it): in every program
// make build makes, this file's empty functions are all there is, the
// compiler drops their calls, and the binary holds no hook.
//
//   - Fault injection: the tests make a program act as if the machine
//     lacked something, to check the one line a learner on such a machine
//     gets, without breaking the test machine. The common functions the
//     chapters call anyway (Namespace.InKernel, StartChild, the cgroup
//     discovery) ask injected.
//   - Pause points: a test interrupts a program at one exact moment
//     (lab/soak_test.go TestInterruptAt), between two changes of the host
//     that must not be parted, where a random Ctrl-C hits only now and
//     then. A chapter calls PausePoint("name") there.

// PausePoint marks a moment a test stops a program at, to interrupt it.
//
// Used by 06-net.
func PausePoint(name string) {}

// injected reports whether a test asks for KIND:NAME to be missing (kind
// "ns", "controller"; or "userns", "disabled"): never, here.
func injected(kind, name string) bool { return false }
