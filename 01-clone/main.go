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

import (
	"fmt"
	"os"

	"nslab/common"
)

func usage() {
	fmt.Fprintf(os.Stderr, "usage: %s t_clone [x]\n", common.Prog)
	fmt.Fprintf(os.Stderr, "       %s ns_child_exec [-C] [-i] [-m] [-n] [-p] [-u] [-U] [-T] [-v] cmd [arg...]\n", common.Prog)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, "%s: missing program: choose t_clone or ns_child_exec\n", common.Prog)
		usage()
	}
	// Like the C programs, each sub-program names itself in its messages.
	common.Prog = os.Args[1]
	switch os.Args[1] {
	case "t_clone":
		tClone(os.Args[1:])
	case "ns_child_exec":
		nsChildExec(os.Args[1:])
	default:
		common.Prog = "01-clone"
		fmt.Fprintf(os.Stderr, "%s: unknown program %q: choose t_clone or ns_child_exec\n", common.Prog, os.Args[1])
		usage()
	}
}
