package nslab

import (
	"strings"
	"testing"
)

// The checks of TestTranslations fail when they should: on a README pair
// made to differ in one way each, checkTranslation names the file, the
// English section and the problem.
func TestTranslationsCatch(t *testing.T) {
	en := "# x — title\n\n[한국어](README.ko.md)\n\nIntro.\n\n## Run it\n\n" +
		"<!-- doctest -->\n```\n# go run ./02-uts myhost\nuts.nodename in child: myhost\n```\n\n" +
		"### Later\n\n```\n# hostname\nvm\n```\n\n## Tests\n\nSee [03-ipc](../03-ipc/).\n"
	ko := "# x — 제목\n\n[English](README.md)\n\n소개.\n\n## 실행\n\n" +
		"<!-- doctest -->\n```\n# go run ./02-uts myhost\nuts.nodename in child: myhost\n```\n\n" +
		"### 나중에\n\n```\n# hostname\nvm\n```\n\n## 테스트\n\n[03-ipc](../03-ipc/README.md) 참고.\n"
	none := func(string) bool { return false }
	if p := checkTranslation("02-uts/README.ko.md", en, ko, none); len(p) != 0 {
		t.Fatalf("a faithful translation has problems:\n%s", strings.Join(p, "\n"))
	}
	for _, c := range []struct {
		name   string
		en, ko string
		hasKo  func(string) bool
		want   []string // each must appear in one problem line
	}{
		{"English block changed", strings.Replace(en, "myhost\nuts", "other\nuts", 1), ko, none,
			[]string{"02-uts/README.ko.md: ", `section "## Run it"`, "code block at README.md line 9 differs"}},
		{"doctest marker dropped", en, strings.Replace(ko, "<!-- doctest -->\n", "", 1), none,
			[]string{`section "## Run it"`, "differs"}},
		{"output line changed", en, strings.Replace(ko, "vm\n", "host\n", 1), none,
			[]string{`section "### Later"`, "differs"}},
		{"section added in English", en + "\n## Exercises\n\nDo it.\n", ko, none,
			[]string{`section "## Exercises"`, "is missing"}},
		{"section missing", en, strings.Replace(ko, "### 나중에\n", "", 1), none,
			[]string{`section "### Later"`, "is a level-3 heading", "is level 2"}},
		{"block moved to another section", en, strings.Replace(ko, "### 나중에\n\n```\n# hostname\nvm\n```\n\n## 테스트\n", "### 나중에\n\n## 테스트\n\n```\n# hostname\nvm\n```\n", 1), none,
			[]string{`section "### Later"`, "under another heading"}},
		{"block added to the translation", en, ko + "\n```\n# ls\n```\n", none,
			[]string{"no counterpart in README.md"}},
		{"no link to the translation", strings.Replace(en, "[한국어](README.ko.md)\n\n", "", 1), ko, none,
			[]string{"02-uts/README.md: ", "[한국어](README.ko.md)"}},
		{"no link back", en, strings.Replace(ko, "[English](README.md)", "", 1), none,
			[]string{"02-uts/README.ko.md: ", "[English](README.md)"}},
		{"a figure changed in English only", strings.Replace(en, "Intro.", "Intro, 918 lines.", 1), strings.Replace(ko, "소개.", "소개, 913줄.", 1), none,
			[]string{"02-uts/README.ko.md: ", "before the first section", "has 918", "figure changed in English only"}},
		{"English README linked where a Korean one exists", en, ko, func(d string) bool { return d == "03-ipc" },
			[]string{"02-uts/README.ko.md: line 24", "../03-ipc/README.ko.md"}},
	} {
		problems := checkTranslation("02-uts/README.ko.md", c.en, c.ko, c.hasKo)
		all := strings.Join(problems, "\n")
		if len(problems) == 0 {
			t.Errorf("%s: no problem found", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: no %q in:\n%s", c.name, w, all)
			}
		}
	}
}
