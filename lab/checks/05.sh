#!/usr/bin/env bash
# make check-05: the exercises at the end of 05-mount/README.md, checked on
# what the kernel shows.
# shellcheck source=lab/checks/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root_check 05

leak=/mnt/nslab-leak
name=nslab-ex05
host_mnt=$(ns_ino self mnt)
host_mounts=$(mounts self)

exercise 1 "a mount that leaks out of a new mount namespace"
root_prop=$(awk '$1 == "/" { p = $5 } END { print p }' <<<"$host_mounts")
leaked=$(awk -v m="$leak" '$1 == m { print $2, $5 }' <<<"$host_mounts" | tail -n 1)
read -r fstype prop <<<"$leaked"
if [ "$fstype" = tmpfs ]; then
  done_ "a tmpfs is mounted on $leak in this mount namespace ($prop), although it was mounted in another one"
elif [ -n "$fstype" ]; then
  not_yet "$leak has a $fstype mounted, not a tmpfs" "umount $leak, then let the leaky program mount a tmpfs there (-tmpfs $leak)"
elif [ "${root_prop%%:*}" != shared ]; then
  not_yet "/ is $root_prop in this mount namespace, so nothing can propagate into it" \
    "do the exercise, and run this check, in a shell where / is shared, as on a systemd host: sudo unshare -m --propagation shared bash"
else
  not_yet "nothing is mounted on $leak" \
    "build 05-mount/c/newns.c without its MS_REC | MS_PRIVATE and /root/proc lines (see the README), run it, and in its bash: mkdir -p $leak; mount -t tmpfs tmpfs $leak"
fi

exercise 2 "a mount added to a running container from the outside"
# The containers: the processes of 05-mount's child (NSLAB_PROG=05-mount in
# their environment, also after the exec) and of the C program's (newns) child, in
# a mount namespace of their own.
containers=()
declare -A seen=()
mapfile -t c_parents < <(exe_procs newns)
mapfile -t candidates < <(go_procs 05-mount; [ ${#c_parents[@]} -eq 0 ] || children_of "${c_parents[@]}")
for pid in "${candidates[@]}"; do
  ns=$(ns_ino "$pid" mnt)
  if [ -z "$ns" ] || [ "$ns" = "$host_mnt" ] || [ -n "${seen[$ns]:-}" ]; then continue; fi
  seen[$ns]=1
  containers+=("$pid")
done
found=''
for pid in "${containers[@]}"; do
  where=$(mounts "$pid" | awk -v s="$name" '$3 == s { print $1, $2; exit }')
  if [ -n "$where" ]; then
    read -r mp fstype <<<"$where"
    found="the mount namespace of PID $pid has $name ($fstype) on $mp"
    break
  fi
done
on_host=$(awk -v s="$name" '$3 == s { print $1; exit }' <<<"$host_mounts")
if [ -n "$on_host" ]; then
  not_yet "$name is mounted on $on_host in the host's mount namespace" \
    "umount $on_host; mount it from inside the container's mount namespace: nsenter -t PID -m mount ..."
elif [ -n "$found" ]; then
  done_ "$found; the host has no $name"
elif [ ${#containers[@]} -eq 0 ]; then
  not_yet "no 05-mount container is running" "in shell 1: sudo ./bin/05-mount sleep 1000, and leave it running"
else
  not_yet "the container's mount namespace (PID ${containers[0]}) has no mount whose source is $name" \
    "sudo nsenter -t ${containers[0]} -m mount -t tmpfs $name /mnt"
fi

finish
