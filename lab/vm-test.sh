#!/usr/bin/env bash
# make vm-test: run the project's tests as root inside a Debian 12 guest with
# cgroup v2 and systemd, booted with qemu (software emulation: no KVM needed).
# `make vm-test ARCH=arm64` does the same in an arm64 guest (qemu-system-aarch64,
# the virt board), with everything compiled on this host for arm64.
#
#   1. host tools    qemu, debootstrap, e2fsprogs, ruby, vagrant; for a foreign
#                    guest also qemu-user-static and the cross gcc (apt-get,
#                    when missing)
#   2. vagrantfile   ruby -c Vagrantfile; vagrant validate --ignore-provider,
#                    once for each box (amd64 and arm64)
#   3. image         lab/vm-image.sh: built once, cached on provision.sh + recipe
#   4. compile       go test -c for every package with tests, on the host
#                    (GOARCH and, for cgo, CC set for the guest)
#   5. boot          qemu boots a throwaway overlay of the image; the guest runs
#                    the binaries (lab/guest-run.sh) and powers off
#   6. results       per package: go tool test2json turns the guest's output
#                    into go test -json's events (PKG.json); each test with
#                    PASS/FAIL/SKIP from them, then totals
#
# Fails if a step fails, a test fails or is skipped (NSLAB_REQUIRE_PRIVILEGED=1
# in the guest), a binary crashes, a test the binary lists never ran, a test
# started and never ended, or the guest does not finish within
# NSLAB_VM_TIMEOUT seconds (default 1800; arm64 3600).
#
# Usage: lab/vm-test.sh [PACKAGE...]   packages as for go list (default ./...)
#        lab/vm-test.sh --shell        boot the image with a root shell on this
#                                      terminal (test binaries in /mnt/nslab/bin)
# Environment: GO (go command), NSLAB_VM_ARCH (amd64 or arm64; make's ARCH),
# NSLAB_VM_TIMEOUT, NSLAB_VM_CACHE (image cache).
set -euo pipefail

lab=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$lab/.." && pwd)
# shellcheck source=lab/vm-arch.sh
. "$lab/vm-arch.sh"
nslab_vm_arch "${NSLAB_VM_ARCH:-}" || exit 2
export NSLAB_VM_ARCH=$VM_ARCH # for lab/vm-image.sh
cache_root=$lab/.cache
run=$cache_root/run
[ "$VM_ARCH" = amd64 ] || run=$cache_root/run-$VM_ARCH
share=$run/share
console=$run/console.log
# An emulated arm64 guest runs about 2-3 times slower than an emulated amd64
# one on an amd64 host: more time for the whole run and for each package.
# The limits are hang guards, well above a normal run (amd64: about 15 min
# in the guest, the lab package about 8; arm64 about twice that).
slow=1
[ "$VM_ARCH" = amd64 ] || slow=3
guest_limit=1800
[ "$VM_ARCH" = amd64 ] || guest_limit=3600
timeout_s=${NSLAB_VM_TIMEOUT:-$guest_limit}
GO=${GO:-$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)}
mode="test"
if [ "${1:-}" = --shell ]; then
  mode="shell"
  shift
fi
[ $# -gt 0 ] || set -- ./...

current=start
booted=0
summary_line=''
qemu_pid=''
t_start=$SECONDS

say() { printf 'vm-test: %s\n' "$*"; }
step() {
  current=$1
  printf '\nvm-test: == %s: %s\n' "$1" "$2"
}
die() {
  printf 'vm-test: error: %s\n' "$*" >&2
  exit 1
}
on_exit() {
  local rc=$?
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  if [ $rc -ne 0 ]; then
    printf '\nvm-test: FAILED at step "%s" (exit %d) after %d s\n' "$current" "$rc" "$((SECONDS - t_start))" >&2
    if [ "$booted" -eq 1 ] && [ -s "$console" ]; then
      printf 'vm-test: last 60 lines of the guest console (%s):\n' "$console" >&2
      # Without carriage returns and terminal escapes (SeaBIOS clears the screen).
      tail -n 60 "$console" | sed 's/\r//g; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\x1b[()][0-9A-Za-z]//g; s/^/  | /' >&2
    fi
    [ -s "$run/qemu.log" ] && { echo "vm-test: qemu said:" >&2; sed 's/^/  | /' "$run/qemu.log" >&2; }
    # The closing line of the run stays the totals, when there are any.
    [ -n "$summary_line" ] && echo "$summary_line"
  fi
  exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# shellcheck source=lab/lib.sh
. "$lab/lib.sh"
require_root vm-test "debootstrap, chroot, qemu's 9p share" vm-test
mkdir -p "$cache_root"
exec 9>"$cache_root/vm-test.lock"
flock -n 9 || die "another vm-test is running on this machine ($cache_root/vm-test.lock)"

# ---------------------------------------------------------------------------
step "host tools" "what the harness needs for an $VM_ARCH guest, from Debian"
tools=(qemu-img:qemu-utils debootstrap:debootstrap mkfs.ext4:e2fsprogs ruby:ruby
  vagrant:vagrant "${VM_PKGS[@]}")
# The cross gcc's libc headers and libraries (only recommended by the gcc
# package, so not installed with it here).
[ "$VM_FOREIGN" -eq 0 ] || tools+=("$VM_SYSROOT/include/stdio.h:libc6-dev-$VM_ARCH-cross")
missing=()
for t in "${tools[@]}"; do
  if [[ $t == /* ]]; then
    [ -e "${t%%:*}" ] || missing+=("${t#*:}")
  else
    command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (apt-get, --no-install-recommends)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >"$cache_root/apt.log" 2>&1 || { tail -n 30 "$cache_root/apt.log" >&2; die "apt-get install failed"; }
fi
say "$("$VM_QEMU_SYSTEM" --version | head -n 1)"
[ -x "$GO" ] || command -v "$GO" >/dev/null 2>&1 || die "no Go at $GO (set GO=...)"

# ---------------------------------------------------------------------------
step "vagrantfile" "ruby -c and vagrant validate, for an amd64 and an arm64 host"
ruby -c "$repo/Vagrantfile"
# Offline: no update check, and Vagrant's state kept out of the work tree.
# NSLAB_VAGRANT_ARCH plays the host's architecture (the Vagrantfile picks the
# box by it).
for host_arch in amd64 arm64; do
  (cd "$repo" && NSLAB_VAGRANT_ARCH=$host_arch VAGRANT_CHECKPOINT_DISABLE=1 \
    VAGRANT_HOME="$cache_root/vagrant.d" VAGRANT_DOTFILE_PATH="$cache_root/vagrant-dot" \
    vagrant validate --ignore-provider) | sed "s/^/$host_arch host: /"
  [ "${PIPESTATUS[0]}" -eq 0 ] || die "vagrant validate failed as on an $host_arch host"
done

# ---------------------------------------------------------------------------
step "image" "Debian 12 $VM_ARCH guest (lab/vm-image.sh: built once, then cached)"
bash "$lab/vm-image.sh"
img=$(bash "$lab/vm-image.sh" --print-dir)
[ -f "$img/ok" ] || die "no image in $img"

# ---------------------------------------------------------------------------
step "compile" "go test -c on the host for $VM_ARCH, for $*"
# The guest's architecture; cgo (09-setns's constructor, nsexec.c) through
# the cross gcc when the guest is foreign. A foreign binary's -test.list runs
# here under qemu-user, with the cross libc as its root (-L).
export GOARCH=$VM_ARCH CGO_ENABLED=1 CC=$VM_CC
runbin=()
[ "$VM_FOREIGN" -eq 0 ] || runbin=("$VM_QEMU_USER" -L "$VM_SYSROOT")
rm -rf "$run"
mkdir -p "$share/bin" "$share/expected" "$share/results"
list=$(cd "$repo" && "$GO" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' "$@") ||
  die "go list $* failed"
mapfile -t pkgs < <(grep . <<<"$list")
[ ${#pkgs[@]} -gt 0 ] || die "no package with tests in: $*"
module=$(cd "$repo" && "$GO" list -m)
names=()
for p in "${pkgs[@]}"; do
  rel=${p#"$module"}
  rel=${rel#/}
  name=${rel//\//-}
  name=${name:-root}
  (cd "$repo" && "$GO" test -c -o "$share/bin/$name.test" "./$rel") ||
    die "go test -c ./$rel failed"
  # The top-level tests the binary holds, to check each one really ran.
  (cd /tmp && "${runbin[@]}" "$share/bin/$name.test" -test.list '^Test') >"$share/expected/$name" ||
    die "$name.test -test.list failed"
  printf 'vm-test: %-14s %3d tests  %s\n' "$name" "$(grep -c . "$share/expected/$name")" "$(du -h "$share/bin/$name.test" | cut -f1)"
  names+=("$name")
done
# The chapter programs too: a test whose peer is another chapter's program
# (nstest.Chapter) finds them in $NSLAB_BIN in the guest, which has no Go.
mkdir -p "$share/prog"
(cd "$repo" && shopt -s nullglob && chapters=(./[0-9][0-9]-*) &&
  "$GO" build -buildvcs=false -o "$share/prog/" "${chapters[@]}") ||
  die "go build of the chapter programs failed"
# And each with its test hooks (common/testhooks.go), for the tests that
# inject a fault or pause a program (nstest.ChapterTags finds them in
# $NSLAB_BIN/nslabtest).
(cd "$repo" && shopt -s nullglob && chapters=(./[0-9][0-9]-*) &&
  "$GO" build -buildvcs=false -tags nslabtest -o "$share/prog/nslabtest/" "${chapters[@]}") ||
  die "go build -tags nslabtest of the chapter programs failed"
# And the C counterparts (make c), for a test that runs one without its
# source at hand (lab/bench runs 01-clone's ns_child_exec).
make -s -C "$repo" c BIN="$share/prog" CC="$VM_CC" >/dev/null || die "make c failed"
unset GOARCH CGO_ENABLED CC
cp "$lab/guest-run.sh" "$share/run.sh"
# Limits for the guest's runner (lab/guest-run.sh reads this file): each
# binary's -test.timeout, the runner's own limit a minute above it, and
# NSLAB_PATIENCE for the tests' hang guards (nstest.Patience).
printf 'test_timeout=%dm\npkg_limit=%d\npatience=%d\n' $((20 * slow)) $((1200 * slow + 60)) "$slow" >"$share/limits"

# ---------------------------------------------------------------------------
step "boot" "$VM_QEMU_SYSTEM (TCG, 2 CPUs, 2 GB), tests as root in the guest"
qemu-img create -q -f qcow2 -b "$img/root.ext4" -F raw "$run/overlay.qcow2"
append="root=/dev/vda rw console=$VM_CONSOLE systemd.unified_cgroup_hierarchy=1 quiet"
qemu=("$VM_QEMU_SYSTEM" "${VM_MACHINE[@]}" -accel tcg -smp 2 -m 2048
  -nographic -vga none -no-reboot -nic none
  -kernel "$img/vmlinuz" -initrd "$img/initrd.img"
  -drive "file=$run/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe"
  -virtfs "local,path=$share,mount_tag=nslab,security_model=none,id=nslab")
if [ "$mode" = shell ]; then
  say "root shell on the serial console; 'exit' powers the guest off"
  "${qemu[@]}" -serial mon:stdio -append "$append nslab.shell"
  exit 0
fi
say "console: $console; limit ${timeout_s} s (NSLAB_VM_TIMEOUT)"
boot_start=$SECONDS
booted=1
timeout -k 10 "$timeout_s" "${qemu[@]}" -monitor none -serial "file:$console" \
  -append "$append nslab.test" >"$run/qemu.log" 2>&1 &
qemu_pid=$!
# Follow the guest's progress lines while it runs.
tail -n +1 -F --pid="$qemu_pid" "$console" 2>/dev/null |
  sed -un 's/\r//g; s/^.*nslab-guest: /  guest: /p' &
follow_pid=$!
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=''
wait "$follow_pid" 2>/dev/null || true
say "guest ran $((SECONDS - boot_start)) s"
if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
  die "the guest did not finish within ${timeout_s} s (NSLAB_VM_TIMEOUT): killed"
fi
[ "$qemu_rc" -eq 0 ] || die "qemu exited with status $qemu_rc"
[ -f "$share/results/done" ] || die "the guest powered off without finishing the tests"

# ---------------------------------------------------------------------------
step "results" "each package's tests, as run in the guest (go tool test2json)"
# test_events PKG.json: go test -json's events, one a line, as
# ACTION<TAB>TEST<TAB>OUTPUT (TEST empty for the package's own events, OUTPUT
# unquoted and without its newline). test2json writes each event as one
# line of JSON, fields in a fixed order, strings escaped as Go's
# encoding/json does: no jq needed.
test_events() {
  awk '
    function unquote(s,    out, i, c, n, h) {
      out = ""
      while ((i = index(s, "\\")) > 0) {
        out = out substr(s, 1, i - 1)
        c = substr(s, i + 1, 1)
        if (c == "n") out = out "\n"
        else if (c == "t") out = out "\t"
        else if (c == "r") out = out ""
        else if (c == "b" || c == "f") out = out " "
        else if (c == "u") {
          # \u003c, \u003e, \u0026 and control bytes; others stay as written.
          n = 0
          for (h = 1; h <= 4; h++) n = n * 16 + index("0123456789abcdef", tolower(substr(s, i + 1 + h, 1))) - 1
          out = out (n >= 32 && n < 127 ? sprintf("%c", n) : (n < 32 ? " " : substr(s, i, 6)))
          i += 4
        } else out = out c
        s = substr(s, i + 2)
      }
      return out s
    }
    function field(key) {
      if (!match($0, "\"" key "\":\"([^\"\\\\]|\\\\.)*\"")) return ""
      return unquote(substr($0, RSTART + length(key) + 4, RLENGTH - length(key) - 5))
    }
    {
      out = field("Output")
      sub(/\n$/, "", out)
      gsub(/\n/, " ", out)
      print field("Action") "\t" field("Test") "\t" out
    }' "$1"
}
res=$share/results
total_pass=0 total_fail=0 total_skip=0
bad=()
for i in "${!names[@]}"; do
  name=${names[i]}
  out=$res/$name.out
  json=$res/$name.json
  rc=$(cat "$res/$name.rc" 2>/dev/null || echo none)
  printf '\n%s (exit %s)\n' "$name" "$rc"
  if [ ! -f "$out" ]; then
    echo "  no output: the binary did not run"
    bad+=("$name: did not run")
    continue
  fi
  # The guest ran the binary as go test -json does (-test.v=test2json); the
  # conversion is test2json's, so a line a test prints that looks like a
  # result is output, not a result. The stream ends as go test ends it: a
  # binary that exited non-zero gets its exit status and a (framed) FAIL
  # line, which also gives test2json the result it still held back when a
  # test panicked right after its "--- FAIL:". -t: each event's Elapsed as
  # the binary reported it (its Time is only when the host converted it).
  pkg=${pkgs[i]}
  {
    cat "$out"
    [ -z "$(tail -c 1 "$out")" ] || echo
    if [ "$rc" = 0 ]; then
      printf 'ok  \t%s\n' "$pkg"
    else
      printf 'exit status %s\n\026FAIL\t%s\n' "$rc" "$pkg"
    fi
  } | "$GO" tool test2json -t -p "$pkg" >"$json" || die "go tool test2json failed on $out"
  ev=$(test_events "$json")
  # Every test and subtest that ended, in that order, indented by depth: a
  # test's parent is the longest test before it that its name extends (a
  # subtest's own name may hold a slash: t.Run("Go/SIGINT", ...)).
  awk -F'\t' '$2 == "" { next }
    $1 == "run" {
      d = 0
      p = $2
      while (sub(/\/[^\/]*$/, "", p)) if (p in depth) { d = depth[p] + 1; break }
      depth[$2] = d
    }
    $1 ~ /^(pass|fail|skip)$/ { printf "%*s--- %s: %s\n", 2 + 4 * depth[$2], "", toupper($1), $2 }' <<<"$ev"
  p=$(grep -c $'^pass\t[^\t]' <<<"$ev" || true)
  f=$(grep -c $'^fail\t[^\t]' <<<"$ev" || true)
  s=$(grep -c $'^skip\t[^\t]' <<<"$ev" || true)
  total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
  # Tests the binary lists that never started, and tests that started and
  # never ended (the binary crashed, hung or was killed while they ran).
  read -r -a notrun < <(awk -F'\t' 'NR == FNR { if ($0 != "") want[++n] = $0; next }
    $2 != "" && $1 == "run" { seen[$2] = 1 }
    END { for (i = 1; i <= n; i++) if (!(want[i] in seen)) printf "%s ", want[i]; print "" }' \
    "$share/expected/$name" - <<<"$ev")
  read -r -a unfinished < <(awk -F'\t' '$2 == "" { next }
    $1 == "run" { running[$2] = 1; order[++n] = $2 }
    $1 ~ /^(pass|fail|skip)$/ { delete running[$2] }
    END { for (i = 1; i <= n; i++) if (order[i] in running) printf "%s ", order[i]; print "" }' <<<"$ev")
  [ ${#notrun[@]} -eq 0 ] || { echo "  NOT RUN: ${notrun[*]}"; bad+=("$name: ${#notrun[@]} test(s) never ran"); }
  [ ${#unfinished[@]} -eq 0 ] || {
    echo "  NO RESULT: ${unfinished[*]}"
    bad+=("$name: ${#unfinished[@]} test(s) started and never ended")
  }
  # The failed and unended tests by name, each with the last 6 lines it
  # logged (t.Log and t.Error look alike, and the error may come before a
  # success line) or a panic: CI shows only the end of this output. A
  # test's lines are its own output events, whatever ran beside it.
  if [ "$f" -gt 0 ] || [ ${#unfinished[@]} -gt 0 ]; then
    [ "$f" -eq 0 ] || bad+=("$name: $f failed")
    while IFS= read -r l; do bad+=("  $l"); done < <(awk -F'\t' -v unfinished="${unfinished[*]}" '
      function show(t, why,    i) {
        print t why ":"
        for (i = (n[t] > 6 ? n[t] - 6 : 0); i < n[t]; i++) print "    " msg[t, i % 6]
      }
      $1 == "output" && $2 != "" {
        line = substr($0, length($1) + length($2) + 3)
        if (line ~ /^ +[^ ]+\.go:[0-9]+: / || line ~ /^panic: /) {
          sub(/^ +/, "", line)
          msg[$2, n[$2] % 6] = substr(line, 1, 200)
          n[$2]++
        }
      }
      $1 == "fail" && $2 != "" { show($2, "") }
      END {
        k = split(unfinished, u, " ")
        for (i = 1; i <= k; i++) show(u[i], " (no result)")
      }' <<<"$ev" | head -40)
  fi
  [ "$s" -eq 0 ] || bad+=("$name: $s skipped (NSLAB_REQUIRE_PRIVILEGED=1)")
  if [ "$rc" != 0 ] && [ "$f" -eq 0 ]; then
    bad+=("$name: exit $rc without a failed test (crash, panic or timeout)")
  fi
  if [ "$rc" != 0 ] || [ "$f" -gt 0 ] || [ "$s" -gt 0 ]; then
    # Without test2json's ^V marks, and without the bare "=== NAME" lines
    # that hand the output back to the package after each test.
    echo "  --- last 80 lines of $out (^V marks left out):"
    sed $'/^\x16=== NAME  $/d; s/\x16//g' "$out" | tail -n 80 | sed 's/^/  | /'
  fi
done
summary_line="vm-test ($(sed -n 's/^machine: //p' "$res/guest-info.txt" 2>/dev/null || echo "$VM_UNAME")): $total_pass passed, $total_fail failed, $total_skip skipped"
echo
say "guest: $(sed -n 's/^machine: //p' "$res/guest-info.txt"), kernel $(sed -n 's/^kernel: //p' "$res/guest-info.txt"), cgroup: $(sed -n 's/^cgroup fs: //p' "$res/guest-info.txt") ($(sed -n 's/^cgroup.controllers: //p' "$res/guest-info.txt"))"
say "results and logs: $res/ (console: $console)"
say "total $((SECONDS - t_start)) s, of which the guest $((SECONDS - boot_start)) s; counts include subtests"
rm -f "$run/overlay.qcow2"
if [ ${#bad[@]} -gt 0 ]; then
  current=results
  booted=0 # the console is not the problem here; the outputs above are
  printf 'vm-test: %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "$summary_line"
