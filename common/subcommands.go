package common

import (
	"fmt"
	"os"
	"strings"
)

// SubCommands are the sub-commands of a program whose first argument says
// what it does, in the order its messages list them: 01-clone (t_clone,
// ns_child_exec), 06-net (show, add, ...), 08-cgroup (ns, quota, ...) and
// 10-container (run). Programs whose first argument may instead be the
// seed's own (04-pid N, 05-mount cmd, 09-setns PID) read it themselves.
//
// Used by 01-clone, 06-net, 08-cgroup and 10-container.
type SubCommands []struct {
	Name string
	Run  func(args []string) // args: what follows the name
}

// Run runs the sub-command os.Args[1] names with the arguments after it,
// and exits 0 if it returns. -h, -help, --help and help print "usage: "
// and usage on stdout, exit 0. A missing or unknown sub-command is one line
// that names it and the choices, then usage's first line: exit 2.
func (subs SubCommands) Run(usage string) {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.Name
	}
	choices := names[len(names)-1]
	if len(names) > 1 {
		choices = strings.Join(names[:len(names)-1], ", ") + " or " + choices
	}
	if len(os.Args) < 2 {
		UsageError(usage, "missing sub-command: choose %s", choices)
	}
	name, args := os.Args[1], os.Args[2:]
	for _, s := range subs {
		if s.Name == name {
			s.Run(args)
			Exit(0)
		}
	}
	switch name {
	case "-h", "-help", "--help", "help":
		fmt.Printf("usage: %s\n", usage)
		Exit(0)
	}
	UsageError(usage, "unknown sub-command %q: choose %s", name, choices)
}
