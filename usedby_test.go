package nslab

import (
	"embed"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The repository's Go, embedded so that the test binary checks it anywhere
// (the lab's guest runs it from /tmp, with no source tree).
//
//go:embed */*.go */*/*.go
var goSources embed.FS

// TestUsedBy: common holds what two or more packages use (issue 23), and
// each exported name's doc comment ends with the packages that use it:
// "Used by 05-mount and 10-container." That line must stay true. Each
// package it names uses the name in its non-test Go, and each package
// whose non-test Go uses it is named ("every chapter" names them all; a
// type counts the uses of its constructors).
func TestUsedBy(t *testing.T) {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range goFiles(t) {
		if path.Dir(name) != "common" || strings.HasSuffix(name, "_nslabtest.go") {
			continue
		}
		src, _ := goSources.ReadFile(name)
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "nslab/common")
	if err != nil {
		t.Fatal(err)
	}
	users := usersOfCommon(t)
	check := func(name, text string, also ...string) {
		t.Helper()
		m := regexp.MustCompile(`Used by ([^.]*)\.`).FindStringSubmatch(text)
		if m == nil {
			t.Errorf("%s: its doc comment has no \"Used by ...\" line", name)
			return
		}
		var want []string
		for _, n := range append([]string{name}, also...) {
			for u := range users[n] {
				if !slices.Contains(want, u) {
					want = append(want, u)
				}
			}
		}
		slices.Sort(want)
		names := regexp.MustCompile(`\d\d-[a-z]+|lab/bench|nstest`).FindAllString
		var said []string
		switch _, but, every := strings.Cut(m[1], "every chapter"); {
		case strings.Contains(m[1], "tests"):
			// Only tests use it: nothing in non-test Go does.
		case every: // "lab/bench and every chapter but 01-clone"
			except, _, _ := strings.Cut(strings.TrimPrefix(but, " but "), " and ")
			said = slices.DeleteFunc(names(m[1], -1), func(n string) bool { return strings.Contains(except, n) })
			for _, c := range chapterDirs(t) {
				if !strings.Contains(except, c) || !strings.HasPrefix(but, " but ") {
					said = append(said, c)
				}
			}
		default:
			said = names(m[1], -1)
		}
		slices.Sort(said)
		if !slices.Equal(said, want) {
			t.Errorf("%s: doc says used by %q, the non-test Go that uses it is in %q", name, said, want)
		}
	}
	for _, v := range append(p.Consts, p.Vars...) {
		if len(v.Names) == 1 && ast.IsExported(v.Names[0]) {
			check(v.Names[0], v.Doc)
		}
	}
	for _, f := range p.Funcs {
		check(f.Name, f.Doc)
	}
	for _, ty := range p.Types {
		var ctors []string
		for _, f := range ty.Funcs {
			ctors = append(ctors, f.Name)
			check(f.Name, f.Doc)
		}
		for _, v := range ty.Vars {
			ctors = append(ctors, v.Names...)
		}
		check(ty.Name, ty.Doc, ctors...)
		for _, v := range ty.Vars {
			if len(v.Names) == 1 {
				check(v.Names[0], v.Doc)
			}
		}
	}
}

// goFiles lists the embedded non-test Go files, by path from the
// repository's root.
func goFiles(t *testing.T) []string {
	var names []string
	err := fs.WalkDir(goSources, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(name, "_test.go") {
			names = append(names, name)
		}
		return err
	})
	if err != nil || len(names) == 0 {
		t.Fatalf("the embedded Go: %q, %v", names, err)
	}
	return names
}

// usersOfCommon maps each name X that some package's non-test Go writes
// as common.X to those packages (directories from the repository's root;
// common/nstest is "nstest"), common's own files left out.
func usersOfCommon(t *testing.T) map[string]map[string]bool {
	users := map[string]map[string]bool{}
	ref := regexp.MustCompile(`\bcommon\.([A-Z]\w*)`)
	for _, name := range goFiles(t) {
		pkg := path.Dir(name)
		switch pkg {
		case "common":
			continue
		case "common/nstest":
			pkg = "nstest"
		}
		b, _ := goSources.ReadFile(name)
		for _, m := range ref.FindAllStringSubmatch(string(b), -1) {
			if users[m[1]] == nil {
				users[m[1]] = map[string]bool{}
			}
			users[m[1]][pkg] = true
		}
	}
	return users
}

// chapterDirs are the chapters' directories, 01-clone to 10-container.
func chapterDirs(t *testing.T) []string {
	var dirs []string
	for _, name := range goFiles(t) {
		if d := path.Dir(name); regexp.MustCompile(`^\d\d-[a-z]+$`).MatchString(d) && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) != 10 {
		t.Fatalf("chapters: %q", dirs)
	}
	return dirs
}
