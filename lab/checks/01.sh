#!/usr/bin/env bash
# make check-01: the exercises at the end of 01-clone/README.md, checked on
# what the kernel shows.
# shellcheck source=lab/checks/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root_check 01

declare -A host
for t in cgroup ipc mnt net pid time user uts; do host[$t]=$(ns_ino self "$t"); done

exercise 1 "host network, everything else of its own"
# The processes ns_child_exec started: children of the Go program (argv:
# 01-clone ns_child_exec ...) or of the C one (bin/c/ns_child_exec).
parents=()
for pid in $(exe_procs 01-clone); do
  read_argv "$pid"
  [ "${ARGV[1]:-}" = ns_child_exec ] && parents+=("$pid")
done
mapfile -t -O ${#parents[@]} parents < <(exe_procs ns_child_exec)
best='' best_wrong=99 best_text=''
if [ ${#parents[@]} -gt 0 ]; then
  for pid in $(children_of "${parents[@]}"); do
    shares=() owns=()
    for t in uts ipc mnt pid; do
      [ "$(ns_ino "$pid" "$t")" = "${host[$t]}" ] && shares+=("$t")
    done
    for t in net user; do
      [ "$(ns_ino "$pid" "$t")" != "${host[$t]}" ] && owns+=("$t")
    done
    wrong=$((${#shares[@]} + ${#owns[@]}))
    if [ "$wrong" -lt "$best_wrong" ]; then
      best=$pid best_wrong=$wrong best_text=''
      [ ${#shares[@]} -eq 0 ] || best_text="shares ${shares[*]} with the host"
      [ ${#shares[@]} -eq 0 ] || [ ${#owns[@]} -eq 0 ] || best_text+=" and "
      [ ${#owns[@]} -eq 0 ] || best_text+="has a new ${owns[*]}"
    fi
  done
fi
if [ -z "$best" ]; then
  not_yet "no process started by ns_child_exec is running" \
    "sudo ./bin/01-clone ns_child_exec -OPTIONS sleep 1000 (which options? the usage text lists them)"
elif [ "$best_wrong" -eq 0 ]; then
  done_ "PID $best ($(comm_of "$best")): new uts, ipc, mnt and pid namespaces; net and user are the host's"
else
  not_yet "PID $best, started by ns_child_exec, $best_text" \
    "it needs new UTS, IPC, mount and PID namespaces, and the host's network and user namespaces: compare ls -l /proc/$best/ns with ls -l /proc/self/ns"
fi

exercise 2 "a clock that says the machine has been up for a day longer"
# The processes in time namespaces other than ours; the newest is reported.
found='' other='' unentered='' newest=0
while read -r ino path; do
  [ "$ino" != "${host[time]}" ] || continue
  pid=${path#/proc/}
  pid=${pid%%/*}
  boot=''
  while read -r clock secs _; do
    [ "$clock" != boottime ] || boot=$secs
  done 2>/dev/null <"/proc/$pid/timens_offsets"
  start=$(proc_started "$pid") || continue
  [ -n "$boot" ] || continue
  if [ "$boot" -eq 86400 ]; then
    found="PID $pid ($(comm_of "$pid")) is in time:[$ino], whose CLOCK_BOOTTIME is 86400 s (one day) ahead of the host's"
    break
  fi
  if [ "$start" -ge "$newest" ]; then
    newest=$start
    other="PID $pid ($(comm_of "$pid")) is in a new time namespace, time:[$ino], but its boot-time offset is $boot s"
  fi
done < <(stat -L -c '%i %n' /proc/[0-9]*/ns/time 2>/dev/null)
# A process that created a time namespace is not in it: its children are.
# One with no process in it yet is what unshare --time without --fork
# leaves on kernels that do not move a process in at execve (6.1).
while read -r ino path; do
  [ "$ino" != "${host[time]}" ] || continue
  pid=${path#/proc/}
  pid=${pid%%/*}
  [ "$(ns_ino "$pid" time)" = "${host[time]}" ] || continue
  [ -z "$(procs_in_ns time "$ino")" ] || continue
  unentered="PID $pid ($(comm_of "$pid")) created time:[$ino] for its children, but is itself still in the host's"
done < <(stat -L -c '%i %n' /proc/[0-9]*/ns/time_for_children 2>/dev/null)
if [ -n "$found" ]; then
  done_ "$found"
elif [ -n "$unentered" ]; then
  not_yet "$unentered" "a time namespace applies to the children of the process that made it: unshare --fork"
elif [ -n "$other" ]; then
  not_yet "$other" "the exercise wants exactly 86400 s; offsets can only be written before the first process enters the namespace (so not with ns_child_exec -T): unshare --time --boottime SECONDS"
else
  not_yet "no process has a boot-time offset of one day (86400 s)" \
    "unshare(1) can set one: see its --time and --boottime options"
fi

finish
