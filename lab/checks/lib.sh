# shellcheck shell=bash
# Sourced by lab/checks/NN.sh (make check-NN): each exercise is checked from
# the outside, on what the kernel shows (/proc, the namespaces' inodes,
# mountinfo, cgroup files), never on what the learner typed or a program
# printed. One line per exercise: "done", or "not yet" with what is still
# wrong and a hint. Exit 0 when every exercise is done, 1 otherwise, 2 on
# misuse (not root, for one).
set -uo pipefail

# Colour, require_root and /proc/PID/stat's fields (proc_ppid, ...):
# lab/lib.sh, shared with the lab's other scripts.
# shellcheck source=lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
_open=0
_current=''

# exercise N TITLE: start checking exercise N.
exercise() {
  _current="exercise $1 ($2)"
}
# done_ DETAIL: the current exercise holds.
done_() {
  printf '%s: %sdone%s%s\n' "$_current" "$green" "$off" "${1:+ — $1}"
}
# not_yet WHAT HINT: the current exercise does not hold yet.
not_yet() {
  printf '%s: %snot yet%s — %s\n    hint: %s\n' "$_current" "$yellow" "$off" "$1" "$2"
  _open=$((_open + 1))
}
# finish: the summary line and the exit status.
finish() {
  if [ "$_open" -eq 0 ]; then
    printf '%sall exercises done%s\n' "$bold" "$off"
    exit 0
  fi
  printf '%s%d exercise(s) to go%s\n' "$bold" "$_open" "$off"
  exit 1
}
# require_root_check NN: make check-NN reads other processes' namespaces.
require_root_check() {
  require_root check "reading other processes' namespaces" "check-$1"
}

# --- What the checks read: the kernel's view of processes and mounts. -------
# "The host" below is the checker's own namespaces: /proc/self/ns/*.

# ns_ino PID TYPE: the inode number of PID's namespace of TYPE (PID may be
# self); empty if PID is gone.
ns_ino() { stat -L -c %i "/proc/$1/ns/$2" 2>/dev/null; }

# procs_in_ns TYPE INO: the PIDs of the processes in that namespace.
procs_in_ns() {
  stat -L -c '%i %n' /proc/[0-9]*/ns/"$1" 2>/dev/null |
    awk -v ino="$2" '$1 == ino { split($2, p, "/"); print p[3] }'
}

# status_field PID KEY: the value of KEY (Uid, NSpid, ...) in /proc/PID/status.
status_field() {
  awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ +/, ""); print; exit }' "/proc/$1/status" 2>/dev/null
}

# comm_of PID: PID's command name.
comm_of() {
  local c=''
  { read -r c <"/proc/$1/comm"; } 2>/dev/null
  echo "$c"
}

# read_argv PID: PID's command line into the array ARGV (for the script
# that sources this file).
# shellcheck disable=SC2034
read_argv() {
  ARGV=()
  { mapfile -d '' -t ARGV <"/proc/$1/cmdline"; } 2>/dev/null
}

# go_procs PROG: the processes a Go chapter program (e.g. 02-uts) started by
# re-executing itself, and whatever they exec'd or started in turn:
# common.Command gives them NSLAB_PROG=PROG in their environment.
go_procs() {
  grep -lsxzF "NSLAB_PROG=$1" /proc/[0-9]*/environ | sed 's|^/proc/||; s|/environ$||'
}

# exe_procs NAME: the processes running a program file called NAME (the C
# counterparts: bin/c/NAME).
exe_procs() {
  find /proc -mindepth 2 -maxdepth 2 -name exe -lname "*/$1" -printf '%h\n' 2>/dev/null | sed 's|^/proc/||'
}

# c_children NAME TYPE: the processes of the C program NAME that are in
# another namespace of TYPE than their parent: the children it clone()d.
c_children() {
  local pid
  for pid in $(exe_procs "$1"); do
    [ "$(ns_ino "$pid" "$2")" != "$(ns_ino "$(proc_ppid "$pid")" "$2")" ] && echo "$pid"
  done
}

# mounts PID: the mount table of PID's mount namespace (self: the
# checker's), one mount a line: MOUNTPOINT FSTYPE SOURCE ROOT PROPAGATION,
# where PROPAGATION is shared:N or private. Mount points keep mountinfo's
# escapes (\040 for a blank).
mounts() {
  awk '{ prop = "private"
         for (i = 7; i <= NF && $i != "-"; i++) if ($i ~ /^shared:/) prop = $i
         print $5, $(i + 1), $(i + 2), $4, prop }' "/proc/$1/mountinfo" 2>/dev/null
}

# nsfs_mounts TYPE: the namespace files of TYPE bind-mounted somewhere in
# the checker's mount namespace, one a line: MOUNTPOINT INODE.
nsfs_mounts() {
  mounts self | awk -v t="$1" '$2 == "nsfs" && index($4, t ":[") == 1 {
    ino = substr($4, length(t) + 3); sub(/\]$/, "", ino); print $1, ino }'
}

# pids_text PID...: "PID 12" or "PIDs 12 13 14", for messages.
pids_text() {
  if [ $# -eq 1 ]; then echo "PID $1"; else echo "PIDs $*"; fi
}

# proc_table: every process, one a line: PID PPID STATE (from /proc/*/stat;
# the command name, which may hold blanks and parentheses, is skipped).
proc_table() {
  cat /proc/[0-9]*/stat 2>/dev/null |
    awk '{ pid = $1; sub(/.*\) /, ""); print pid, $2, $1 }'
}

# children_of PID...: the children of those processes.
children_of() {
  proc_table | awk -v want=" $* " 'index(want, " " $2 " ") { print $1 }'
}
