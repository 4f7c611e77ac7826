//go:build !cgo

package main

// Built with CGO_ENABLED=0 (or without gcc), the program has no
// constructor: nsexec.c carries the same build constraint. Everything that
// Go can join still works; the user and time namespaces, and the seed
// joiner, say how to get them.
const haveConstructor = false
