package common

import (
	"os"

	"github.com/fatih/color"
	"golang.org/x/sys/unix"
)

// IsTerminal reports whether fd is a terminal (TCGETS succeeds only on a
// tty): where a program may redraw a line or use colors.
//
// Used by 08-cgroup, 09-setns and lab/bench.
func IsTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// fatih/color already turns itself off when stdout is not a terminal, when
// NO_COLOR is set or TERM=dumb. Errors go to stderr, so they get their own
// check: `prog 2>log` must not fill the log with escape codes.
var (
	errColor  = color.New(color.FgRed, color.Bold)
	warnColor = color.New(color.FgYellow)
)

func init() {
	_, noColor := os.LookupEnv("NO_COLOR")
	if noColor || os.Getenv("TERM") == "dumb" || !IsTerminal(2) {
		errColor.DisableColor()
		warnColor.DisableColor()
	}
}

// Colors used on stdout by the chapters, so the whole workshop looks alike.
var (
	Parent = color.New(color.FgCyan).SprintFunc()  // things seen from the parent
	Child  = color.New(color.FgGreen).SprintFunc() // things seen from the child
	Differ = color.New(color.FgMagenta, color.Bold).SprintFunc()
	Dim    = color.New(color.Faint).SprintFunc()
)
