#!/usr/bin/env bash
# make check-10: the exercises at the end of 10-container/README.md, checked
# on what the kernel shows of the running containers' commands.
# shellcheck source=lab/checks/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root_check 10

# Docker's default capability set, 14 bits (CapEff in /proc/PID/status):
# 10-container's 13 plus cap_net_raw (bit 13).
docker_caps=00000000a80425fb

# The commands running in 10-container containers: the children of each
# containerInit (PID 1 inside, re-executed with NSLAB_PROG=10-container).
inits=()
for pid in $(go_procs 10-container); do
  read_argv "$pid"
  [ "${ARGV[0]:-}" = containerInit ] && inits+=("$pid")
done
cmds=()
[ ${#inits[@]} -eq 0 ] || mapfile -t cmds < <(children_of "${inits[@]}")
none_hint="in another shell: sudo ./bin/10-container run -- sleep 600 (with the options the exercise asks for), and leave it running"

exercise 1 "net_raw back, as Docker has it"
found='' seen=''
for pid in "${cmds[@]}"; do
  eff=$(status_field "$pid" CapEff)
  if [ "$eff" = "$docker_caps" ]; then
    found="PID $pid runs with Docker's 14 capabilities ($eff), cap_net_raw among them"
    break
  fi
  seen="PID $pid has CapEff $eff"
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ -z "$seen" ]; then
  not_yet "no command runs in a 10-container container" "$none_hint"
else
  not_yet "$seen, not Docker's $docker_caps" \
    "add \"net_raw\": unix.CAP_NET_RAW to keepCaps in 10-container/security.go, make build, and run the container again"
fi

exercise 2 "rootless: root inside, a user outside"
found='' seen=''
for pid in "${cmds[@]}"; do
  read -r inside outside _ <"/proc/$pid/uid_map" 2>/dev/null || continue
  uid=$(status_field "$pid" Uid | awk '{ print $1 }')
  if [ "$inside" = 0 ] && [ "$outside" != 0 ] && [ "$(ns_ino "$pid" user)" != "$(ns_ino self user)" ]; then
    found="PID $pid is uid 0 in its user namespace (uid_map: 0 $outside 1), uid $uid on the host"
    break
  fi
  seen="PID $pid is in the host's user namespace (uid_map: $inside $outside)"
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ -z "$seen" ]; then
  not_yet "no command runs in a 10-container container" "$none_hint"
else
  not_yet "$seen" "as your own user, not root: ./bin/10-container run -rootless -- sleep 600"
fi

exercise 3 "one more masked path: /proc/cmdline"
found='' seen=''
for pid in "${cmds[@]}"; do
  if mounts "$pid" | awk '$1 == "/proc/cmdline" { ok = 1 } END { exit !ok }'; then
    found="PID $pid: /proc/cmdline is a mount in its namespace: the kernel's command line is hidden"
    break
  fi
  seen="PID $pid can read the host's kernel command line"
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ -z "$seen" ]; then
  not_yet "no command runs in a 10-container container" "$none_hint"
else
  not_yet "$seen" "add /proc/cmdline to maskedPaths in 10-container/mounts.go, make build, and run the container again"
fi

exercise 4 "a descriptor from outside stays outside"
# dirs_held PID: "N -> TARGET" for each descriptor from 3 up that is a
# directory (Go's own descriptors never are; a shell's `exec 7< /etc` is).
dirs_held() {
  local fd n
  for fd in /proc/"$1"/fd/*; do
    n=${fd##*/}
    [ "$n" -ge 3 ] 2>/dev/null && [ -d "$fd" ] && echo "$n -> $(readlink "$fd")"
  done
}
found='' seen='' leaked=''
for init in "${inits[@]}"; do
  parent=$(status_field "$init" PPid)
  held=$(dirs_held "$parent" 2>/dev/null | head -1)
  for pid in $(children_of "$init"); do
    reached=$(dirs_held "$pid" 2>/dev/null | head -1)
    if [ -n "$reached" ]; then
      leaked="PID $pid holds fd $reached, a directory of the host: the caller's descriptor reached the container"
    elif [ -n "$held" ]; then
      found="the caller held fd $held (PID $parent, 10-container run), and its container's command, PID $pid, has none of it"
    else
      seen="PID $pid was started by a 10-container run that holds no directory open"
    fi
  done
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ -n "$leaked" ]; then
  not_yet "$leaked" "run it again without -off fds, from the same shell"
elif [ -z "$seen" ]; then
  not_yet "no command runs in a 10-container container" "in a root shell: exec 7< /etc; ./bin/10-container run -off fds -- sleep 600"
else
  not_yet "$seen" "in a root shell: exec 7< /etc, then ./bin/10-container run -off fds -- sleep 600 from that shell"
fi

finish
