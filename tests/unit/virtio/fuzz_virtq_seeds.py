#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed corpus of fuzz_virtq: mostly well-formed queues the fuzzer
starts from, so that it spends its time breaking rings rather than
discovering them.
The input format is described at the top of fuzz_virtq.c.

usage: fuzz_virtq_seeds.py OUTDIR
"""
import struct
import sys
from pathlib import Path

NEXT, WRITE, INDIRECT = 1, 2, 4
EVENT_IDX, INDIRECT_DESC, POLL, HOLD = 1, 2, 8, 16
HIGH = 1 << 32  # high RAM starts at 4 GiB in the fuzzer's guest


def seed(log2_size, flags, chains, start=0, tables=()):
    """chains: lists of (addr, len, flags) per chain, laid out in the ring."""
    size = 1 << log2_size
    desc, avail = 0, 16 * size
    used = (avail + 6 + 2 * size + 3) & ~3
    ram = bytearray(used + 6 + 8 * size)
    idx = 0
    for chain in chains:
        head = idx
        for n, (addr, length, fl) in enumerate(chain):
            nxt = idx + 1 if n + 1 < len(chain) else 0
            fl |= NEXT if n + 1 < len(chain) else 0
            struct.pack_into("<QIHH", ram, desc + 16 * idx, addr, length, fl, nxt)
            idx += 1
        slot = (start + chains.index(chain)) % size
        struct.pack_into("<H", ram, avail + 4 + 2 * slot, head)
    struct.pack_into("<H", ram, avail + 2, (start + len(chains)) & 0xffff)
    for gpa, entries in tables:
        end = gpa + 16 * len(entries)
        ram.extend(bytes(max(0, end - len(ram))))
        for n, (addr, length, fl, nxt) in enumerate(entries):
            struct.pack_into("<QIHH", ram, gpa + 16 * n, addr, length, fl, nxt)
    header = bytes([log2_size, flags, start & 0xff, start >> 8, 0, 0, 0, 0])
    return header + bytes(ram)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    blk = [(0x8000, 16, 0), (0x9000, 4096, WRITE), (0x8010, 1, WRITE)]
    seeds = {
        "simple": seed(2, 0, [[(0x8000, 64, 0), (0x9000, 64, WRITE)]]),
        "blk-event-idx": seed(3, EVENT_IDX, [blk[:], blk[:]]),
        "poll-hold": seed(3, POLL | HOLD, [[(0x8000, 8, 0)], [(0x9000, 8, WRITE)],
                                            [(HIGH, 512, WRITE)]]),
        "wrap": seed(2, EVENT_IDX | POLL, [[(0x8000, 8, 0)]] * 3, start=0xfffe),
        "indirect": seed(3, INDIRECT_DESC, [[(0x400, 48, INDIRECT)]],
                         tables=[(0x400, [(0x8000, 16, 0, 0), (0x9000, 512, WRITE | NEXT, 2),
                                           (HIGH, 1, WRITE | NEXT, 1)])]),
        "direct-then-indirect": seed(4, INDIRECT_DESC | EVENT_IDX,
                                     [[(0x8000, 16, 0), (0x400, 32, INDIRECT)]],
                                     tables=[(0x400, [(0x9000, 16, WRITE | NEXT, 1),
                                                       (0x9100, 16, WRITE, 0)])]),
        # Not well-formed: two descriptors looping inside a 2048-entry table
        # (stopped by the 1024-segment cap), which is hard to find by chance.
        "indirect-loop": seed(2, INDIRECT_DESC, [[(0x400, 16 * 2048, INDIRECT)]],
                              tables=[(0x400, [(0x8000, 1, NEXT, 1), (0x8000, 0, NEXT, 0)])]),
        "big-queue": seed(8, EVENT_IDX | INDIRECT_DESC, [blk[:] for _ in range(16)]),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
