#!/usr/bin/env bash
# The guided tour: every chapter's demo in order, non-interactively, with a
# banner saying what you are about to see, the command, the C program it
# mirrors, the real output and a one-line takeaway.
# Usage: lab/tour.sh BIN_DIR [CHAPTER...]   (make tour / make tour-NN)
set -uo pipefail
bin=${1:?usage: lab/tour.sh BIN_DIR [chapter...]}
shift
only=("$@")

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-}" != dumb ]; then
  bold=$'\e[1m' cyan=$'\e[36m' green=$'\e[32m' yellow=$'\e[33m' red=$'\e[31m' off=$'\e[0m'
else
  bold='' cyan='' green='' yellow='' red='' off=''
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "tour: the demos create namespaces and need root: run sudo make tour" >&2
  exit 1
fi

failures=0
wanted() {
  [ ${#only[@]} -eq 0 ] && return 0
  local c
  for c in "${only[@]}"; do [ "$c" = "$1" ] && return 0; done
  return 1
}

# step CHAPTER MIRRORS WHAT TAKEAWAY -- COMMAND...
step() {
  local chapter=$1 mirrors=$2 what=$3 takeaway=$4
  shift 5
  wanted "$chapter" || return 0
  printf '\n%s━━ %s ━━ %s%s\n' "$bold$cyan" "$chapter" "$what" "$off"
  printf '%smirrors:%s %s\n' "$yellow" "$off" "$mirrors"
  printf '%s$ %s%s\n' "$bold" "$*" "$off"
  "$@"
  local rc=$?
  if [ $rc -ne 0 ]; then
    printf '%s(exit status %d)%s\n' "$red" "$rc" "$off"
    failures=$((failures + 1))
  fi
  printf '%s→ %s%s\n' "$green" "$takeaway" "$off"
}

step 01-clone "t_clone (TLPI)" "a clone()d child closes a file descriptor" \
  "without CLONE_FILES the child has its own copy of the fd table" -- \
  "$bin/01-clone" t_clone
step 01-clone "t_clone x (TLPI)" "the same with CLONE_FILES" \
  "with CLONE_FILES parent and child share one fd table: the close reached the parent" -- \
  "$bin/01-clone" t_clone x
step 01-clone "ns_child_exec -p -u (TLPI)" "run a command in new PID and UTS namespaces" \
  "the child is PID 1 of its PID namespace; only the namespaces asked for are new" -- \
  "$bin/01-clone" ns_child_exec -v -p -u sh -c 'echo "my PID is $$"; readlink /proc/self/ns/uts'
step 02-uts "demo_uts_namespace (TLPI)" "a child sets its own hostname" \
  "the hostname lives in the UTS namespace: the parent's is untouched" -- \
  "$bin/02-uts" -sleep 0 tour-host
step 03-ipc "ipcmk -M 1000; unshare --ipc ipcs -m" "a shared memory segment, seen from a new IPC namespace" \
  "System V and POSIX IPC objects exist per IPC namespace: the child sees none of ours" -- \
  "$bin/03-ipc"

echo
if [ $failures -gt 0 ]; then
  printf '%stour: %d step(s) failed%s\n' "$red" "$failures" "$off"
  exit 1
fi
printf '%stour: done%s\n' "$bold$green" "$off"
