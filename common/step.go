package common

import "fmt"

// Step prints what the next lines do, as the shell command that would do
// the same, with why in a dim comment: "+ mount -t proc proc /proc  # why".
// It is the one step printer of the workshop; colour cmd (Child(cmd)) to
// say whose step it is.
func Step(cmd, why string) {
	if why == "" {
		fmt.Println(Dim("+ ") + cmd)
		return
	}
	fmt.Printf("%s%s  %s\n", Dim("+ "), cmd, Dim("# "+why))
}
