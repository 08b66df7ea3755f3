#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed corpus of fuzz_api: real requests, as curl sends them for
the calls in Cloud Hypervisor's API documentation, whole sessions on one
connection, refusals, and VmConfig bodies.
The input format (byte 0 picks the mode and the chunk size) is described at
the top of fuzz_api.c.

usage: fuzz_api_seeds.py OUTDIR
"""
import json
import sys
from pathlib import Path

CURL = "Host: localhost\r\nUser-Agent: curl/7.88.1\r\nAccept: application/json\r\n"

VM_CONFIG = {
    "cpus": {"boot_vcpus": 4, "max_vcpus": 4},
    "payload": {"kernel": "/opt/clh/kernel/vmlinux",
                "cmdline": "console=ttyS0 console=hvc0 root=/dev/vda1 rw"},
    "memory": {"size": 1073741824, "shared": True},
    "disks": [{"path": "/opt/clh/images/focal.raw", "readonly": False, "num_queues": 2,
               "queue_size": 256, "serial": "root", "image_type": "Raw"}],
    "net": [{"tap": "tap0", "ip": "192.168.10.10", "mask": "255.255.255.0",
             "mac": "12:34:56:78:90:01"},
            {"user": True, "hostfwd": ["tcp:127.0.0.1:2222-:22"], "restrict": False}],
    "rng": {"src": "/dev/urandom"},
    "serial": {"mode": "Null"},
    "console": {"mode": "Pty", "iommu": False},
    "vsock": {"cid": 3, "socket": "/tmp/vsock"},
    "balloon": None, "iommu": False,
}


def req(method, endpoint, body=None, extra=""):
    head = f"{method} /api/v1/{endpoint} HTTP/1.1\r\n{CURL}{extra}"
    if body is None:
        return (head + "\r\n").encode()
    data = body.encode()
    return (head + f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode() + data


def http(chunk_code, *requests):
    return bytes([chunk_code << 1]) + b"".join(requests)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    create = json.dumps(VM_CONFIG)
    seeds = {
        "ping": http(0, req("GET", "vmm.ping")),
        "session": http(8, req("PUT", "vm.create", create), req("PUT", "vm.boot"),
                        req("GET", "vm.info"), req("GET", "vm.counters"),
                        req("PUT", "vm.pause"),
                        req("PUT", "vm.snapshot", '{"destination_url":"file:///tmp/snap"}'),
                        req("PUT", "vm.resume"), req("PUT", "vm.power-button"),
                        req("PUT", "vm.reboot"), req("PUT", "vm.shutdown"),
                        req("PUT", "vm.delete"),
                        req("PUT", "vm.restore",
                            '{"source_url":"file:///tmp/snap","prefault":true,"resume":true}'),
                        req("PUT", "vmm.shutdown", extra="Connection: close\r\n")),
        "state-errors": http(3, req("PUT", "vm.pause"), req("PUT", "vm.create", create),
                             req("PUT", "vm.create", create), req("PUT", "vm.resume"),
                             req("HEAD", "vm.info"), req("GET", "vm.boot")),
        "unsupported": http(5, req("PUT", "vm.resize", '{"desired_vcpus":2}'),
                            req("PUT", "vm.add-disk", '{"path":"/d"}'),
                            req("GET", "vm.nope"), req("OPTIONS", "vmm.ping")),
        "expect-continue": http(2, req("PUT", "vm.create", create,
                                       extra="Expect: 100-continue\r\n")),
        "http10-lf": bytes([12]) + b"GET http://localhost/api/v1/vmm.ping?x HTTP/1.0\n"
                     b"Connection: keep-alive\n\nGET /api/v1/vm.info HTTP/1.0\n\n",
        "chunked": http(1, b"PUT /api/v1/vm.create HTTP/1.1\r\nHost: localhost\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n5\r\n{}\r\n0\r\n\r\n"),
        "bad-field": http(4, req("PUT", "vm.create",
                                 '{"payload":{"kernel":"k"},"memory":{"hugepages":true}}')),
        "vmconfig": b"\x01" + create.encode(),
        "vmconfig-minimal": b"\x01" + b'{"payload":{"kernel":"/k","initramfs":"/i"}}',
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
