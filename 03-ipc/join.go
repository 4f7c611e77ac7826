// join.go adds -hold to the session: the child stays in its IPC namespace,
// so that another shell can join it (nsenter -t PID -i) and look.
package main

import (
	"fmt"
	"os"
	"time"

	"nslab/common"
)

// parseFlags parses the command line; the only flag is -hold.
func parseFlags() time.Duration {
	fs := common.NewFlags(common.Prog + " [-hold DURATION]")
	hold := fs.Hold(0, "the child in its IPC namespace, after listing,")
	fs.Parse(os.Args[1:])
	return *hold
}

// stay keeps the child, and so its IPC namespace, alive for hold (a
// time.Duration as the parent wrote it), and says how to look inside.
func stay(hold string) {
	d, _ := time.ParseDuration(hold) // the parent's -hold: parsed there
	if d <= 0 {
		return
	}
	fmt.Printf("%s: staying %v in my IPC namespace; from another shell try\n", common.Child("child"), d)
	fmt.Printf("    nsenter -t %d -i ipcs -m\n", os.Getpid())
	time.Sleep(d)
}
