#!/usr/bin/env bash
# make check-03: the exercises at the end of 03-ipc/README.md, checked on
# what the kernel shows.
# shellcheck source=lab/checks/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root_check 03

# The 03-ipc children in their new IPC namespace: the Go program's
# (argv[0] sh) and the C program's (a fork of ipcmk_unshare_ipcs).
children=()
for pid in $(go_procs 03-ipc); do
  read_argv "$pid"
  [ "${ARGV[0]:-}" = sh ] && children+=("$pid")
done
mapfile -t -O ${#children[@]} children < <(c_children ipcmk_unshare_ipcs ipc)

# shm_segments [PID]: "key shmid size" of each System V shared memory
# segment in PID's IPC namespace (default: the checker's). The file shows
# the reader's namespace, so cat runs in PID's.
shm_segments() {
  local enter=()
  [ -z "${1:-}" ] || enter=(nsenter -t "$1" -i)
  "${enter[@]}" cat /proc/sysvipc/shm 2>/dev/null | awk 'NR > 1 { printf "0x%08x %s %s\n", $1 < 0 ? $1 + 4294967296 : $1, $2, $4 }'
}

# mqueues [PID]: the POSIX message queues of PID's IPC namespace (default:
# the checker's). A fresh mqueue filesystem lists the queues of the IPC
# namespace that mounts it; it is mounted in a throwaway mount namespace
# (unshare -m makes its mounts private), so nothing changes on the host.
mqueues() {
  local enter=()
  [ -z "${1:-}" ] || enter=(nsenter -t "$1" -i)
  "${enter[@]}" unshare -m sh -c 'mount -t mqueue none /mnt && ls -A /mnt' 2>/dev/null
}

no_child_hint="in shell 1: sudo ./bin/03-ipc -hold 600s, and leave it running"

exercise 1 "a System V segment in the child's IPC namespace"
found=''
for pid in "${children[@]}"; do
  seg=$(shm_segments "$pid" | head -n 1)
  if [ -n "$seg" ]; then
    read -r key id size <<<"$seg"
    found="the IPC namespace of PID $pid holds segment $id (key $key, $size bytes)"
    shm_segments | grep -q "^$key " || found+="; the host's ipcs -m does not list it"
    break
  fi
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ ${#children[@]} -eq 0 ]; then
  not_yet "no 03-ipc child is running" "$no_child_hint"
else
  not_yet "the IPC namespace of the child, PID ${children[0]}, holds no shared memory segment" \
    "in shell 2: sudo nsenter -t ${children[0]} -i ipcmk -M 4096"
fi

exercise 2 "a POSIX message queue in the child's IPC namespace"
found=''
mapfile -t host_queues < <(mqueues)
for pid in "${children[@]}"; do
  q=$(mqueues "$pid" | head -n 1)
  if [ -n "$q" ]; then
    found="the IPC namespace of PID $pid holds the queue /$q"
    printf '%s\n' "${host_queues[@]}" | grep -qxF "$q" || found+="; the host's has no /$q"
    break
  fi
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ ${#children[@]} -eq 0 ]; then
  not_yet "no 03-ipc child is running" "$no_child_hint"
else
  stray=$(printf '%s\n' "${host_queues[@]}" | grep -v '^nslab-03-ipc-' | head -n 1)
  if [ -n "$stray" ]; then
    not_yet "the child's IPC namespace (PID ${children[0]}) has no queue, and the host's has /$stray: an mqueue filesystem lists and creates the queues of the namespace that MOUNTED it" \
      "mount a fresh mqueue filesystem from inside the child's IPC namespace, in a mount namespace of its own (unshare -m); remove the host's with rm on the host's mqueue mount"
  else
    not_yet "the IPC namespace of the child, PID ${children[0]}, has no POSIX message queue" \
      "no tool creates one, but touch in a mounted mqueue filesystem does: mount -t mqueue none DIR"
  fi
fi

finish
