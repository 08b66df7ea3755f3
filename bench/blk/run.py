#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""virtio-blk benchmark: fio in the guest, phyllo-vmm against QEMU (-accel kvm).

Every VMM boots the same kernel (build/guest/vmlinuz), the same benchmark
initramfs and command line, with 2 vCPUs and 1 GiB, and gets the same raw
image as its one virtio-blk disk (build/bench-blk/, made by
bench/blk/build-guest.sh on the host). The guest's /init (bench/blk/init)
runs Debian's fio on /dev/vda with O_DIRECT and libaio, one job after the
other, and prints fio's JSON report on the console; this script reads it:

  randread-4k-qd1, randread-4k-qd32, randwrite-4k-qd1, randwrite-4k-qd32
      IOPS (4 KiB random, queue depth 1 and 32)
  read-1m-qd8, write-1m-qd8
      MB/s (1 MiB sequential, queue depth 8; 1 MB = 10^6 bytes)

VMMs (--vmms, in this order by default):
  phyllo         phyllo-vmm --disk path=IMG (buffered I/O on the host)
  phyllo-direct  phyllo-vmm --disk path=IMG,direct=on (O_DIRECT)
  microvm        qemu -M microvm,pcie=on, virtio-blk-pci
  pc             qemu -M pc, virtio-blk-pci
  microvm-mmio   qemu -M microvm, virtio-blk-device on virtio-mmio (not in
                 the default set)
QEMU's disk is -drive ...,cache=none,aio=native (O_DIRECT, Linux AIO), so
phyllo-direct is the like-for-like comparison; phyllo (buffered) is what
phyllo-vmm does by default. Each device keeps its VMM's defaults (phyllo-vmm:
1 queue of 128; QEMU 7.2: one queue per vCPU of 256); fio runs one job, so
only one queue is busy either way.

N boots per VMM (default 3), taken round robin so that a shared machine's
drifting load spreads over every VMM; a boot that fails (nested KVM is
flaky: QEMU runs with -no-reboot, a guest that reboots counts as failed) is
repeated up to --retries times per VMM. Then the medians, and a table of
ratios QEMU / phyllo-vmm. Run it where /dev/kvm works, after
bench/blk/build-guest.sh: `tools/kvmbox -- bench/blk/run.py` (--quick: 3 s
per job). The console logs of the last invocation are in build/bench-blk/logs/.
"""
import argparse
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from vmrun import boot_until, ratio_table  # noqa: E402  (bench/vmrun.py)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST = os.path.join(TOP, "build", "guest")
BENCH = os.path.join(TOP, "build", "bench-blk")

# (job name as bench/blk/init knows it, fio direction, metric, column title)
JOBS = [
    ("randread-4k-qd1", "read", "iops", "4k randread QD1 (IOPS)"),
    ("randread-4k-qd32", "read", "iops", "4k randread QD32 (IOPS)"),
    ("randwrite-4k-qd1", "write", "iops", "4k randwrite QD1 (IOPS)"),
    ("randwrite-4k-qd32", "write", "iops", "4k randwrite QD32 (IOPS)"),
    ("read-1m-qd8", "read", "mbps", "1M seq read QD8 (MB/s)"),
    ("write-1m-qd8", "write", "mbps", "1M seq write QD8 (MB/s)"),
]
NAMES = {
    "phyllo": "phyllo-vmm",
    "phyllo-direct": "phyllo-vmm direct=on",
    "microvm": "qemu microvm (pcie)",
    "pc": "qemu pc",
    "microvm-mmio": "qemu microvm (mmio)",
}
DEFAULT_VMMS = "phyllo,phyllo-direct,microvm,pc"


def vmm_commands(kernel, initrd, image, cmdline, mem_mib, cpus, qemu_drive):
    phyllo = [os.path.join(TOP, "build", "phyllo-vmm"), "--kernel", kernel, "--initramfs", initrd,
              "--cmdline", cmdline, "--cpus", f"boot={cpus}", "--memory", f"size={mem_mib}M"]
    # -no-reboot: a guest that resets ends the run instead of starting over.
    qemu = ["-accel", "kvm", "-cpu", "host", "-m", str(mem_mib), "-smp", str(cpus),
            "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-no-reboot",
            "-kernel", kernel, "-initrd", initrd, "-append", cmdline,
            "-drive", f"file={image},format=raw,if=none,id=d0,{qemu_drive}"]
    q = "qemu-system-x86_64"
    return {
        "phyllo": phyllo + ["--disk", f"path={image}"],
        "phyllo-direct": phyllo + ["--disk", f"path={image},direct=on"],
        "microvm": [q, "-M", "microvm,pcie=on"] + qemu + ["-device", "virtio-blk-pci,drive=d0"],
        "pc": [q, "-M", "pc", "-vga", "none"] + qemu + ["-device", "virtio-blk-pci,drive=d0"],
        "microvm-mmio": [q, "-M", "microvm"] + qemu + ["-device", "virtio-blk-device,drive=d0"],
    }


def fio_report(console):
    """fio's JSON from between the marker lines of a console log."""
    text = console.decode(errors="replace").replace("\r", "")
    if len(re.findall(r"^PHYLLO BENCH-BLK ", text, re.M)) > 1:
        raise RuntimeError("the guest rebooted")
    m = re.search(r"^PHYLLO FIO-BEGIN\n(.*?)^PHYLLO FIO-END (\d+)", text, re.S | re.M)
    if not m:
        raise RuntimeError("no fio report on the console")
    if m.group(2) != "0":
        err = "\n".join(re.findall(r"^PHYLLO FIO-STDERR (.*)$", text, re.M))
        raise RuntimeError(f"fio exited {m.group(2)}: {err}")
    # Kernel messages may land in the middle: "[   12.345678] ...".
    body = "\n".join(line for line in m.group(1).split("\n")
                     if not re.match(r"^\[\s*\d+\.\d+\]", line))
    return json.loads(body[body.index("{"):])


def figures(report):
    """{job name: IOPS or MB/s} from a fio JSON report."""
    out = {}
    for job in report["jobs"]:
        for name, rw, metric, _ in JOBS:
            if job["jobname"] == name:
                d = job[rw]
                out[name] = d["iops"] if metric == "iops" else d["bw_bytes"] / 1e6
    return out


def one_run(cmd, log_path, timeout):
    """Boots once, returns the guest's fio figures; the console goes to log_path."""
    # fio's stderr and the last UPTIME line follow the report: a short grace.
    console, wall = boot_until(cmd, log_path, timeout, rb"PHYLLO FIO-END \d+\r?\n",
                               grace=(rb"PHYLLO UPTIME [0-9.]+\r?\n", 2, 10))
    return figures(fio_report(console)), guest_times(console, wall)


def guest_times(console, wall):
    """Where the time of a run went, for the progress lines."""
    text = console.decode(errors="replace")
    ups = re.findall(r"PHYLLO UPTIME ([0-9.]+)", text)
    fio = re.search(r"PHYLLO FIO-TIME ([0-9.]+) ([0-9.]+)", text)
    out = f"{wall:.0f} s wall"
    if ups and fio:
        start, end = float(fio.group(1)), float(fio.group(2))
        out += f"; guest clock: user space {float(ups[0]):.1f} s, fio {end - start:.1f} s"
        if len(ups) > 1:
            out += f", report on the console {float(ups[-1]) - end:.1f} s"
    return out


def fmt(v, metric):
    if v is None:
        return "-"
    return f"{v:.0f}" if metric == "iops" or v >= 100 else f"{v:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--runs", type=int, default=3, help="boots per VMM (median)")
    ap.add_argument("--quick", action="store_true", help="3 s per job after 1 s of ramp")
    ap.add_argument("--runtime", type=int, help="seconds per fio job (default 10; 3 with --quick)")
    ap.add_argument("--ramp", type=int, help="seconds of ramp per job (default 2; 1 with --quick)")
    ap.add_argument("--vmms", default=DEFAULT_VMMS,
                    help=f"comma-separated, of {','.join(NAMES)} (default {DEFAULT_VMMS})")
    ap.add_argument("--jobs", default=",".join(j[0] for j in JOBS), help="comma-separated fio jobs")
    ap.add_argument("--engine", default="libaio", choices=["libaio", "io_uring"])
    ap.add_argument("--image", default=os.path.join(BENCH, "disk.img"), help="the disk (raw)")
    ap.add_argument("--qemu-drive", default="cache=none,aio=native",
                    help="QEMU's -drive options after format=raw (default cache=none,aio=native)")
    ap.add_argument("--retries", type=int, default=1,
                    help="boots a failed run may be repeated (nested KVM is flaky)")
    ap.add_argument("--memory", type=int, default=1024, help="guest MiB")
    ap.add_argument("--cpus", type=int, default=2)
    args = ap.parse_args()
    runtime = args.runtime if args.runtime is not None else (3 if args.quick else 10)
    ramp = args.ramp if args.ramp is not None else (1 if args.quick else 2)
    vmms = args.vmms.split(",")
    jobs = [j for j in JOBS if j[0] in args.jobs.split(",")]
    for v in vmms:
        if v not in NAMES:
            sys.exit(f"bench/blk: unknown VMM {v!r}; known: {', '.join(NAMES)}")
    if not jobs:
        sys.exit("bench/blk: no known job in --jobs")

    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench/blk: no usable /dev/kvm; run it through tools/kvmbox")
    kernel = os.path.join(GUEST, "vmlinuz")
    initrd = os.path.join(BENCH, "initramfs.cpio.gz")
    image = os.path.abspath(args.image)
    for f in (kernel, initrd, image, os.path.join(TOP, "build", "phyllo-vmm")):
        if not os.path.exists(f):
            sys.exit(f"bench/blk: {f} is missing: run `make build` and bench/blk/build-guest.sh first")

    cmdline = (f"console=ttyS0 quiet phyllo.runtime={runtime} phyllo.ramp={ramp} "
               f"phyllo.engine={args.engine} phyllo.jobs={','.join(j[0] for j in jobs)}")
    cmds = vmm_commands(kernel, initrd, image, cmdline, args.memory, args.cpus, args.qemu_drive)
    # Boot, fio's own start-up and the JSON on a slow console, then the jobs.
    timeout = 300 + len(jobs) * (runtime + ramp) * 3
    logs = os.path.join(BENCH, "logs")
    os.makedirs(logs, exist_ok=True)
    for old in os.listdir(logs):
        if old.endswith(".log"):
            os.unlink(os.path.join(logs, old))

    # Round robin (run 1 of every VMM, then run 2, ...): the load of a shared
    # machine drifts, and should not fall on one VMM's runs only.
    samples = {v: {j[0]: [] for j in jobs} for v in vmms}
    retries = {v: args.retries for v in vmms}
    failed = []
    for i in range(args.runs):
        for v in vmms:
            if v in failed:
                continue
            figs = None
            while figs is None:
                log = os.path.join(logs, f"{v}-{i + 1}.log")
                try:
                    figs, times = one_run(cmds[v], log, timeout)
                except (RuntimeError, ValueError, KeyError) as e:
                    print(f"{NAMES[v]}: run {i + 1} failed: {e}", file=sys.stderr)
                    if retries[v] <= 0:
                        failed.append(v)
                        break
                    retries[v] -= 1
                    os.replace(log, log[:-4] + f"-failed-{args.retries - retries[v]}.log")
                    print(f"{NAMES[v]}: repeating run {i + 1}", file=sys.stderr)
            if figs is None:
                continue
            for name, x in samples[v].items():
                if name in figs:
                    x.append(figs[name])
            print(f"{NAMES[v]} run {i + 1} ({times}): "
                  + ", ".join(f"{k}={fmt(figs.get(k), m)}" for k, _, m, _ in jobs), file=sys.stderr)
    results = {v: {k: (statistics.median(x) if x and v not in failed else None)
                   for k, x in samples[v].items()} for v in vmms}

    where = "nested: tools/kvmbox box" if os.environ.get("KVMBOX_INSIDE") else "host /dev/kvm"
    print(f"\nvirtio-blk, fio {args.engine} O_DIRECT on /dev/vda, {runtime} s per job "
          f"after {ramp} s ramp, {args.cpus} vCPUs, {args.memory} MiB, median of {args.runs} runs "
          f"({where}); image {image}, QEMU -drive {args.qemu_drive}\n")
    print("| VMM | " + " | ".join(j[3] for j in jobs) + " |")
    print("|---|" + "---|" * len(jobs))
    for v in vmms:
        print(f"| {NAMES[v]} | " + " | ".join(fmt(results[v][j[0]], j[2]) for j in jobs) + " |")

    bases = [b for b in ("phyllo-direct", "phyllo") if b in vmms]
    others = [v for v in vmms if not v.startswith("phyllo")]
    pairs = [(o, b) for o in others for b in bases]
    if "phyllo" in vmms and "phyllo-direct" in vmms:
        pairs.append(("phyllo", "phyllo-direct"))
    if pairs:
        print("\nRatios (first figure / second figure). Every column is throughput: higher is "
              "better, so above 1 means the first VMM did better than the second.\n")
        ratio_table(pairs, NAMES, [(j[0], j[3].rsplit(" (", 1)[0]) for j in jobs], results)
    if failed:
        print(f"\nfailed: {', '.join(NAMES[v] for v in dict.fromkeys(failed))} "
              f"(console logs in {logs})")
        sys.exit(1)


if __name__ == "__main__":
    main()
