# shellcheck shell=bash
# Sourced by lab/checks/NN.sh (make check-NN): each exercise is checked from
# the outside, on what the kernel shows (/proc, the namespaces' inodes,
# mountinfo, cgroup files), never on what the learner typed or a program
# printed. One line per exercise: "done", or "not yet" with what is still
# wrong and a hint. Exit 0 when every exercise is done, 1 otherwise, 2 on
# misuse.
set -uo pipefail

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-}" != dumb ]; then
  _green=$'\e[32m' _yellow=$'\e[33m' _bold=$'\e[1m' _off=$'\e[0m'
else
  _green='' _yellow='' _bold='' _off=''
fi
_open=0
_current=''

# exercise N TITLE: start checking exercise N.
exercise() {
  _current="exercise $1 ($2)"
}
# done_ DETAIL: the current exercise holds.
done_() {
  printf '%s: %sdone%s%s\n' "$_current" "$_green" "$_off" "${1:+ — $1}"
}
# not_yet WHAT HINT: the current exercise does not hold yet.
not_yet() {
  printf '%s: %snot yet%s — %s\n    hint: %s\n' "$_current" "$_yellow" "$_off" "$1" "$2"
  _open=$((_open + 1))
}
# finish: the summary line and the exit status.
finish() {
  if [ "$_open" -eq 0 ]; then
    printf '%sall exercises done%s\n' "$_bold" "$_off"
    exit 0
  fi
  printf '%s%d exercise(s) to go%s\n' "$_bold" "$_open" "$_off"
  exit 1
}
require_root() {
  [ "$(id -u)" -eq 0 ] || { echo "check: reading other processes' namespaces needs root: sudo make check-$1" >&2; exit 1; }
}
