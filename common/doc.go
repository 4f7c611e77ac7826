// Package common holds what two or more nslab chapters share: the re-exec
// pattern that stands in for C's clone(childFunc, ...), the C-style errExit,
// printInfo, the namespace inspector, preflight checks, a tiny getopt, one
// sub-command dispatcher (subcommands.go), cleanup that also runs on
// Ctrl-C, and cgroups on v1 and v2: where the hierarchies are (cgroup.go)
// and one cgroup of a program (group.go).
//
// Nothing chapter-specific lives here: if only one chapter needs it, it stays
// in that chapter's main.go where a learner reading the port will see it.
package common
