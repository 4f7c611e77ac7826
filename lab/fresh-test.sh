#!/usr/bin/env bash
# make fresh-test: the README's promise that on a fresh Debian 12 with only
# git, make and sudo, `sudo make tour` and `sudo make test` set up all they
# need. CI runs it as its own step.
#
# 1. A Debian 12 minbase root (debootstrap --variant=minbase bookworm, with
#    git, make and sudo added), cached like the vm-test image in
#    $NSLAB_VM_CACHE/fresh-KEY (default lab/.cache/vm), KEY being the sha256
#    of lab/packages.sh and this script. It is never used itself: each run
#    works on a throwaway copy.
# 2. In the copy, as root in a chroot: git clone of this repository's
#    committed HEAD, then `make setup`, the set-up `make tour` and `make test`
#    run first. It must succeed and say in one line what it installs.
# 3. Every package of lab/packages.sh is installed (dpkg) and every command
#    it names is on root's PATH; the Go make setup gave, with no toolchain
#    switch (GOTOOLCHAIN=local), is at least the `go` line of go.mod: it
#    builds the repository as it is, with nothing downloaded but modules.
# 4. `make setup` again prints nothing.
#
# Needs root (debootstrap, chroot) and the network (the Debian mirror). The
# chroot's /proc, /sys and /dev exist only in a private mount namespace
# (unshare -m) and vanish with it: nothing is mounted on the host.
# Environment: NSLAB_VM_CACHE, NSLAB_VM_MIRROR (as lab/vm-image.sh).
set -euo pipefail

lab=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$lab")
cache=${NSLAB_VM_CACHE:-$lab/.cache/vm}
key=$(cat "$lab/packages.sh" "$lab/fresh-test.sh" | sha256sum | cut -c1-16)
base=$cache/fresh-$key
run=$cache/fresh-run
SUITE=bookworm

say() { printf 'fresh-test: %s\n' "$*"; }
die() { printf 'fresh-test: FAIL: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "fresh-test: needs root (debootstrap, chroot): sudo make fresh-test" >&2; exit 2; }
command -v debootstrap >/dev/null || {
  say "installing debootstrap (to build the fresh root)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}

t0=$SECONDS
lap() { say "$1 in $((SECONDS - t_lap)) s"; t_lap=$SECONDS; }
t_lap=$SECONDS

# Run a command in root directory $1, as sudo would run it for a learner:
# root, a clean environment, sudo's PATH. /proc, /sys, /dev and the
# repository (read-only, at /mnt/nslab-src) are mounted in a private mount
# namespace that ends with the command.
inroot() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  unshare --mount --propagation private -- /bin/bash -c '
    set -e
    r=$1 src=$2; shift 2
    mount -t proc proc "$r/proc"
    mount -t sysfs sysfs "$r/sys"
    mount --rbind /dev "$r/dev"
    mkdir -p "$r/mnt/nslab-src"
    mount -o ro --bind "$src" "$r/mnt/nslab-src"
    exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"' inroot "$1" "$repo" "${@:2}"
}

# 1. The fresh root, cached.
mkdir -p "$cache"
if [ -f "$base/ok" ]; then
  say "cached fresh root $base (built $(cat "$base/ok"))"
else
  rm -rf "$cache"/fresh-*
  mirror=${NSLAB_VM_MIRROR:-$(bash "$lab/provision.sh" --mirror "$SUITE")}
  security=$(bash "$lab/provision.sh" --mirror "$SUITE-security")
  say "debootstrap --variant=minbase --include=git,make,sudo $SUITE from $mirror (about 1 min)"
  tmp=$cache/fresh-build.$$
  trap 'rm -rf "$tmp"' EXIT
  if ! debootstrap --variant=minbase --include=git,make,sudo "$SUITE" "$tmp/root" "$mirror" >"$cache/fresh-debootstrap.log" 2>&1; then
    tail -n 20 "$cache/fresh-debootstrap.log" >&2
    die "debootstrap failed (log: $cache/fresh-debootstrap.log)"
  fi
  # What a fresh Debian 12 has in its sources.
  cat >"$tmp/root/etc/apt/sources.list" <<EOF
deb $mirror $SUITE main
deb $mirror $SUITE-updates main
deb $security $SUITE-security main
EOF
  # No package's maintainer script may start a service from the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/root/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/root/usr/sbin/policy-rc.d"
  rm -f "$cache/fresh-debootstrap.log"
  date -u +%FT%TZ >"$tmp/ok"
  mv "$tmp" "$base"
  trap - EXIT
  lap "fresh root built"
fi

# 2. A throwaway copy; the clone; the set-up.
rm -rf "$run"
trap 'rm -rf "$run"' EXIT
cp -a "$base/root" "$run"
cp -L /etc/resolv.conf "$run/etc/resolv.conf"
lap "copied the fresh root"
for tool in go gcc stress busybox ping; do
  if [ -e "$run/usr/bin/$tool" ] || [ -e "$run/usr/local/bin/$tool" ]; then die "the fresh root already has $tool"; fi
done

inroot "$run" git -c safe.directory='*' clone -q /mnt/nslab-src /root/nslab ||
  die "git clone of the repository in the fresh root failed"
say "cloned $(git -C "$repo" -c safe.directory='*' rev-parse --short HEAD) into the fresh root"

say "make setup in the fresh root (what sudo make tour / make test run first)"
if ! inroot "$run" bash -c 'cd /root/nslab && make setup' >"$cache/fresh-setup-1.log" 2>&1; then
  sed 's/^/    /' "$cache/fresh-setup-1.log" >&2
  die "make setup failed in the fresh root"
fi
sed 's/^/    /' "$cache/fresh-setup-1.log"
lap "first set-up"
if [ "$(wc -l <"$cache/fresh-setup-1.log")" -ne 1 ] || ! grep -q '^setup: installing ' "$cache/fresh-setup-1.log"; then
  die "the set-up should print one line saying what it installs (above)"
fi

# 3. Everything there: by dpkg for each package, by PATH for each command.
# shellcheck disable=SC2016 # expanded by the inner bash
if ! inroot "$run" bash -c '
  . /root/nslab/lab/packages.sh
  bad=0
  while read -r pkg items; do
    [ -n "$pkg" ] || continue
    if [ "$(dpkg-query -W -f="\${Status}" "$pkg" 2>/dev/null)" != "install ok installed" ]; then
      echo "package $pkg is not installed"; bad=1
    fi
    for item in $items; do
      case $item in
      /*) ;;
      *) command -v "$item" >/dev/null || { echo "command $item ($pkg) is not on PATH"; bad=1; } ;;
      esac
    done
  done <<<"$NSLAB_PACKAGES"
  exit $bad'; then
  die "the set-up left something out (above)"
fi
say "every package of lab/packages.sh is installed and its commands are on PATH"

# GOTOOLCHAIN=local: this Go itself, not one its toolchain switch would
# fetch for go.mod.
want=$(awk '$1 == "go" { print $2; exit }' "$repo/go.mod")
t_lap=$SECONDS
out=$(inroot "$run" bash -c "cd /root/nslab && GOTOOLCHAIN=local go version" 2>"$cache/fresh-go.log") || {
  cat "$cache/fresh-go.log" >&2
  die "go version in the clone failed"
}
have=$(awk '{ print $3 }' <<<"$out")
have=${have#go}
say "go version in the clone, GOTOOLCHAIN=local: $out"
[ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1)" = "$want" ] ||
  die "the set-up's Go is go$have; go.mod needs go$want (a toolchain download)"
lap "Go $have (go.mod: $want) ready, no toolchain download"

# 4. Idempotent and quiet.
if ! inroot "$run" bash -c 'cd /root/nslab && make setup' >"$cache/fresh-setup-2.log" 2>&1; then
  cat "$cache/fresh-setup-2.log" >&2
  die "the second make setup failed"
fi
[ ! -s "$cache/fresh-setup-2.log" ] || {
  sed 's/^/    /' "$cache/fresh-setup-2.log" >&2
  die "the second make setup printed something (above): it should find everything there"
}
lap "second set-up, silent"
rm -f "$cache"/fresh-setup-?.log "$cache/fresh-go.log"
say "PASS in $((SECONDS - t0)) s"
