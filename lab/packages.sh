# shellcheck shell=bash
# What nslab needs from the distribution: the ONE list, and the few functions
# that install from it. Sourced, never run, by lab/setup.sh (the set-up that
# `make tour` and `make test` run first; .ci/run runs it too) and by
# lab/provision.sh (Vagrant, and the vm-test image).
#
# One line a Debian/Ubuntu package: its name, then what shows that it is
# there: commands (looked up on PATH) or absolute paths; "a|b" is either.
# Every item must be there. Go is not listed: lab/setup.sh wants Go 1.21 or
# newer (go.mod names 1.22; 1.21's toolchain switch fetches that) and
# lab/provision.sh installs golang-1.23 from bookworm-backports.
# shellcheck disable=SC2034 # used by the scripts that source this file
NSLAB_PACKAGES='
gcc             gcc
libc6-dev       /usr/include/stdio.h
binutils        nm
make            make
util-linux      unshare nsenter ipcs ipcmk setpriv lsns
iproute2        ip
iputils-ping    ping
procps          ps pgrep
psmisc          pstree
stress          stress
stress-ng       stress-ng
busybox-static  busybox
cgroup-tools    cgcreate
hostname        hostname
libc-bin        ldd
coreutils       chroot
ca-certificates /etc/ssl/certs/ca-certificates.crt|/etc/pki/tls/certs/ca-bundle.crt|/etc/ssl/cert.pem
git             git
runc            runc
'
# What `make lint` adds (.ci/run: lab/setup.sh --lint).
# shellcheck disable=SC2034
NSLAB_LINT_PACKAGES='
shellcheck      shellcheck
'

# nslab_packages LIST: every package name of LIST (e.g. "$NSLAB_PACKAGES"),
# one a line.
nslab_packages() {
  awk 'NF { print $1 }' <<<"$1"
}

# nslab_missing LIST: the packages of LIST whose commands or files are not
# all there, one a line (nothing when all is there).
nslab_missing() {
  local pkg items item alt found missing
  while read -r pkg items; do
    [ -n "$pkg" ] || continue
    missing=0
    for item in $items; do
      found=0
      for alt in ${item//|/ }; do
        if [[ $alt == /* ]]; then [ -e "$alt" ] && found=1; else command -v "$alt" >/dev/null 2>&1 && found=1; fi
      done
      [ "$found" -eq 1 ] || missing=1
    done
    [ "$missing" -eq 0 ] || echo "$pkg"
  done <<<"$1"
}

# nslab_debian_mirror SUITE: the mirror this machine already uses for SUITE,
# from one-line (sources.list, *.list) or deb822 (*.sources) files;
# deb.debian.org if none.
nslab_debian_mirror() {
  local suite=$1 files=() f m=''
  shopt -s nullglob
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [ -f "$f" ] && files+=("$f"); done
  if [ ${#files[@]} -gt 0 ]; then
    m=$(awk -v s="$suite" '$1 == "deb" { for (i = 2; i < NF; i++) if ($i ~ /^[a-z+]+:\/\// && $(i + 1) == s) { print $i; exit } }' "${files[@]}")
  fi
  if [ -z "$m" ]; then
    files=(/etc/apt/sources.list.d/*.sources)
    if [ ${#files[@]} -gt 0 ]; then
      m=$(awk -v s="$suite" 'BEGIN { RS = "" } {
            uri = ""; hit = 0; n = split($0, line, "\n")
            for (j = 1; j <= n; j++) {
              if (line[j] ~ /^URIs:/) { split(line[j], w, /[ \t]+/); uri = w[2] }
              if (line[j] ~ /^Suites:/) { k = split(line[j], w, /[ \t]+/); for (i = 2; i <= k; i++) if (w[i] == s) hit = 1 }
            }
            if (hit && uri != "") { print uri; exit }
          }' "${files[@]}")
    fi
  fi
  shopt -u nullglob
  if [ -z "$m" ]; then
    case $suite in
    *-security) m=http://deb.debian.org/debian-security ;;
    *) m=http://deb.debian.org/debian ;;
    esac
  fi
  echo "$m"
}

NSLAB_BACKPORTS_LIST=/etc/apt/sources.list.d/nslab-backports.list

# nslab_has_backports SUITE: some APT source names SUITE-backports.
nslab_has_backports() {
  grep -rqsE "(^|[[:space:]])$1-backports([[:space:]]|\$)" /etc/apt/sources.list /etc/apt/sources.list.d/
}

# nslab_add_backports SUITE: adds SUITE-backports on the mirror the machine
# already uses (Debian 12's Go 1.19 is too old; backports has golang-1.23).
nslab_add_backports() {
  echo "deb $(nslab_debian_mirror "$1") $1-backports main" >"$NSLAB_BACKPORTS_LIST"
}

# nslab_apt_lists_fresh: APT's package lists were fetched within a day.
nslab_apt_lists_fresh() {
  [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Release' -mmin -1440 -print -quit 2>/dev/null)" ]
}

# nslab_installable PKG...: APT has a candidate version for every PKG.
# (awk, not grep -q: under pipefail, grep -q quitting early can kill
# apt-cache with SIGPIPE and fail the pipe.)
nslab_installable() {
  local p c
  for p in "$@"; do
    c=$(apt-cache policy "$p" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
    [ -n "$c" ] && [ "$c" != "(none)" ] || return 1
  done
}

# nslab_go_package: the newest golang-1.N (N >= 21) APT can install, e.g.
# golang-1.23 (Debian 12 with backports), golang-1.24 (Debian 13),
# golang-1.22 (Ubuntu 24.04); nothing when there is none.
nslab_go_package() {
  local p
  for p in $(apt-cache pkgnames golang-1. 2>/dev/null | grep -E '^golang-1\.[0-9]+$' | sort -t. -k2,2nr); do
    [ "${p#golang-1.}" -ge 21 ] || continue
    if nslab_installable "$p"; then
      echo "$p"
      return 0
    fi
  done
}

# nslab_link_go GOROOT: go and gofmt of GOROOT into /usr/local/bin (on sudo's
# PATH); prints the names it (re)linked.
nslab_link_go() {
  local tool
  for tool in go gofmt; do
    [ -x "$1/bin/$tool" ] || return 1
    if [ "$(readlink "/usr/local/bin/$tool" 2>/dev/null)" != "$1/bin/$tool" ]; then
      ln -sfn "$1/bin/$tool" "/usr/local/bin/$tool"
      echo "$tool"
    fi
  done
}
