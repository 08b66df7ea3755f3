#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes the seed inputs of fuzz_blk (format: the comment at the top of
# fuzz_blk.c) into fuzz_blk_seeds/: mixed batches on each image template,
# the shapes that once hung the VMM (asynchronous writes to allocated
# clusters, then a discard or write-zeroes in the same kick), and a header
# written over the guarded raw sector.
import os
import sys

OP_REQ, OP_KICK, OP_REAP, OP_CONSUME, OP_SCRIBBLE = range(5)
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WZ, T_BAD = range(7)


def req(t, sector, nsect, shape=0):
    return bytes([OP_REQ, t, sector & 0xff, sector >> 8, nsect, shape])


def seed(image, qlog, flags, ops):
    return bytes([image, qlog, flags]) + b"".join(ops)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_blk_seeds")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for image in range(3):
        # Writes and reads on allocated clusters (the ring), then a discard
        # and write-zeroes over them in the same batch, then a flush.
        seeds[f"mixed-{image}"] = seed(image, 3, 1, [
            req(T_OUT, 128, 16), req(T_IN, 136, 8, 1), req(T_OUT, 160, 32, 3),
            req(T_DISCARD, 128, 32), req(T_WZ, 160, 8), req(T_FLUSH, 0, 0),
            req(T_IN, 0, 8), bytes([OP_KICK, OP_REAP, OP_CONSUME])])
        seeds[f"indirect-{image}"] = seed(image, 4, 3, [
            req(T_OUT, 1000, 32, 0x07), req(T_IN, 1000, 32, 0x06),
            req(T_WZ, 1000, 4, 0x40), req(T_GET_ID, 0, 0), req(T_BAD, 0, 0),
            bytes([OP_KICK, OP_CONSUME])])
        seeds[f"bad-{image}"] = seed(image, 2, 0, [
            req(T_IN, 2047, 2), req(T_OUT, 5, 3, 0x08), req(T_DISCARD, 0, 1, 0x80),
            req(T_IN, 0, 1, 0x10), bytes([OP_KICK, OP_CONSUME])])
        seeds[f"sync-{image}"] = seed(image | 0x80, 3, 0, [
            req(T_OUT, 0, 1), req(T_DISCARD, 0, 8), req(T_IN, 0, 8),
            bytes([OP_KICK, OP_CONSUME])])
    # Overwriting compressed clusters while reads of them are queued.
    seeds["compressed-replace"] = seed(1, 5, 1, [
        req(T_IN, 0, 32), req(T_OUT, 8, 8), req(T_IN, 64, 16, 2), req(T_OUT, 64, 1),
        req(T_WZ, 256, 32, 0x40), bytes([OP_KICK, OP_REAP, OP_CONSUME])])
    # A qcow2 header into the guarded raw sector (OUT of sector 0).
    seeds["raw-guard"] = seed(2, 3, 0, [req(T_OUT, 0, 1), bytes([OP_KICK, OP_CONSUME])])
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
