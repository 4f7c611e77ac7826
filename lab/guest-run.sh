#!/usr/bin/env bash
# Runs INSIDE the harness's guest, as root, at boot (nslab-guest.service runs
# /mnt/nslab/run.sh, which lab/vm-test.sh copies from this file). Runs every
# test binary on the share, one package at a time, from /tmp, and writes per
# package PKG.out (the binary's -test.v=test2json output) and PKG.rc (exit
# status) to /mnt/nslab/results/, then "done". Progress lines start with
# "nslab-guest:" on the serial console, which the host follows.
#
# -test.v=test2json is what go test -json runs a test binary with: -v output
# in which the test framework's own lines (=== RUN, --- PASS: and the like)
# start with a ^V byte (\x16), so that `go tool test2json` tells them from
# anything a test prints. The guest has no Go to convert it; the host does
# (lab/vm-test.sh, PKG.json) and counts from that.
set -uo pipefail

share=/mnt/nslab
results=$share/results
work=/tmp/nslab-tests
# Per-package limit: the binary's own -test.timeout plus a margin, so a
# wedged binary is killed here and the other packages still run. The host
# sets both in limits on the share (more for an emulated arm64 guest).
test_timeout=20m
pkg_limit=1260
patience=1
# shellcheck source=/dev/null
[ -f "$share/limits" ] && . "$share/limits"

say() { echo "nslab-guest: $*"; }

mkdir -p "$results" "$work"
{
  echo "machine: $(uname -m)"
  echo "kernel: $(uname -r)"
  echo "cmdline: $(cat /proc/cmdline)"
  echo "cgroup fs: $(stat -f -c %T /sys/fs/cgroup)"
  echo "cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)"
  echo "cgroup.subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null)"
  echo "own cgroup: $(cat /proc/self/cgroup)"
  echo "propagation of /: $(findmnt -n -o PROPAGATION /)"
  echo "cpus: $(nproc); memory: $(free -m | awk '/^Mem:/ { print $2 " MB" }')"
  echo "unprivileged_userns_clone: $(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null)"
} >"$results/guest-info.txt" 2>&1
sed 's/^/nslab-guest: info: /' "$results/guest-info.txt"

shopt -s nullglob
# The chapter programs, for tests whose peer is another chapter (nstest.Chapter).
mkdir -p "$work/prog"
cp -r "$share"/prog/* "$work/prog/" 2>/dev/null
export NSLAB_BIN=$work/prog
bins=("$share"/bin/*.test)
say "running ${#bins[@]} test binaries"
for bin in "${bins[@]}"; do
  pkg=$(basename "$bin" .test)
  cp "$bin" "$work/$pkg.test"
  say "$pkg: running"
  start=$SECONDS
  (
    cd /tmp &&
      exec timeout --kill-after=30 "$pkg_limit" env NSLAB_REQUIRE_PRIVILEGED=1 NSLAB_GUEST=1 NSLAB_PATIENCE="$patience" \
        "$work/$pkg.test" -test.v=test2json -test.count=1 "-test.timeout=$test_timeout"
  ) </dev/null >"$results/$pkg.out" 2>&1
  rc=$?
  echo "$rc" >"$results/$pkg.rc"
  # Only the framed result lines, as test2json reads them: a marker may also
  # follow output that did not end its line. A test's own "--- PASS:" line
  # is not framed and not counted. The host's counts come from PKG.json.
  pass=$(grep -c $'\x16--- PASS: ' "$results/$pkg.out")
  fail=$(grep -c $'\x16--- FAIL: ' "$results/$pkg.out")
  skip=$(grep -c $'\x16--- SKIP: ' "$results/$pkg.out")
  say "$pkg: exit $rc in $((SECONDS - start)) s ($pass passed, $fail failed, $skip skipped)"
  rm -f "$work/$pkg.test"
done
date -u '+%Y-%m-%dT%H:%M:%SZ' >"$results/done"
sync
say "all packages done"
