#!/usr/bin/env bash
# make check-10: the exercises at the end of 10-container/README.md, checked
# on what the kernel shows of the running containers' commands.
# shellcheck source=lab/checks/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root 10

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

finish
