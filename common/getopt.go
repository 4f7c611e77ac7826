package common

import (
	"fmt"
	"strings"
)

// Opt is one option found by Getopt: its letter and, for options declared
// with a colon, its argument.
//
// Used by 01-clone and 09-setns.
type Opt struct {
	Letter byte
	Arg    string
}

// Getopt parses args the way glibc's getopt(3) does with a leading '+' in
// optstring: short options, which may be bundled (-iu), and option arguments
// attached (-t123) or separate (-t 123). Parsing stops at "--" or at the
// first argument that is not an option, so the command a program runs keeps
// its own options (ns_child_exec -p ls -l). The error reads like getopt's.
//
// Used by 01-clone and 09-setns.
func Getopt(args []string, optstring string) (opts []Opt, rest []string, err error) {
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			k := strings.IndexByte(optstring, c) // getopt's strchr(optstring, c)
			if k < 0 || c == '+' || c == ':' {
				return nil, nil, fmt.Errorf("invalid option -- '%c'", c)
			}
			if k+1 == len(optstring) || optstring[k+1] != ':' {
				opts = append(opts, Opt{Letter: c})
				continue
			}
			if j+1 < len(a) {
				opts = append(opts, Opt{Letter: c, Arg: a[j+1:]})
			} else if i+1 < len(args) {
				i++
				opts = append(opts, Opt{Letter: c, Arg: args[i]})
			} else {
				return nil, nil, fmt.Errorf("option requires an argument -- '%c'", c)
			}
			break
		}
	}
	return opts, args[i:], nil
}
