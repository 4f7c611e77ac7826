package main

// options.go is beyond the seed: nslab's command line. The seed takes its
// hostname as argv[1] and nothing else; nslab adds -hold and checks the
// command line before it creates anything.

import (
	"os"
	"time"

	"nslab/common"
)

// parseArgs returns the child's hostname (the seed's argv[1]) and how long
// the child keeps its namespace open (-hold). A mistake gets one line and
// exit status 2.
func parseArgs() (hostname string, sleep time.Duration) {
	usage := common.Prog + " [-hold D] <child-hostname>"
	fs := common.NewFlags(usage)
	// -hold's default, 1000s, is the seed's sleep(1000) in the child (the
	// C always sleeps that long); -hold 0 does not sleep at all.
	s := fs.Hold(1000*time.Second, "the child and its UTS namespace")
	fs.ParseArgs(os.Args[1:])
	switch {
	case fs.NArg() == 0:
		// The C prints its usage and exits 0 (EXIT_SUCCESS). We exit 2, the
		// convention for a bad command line, so scripts and tests can tell
		// "did nothing" from "worked".
		common.UsageError(usage, "missing <child-hostname>")
	case fs.NArg() > 1:
		// The C ignores extra arguments. Go's flag stops at the first
		// non-flag, so `02-uts myhost -hold 0` would silently drop -hold.
		common.UsageError(usage, "unexpected argument %q after <child-hostname> (flags go first)", fs.Arg(1))
	case len(fs.Arg(0)) > common.HostNameMax:
		// The C finds out from sethostname's EINVAL in the child; we say
		// what is wrong before creating anything.
		common.UsageError("", "child hostname is %d bytes long; the kernel allows at most %d", len(fs.Arg(0)), common.HostNameMax)
	}
	return fs.Arg(0), *s
}
