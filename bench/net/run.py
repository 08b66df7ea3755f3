#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""virtio-net benchmark: iperf3 in the guest, phyllo-vmm against QEMU (-accel kvm).

Every VMM boots the same kernel (build/guest/vmlinuz), the same benchmark
initramfs (build/bench-net/, made by bench/net/build-guest.sh) with 2 vCPUs
and 1 GiB, and one virtio-net NIC on the back end under test. The guest's
/init (bench/net/init) runs iperf3 against `iperf3 -s` on the host (this
script starts it), guest -> host ("send") and host -> guest ("receive",
iperf3 -R), one TCP stream each, and prints the JSON reports:

  send, receive   Gbit/s received at the far end (iperf3's sum_received)

VMMs (--vmms, in this order by default):
  phyllo-user   phyllo-vmm --net user=on              (libslirp)
  qemu-user     qemu -M pc, -netdev user, virtio-net-pci  (libslirp)
  phyllo-tap    phyllo-vmm --net tap=TAP               (vnet headers, offloads)
  qemu-tap      qemu -M pc, -netdev tap,vhost=off      (the same, in QEMU's I/O thread)
  qemu-vhost    qemu -M pc, -netdev tap,vhost=on       (the kernel's vhost-net:
                a different design, listed for scale, not in the default set)
User mode: the guest is 10.0.2.15 and reaches the host's loopback at
10.0.2.2. Tap: one persistent tap (ip tuntap, made and removed here; needs
root, as the box gives) with the host at 192.168.250.1/24, the guest at .2;
each VMM in turn attaches to it.

N boots per VMM (default 3), round robin; a failed boot is repeated up to
--retries times per VMM (nested KVM is flaky). Medians, then ratios
phyllo-vmm / QEMU for the same back end. Run it where /dev/kvm works, after
bench/net/build-guest.sh: `tools/kvmbox -- bench/net/run.py` (or
`make bench-net`). Console logs of the last invocation: build/bench-net/logs/.
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from vmrun import boot_until, ratio_table  # noqa: E402  (bench/vmrun.py)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST = os.path.join(TOP, "build", "guest")
BENCH = os.path.join(TOP, "build", "bench-net")
TAP = "phybench0"
TAP_HOST, TAP_GUEST = "192.168.250.1", "192.168.250.2"

NAMES = {
    "phyllo-user": "phyllo-vmm user",
    "qemu-user": "qemu user",
    "phyllo-tap": "phyllo-vmm tap",
    "qemu-tap": "qemu tap",
    "qemu-vhost": "qemu tap+vhost",
}
DEFAULT_VMMS = "phyllo-user,qemu-user,phyllo-tap,qemu-tap"
DIRECTIONS = [("send", "guest -> host (Gbit/s)"), ("receive", "host -> guest (Gbit/s)")]


def vmm_command(vmm, kernel, initrd, cmdline, mem_mib, cpus):
    if vmm.startswith("phyllo"):
        net = "user=on" if vmm == "phyllo-user" else f"tap={TAP}"
        return [os.path.join(TOP, "build", "phyllo-vmm"), "--kernel", kernel,
                "--initramfs", initrd, "--cmdline", cmdline, "--cpus", f"boot={cpus}",
                "--memory", f"size={mem_mib}M", "--net", net]
    if vmm == "qemu-user":
        netdev = "user,id=n0"
    else:
        vhost = "on" if vmm == "qemu-vhost" else "off"
        netdev = f"tap,id=n0,ifname={TAP},script=no,downscript=no,vhost={vhost}"
    # -no-reboot: a guest that resets ends the run instead of starting over.
    return ["qemu-system-x86_64", "-M", "pc", "-vga", "none", "-accel", "kvm", "-cpu", "host",
            "-m", str(mem_mib), "-smp", str(cpus), "-nodefaults", "-no-user-config",
            "-nographic", "-serial", "stdio", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
            "-append", cmdline, "-netdev", netdev,
            "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56"]


def reports(console):
    """{direction: Gbit/s} from the iperf3 JSON reports on a console log."""
    text = console.decode(errors="replace").replace("\r", "")
    if len(re.findall(r"^PHYLLO BENCH-NET ", text, re.M)) > 1:
        raise RuntimeError("the guest rebooted")
    out = {}
    for d, _ in DIRECTIONS:
        m = re.search(rf"^PHYLLO IPERF-BEGIN {d}\n(.*?)^PHYLLO IPERF-END {d} (\d+)", text,
                      re.S | re.M)
        if not m:
            raise RuntimeError(f"no iperf3 report ({d}) on the console")
        body = "\n".join(line for line in m.group(1).split("\n")
                         if not re.match(r"^\[\s*\d+\.\d+\]", line))
        if m.group(2) != "0" or "{" not in body:
            raise RuntimeError(f"iperf3 ({d}) exited {m.group(2)}: {body[-500:]}")
        rep = json.loads(body[body.index("{"):])
        out[d] = rep["end"]["sum_received"]["bits_per_second"] / 1e9
    return out


def one_run(cmd, log_path, timeout):
    """Boots once; returns ({direction: Gbit/s}, wall seconds)."""
    console, wall = boot_until(cmd, log_path, timeout, rb"PHYLLO IPERF-END receive \d+\r?\n")
    return reports(console), wall


def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def tap_up():
    subprocess.run(["ip", "link", "del", TAP], stderr=subprocess.DEVNULL)
    sh("ip", "tuntap", "add", "dev", TAP, "mode", "tap")
    sh("ip", "addr", "add", f"{TAP_HOST}/24", "dev", TAP)
    sh("ip", "link", "set", TAP, "up")


def tap_down():
    subprocess.run(["ip", "link", "del", TAP], stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--runs", type=int, default=3, help="boots per VMM (median)")
    ap.add_argument("--time", type=int, default=10, help="seconds per iperf3 direction")
    ap.add_argument("--vmms", default=DEFAULT_VMMS,
                    help=f"comma-separated, of {','.join(NAMES)} (default {DEFAULT_VMMS})")
    ap.add_argument("--retries", type=int, default=2,
                    help="boots a failed run may be repeated, per VMM (nested KVM is flaky)")
    ap.add_argument("--memory", type=int, default=1024, help="guest MiB")
    ap.add_argument("--cpus", type=int, default=2)
    args = ap.parse_args()
    vmms = args.vmms.split(",")
    for v in vmms:
        if v not in NAMES:
            sys.exit(f"bench/net: unknown VMM {v!r}; known: {', '.join(NAMES)}")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench/net: no usable /dev/kvm; run it through tools/kvmbox")
    kernel = os.path.join(GUEST, "vmlinuz")
    initrd = os.path.join(BENCH, "initramfs.cpio.gz")
    for f in (kernel, initrd, os.path.join(TOP, "build", "phyllo-vmm")):
        if not os.path.exists(f):
            sys.exit(f"bench/net: {f} is missing: run `make build` and bench/net/build-guest.sh")
    tapped = any(not v.endswith("-user") for v in vmms)
    if tapped and os.geteuid() != 0:
        sys.exit("bench/net: the tap back end needs root (run it in tools/kvmbox)")

    logs = os.path.join(BENCH, "logs")
    os.makedirs(logs, exist_ok=True)
    for old in os.listdir(logs):
        if old.endswith(".log"):
            os.unlink(os.path.join(logs, old))
    server = subprocess.Popen(["iperf3", "-s", "-p", "5201"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    if tapped:
        tap_up()
    timeout = 240 + 2 * args.time * 4
    samples = {v: {d: [] for d, _ in DIRECTIONS} for v in vmms}
    retries = {v: args.retries for v in vmms}
    failed = []
    try:
        time.sleep(0.5)
        for i in range(args.runs):
            for v in vmms:
                if v in failed:
                    continue
                user = v.endswith("-user")
                cmdline = (f"console=ttyS0 quiet phyllo.time={args.time} "
                           + ("" if user else f"phyllo.ip={TAP_GUEST}/24 phyllo.server={TAP_HOST}"))
                cmd = vmm_command(v, kernel, initrd, cmdline, args.memory, args.cpus)
                figs = None
                while figs is None:
                    log = os.path.join(logs, f"{v}-{i + 1}.log")
                    try:
                        figs, wall = one_run(cmd, log, timeout)
                    except (RuntimeError, ValueError, KeyError) as e:
                        print(f"{NAMES[v]}: run {i + 1} failed: {e}", file=sys.stderr)
                        if retries[v] <= 0:
                            failed.append(v)
                            break
                        retries[v] -= 1
                        os.replace(log, log[:-4] + f"-failed-{args.retries - retries[v]}.log")
                if figs is None:
                    continue
                for d, x in samples[v].items():
                    x.append(figs[d])
                print(f"{NAMES[v]} run {i + 1} ({wall:.0f} s): "
                      + ", ".join(f"{d}={figs[d]:.2f}" for d, _ in DIRECTIONS), file=sys.stderr)
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        if tapped:
            tap_down()
    res = {v: {d: (statistics.median(x) if x and v not in failed else None)
               for d, x in samples[v].items()} for v in vmms}

    where = "nested: tools/kvmbox box" if os.environ.get("KVMBOX_INSIDE") else "host /dev/kvm"
    print(f"\nvirtio-net, iperf3 one TCP stream, {args.time} s per direction, {args.cpus} vCPUs, "
          f"{args.memory} MiB, median of {args.runs} runs ({where})\n")
    print("| VMM | " + " | ".join(t for _, t in DIRECTIONS) + " |")
    print("|---|" + "---|" * len(DIRECTIONS))
    for v in vmms:
        print(f"| {NAMES[v]} | " + " | ".join(
            "-" if res[v][d] is None else f"{res[v][d]:.2f}" for d, _ in DIRECTIONS) + " |")
    pairs = [(a, b) for a, b in (("phyllo-user", "qemu-user"), ("phyllo-tap", "qemu-tap"),
                                 ("phyllo-tap", "qemu-vhost")) if a in vmms and b in vmms]
    if pairs:
        print("\nRatios (phyllo-vmm / QEMU, same back end; throughput: above 1 means "
              "phyllo-vmm moved more)\n")
        ratio_table(pairs, NAMES, [(d, d) for d, _ in DIRECTIONS], res)
    if failed:
        print(f"\nfailed: {', '.join(NAMES[v] for v in dict.fromkeys(failed))} "
              f"(console logs in {logs})")
        sys.exit(1)


if __name__ == "__main__":
    main()
