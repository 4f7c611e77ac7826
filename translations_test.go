package nslab

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
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

	// Every number of an English section's prose (a line count, a time, a
	// test count) is in the translation's section too: a figure changed in
	// English and not in Korean shows here.
	if len(koHeads) == len(enHeads) {
		enProse, koProse := proseBySection(en), proseBySection(ko)
		for i := range enProse {
			have := map[string]bool{}
			for _, n := range numbersIn(koProse[i]) {
				have[n] = true
			}
			var missing []string
			for _, n := range numbersIn(enProse[i]) {
				if !have[n] && !slices.Contains(missing, n) {
					missing = append(missing, n)
				}
			}
			if len(missing) > 0 {
				bad("%s: README.md's text has %s, the translation's does not: a figure changed in English only?",
					section(i-1), strings.Join(missing, ", "))
			}
		}
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

// proseBySection splits a README's text outside code blocks, doctest
// markers, inline code and link targets by ## and ### headings: [0] is
// before the first heading.
func proseBySection(text string) []string {
	out := []string{""}
	inBlock := false
	for _, l := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(l, "```"):
			inBlock = !inBlock
		case inBlock || markerRE.MatchString(strings.TrimSpace(l)):
		case headingRE.MatchString(l):
			out = append(out, "")
		default:
			l = inlineCodeRE.ReplaceAllString(l, "")
			out[len(out)-1] += linkTargetRE.ReplaceAllString(l, "]") + "\n"
		}
	}
	return out
}

var (
	inlineCodeRE = regexp.MustCompile("`[^`]*`")
	linkTargetRE = regexp.MustCompile(`\]\([^)]*\)`)
	numberRE     = regexp.MustCompile(`[0-9]+(?:[.,][0-9]+)*`)
)

// numbersIn lists the numbers of a text that stand alone, as written
// (1,100 and 6.1 whole): not part of a word such as x86_64 or go1.26,
// whatever script the word around them is in (12초 is 12).
func numbersIn(text string) []string {
	word := func(c byte) bool {
		return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	var nums []string
	for _, m := range numberRE.FindAllStringIndex(text, -1) {
		if m[0] > 0 && (word(text[m[0]-1]) || text[m[0]-1] == '.' || text[m[0]-1] == ',') {
			continue
		}
		if m[1] < len(text) && word(text[m[1]]) {
			continue
		}
		nums = append(nums, text[m[0]:m[1]])
	}
	return nums
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
