package main

// devices.go adds the devices layer: the container may open only runc's
// default devices, however many nodes it makes with mknod (v1: the devices
// cgroup's allow list; v2: an eBPF program attached to the cgroup).

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"nslab/common"
)

// devRule is one line of the list, as v1's devices.allow spells it:
// "c 1:3 rwm" is the char device 1:3, which may be read, written and made
// with mknod.
type devRule struct {
	typ          byte   // 'c' char or 'b' block
	major, minor int64  // anyNum: any (*)
	access       string // r read, w write, m mknod
	what         string
}

const anyNum = -1

// defaultDevices is runc's default list, libcontainer/specconv's
// AllowedDevices in runc 1.5.1, which runc adds to every container's rules
// (Docker's too): a container may make any device node (CAP_MKNOD is
// kept) but open only these. runc dropped /dev/console (5:1)
// from it in 1.0.0-rc91, and /dev/net/tun (10:200) in 1.2.0, then put tun
// back in 1.2.4 for the users it broke: it is here, harmless without
// CAP_NET_ADMIN, which a container lacks.
var defaultDevices = []devRule{
	{'c', anyNum, anyNum, "m", "mknod of any char device"},
	{'b', anyNum, anyNum, "m", "mknod of any block device: not open"},
	{'c', 1, 3, "rwm", "/dev/null"},
	{'c', 1, 8, "rwm", "/dev/random"},
	{'c', 1, 7, "rwm", "/dev/full"},
	{'c', 5, 0, "rwm", "/dev/tty"},
	{'c', 1, 5, "rwm", "/dev/zero"},
	{'c', 1, 9, "rwm", "/dev/urandom"},
	{'c', 136, anyNum, "rwm", "/dev/pts/*"},
	{'c', 5, 2, "rwm", "/dev/ptmx"},
	{'c', 10, 200, "rwm", "/dev/net/tun"},
}

func (r devRule) String() string {
	num := func(n int64) string {
		if n == anyNum {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", r.typ, num(r.major), num(r.minor), r.access)
}

// allowDevices puts the list on the container's cgroup, before any process
// is in it.
func allowDevices(g *common.Group) {
	if !g.CFS.V2 {
		// v1: the devices controller's own files. "a" denies all and
		// empties the list; each allow line then adds one rule.
		g.Echo("devices", "devices.deny", "a", "v1: no device, first")
		for _, r := range defaultDevices {
			g.Echo("devices", "devices.allow", r.String(), r.what)
		}
		return
	}
	// v2 has no devices controller and no such files: the kernel asks the
	// eBPF programs attached to the cgroup instead.
	if err := attachDeviceFilter(g.Dir("devices")); err != nil {
		common.Fatalf("the devices layer (-off devices turns it off): %v", err)
	}
}

// The filter is an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE. The
// kernel runs it on every open and mknod of a device node by a process in
// the cgroup, with r1 pointing at struct bpf_cgroup_dev_ctx:
//
//	u32 access_type; // offset 0: access<<16 | type
//	u32 major;       // offset 4
//	u32 minor;       // offset 8
//
// type is 1 block or 2 char; access is 1 mknod | 2 read | 4 write. It
// returns 1 to allow, 0 to deny (EPERM).
//
// An eBPF instruction is 8 bytes: an opcode, the destination and source
// registers (4 bits each), a jump offset and an immediate value.
type bpfInsn struct {
	code uint8
	regs uint8 // C's bit fields: dst in the low 4 bits, src in the high 4 (on little-endian amd64 and arm64)
	off  int16
	imm  int32
}

// The rule's type and access in the context's numbers.
var (
	devcgType   = map[byte]int32{'b': unix.BPF_DEVCG_DEV_BLOCK, 'c': unix.BPF_DEVCG_DEV_CHAR}
	devcgAccess = map[rune]int32{'m': unix.BPF_DEVCG_ACC_MKNOD, 'r': unix.BPF_DEVCG_ACC_READ, 'w': unix.BPF_DEVCG_ACC_WRITE}
)

const (
	r0, r1, r2, r3, r4, r5 = 0, 1, 2, 3, 4, 5
	// toNext marks a jump to the next rule, resolved once the rule's
	// block is complete. (A real -1 would jump back to itself.)
	toNext = -1
)

// The instructions used, each as the kernel's own C macro
// (include/linux/filter.h) would write it. The 32-bit ALU ops zero the
// upper half of the register.
func ldxW(dst, src uint8, off int16) bpfInsn { // dst = *(u32 *)(src + off)
	return bpfInsn{code: unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W, regs: src<<4 | dst, off: off}
}
func alu32(op, dst uint8, imm int32) bpfInsn { // BPF_ALU32_IMM(op, ...): dst &= imm, >>= imm or = imm (BPF_AND, BPF_RSH, BPF_MOV)
	return bpfInsn{code: unix.BPF_ALU | op | unix.BPF_K, regs: dst, imm: imm}
}
func mov32Reg(dst, src uint8) bpfInsn { // dst = src
	return bpfInsn{code: unix.BPF_ALU | unix.BPF_MOV | unix.BPF_X, regs: src<<4 | dst}
}
func jne(dst uint8, imm int32, off int16) bpfInsn { // if dst != imm: skip off instructions
	return bpfInsn{code: unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K, regs: dst, off: off, imm: imm}
}
func jneReg(dst, src uint8, off int16) bpfInsn { // if dst != src: skip off instructions
	return bpfInsn{code: unix.BPF_JMP | unix.BPF_JNE | unix.BPF_X, regs: src<<4 | dst, off: off}
}
func exit() bpfInsn { return bpfInsn{code: unix.BPF_JMP | unix.BPF_EXIT} } // return r0

// deviceFilter assembles the program from the list, as runc's
// devicefilter does: the fields in r2-r5, then one block per rule, each
// test jumping to the next block when it fails; the first block whose
// tests all pass returns 1; past the last one, 0.
func deviceFilter(rules []devRule) []bpfInsn {
	p := []bpfInsn{
		ldxW(r2, r1, 0),                 // r2 = ctx->access_type
		alu32(unix.BPF_AND, r2, 0xffff), // r2 = its low half: the type
		ldxW(r3, r1, 0),                 // r3 = ctx->access_type
		alu32(unix.BPF_RSH, r3, 16),     // r3 = its high half: the access asked for
		ldxW(r4, r1, 4),                 // r4 = ctx->major
		ldxW(r5, r1, 8),                 // r5 = ctx->minor
	}
	for _, r := range rules {
		b := []bpfInsn{jne(r2, devcgType[r.typ], toNext)} // another type: next rule
		if r.access != "rwm" {                            // rwm allows any access: nothing to test
			var access int32
			for _, c := range r.access {
				access |= devcgAccess[c]
			}
			b = append(b,
				mov32Reg(r1, r3),                // r1 = the access asked for
				alu32(unix.BPF_AND, r1, access), // r1 = the part of it this rule allows
				jneReg(r1, r3, toNext),          // not all of it: next rule
			)
		}
		if r.major != anyNum {
			b = append(b, jne(r4, int32(r.major), toNext)) // another major: next rule
		}
		if r.minor != anyNum {
			b = append(b, jne(r5, int32(r.minor), toNext)) // another minor: next rule
		}
		b = append(b, alu32(unix.BPF_MOV, r0, 1), exit()) // every test passed: allow
		for i := range b {
			if b[i].off == toNext {
				b[i].off = int16(len(b) - i - 1) // jumps count from the next instruction
			}
		}
		p = append(p, b...)
	}
	return append(p, alu32(unix.BPF_MOV, r0, 0), exit()) // no rule allows it: deny
}

// progLoadAttr is the BPF_PROG_LOAD part of the kernel's union bpf_attr,
// up to the fields used. Go must differ from C for the pointers: C has
// __aligned_u64, Go an unsafe.Pointer, the same 8 bytes on the 64-bit
// machines nslab runs on (amd64, arm64), which keeps the garbage collector
// aware of what they point to while the kernel reads it.
type progLoadAttr struct {
	progType, insnCnt      uint32
	insns, license         unsafe.Pointer
	logLevel, logSize      uint32
	logBuf                 unsafe.Pointer
	kernVersion, progFlags uint32
	progName               [unix.BPF_OBJ_NAME_LEN]byte
}

// progAttachAttr is the BPF_PROG_ATTACH part of union bpf_attr.
type progAttachAttr struct {
	targetFd, attachBpfFd, attachType, attachFlags uint32
}

// attachDeviceFilter loads the program and attaches it to the cgroup
// directory dir, with BPF_F_ALLOW_MULTI as runc does: programs of the
// cgroups above run too, and each may deny. The attachment holds the
// program: both descriptors are closed, and rmdir of the cgroup releases
// it.
func attachDeviceFilter(dir string) error {
	// bpf(BPF_PROG_LOAD): the kernel's verifier checks the program (no
	// loop, every path returns 0 or 1, only the context's fields read) and
	// returns a file descriptor of it. The verifier gives up with EAGAIN
	// when a signal is pending, and the Go runtime signals its threads all
	// the time (SIGURG preempts goroutines): up to five tries, as libbpf
	// makes. On failure we load again with a log, as runc's library does,
	// and return the verifier's words.
	insns := deviceFilter(defaultDevices)
	load := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns)),
		insns:    unsafe.Pointer(&insns[0]),
		license:  unsafe.Pointer(unsafe.StringData("GPL\x00")), // runc's too; the helpers some programs call want it
	}
	copy(load.progName[:], "nslab_devices")
	prog, e := uintptr(0), unix.EAGAIN
	for try := 0; try < 5 && e == unix.EAGAIN; try++ {
		prog, _, e = unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&load)), unsafe.Sizeof(load))
	}
	if e != 0 {
		log := make([]byte, 64<<10)
		load.logLevel, load.logSize, load.logBuf = 1, uint32(len(log)), unsafe.Pointer(&log[0])
		if _, _, e2 := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&load)), unsafe.Sizeof(load)); e2 != 0 {
			e = e2
		}
		return errors.New(common.Describe("bpf(BPF_PROG_LOAD)", e) + "; the verifier says:\n" + strings.TrimSpace(unix.ByteSliceToString(log)))
	}
	defer unix.Close(int(prog))
	common.Step(fmt.Sprintf("bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, %d insns)", len(insns)),
		fmt.Sprintf("v2: runc's %d rules as an eBPF program", len(defaultDevices)))
	cg, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return errors.New(common.Describe("open "+dir, err))
	}
	defer unix.Close(cg)
	attach := progAttachAttr{
		targetFd:    uint32(cg),
		attachBpfFd: uint32(prog),
		attachType:  unix.BPF_CGROUP_DEVICE,
		attachFlags: unix.BPF_F_ALLOW_MULTI,
	}
	call := fmt.Sprintf("bpf(BPF_PROG_ATTACH, %s, BPF_CGROUP_DEVICE)", dir)
	if _, _, e := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_ATTACH, uintptr(unsafe.Pointer(&attach)), unsafe.Sizeof(attach)); e != 0 {
		return errors.New(common.Describe(call, e))
	}
	common.Step(call, "every open and mknod of a device in it asks the program")
	return nil
}
