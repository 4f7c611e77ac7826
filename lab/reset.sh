#!/usr/bin/env bash
# sudo make reset: remove what nslab's programs left behind when they could
# not clean up themselves (SIGKILL, an OOM kill, a power cut mid-demo), and
# nothing else. A thing is nslab's only by a mark the programs give it:
#   processes  NSLAB_RUN (or NSLAB_PROG) in their environment (common/reexec.go);
#              the program NSLAB_RUN=PROG:PID names, if PID still runs PROG;
#              whatever sits in a cgroup of ours
#   cgroups    named nslab-NN-* (08-cgroup: nslab-08-PID-WHAT) or nslab-exNN-*
#              (the exercises'), in every v1 and v2 hierarchy, with everything
#              below them; not any nslab* (the vm-test guest's own service
#              is nslab-guest.service: its cgroup is systemd's, not ours)
#   mounts     on /run/netns/nslab*, /mnt/nslab-*, /tmp/nslab-rootfs.*
#   netns      the names /run/netns/nslab* (the tour's nslab-tour-PID), and
#              /run/netns itself when /run/nslab-netns-setup (06-net) says
#              that we set it up and no name is left in it
#   links      named nslab* in this network namespace (06-net's and lab/bench's
#              veths live only in namespaces of their own, which die with them)
#   SysV shm   key 0x6e73XXXX ("ns") and 1000 bytes (03-ipc)
#   mqueues    /nslab-* (03-ipc: /nslab-03-ipc-PID)
#   controllers  on v2, those a killed run had switched on in the
#              cgroup.subtree_control of the cgroups above its own, as its
#              note /run/nslab-subtree.NAME lists them (common/group.go)
#   files      empty /mnt/nslab-* (05-mount -tmpfs), /tmp/nslab-rootfs.* (the tour),
#              /run/nslab-10-PID (10-container's overlay layer) once PID is gone,
#              /tmp/nslab-overlay-PID-* (05-mount overlay's layers) once PID is gone
# In this order: first what runs (it holds the rest), then mounts, names,
# links, cgroups, IPC objects, files. Each removal is one line; on a clean
# host, "nothing to remove". Idempotent. Usage: lab/reset.sh (as root)
set -uo pipefail

# shellcheck source=lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root reset "removing namespaces, mounts and cgroups" reset
# This script and what it runs are not nslab's programs: unmarked, so that
# the search below finds none of them.
unset NSLAB_RUN NSLAB_PROG

removed=0 failed=0
did() { echo "reset: $*"; removed=$((removed + 1)); }
fail() { echo "reset: $*" >&2; failed=$((failed + 1)); }

# proc_ppid, proc_state and proc_started PID (lab/lib.sh) say "" once PID
# is gone.
cmdline() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null; }

# This script and every process above it (a shell inside a demo, make, a
# test) are spared.
declare -A spare=()
p=$$
while [ -n "$p" ] && [ "$p" -gt 0 ]; do
  spare[$p]=1
  p=$(proc_ppid "$p")
done

# The cgroups of ours, at the top of their subtrees, in every hierarchy.
mapfile -t cg_mounts < <(awk '{ for (i = 7; $i != "-"; i++) {}
  if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | sort -u)
cgroups=()
for m in "${cg_mounts[@]}"; do
  mapfile -t -O "${#cgroups[@]}" cgroups < <(find "$m" -mindepth 1 -type d \( -name 'nslab-[0-9][0-9]-*' -o -name 'nslab-ex[0-9][0-9]-*' \) -prune 2>/dev/null)
done

# 1. Processes. A frozen process takes no signal, not even SIGKILL on v1:
# thaw our cgroups first.
for cg in "${cgroups[@]}"; do
  while read -r d; do
    [ -w "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
    [ -w "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
  done < <(find "$cg" -type d 2>/dev/null)
done
declare -A victims=()
# Marked: the environment of every process that carries the mark.
while read -r f; do
  pid=${f#/proc/}
  victims[${pid%%/*}]=1
  # NSLAB_RUN=PROG:PID names the program that started the chain: ours if
  # PID still runs PROG and started no later than this one.
  run=$({ tr '\0' '\n' <"$f" | sed -n 's/^NSLAB_RUN=//p'; } 2>/dev/null)
  top=${run##*:} prog=${run%:*}
  if [ -n "$run" ] && [ -e "/proc/$top/exe" ] &&
     [ "$(basename "$(readlink "/proc/$top/exe")")" = "$prog" ] &&
     [ "$(proc_started "$top" || echo 0)" -le "$(proc_started "${pid%%/*}" || echo 0)" ]; then
    victims[$top]=1
  fi
done < <(grep -lsaz -E '^NSLAB_(RUN|PROG)=' /proc/[0-9]*/environ)
for cg in "${cgroups[@]}"; do
  while read -r pid; do victims[$pid]=1; done < <(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
done
killed=()
for pid in "${!victims[@]}"; do
  [ -n "${spare[$pid]:-}" ] && continue
  s=$(proc_state "$pid")
  [ -z "$s" ] || [ "$s" = Z ] && continue
  what=$(cmdline "$pid")
  if kill -KILL "$pid" 2>/dev/null; then
    did "killed process $pid (${what% })"
    killed+=("$pid")
  elif [ -n "$(proc_state "$pid")" ]; then
    fail "kill -KILL $pid: failed"
  fi
done
# Wait until they are gone (or zombies, which hold nothing).
for _ in $(seq 100); do
  left=0
  for pid in "${killed[@]}"; do
    s=$(proc_state "$pid")
    [ -n "$s" ] && [ "$s" != Z ] && left=1
  done
  [ $left -eq 0 ] && break
  sleep 0.05
done

# 2. Mounts on our paths, newest (innermost) first. umount -l, as 06-net
# del and iproute2 do.
ours_path() {
  case $1 in /run/netns/nslab* | /mnt/nslab-* | /tmp/nslab-rootfs.*) return 0 ;; esac
  return 1
}
mounted() { awk -v p="$1" '$5 == p { found = 1 } END { exit !found }' /proc/self/mountinfo; }
while read -r mp; do
  ours_path "$mp" || continue
  if umount -l "$mp" 2>/dev/null; then
    did "unmounted $mp"
  elif mounted "$mp"; then
    fail "umount -l $mp: failed"
  fi
done < <(awk '{ print $5 }' /proc/self/mountinfo | tac)

# 3. Network namespace names, then 06-net's set-up of /run/netns once no
# name is left in it.
for f in /run/netns/nslab*; do
  [ -e "$f" ] || continue
  if rm -f "$f"; then did "removed network namespace name $f"; else fail "rm $f: failed"; fi
done
note=/run/nslab-netns-setup
if [ -f "$note" ]; then
  names=$(ls -A /run/netns 2>/dev/null)
  if [ -n "$names" ]; then
    echo "reset: kept /run/netns as it is: it holds names that are not nslab's ($(echo "$names" | tr '\n' ' '))"
  else
    ok=1
    if grep -qx bind "$note" && mounted /run/netns; then
      if umount -l /run/netns; then did "unmounted /run/netns (06-net's set-up)"; else ok=0; fail "umount -l /run/netns: failed"; fi
    fi
    if [ $ok -eq 1 ] && grep -qx mkdir "$note" && [ -d /run/netns ]; then
      if rmdir /run/netns; then did "removed /run/netns (06-net's set-up)"; else ok=0; fail "rmdir /run/netns: failed"; fi
    fi
    if [ $ok -eq 1 ]; then rm -f "$note" && did "removed $note"; fi
  fi
fi

# 4. Links.
if command -v ip >/dev/null; then
  while read -r l; do
    if ip link del "$l" 2>/dev/null; then did "removed link $l"; else fail "ip link del $l: failed"; fi
  done < <(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^nslab')
fi

# 5. cgroups, deepest first. A killed process leaves its cgroup only once
# it has exited: rmdir is retried for a while.
for cg in "${cgroups[@]}"; do
  while read -r d; do
    for _ in $(seq 60); do
      rmdir "$d" 2>/dev/null && break
      [ -d "$d" ] || break
      sleep 0.05
    done
    if [ -d "$d" ]; then fail "rmdir $d: failed (processes still in it: $(tr '\n' ' ' <"$d/cgroup.procs" 2>/dev/null))"
    else did "removed cgroup $d"; fi
  done < <(find "$cg" -depth -type d 2>/dev/null)
done

# Then what killed runs had switched on above their cgroups (v2), as their
# notes list it: all notes together, the deepest cgroups first, since the
# kernel refuses to switch a controller off while a cgroup below still
# passes it on. One that is still refused after that is passed on by a
# cgroup that is not ours: it stays.
# passes CTL FILE...: CTL is among the controllers the files list.
passes() {
  local ctl=$1
  shift
  cat "$@" 2>/dev/null | tr ' ' '\n' | grep -qx -- "$ctl"
}
declare -A note_ok=()
entries=()
for note in /run/nslab-subtree.*; do
  [ -f "$note" ] || continue
  note_ok[$note]=1
  while read -r line; do
    dir=${line% *} slashes=${line//[^\/]/}
    entries+=("${#slashes}"$'\t'"$note"$'\t'"$dir"$'\t'"${line##* }")
  done <"$note"
done
while IFS=$'\t' read -r _ note dir ctl; do
  [ -n "$dir" ] || continue
  file=$dir/cgroup.subtree_control
  passes "$ctl" "$file" || continue
  if echo "-$ctl" 2>/dev/null >"$file"; then
    did "switched $ctl off in $file (a killed run had switched it on: $note)"
  elif passes "$ctl" "$dir"/*/cgroup.subtree_control; then
    echo "reset: kept $ctl on in $file: cgroups below, not nslab's, pass it on"
  else
    note_ok[$note]=0
    fail "echo -$ctl > $file: failed"
  fi
done < <(printf '%s\n' "${entries[@]}" | sort -t$'\t' -k1,1nr)
for note in "${!note_ok[@]}"; do
  if [ "${note_ok[$note]}" -eq 1 ]; then rm -f "$note" && did "removed $note"; fi
done

# 6. IPC: 03-ipc's segments (key 0x6e73XXXX, 1000 bytes) and queues.
while read -r key id _ size _; do
  [ "$key" = key ] && continue
  (( (key >> 16) == 0x6e73 && size == 1000 )) || continue
  if ipcrm -m "$id" 2>/dev/null; then
    did "$(printf 'removed SysV shared memory segment %d (key 0x%08x)' "$id" "$key")"
  else
    fail "ipcrm -m $id: failed"
  fi
done </proc/sysvipc/shm
# The queues are files of an mqueue filesystem, which this host may not
# have mounted: then mount one in a mount namespace of our own (it shows
# the queues of our IPC namespace), over /tmp there.
# shellcheck disable=SC2016 # expanded by the sh below, $0 its directory
rm_queues='for f in "$0"/nslab-*; do [ -e "$f" ] || continue
  if rm -f "$f"; then echo "reset: removed POSIX message queue /${f##*/}"; else echo "reset: rm $f: failed" >&2; fi; done'
if [ "$(stat -f -c %T /dev/mqueue 2>/dev/null)" = mqueue ]; then
  out=$(sh -c "$rm_queues" /dev/mqueue)
else
  out=$(unshare --mount --propagation private -- sh -c \
    "mount -t mqueue nslab-reset /tmp || exit 1; $rm_queues" /tmp)
fi
if [ -n "$out" ]; then
  echo "$out"
  removed=$((removed + $(echo "$out" | wc -l)))
fi

# 7. Files: 05-mount -tmpfs's directories (only if empty: what is in one
# is not ours to judge) and the tour's throwaway rootfs.
for d in /mnt/nslab-*; do
  [ -d "$d" ] || continue
  if rmdir "$d" 2>/dev/null; then did "removed directory $d"
  else echo "reset: kept $d: not empty, so perhaps not only nslab's"; fi
done
for d in /tmp/nslab-rootfs.*; do
  [ -d "$d" ] || continue
  if rm -rf --one-file-system "$d"; then did "removed directory $d"; else fail "rm -rf $d: failed"; fi
done
# 10-container's overlay layer (upper, work, merged) of a run that is gone
# (a zombie is gone too): what the container wrote, device nodes included.
# Its mount lived in the container's mount namespace only, which died with it.
for d in /run/nslab-10-[0-9]*; do
  [ -d "$d" ] || continue
  pid=${d##*-}
  s=$(proc_state "$pid")
  [ -n "$s" ] && [ "$s" != Z ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = 10-container ] && continue
  if rm -rf --one-file-system "$d"; then did "removed directory $d (a killed container's layer)"; else fail "rm -rf $d: failed"; fi
done
# 05-mount overlay's fresh directory (lower, upper, work, merged) of a run
# that is gone (a zombie is gone too: it holds nothing). Its overlay was
# mounted in the run's own mount namespace only, which died with it.
for d in /tmp/nslab-overlay-[0-9]*-*; do
  [ -d "$d" ] || continue
  pid=${d#/tmp/nslab-overlay-}
  pid=${pid%%-*}
  s=$(proc_state "$pid")
  [ -n "$s" ] && [ "$s" != Z ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = 05-mount ] && continue
  if rm -rf --one-file-system "$d"; then did "removed directory $d (a killed 05-mount overlay's layers)"; else fail "rm -rf $d: failed"; fi
done

if [ $failed -gt 0 ]; then
  echo "reset: $failed thing(s) could not be removed (above)" >&2
  exit 1
fi
[ $removed -eq 0 ] && echo "reset: nothing to remove"
exit 0
