#!/usr/bin/env bash
# The set-up that `sudo make tour` and `sudo make test` run first (make
# setup): installs what the chapters and the tests use when it is missing,
# saying in one line what and why, and prints nothing when all is there.
#
#   - the packages of lab/packages.sh, by the commands and files they give;
#   - Go 1.21 or newer when the Go that make would use is missing or older
#     (go.mod names 1.22, the oldest Go that builds the chapters; a 1.21
#     fetches it through the Go module proxy, its toolchain switch, and a
#     1.22 or newer builds at once): the newest golang-1.N APT offers
#     (Debian 12: golang-1.23 from bookworm-backports, which it adds as
#     lab/provision.sh does; Debian 13: golang-1.24; Ubuntu: golang-1.21+
#     from jammy-updates, golang-1.22+ on
#     noble), with go and gofmt linked into /usr/local/bin (on sudo's PATH);
#   - with --lint, also go.mod's own Go (golang-1.22, from bookworm-backports
#     on Debian 12), which make lint builds and vets with, as the learner
#     with the oldest Go would (the newest builds every day).
#
# Knows Debian 12 and 13 and Ubuntu 22.04 and 24.04 (apt-get). Elsewhere, if
# anything is missing, one line names it and the exit status is 2.
# Usage: bash lab/setup.sh [--lint]   --lint: also what make lint uses
# Environment: NSLAB_SETUP=0 skips it all; GO: the Go make will use.
set -euo pipefail

[ "${NSLAB_SETUP:-1}" = 0 ] && exit 0

lab=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab/packages.sh
. "$lab/packages.sh"
list=$NSLAB_PACKAGES
[ "${1:-}" = --lint ] && list+=$NSLAB_LINT_PACKAGES
MIN_GO=1.21
skip="NSLAB_SETUP=0 skips this"

# Go's own version ("1.23.1"), outside any module so that no toolchain
# switch happens.
go_version() {
  local v
  v=$(cd / && GOTOOLCHAIN=local "$1" version 2>/dev/null | awk '{ print $3 }') || return 1
  [ -n "$v" ] && echo "${v#go}"
}
new_enough() { [ "$(printf '%s\n%s\n' "$MIN_GO" "$1" | sort -V | head -n 1)" = "$MIN_GO" ]; }

mapfile -t missing < <(nslab_missing "$list")
# --lint: go.mod's Go as well (golang-1.22-go), unless it is there.
oldest=''
if [ "${1:-}" = --lint ]; then
  v=$(awk '$1 == "go" { split($2, p, "."); print p[1] "." p[2]; exit }' "$lab/../go.mod")
  [ -x "/usr/lib/go-$v/bin/go" ] || oldest=golang-$v-go
fi

# Go: the one make will use ($GO, or go on PATH, or /usr/local/go/bin/go, as
# the Makefile looks); else a new enough one elsewhere, to link; else none.
make_go=${GO:-$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)}
go_have=''
[ -x "$make_go" ] && go_have=$(go_version "$make_go" || true)
go_link='' go_why=''
if [ -z "$go_have" ] || ! new_enough "$go_have"; then
  go_why=${go_have:+"make finds Go $go_have, older than $MIN_GO"}
  go_why=${go_why:-"make finds no Go"}
  for g in /usr/local/go/bin/go $(printf '%s\n' /usr/lib/go-1.*/bin/go | sort -t. -k2,2nr); do
    if [ "$g" != "$make_go" ] && [ -x "$g" ] && v=$(go_version "$g") && new_enough "$v"; then
      go_link=$(dirname "$(dirname "$g")")
      break
    fi
  done
fi

[ ${#missing[@]} -eq 0 ] && [ -z "$go_why" ] && [ -z "$oldest" ] && exit 0

want="${missing[*]}"
[ -n "$go_why" ] && want+="${want:+ and }Go $MIN_GO+ ($go_why)"
[ -n "$oldest" ] && want+="${want:+ and }$oldest (go.mod's Go, for make lint)"

# Only a Go to link, on any distribution: Go $MIN_GO+ is installed, but not
# where make looks.
if [ ${#missing[@]} -eq 0 ] && [ -n "$go_link" ] && [ -z "$oldest" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: $go_why, but $go_link has Go $MIN_GO+: run as root (sudo make ...) to link it into /usr/local/bin ($skip)" >&2
    exit 2
  fi
  echo "setup: linking go and gofmt of $go_link into /usr/local/bin, on sudo's PATH ($go_why; $skip)"
  nslab_link_go "$go_link" >/dev/null
  exit 0
fi

# NSLAB_OS_RELEASE: another os-release, for lab/setup_test.go.
# shellcheck source=/dev/null
. "${NSLAB_OS_RELEASE:-/etc/os-release}" 2>/dev/null || true
case "${ID:-}:${VERSION_ID:-}" in
debian:12 | debian:13 | ubuntu:22.04 | ubuntu:24.04) ;;
*)
  echo "setup: missing $want; this is ${PRETTY_NAME:-an unknown system}, which lab/setup.sh does not know" \
    "(Debian 12/13, Ubuntu 22.04/24.04): install them with its package manager (Debian names above) and run again ($skip)" >&2
  exit 2
  ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing $want, which the chapters and tests use: run as root (sudo make ...) to install them ($skip)" >&2
  exit 2
fi

backports=''
[ "$ID:$VERSION_ID" = debian:12 ] && { [ -n "$go_why" ] && [ -z "$go_link" ] || [ -n "$oldest" ]; } && backports=bookworm-backports
echo "setup: installing $want${backports:+ from $backports}, which the chapters and tests use ($skip)"

log=$(mktemp /tmp/nslab-setup.XXXXXX)
trap 'rm -f "$log"' EXIT
fail() {
  tail -n 20 "$log" >&2
  echo "setup: $1 failed (above); fix it and run again, or install the packages by hand ($skip)" >&2
  exit 1
}
export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y -qq --no-install-recommends "$@" >>"$log" 2>&1 || fail "apt-get install $*"; }

# apt-get update when a source was added, the lists are older than a day,
# or they lack something to install.
update=0
if [ -n "$backports" ] && ! nslab_has_backports bookworm; then
  nslab_add_backports bookworm
  update=1
fi
nslab_apt_lists_fresh || update=1
nslab_installable "${missing[@]}" || update=1
[ -n "$go_why" ] && [ -z "$go_link" ] && [ -z "$(nslab_go_package)" ] && update=1
[ -n "$oldest" ] && ! nslab_installable "$oldest" && update=1
[ "$update" -eq 0 ] || apt-get update -qq >>"$log" 2>&1 || fail "apt-get update"
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

if [ -n "$go_why" ] && [ -n "$go_link" ]; then
  nslab_link_go "$go_link" >/dev/null
elif [ -n "$go_why" ]; then
  pkg=$(nslab_go_package)
  [ -n "$pkg" ] || fail "finding golang-1.21 or newer in APT's sources"
  apt_install ${backports:+-t "$backports"} "$pkg"
  nslab_link_go "/usr/lib/go-${pkg#golang-}" >/dev/null || fail "linking /usr/lib/go-${pkg#golang-}/bin/go"
fi
[ -z "$oldest" ] || apt_install ${backports:+-t "$backports"} "$oldest"

# What is still missing now is a bug here, or a package that gives other
# commands on this release: say so rather than let a test fail later.
mapfile -t still < <(nslab_missing "$list")
[ ${#still[@]} -eq 0 ] || fail "installing ${still[*]} (still missing after apt-get install)"
