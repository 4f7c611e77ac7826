# shellcheck shell=bash
# The guest's architecture, for lab/vm-image.sh and lab/vm-test.sh: sourced,
# never run. `make vm-test ARCH=arm64` reaches them as NSLAB_VM_ARCH.
#
# nslab_vm_arch [ARCH]: ARCH is amd64 (the default) or arm64 (x86_64 and
# aarch64 are accepted too). Sets:
#   VM_ARCH         Debian's name: amd64 or arm64 (GOARCH is the same)
#   VM_UNAME        the kernel's name (uname -m): x86_64 or aarch64
#   VM_FOREIGN      1 when the host cannot run the guest's programs natively
#   VM_QEMU_SYSTEM  the qemu that boots the guest (always TCG here: see lab/README.md)
#   VM_MACHINE      its -machine and -cpu
#   VM_CONSOLE      the serial console's device in the guest
#   VM_CC           the C compiler for the guest's programs (cgo, make c)
#   VM_SYSROOT      where that compiler's libc is, for qemu-user (foreign only)
#   VM_QEMU_USER    qemu-user for a foreign guest's programs on the host
#   VM_PKGS         Debian packages the host needs for all that, as tool:package
# shellcheck disable=SC2034 # the caller uses these
nslab_vm_arch() {
  local host
  case "${1:-amd64}" in
  amd64 | x86_64) VM_ARCH=amd64 VM_UNAME=x86_64 ;;
  arm64 | aarch64) VM_ARCH=arm64 VM_UNAME=aarch64 ;;
  *)
    echo "vm: unknown ARCH '$1': use ARCH=amd64 or ARCH=arm64" >&2
    return 2
    ;;
  esac
  host=$(uname -m)
  VM_FOREIGN=0
  [ "$host" = "$VM_UNAME" ] || VM_FOREIGN=1
  VM_QEMU_USER=qemu-$VM_UNAME-static
  VM_SYSROOT=/usr/$VM_UNAME-linux-gnu
  VM_CC=gcc
  [ "$VM_FOREIGN" -eq 0 ] || VM_CC=$VM_UNAME-linux-gnu-gcc
  VM_PKGS=()
  if [ "$VM_ARCH" = amd64 ]; then
    VM_QEMU_SYSTEM=qemu-system-x86_64
    VM_MACHINE=(-machine q35)
    VM_CONSOLE=ttyS0
    VM_PKGS+=(qemu-system-x86_64:qemu-system-x86)
    [ "$VM_FOREIGN" -eq 0 ] || VM_PKGS+=(x86_64-linux-gnu-gcc:gcc-x86-64-linux-gnu)
  else
    VM_QEMU_SYSTEM=qemu-system-aarch64
    # The virt board with a Cortex-A72 (ARMv8.0): what Debian's arm64 kernel
    # and Go need. Not -cpu max: its pointer authentication makes every
    # function call slow under TCG.
    VM_MACHINE=(-machine virt -cpu cortex-a72)
    VM_CONSOLE=ttyAMA0 # the virt board's PL011 UART
    VM_PKGS+=(qemu-system-aarch64:qemu-system-arm)
    [ "$VM_FOREIGN" -eq 0 ] || VM_PKGS+=(aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu)
  fi
  [ "$VM_FOREIGN" -eq 0 ] || VM_PKGS+=("$VM_QEMU_USER:qemu-user-static")
}

# nslab_binfmt_register: lets this kernel run VM_UNAME programs under
# qemu-user, with the F flag (the interpreter is opened now, so it works in a
# chroot that lacks it), from the entry Debian's qemu-user-static ships in
# /usr/lib/binfmt.d. What it adds (the entry; the binfmt_misc mount) it
# records, and nslab_binfmt_restore removes exactly that.
NSLAB_BINFMT_MOUNTED=0
NSLAB_BINFMT_ADDED=''
nslab_binfmt_register() {
  local dir=/proc/sys/fs/binfmt_misc name=qemu-$VM_UNAME conf line
  if [ ! -e "$dir/register" ]; then
    mount -t binfmt_misc binfmt_misc "$dir" || return 1
    NSLAB_BINFMT_MOUNTED=1
  fi
  if [ -e "$dir/$name" ]; then
    if grep -qx enabled "$dir/$name" && grep -q '^flags: .*F' "$dir/$name"; then
      return 0
    fi
    echo "vm: the binfmt_misc entry $dir/$name is disabled or lacks the F flag;" \
      "remove it (echo -1 > $dir/$name) and run again" >&2
    return 1
  fi
  conf=/usr/lib/binfmt.d/$name.conf
  [ -f "$conf" ] || { echo "vm: no $conf (apt-get install qemu-user-static)" >&2; return 1; }
  line=$(grep -v '^#' "$conf" | head -n 1)
  [[ $line == *F ]] || line=${line}F
  printf '%s' "$line" >"$dir/register" || return 1
  NSLAB_BINFMT_ADDED=$name
}

nslab_binfmt_restore() {
  local dir=/proc/sys/fs/binfmt_misc
  if [ -n "$NSLAB_BINFMT_ADDED" ] && [ -e "$dir/$NSLAB_BINFMT_ADDED" ]; then
    echo -1 >"$dir/$NSLAB_BINFMT_ADDED" || true
  fi
  NSLAB_BINFMT_ADDED=''
  if [ "$NSLAB_BINFMT_MOUNTED" -eq 1 ]; then
    umount "$dir" || true
  fi
  NSLAB_BINFMT_MOUNTED=0
}
