package common

import (
	"bytes"
	"testing"
	"time"
)

func TestFlagsHold(t *testing.T) {
	for _, tc := range []struct {
		args []string
		def  time.Duration
		want time.Duration
		err  string // in fs.Parse's error; "" for none
	}{
		{nil, 0, 0, ""},
		{nil, 1000 * time.Second, 1000 * time.Second, ""},
		{[]string{"-hold", "60s"}, 0, time.Minute, ""},
		{[]string{"-hold=0"}, time.Second, 0, ""},
		{[]string{"-hold", "30"}, 0, 0, `invalid value "30" for flag -hold: want a duration of 0 or more, such as 60s`},
		{[]string{"-hold", "-1s"}, 0, 0, `invalid value "-1s" for flag -hold: want a duration of 0 or more, such as 60s`},
	} {
		fs := NewFlags("prog")
		hold := fs.Hold(tc.def, "the child")
		err := fs.FlagSet.Parse(tc.args)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
		case tc.err == "" && *hold != tc.want:
			t.Errorf("%q: -hold %v, want %v", tc.args, *hold, tc.want)
		}
	}

	// -h's listing: the same name, value and words in every chapter.
	var out bytes.Buffer
	fs := NewFlags("prog")
	fs.Hold(1000*time.Second, "the child")
	fs.SetOutput(&out)
	fs.PrintDefaults()
	want := "  -hold duration\n    \tkeep the child this long, to look at it from another shell (a duration such as 60s) (default 16m40s)\n"
	if got := out.String(); got != want {
		t.Errorf("PrintDefaults:\n%q\nwant\n%q", got, want)
	}
}
