#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Regenerates the seed images of fuzz_qcow2 in fuzz_qcow2_corpus/: small
# qcow2 files made by qemu-img/qemu-io (512-byte and 4 KiB clusters, v2 and
# v3, data, zero clusters, a compressed image, a snapshot, odd refcount
# widths), so the fuzzer starts from images that reach deep into the code.
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)/fuzz_qcow2_corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rm -f "$out"/*.qcow2
cd "$tmp"

mk() { # name, create options, qemu-io commands...
	local name=$1 opts=$2
	shift 2
	qemu-img create -q -f qcow2 -o "$opts" "$name.qcow2" 64K
	for c in "$@"; do qemu-io -c "$c" "$name.qcow2" >/dev/null; done
	cp "$name.qcow2" "$out/"
}
mk empty-512 cluster_size=512
mk data-512 cluster_size=512 'write -P 0x41 0 1536' 'write -P 0x42 40000 700'
mk zero-512 cluster_size=512 'write -P 0x41 0 4096' 'write -z 1024 2048' 'discard 3072 512'
mk v2-512 cluster_size=512,compat=0.10 'write -P 0x43 512 2048'
mk refbits1-512 cluster_size=512,refcount_bits=1 'write -P 0x44 0 3000'
mk refbits64-512 cluster_size=512,refcount_bits=64 'write -P 0x45 0 3000'
for bits in 2 4 8 32; do
	mk refbits$bits-512 cluster_size=512,refcount_bits=$bits 'write -P 0x45 1000 3000'
done
mk data-4k cluster_size=4096 'write -P 0x46 0 4096' 'write -P 0x47 20000 100'
mk snapshot-512 cluster_size=512 'write -P 0x48 0 2048'
qemu-img snapshot -c s1 snapshot-512.qcow2 && qemu-io -c 'write -P 0x49 0 1024' snapshot-512.qcow2 >/dev/null
cp snapshot-512.qcow2 "$out/"
head -c 65536 /dev/zero | tr '\0' 'a' >src.raw
qemu-img convert -q -c -f raw -O qcow2 -o cluster_size=512 src.raw compressed-512.qcow2
cp compressed-512.qcow2 "$out/"
ls -l "$out"
