#!/usr/bin/env bash
# make check-07: the exercises at the end of 07-user/README.md, checked on
# what the kernel shows.
# shellcheck source=lab/checks/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root_check 07

host_user=$(ns_ino self user)
range=65536

# The user namespaces other than ours, newest first, as "START PID INODE":
# START is when the namespace's newest process started, PID its oldest
# process. 07-user's own children, whose maps the program writes, are left
# out.
declare -A skip=()
for pid in $(go_procs 07-user) $(c_children unshare_user user); do skip[$pid]=1; done
declare -A latest=() oldest=()
while read -r ino path; do
  [ "$ino" != "$host_user" ] || continue
  pid=${path#/proc/}
  pid=${pid%%/*}
  [ -z "${skip[$pid]:-}" ] || continue
  start=$(proc_started "$pid") || continue
  if [ -z "${latest[$ino]:-}" ]; then
    latest[$ino]=$start oldest[$ino]="$start $pid"
  elif [ "$start" -gt "${latest[$ino]}" ]; then
    latest[$ino]=$start
  elif [ "$start" -lt "${oldest[$ino]%% *}" ]; then
    oldest[$ino]="$start $pid"
  fi
done < <(stat -L -c '%i %n' /proc/[0-9]*/ns/user 2>/dev/null)
mapfile -t userns < <(for ino in "${!latest[@]}"; do echo "${latest[$ino]} ${oldest[$ino]#* } $ino"; done | sort -rn)

# map_line PID FILE: the first line of PID's uid_map or gid_map, as
# "INSIDE HOST COUNT" (empty: not written yet).
map_line() { awk '{ print $1, $2, $3; exit }' "/proc/$1/$2" 2>/dev/null; }

exercise 1 "write the uid and gid maps of a user namespace by hand"
found='' first=''
for u in "${userns[@]}"; do
  read -r _ pid ino <<<"$u"
  problem=''
  for f in uid_map gid_map; do
    read -r inside host count <<<"$(map_line "$pid" "$f")"
    if [ -z "${inside:-}" ]; then
      problem=${problem:-"its $f is empty"}
    elif [ "$inside" != 0 ] || [ "$count" != "$range" ]; then
      problem=${problem:-"its $f maps $count id(s) from $inside inside; want 0 and $range ids, as /etc/subuid gives"}
    elif [ "$host" = 0 ]; then
      problem=${problem:-"its $f maps 0 inside to host 0: root inside would be root for every host file; map to 100000"}
    fi
  done
  if [ -z "$problem" ]; then
    read -r _ host _ <<<"$(map_line "$pid" uid_map)"
    found="user:[$ino] (PID $pid, $(comm_of "$pid")): uids and gids 0-$((range - 1)) inside are host $host-$((host + range - 1))"
    break
  fi
  first=${first:-"user:[$ino] (PID $pid, $(comm_of "$pid")): $problem"}
  first_pid=${first_pid:-$pid}
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ -n "$first" ]; then
  not_yet "$first" \
    "as root, from the host: echo '0 100000 $range' > /proc/$first_pid/uid_map, and the same to gid_map (once each: if a write went wrong, start a new process)"
else
  not_yet "no process is in a user namespace of its own" \
    "in shell 1, as root: unshare --user sleep 1000 &, then echo \$! for its PID"
fi

exercise 2 "a process that is uid 1000 inside"
found='' mapped=''
for u in "${userns[@]}"; do
  read -r _ pid ino <<<"$u"
  read -r inside host count <<<"$(map_line "$pid" uid_map)"
  if [ "${inside:-}" != 0 ] || [ "${count:-0}" -le 1000 ]; then continue; fi
  mapped=${mapped:-$pid}
  want=$((host + 1000))
  for p in $(procs_in_ns user "$ino"); do
    read -r ruid euid _ <<<"$(status_field "$p" Uid)"
    if [ "$ruid" = "$want" ] && [ "$euid" = "$want" ]; then
      found="PID $p ($(comm_of "$p")) is uid 1000 in user:[$ino] and host uid $want (ps -o user= -p $p)"
      break 2
    fi
  done
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ -n "$mapped" ]; then
  not_yet "no process in the user namespace of PID $mapped runs as its uid 1000" \
    "join it as uid 1000: nsenter -t $mapped -U --setuid 1000 --setgid 1000 sleep 1000 &"
else
  not_yet "no user namespace maps uid 1000 yet" "do exercise 1 first"
fi

finish
