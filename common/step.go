package common

import "fmt"

// Step prints what the next lines do, as the shell command that would do
// the same, with why in a dim comment: "+ mount -t proc proc /proc  # why".
// It is the one step printer of the workshop; colour cmd (Child(cmd)) to
// say whose step it is.
//
// Used by 03-ipc, 05-mount, 06-net, 08-cgroup and 10-container.
func Step(cmd, why string) {
	if why == "" {
		fmt.Println(Dim("+ ") + cmd)
		return
	}
	fmt.Printf("%s%s  %s\n", Dim("+ "), cmd, Dim("# "+why))
}

// Did follows a call that does a step: if err says it failed, the program
// ends with one line naming cmd (ErrExit, with the hint if one is given);
// otherwise cmd is printed as a step, coloured by whose it is (Child,
// Parent; fmt.Sprint for a step of no one's colour):
// Did(Child, "mount --make-rprivate /", why, MakeMountsPrivate()).
//
// Used by 05-mount, 08-cgroup and 10-container.
func Did(who func(...any) string, cmd, why string, err error, hint ...string) {
	if err != nil {
		ErrExit(cmd, err, hint...)
	}
	Step(who(cmd), why)
}
