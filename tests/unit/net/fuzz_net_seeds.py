#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed corpus of fuzz_net: scripts of a well-behaved guest and
back end (MTU-sized and 64 KiB frames, split headers, indirect chains,
small buffers, a backlog, echo replies, a reset), so that the fuzzer
starts from traffic that reaches every branch of the packet path and
spends its time bending it.
The input format is described at the top of fuzz_net.c.

usage: fuzz_net_seeds.py OUTDIR
"""
import struct
import sys
from pathlib import Path

OP_TX, OP_RX, OP_INJECT, OP_KICK_TX, OP_KICK_RX, OP_CONSUME, OP_RESET, OP_SCRIBBLE, OP_BURST = \
    range(9)
INDIRECT, EXTRA, HIGH, KICK, EMPTY = 0x08, 0x10, 0x20, 0x40, 0x80
F_EVENT_IDX, F_INDIRECT, F_ECHO, F_TX_OFFLOAD, F_RX_HDR, F_READER = 1, 2, 4, 8, 16, 32
HDR = 12
MAX_FRAME = 14 + 65535


def header(log2_rx, log2_tx, flags):
    return bytes([log2_rx, log2_tx, flags, 0])


def tx(total, seed=0x11, nseg=1, shape=KICK, cuts=()):
    """A transmit chain of TOTAL bytes (header + frame) in NSEG segments."""
    cuts = list(cuts) + [128] * (nseg - 1 - len(cuts))
    return bytes([OP_TX, shape | (nseg - 1)]) + struct.pack("<I", total)[:3] + \
        bytes([seed]) + bytes(cuts[:nseg - 1])


def rx(sizes, shape=KICK, stray=None):
    """A receive buffer of len(SIZES) writable segments."""
    b = bytes([OP_RX, shape | (len(sizes) - 1) | (EXTRA if stray is not None else 0)])
    if stray is not None:
        b += bytes([stray])
    return b + b"".join(struct.pack("<H", s) for s in sizes)


def inject(length, seed=0x22):
    return bytes([OP_INJECT]) + struct.pack("<I", length)[:3] + bytes([seed])


def op(code):
    return bytes([code])


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    mtu = HDR + 1514
    seeds = {
        # Linux's usual picture: MTU buffers, frames both ways.
        "mtu": header(8, 8, F_EVENT_IDX | F_INDIRECT)
        + rx([mtu]) * 4 + tx(HDR + 60) + tx(HDR + 1514, nseg=2, cuts=[HDR])
        + inject(60) + inject(1514) + op(OP_CONSUME),
        # The header split across descriptors, at each early byte.
        "split-header": header(4, 4, 0)
        + b"".join(tx(HDR + 64, seed=i, nseg=3, cuts=[i, 1]) for i in range(1, 14))
        + op(OP_CONSUME),
        # The size limits: too short, smallest, largest, one too large.
        "limits": header(3, 3, F_INDIRECT)
        + tx(HDR + 13) + tx(HDR + 14) + tx(HDR + MAX_FRAME, nseg=4, shape=KICK | INDIRECT)
        + tx(HDR + MAX_FRAME + 1, nseg=4) + tx(HDR - 1) + tx(0)
        + op(OP_CONSUME)
        + rx([19999, 19999, 19999, 6000], shape=KICK | HIGH) + inject(MAX_FRAME)
        + inject(13) + inject(MAX_FRAME + 1) + op(OP_CONSUME),
        # Frames before buffers: the backlog, then a buffer too small.
        "backlog": header(2, 2, F_EVENT_IDX)
        + inject(100) * 6 + rx([HDR + 100], shape=0) + inject(100, seed=0x33)
        + rx([HDR + 50])
        + rx([6, 6, HDR + 100], shape=KICK | EMPTY, stray=8) + op(OP_KICK_RX)
        + op(OP_CONSUME) + rx([2000]) * 4 + op(OP_CONSUME),
        # More frames than the backlog holds, then buffers for some.
        "flood": header(4, 1, F_EVENT_IDX)
        + bytes([OP_BURST, 199]) + struct.pack("<H", 60) + bytes([1])
        + bytes([OP_BURST, 99]) + struct.pack("<H", 1514) + bytes([2])
        + rx([mtu]) * 16 + op(OP_CONSUME) + rx([mtu]) * 16 + op(OP_CONSUME),
        # slirp answering ARP from inside the transmit path.
        "echo": header(5, 5, F_ECHO | F_EVENT_IDX)
        + rx([mtu]) * 8 + tx(HDR + 42, nseg=2, shape=KICK | EXTRA)
        + tx(HDR + 342, shape=KICK | HIGH) + op(OP_CONSUME),
        # A tap with offloads: the guest's headers go out, the back end's
        # come in (64 KiB frames into Linux's big receive chains).
        "offload": header(6, 6, F_EVENT_IDX | F_TX_OFFLOAD | F_RX_HDR | F_ECHO)
        + rx([19999, 19999, 19999, 6000], shape=KICK | INDIRECT) + rx([mtu]) * 2
        + tx(HDR + 1514, nseg=2, cuts=[HDR]) + tx(HDR + MAX_FRAME, nseg=4)
        + inject(60) + inject(MAX_FRAME) + op(OP_CONSUME),
        # A tap's path: frames read straight into the buffers, with and
        # without its header; frames wait in the back end for buffers.
        "tap-read": header(6, 6, F_EVENT_IDX | F_RX_HDR | F_READER)
        + rx([mtu]) * 2 + inject(60) + inject(1514) + inject(70) + inject(80)
        + op(OP_CONSUME) + rx([mtu]) + rx([HDR + 70, 6]) + op(OP_CONSUME)
        + rx([19999, 19999, 19999, 6000], shape=KICK | INDIRECT) + inject(MAX_FRAME)
        + rx([HDR + 20]) + inject(100) + op(OP_CONSUME),
        "tap-read-nohdr": header(6, 6, F_INDIRECT | F_READER)
        + inject(64) * 3 + rx([5, HDR, 60], shape=KICK | INDIRECT) + rx([HDR + 64])
        + rx([HDR]) + op(OP_CONSUME) + op(OP_RESET) + rx([mtu]) + inject(70) + op(OP_CONSUME),
        # A reset with frames waiting and chains in flight.
        "reset": header(1, 1, 0)
        + inject(64) * 3 + tx(HDR + 64, shape=0) + op(OP_RESET)
        + rx([mtu]) + inject(70) + tx(HDR + 64) + op(OP_CONSUME),
        # A guest that rewrites a descriptor's length after posting.
        "scribble": header(2, 2, 0)
        + rx([mtu], shape=0) + bytes([OP_SCRIBBLE, 0x00, 8, 0, 4, 0xff, 0xff, 0xff, 0x7f])
        + inject(60) + op(OP_CONSUME) + op(OP_RESET) + rx([mtu]) + inject(60)
        + op(OP_CONSUME),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
