package nslab

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// Every README.md (top level, each chapter, lab/) and its Korean translation
// README.ko.md, embedded so that the test binary checks them anywhere (the
// lab's guest runs it from /tmp). The test needs no root and reads nothing
// else.
//
//go:embed README*.md */README*.md
var readmes embed.FS

// requireAllTranslations makes a README.md without a README.ko.md a failure:
// every README has its translation (issue 17), so a new one needs one too.
// Set it to false only to land a README before its translation (a missing
// one is then only logged).
const requireAllTranslations = true

// TestTranslations: each README.ko.md has its README.md's sections (## and
// ###) in the same order and at the same levels, and every fenced block
// byte for byte, with the <!-- doctest --> marker before it, in the same
// order and section; the two link to each other at the top, and the Korean
// one links to the Korean READMEs of other directories where they exist.
func TestTranslations(t *testing.T) {
	en, err := fs.Glob(readmes, "*README.md")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := fs.Glob(readmes, "*/README.md")
	en = append(en, more...)
	var missing []string
	for _, p := range en {
		koPath := strings.TrimSuffix(p, ".md") + ".ko.md"
		enText, _ := fs.ReadFile(readmes, p)
		koText, err := fs.ReadFile(readmes, koPath)
		if err != nil {
			missing = append(missing, koPath)
			if strings.Contains(string(enText), "(README.ko.md)") {
				t.Errorf("%s links README.ko.md, which does not exist", p)
			}
			continue
		}
		for _, problem := range checkTranslation(koPath, string(enText), string(koText), hasKorean) {
			t.Error(problem)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("%d of %d READMEs not translated yet: %s", len(missing), len(en), strings.Join(missing, " "))
		if requireAllTranslations {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
}

// hasKorean reports whether dir (a directory of the repository, "." the top)
// has a README.ko.md.
func hasKorean(dir string) bool {
	_, err := fs.Stat(readmes, path.Join(dir, "README.ko.md"))
	return err == nil
}

// A mdHeading is a ## or ### line of a README, outside code blocks.
type mdHeading struct {
	level int
	text  string
	line  int
}

// A mdBlock is a fenced block, with the doctest marker line before it if
// any, and the index of the heading it sits under (-1: before the first).
type mdBlock struct {
	text    string
	line    int
	section int
}

var (
	headingRE = regexp.MustCompile(`^(#{2,3}) +(.*?)\s*$`)
	markerRE  = regexp.MustCompile(`^<!--\s*doctest\b`)
	// A link to another directory's README (or to the directory itself,
	// which GitHub shows as its README.md): [text](DIR/) or
	// [text](DIR/README.md#anchor), DIR relative to the README's own.
	readmeLinkRE = regexp.MustCompile(`\]\(((?:\.\./)?[A-Za-z0-9._-]+)/(?:README\.md)?(?:#[^)]*)?\)`)
)

func parseMarkdown(text string) (heads []mdHeading, blocks []mdBlock) {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") {
			if m := headingRE.FindStringSubmatch(lines[i]); m != nil {
				heads = append(heads, mdHeading{len(m[1]), m[2], i + 1})
			}
			continue
		}
		start := i
		if i > 0 && markerRE.MatchString(strings.TrimSpace(lines[i-1])) {
			start = i - 1
		}
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
		}
		end := min(i+1, len(lines))
		blocks = append(blocks, mdBlock{strings.Join(lines[start:end], "\n"), start + 1, len(heads) - 1})
	}
	return heads, blocks
}

// checkTranslation compares the translation ko (file name koPath) with its
// English original en and returns one line per problem, naming the file and
// the English section. hasKo tells which directories have a README.ko.md.
func checkTranslation(koPath, en, ko string, hasKo func(dir string) bool) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, koPath+": "+fmt.Sprintf(format, args...))
	}
	enPath := strings.TrimSuffix(koPath, ".ko.md") + ".md"
	dir := path.Dir(koPath)

	if !linkedAtTop(en, "[한국어](README.ko.md)") {
		problems = append(problems, enPath+": no \"[한국어](README.ko.md)\" line right under the title")
	}
	if !linkedAtTop(ko, "[English](README.md)") {
		bad("no \"[English](README.md)\" line right under the title")
	}

	enHeads, enBlocks := parseMarkdown(en)
	koHeads, koBlocks := parseMarkdown(ko)
	section := func(i int) string {
		if i < 0 {
			return "before the first section"
		}
		h := enHeads[i]
		return fmt.Sprintf("section %q", strings.Repeat("#", h.level)+" "+h.text)
	}
	for i, h := range enHeads {
		if i >= len(koHeads) {
			bad("%s (README.md line %d) is missing: the translation has %d headings, README.md %d",
				section(i), h.line, len(koHeads), len(enHeads))
			break
		}
		if koHeads[i].level != h.level {
			bad("%s (README.md line %d) is a level-%d heading, but heading %d of the translation (%q, line %d) is level %d",
				section(i), h.line, h.level, i+1, koHeads[i].text, koHeads[i].line, koHeads[i].level)
			break // the rest would only repeat this
		}
	}
	if len(koHeads) > len(enHeads) {
		h := koHeads[len(enHeads)]
		bad("heading %q (line %d) has no counterpart in README.md, which has %d headings",
			h.text, h.line, len(enHeads))
	}

	for i, b := range enBlocks {
		if i >= len(koBlocks) {
			bad("%s: the code block at README.md line %d is missing", section(b.section), b.line)
			break
		}
		k := koBlocks[i]
		if k.text != b.text {
			bad("%s: the code block at README.md line %d differs from the translation's at line %d:\n--- README.md\n%s\n--- %s\n%s",
				section(b.section), b.line, k.line, b.text, path.Base(koPath), k.text)
			break // the blocks after it are likely shifted
		}
		if k.section != b.section {
			bad("%s: the code block at README.md line %d is under another heading in the translation (line %d)",
				section(b.section), b.line, k.line)
			break
		}
	}
	if len(koBlocks) > len(enBlocks) {
		bad("the code block at line %d has no counterpart in README.md", koBlocks[len(enBlocks)].line)
	}

	// Outside code blocks, a link to another README goes to its translation
	// when there is one.
	inBlock := false
	for n, l := range strings.Split(ko, "\n") {
		if strings.HasPrefix(l, "```") {
			inBlock = !inBlock
		}
		if inBlock {
			continue
		}
		for _, m := range readmeLinkRE.FindAllStringSubmatch(l, -1) {
			if hasKo(path.Join(dir, m[1])) {
				bad("line %d links %s/ or its README.md: link %s/README.ko.md instead", n+1, m[1], m[1])
			}
		}
	}
	return problems
}

// linkedAtTop reports whether the first line after the title that is not
// blank holds link.
func linkedAtTop(text, link string) bool {
	lines := strings.Split(text, "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "# ") {
		return false
	}
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) != "" {
			return strings.Contains(l, link)
		}
	}
	return false
}
