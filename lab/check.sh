#!/usr/bin/env bash
# make check: can this machine run nslab? A preflight in the spirit of
# Docker's check-config.sh: one line per item, "name: ok", "name: missing"
# (required; with the fix) or "name: warning" (optional; with the fix).
# Exit 0 when everything required is present, 1 otherwise.
# Run it as root (sudo make check) for the checks that need privileges
# (pivot_root, unprivileged user namespaces seen from another user).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." 2>/dev/null && pwd)

# shellcheck source=lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=0
warnings=0
section() { printf '\n%s== %s%s\n' "$bold" "$1" "$off"; }
# ok NAME [DETAIL]
ok() { printf '%s: %sok%s%s\n' "$1" "$green" "$off" "${2:+ ($2)}"; }
# miss NAME DETAIL FIX: a required item is absent
miss() {
  printf '%s: %smissing%s (%s)\n    fix: %s\n' "$1" "$red" "$off" "$2" "$3"
  missing=$((missing + 1))
}
# warn NAME DETAIL FIX: an optional item is absent
warn() {
  printf '%s: %swarning%s (%s)\n    fix: %s\n' "$1" "$yellow" "$off" "$2" "$3"
  warnings=$((warnings + 1))
}
is_root() { [ "$(id -u)" -eq 0 ]; }
sysctl_value() { cat "/proc/sys/${1//.//}" 2>/dev/null; }

# ---------------------------------------------------------------------------
section "kernel"
kver=$(uname -r)
IFS=. read -r kmaj kmin _ <<<"${kver%%-*}"
kmin=${kmin%%[!0-9]*}
if [ "$kmaj" -lt 4 ] || { [ "$kmaj" -eq 4 ] && [ "$kmin" -lt 6 ]; }; then
  miss "kernel version" "$kver; the cgroup namespace needs 4.6" "a newer kernel (Debian 12 has 6.1)"
elif [ "$kmaj" -lt 5 ] || { [ "$kmaj" -eq 5 ] && [ "$kmin" -lt 6 ]; }; then
  warn "kernel version" "$kver; time namespaces need 5.6" "a newer kernel (Debian 12 has 6.1)"
else
  ok "kernel version" "$kver"
fi
if is_root; then ok "running as root"; else
  warn "running as root" "uid $(id -u): the demos and most checks below need root" "sudo make check"
fi

# ---------------------------------------------------------------------------
section "namespaces (/proc/self/ns)"
declare -A ns_config=([uts]=CONFIG_UTS_NS [ipc]=CONFIG_IPC_NS [mnt]="(always built)"
  [pid]=CONFIG_PID_NS [net]=CONFIG_NET_NS [user]=CONFIG_USER_NS
  [cgroup]=CONFIG_CGROUPS [time]="CONFIG_TIME_NS (kernel 5.6+)")
for ns in uts ipc mnt pid net user cgroup time; do
  if [ -e "/proc/self/ns/$ns" ]; then
    ok "namespace $ns" "$(readlink "/proc/self/ns/$ns")"
  elif [ "$ns" = time ]; then
    warn "namespace time" "no /proc/self/ns/time" "a kernel built with ${ns_config[$ns]}"
  else
    miss "namespace $ns" "no /proc/self/ns/$ns" "a kernel built with ${ns_config[$ns]}"
  fi
done

# ---------------------------------------------------------------------------
section "cgroups"
cg=/sys/fs/cgroup
fstype=$(stat -f -c %T "$cg" 2>/dev/null || echo none)
own=$(awk -F: '$1 == "0" { print $3; exit }' /proc/self/cgroup)
v1_has() { # is the v1 controller $1 enabled and mounted?
  awk -v c="$1" '$1 == c && $4 == 1 { found = 1 } END { exit !found }' /proc/cgroups 2>/dev/null &&
    awk '$3 == "cgroup" { print $4 }' /proc/self/mounts | tr , '\n' | grep -qx "$1"
}
if cgroup_v2; then
  ok "cgroup version" "v2 (unified hierarchy at $cg, as on Debian 12 and Ubuntu 22.04+)"
  controllers=$(cat "$cg/cgroup.controllers" 2>/dev/null)
  for c in cpu memory pids cpuset; do
    if grep -qw "$c" <<<"$controllers"; then
      ok "cgroup v2 controller $c"
    elif [ "$c" = cpuset ]; then
      warn "cgroup v2 controller $c" "not in $cg/cgroup.controllers" "a kernel with CONFIG_CPUSETS"
    else
      miss "cgroup v2 controller $c" "not in $cg/cgroup.controllers ($controllers)" \
        "a kernel with the $c controller, not disabled by cgroup_disable= or bound to a v1 hierarchy"
    fi
  done
  # The v2 freezer is the cgroup.freeze file of every non-root cgroup.
  freeze=$(find "$cg" -mindepth 2 -maxdepth 2 -name cgroup.freeze -print -quit 2>/dev/null)
  if [ -n "$freeze" ]; then ok "cgroup v2 freezer" "cgroup.freeze (kernel 5.2+)"; else
    warn "cgroup v2 freezer" "no cgroup.freeze in child cgroups" "kernel 5.2 or newer"
  fi
elif [ "$fstype" = tmpfs ]; then
  if [ "$(stat -f -c %T "$cg/unified" 2>/dev/null)" = cgroup2fs ]; then
    ok "cgroup version" "v1, hybrid (cgroup2 at $cg/unified holds no controllers; learners' VMs are v2)"
  else
    ok "cgroup version" "v1 (legacy hierarchies; learners' VMs are v2)"
  fi
  for c in cpu memory pids freezer; do
    if v1_has "$c"; then ok "cgroup v1 controller $c"; else
      miss "cgroup v1 controller $c" "not enabled in /proc/cgroups or not mounted" \
        "mkdir -p $cg/$c && mount -t cgroup -o $c cgroup $cg/$c (or boot with systemd.unified_cgroup_hierarchy=1 for v2)"
    fi
  done
else
  miss "cgroup version" "nothing mounted at $cg ($fstype)" \
    "mount -t cgroup2 none $cg (systemd does this at boot)"
fi
[ -n "$own" ] && ok "this shell's cgroup" "$own"

# ---------------------------------------------------------------------------
section "user namespaces"
max_userns=$(sysctl_value user.max_user_namespaces)
if [ -z "$max_userns" ]; then
  miss "user.max_user_namespaces" "absent: no user namespaces" "a kernel built with CONFIG_USER_NS"
elif [ "$max_userns" -eq 0 ]; then
  miss "user.max_user_namespaces" "0: no user namespace can be created, even by root" \
    "sysctl -w user.max_user_namespaces=15000"
else
  ok "user.max_user_namespaces" "$max_userns"
fi
clone=$(sysctl_value kernel.unprivileged_userns_clone)
if [ -n "$clone" ]; then # a Debian/Ubuntu patch; absent upstream
  if [ "$clone" = 1 ]; then ok "kernel.unprivileged_userns_clone" "1"; else
    warn "kernel.unprivileged_userns_clone" "0: only root may create user namespaces" \
      "sysctl -w kernel.unprivileged_userns_clone=1"
  fi
fi
aa=$(sysctl_value kernel.apparmor_restrict_unprivileged_userns)
if [ -n "$aa" ]; then # Ubuntu 23.10+
  if [ "$aa" = 0 ]; then ok "kernel.apparmor_restrict_unprivileged_userns" "0"; else
    warn "kernel.apparmor_restrict_unprivileged_userns" \
      "$aa: AppArmor strips capabilities in unprivileged user namespaces" \
      "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or an AppArmor profile with 'userns,')"
  fi
fi
if command -v unshare >/dev/null 2>&1; then
  if is_root; then
    if command -v runuser >/dev/null 2>&1; then
      try=(runuser -u nobody -- unshare --user --map-root-user true)
    else try=(); fi
  else
    try=(unshare --user --map-root-user true)
  fi
  if [ ${#try[@]} -eq 0 ]; then
    warn "unprivileged user namespace" "not tried: no runuser" "apt-get install util-linux"
  elif (cd / && "${try[@]}") >/dev/null 2>&1; then
    ok "unprivileged user namespace" "${try[*]}"
  else
    warn "unprivileged user namespace" "'${try[*]}' failed" \
      "see the two sysctls above; 07-user's unprivileged demos need it"
  fi
fi

# ---------------------------------------------------------------------------
section "mounts"
root_fs=$(awk '$5 == "/" { for (i = 7; $i != "-"; i++); print $(i + 1); exit }' /proc/self/mountinfo)
if [ "$root_fs" = rootfs ] || [ "$root_fs" = ramfs ]; then
  miss "root filesystem" "$root_fs: pivot_root cannot move an initramfs root" \
    "boot from a real root filesystem (or switch_root first)"
else
  ok "root filesystem" "$root_fs"
fi
prop=$(findmnt -n -o PROPAGATION / 2>/dev/null || true)
ok "propagation of /" "${prop:-unknown}$([ "$prop" = shared ] && echo ': a new mount namespace must make / rprivate first (05-mount)')"
if ! is_root; then
  warn "pivot_root" "not tried: needs root" "sudo make check"
elif ! command -v pivot_root >/dev/null 2>&1 || ! command -v unshare >/dev/null 2>&1; then
  miss "pivot_root" "no pivot_root or unshare command" "apt-get install util-linux"
else
  # In a private mount namespace (gone when the command ends): a tmpfs as new
  # root, the old root moved under it.
  d=$(mktemp -d /tmp/nslab-check.XXXXXX)
  # shellcheck disable=SC2016 # $1 is expanded by the inner sh
  if out=$(unshare --mount --propagation private -- sh -c \
    'mount -t tmpfs nslab-check "$1" && mkdir "$1/old" && cd "$1" && pivot_root . old' \
    sh "$d" 2>&1); then
    ok "pivot_root" "tmpfs root in a private mount namespace"
  else
    miss "pivot_root" "failed: $out" "a root filesystem that is a real mount (not an initramfs; not inside a chroot)"
  fi
  rmdir "$d" 2>/dev/null || true
fi

# ---------------------------------------------------------------------------
section "tools"
# NAME PACKAGE required|optional [WHAT FOR]
tool() {
  if command -v "$1" >/dev/null 2>&1; then
    ok "$1" "$(command -v "$1")"
  elif [ "$3" = required ]; then
    miss "$1" "not on PATH" "apt-get install $2"
  else
    warn "$1" "not on PATH${4:+; $4}" "apt-get install $2"
  fi
}
tool gcc gcc required "the C counterparts"
tool make make required
tool unshare util-linux required
tool nsenter util-linux required
tool ipcs util-linux required
tool ip iproute2 required
tool stress stress optional "08-cgroup's CPU demo"
tool stress-ng stress-ng optional "08-cgroup"
tool ping iputils-ping optional "06-net"
tool busybox busybox-static optional "a tiny root filesystem (05-mount)"
tool cgcreate cgroup-tools optional "comparing with libcgroup's tools"

# Go: the one on PATH, else where the Makefile looks (sudo drops it from PATH).
go_bin=${GO:-$(command -v go 2>/dev/null || true)}
[ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
if [ -z "$go_bin" ] || ! have=$(cd / && "$go_bin" env GOVERSION 2>/dev/null); then
  miss go "not found" "sudo bash lab/provision.sh (Debian 12), or Go from go.dev into /usr/local/go"
else
  want=''
  [ -f "$repo/go.mod" ] && want=go$(awk '$1 == "go" { print $2; exit }' "$repo/go.mod")
  if [ -z "$want" ] || [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1)" = "$want" ]; then
    ok go "$have at $go_bin"
  else
    # Run outside the repository: inside it, `go env` would switch toolchains.
    tc=$(cd / && "$go_bin" env GOTOOLCHAIN 2>/dev/null)
    modcache=$(cd / && "$go_bin" env GOMODCACHE 2>/dev/null)
    if [ "$tc" = local ]; then
      miss go "$have at $go_bin; go.mod needs $want and GOTOOLCHAIN=local forbids fetching it" \
        "export GOTOOLCHAIN=auto (or go env -w GOTOOLCHAIN=auto), or install $want"
    elif compgen -G "$modcache/golang.org/toolchain@v0.0.1-$want.*" >/dev/null; then
      ok go "$have at $go_bin; runs $want for this repository (toolchain cached)"
    else
      ok go "$have at $go_bin; will fetch $want on first use (GOTOOLCHAIN=$tc, module proxy)"
    fi
  fi
fi

# go build in a clone that another user owns (sudo make tour in your own
# clone): git refuses to read it ("dubious ownership") and Go's VCS stamping
# turns that into "error obtaining VCS status: exit status 128".
if [ -e "$repo/.git" ] && [ -n "$go_bin" ] && command -v git >/dev/null 2>&1; then
  if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
    ok "git reads the repository" "as $(id -un)"
  elif (cd / && "$go_bin" env GOFLAGS 2>/dev/null) | grep -q -- '-buildvcs=false'; then
    ok "git reads the repository" "it does not, but GOFLAGS has -buildvcs=false"
  else
    miss "git reads the repository" \
      "git refuses $repo (owner uid $(stat -c %u "$repo"), you are uid $(id -u)): go build would fail" \
      "git config --global --add safe.directory $repo (or export GOFLAGS=-buildvcs=false)"
  fi
fi

echo
if [ "$missing" -gt 0 ]; then
  printf '%scheck: %d required item(s) missing%s, %d warning(s)\n' "$red" "$missing" "$off" "$warnings"
  exit 1
fi
printf '%scheck: everything required is present%s (%d warning(s))\n' "$green" "$off" "$warnings"
