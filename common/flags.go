package common

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Flags is a chapter program's command line: a flag set of its own, not
// flag.CommandLine (the test binary registers its -test.* flags there and
// runs the chapter's main), and the usage its messages print. Every chapter
// with options, and lab/bench, parses them with it.
//
// Used by lab/bench and every chapter but 01-clone.
type Flags struct {
	*flag.FlagSet
	usage string
}

// NewFlags returns an empty command line for usage. It is silent: Parse
// turns an error into one line.
//
// Used by lab/bench and every chapter but 01-clone.
func NewFlags(usage string) *Flags {
	fs := flag.NewFlagSet(Prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &Flags{fs, usage}
}

// Parse parses args. -h prints the usage and the flags on stdout and exits
// 0; a bad flag or any argument left over prints one line and the usage on
// stderr and exits 2. A usage of several lines (a program with
// sub-commands) is printed whole for -h, and its first line only with an
// error.
func (f *Flags) Parse(args []string) {
	if rest := f.ParseArgs(args); len(rest) > 0 {
		UsageError(f.usage, "unexpected argument %q", rest[0])
	}
}

// ParseArgs is Parse for a program that takes arguments after its flags:
// it returns them, for the caller to check.
func (f *Flags) ParseArgs(args []string) []string {
	if err := f.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Printf("usage: %s\n", strings.ReplaceAll(f.usage, "\n", "\n       "))
			f.SetOutput(os.Stdout)
			f.PrintDefaults()
			Exit(0)
		}
		UsageError(f.usage, "%v", err)
	}
	return f.Args()
}

// Hold defines the -hold flag and returns where its value goes. Every
// chapter whose demo can be kept alive, for a look from another shell,
// defines its -hold here: 02-uts, 03-ipc, 04-pid, 06-net (show and link),
// 07-user and 08-cgroup (ns, freeze, memory, pids). So -hold has the same
// name everywhere, the same value (a Go duration such as 60s), the same
// check (negative is refused, with the same line) and a usage built the
// same way: "keep " + what + " this long, to look at it from another
// shell". def is the chapter's default, most often 0.
//
// A value that is not a duration, or is negative, ends the parse with one
// line and exit status 2:
//
//	invalid value "30" for flag -hold: want a duration of 0 or more, such as 60s
func (f *Flags) Hold(def time.Duration, what string) *time.Duration {
	d := def
	// The backquotes name the value in -h's listing: "-hold duration".
	f.Var((*holdValue)(&d), "hold", "keep "+what+" this long, to look at it from another shell (a `duration` such as 60s)")
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
