# shellcheck shell=bash
# Sourced by the lab's scripts (lab/*.sh, lab/checks/lib.sh): what they all
# do alike, said once: colour, the root check, the cgroup version,
# /proc/PID/stat's fields. The
# Go tests write it beside the script they run (labScripts, lab/guest_test.go).
# Not sourced by lab/provision.sh, packages.sh, vm-image.sh and vm-arch.sh,
# whose text keys the cached VM images, nor by guest-run.sh and vm-guest.sh,
# which run inside the guest without the checkout and need none of it, nor
# by setup.sh, whose not-root lines belong to its install message, nor by
# fresh-test.sh, whose text keys its cached fresh Debian root (a change
# there rebuilds it: one root check is not worth that).

# Colour only on a terminal, and never with NO_COLOR set (no-color.org) or
# on a dumb one: green, red, yellow, cyan, bold, and off to end them.
# shellcheck disable=SC2034 # used by the scripts that source this file
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-}" != dumb ]; then
  green=$'\e[32m' red=$'\e[31m' yellow=$'\e[33m' cyan=$'\e[36m' bold=$'\e[1m' off=$'\e[0m'
else
  green='' red='' yellow='' cyan='' bold='' off=''
fi

# require_root WHO WHY TARGET: unless run as root, one line on stderr that
# names the fix, "WHO: needs root (WHY): run sudo make TARGET", and exit
# status 2.
require_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  printf '%s: needs root (%s): run sudo make %s\n' "$1" "$2" "$3" >&2
  exit 2
}

# cgroup_v2: true when /sys/fs/cgroup is one cgroup2 tree, as on the
# learners' VMs (the test runc and systemd make; in Go, common.IsCgroupV2).
# A v1 host has a tmpfs there, with the hierarchies under it.
cgroup_v2() { [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; }

# stat_field PID N...: fields N... of /proc/PID/stat, from one read, on one
# line, counted after the command name: 1 state, 2 ppid, 12 utime and 13
# stime (clock ticks), 20 start time (clock ticks after boot). The name may
# hold blanks, parentheses and newlines, so the fields start after the last
# ") ". Nothing, and status 1, once PID is gone.
stat_field() {
  local line='' fields n vals=()
  { IFS= read -r -d '' line <"/proc/$1/stat"; } 2>/dev/null
  [ -n "$line" ] || return 1
  read -ra fields <<<"${line##*) }"
  shift
  for n; do vals+=("${fields[n - 1]}"); done
  echo "${vals[*]}"
}
# proc_state PID, proc_ppid PID, proc_started PID: those three fields.
proc_state() { stat_field "$1" 1; }
proc_ppid() { stat_field "$1" 2; }
proc_started() { stat_field "$1" 20; }
