#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the seed corpus of fuzz_snapfile (fuzz_snapfile_seeds/).

The files are built here from the format as src/snapshot/snapfile.h
describes it, not by the C writer, so the seeds double as a second,
independent reading of the format: fuzz_snapfile accepting them proves the
two agree. Run it again after a format change:

    tests/unit/snapshot/make_fuzz_seeds.py
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fuzz_snapfile_seeds")


def file_header(version=1):
    h = b"PHYLSNAP" + struct.pack("<II", version, 80)
    h += b"x86_64".ljust(16, b"\0") + b"phyllome seed".ljust(44, b"\0")
    return h + struct.pack("<I", zlib.crc32(h))


def section_header(name, length, crc):
    h = name.encode().ljust(32, b"\0") + struct.pack("<QI", length, crc)
    return h + struct.pack("<I", zlib.crc32(h))


def state_file(sections):
    out = file_header()
    for name, payload in sections:
        out += section_header(name, len(payload), zlib.crc32(payload)) + payload
        out += b"\0" * (-len(payload) % 8)
    return out + section_header("", len(sections), zlib.crc32(out))


def blob(kind, version, payload, flags=0):
    return kind + struct.pack("<III", version, 16 + len(payload), flags) + payload


def vcpu(xsave=True):
    # kvm_regs 144, sregs2 320, fpu 416, xcrs 392, debugregs 128,
    # lapic 1024, events 64, mp_state 4, reserved 4
    msrs = struct.pack("<IIQ", 0x10, 0, 123456) + struct.pack("<IIQ", 0x6E0, 0, 0)
    cpuid = struct.pack("<IIIIIIIIII", 1, 0, 0, 0x000306A9, 0, 0, 0, 0, 0, 0)
    area = bytes(range(256)) * 16 if xsave else b""
    xcrs = struct.pack("<II", 1, 0) + struct.pack("<IIQ", 0, 0, 7) + b"\0" * (392 - 24)
    fixed = struct.pack("<IIII", 3000000, 2, 1, len(area))
    fixed += b"\x11" * 144 + b"\0" * 320 + b"\0" * 416 + xcrs + b"\0" * 128
    fixed += b"\0" * 1024 + b"\0" * 64 + struct.pack("<II", 0, 0)
    flags = 3 if xsave else 2
    return blob(b"VCPU", 1, fixed + msrs + cpuid + area, flags)


def irqchip():
    return blob(b"IRQC", 1, b"".join(struct.pack("<II", i, 0) + b"\0" * 512 for i in range(3)))


def pit():
    # count u32, latched_count u16, count_latched, status_latched, status,
    # read_state, write_state, write_latch, rw_mode, mode, bcd, gate,
    # count_load_time s64: 24 bytes a channel
    ch = struct.pack("<IHBBBBBBBBBBq", 0x2E9C, 0, 0, 0, 0, 3, 3, 0, 3, 2, 0, 1, 0)
    return blob(b"PIT2", 1, ch * 3 + struct.pack("<I", 0) + b"\0" * 36)


def clock():
    return blob(b"CLCK", 1, struct.pack("<QIIQQ", 123456789, 0, 0, 0, 0) + b"\0" * 16)


def memory():
    regions = struct.pack("<QQQ", 0, 3 << 30, 0) + struct.pack("<QQQ", 1 << 32, 1 << 30, 3 << 30)
    return blob(b"MEMR", 1, struct.pack("<IIQ", 2, 0, 4 << 30) + regions)


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {
        "empty": state_file([]),
        "full": state_file([("memory", memory()), ("vcpu.0", vcpu()), ("vcpu.1", vcpu(False)),
                            ("irqchip", irqchip()), ("pit", pit()), ("clock", clock()),
                            ("dev.serial0", b"16550")]),
        "vm-only": state_file([("irqchip", irqchip()), ("pit", pit()), ("clock", clock())]),
        "odd-sizes": state_file([("a", b"x"), ("b-2", b"yyyyyyyyy"), ("c_3", b"")]),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
