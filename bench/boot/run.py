#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot benchmark: phyllo-vmm against QEMU (-M microvm and -M pc, -accel kvm).

Every VMM boots the same kernel, initramfs and command line (the test guest
in counter mode, so it stays up after reaching user space). Per run:

  wall      process start -> "PHYLLO BOOT-OK" read from the serial console
  guest     the guest's own clock (/proc/uptime) at that moment
  rss       the VMM's resident memory at that moment, excluding guest RAM
            (from /proc/PID/smaps: mappings at least as large as guest RAM
            are guest RAM; everything else counts)
  kvm_run   process start -> first KVM_RUN ioctl (a separate run under
            strace -f -ttt, which inflates both VMMs alike)

Medians of N runs (default 5), then ratios against phyllo-vmm. Run it where
/dev/kvm works: `tools/kvmbox -- bench/boot/run.py` (or `make bench`).
"""
import argparse
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST = os.path.join(TOP, "build", "guest")
CMDLINE = "console=ttyS0 quiet phyllo.mode=counter"


def vmm_commands(mem_mib, cpus):
    k = os.path.join(GUEST, "vmlinuz")
    i = os.path.join(GUEST, "initramfs.cpio.gz")
    phyllo = [os.path.join(TOP, "build", "phyllo-vmm"), "--kernel", k, "--initramfs", i,
              "--cmdline", CMDLINE, "--cpus", f"boot={cpus}", "--memory", f"size={mem_mib}M"]
    qemu = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", str(mem_mib),
            "-smp", str(cpus), "-nodefaults", "-no-user-config", "-nographic",
            "-serial", "stdio", "-kernel", k, "-initrd", i, "-append", CMDLINE]
    return {
        "phyllo-vmm": phyllo,
        "qemu microvm": qemu[:1] + ["-M", "microvm"] + qemu[1:],
        "qemu pc": qemu[:1] + ["-M", "pc", "-vga", "none"] + qemu[1:],
    }


def rss_excluding_guest(pid, guest_bytes):
    total = 0
    size = 0
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                lo, hi = line.split()[0].split("-")
                size = int(hi, 16) - int(lo, 16)
            elif line.startswith("Rss:") and size < guest_bytes:
                total += int(line.split()[1])
    return total  # KiB


def one_boot(cmd, guest_bytes, timeout=300):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    buf = b""
    wall = uptime = rss = None
    try:
        while time.monotonic() - t0 < timeout:
            r, _, _ = select.select([p.stdout], [], [], 1.0)
            if not r:
                if p.poll() is not None:
                    break
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            if wall is None and b"PHYLLO BOOT-OK" in buf:
                wall = time.monotonic() - t0
                rss = rss_excluding_guest(p.pid, guest_bytes)
            m = re.search(rb"PHYLLO UPTIME ([0-9.]+)", buf)
            if m:
                uptime = float(m.group(1))
                break
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    if wall is None or uptime is None:
        raise RuntimeError(f"{cmd[0]} did not reach user space:\n{buf[-2000:].decode(errors='replace')}")
    return wall, uptime, rss


def first_kvm_run(cmd, timeout=300):
    with tempfile.NamedTemporaryFile(suffix=".strace") as tr:
        t0 = time.time()
        # A session of its own: killing strace alone would leave the traced
        # VMM running, so the whole process group is killed below.
        p = subprocess.Popen(["strace", "-f", "-ttt", "-e", "trace=ioctl", "-o", tr.name] + cmd,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        found = None
        while time.monotonic() < deadline and found is None:
            time.sleep(0.2)
            with open(tr.name) as f:
                for line in f:
                    if "KVM_RUN" in line:
                        found = float(line.split()[1]) - t0
                        break
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        if found is None:
            raise RuntimeError(f"no KVM_RUN seen for {cmd[0]}")
        return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--runs", type=int, default=5)
    ap.add_argument("--memory", type=int, default=256, help="guest MiB")
    ap.add_argument("--cpus", type=int, default=1)
    args = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench/boot: no usable /dev/kvm; run it through tools/kvmbox")
    cmds = vmm_commands(args.memory, args.cpus)
    guest_bytes = args.memory << 20
    results = {}
    for name, cmd in cmds.items():
        walls, ups, rsss, runs = [], [], [], []
        for _ in range(args.runs):
            w, u, r = one_boot(cmd, guest_bytes)
            walls.append(w)
            ups.append(u)
            rsss.append(r)
        for _ in range(args.runs):
            runs.append(first_kvm_run(cmd))
        results[name] = {
            "wall": statistics.median(walls), "guest": statistics.median(ups),
            "rss": statistics.median(rsss) / 1024.0, "kvm_run": statistics.median(runs) * 1000,
        }
        print(f"{name}: " + ", ".join(f"{k}={v:.3f}" for k, v in results[name].items()),
              file=sys.stderr)

    base = results["phyllo-vmm"]
    print(f"\nBoot to user space, {args.cpus} vCPU, {args.memory} MiB, median of {args.runs} runs\n")
    print("| VMM | wall to user space (s) | guest clock (s) | VMM RSS excl. guest RAM (MiB) | start to first KVM_RUN, under strace (ms) |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        def cell(key, fmt):
            v = fmt.format(r[key])
            if name != "phyllo-vmm":
                v += f" (x{r[key] / base[key]:.2f})"
            return v
        print(f"| {name} | {cell('wall', '{:.2f}')} | {cell('guest', '{:.2f}')} | "
              f"{cell('rss', '{:.1f}')} | {cell('kvm_run', '{:.1f}')} |")
    print("\n(xN): the other VMM's figure divided by phyllo-vmm's; above 1 means phyllo-vmm is better.")


if __name__ == "__main__":
    main()
