package common

import (
	"os"
	"strings"
)

// Fault injection: the one place where the tests make a program act as if
// the machine lacked something, so that they can check the one line a
// learner on such a machine gets, without breaking the test machine. No
// chapter mentions it: the common functions the chapters call anyway
// (MissingNamespaces, StartChild, the cgroup discovery) ask simulated.
//
//	NSLAB_SIMULATE_MISSING="ns:time controller:cpu"  a namespace type or a
//	                                                 cgroup controller is absent
//	NSLAB_SIMULATE_USERNS_DISABLED=1                 clone(CLONE_NEWUSER) fails
//	                                                 with EPERM, as when a sysctl
//	                                                 forbids user namespaces
//
// Beside it, pause points, for the tests that must interrupt a program at
// one exact moment (lab/soak_test.go TestInterruptAt): between two changes
// of the host that must not be parted, where a random Ctrl-C hits only now
// and then. A chapter calls common.PausePoint("name") there. In the
// programs make build makes, pause.go's PausePoint is empty, and the call
// compiles to nothing: no learner's binary holds a hook. A test builds the
// chapter with -tags nslabpause (nstest.ChapterTags), whose PausePoint
// (pause_nslabpause.go) stops the program there under NSLAB_PAUSE=name
// until the test's signal comes.
const (
	simulateMissingEnv = "NSLAB_SIMULATE_MISSING"
	simulateUserNSEnv  = "NSLAB_SIMULATE_USERNS_DISABLED"
)

// simulated reports whether the environment asks for KIND:NAME to be
// missing (kind "ns", "controller"; or "userns", "disabled").
func simulated(kind, name string) bool {
	if kind == "userns" && name == "disabled" {
		return os.Getenv(simulateUserNSEnv) == "1"
	}
	for _, w := range strings.Fields(os.Getenv(simulateMissingEnv)) {
		if w == kind+":"+name {
			return true
		}
	}
	return false
}
