#!/usr/bin/env bash
# make check-04: the exercises at the end of 04-pid/README.md, checked on
# what the kernel shows.
# shellcheck source=lab/checks/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root_check 04

# pid_inside PID: PID's number in its own PID namespace (the last of NSpid).
pid_inside() { status_field "$1" NSpid | awk '{ print $NF }'; }

# The PID 1s of 04-pid's namespaces: the program re-executed as
# fork_child, the seed's PID 1. (The article's C, bin/c/namespace, cannot
# hold its namespace: its PID 1 becomes ps and exits at once.)
inits=()
for pid in $(go_procs 04-pid); do
  read_argv "$pid"
  [ "${ARGV[0]:-}" = fork_child ] && [ "$(pid_inside "$pid")" = 1 ] && inits+=("$pid")
done

exercise 1 "a zombie that only PID 1 can reap"
found='' alive=''
table=$(proc_table)
for init in "${inits[@]}"; do
  kids=$(awk -v p="$init" '$2 == p { print $1 }' <<<"$table")
  zombie=$(awk -v p="$init" '$2 == p && $3 == "Z" { print $1; exit }' <<<"$table")
  if [ -n "$zombie" ]; then
    found="host PID $zombie (PID $(pid_inside "$zombie") inside) is a zombie: its parent, PID 1 of its namespace (host PID $init), has not waited for it"
    break
  fi
  [ -n "$kids" ] && [ -z "$alive" ] && alive="$init $(echo "$kids" | head -n 1)"
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ -n "$alive" ]; then
  read -r init kid <<<"$alive"
  not_yet "the children of PID 1 (host PID $init) are all alive" \
    "kill one from the host, by its host PID: kill -KILL $kid (grep NSpid /proc/$kid/status shows its PID inside)"
elif [ ${#inits[@]} -gt 0 ]; then
  not_yet "PID 1 of the 04-pid namespace (host PID ${inits[0]}) has no children" \
    "run the N-children demo: sudo ./bin/04-pid -hold 600s 3"
else
  not_yet "no 04-pid namespace is held" "in shell 1: sudo ./bin/04-pid -hold 600s 3, and leave it running"
fi

exercise 2 "a PID namespace whose PID 1 died"
found='' busy=''
while read -r path ino; do
  [ -n "$path" ] || continue
  mapfile -t inside < <(procs_in_ns pid "$ino")
  if [ ${#inside[@]} -eq 0 ]; then
    found="$path holds pid:[$ino], and no process is left in it"
    break
  fi
  init=''
  for pid in "${inside[@]}"; do
    [ "$(pid_inside "$pid")" = 1 ] && init=$pid
  done
  if [ -n "$init" ]; then
    busy="$path holds pid:[$ino], where ${#inside[@]} process(es) still run; its PID 1 is host PID $init"
  else
    busy="$path holds pid:[$ino], where ${#inside[@]} process(es) still run"
  fi
done < <(nsfs_mounts pid)
if [ -n "$found" ]; then
  done_ "$found"
elif [ -n "$busy" ]; then
  not_yet "$busy" "kill PID 1 from the host (kill -KILL HOST-PID), and watch the others go with it (ps, or grep NSpid)"
else
  not_yet "no PID namespace is bind-mounted anywhere" \
    "touch /run/nslab-pid; mount --bind /proc/PID1/ns/pid /run/nslab-pid (PID1: the host PID of a held 04-pid's PID 1)"
fi

finish
