#!/usr/bin/env bash
# Runs INSIDE the `make vm` guest, as root, at boot: lab/vm.sh copies it to
# its run directory as run.sh, which the image's nslab-guest.service runs
# (kernel command line nslab.test) and then powers the guest off. So the
# interactive shell needs nothing in the image that vm-test does not use.
#
# It mounts the host's checkout (9p tag nslabrepo) at /nslab, read-write and
# uncached, so an edit on the host shows at once; the host's module cache
# (nslabmod, read-only), which the guest's Go takes as its module proxy,
# having no network; and the build cache lab/vm.sh keeps for the guest
# (nslabgocache). Then it starts a root shell in
# /nslab on the serial console, with the console as its controlling terminal
# (job control, Ctrl-C to a command). When the shell exits, so does this
# script, and the service powers the guest off.
set -uo pipefail

share=/mnt/nslab
repo=/nslab
say() { echo "nslab-vm: $*"; }

# vm.env, written by lab/vm.sh: the host's TERM and window size, and the
# serial console (TTY).
TERM=vt100 ROWS='' COLS='' TTY=/dev/ttyS0
# shellcheck disable=SC1091 # written by lab/vm.sh at run time
[ -f "$share/vm.env" ] && . "$share/vm.env"
tty=$TTY
# The host's terminal type, if the guest knows it.
[ -n "$(find /usr/share/terminfo /lib/terminfo -name "$TERM" 2>/dev/null | head -n 1)" ] || TERM=vt100
export TERM

mkdir -p "$repo"
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 nslabrepo "$repo"; then
  say "ERROR: cannot mount the repository share 'nslabrepo' (qemu -virtfs ... mount_tag=nslabrepo)"
  exit 1
fi
# The checkout belongs to a user the guest doesn't have: let git (make lint,
# go's VCS stamping) read it anyway.
git config --system --add safe.directory "$repo" 2>/dev/null
# Go with no network: the modules from the host's cache (a file:// module
# proxy; go.sum checks them), the build cache on the host, this Go itself
# (go.mod names 1.22, this one is 1.23: no toolchain to fetch).
mkdir -p /run/nslab-gomod /run/nslab-gocache
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro nslabmod /run/nslab-gomod ||
  say "WARNING: no module share 'nslabmod': go build will fail for want of the modules"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 nslabgocache /run/nslab-gocache ||
  say "WARNING: no build cache share 'nslabgocache': each make build compiles everything"

# The shell's start-up file: the usual ones, then Go's settings and the
# repository.
cat >/run/nslab-vm.bashrc <<EOF
[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc
[ -f ~/.bashrc ] && . ~/.bashrc
export GOPROXY=file:///run/nslab-gomod GOTOOLCHAIN=local GOCACHE=/run/nslab-gocache
cd $repo
echo
echo "nslab vm: Debian 12, kernel \$(uname -r), \$(stat -f -c %T /sys/fs/cgroup); root shell in $repo"
echo "nslab vm: $repo is your checkout on the host, shared live; make build rebuilds bin/ here, offline"
echo "nslab vm: (Go \$(go env GOVERSION | sed s/go//), modules from the host's cache). 'exit' powers the guest off."
EOF

[ -n "$ROWS" ] && [ -n "$COLS" ] && stty -F "$tty" rows "$ROWS" cols "$COLS"
say "shell on $tty"
# setsid makes a new session; --ctty gives it the console (its stdin) as
# controlling terminal; --wait waits for the shell.
setsid --ctty --wait env HOME=/root bash --rcfile /run/nslab-vm.bashrc -i <>"$tty" >&0 2>&0
rc=$?
cd /
umount "$repo" || umount -l "$repo"
umount /run/nslab-gocache /run/nslab-gomod 2>/dev/null
say "shell exited ($rc)"
exit 0
