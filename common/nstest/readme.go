package nstest

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"nslab/common"
)

// Doc is a chapter's README, for Readme.
type Doc struct {
	Name string // the chapter, e.g. "02-uts": what `go run ./02-uts` and bin/02-uts run
	Text string // README.md, embedded by the chapter's test
	Ko   string // README.ko.md, its Korean translation, embedded too when it exists
	C    fs.FS  // the chapter's c/*.c, for commands that run bin/c/NAME (may be nil)
}

// A console block in a README is checked when the line before its opening
// fence is a marker:
//
//	<!-- doctest [unordered] [digits] [hex] [skip=TEXT] [host=NAME] [unshare=NS,...] [tmpfs=DIR] [cgroup=v1|v2] -->
//
// Lines starting with "# " (a root prompt) or "$ " are commands, the lines
// after each one its expected output (stdout and stderr together). The
// commands of a block run in order in one bash, as root, in a scratch
// directory where bin/NN-name is this chapter's program (the test binary,
// running the chapter's main), bin/c/NAME its C counterparts and bin/MM-other
// another chapter's program; `go run ./NN-name` and `sudo` work as typed
// (go run's "exit status N" line included).
//
// Before comparing, both sides are normalised: colors dropped, runs of
// blanks made one space, every number of three digits or more (PIDs, inode
// numbers) made N, with the blank that pads one after a bracket dropped
// ("[ 7650]" and "[17650]" are both "[N]"), and this machine's hostname
// made the block's host (NAME, default "vm": where the README's output was
// made). Options: digits makes
// every number N (for times, shares and the PIDs Go's threads shift);
// unordered compares each command's lines as a set (a parent's and its
// child's lines may interleave either way); hex makes every 0x... number
// 0xN (random keys); skip=TEXT leaves out the lines that hold TEXT, on
// both sides (a line that differs from run to run in a way no number
// explains, such as a process's state letter). Two options keep the machine's state out of a block,
// so that it prints the same on every machine and beside parallel tests:
// unshare=ipc,net runs the block in new namespaces of those types (entered
// without a fork: ipc, mount, net, uts), and tmpfs=DIR shows it an empty DIR
// (a tmpfs mounted in a mount namespace of the block's own; nothing if DIR
// does not exist), e.g. tmpfs=/run for a machine without /run/netns.
//
// cgroup=v1 or cgroup=v2 marks output that only a machine with that cgroup
// version prints (08-cgroup shows both): the block runs where it applies,
// and a README must have at least one block that runs everywhere or one of
// each.
var docMarker = regexp.MustCompile(`^<!--\s*doctest\b(.*?)-->\s*$`)

type docBlock struct {
	file     string // README.md or README.ko.md
	line     int    // of the opening fence, 1-based
	unorder  bool
	digits   bool
	hex      bool
	skip     []string // lines holding one of these are not compared
	host     string
	cgroup   string   // "v1", "v2" or "": where the block applies
	unshare  []string // namespace types, for unshare(1): --ipc, --net, ...
	tmpfs    []string // directories the block sees empty
	commands []string
	expected [][]string
}

// Readme runs every marked block of d's README and compares the output, so
// the commands and outputs a learner reads are what the code does today.
// The blocks of the Korean translation are checked too (subtests ko_lineN),
// so that it cannot drift from the code either: the top level's
// TestTranslations keeps them byte for byte the English ones, in the same
// order, so each is compared with what its English block printed rather
// than run a second time (04-pid's C seed sleeps 20 s).
func Readme(t *testing.T, d Doc) {
	t.Helper()
	blocks, err := parseDoc(d.Text)
	if err != nil {
		t.Fatalf("%s/README.md: %v", d.Name, err)
	}
	if len(blocks) == 0 {
		t.Fatalf("%s/README.md has no <!-- doctest --> block", d.Name)
	}
	for i := range blocks {
		blocks[i].file = "README.md"
	}
	if d.Ko == "" {
		// In the package's directory, as `go test ./NN-x/` runs it (the
		// guest runs the binary elsewhere, with what was embedded).
		if _, err := os.Stat("README.ko.md"); err == nil {
			t.Fatalf("%s/README.ko.md exists but the test does not run it: embed it (//go:embed README.ko.md) into Doc.Ko", d.Name)
		}
	} else {
		ko, err := parseDoc(d.Ko)
		if err != nil {
			t.Fatalf("%s/README.ko.md: %v", d.Name, err)
		}
		for _, b := range ko {
			b.file = "README.ko.md"
			blocks = append(blocks, b)
		}
	}
	RequireRoot(t)
	RequireTool(t, "bash", "bash")
	// The blocks run in one scratch directory, as a reader runs them, in
	// order: a block may use what an earlier one made (05-mount's rootfs).
	dir := ""
	var printed [][][]string // what each English block printed, in order
	n := map[string]int{}    // blocks of each file so far
	for _, b := range blocks {
		k := n[b.file]
		n[b.file]++
		name := fmt.Sprintf("line%d", b.line)
		if b.file != "README.md" {
			name = "ko_" + name
		} else {
			printed = append(printed, nil)
		}
		if b.cgroup != "" && b.cgroup != cgroupVersion() {
			// Not a subtest here, neither passed nor skipped: the block is
			// checked on the other kind of machine (this host or the
			// lab's guest).
			continue
		}
		if b.file == "README.md" {
			if dir == "" {
				dir = docDir(t, d)
			}
			t.Run(name, func(t *testing.T) {
				printed[k] = runBlock(t, dir, b)
				compareBlock(t, b, printed[k])
			})
			continue
		}
		t.Run(name, func(t *testing.T) {
			en := blocks[k]
			if k >= len(printed) || en.file != "README.md" || !slices.Equal(en.commands, b.commands) {
				t.Fatalf("%s line %d is not README.md's block number %d (TestTranslations says how they differ)", b.file, b.line, k+1)
			}
			if printed[k] == nil {
				t.Fatalf("README.md's block at line %d printed nothing to compare with: it failed to run", en.line)
			}
			compareBlock(t, b, printed[k])
		})
	}
}

func parseDoc(text string) ([]docBlock, error) {
	lines := strings.Split(text, "\n")
	var blocks []docBlock
	for i := 0; i < len(lines); i++ {
		m := docMarker.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		b := docBlock{host: "vm"}
		for _, opt := range strings.Fields(m[1]) {
			switch {
			case opt == "unordered":
				b.unorder = true
			case opt == "digits":
				b.digits = true
			case opt == "hex":
				b.hex = true
			case strings.HasPrefix(opt, "skip="):
				b.skip = append(b.skip, strings.TrimPrefix(opt, "skip="))
			case strings.HasPrefix(opt, "unshare="):
				for _, ns := range strings.Split(strings.TrimPrefix(opt, "unshare="), ",") {
					if !slices.Contains([]string{"ipc", "mount", "net", "uts"}, ns) {
						return nil, fmt.Errorf("line %d: unshare=%s: only ipc, mount, net and uts", i+1, ns)
					}
					b.unshare = append(b.unshare, "--"+ns)
				}
			case strings.HasPrefix(opt, "tmpfs="):
				b.tmpfs = append(b.tmpfs, strings.TrimPrefix(opt, "tmpfs="))
			case opt == "cgroup=v1" || opt == "cgroup=v2":
				b.cgroup = strings.TrimPrefix(opt, "cgroup=")
			case strings.HasPrefix(opt, "host="):
				b.host = strings.TrimPrefix(opt, "host=")
			default:
				return nil, fmt.Errorf("line %d: unknown doctest option %q", i+1, opt)
			}
		}
		i++
		if i >= len(lines) || !strings.HasPrefix(lines[i], "```") {
			return nil, fmt.Errorf("line %d: a doctest marker must be followed by a ``` block", i)
		}
		b.line = i + 1
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			l := lines[i]
			if strings.HasPrefix(l, "# ") || strings.HasPrefix(l, "$ ") {
				cmd := l[2:]
				for strings.HasSuffix(cmd, `\`) && i+1 < len(lines) {
					i++
					cmd = strings.TrimSuffix(cmd, `\`) + "\n" + lines[i]
				}
				b.commands = append(b.commands, cmd)
				b.expected = append(b.expected, nil)
				continue
			}
			if len(b.commands) == 0 {
				return nil, fmt.Errorf("line %d: output before the first command (# or $)", i+1)
			}
			b.expected[len(b.expected)-1] = append(b.expected[len(b.expected)-1], l)
		}
		if i >= len(lines) {
			return nil, fmt.Errorf("line %d: unclosed ``` block", b.line)
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// docDir makes the scratch directory: bin/NAME (a copy of the test binary,
// world-readable for `runuser -u nobody`), bin/c/* and other chapters'
// programs, as the block's commands name them.
func docDir(t *testing.T, d Doc) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin", "c"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, "bin")} {
		os.Chmod(p, 0o755)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := copyFile(self, filepath.Join(dir, "bin", d.Name)); err != nil {
		t.Fatal(err)
	}
	// Whatever else the text runs: bin/c/NAME, bin/MM-other, go run ./MM-other.
	text := d.Text + "\n" + d.Ko
	for _, m := range regexp.MustCompile(`bin/c/([A-Za-z0-9_]+)`).FindAllStringSubmatch(text, -1) {
		if d.C == nil {
			t.Fatalf("the README runs bin/c/%s but the test gave no C sources", m[1])
		}
		dst := filepath.Join(dir, "bin", "c", m[1])
		if _, err := os.Stat(dst); err != nil {
			os.Symlink(BuildC(t, d.C, m[1]), dst)
		}
	}
	for _, m := range regexp.MustCompile(`(?:bin/|go run \./)([0-9][0-9]-[a-z]+)`).FindAllStringSubmatch(text, -1) {
		dst := filepath.Join(dir, "bin", m[1])
		if _, err := os.Stat(dst); err != nil {
			os.Symlink(Chapter(t, m[1]), dst)
		}
	}
	return dir
}

const docSep = "@@nslab-doctest@@"

// runBlock runs b's commands in dir and returns what each printed.
func runBlock(t *testing.T, dir string, b docBlock) [][]string {
	var script strings.Builder
	script.WriteString(`sudo() { "$@"; }
go() {
	[ "$1" = run ] || { echo "doctest: only 'go run' is supported" >&2; return 127; }
	local prog=${2#./}
	shift 2
	"./bin/$prog" "$@"
	local rc=$?
	[ $rc -eq 0 ] && return 0
	echo "exit status $rc" >&2
	return 1
}
`)
	args := []string{"bash", "-c"}
	if len(b.unshare) > 0 || len(b.tmpfs) > 0 {
		RequireTool(t, "unshare", "util-linux")
		args = append(append([]string{"unshare"}, b.unshare...), args...)
		if len(b.tmpfs) > 0 && !slices.Contains(b.unshare, "--mount") {
			args = slices.Insert(args, 1, "--mount") // private propagation: unshare's default
		}
	}
	for _, d := range b.tmpfs {
		fmt.Fprintf(&script, "if [ -d %s ]; then mount -t tmpfs nslab-doctest %s || exit 1; fi\n", d, d)
	}
	for i, c := range b.commands {
		fmt.Fprintf(&script, "echo %s%d\n%s\n", docSep, i, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Patience(60*time.Second))
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], append(args[1:], script.String())...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), mainEnv+"=1", "NO_COLOR=1", "PATH="+os.Getenv("PATH"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	cmd.Run() // each command's status is part of its output (go run) or not shown
	if ctx.Err() != nil {
		t.Fatalf("%s block at line %d did not finish in 60 s:\n%s", b.file, b.line, out.String())
	}
	got := make([][]string, len(b.commands))
	cur := -1
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if strings.HasPrefix(l, docSep) {
			fmt.Sscan(strings.TrimPrefix(l, docSep), &cur)
			continue
		}
		if cur >= 0 {
			got[cur] = append(got[cur], l)
		}
	}
	return got
}

// compareBlock compares what b's commands printed (got) with the outputs
// its README shows.
func compareBlock(t *testing.T, b docBlock, got [][]string) {
	host, _ := os.Hostname()
	for i, c := range b.commands {
		want := normDoc(b.expected[i], b, "")
		have := normDoc(got[i], b, host)
		if !slices.Equal(want, have) {
			t.Errorf("%s line %d: `%s` prints something else now (normalised):\n--- %s\n%s\n--- now\n%s",
				b.file, b.line, c, b.file, strings.Join(want, "\n"), strings.Join(have, "\n"))
		}
	}
}

var (
	ansiRE   = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	blanksRE = regexp.MustCompile(`[ \t]+`)
	bigNumRE = regexp.MustCompile(`\d{3,}`)
	hexRE    = regexp.MustCompile(`0x[0-9a-fA-F]+`)
	padNRE   = regexp.MustCompile(`([\[(]) N\b`)
	anyNumRE = regexp.MustCompile(`\d+`)
)

func normDoc(lines []string, b docBlock, host string) []string {
	var out []string
	for _, l := range lines {
		if slices.ContainsFunc(b.skip, func(s string) bool { return strings.Contains(l, s) }) {
			continue
		}
		l = ansiRE.ReplaceAllString(l, "")
		if host != "" && host != b.host {
			l = regexp.MustCompile(`\b`+regexp.QuoteMeta(host)+`\b`).ReplaceAllString(l, b.host)
		}
		if b.hex {
			l = hexRE.ReplaceAllString(l, "0xN")
		}
		if b.digits {
			l = anyNumRE.ReplaceAllString(l, "N")
		} else {
			l = bigNumRE.ReplaceAllString(l, "N")
		}
		l = strings.TrimSpace(blanksRE.ReplaceAllString(l, " "))
		l = padNRE.ReplaceAllString(l, "${1}N")
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	if b.unorder {
		slices.Sort(out)
	}
	return out
}

// cgroupVersion is "v2" when /sys/fs/cgroup is the unified hierarchy, "v1"
// otherwise.
func cgroupVersion() string {
	if v2, _ := common.IsCgroupV2("/"); v2 {
		return "v2"
	}
	return "v1"
}
