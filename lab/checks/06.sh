#!/usr/bin/env bash
# make check-06: the exercises at the end of 06-net/README.md, checked on
# what the kernel shows.
# shellcheck source=lab/checks/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root_check 06

# The named network namespaces, as ip netns list knows them: the nsfs bind
# mounts in /run/netns (a name whose mount is gone is an empty file).
names=()
declare -A ino_of=()
while read -r path ino; do
  case $path in /run/netns/*) ;; *) continue ;; esac
  names+=("${path#/run/netns/}")
  ino_of[${path#/run/netns/}]=$ino
done < <(nsfs_mounts net)

exercise 1 "a name for a namespace that a process made"
# The children of 06-net show (re-executed as childFunc).
children=()
for pid in $(go_procs 06-net); do
  read_argv "$pid"
  [ "${ARGV[0]:-}" = childFunc ] && children+=("$pid")
done
found=''
for pid in "${children[@]}"; do
  ns=$(ns_ino "$pid" net)
  for n in "${names[@]}"; do
    if [ "${ino_of[$n]}" = "$ns" ]; then
      found="ip netns list shows $n: the network namespace of PID $pid, net:[$ns]"
      break 2
    fi
  done
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ ${#children[@]} -eq 0 ]; then
  not_yet "no child of 06-net show is running" "in shell 1: sudo ./bin/06-net show -hold 600s, and leave it running"
else
  not_yet "no name in /run/netns leads to the network namespace of the child, PID ${children[0]}" \
    "iproute2 can name a process's namespace: see ip netns help (attach)"
fi

exercise 2 "two named namespaces joined by a veth pair, and a ping across"
# icmp_count NAME FIELD: a counter of the Icmp line of /proc/net/snmp, which
# shows the network namespace of the process that reads it.
icmp_count() {
  local header='' line
  while read -r line; do
    [[ $line == Icmp:* ]] || continue
    if [ -z "$header" ]; then header=$line; continue; fi
    read -ra names <<<"$header"
    read -ra values <<<"$line"
    for i in "${!names[@]}"; do [ "${names[$i]}" != "$2" ] || echo "${values[$i]}"; done
    return
  done < <(nsenter --net="/run/netns/$1" cat /proc/net/snmp 2>/dev/null)
}
# subnet ADDR/LEN: the network part, as a number.
subnet() {
  local a=${1%/*} len=${1#*/} o1 o2 o3 o4
  IFS=. read -r o1 o2 o3 o4 <<<"$a"
  echo $(((((o1 << 24) | (o2 << 16) | (o3 << 8) | o4) >> (32 - len)) << (32 - len)))
}
# Each namespace's veth ends and IPv4 addresses, two ip calls a namespace:
# "2: va@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> ... link-netns B" and
# "2: va    inet 10.200.66.1/24 ...".
declare -A veths=() addrs=()
for n in "${names[@]}"; do
  veths[$n]=$(ip -n "$n" -o link show type veth 2>/dev/null)
  addrs[$n]=$(ip -n "$n" -o -4 addr show 2>/dev/null)
done
link_re='^[0-9]+: ([^@:]+)@[^:]*: <([^>]*)>(.* link-netns ([^ ]+))?'
# ipv4 NAME DEV: DEV's first IPv4 address with its prefix length.
ipv4() {
  local line f
  while read -r line; do
    read -ra f <<<"$line"
    [ "${f[1]:-}" = "$2" ] && [ "${f[2]:-}" = inet ] && { echo "${f[3]}"; return; }
  done <<<"${addrs[$1]}"
}
# up FLAGS: whether <FLAGS> holds UP.
up() { [[ ,$1, == *,UP,* ]]; }
best='' best_hint='' found=''
for a in "${names[@]}"; do
  while read -r line; do
    [[ $line =~ $link_re ]] || continue
    dev=${BASH_REMATCH[1]} flags=${BASH_REMATCH[2]} b=${BASH_REMATCH[4]}
    if [ -z "$b" ] || [ -z "${ino_of[$b]:-}" ]; then
      best=${best:-"the veth $dev in $a has its peer outside the named namespaces (ip -n $a link shows no link-netns NAME)"}
      best_hint=${best_hint:-"move the peer: ip link set PEER netns OTHER-NAME"}
      continue
    fi
    peer='' peer_flags=''
    while read -r l2; do
      if [[ $l2 =~ $link_re ]] && [ "${BASH_REMATCH[4]}" = "$a" ]; then
        peer=${BASH_REMATCH[1]} peer_flags=${BASH_REMATCH[2]}
        break
      fi
    done <<<"${veths[$b]}"
    down='' up_hint=''
    up "$flags" || down="$dev in $a is down" up_hint="ip -n $a link set $dev up"
    up "$peer_flags" || down="$peer in $b is down" up_hint="ip -n $b link set $peer up"
    addr_a=$(ipv4 "$a" "$dev") addr_b=$(ipv4 "$b" "$peer")
    if [ -n "$down" ]; then
      best="$a and $b are joined by $dev and $peer, but $down" best_hint=$up_hint
    elif [ -z "$addr_a" ] || [ -z "$addr_b" ]; then
      best="$dev ($a) and $peer ($b) are up, but $([ -z "$addr_a" ] && echo "$dev" || echo "$peer") has no IPv4 address"
      best_hint="ip -n NAME addr add 10.200.66.1/24 dev DEV (a private address, only inside the namespaces)"
    elif [ "${addr_a#*/}" != "${addr_b#*/}" ] || [ "$(subnet "$addr_a")" != "$(subnet "$addr_b")" ]; then
      best="$addr_a on $dev ($a) and $addr_b on $peer ($b) are not in one subnet"
      best_hint="give both the same prefix, e.g. 10.200.66.1/24 and 10.200.66.2/24"
    else
      replies=$(icmp_count "$a" InEchoReps)
      if [ "${replies:-0}" -gt 0 ]; then
        sent=$(icmp_count "$a" OutEchos)
        found="$a ($addr_a on $dev) and $b ($addr_b on $peer) are joined by a veth pair; $a sent $sent echo requests and got $replies replies"
        break 2
      fi
      best="$a ($addr_a on $dev) and $b ($addr_b on $peer) are joined and addressed, but $a has had no echo reply yet"
      best_hint="ip netns exec $a ping -c 3 ${addr_b%/*}"
    fi
  done <<<"${veths[$a]}"
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ -n "$best" ]; then
  not_yet "$best" "$best_hint"
elif [ ${#names[@]} -lt 2 ]; then
  not_yet "ip netns list shows ${#names[@]} name(s); the exercise needs two" "ip netns add NAME"
else
  not_yet "no named namespace has a veth interface" "ip -n A link add NAME type veth peer name NAME2 netns B"
fi

finish
