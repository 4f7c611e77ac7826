// cli.go adds the command line around the session: the sub-commands,
// show's flags and the checks of a NAME (link reads its own, in link.go).

package main

import (
	"path/filepath"
	"strings"
	"time"

	"nslab/common"
)

// showFlags parses show's command line: -hold D.
func showFlags(args []string) time.Duration {
	fs := common.NewFlags(common.Prog + " show [-hold D]")
	hold := fs.Hold(0, "the child and its network namespace, after printing,")
	fs.Parse(args)
	return *hold
}

// nameArg parses a sub-command's command line (it has no flags but -h)
// and checks its NAME the way iproute2 does: it becomes a file name in
// /run/netns, so no "/", no "." or "..", nothing empty or too long. It
// returns NAME, its path /run/netns/NAME, and the arguments from NAME on,
// which must number n (-1: any).
func nameArg(usage string, args []string, n int) (string, string, []string) {
	args = common.NewFlags(usage).ParseArgs(args)
	if len(args) == 0 {
		common.UsageError(usage, "missing NAME")
	}
	switch name := args[0]; {
	case name == "":
		common.UsageError(usage, "NAME must not be empty")
	case name == "." || name == "..":
		common.UsageError(usage, "%q is not a valid NAME", name)
	case strings.Contains(name, "/"):
		common.UsageError(usage, "NAME %q must not contain '/': it is a file name in %s", name, netnsRunDir)
	case len(name) >= 255: // NAME_MAX, as iproute2 checks it
		common.UsageError(usage, "NAME is %d bytes long; a file name has at most 254 here", len(name))
	case n >= 0 && len(args) > n:
		common.UsageError(usage, "unexpected argument %q", args[n])
	}
	return args[0], filepath.Join(netnsRunDir, args[0]), args
}

func main() {
	common.Dispatch()
	common.SubCommands{
		{"show", show}, {"add", netnsAdd}, {"list", netnsList},
		{"exec", netnsExec}, {"del", netnsDel}, {"link", link},
	}.Run(common.Prog + ` show [-hold D]
       ` + common.Prog + ` add NAME | list | exec NAME cmd [arg...] | del NAME
       ` + common.Prog + ` link [-hold D] [-move]`)
}
