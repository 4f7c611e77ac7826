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
#   6. on a machine with the repository (Vagrant: /vagrant), fetches the Go
#      toolchain that go.mod asks for, and the module dependencies.
#
# About Go: go.mod says `go 1.26.8` because golang.org/x/sys and fatih/color
# need a 1.25+ Go, and bookworm-backports stops at 1.23. Rather than pin old
# dependencies (and freeze them at versions that miss fixes), the lab relies
# on Go's own toolchain switch: Debian's Go ships GOTOOLCHAIN=auto, so the
# first `go` command run in the repository downloads go1.26.8 as a module
# (golang.org/toolchain) through the Go module proxy, checksum-verified
# against sum.golang.org, over HTTPS (hence ca-certificates). Step 6 does that
# download once, at `vagrant up`, so `sudo make tour` starts at once. The
# harness guest needs no Go: it runs test binaries compiled on the host.
#
# Environment: NSLAB_REPO (default /vagrant) is where to look for go.mod.
# `provision.sh --mirror [SUITE]` only prints the APT mirror this machine uses
# for SUITE (the harness builds its image from the same one).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
GO_PKG=golang-1.23
GO_ROOT=/usr/lib/go-1.23
SUITE=bookworm
BACKPORTS_LIST=/etc/apt/sources.list.d/nslab-backports.list
REPO=${NSLAB_REPO:-/vagrant}

# The chapters' tools, by Debian package. libc6-dev is what gcc recommends
# (and --no-install-recommends would leave out): the headers the C
# counterparts include. git is for `make lint` (git ls-files).
PACKAGES=(
  gcc libc6-dev make
  stress stress-ng
  iproute2 iputils-ping util-linux procps psmisc
  cgroup-tools busybox-static
  ca-certificates git
)

changes=0
step_no=0
step() { step_no=$((step_no + 1)); printf 'provision: [%d] %s ... ' "$step_no" "$1"; }
ok() { printf 'ok (%s)\n' "$1"; }
changed() { printf 'changed (%s)\n' "$1"; changes=$((changes + 1)); }
die() { printf '\nprovision: error: %s\n' "$1" >&2; exit 1; }

# The mirror this machine already uses for bookworm, from one-line
# (sources.list, *.list) or deb822 (*.sources) files; deb.debian.org if none.
debian_mirror() {
  local suite=${1:-$SUITE} files=() f m=''
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

if [ "${1:-}" = --mirror ]; then
  debian_mirror "${2:-$SUITE}"
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
if grep -rqsE "(^|[[:space:]])$SUITE-backports([[:space:]]|\$)" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  ok "already configured"
else
  mirror=$(debian_mirror)
  echo "deb $mirror $SUITE-backports main" >"$BACKPORTS_LIST"
  sources_changed=1
  changed "added $BACKPORTS_LIST: $mirror $SUITE-backports"
fi

# 2. apt-get update, only when needed
step "APT package lists"
shopt -s nullglob
bp_lists=(/var/lib/apt/lists/*_dists_"$SUITE"-backports_*Packages*)
fresh_lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*Release' -mmin -1440 -print -quit 2>/dev/null)
shopt -u nullglob
if [ "$sources_changed" -eq 1 ] || [ ${#bp_lists[@]} -eq 0 ] || [ -z "$fresh_lists" ]; then
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
linked=()
for tool in go gofmt; do
  [ -x "$GO_ROOT/bin/$tool" ] || die "$GO_ROOT/bin/$tool missing after installing $GO_PKG"
  if [ "$(readlink "/usr/local/bin/$tool" 2>/dev/null)" != "$GO_ROOT/bin/$tool" ]; then
    ln -sfn "$GO_ROOT/bin/$tool" "/usr/local/bin/$tool"
    linked+=("$tool")
  fi
done
if [ ${#linked[@]} -eq 0 ]; then
  ok "links in place: $(/usr/local/bin/go version)"
else
  changed "linked ${linked[*]} -> $GO_ROOT/bin"
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

# 6. the toolchain go.mod names, and the modules (only where the repo is)
step "Go toolchain and modules for $REPO/go.mod"
if [ ! -f "$REPO/go.mod" ]; then
  ok "skipped: no $REPO/go.mod here (the harness image runs prebuilt tests)"
else
  want=$(awk '$1 == "go" { print "go" $2; exit }' "$REPO/go.mod")
  if out=$(cd "$REPO" && GOTOOLCHAIN=auto /usr/local/bin/go mod download 2>&1 && GOTOOLCHAIN=auto /usr/local/bin/go version 2>&1); then
    if grep -q 'downloading' <<<"$out"; then
      changed "downloaded: $(tail -n 1 <<<"$out")"
    else
      ok "cached: $(tail -n 1 <<<"$out")"
    fi
  else
    # Not fatal: everything else is in place, and the first `go` command in
    # the repository tries again (and says why it fails).
    printf 'WARNING\n%s\n' "$out" >&2
    echo "provision: could not fetch $want through the Go module proxy (network? proxy?);" \
      "the first go command in $REPO will try again" >&2
  fi
fi

if [ "$changes" -eq 0 ]; then
  echo "provision: done, nothing to change"
else
  echo "provision: done, $changes change(s)"
fi
