#!/usr/bin/env bash
# make check-08: the exercises at the end of 08-cgroup/README.md, checked in
# the cgroup file system and /proc. The learner names the cgroups
# nslab-ex08-quota, nslab-ex08-freeze, nslab-ex08-ns, nslab-ex08-memory and
# nslab-ex08-pids; they may be anywhere in any mounted hierarchy (v1 or v2).
# shellcheck source=lab/checks/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root_check 08

v2=''
cgroup_v2 && v2=1

# v1_mount CONTROLLER: where the v1 hierarchy with that controller is
# mounted (found by its options, not its name).
v1_mount() {
  awk -v c="$1" '{ for (i = 7; $i != "-"; i++) ; if ($(i + 1) == "cgroup" && index("," $(i + 3) ",", "," c ",")) { print $5; exit } }' /proc/self/mountinfo
}

# make_cgroup CONTROLLER NAME: how a learner makes cgroup NAME for that
# controller (on v1, mounting its hierarchy first if none has it).
make_cgroup() {
  local mp=/sys/fs/cgroup
  if [ -z "$v2" ]; then
    mp=$(v1_mount "$1")
    if [ -z "$mp" ]; then
      echo "no v1 hierarchy has $1: mkdir -p /sys/fs/cgroup/$1 && mount -t cgroup -o $1 cgroup /sys/fs/cgroup/$1; then mkdir /sys/fs/cgroup/$1/$2"
      return
    fi
  fi
  echo "mkdir $mp/$2"
}

# Every cgroup directory called nslab-ex08-*, in every mounted hierarchy,
# found once: one find over all the mount points.
mapfile -t _cgroup_mounts < <(mounts self | awk '$2 == "cgroup" || $2 == "cgroup2" { print $1 }')
mapfile -t _ex_dirs < <(find "${_cgroup_mounts[@]}" -type d -name 'nslab-ex08-*' 2>/dev/null)

# cgroup_dirs NAME: the cgroup directories called NAME.
cgroup_dirs() {
  local dir
  for dir in "${_ex_dirs[@]}"; do
    [ "${dir##*/}" = "$1" ] && echo "$dir"
  done
}

# cgroup_missing CONTROLLER NAME DIR V2FILE [V1FILE]: says what to do when
# the exercise's cgroup NAME is missing (DIR empty) or is not under
# CONTROLLER (DIR lacks the limit file: V2FILE on v2, V1FILE, default the
# same, on v1), and succeeds then; fails, saying nothing, when it is ready.
cgroup_missing() {
  local ctl=$1 name=$2 dir=$3 file=$4
  [ -n "$v2" ] || file=${5:-$4}
  if [ -z "$dir" ]; then
    if [ -n "$v2" ]; then
      not_yet "no cgroup is called $name" \
        "echo +$ctl > /sys/fs/cgroup/cgroup.subtree_control; mkdir /sys/fs/cgroup/$name"
    else
      not_yet "no cgroup is called $name" "$(make_cgroup "$ctl" "$name")"
    fi
  elif [ ! -e "$dir/$file" ]; then
    if [ -n "$v2" ]; then
      not_yet "$dir has no $file: $ctl is not in its parent's cgroup.subtree_control" \
        "echo +$ctl > ${dir%/*}/cgroup.subtree_control"
    else
      not_yet "$dir is not in the $ctl hierarchy" "make it there: $(make_cgroup "$ctl" "$name")"
    fi
  else
    return 1
  fi
}

# pick NAME FILE...: the first cgroup called NAME that has one of the FILEs,
# or else the first cgroup called NAME; empty if there is none.
pick() {
  local name=$1 dir f first=''
  shift
  while read -r dir; do
    [ -n "$dir" ] || continue
    first=${first:-$dir}
    for f in "$@"; do
      [ -e "$dir/$f" ] && { echo "$dir"; return; }
    done
  done < <(cgroup_dirs "$name")
  echo "$first"
}

# ticks_each PID...: "PID TICKS" for each of them that is still there:
# its CPU time so far (utime + stime, in clock ticks).
ticks_each() {
  local pid utime stime
  for pid in "$@"; do
    read -r utime stime < <(stat_field "$pid" 12 13) || continue
    echo "$pid $((utime + stime))"
  done
}

# ticks PID...: their CPU time so far, together.
ticks() {
  ticks_each "$@" | awk '{ sum += $2 } END { print sum + 0 }'
}

# stat_value FILE KEY: KEY's number in a cpu.stat-like file (0 if missing).
stat_value() {
  awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' "$1" 2>/dev/null
}

hz=$(getconf CLK_TCK)

# usec: the wall clock in microseconds.
usec() { echo $((${EPOCHREALTIME/./})); }

exercise 1 "150% of one CPU, by hand"
dir=$(pick nslab-ex08-quota cpu.max cpu.cfs_quota_us)
procs=()
[ -n "$dir" ] && mapfile -t procs <"$dir/cgroup.procs"
quota='' period=''
if [ -f "$dir/cpu.max" ]; then
  read -r quota period <"$dir/cpu.max"
elif [ -f "$dir/cpu.cfs_quota_us" ]; then
  quota=$(<"$dir/cpu.cfs_quota_us") period=$(<"$dir/cpu.cfs_period_us")
  [ "$quota" = -1 ] && quota=max
fi
if cgroup_missing cpu nslab-ex08-quota "$dir" cpu.max cpu.cfs_quota_us; then
  : # said what to do
elif [ "$quota" = max ] || [ $((quota * 2)) -ne $((period * 3)) ]; then
  now="no quota"
  [ "$quota" = max ] || now="a quota of $quota per $period µs, $((quota * 100 / period))% of one CPU"
  if [ -f "$dir/cpu.max" ]; then
    not_yet "$dir has $now; want 150%" "echo 150000 100000 > $dir/cpu.max"
  else
    not_yet "$dir has $now; want 150%" "echo 100000 > $dir/cpu.cfs_period_us; echo 150000 > $dir/cpu.cfs_quota_us"
  fi
elif [ ${#procs[@]} -eq 0 ]; then
  not_yet "nothing runs in $dir" \
    "start the load in it, placed before it runs: sh -c 'echo \$\$ > $dir/cgroup.procs && exec stress -c 2' &"
else
  # A third of a second of the load: three periods of 100 ms. A worker is
  # a process that ran for at least two clock ticks of it.
  declare -A before
  w0=$(usec) n0=$(stat_value "$dir/cpu.stat" nr_periods) th0=$(stat_value "$dir/cpu.stat" nr_throttled)
  while read -r pid t; do before[$pid]=$t; done < <(ticks_each "${procs[@]}")
  sleep 0.3
  w1=$(usec) n1=$(stat_value "$dir/cpu.stat" nr_periods) th1=$(stat_value "$dir/cpu.stat" nr_throttled)
  ran=0 workers=0
  while read -r pid t; do
    [ -n "${before[$pid]:-}" ] || continue
    ran=$((ran + t - before[$pid]))
    [ $((t - before[$pid])) -ge 2 ] && workers=$((workers + 1))
  done < <(ticks_each "${procs[@]}")
  used=$((ran * 100 * 1000000 / hz / (w1 - w0)))
  if [ "$th1" -gt "$th0" ]; then
    done_ "$dir: quota $quota per $period µs; $(pids_text "${procs[@]}") were throttled in $((th1 - th0)) of $((n1 - n0)) periods: each time they had used their $((quota / 1000)) ms of CPU in $((period / 1000)) ms, more than one CPU can give"
  elif [ "$workers" -ge 2 ]; then
    # Other load on the machine can keep them below the quota.
    done_ "$dir: quota $quota per $period µs; $workers of $(pids_text "${procs[@]}") ran at once, so the load can use more than one CPU; the machine is busy, though: they got about $used% and were not throttled"
  else
    not_yet "$(pids_text "${procs[@]}") in $dir used about $used% of one CPU and were never throttled: a quota of 150% holds back only a load that can use more than one CPU" \
      "one worker runs on one CPU at a time: start two (stress -c 2), placed in the cgroup"
  fi
fi

exercise 2 "freeze, not stop"
dir=$(pick nslab-ex08-freeze freezer.state cgroup.freeze)
procs=()
[ -n "$dir" ] && mapfile -t procs <"$dir/cgroup.procs"
if [ -z "$dir" ]; then
  not_yet "no cgroup is called nslab-ex08-freeze" "$(make_cgroup freezer nslab-ex08-freeze)"
elif [ ! -e "$dir/freezer.state" ] && [ ! -e "$dir/cgroup.freeze" ]; then
  not_yet "$dir has no freezer file: it is not in the freezer hierarchy" "make it there: $(make_cgroup freezer nslab-ex08-freeze)"
elif [ ${#procs[@]} -eq 0 ]; then
  not_yet "nothing runs in $dir" \
    "start a busy process in it: sh -c 'echo \$\$ > $dir/cgroup.procs && exec yes > /dev/null' &"
else
  frozen='' state='' stopped=()
  if [ -e "$dir/freezer.state" ]; then
    state=$(<"$dir/freezer.state")
    [ "$state" = FROZEN ] && frozen=1
    thaw="echo THAWED > $dir/freezer.state" freeze="echo FROZEN > $dir/freezer.state"
  else
    state="cgroup.freeze $(<"$dir/cgroup.freeze"), cgroup.events $(grep frozen "$dir/cgroup.events")"
    grep -qx 'frozen 1' "$dir/cgroup.events" && frozen=1
    thaw="echo 0 > $dir/cgroup.freeze" freeze="echo 1 > $dir/cgroup.freeze"
  fi
  states=()
  for pid in "${procs[@]}"; do
    s=$(proc_state "$pid") || continue
    states+=("PID $pid is $s")
    [ "$s" = T ] && stopped+=("$pid")
  done
  t0=$(ticks "${procs[@]}")
  if [ ${#stopped[@]} -gt 0 ]; then
    not_yet "$(pids_text "${stopped[@]}") in $dir is stopped by a signal (state T), as kill -STOP or Ctrl-Z leave it; its parent is told, and SIGCONT undoes it" \
      "kill -CONT ${stopped[*]}; then freeze the cgroup instead: $freeze"
  elif [ "$t0" -lt $((hz / 10)) ]; then
    not_yet "$(pids_text "${procs[@]}") in $dir used $((t0 * 1000 / hz)) ms of CPU in all: freeze something busy, so that you can see it stop" \
      "$thaw; kill ${procs[*]}; then: sh -c 'echo \$\$ > $dir/cgroup.procs && exec yes > /dev/null' &"
  elif [ -z "$frozen" ]; then
    not_yet "$dir holds $(pids_text "${procs[@]}"), and is not frozen ($state)" "$freeze"
  else
    sleep 0.2
    t1=$(ticks "${procs[@]}")
    if [ "$t1" -ne "$t0" ]; then
      not_yet "$dir says frozen, but its processes used $(((t1 - t0) * 1000 / hz)) ms of CPU in 0.2 s" "wait until the freeze is complete, then check again"
    else
      done_ "$dir is frozen: $(printf '%s, ' "${states[@]}")not T as a stopped process would be, and no CPU time went to it in 0.2 s"
    fi
  fi
fi

exercise 3 "a cgroup namespace rooted in nslab-ex08-ns"
host_cg=$(ns_ino self cgroup)
mapfile -t dirs < <(cgroup_dirs nslab-ex08-ns)
found='' early='' outside=()
for dir in "${dirs[@]}"; do
  [ -n "$dir" ] || continue
  while read -r pid; do
    [ -n "$pid" ] || continue
    ino=$(ns_ino "$pid" cgroup) || continue
    if [ "$ino" = "$host_cg" ]; then
      outside+=("$pid")
      continue
    fi
    # The line of /proc/PID/cgroup for this hierarchy, as the host reads it
    # (HIERARCHY-ID:CONTROLLERS:PATH), and as the process's own cgroup
    # namespace reads it: paths are relative to the reader's namespace.
    line=$(grep -m1 '/nslab-ex08-ns$' "/proc/$pid/cgroup" 2>/dev/null) || continue
    inside=$(nsenter -C -t "$pid" cat "/proc/$pid/cgroup" 2>/dev/null |
      awk -v p="${line%:*}:" 'index($0, p) == 1 { print substr($0, length(p) + 1); exit }')
    if [ "$inside" = / ]; then
      found="PID $pid ($(comm_of "$pid")) is in $dir; its /proc/$pid/cgroup reads ${line#*:*:} from the host's cgroup namespace and / from its own, cgroup:[$ino]"
      break 2
    fi
    early="PID $pid is in $dir and in cgroup:[$ino], but sees itself at $inside: it was moved after the namespace was made, so the namespace's root is the cgroup it came from"
  done <"$dir/cgroup.procs"
done
if [ -n "$found" ]; then
  done_ "$found"
elif [ -n "$early" ]; then
  not_yet "$early" "end it; move first, then unshare: sh -c 'echo \$\$ > ${dirs[0]}/cgroup.procs && exec unshare -C bash'"
elif [ ${#outside[@]} -gt 0 ]; then
  not_yet "${dirs[0]} holds $(pids_text "${outside[@]}"), in the host's cgroup namespace" \
    "start a shell there in a new one: sh -c 'echo \$\$ > ${dirs[0]}/cgroup.procs && exec unshare -C bash'"
elif [ ${#dirs[@]} -gt 0 ]; then
  not_yet "nothing runs in ${dirs[0]}" \
    "sh -c 'echo \$\$ > ${dirs[0]}/cgroup.procs && exec unshare -C bash'"
else
  not_yet "no cgroup is called nslab-ex08-ns" "$(make_cgroup freezer nslab-ex08-ns)"
fi

exercise 4 "an OOM kill, in the cgroup only"
dir=$(pick nslab-ex08-memory memory.max memory.limit_in_bytes)
limit='' kills=0
if [ -f "$dir/memory.max" ]; then
  limit=$(<"$dir/memory.max") kills=$(stat_value "$dir/memory.events" oom_kill) lfile=memory.max
elif [ -f "$dir/memory.limit_in_bytes" ]; then
  limit=$(<"$dir/memory.limit_in_bytes") kills=$(stat_value "$dir/memory.oom_control" oom_kill) lfile=memory.limit_in_bytes
  # v1 shows "no limit" as the largest multiple of the page size.
  [ "$limit" -ge $((1 << 62)) ] && limit=max
fi
if cgroup_missing memory nslab-ex08-memory "$dir" memory.max memory.limit_in_bytes; then
  : # said what to do
elif [ "$limit" = max ]; then
  not_yet "$dir has no memory limit" "echo 32M > $dir/$lfile"
elif [ "$limit" -gt $((256 << 20)) ]; then
  not_yet "$dir has a limit of $((limit >> 20)) MiB: keep it small, so that nothing else suffers" "echo 32M > $dir/$lfile"
elif [ "$kills" -eq 0 ]; then
  not_yet "$dir has a limit of $((limit >> 20)) MiB, and the OOM killer has killed nothing in it (oom_kill 0)" \
    "start a hog in it, placed before it runs: sh -c 'echo \$\$ > $dir/cgroup.procs && exec tail /dev/zero'"
else
  done_ "$dir: limit $((limit >> 20)) MiB; the kernel's OOM killer killed $kills process(es) in it (oom_kill $kills), and only there: compare /proc/vmstat oom_kill and dmesg"
fi

exercise 5 "a fork bomb, contained"
dir=$(pick nslab-ex08-pids pids.max)
if cgroup_missing pids nslab-ex08-pids "$dir" pids.max; then
  : # said what to do
else
  pmax=$(<"$dir/pids.max") current=$(<"$dir/pids.current") refused=$(stat_value "$dir/pids.events" max)
  if [ "$pmax" = max ]; then
    not_yet "$dir has no limit (pids.max max)" "echo 10 > $dir/pids.max"
  elif [ "$refused" -eq 0 ]; then
    not_yet "$dir holds $current of at most $pmax tasks, and no fork in it has been refused yet (pids.events max 0)" \
      "start a fork loop in it: sh -c 'echo \$\$ > $dir/cgroup.procs && exec bash -c \"while :; do sleep 60 & done\"' &"
  else
    done_ "$dir: pids.max $pmax; the kernel refused $refused fork(s) in it with EAGAIN (pids.events max $refused), and it holds $current task(s)"
  fi
fi

finish
