package nslab

import (
	"embed"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The programs' Go (the chapters, common without common/nstest, lab/bench)
// and lab/reset.sh, embedded so that the test binary checks them anywhere:
// the lab's guest runs it from /tmp, without the source tree.
//
//go:embed [01][0-9]-*/*.go common/*.go lab/bench/*.go
var programSources embed.FS

//go:embed lab/reset.sh
var resetScript string

// resetGlobs are the names lab/reset.sh removes, each as its code spells
// it: cgroups (find -name), mount points, /run/netns names, POSIX queues
// ("$0"/nslab-* in the mqueue filesystem), notes and directories.
var resetGlobs = []string{
	"nslab-[0-9][0-9]-*",
	"nslab-ex[0-9][0-9]-*",
	"/run/netns/nslab*",
	"/mnt/nslab-*",
	"/tmp/nslab-rootfs.*",
	"/run/nslab-netns-setup",
	"/run/nslab-subtree.*",
	"/nslab-*",
	"/run/nslab-10-[0-9]*",
	"/tmp/nslab-overlay-[0-9]*-*",
}

// notLeftBehind are the names of the programs that reset.sh rightly leaves
// alone, and why.
var notLeftBehind = map[string]string{
	"/tmp/nslab-rootfs": "10-container's default -rootfs: the learner's, made by 05-mount mkrootfs and used again",
	"nslab-07":          "07-user's host name, in a UTS namespace that dies with the child",
	"nslab_devices":     "10-container's BPF device program, attached to its cgroup, which goes with it",
}

// Every name the programs give a thing (the string literals with nslab-,
// nslab. or nslab_ in the Go code of the chapters, common and lab/bench,
// tests left out) is one that lab/reset.sh removes after a SIGKILL, or one
// of notLeftBehind: a name added to a program without a way out through
// reset fails here, naming it. common/nstest is left out too: its names
// are the test runs' locks and scratch directories, not a program's.
func TestResetKnowsEveryName(t *testing.T) {
	for _, g := range resetGlobs {
		if !strings.Contains(resetScript, g) {
			t.Errorf("reset.sh no longer spells %s: update resetGlobs", g)
		}
	}
	mark := regexp.MustCompile(`nslab[-._]`)
	verb := regexp.MustCompile(`%[0-9]*[dsvx]`)
	found := 0
	err := fs.WalkDir(programSources, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") {
			return err
		}
		src, err := programSources.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !mark.MatchString(s) {
				return true
			}
			found++
			if _, ok := notLeftBehind[s]; ok {
				return true
			}
			name := verb.ReplaceAllString(s, "4242")
			for _, g := range resetGlobs {
				if ok, _ := path.Match(g, name); ok {
					return true
				}
			}
			t.Errorf("%s: %q is a name no glob of lab/reset.sh matches: have reset.sh remove it (and add its glob to resetGlobs), or say in notLeftBehind why it needs not", p, s)
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 10 {
		t.Fatalf("found %d nslab names in the Go code; the walk missed the chapters", found)
	}
}
