#!/usr/bin/env bash
# The guest image for `make vm-test`: Debian 12 built with debootstrap,
# provisioned by lab/provision.sh (run twice: the idempotence test), with the
# Debian kernel and systemd, as an ext4 disk image plus the kernel and initrd
# to boot it with qemu -kernel/-initrd.
#
# Cached in lab/.cache/vm/img-ARCH-KEY/, KEY being the sha256 of
# provision.sh, packages.sh (the list it installs) and this script (the
# recipe): a warm run reuses it, any change to one of them builds a new one
# (and removes the old one of that architecture). The image is never booted
# itself: each run boots a throwaway qcow2 overlay on top of it.
#
# ARCH (NSLAB_VM_ARCH) is amd64 (default) or arm64. An arm64 image is built
# on an amd64 host the same way: debootstrap --arch=arm64, and every program
# of the chroot (its second stage, provision.sh, apt's maintainer scripts)
# runs under qemu-user through binfmt_misc, which this script registers for
# the build and unregisters after (lab/binfmt.sh).
#
# Usage: lab/vm-image.sh              build the image unless cached
#        lab/vm-image.sh --print-dir  print the image's directory for the
#                                     current key (built or not)
# Environment: NSLAB_VM_ARCH, NSLAB_VM_CACHE (default lab/.cache/vm),
# NSLAB_VM_MIRROR (the Debian mirror; default: the one this machine's APT
# uses).
# Needs root (debootstrap, chroot). No loop mounts: the disk image is made
# with `mkfs.ext4 -d`; the chroot's /proc, /sys and /dev exist only in a
# private mount namespace (unshare -m) and vanish with it.
set -euo pipefail

lab=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab/vm-arch.sh
. "$lab/vm-arch.sh"
nslab_vm_arch "${NSLAB_VM_ARCH:-}" || exit 2
cache=${NSLAB_VM_CACHE:-$lab/.cache/vm}
key=$(cat "$lab/provision.sh" "$lab/packages.sh" "$lab/vm-image.sh" "$lab/vm-arch.sh" | sha256sum | cut -c1-16)
img=$cache/img-$VM_ARCH-$key
SUITE=bookworm
HEADROOM_MB=1536 # free space in the guest's root: test binaries, gcc output

if [ "${1:-}" = --print-dir ]; then
  echo "$img"
  exit 0
fi
if [ -f "$img/ok" ]; then
  echo "vm-image: cached $VM_ARCH image $img (key $key, built $(cat "$img/ok"))"
  exit 0
fi

say() { printf 'vm-image: %s\n' "$*"; }
die() { printf 'vm-image: error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot): sudo make vm-test"

# Host tools, from Debian, installed when missing.
missing=()
tools=(debootstrap:debootstrap mkfs.ext4:e2fsprogs unshare:util-linux sha256sum:coreutils)
[ "$VM_FOREIGN" -eq 0 ] || tools+=("$VM_QEMU_USER:qemu-user-static")
for t in "${tools[@]}"; do
  command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing host tools: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$cache"
work=$cache/build-$VM_ARCH-$key.$$
root=$work/root
log=$work/build.log
rm -rf "$work"
mkdir -p "$work"
# On any failure: say which phase, show the log's tail, keep the logs in
# $cache/failed-build/ and nothing half-built.
phase=start
on_exit() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    rm -rf "$cache/failed-build"
    mkdir -p "$cache/failed-build"
    cp "$work"/*.log "$cache/failed-build/" 2>/dev/null
    printf 'vm-image: FAILED in phase "%s" (exit %d); last lines of the build log (all logs in %s):\n' \
      "$phase" "$rc" "$cache/failed-build" >&2
    tail -n 40 "$log" >&2 2>/dev/null || true
    rm -rf "$work"
  fi
  nslab_binfmt_restore
}
trap on_exit EXIT

t0=$SECONDS
lap() { say "$1 done in $((SECONDS - t_phase)) s"; }

# Run a command in the chroot, with /proc, /sys and /dev mounted in a private
# mount namespace (gone when the command ends), a clean environment, and no
# network configuration beyond the host's resolv.conf copied by debootstrap.
inroot() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  unshare --mount --propagation private -- /bin/bash -c '
    set -e
    r=$1; shift
    mount -t proc proc "$r/proc"
    mount -t sysfs sysfs "$r/sys"
    mount --rbind /dev "$r/dev"
    exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"' inroot "$root" "$@"
}

# The machine's own Debian mirror, unless NSLAB_VM_MIRROR names another.
mirror=${NSLAB_VM_MIRROR:-$(bash "$lab/provision.sh" --mirror "$SUITE")}
security=$(bash "$lab/provision.sh" --mirror "$SUITE-security")
say "building the $VM_ARCH guest image (key $key) in $work; mirror $mirror"

# A foreign architecture's programs run under qemu-user, through a binfmt_misc
# entry with the F flag (the kernel opens the interpreter now, so it works
# inside the chroot too).
if [ "$VM_FOREIGN" -eq 1 ]; then
  phase=binfmt
  nslab_binfmt_register || die "cannot run $VM_ARCH programs here through binfmt_misc"
  say "binfmt_misc: $VM_ARCH programs run under $(command -v "$VM_QEMU_USER")"
fi

phase=debootstrap t_phase=$SECONDS
say "debootstrap --arch=$VM_ARCH --variant=minbase $SUITE (about 1 min; under emulation 5-10)"
# In a private mount namespace: debootstrap's second stage mounts /proc and
# /sys in the target, and those mounts must not appear on the host.
unshare --mount --propagation private -- \
  debootstrap --arch="$VM_ARCH" --variant=minbase "$SUITE" "$root" "$mirror" >>"$log" 2>&1
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $SUITE main
deb $mirror $SUITE-updates main
deb $security $SUITE-security main
EOF
lap debootstrap

# The idempotence test: the same script a learner's VM runs, twice; the
# second run must succeed and change nothing.
cp "$lab/provision.sh" "$lab/packages.sh" "$root/root/"
for run in 1 2; do
  phase="provision.sh, run $run" t_phase=$SECONDS
  say "lab/provision.sh in the chroot, run $run of 2"
  if ! inroot bash /root/provision.sh 2>&1 | tee "$work/provision-$run.log" | sed 's/^/    /'; then
    [ "$run" -eq 2 ] && die "provision.sh failed on its SECOND run: it is not idempotent"
    die "provision.sh failed in the debootstrap chroot"
  fi
  lap "provision run $run"
done
if grep -q 'changed (' "$work/provision-2.log"; then
  die "provision.sh's second run changed something (not idempotent): $(grep 'changed (' "$work/provision-2.log")"
fi
grep -qx 'provision: done, nothing to change' "$work/provision-2.log" ||
  die "provision.sh's second run did not end with 'done, nothing to change'"
say "idempotence: second provision run succeeded and changed nothing"
rm -f "$root/root/provision.sh" "$root/root/packages.sh"

# The kernel and systemd as init, like a learner's VM: systemd mounts cgroup2
# alone at /sys/fs/cgroup (unified hierarchy) and makes / shared.
phase="kernel and systemd" t_phase=$SECONDS
say "installing linux-image-$VM_ARCH, systemd-sysv, udev (about 2-3 min; under emulation 10)"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
inroot apt-get install -y -q --no-install-recommends "linux-image-$VM_ARCH" systemd-sysv udev kmod >>"$log" 2>&1
rm -f "$root/usr/sbin/policy-rc.d"
lap "kernel and systemd"

phase="guest configuration" t_phase=$SECONDS
echo nslab-guest >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tnslab-guest\n' >"$root/etc/hosts"
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$root/etc/fstab"
: >"$root/etc/resolv.conf" # no network in the guest
# 9p over virtio (the share with the test binaries) is built as modules.
printf '9pnet_virtio\n9p\n' >"$root/etc/modules-load.d/nslab-9p.conf"

# At boot: mount the host's share; with nslab.test on the kernel command line
# run its run.sh (lab/guest-run.sh), then power off. The runner lives on the
# share, not in the image, so changing it needs no image rebuild.
mkdir -p "$root/mnt/nslab"
cat >"$root/usr/local/sbin/nslab-guest-boot" <<'EOF'
#!/bin/sh
# Installed by lab/vm-image.sh; started by nslab-guest.service.
say() { echo "nslab-guest: $*"; }
say "booted $(uname -r); cgroup fs: $(stat -f -c %T /sys/fs/cgroup)"
modprobe -q 9pnet_virtio; modprobe -q 9p
rc=0
if ! mountpoint -q /mnt/nslab; then
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 nslab /mnt/nslab || {
    say "ERROR: cannot mount the 9p share 'nslab' (qemu -virtfs ... mount_tag=nslab)"; rc=1; }
fi
if grep -qw nslab.test /proc/cmdline; then
  if [ $rc -eq 0 ] && [ -f /mnt/nslab/run.sh ]; then
    bash /mnt/nslab/run.sh
    rc=$?
    say "runner exited $rc"
  elif [ $rc -eq 0 ]; then
    say "ERROR: no run.sh on the share"
  fi
  sync
  say "powering off"
  systemctl poweroff --force
fi
exit $rc
EOF
chmod 755 "$root/usr/local/sbin/nslab-guest-boot"
cat >"$root/etc/systemd/system/nslab-guest.service" <<'EOF'
[Unit]
Description=nslab guest test runner (lab/vm-test.sh)
After=multi-user.target
ConditionKernelCommandLine=|nslab.test
ConditionKernelCommandLine=|nslab.shell

[Service]
Type=oneshot
Environment=HOME=/root LANG=C.UTF-8
ExecStart=/usr/local/sbin/nslab-guest-boot
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
# `lab/vm-test.sh --shell`: a root shell on the serial console (no getty, no
# password), and power off when it exits.
cat >"$root/etc/systemd/system/nslab-shell.service" <<EOF
[Unit]
Description=nslab debug shell on the serial console (lab/vm-test.sh --shell)
After=multi-user.target nslab-guest.service
ConditionKernelCommandLine=nslab.shell

[Service]
Environment=HOME=/root LANG=C.UTF-8 TERM=vt100
WorkingDirectory=/root
ExecStart=/bin/bash -l
ExecStopPost=/usr/bin/systemctl poweroff
StandardInput=tty-force
StandardOutput=tty
StandardError=tty
TTYPath=/dev/$VM_CONSOLE

[Install]
WantedBy=multi-user.target
EOF
{
  inroot systemctl enable nslab-guest.service nslab-shell.service
  # Nothing else should run during the tests: no getty on the console, no
  # periodic maintenance.
  inroot systemctl mask "serial-getty@$VM_CONSOLE.service" getty@tty1.service apt-daily.timer \
    apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer
  inroot apt-get clean
} >>"$log" 2>&1
lap "guest configuration"

phase="disk image" t_phase=$SECONDS
kver=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
if [ -z "$kver" ] || [ ! -f "$root/boot/initrd.img-$kver" ]; then
  die "no kernel or initrd in $root/boot"
fi
cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/initrd.img"
used=$(du -sm "$root" | cut -f1)
size=$((used + used / 5 + HEADROOM_MB))
say "mkfs.ext4 -d: ${used} MB of files into a ${size} MB ext4 image"
mkfs.ext4 -q -F -L nslab-root -d "$root" "$work/root.ext4" "${size}M" >>"$log" 2>&1
rm -rf "$root"
echo "$kver" >"$work/kernel-version"
echo "$VM_ARCH" >"$work/arch"
lap "disk image"

# Publish atomically and drop images built for other keys.
phase=publish
date -u '+%Y-%m-%dT%H:%M:%SZ' >"$work/ok"
rm -rf "$cache/failed-build"
# (img-KEY without an architecture: an amd64 image from before arm64.)
for old in "$cache/img-$VM_ARCH"-* "$cache"/img-????????????????; do
  [ -d "$old" ] && [ "$old" != "$img" ] && rm -rf "$old"
done
rm -rf "$img"
mv "$work" "$img"
say "$VM_ARCH image ready in $((SECONDS - t0)) s: $img (kernel $kver)"
