#!/usr/bin/env bash
# Provisioning for the nslab lab machine (Debian 12 "bookworm").
#
# Run by Vagrant (config.vm.provision "shell", path: "lab/provision.sh") and,
# unchanged, by the guest test harness inside a debootstrap chroot
# (lab/vm-image.sh), which also runs it twice in a row to prove it is
# idempotent. Safe to run by hand: sudo bash lab/provision.sh
#
# What it does, each step printed with "changed" or "ok":
#   1. adds bookworm-backports to APT's sources, on the mirror the machine
#      already uses, if no source names it;
#   2. apt-get update, only when the sources changed or the lists are missing
#      or older than a day;
#   3. installs what the chapters use, from Debian, where missing;
#   4. installs Go from bookworm-backports (golang-1.23, the newest Go there)
#      and links go and gofmt into /usr/local/bin (on sudo's PATH too);
#   5. lets root build in the repository (git safe.directory, see below);
#   6. on a machine with the repository (Vagrant: /vagrant), fetches the
#      module dependencies go.mod lists.
#
# About Go: go.mod says `go 1.22.0`, the oldest Go the chapters need, and
# its dependencies are pinned to versions that accept it, so Debian's
# golang-1.23 builds the repository as it is: no toolchain is downloaded.
# The modules come through the Go module proxy, checked against go.sum, over
# HTTPS (hence ca-certificates); step 6 fetches them once, at `vagrant up`,
# so `sudo make tour` starts at once. The harness guest needs no Go: it runs
# test binaries compiled on the host.
#
# Environment: NSLAB_REPO (default /vagrant) is where to look for go.mod.
# `provision.sh --mirror [SUITE]` only prints the APT mirror this machine uses
# for SUITE (the harness builds its image from the same one).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
GO_PKG=golang-1.23
GO_ROOT=/usr/lib/go-1.23
SUITE=bookworm
REPO=${NSLAB_REPO:-/vagrant}

# The chapters' tools, by Debian package: the one list, lab/packages.sh
# (also used by lab/setup.sh and .ci/run). It sits beside this script, or in
# the repository: Vagrant uploads this script alone, after syncing $REPO.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for lib in "$here/packages.sh" "$REPO/lab/packages.sh"; do
  if [ -f "$lib" ]; then
    # shellcheck source=lab/packages.sh
    . "$lib"
    break
  fi
done
declare -F nslab_packages >/dev/null || {
  echo "provision: error: lab/packages.sh not found beside $0 nor in $REPO/lab" >&2
  exit 1
}
mapfile -t PACKAGES < <(nslab_packages "$NSLAB_PACKAGES")

changes=0
step_no=0
step() { step_no=$((step_no + 1)); printf 'provision: [%d] %s ... ' "$step_no" "$1"; }
ok() { printf 'ok (%s)\n' "$1"; }
changed() { printf 'changed (%s)\n' "$1"; changes=$((changes + 1)); }
die() { printf '\nprovision: error: %s\n' "$1" >&2; exit 1; }

if [ "${1:-}" = --mirror ]; then
  nslab_debian_mirror "${2:-$SUITE}"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "run as root (sudo bash $0)"

# shellcheck source=/dev/null
. /etc/os-release
[ "${VERSION_CODENAME:-}" = "$SUITE" ] ||
  die "written for Debian 12 ($SUITE); this is ${PRETTY_NAME:-an unknown system}"

# Inside a chroot (the harness's image build) no init system runs: make sure
# no package's maintainer script tries to start a service, and undo that at
# the end. In a real VM this does nothing.
in_chroot() {
  [ ! -d /proc/1 ] && return 0
  [ "$(stat -c %d:%i /)" != "$(stat -Lc %d:%i /proc/1/root 2>/dev/null)" ]
}
if in_chroot && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  echo "provision: chroot detected: services will not be started (temporary policy-rc.d)"
fi

# 1. bookworm-backports
step "APT source for $SUITE-backports"
sources_changed=0
if nslab_has_backports "$SUITE"; then
  ok "already configured"
else
  nslab_add_backports "$SUITE"
  sources_changed=1
  changed "added $NSLAB_BACKPORTS_LIST: $(cat "$NSLAB_BACKPORTS_LIST")"
fi

# 2. apt-get update, only when needed
step "APT package lists"
shopt -s nullglob
bp_lists=(/var/lib/apt/lists/*_dists_"$SUITE"-backports_*Packages*)
shopt -u nullglob
if [ "$sources_changed" -eq 1 ] || [ ${#bp_lists[@]} -eq 0 ] || ! nslab_apt_lists_fresh; then
  apt-get update -qq || die "apt-get update failed"
  # Refreshing the lists changes nothing installed: not counted as a change.
  ok "refreshed with apt-get update"
else
  ok "fresh (updated within a day)"
fi

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

# 3. the chapters' tools
step "packages: ${PACKAGES[*]}"
missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  ok "all installed"
else
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/nslab-provision-apt.log 2>&1 ||
    { cat /tmp/nslab-provision-apt.log >&2; die "apt-get install ${missing[*]} failed"; }
  changed "installed ${missing[*]}"
fi

# 4. Go from bookworm-backports, on PATH
step "Go ($GO_PKG from $SUITE-backports)"
if installed "$GO_PKG"; then
  ok "$GO_PKG installed"
else
  apt-get install -y -qq --no-install-recommends -t "$SUITE-backports" "$GO_PKG" >/tmp/nslab-provision-apt.log 2>&1 ||
    { cat /tmp/nslab-provision-apt.log >&2; die "apt-get install -t $SUITE-backports $GO_PKG failed"; }
  changed "installed $GO_PKG $(dpkg-query -W -f='${Version}' "$GO_PKG")"
fi
rm -f /tmp/nslab-provision-apt.log

step "go and gofmt in /usr/local/bin"
linked=$(nslab_link_go "$GO_ROOT") || die "$GO_ROOT/bin/go or gofmt missing after installing $GO_PKG"
if [ -z "$linked" ]; then
  ok "links in place: $(/usr/local/bin/go version)"
else
  changed "linked ${linked//$'\n'/ } -> $GO_ROOT/bin"
fi

# 5. git: the repository belongs to the vagrant user but `sudo make tour`
# builds as root, and git (2.35.2+) refuses to read a repository another user
# owns ("dubious ownership"); go build's VCS stamping then fails with "error
# obtaining VCS status: exit status 128". Trust the repository system-wide.
step "git safe.directory $REPO (go build as root in the vagrant user's repo)"
if git config --system --get-all safe.directory 2>/dev/null | grep -qxF "$REPO"; then
  ok "already trusted"
else
  git config --system --add safe.directory "$REPO"
  changed "added to /etc/gitconfig"
fi

# 6. the modules go.mod lists (only where the repo is)
step "Go modules for $REPO/go.mod"
if [ ! -f "$REPO/go.mod" ]; then
  ok "skipped: no $REPO/go.mod here (the harness image runs prebuilt tests)"
else
  if out=$(cd "$REPO" && GOTOOLCHAIN=local /usr/local/bin/go mod download -x 2>&1); then
    if grep -q '^# get ' <<<"$out"; then
      changed "downloaded $(grep -c '^# get .*\.zip: 200' <<<"$out") module(s)"
    else
      ok "cached"
    fi
  else
    # Not fatal: everything else is in place, and the first `go` command in
    # the repository tries again (and says why it fails).
    printf 'WARNING\n%s\n' "$out" >&2
    echo "provision: could not fetch the modules through the Go module proxy (network? proxy?);" \
      "the first go command in $REPO will try again" >&2
  fi
fi

if [ "$changes" -eq 0 ]; then
  echo "provision: done, nothing to change"
else
  echo "provision: done, $changes change(s)"
fi
