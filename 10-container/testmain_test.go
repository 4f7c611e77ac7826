package main

import (
	"testing"

	"nslab/common/nstest"
)

// TestMain lets the test binary be 10-container (nstest.Program). It sits
// alone in this file so that it can go once main_test.go has its own.
func TestMain(m *testing.M) { nstest.Main(m, main) }
