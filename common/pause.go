//go:build !nslabpause

package common

// PausePoint marks a moment a test stops a program at, to interrupt it
// there (fault.go says why). This is the build of every program make build
// makes: the function is empty and the compiler drops the call; the test
// build is pause_nslabpause.go.
func PausePoint(name string) {}
