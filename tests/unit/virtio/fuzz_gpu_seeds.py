#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed corpus of fuzz_gpu: the command sequences Linux's
virtio_gpu driver sends (a screen made, drawn, flushed, resized, a
cursor, snapshots), so that the fuzzer starts from deep states rather
than discovering them. The input format is described at the top of
fuzz_gpu.c.

usage: fuzz_gpu_seeds.py OUTDIR
"""
import struct
import sys
from pathlib import Path

CTRL, CURSOR, POKE, UPDATE, READ, SAVELOAD, LOAD, PREFER = range(8)
XRGB, ARGB_BGRA, RGBX = 2, 1, 134


def rec(what, payload):
    return struct.pack("<BH", what, len(payload)) + payload


def hdr(cmd, flags=0, fence=0):
    return struct.pack("<IIQIB3x", cmd, flags, fence, 0, 0)


def create(rid, fmt, w, h):
    return rec(CTRL, hdr(0x101) + struct.pack("<IIII", rid, fmt, w, h))


def attach(rid, entries):
    body = struct.pack("<II", rid, len(entries))
    for addr, length in entries:
        body += struct.pack("<QII", addr, length, 0)
    return rec(CTRL, hdr(0x106) + body)


def rect_cmd(cmd, x, y, w, h, tail):
    return rec(CTRL, hdr(cmd) + struct.pack("<IIII", x, y, w, h) + tail)


def scanout(rid, w, h, x=0, y=0):
    return rect_cmd(0x103, x, y, w, h, struct.pack("<II", 0, rid))


def transfer(rid, x, y, w, h, offset):
    return rect_cmd(0x105, x, y, w, h, struct.pack("<QII", offset, rid, 0))


def flush(rid, x, y, w, h):
    return rect_cmd(0x104, x, y, w, h, struct.pack("<II", rid, 0))


def cursor(cmd, rid, x, y, hx=0, hy=0):
    return rec(CURSOR, hdr(cmd) + struct.pack("<IIII", 0, x, y, 0) +
               struct.pack("<IIII", rid, hx, hy, 0))


def poke(addr, data):
    return rec(POKE, struct.pack("<I", addr) + data)


def screen(w=64, h=32, fmt=XRGB, pieces=1):
    size = w * h * 4
    step = -(-size // pieces)
    ents = [(0x100000 + i * 0x40000, min(step, size - i * step)) for i in range(pieces)]
    return (rec(CTRL, hdr(0x100)) + rec(CTRL, hdr(0x10a) + struct.pack("<II", 0, 0)) +
            create(1, fmt, w, h) + attach(1, ents) + scanout(1, w, h))


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    pattern = bytes((i * 7) & 0xff for i in range(4096))
    seeds = {
        "draw-flush": screen() + poke(0x100000, pattern) + transfer(1, 0, 0, 64, 32, 0) +
        flush(1, 0, 0, 64, 32) + rec(UPDATE, b"") + transfer(1, 5, 3, 10, 4, (3 * 64 + 5) * 4) +
        flush(1, 5, 3, 10, 4) + rec(UPDATE, b"") + rec(READ, b""),
        "scattered": screen(pieces=5) + poke(0x100000, pattern) + transfer(1, 0, 0, 64, 32, 0) +
        rec(UPDATE, b""),
        "formats": screen(fmt=RGBX) + transfer(1, 0, 0, 64, 32, 0) + rec(READ, b"") +
        create(2, 68, 8, 8) + attach(2, [(0x200000, 256)]) + scanout(2, 4, 4, 2, 2) + rec(READ, b""),
        "resize": screen() + rec(PREFER, struct.pack("<II", 1280, 800)) + rec(CTRL, hdr(0x100)) +
        rec(CTRL, hdr(0x10a) + struct.pack("<II", 0, 0)) + create(3, XRGB, 128, 80) +
        attach(3, [(0x300000, 128 * 80 * 4)]) + scanout(3, 128, 80) + rec(CTRL, hdr(0x102) +
                                                                        struct.pack("<II", 1, 0)),
        "cursor": screen() + create(9, ARGB_BGRA, 64, 64) + attach(9, [(0x200000, 16384)]) +
        poke(0x200000, pattern) + transfer(9, 0, 0, 64, 64, 0) + cursor(0x300, 9, 10, 20, 3, 4) +
        cursor(0x301, 0, 30, 40),
        "snapshot": screen() + transfer(1, 0, 0, 64, 32, 0) + create(9, ARGB_BGRA, 64, 64) +
        cursor(0x300, 9, 1, 2) + rec(SAVELOAD, b"") + transfer(1, 0, 0, 64, 32, 0) +
        rec(UPDATE, b""),
        "fenced-detach": screen() + rec(CTRL, hdr(0x104, 3, 77) + struct.pack("<IIIIII", 0, 0, 1, 1, 1, 0)) +
        rec(CTRL, hdr(0x107) + struct.pack("<II", 1, 0)) + transfer(1, 0, 0, 1, 1, 0),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
