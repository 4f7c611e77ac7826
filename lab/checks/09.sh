#!/usr/bin/env bash
# make check-09: the exercises at the end of 09-setns/README.md, checked on
# the namespaces /proc shows for every process.
# shellcheck source=lab/checks/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root_check 09

# ns_table TYPE: every process and the inode of its namespace of TYPE, one
# a line: PID INODE.
ns_table() {
  stat -L -c '%i %n' /proc/[0-9]*/ns/"$1" 2>/dev/null |
    awk '{ split($2, p, "/"); print p[3], $1 }'
}

# inner_pid PID: PID's number in its own PID namespace (NSpid's last).
inner_pid() {
  status_field "$1" NSpid | awk '{ print $NF }'
}

exercise 1 "join a PID namespace: only the children move"
host_pid=$(ns_ino self pid)
declare -A pidns
while read -r pid ino; do pidns[$pid]=$ino; done < <(ns_table pid)
found='' target=''
for pid in "${!pidns[@]}"; do
  ino=${pidns[$pid]}
  [ "$ino" != "$host_pid" ] || continue
  inner=$(inner_pid "$pid")
  if [ "$inner" = 1 ]; then
    target=${target:-$pid}
    continue
  fi
  # A process that is not its namespace's PID 1 and whose parent is not in
  # its namespace: the parent joined the namespace with setns and forked.
  # (unshare(CLONE_NEWPID) also leaves its caller outside, but the caller's
  # first child is PID 1.)
  parent=$(proc_ppid "$pid") || continue
  pns=${pidns[$parent]:-}
  if [ -n "$pns" ] && [ "$pns" != "$ino" ]; then
    found="PID $parent ($(comm_of "$parent")) stayed in pid:[$pns], and its pid_for_children is $(readlink "/proc/$parent/ns/pid_for_children" 2>/dev/null): its child PID $pid ($(comm_of "$pid")) is PID $inner in pid:[$ino]"
    break
  fi
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ -n "$target" ]; then
  not_yet "no process has joined a PID namespace and started a child in it" \
    "PID $target is PID 1 of pid:[${pidns[$target]}]: ./bin/09-setns -t $target -p sleep 1000 (in a second shell, and leave it running)"
else
  not_yet "no process is in a PID namespace other than the host's" \
    "in shell 1: unshare --pid --fork --mount-proc sleep 1000; in shell 2: ./bin/09-setns -t \$(pgrep -n -x sleep) -p sleep 1000"
fi

exercise 2 "enter a user namespace from Go"
host_user=$(ns_ino self user)
declare -A userns
while read -r pid ino; do userns[$pid]=$ino; done < <(ns_table user)
# Per namespace, the processes in it whose parent is not: each came in from
# outside, by clone/unshare (which made it) or by setns (which joined it).
# Orphans adopted by PID 1 do not count.
declare -A entrants
for pid in "${!userns[@]}"; do
  ino=${userns[$pid]}
  [ "$ino" != "$host_user" ] || continue
  parent=$(proc_ppid "$pid") || continue
  if [ "$parent" != 1 ] && [ "${userns[$parent]:-}" != "$ino" ]; then
    entrants[$ino]+=" $pid"
  fi
done
found='' lone=''
for ino in "${!entrants[@]}"; do
  read -ra who <<<"${entrants[$ino]}"
  if [ ${#who[@]} -ge 2 ]; then
    mapfile -t who < <(printf '%s\n' "${who[@]}" | sort -n)
    list=''
    for pid in "${who[@]}"; do list+="${list:+, }PID $pid ($(comm_of "$pid"))"; done
    found="user:[$ino] has ${#who[@]} processes that came in from another user namespace: $list; the first made it, the rest joined it"
    break
  fi
  lone=${who[0]}
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ -n "$lone" ]; then
  not_yet "PID $lone is alone in user:[${userns[$lone]}]: nothing has joined it" \
    "./bin/09-setns -go-only -t $lone -U id (see it fail), then ./bin/09-setns -t $lone -U sleep 1000 (leave it running)"
else
  not_yet "no process is in a user namespace other than the host's" \
    "in shell 1: unshare --user --map-root-user sleep 1000; in shell 2: ./bin/09-setns -t \$(pgrep -n -x sleep) -U sleep 1000"
fi

finish
