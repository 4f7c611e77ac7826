#!/usr/bin/env bash
# Runs INSIDE the `make vm` guest, as root, at boot: lab/vm.sh copies it to
# its run directory as run.sh, which the image's nslab-guest.service runs
# (kernel command line nslab.test) and then powers the guest off. So the
# interactive shell needs nothing in the image that vm-test does not use.
#
# It mounts the host's checkout (9p tag nslabrepo) at /nslab, read-write and
# uncached, so an edit on the host shows at once; then starts a root shell in
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

# The shell's start-up file: the usual ones, then the repository and the
# variable that makes make use the programs the host built (see the
# Makefile's build target: this guest's Go is 1.23 and has no network to
# fetch the go1.26 toolchain that go.mod names).
cat >/run/nslab-vm.bashrc <<EOF
[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc
[ -f ~/.bashrc ] && . ~/.bashrc
export NSLAB_PREBUILT=1
cd $repo
echo
echo "nslab vm: Debian 12, kernel \$(uname -r), \$(stat -f -c %T /sys/fs/cgroup); root shell in $repo"
echo "nslab vm: $repo is your checkout on the host, shared live; the programs in bin/ are the host's"
echo "nslab vm: (after an edit, rebuild on the host: sudo make build c). 'exit' powers the guest off."
EOF

[ -n "$ROWS" ] && [ -n "$COLS" ] && stty -F "$tty" rows "$ROWS" cols "$COLS"
say "shell on $tty"
# setsid makes a new session; --ctty gives it the console (its stdin) as
# controlling terminal; --wait waits for the shell.
setsid --ctty --wait env HOME=/root bash --rcfile /run/nslab-vm.bashrc -i <>"$tty" >&0 2>&0
rc=$?
cd /
umount "$repo" || umount -l "$repo"
say "shell exited ($rc)"
exit 0
