#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Display benchmark: phyllo-vmm against QEMU (-accel kvm, -vnc), each with
bochs-display and with virtio-gpu, the same guest at 1920x1080.

The guest is the test guest in display-bench mode: its bochs-drm or
virtio_gpu driver sets 1920x1080 (the monitor's preferred mode: our
resolution=, QEMU's xres/yres), tests/guest/phyllo-draw draws, then takes
commands on the serial console. bench/display/vnc_probe.c is the viewer
(libvncclient, lossless for both) and the console's driver; per run:

  latency   console line "frame N" -> the viewer's framebuffer shows frame
            N's colour (median of FRAMES frames, default 20)
  still     the VMM's CPU time per second with a still screen and the
            viewer asking for updates (all threads; and "vmm": all but the
            vCPU threads, which run the guest itself)
  anim      the same while the guest redraws the whole screen up to 30
            times a second for SECONDS (default 10); bytes the viewer
            received per update it got

Medians of N runs (default 3), then ratios against phyllo-vmm with the
same device. Run it where /dev/kvm works: `tools/kvmbox -- bench/display/run.py`
(or `make bench-display`).
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST = os.path.join(TOP, "build", "guest")
PROBE = os.path.join(TOP, "build", "bench", "display", "vnc-probe")
CMDLINE = "console=ttyS0 quiet phyllo.mode=display-bench"
W, H = 1920, 1080


def commands(tmp, port):
    k = os.path.join(GUEST, "vmlinuz")
    i = os.path.join(GUEST, "initramfs.cpio.gz")
    sock = os.path.join(tmp, "serial.sock")
    ours = [os.path.join(TOP, "build", "phyllo-vmm"), "--kernel", k, "--initramfs", i,
            "--cmdline", CMDLINE, "--cpus", "boot=2", "--memory", "size=512M",
            "--serial", f"socket={sock}"]
    # debug-threads: QEMU names its vCPU threads "CPU N/KVM", which vnc-probe
    # tells apart from the rest (without it they count as the VMM's own).
    qemu = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-M", "pc", "-m", "512",
            "-name", "debug-threads=on",
            "-smp", "2", "-nodefaults", "-no-user-config", "-vga", "none",
            "-chardev", f"socket,id=s0,path={sock},server=on,wait=off", "-serial", "chardev:s0",
            "-vnc", f"127.0.0.1:{port - 5900}", "-kernel", k, "-initrd", i, "-append", CMDLINE]
    vnc = f"vnc=127.0.0.1:{port},resolution={W}x{H}"
    return sock, {
        "phyllo-vmm bochs": ours + ["--display", f"device=bochs,{vnc},vram=32"],
        "phyllo-vmm virtio-gpu": ours + ["--display", f"device=virtio-gpu,{vnc}"],
        "qemu bochs": qemu + ["-device", f"bochs-display,xres={W},yres={H}"],
        "qemu virtio-gpu": qemu + ["-device", f"virtio-gpu-pci,xres={W},yres={H}"],
    }


def one_run(name, frames, seconds, logdir, port):
    with tempfile.TemporaryDirectory() as tmp:
        sock, cmds = commands(tmp, port)
        log = open(os.path.join(logdir, name.replace(" ", "-") + ".log"), "ab")
        vmm = subprocess.Popen(cmds[name], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               start_new_session=True)
        try:
            probe = subprocess.run([PROBE, "127.0.0.1", str(port), sock, str(vmm.pid),
                                    str(frames), str(seconds)],
                                   capture_output=True, timeout=900)
        finally:
            try:
                os.killpg(vmm.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            vmm.wait()
            log.close()
        if probe.returncode != 0:
            raise RuntimeError(f"{name}: vnc-probe: {probe.stderr.decode(errors='replace')}")
        r = json.loads(probe.stdout)
        if (r["width"], r["height"]) != (W, H):
            raise RuntimeError(f"{name}: the viewer got {r['width']}x{r['height']}")
        return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=3, help="runs per VMM (default 3)")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--only", help="run only the VMMs whose name contains this")
    args = ap.parse_args()
    for f in (PROBE, os.path.join(GUEST, "initramfs.cpio.gz")):
        if not os.path.exists(f):
            sys.exit(f"missing {f}: run `make build guest` first")
    logdir = os.path.join(TOP, "build", "bench-display")
    os.makedirs(logdir, exist_ok=True)
    _, names = commands("/tmp", 5990)
    names = [n for n in names if not args.only or args.only in n]
    results = {n: [] for n in names}
    for i in range(args.n):
        for n in names:  # interleaved, so drift in the box hits every VMM alike
            r = one_run(n, args.frames, args.seconds, logdir, 5990)
            results[n].append(r)
            print(f"run {i + 1} {n}: latency {r['latency_median_ms']} ms, still "
                  f"{r['still']['vmm_cpu_per_s']:.4f} s/s, anim {r['anim']['vmm_cpu_per_s']:.3f}"
                  f" s/s, {r['anim']['bytes_per_update']:.0f} B/update", flush=True)

    def med(n, *path):
        vals = []
        for r in results[n]:
            v = r
            for p in path:
                v = v[p]
            vals.append(v)
        return statistics.median(vals)

    metrics = [
        ("latency (ms)", ("latency_median_ms",)),
        ("still: CPU s/s, all", ("still", "cpu_per_s")),
        ("still: CPU s/s, VMM", ("still", "vmm_cpu_per_s")),
        ("anim: CPU s/s, all", ("anim", "cpu_per_s")),
        ("anim: CPU s/s, VMM", ("anim", "vmm_cpu_per_s")),
        ("anim: updates seen", ("anim", "updates")),
        ("anim: guest frames", ("anim", "guest_frames")),
        ("anim: bytes/update", ("anim", "bytes_per_update")),
    ]
    print(f"\n{W}x{H}, medians of {args.n} runs\n")
    print("| metric | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, path in metrics:
        print(f"| {label} | " + " | ".join(f"{med(n, *path):.4g}" for n in names) + " |")
    print("\nratios, QEMU / phyllo-vmm with the same device (above 1: phyllo-vmm is better):\n")
    for dev in ("bochs", "virtio-gpu"):
        ours, theirs = f"phyllo-vmm {dev}", f"qemu {dev}"
        if ours not in results or theirs not in results:
            continue
        parts = []
        for label, path in metrics:
            if "frames" in label or "seen" in label:
                continue
            a, b = med(ours, *path), med(theirs, *path)
            parts.append(f"{label} {b / a:.2f}" if a else f"{label} -")
        print(f"- {dev}: " + "; ".join(parts))
    with open(os.path.join(logdir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
