package common

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// NewFlagSet returns the flag set a chapter program parses its options
// with. Its own, not flag.CommandLine: the test binary registers its
// -test.* flags there and runs the chapter's main. Silent: ParseFlags turns
// an error into one line.
func NewFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(Prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// ParseFlags parses args with fs. -h prints the usage and the flags on
// stdout and exits 0; a bad flag or any argument left over prints one line
// and the usage on stderr and exits 2. A usage of several lines (a program
// with sub-commands) is printed whole for -h, and its first line only with
// an error.
func ParseFlags(fs *flag.FlagSet, usage string, args []string) {
	if rest := ParseFlagsArgs(fs, usage, args); len(rest) > 0 {
		UsageError(usage, "unexpected argument %q", rest[0])
	}
}

// ParseFlagsArgs is ParseFlags for a program that takes arguments after
// its flags: it returns them, for the caller to check.
func ParseFlagsArgs(fs *flag.FlagSet, usage string, args []string) []string {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Printf("usage: %s\n", strings.ReplaceAll(usage, "\n", "\n       "))
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			Exit(0)
		}
		UsageError(usage, "%v", err)
	}
	return fs.Args()
}
