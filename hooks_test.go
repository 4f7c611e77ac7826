package nslab

import (
	"bytes"
	"os"
	"testing"

	"nslab/common/nstest"
)

// TestMain is nstest's, for the programs it builds to be removed at the
// end; the module's root has no program of its own to run instead.
func TestMain(m *testing.M) { nstest.Main(m, nil) }

// TestNoHooksInPrograms: a program built as make build builds it holds no
// test hook (common/testhooks.go), neither the fault injection nor the
// pause points: not their functions (a Go binary keeps every function's
// name, for its tracebacks) nor the environment variables that drive them.
// The test build (-tags nslabtest) holds them all, or this test could not
// fail.
func TestNoHooksInPrograms(t *testing.T) {
	marks := []string{"NSLAB_SIMULATE_MISSING", "NSLAB_PAUSE_FILE", "nslab/common.injected", "nslab/common.PausePoint"}
	for _, tag := range []string{"", "nslabtest"} {
		b, err := os.ReadFile(nstest.ChapterTags(t, "06-net", tag))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range marks {
			if held := bytes.Contains(b, []byte(m)); held != (tag == "nslabtest") {
				t.Errorf("06-net built with tags %q: holds %s: %v", tag, m, held)
			}
		}
	}
}
