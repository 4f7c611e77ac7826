// 01-clone: the clone(2) system call and its flags, ported from two classic
// C programs:
//
//	01-clone t_clone [x]            — CLONE_FILES: a child that shares the fd table
//	01-clone ns_child_exec [opts] cmd — CLONE_NEW*: run cmd in new namespaces
//
// Each is the file named after it (t_clone.go, ns_child_exec.go), which
// follows its C in c/ step by step. rawclone.go is the clone() that Go
// lacks; signals.go is what ns_child_exec's parent adds to the C's.
package main

import "nslab/common"

func main() {
	common.SubCommands{
		{"t_clone", program("t_clone", tClone)},
		{"ns_child_exec", program("ns_child_exec", nsChildExec)},
	}.Run(common.Prog + " t_clone [x]\n       " +
		common.Prog + " ns_child_exec [-C] [-i] [-m] [-n] [-p] [-u] [-U] [-T] [-v] cmd [arg...]")
}

// program runs a sub-program as the C program it ports: like the C
// programs, each names itself in its messages (common.Prog is its argv[0])
// and reads its own argv.
func program(name string, run func(argv []string)) func(args []string) {
	return func(args []string) {
		common.Prog = name
		run(append([]string{name}, args...))
	}
}
