package common

import (
	"errors"
	"flag"
	"time"
)

// HoldFlag defines the -hold flag on fs and returns where its value goes.
// Every chapter whose demo can be kept alive, for a look from another
// shell, defines its -hold here: 02-uts, 03-ipc, 04-pid, 06-net (show and
// link), 07-user and 08-cgroup (ns, freeze, memory, pids). So -hold has
// the same name everywhere, the same value (a Go duration such as 60s),
// the same check (negative is refused, with the same line) and a usage
// built the same way: "keep " + what + " this long, to look at it from
// another shell". def is the chapter's default, most often 0.
//
// A value that is not a duration, or is negative, ends the parse with one
// line (ParseFlags) and exit status 2:
//
//	invalid value "30" for flag -hold: want a duration of 0 or more, such as 60s
func HoldFlag(fs *flag.FlagSet, def time.Duration, what string) *time.Duration {
	d := def
	// The backquotes name the value in -h's listing: "-hold duration".
	fs.Var((*holdValue)(&d), "hold", "keep "+what+" this long, to look at it from another shell (a `duration` such as 60s)")
	return &d
}

// holdValue is a time.Duration that refuses to be negative.
type holdValue time.Duration

func (h *holdValue) String() string { return time.Duration(*h).String() }

func (h *holdValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return errors.New("want a duration of 0 or more, such as 60s")
	}
	*h = holdValue(d)
	return nil
}
