#!/usr/bin/env bash
# sudo make vm: the guest of `make vm-test` (Debian 12, kernel 6.1, systemd,
# cgroup v2), booted interactively on this terminal, for a learner on Linux
# without Vagrant or VirtualBox. You land in a root shell in /nslab, which is
# this checkout shared live over 9p; make build, make c and go test work
# there with no network: the guest's Go (Debian's 1.23) takes the modules
# from this host's module cache, shared read-only, and keeps its build cache
# on this host between runs. `exit` powers the guest off; this script then
# removes its run directory.
#
#   1. guest arch  that of the programs in bin/: amd64 or arm64, as on the
#                  host that built them (an arm64 Linux machine gets the
#                  arm64 guest of `make vm-test ARCH=arm64`)
#   2. host tools  qemu-system-x86 or -arm, qemu-utils (apt-get, when missing)
#   3. image       lab/vm-image.sh: the cached vm-test image (built once)
#   4. accel       KVM if the guest's kernel starts under it within seconds, else TCG
#   5. modules     go mod download here; the module cache's download
#                  directory becomes the guest's GOPROXY (file://, read-only)
#   6. boot        a throwaway qcow2 overlay of the image; the guest runs
#                  lab/vm-guest.sh, which mounts the checkout, the modules
#                  and the build cache, and starts the shell on the serial
#                  console (this terminal)
#
# Ctrl-C inside the guest goes to the guest's shell; Ctrl-A x kills the guest
# from the host side (qemu's escape), as does a signal to this script.
# Environment: GO (the go command), NSLAB_VM_ACCEL (kvm or tcg: no probe),
# NSLAB_VM_CACHE (image cache, as for vm-test; the guest's Go build cache is
# kept there too), NSLAB_VM_MIRROR.
set -euo pipefail

lab=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$lab/.." && pwd)
cache_root=$lab/.cache

say() { printf 'vm: %s\n' "$*"; }
die() {
  printf 'vm: error: %s\n' "$*" >&2
  exit 1
}

# shellcheck source=lab/lib.sh
. "$lab/lib.sh"
require_root vm "the image build, qemu's 9p share of the checkout" vm
if [ ! -t 0 ] || [ ! -t 1 ]; then
  die "the guest's shell needs a terminal: run sudo make vm in one (tests in the guest: sudo make vm-test)"
fi
[ -x "$repo/bin/01-clone" ] || die "no programs in $repo/bin: run sudo make build c first (make vm does)"

run=''
qemu_pid=''
tty_state=$(stty -g)
cleanup() {
  local rc=$?
  # No second signal (the hangup that follows a closed terminal) may cut
  # the cleanup short.
  trap '' INT TERM HUP
  if [ -n "$qemu_pid" ]; then
    kill "$qemu_pid" 2>/dev/null
    wait "$qemu_pid" 2>/dev/null
  fi
  # qemu puts the terminal in raw mode and restores it, unless it is killed.
  stty "$tty_state" 2>/dev/null
  [ -n "$run" ] && rm -rf "$run"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---------------------------------------------------------------------------
# The guest runs the programs in bin/, so it has their architecture: byte 18
# of an ELF header is e_machine's low byte, 0x3e for x86-64, 0xb7 for
# aarch64. A plain `make build` gives this machine's.
case $(od -An -tx1 -j18 -N1 "$repo/bin/01-clone" | tr -d ' ') in
  3e) guest_arch=amd64 ;;
  b7) guest_arch=arm64 ;;
  *) die "bin/01-clone is built for neither amd64 nor arm64, the two guests make vm has: run sudo make build c" ;;
esac
# shellcheck source=lab/vm-arch.sh
. "$lab/vm-arch.sh"
nslab_vm_arch "$guest_arch" || exit 2
export NSLAB_VM_ARCH=$VM_ARCH # for lab/vm-image.sh

# ---------------------------------------------------------------------------
missing=()
command -v qemu-img >/dev/null 2>&1 || missing+=(qemu-utils)
for tp in "${VM_PKGS[@]}"; do
  command -v "${tp%%:*}" >/dev/null 2>&1 || missing+=("${tp#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (apt-get, --no-install-recommends): make vm boots its guest with qemu"
  mkdir -p "$cache_root"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >"$cache_root/apt.log" 2>&1 || { tail -n 30 "$cache_root/apt.log" >&2; die "apt-get install failed"; }
fi

# ---------------------------------------------------------------------------
bash "$lab/vm-image.sh"
img=$(bash "$lab/vm-image.sh" --print-dir)
[ -f "$img/ok" ] || die "no guest image in $img (lab/vm-image.sh)"

# The run directory (overlay, guest script, probe): one per run, removed at
# exit; one left by a run that was killed is removed by the next.
mkdir -p "$cache_root"
for d in "$cache_root"/vm-run.*; do
  [ -d "$d" ] && ! kill -0 "${d##*.}" 2>/dev/null && rm -rf "$d"
done
run=$cache_root/vm-run.$$
rm -rf "$run"
mkdir -p "$run/share"

# ---------------------------------------------------------------------------
# KVM only if the guest's own kernel starts under it. Booted with no root
# and panic=-1, it prints its banner ("Linux version ...") on the serial
# console, panics for want of a root and, with -no-reboot, makes qemu exit:
# a second or two under a working KVM (4 s under TCG). A missing KVM fails
# at once; one that cannot run the kernel is stopped after 10 s. A boot
# sector is not enough: on the machine nslab is built on, KVM ran one in
# well under a second, and then hung in the kernel's first instructions.
probe_kvm() {
  if [ ! -w /dev/kvm ]; then
    why="no /dev/kvm"
    return 1
  fi
  local rc=0 machine=("${VM_MACHINE[@]}")
  [ "$VM_ARCH" = arm64 ] && machine=(-machine virt -cpu host)
  timeout -k 1 10 "$VM_QEMU_SYSTEM" "${machine[@]}" -accel kvm -m 256 -nodefaults -display none \
    -no-reboot -serial stdio -kernel "$img/vmlinuz" -append "console=$VM_CONSOLE panic=-1" \
    </dev/null >"$run/probe.log" 2>&1 || rc=$?
  grep -q "Linux version" "$run/probe.log" && return 0
  case $rc in
    124 | 137) why="the guest's kernel printed nothing under KVM within 10 s" ;;
    *) why="qemu -accel kvm failed: $(grep -m 1 . "$run/probe.log" || echo "exit $rc")" ;;
  esac
  return 1
}
why=''
case ${NSLAB_VM_ACCEL:-} in
  kvm | tcg) accel=$NSLAB_VM_ACCEL why="NSLAB_VM_ACCEL" ;;
  '')
    if [ "$VM_FOREIGN" -eq 1 ]; then
      accel=tcg why="an $VM_ARCH guest on an $(uname -m) machine"
    elif probe_kvm; then
      accel=kvm why="the guest's kernel started under KVM"
    else
      accel=tcg
    fi
    ;;
  *) die "NSLAB_VM_ACCEL=$NSLAB_VM_ACCEL: use kvm or tcg, or leave it unset to probe" ;;
esac
if [ "$accel" = kvm ]; then
  say "accelerator: KVM ($why)"
else
  say "accelerator: TCG, software emulation ($why): slower: 20 s to a minute to boot"
fi

# ---------------------------------------------------------------------------
# The guest has no network: its Go fetches the modules go.mod lists from
# this host's module cache, whose download directory is laid out as a
# module proxy (GOPROXY=file://...; go.sum still checks every file). Its
# build cache stays here between runs, beside the image, so that only the
# first make build in a guest compiles the standard library.
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
(cd "$repo" && "$GO" mod download) || die "go mod download failed: the guest needs the modules in this host's cache"
modcache=$(cd "$repo" && "$GO" env GOMODCACHE)/cache/download
gocache=${NSLAB_VM_CACHE:-$lab/.cache/vm}/gocache-$VM_ARCH
mkdir -p "$gocache"
cp "$lab/vm-guest.sh" "$run/share/run.sh"
# The terminal type and size, for the guest's serial console.
size=$(stty size 2>/dev/null || echo '')
printf 'TERM=%q\nROWS=%q\nCOLS=%q\nTTY=/dev/%q\n' "${TERM:-vt100}" "${size% *}" "${size#* }" "$VM_CONSOLE" >"$run/share/vm.env"
qemu-img create -q -f qcow2 -b "$img/root.ext4" -F raw "$run/overlay.qcow2"
# Like vm-test's boot, but with nslab.test running lab/vm-guest.sh (the
# shell) instead of the tests, and three more shares: the checkout, the
# modules (read-only) and the guest's build cache.
append="root=/dev/vda rw console=$VM_CONSOLE systemd.unified_cgroup_hierarchy=1 quiet nslab.test"
machine=("${VM_MACHINE[@]}")
# Under KVM an arm64 guest runs on the host's own CPU model (vm-test's
# cortex-a72 is for TCG).
[ "$VM_ARCH:$accel" = arm64:kvm ] && machine=(-machine virt -cpu host)
say "booting the guest ($VM_ARCH); the checkout $repo is /nslab in it; 'exit' powers it off (Ctrl-A x kills it)"
"$VM_QEMU_SYSTEM" -name nslab-vm "${machine[@]}" -accel "$accel" -smp 2 -m 2048 \
  -nographic -vga none -no-reboot -nic none \
  -kernel "$img/vmlinuz" -initrd "$img/initrd.img" -append "$append" \
  -drive "file=$run/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe" \
  -virtfs "local,path=$run/share,mount_tag=nslab,security_model=none,id=nslab" \
  -virtfs "local,path=$repo,mount_tag=nslabrepo,security_model=none,multidevs=remap,id=nslabrepo" \
  -virtfs "local,path=$modcache,mount_tag=nslabmod,security_model=none,readonly=on,id=nslabmod" \
  -virtfs "local,path=$gocache,mount_tag=nslabgocache,security_model=none,id=nslabgocache" \
  <&0 &
# In the background (with the terminal as its stdin) so that a signal to
# this script is handled at once: the trap kills qemu and cleans up.
qemu_pid=$!
rc=0
wait "$qemu_pid" || rc=$?
qemu_pid=''
[ "$rc" -eq 0 ] || die "qemu exited with status $rc"
say "the guest is off"
