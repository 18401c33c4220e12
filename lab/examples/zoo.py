#!/usr/bin/env python3
"""A jump encoder speaking hcrlab's external-encoder protocol (README, "Verifying your own encoder").

Without arguments it is correct for every CPU. `--bug NAME` plants one classic bug, so `hcrlab verify --encoder`
can be seen catching it (tests/Lab/ExternalZooTests.cs holds the sentence each must produce):

  pc-bias            A32 `b` computed from slot+4 (the PC reads slot+8), Thumb `b.n`/`b.w` from slot+2 (slot+4)
  inclusive-limit    arm64 `b` admits a displacement of +2^27, one step past its exclusive upper limit
  adrp-page-limit    arm64 `adrp` admits a page delta of +2^20 (its 21-bit field ends at 2^20 - 1)
  thumb-bit          an A32 slot's literal drops bit 0 of a Thumb target (interworking lost)
  unaligned-literal  x86 data mode keeps the literal right after the jmp, not aligned to its size
  wrong-scratch      arm64 declares x16 as scratch but loads the target into x17
  i386-wrap          i386 judges rel8/rel32 reach without wrapping at 4 GiB, so it refuses targets across 0
"""
import struct
import sys

BUGS = {"pc-bias", "inclusive-limit", "adrp-page-limit", "thumb-bit", "unaligned-literal", "wrong-scratch", "i386-wrap"}


class Refuse(Exception):
    pass


def signed_fits(value, bits):
    return -(1 << (bits - 1)) <= value < (1 << (bits - 1))


def wrap32(value):
    """A 32-bit difference as a signed number: i386 and ARM addresses wrap at 4 GiB."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def align(value, alignment):
    return (value + alignment - 1) // alignment * alignment


def u32(value):
    return struct.pack("<I", value & 0xFFFFFFFF)


def u16(value):
    return struct.pack("<H", value & 0xFFFF)


def u64(value):
    return struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF)


def x86(bits, mode, slot, target, bug):
    def rel(length, fits_bits):
        raw = target - (slot + length)
        disp = wrap32(raw) if bits == 32 and bug != "i386-wrap" else raw
        return disp if signed_fits(disp, fits_bits) else None

    if mode == "code":
        disp = rel(2, 8)
        if disp is not None:
            return b"\xeb" + struct.pack("<b", disp)
        disp = rel(5, 32)
        if disp is not None:
            return b"\xe9" + u32(disp)
        if bits == 32 and bug == "i386-wrap":
            raise Refuse("target out of rel32 reach")

    pointer = bits // 8
    literal = slot + 6 if mode == "code" or bug == "unaligned-literal" else align(slot + 6, pointer)
    # jmp [abs32] on i386; jmp [rip+disp32] on amd64, where rip is the end of the 6-byte instruction.
    operand = literal if bits == 32 else literal - (slot + 6)
    code = b"\xff\x25" + u32(operand) + b"\xcc" * (literal - slot - 6)
    return code + (u32(target) if bits == 32 else u64(target))


def a32(mode, slot, target, bug):
    if mode == "code" and target & 1 == 0:
        bias = 4 if bug == "pc-bias" else 8
        offset = wrap32(target - (slot + bias))
        if -(1 << 25) <= offset <= (1 << 25) - 4:
            return u32(0xEA000000 | ((offset >> 2) & 0xFFFFFF))
    literal = target & ~1 if bug == "thumb-bit" else target
    # ldr pc, [pc, #-4]: the PC reads slot+8, so the literal is the next word.
    return u32(0xE51FF004) + u32(literal)


def thumb(mode, slot, target, bug):
    if mode == "code" and target & 1:
        offset = wrap32((target & ~1) - (slot + (2 if bug == "pc-bias" else 4)))
        if -2048 <= offset <= 2046:
            return u16(0xE000 | ((offset >> 1) & 0x7FF))
        if -(1 << 24) <= offset <= (1 << 24) - 2:
            s = (offset >> 24) & 1
            j1 = (~(((offset >> 23) & 1) ^ s)) & 1
            j2 = (~(((offset >> 22) & 1) ^ s)) & 1
            return u16(0xF000 | (s << 10) | ((offset >> 12) & 0x3FF)) + u16(0x9000 | (j1 << 13) | (j2 << 11) | ((offset >> 1) & 0x7FF))
    # ldr.w pc, [pc, #imm]: the base is the slot+4 rounded down to a word; the literal is the next word-aligned one.
    literal = align(slot + 4, 4)
    imm = literal - ((slot + 4) & ~3)
    return u16(0xF8DF) + u16(0xF000 | imm) + b"\x00\xde" * ((literal - slot - 4) // 2) + u32(target)


def arm64(mode, slot, target, bug):
    reg = 17 if bug == "wrong-scratch" else 16
    if mode == "code":
        offset = target - slot
        limit = 1 << 27 if bug == "inclusive-limit" else (1 << 27) - 4
        if -(1 << 27) <= offset <= limit:
            return u32(0x14000000 | ((offset >> 2) & 0x3FFFFFF))
        pages = (target >> 12) - (slot >> 12)
        if -(1 << 20) <= pages <= ((1 << 20) if bug == "adrp-page-limit" else (1 << 20) - 1):
            adrp = 0x90000000 | ((pages & 3) << 29) | (((pages >> 2) & 0x7FFFF) << 5) | reg
            add = 0x91000000 | ((target & 0xFFF) << 10) | (reg << 5) | reg
            return u32(adrp) + u32(add) + u32(0xD61F0000 | (reg << 5))
    literal = align(slot + 8, 8)
    ldr = 0x58000000 | (((literal - slot) >> 2) << 5) | reg
    return u32(ldr) + u32(0xD61F0000 | (reg << 5)) + b"\x00" * (literal - slot - 8) + u64(target)


CPUS = {
    "i386": (32, 1, lambda m, s, t, b: x86(32, m, s, t, b)),
    "amd64": (64, 1, lambda m, s, t, b: x86(64, m, s, t, b)),
    "arm": (32, 4, a32),
    "thumb": (32, 2, thumb),
    "arm64": (64, 4, arm64),
}


def encode(arch, mode, slot, target, bug):
    bits, slot_alignment, encoder = CPUS[arch]
    top = (1 << bits) - 1
    if slot > top or target > top:
        raise Refuse("address beyond the address space")
    if slot % slot_alignment:
        raise Refuse("slot misaligned")
    if target % 4 and (arch in ("arm64",) or (arch in ("arm", "thumb") and target & 1 == 0)):
        raise Refuse("target misaligned")
    code = encoder(mode, slot, target, bug)
    if slot + len(code) - 1 > top:
        raise Refuse("the encoding runs past the top of the address space")
    return code


def main():
    bug = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--bug" and sys.argv[2] in BUGS else None
    if len(sys.argv) > 1 and bug is None:
        sys.exit(f"usage: zoo.py [--bug {'|'.join(sorted(BUGS))}]")
    print("hcrlab-encoder 1 cpus=i386,amd64,arm,thumb,arm64 modes=code,data scratch=arm64:x16", flush=True)
    for line in sys.stdin:
        try:
            arch, mode, slot, target = line.split()
            print(encode(arch, mode, int(slot, 16), int(target, 16), bug).hex(), flush=True)
        except Refuse as refusal:
            print(f"refused: {line.strip()}: {refusal}", file=sys.stderr, flush=True)
            print(flush=True)


if __name__ == "__main__":
    main()
