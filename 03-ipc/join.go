// join.go adds -sleep to the session: the child stays in its IPC namespace,
// so that another shell can join it (nsenter -t PID -i) and look.
package main

import (
	"fmt"
	"os"
	"time"

	"nslab/common"
)

func usage() string {
	return common.Prog + " [-sleep DURATION]"
}

// parseFlags parses the command line; the only flag is -sleep.
func parseFlags() time.Duration {
	fs := common.NewFlagSet()
	sleep := fs.Duration("sleep", 0, "how long the child stays in its IPC namespace after listing, e.g. 60s")
	common.ParseFlags(fs, usage(), os.Args[1:])
	if *sleep < 0 {
		common.UsageError(usage(), "-sleep must not be negative, got %v", *sleep)
	}
	return *sleep
}

// stay keeps the child, and so its IPC namespace, alive for sleep (a
// time.Duration as the parent wrote it), and says how to look inside.
func stay(sleep string) {
	d, err := time.ParseDuration(sleep)
	if err != nil {
		common.Fatalf("sh: %v", err)
	}
	if d <= 0 {
		return
	}
	fmt.Printf("%s: staying %v in my IPC namespace; from another shell try\n", common.Child("child"), d)
	fmt.Printf("    nsenter -t %d -i ipcs -m\n", os.Getpid())
	time.Sleep(d)
}
