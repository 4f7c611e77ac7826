package main

// The command line adds the forms beyond the seed's `09-setns PID`: -hold,
// the -t PID runner, -go-only, and the clone-bash sub-command.

import (
	"cmp"
	"fmt"
	"os"
	"strconv"
	"strings"

	"nslab/common"
)

func usage() string {
	return common.Prog + " [-hold] PID | " + common.Prog + " [-go-only] -t PID [-aCimnpTuU] [cmd [arg...]] | " +
		common.Prog + " clone-bash [-map] [-c CMD]"
}

// parseArgs reads the command line. The seed's form, `09-setns [-hold]
// PID`, returns the PID (and -hold). The other two run from here and never
// return: clone-bash, and the runner's `09-setns [-go-only] -t PID
// [-aCimnpTuU] [cmd [arg...]]`, which runs the command (the user's shell if
// none) in the namespaces wanted, in runOrder. -hold and -go-only are words,
// as Go's flags are; the runner's one-letter options go through
// common.Getopt with '+': parsing stops at the command, which keeps its own
// options.
func parseArgs(args []string) (pid int, hold bool) {
	if len(args) > 0 && args[0] == "clone-bash" {
		cloneBash(args[1:])
	}
	args, hold, goOnly := takeWords(args)
	pid, run, want, rest := getopts(args)
	if run {
		switch {
		case hold:
			common.UsageError(usage(), "-hold goes with the seed form (%s -hold PID); with -t the command decides how long it runs", common.Prog)
		case want == 0:
			common.UsageError(usage(), "no namespace chosen: add -a for all, or some of -C -i -m -n -p -T -u -U")
		case len(rest) == 0:
			rest = []string{cmp.Or(os.Getenv("SHELL"), "/bin/sh")}
		}
		nsenter(pid, want, goOnly, rest) // never returns
	}
	// The seed's form.
	switch {
	case want != 0:
		common.UsageError(usage(), "namespace options need -t PID (the seed form joins its six itself)")
	case goOnly:
		common.UsageError(usage(), "-go-only goes with -t PID: the seed form always needs the constructor")
	case len(rest) == 0:
		common.UsageError(usage(), "missing PID")
	case len(rest) > 1:
		common.UsageError(usage(), "unexpected argument %q after the PID (options go first)", rest[1])
	}
	pid = parsePID(rest[0])
	checkTarget(pid)
	return pid, hold
}

// getopts reads the one-letter options: -h, -t PID (run is whether it was
// there) and the namespaces wanted, as CLONE_NEW* flags. rest is what
// follows them.
func getopts(args []string) (pid int, run bool, want uintptr, rest []string) {
	opts, rest, err := common.Getopt(args, "+ht:aCimnpTuU")
	if err != nil {
		for _, a := range args {
			if _, nerr := strconv.Atoi(a); nerr == nil && a[0] == '-' {
				parsePID(a) // "09-setns -1" is a bad PID, not an option
			}
		}
		common.UsageError(usage(), "%v", err)
	}
	for _, o := range opts {
		switch o.Letter {
		case 'h':
			fmt.Printf("usage: %s\n", usage())
			common.Exit(0)
		case 't':
			run, pid = true, parsePID(o.Arg)
		case 'a':
			for _, ns := range common.Namespaces {
				if ns.InKernel() {
					want |= ns.Flag
				}
			}
		default:
			ns, _ := common.NSByLetter(o.Letter)
			want |= ns.Flag
		}
	}
	return pid, run, want, rest
}

// takeWords takes -hold and -go-only out of the options (before the PID or
// the command), leaving getopt the one-letter options.
func takeWords(args []string) (rest []string, hold, goOnly bool) {
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-hold", "--hold":
			hold = true
			continue
		case "-go-only", "--go-only":
			goOnly = true
			continue
		case "-help", "--help":
			a = "-h"
		}
		if a == "--" || len(a) < 2 || a[0] != '-' {
			break
		}
		rest = append(rest, a)
		// -t PID, also at the end of a group (-ut PID): keep its value.
		if strings.IndexByte(a[1:], 't') == len(a)-2 && i+1 < len(args) {
			i++
			rest = append(rest, args[i])
		}
	}
	return append(rest, args[i:]...), hold, goOnly
}

func parsePID(s string) int {
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		common.UsageError(usage(), "PID must be a positive number, got %q", s)
	}
	return pid
}
