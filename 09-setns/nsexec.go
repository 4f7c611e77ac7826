//go:build cgo

// The import of "C" below is all it takes for the go command to compile
// nsexec.c into this program (and into its test binary) with gcc. Nothing
// here calls C: the C runs by itself, as a constructor, before the Go
// runtime starts. See nsexec.c for the boundary between the two.
package main

import "C"

// haveConstructor says that nsexec.c is in this binary.
const haveConstructor = true
