#!/usr/bin/env bash
# make check-02: the exercises at the end of 02-uts/README.md, checked on
# what the kernel shows.
# shellcheck source=lab/checks/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root_check 02

host_name=$(uname -n)

# uts_name PID|FILE: the hostname of that UTS namespace, as nsenter sees it.
uts_name() {
  if [ -e "/proc/$1" ]; then
    nsenter -t "$1" -u uname -n 2>/dev/null
  else
    nsenter --uts="$1" uname -n 2>/dev/null
  fi
}

# The 02-uts children, as "PID NAME-02-uts-GAVE-IT": the Go program's
# (argv: childFunc NAME SLEEP) and the C program's (a clone of
# demo_uts_namespaces NAME, in a UTS namespace its parent is not in).
children=()
for pid in $(go_procs 02-uts); do
  read_argv "$pid"
  [ "${ARGV[0]:-}" = childFunc ] && children+=("$pid ${ARGV[1]:-}")
done
for pid in $(c_children demo_uts_namespaces uts); do
  read_argv "$pid"
  children+=("$pid ${ARGV[1]:-}")
done

exercise 1 "rename the child's UTS namespace from another shell"
found=''
for c in "${children[@]}"; do
  read -r pid gave <<<"$c"
  now=$(uts_name "$pid")
  if [ -n "$now" ] && [ "$now" != "$gave" ]; then
    found="PID $pid: 02-uts named its namespace $gave, it is now $now; the host is still $host_name"
    break
  fi
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ ${#children[@]} -eq 0 ]; then
  not_yet "no 02-uts child is running" \
    "in shell 1: sudo ./bin/02-uts myhost (its child sleeps 1000 s), and leave it running"
else
  read -r pid gave <<<"${children[0]}"
  not_yet "the child, PID $pid, is still called $gave" \
    "in shell 2: sudo nsenter -t $pid -u hostname inside"
fi

exercise 2 "a UTS namespace with no process in it"
found='' busy='' same=''
while read -r path ino; do
  [ -n "$path" ] || continue
  mapfile -t inside < <(procs_in_ns uts "$ino")
  name=$(uts_name "$path")
  if [ ${#inside[@]} -gt 0 ]; then
    busy="$path holds uts:[$ino], but processes are still in it: $(pids_text "${inside[@]}")"
  elif [ "$name" = "$host_name" ]; then
    same="$path holds uts:[$ino], which has the host's name $host_name"
  else
    found="$path holds uts:[$ino], named $name, and no process is in it"
    break
  fi
done < <(nsfs_mounts uts)
if [ -n "$found" ]; then
  done_ "$found"
elif [ -n "$busy" ]; then
  not_yet "$busy" "kill the 02-uts child (kill PID, or Ctrl-C in shell 1): the bind mount alone keeps the namespace"
elif [ -n "$same" ]; then
  not_yet "$same" "pin the namespace of a 02-uts child (/proc/CHILD/ns/uts), whose name is its own"
else
  not_yet "no UTS namespace is bind-mounted anywhere" \
    "touch /run/nslab-uts; mount --bind /proc/CHILD/ns/uts /run/nslab-uts (CHILD: the 02-uts child's PID)"
fi

finish
