//go:build vmsmoke

// make vm-smoke only: the build tag keeps this test out of make test (it
// boots a guest for minutes) and out of the vm-test guest's binaries (it
// cannot boot a guest inside the guest), so it never has to skip.

package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"nslab/common/nstest"
)

// `sudo make vm` as a learner uses it, at a terminal (a pseudo-terminal
// here): the guest boots to a root shell in the checkout, on cgroup v2; an
// edit on the host shows in the guest at once; `make tour` runs there on
// the programs the host built and ends with "tour: done"; a chapter edited
// in a scratch copy passes its tests (go test), then, edited, rebuilds
// (make build c) and prints its changed line, with no network; `exit` powers the guest off and
// make vm returns 0; and the host is as before: no process left (qemu
// carries the marker in its environment), no mount, no run directory.
func TestVMShell(t *testing.T) {
	nstest.RequireRoot(t)
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	marker := fmt.Sprintf("NSLAB_VM_SMOKE=%d-%d", os.Getpid(), time.Now().UnixNano())
	before := takeSnapshot(t, marker)

	// A file written on the host, to be read in the guest through the share.
	cache := filepath.Join(repo, "lab", ".cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	nonce := fmt.Sprintf("written-on-the-host-%d", time.Now().UnixNano())
	probe := filepath.Join(cache, "vm-smoke-probe")
	if err := os.WriteFile(probe, []byte(nonce+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(probe) })

	pty, tty := openPTY(t)
	cmd := exec.Command("make", "-s", "-C", repo, "vm")
	cmd.Env = append(os.Environ(), "TERM=vt100", marker)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	term := newTranscript(pty)
	t.Cleanup(func() {
		if cmd.ProcessState == nil { // still running: the test failed
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			<-exited
			// make is gone; lab/vm.sh may still be stopping qemu.
			for i := 0; i < 100 && len(ourProcesses(marker)) > 0; i++ {
				time.Sleep(200 * time.Millisecond)
			}
			for _, p := range ourProcesses(marker) {
				t.Errorf("20 s after SIGTERM, still running (killed now): %s", p)
				var pid int
				if _, err := fmt.Sscanf(p, "pid %d:", &pid); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		pty.Close()
		if t.Failed() {
			t.Logf("the terminal, last 60 lines:\n%s", term.tail(60))
		}
	})
	type1 := func(s string) {
		if _, err := pty.Write([]byte(s + "\r")); err != nil {
			t.Fatalf("typing %q: %v", s, err)
		}
	}

	// Building the programs and, on a cold cache, the image (about 5 min).
	term.expect(t, `vm: booting the guest`, 12*time.Minute)
	boot := time.Now()
	t.Logf("make vm: guest booting %.0f s after start; %s", boot.Sub(start).Seconds(),
		term.find(`vm: accelerator: [^\n]*`))
	banner := term.expect(t, `nslab vm: Debian 12, kernel [^\n]*\n`, 3*time.Minute)
	term.expect(t, `nslab-guest:/nslab# `, time.Minute)
	t.Logf("boot to prompt: %.1f s", time.Since(boot).Seconds())
	if !strings.Contains(banner, "cgroup2fs") {
		t.Errorf("the guest is not on cgroup v2: %q", banner)
	}

	type1("cat lab/.cache/vm-smoke-probe")
	term.expect(t, regexp.QuoteMeta(nonce)+`\s*\n[^\n]*nslab-guest:/nslab# `, 30*time.Second)

	// Ctrl-C at the terminal reaches the guest's foreground command (the
	// console is the shell's controlling terminal), not make vm.
	type1("sleep 600")
	time.Sleep(2 * time.Second)
	if _, err := pty.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	term.expect(t, `\^C\s*\n[^\n]*nslab-guest:/nslab# `, 20*time.Second)

	tour := time.Now()
	type1("make tour; echo TOUR-STATUS=$?")
	status := term.expect(t, `TOUR-STATUS=\d+`, 8*time.Minute)
	t.Logf("make tour in the guest: %.0f s", time.Since(tour).Seconds())
	out := term.since(tour)
	if status != "TOUR-STATUS=0" || !strings.Contains(out, "tour: done") {
		t.Fatalf("make tour in the guest: %s, and no \"tour: done\"", status)
	}
	if strings.Contains(out, "go build") {
		t.Errorf("make tour in the guest rebuilt programs the host had just built (a go build line)")
	}
	term.expect(t, `nslab-guest:/nslab# `, 30*time.Second)

	// A learner's exercise: test, change a printed line, rebuild, run (the
	// test would now fail: it compares the line with the C's). The guest
	// has no network (-nic none): the modules come from the host's cache.
	edit := time.Now()
	// The copy keeps the files' times (tar), so make rebuilds 02-uts alone.
	type1("rm -rf /tmp/edit && mkdir /tmp/edit && tar -C /nslab --exclude=./lab/.cache -cf - . | tar -C /tmp/edit -xf - && cd /tmp/edit && go test -count=1 ./02-uts/ && " +
		// Split so that the echo of this line never reads as the output.
		`sed -i 's/"child has terminated"/"child has terminated, edited " + "in the guest"/' 02-uts/demo_uts_namespaces.go && ` +
		"make -s build c && ./bin/02-uts -hold 0 smokehost; echo EDIT-STATUS=$?; cd /nslab")
	status = term.expect(t, `EDIT-STATUS=\d+`, 8*time.Minute)
	t.Logf("go test, edit, make build c and run in the guest: %.0f s", time.Since(edit).Seconds())
	out = term.since(edit)
	if status != "EDIT-STATUS=0" || !strings.Contains(out, "child has terminated, edited in the guest") ||
		!strings.Contains(out, "ok  \tnslab/02-uts") {
		t.Fatalf("a chapter tested and edited in the guest: %s; want go test's ok and the changed line", status)
	}
	term.expect(t, `nslab-guest:/nslab# `, 30*time.Second)

	type1("exit")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("make vm after exit: %v", err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("the guest did not power off within 90 s of exit")
	}
	term.wait()
	if !strings.Contains(term.all(), "vm: the guest is off") {
		t.Error(`make vm ended without "vm: the guest is off"`)
	}
	t.Logf("make vm in all: %.0f s", time.Since(start).Seconds())

	left, _ := filepath.Glob(filepath.Join(cache, "vm-run.*"))
	if len(left) > 0 {
		t.Errorf("run directories left behind: %v", left)
	}
	if d := before.diff(takeSnapshot(t, marker)); d != "" {
		t.Errorf("the host differs after make vm:\n%s", d)
	}
}

// openPTY opens a pseudo-terminal pair, 40x120, as a learner's terminal.
func openPTY(t *testing.T) (pty, tty *os.File) {
	t.Helper()
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd := int(pty.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
		t.Fatal(err)
	}
	return pty, tty
}

// transcript is what the terminal showed, without escape sequences and
// carriage returns, kept as it comes; expect waits for a pattern in what
// came after its last match.
type transcript struct {
	mu      sync.Mutex
	text    strings.Builder // cleaned
	pending string          // a trailing escape sequence not complete yet
	chunks  []chunk
	pos     int // in text: where expect looks from
	more    chan struct{}
	done    chan struct{}
}

type chunk struct {
	at  time.Time
	off int // in text
}

var (
	escapes   = regexp.MustCompile(`\x1b(\[[0-9;?]*[A-Za-z]|[()][0-9A-Za-z]|[=>c])|\r`)
	escapeAt0 = regexp.MustCompile(`^\x1b(\[[0-9;?]*[A-Za-z]|[()][0-9A-Za-z]|[=>c])`)
)

func newTranscript(pty *os.File) *transcript {
	tr := &transcript{more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(tr.done)
		b := make([]byte, 4096)
		for {
			n, err := pty.Read(b)
			if n > 0 {
				tr.add(string(b[:n]))
			}
			if err != nil { // EIO once every holder of the tty is gone
				return
			}
		}
	}()
	return tr
}

func (tr *transcript) add(s string) {
	tr.mu.Lock()
	raw := tr.pending + s
	cut := len(raw)
	if i := strings.LastIndexByte(raw, 0x1b); i >= 0 && len(raw)-i < 32 && !escapeAt0.MatchString(raw[i:]) {
		cut = i // wait for the rest of this escape sequence
	}
	tr.chunks = append(tr.chunks, chunk{time.Now(), tr.text.Len()})
	tr.text.WriteString(escapes.ReplaceAllString(raw[:cut], ""))
	tr.pending = raw[cut:]
	tr.mu.Unlock()
	select {
	case tr.more <- struct{}{}:
	default:
	}
}

func (tr *transcript) expect(t *testing.T, pattern string, limit time.Duration) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.After(limit)
	closed := false
	for {
		tr.mu.Lock()
		rest := tr.text.String()[tr.pos:]
		if loc := re.FindStringIndex(rest); loc != nil {
			tr.pos += loc[1]
			tr.mu.Unlock()
			return rest[loc[0]:loc[1]]
		}
		tr.mu.Unlock()
		if closed {
			t.Fatalf("the terminal closed before %q appeared", pattern)
		}
		select {
		case <-tr.more:
		case <-tr.done:
			closed = true // one more look at what came last
		case <-deadline:
			t.Fatalf("%q did not appear within %v", pattern, limit)
		}
	}
}

// find returns the first match of pattern anywhere in the transcript.
func (tr *transcript) find(pattern string) string {
	return regexp.MustCompile(pattern).FindString(tr.all())
}

// since is what arrived from time t0 on.
func (tr *transcript) since(t0 time.Time) string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, c := range tr.chunks {
		if !c.at.Before(t0) {
			return tr.text.String()[c.off:]
		}
	}
	return ""
}

func (tr *transcript) all() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.text.String()
}

func (tr *transcript) tail(n int) string {
	lines := strings.Split(tr.all(), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (tr *transcript) wait() {
	select {
	case <-tr.done:
	case <-time.After(5 * time.Second):
	}
}
