#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Snapshot and restore benchmark: phyllo-vmm against QEMU (-accel kvm).

Both VMMs boot the same kernel, initramfs and command line (the test guest
in counter mode: "PHYLLO COUNT n UPTIME s" on the serial console every
200 ms), 1 vCPU, at each guest RAM size (default 512 MiB and 2 GiB). The
serial console goes to a file. Once the guest has printed "PHYLLO COUNT 3":

  phyllo-vmm  (--api-socket, --serial file=...)
      vm.pause; vm.snapshot {"destination_url": "file:///DIR"}; the VMM is
      killed; a new `phyllo-vmm --api-socket S --restore source_url=...`
      is started (it restores Paused, the config keeps the serial file) and
      vm.resume is sent as soon as the API answers.
  QEMU        (-M pc or microvm, -cpu host, -qmp unix:..., serial to a file
               chardev with append=on)
      QMP stop; migrate to "exec:cat > FILE" (QEMU 7.2 has no file: URI),
      with max-bandwidth raised from the 32 MiB/s default as libvirt does
      for `virsh save`; the end is the MIGRATION event "completed". QEMU is
      killed; a new QEMU with the same devices and -incoming "exec:cat
      FILE" is started, query-status is polled until the incoming
      migration is over, then QMP cont.

Per run and VMM:

  snapshot    wall time of the snapshot: the vm.snapshot HTTP call, or
              QMP migrate until the MIGRATION event says completed
  size        the snapshot (phyllo-vmm: the whole directory; QEMU: the
              migration stream file): apparent size and blocks on disk, as
              `du --apparent-size` and `du` count them
  resumed     restore: process start -> vm.resume / cont acknowledged
  running     restore: process start -> the first new "PHYLLO COUNT" line
              (a count above the last one before the snapshot) in the
              serial file: restore-to-running. The guest prints every
              200 ms of its own time, so this includes up to one such
              period of waiting, alike for both VMMs.

The restored guest is also checked: one boot only, and the count goes on
from where it stopped. The counter guest dirties little RAM: most of guest
RAM is zero, which phyllo-vmm leaves as holes in a sparse memory file and
QEMU sends as zero-page markers, so sizes and times here are those of a
nearly idle guest. Snapshots go to --dir (default: $TMPDIR or /tmp, which
is a tmpfs in tools/kvmbox), so storage speed is hardly measured.

N rounds (default 3, --quick: 1), round robin over sizes and VMMs, then
medians and ratios QEMU / phyllo-vmm (above 1 = phyllo-vmm better: every
figure is "lower is better"). Every process group started is killed, also
on errors. Run it where /dev/kvm works: `tools/kvmbox -- bench/snapshot/run.py`
(or `make bench-snapshot`).
"""
import argparse
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST = os.path.join(TOP, "build", "guest")
PHYLLO = os.path.join(TOP, "build", "phyllo-vmm")
CMDLINE = "console=ttyS0 quiet phyllo.mode=counter"
COUNT_RE = re.compile(rb"^PHYLLO COUNT (\d+) UPTIME", re.M)
BOOT_TIMEOUT = 300
OP_TIMEOUT = 600

# Process groups started and not yet reaped: killed at exit whatever happens.
LIVE = {}


def start(cmd, log_path):
    log = open(log_path, "ab")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)
    log.close()
    LIVE[p.pid] = p
    return p


def kill(p):
    if p is None or p.pid not in LIVE:
        return
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()
    del LIVE[p.pid]


def kill_all():
    for p in list(LIVE.values()):
        kill(p)


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


def api(sock, method, endpoint, body=None, timeout=OP_TIMEOUT):
    """One REST call to phyllo-vmm: (HTTP status, body text)."""
    c = UnixHTTP(sock, timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        c.request(method, f"/api/v1/{endpoint}", body=data, headers=headers)
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace")
    finally:
        c.close()


class QMP:
    """A QMP client on a Unix socket: commands, with events kept aside."""

    def __init__(self, path, timeout):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.events = []
        self._read()  # the greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("QMP: QEMU closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.s.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            m = self._read()
            if "event" in m:
                self.events.append(m)
            elif "error" in m:
                raise RuntimeError(f"QMP {name}: {m['error'].get('desc', m['error'])}")
            elif "return" in m:
                return m["return"]

    def event(self, name, pred, timeout):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name and pred(e.get("data", {})):
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"QMP: no {name} event in {timeout} s")
            self.s.settimeout(left)
            m = self._read()
            if "event" in m:
                self.events.append(m)

    def close(self):
        self.s.close()


def connect_retry(fn, p, timeout, what):
    """fn() until it stops raising OSError (the socket is not there yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except OSError:
            if p.poll() is not None:
                raise RuntimeError(f"{what}: the VMM exited {p.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: no answer in {timeout} s")
            time.sleep(0.002)


def counts(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return [], b""
    return [int(n) for n in COUNT_RE.findall(data.replace(b"\r", b""))], data


def wait_count(path, above, p, timeout, what):
    """Polls the serial file until a COUNT above `above` appears: its number."""
    deadline = time.monotonic() + timeout
    while True:
        c, data = counts(path)
        new = [n for n in c if n > above]
        if new:
            return new[0]
        if p.poll() is not None:
            raise RuntimeError(f"{what}: the VMM exited {p.returncode}; serial tail:\n"
                               + data[-800:].decode(errors="replace"))
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: no PHYLLO COUNT above {above} in {timeout} s; "
                               "serial tail:\n" + data[-800:].decode(errors="replace"))
        time.sleep(0.002)


def disk_usage(path):
    """(apparent bytes, bytes allocated on disk) of a file or a directory tree."""
    files = [path] if os.path.isfile(path) else [
        os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs]
    app = blocks = 0
    for f in files:
        st = os.stat(f)
        app += st.st_size
        blocks += st.st_blocks * 512
    return app, blocks


def check_restored(serial, last):
    """The restored guest went on counting from `last` and did not boot again."""
    c, data = counts(serial)
    if data.count(b"PHYLLO BOOT-OK") != 1:
        raise RuntimeError("the guest booted again after the restore")
    i = c.index(last) if last in c else -1
    if i < 0 or i + 1 >= len(c) or c[i + 1] != last + 1:
        raise RuntimeError(f"after the restore the count did not go on from {last}: {c[-6:]}")


def run_phyllo(mem_mib, work):
    serial = os.path.join(work, "serial.out")
    sock1, sock2 = os.path.join(work, "api1.sock"), os.path.join(work, "api2.sock")
    snap = os.path.join(work, "snap")
    log = os.path.join(work, "vmm.log")
    cmd = [PHYLLO, "--api-socket", sock1, "--kernel", os.path.join(GUEST, "vmlinuz"),
           "--initramfs", os.path.join(GUEST, "initramfs.cpio.gz"), "--cmdline", CMDLINE,
           "--cpus", "boot=1", "--memory", f"size={mem_mib}M", "--serial", f"file={serial}"]
    p = start(cmd, log)
    try:
        wait_count(serial, 2, p, BOOT_TIMEOUT, "phyllo-vmm boot")
        st, body = connect_retry(lambda: api(sock1, "PUT", "vm.pause"), p, 30, "vm.pause")
        if st != 204:
            raise RuntimeError(f"vm.pause: HTTP {st} {body}")
        last = max(counts(serial)[0])
        t0 = time.monotonic()
        st, body = api(sock1, "PUT", "vm.snapshot", {"destination_url": f"file://{snap}"})
        snap_s = time.monotonic() - t0
        if st != 204:
            raise RuntimeError(f"vm.snapshot: HTTP {st} {body}")
    finally:
        kill(p)
    size = disk_usage(snap)

    t0 = time.monotonic()
    p = start([PHYLLO, "--api-socket", sock2, "--restore", f"source_url=file://{snap}"], log)
    try:
        # The API answers once the restore is done (the VM is then Paused).
        st, body = connect_retry(lambda: api(sock2, "PUT", "vm.resume"), p, OP_TIMEOUT,
                                 "vm.resume after --restore")
        if st != 204:
            raise RuntimeError(f"vm.resume after --restore: HTTP {st} {body}")
        resumed_s = time.monotonic() - t0
        wait_count(serial, last, p, BOOT_TIMEOUT, "phyllo-vmm after the restore")
        running_s = time.monotonic() - t0
        check_restored(serial, last)
    finally:
        kill(p)
    return {"snapshot": snap_s * 1000, "resumed": resumed_s * 1000,
            "running": running_s * 1000, "apparent": size[0] / 2**20, "disk": size[1] / 2**20}


def qemu_command(machine, mem_mib, serial, qmp):
    m = ["-M", "microvm"] if machine == "microvm" else ["-M", "pc", "-vga", "none"]
    return ["qemu-system-x86_64"] + m + [
        "-accel", "kvm", "-cpu", "host", "-m", str(mem_mib), "-smp", "1",
        "-nodefaults", "-no-user-config", "-display", "none",
        "-chardev", f"file,id=ser0,path={serial},append=on", "-serial", "chardev:ser0",
        "-qmp", f"unix:{qmp},server=on,wait=off",
        "-kernel", os.path.join(GUEST, "vmlinuz"),
        "-initrd", os.path.join(GUEST, "initramfs.cpio.gz"), "-append", CMDLINE]


def run_qemu(mem_mib, work, machine, bandwidth):
    serial = os.path.join(work, "serial.out")
    qmp1, qmp2 = os.path.join(work, "qmp1.sock"), os.path.join(work, "qmp2.sock")
    image = os.path.join(work, "vmstate")
    log = os.path.join(work, "vmm.log")
    p = start(qemu_command(machine, mem_mib, serial, qmp1), log)
    q = None
    try:
        wait_count(serial, 2, p, BOOT_TIMEOUT, "QEMU boot")
        q = connect_retry(lambda: QMP(qmp1, 30), p, 30, "QMP")
        q.cmd("stop")
        last = max(counts(serial)[0])
        q.cmd("migrate-set-capabilities",
              capabilities=[{"capability": "events", "state": True}])
        q.cmd("migrate-set-parameters", **{"max-bandwidth": bandwidth})
        t0 = time.monotonic()
        q.cmd("migrate", uri=f"exec:cat > {image}")
        e = q.event("MIGRATION", lambda d: d.get("status") in ("completed", "failed", "cancelled"),
                    OP_TIMEOUT)
        snap_s = time.monotonic() - t0
        info = q.cmd("query-migrate")
        if e["data"]["status"] != "completed":
            raise RuntimeError(f"QEMU migrate: {info}")
        ram = info.get("ram", {})
        print(f"qemu migrate: total-time {info.get('total-time')} ms, setup-time "
              f"{info.get('setup-time')} ms, {ram.get('mbps', 0):.0f} Mbit/s, "
              f"{ram.get('normal', 0)} normal and {ram.get('duplicate', 0)} zero pages",
              file=sys.stderr)
    finally:
        if q:
            q.close()
        kill(p)
    size = disk_usage(image)

    t0 = time.monotonic()
    p = start(qemu_command(machine, mem_mib, serial, qmp2) + ["-incoming", f"exec:cat {image}"],
              log)
    q = None
    try:
        q = connect_retry(lambda: QMP(qmp2, OP_TIMEOUT), p, OP_TIMEOUT, "QMP after -incoming")
        deadline = time.monotonic() + OP_TIMEOUT
        while True:
            status = q.cmd("query-status")["status"]
            if status != "inmigrate":
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"QEMU: still in the incoming migration after {OP_TIMEOUT} s")
            time.sleep(0.002)
        if status not in ("paused", "postmigrate", "prelaunch"):
            raise RuntimeError(f"QEMU after the incoming migration: {status}")
        q.cmd("cont")
        resumed_s = time.monotonic() - t0
        wait_count(serial, last, p, BOOT_TIMEOUT, "QEMU after the restore")
        running_s = time.monotonic() - t0
        check_restored(serial, last)
    finally:
        if q:
            q.close()
        kill(p)
    return {"snapshot": snap_s * 1000, "resumed": resumed_s * 1000,
            "running": running_s * 1000, "apparent": size[0] / 2**20, "disk": size[1] / 2**20}


COLUMNS = [  # key, title, format
    ("snapshot", "snapshot (ms)", "{:.0f}"),
    ("resumed", "restore: start to resumed (ms)", "{:.0f}"),
    ("running", "restore to running (ms)", "{:.0f}"),
    ("apparent", "size, apparent (MiB)", "{:.1f}"),
    ("disk", "size on disk (MiB)", "{:.1f}"),
]


def size_name(mib):
    return f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--runs", type=int, default=3, help="rounds (median)")
    ap.add_argument("--quick", action="store_true", help="one round")
    ap.add_argument("--memory", default="512,2048", help="guest MiB, comma-separated")
    ap.add_argument("--machine", default="pc", choices=["pc", "microvm"], help="QEMU's -M")
    ap.add_argument("--vmms", default="phyllo,qemu", help="comma-separated: phyllo, qemu")
    ap.add_argument("--qemu-bandwidth", type=int, default=100 << 30,
                    help="QEMU's migration max-bandwidth, bytes/s (default 100 GiB/s)")
    ap.add_argument("--retries", type=int, default=1,
                    help="failed runs repeated per VMM and size (nested KVM is flaky)")
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where snapshots are written")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = ap.parse_args()
    runs = 1 if args.quick else args.runs
    sizes = [int(x) for x in args.memory.split(",")]
    vmms = args.vmms.split(",")
    for v in vmms:
        if v not in ("phyllo", "qemu"):
            sys.exit(f"bench/snapshot: unknown VMM {v!r}")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench/snapshot: no usable /dev/kvm; run it through tools/kvmbox")
    for f in (PHYLLO, os.path.join(GUEST, "vmlinuz"), os.path.join(GUEST, "initramfs.cpio.gz")):
        if not os.path.exists(f):
            sys.exit(f"bench/snapshot: {f} is missing: run `make build guest` first")

    atexit.register(kill_all)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    top = tempfile.mkdtemp(prefix="phyllo-bench-snapshot.", dir=args.dir)
    names = {"phyllo": "phyllo-vmm", "qemu": f"qemu {args.machine}"}
    samples = {(v, m): [] for v in vmms for m in sizes}
    retries = {k: args.retries for k in samples}
    failed = {}
    try:
        # Round robin: a shared machine's drifting load spreads over every VMM.
        for i in range(runs):
            for m in sizes:
                for v in vmms:
                    key = (v, m)
                    while key not in failed:
                        work = os.path.join(top, f"{v}-{m}-{i + 1}")
                        os.makedirs(work)
                        try:
                            if v == "phyllo":
                                r = run_phyllo(m, work)
                            else:
                                r = run_qemu(m, work, args.machine, args.qemu_bandwidth)
                        except (RuntimeError, OSError, ValueError, KeyError) as e:
                            print(f"{names[v]} {size_name(m)} run {i + 1} failed: {e}",
                                  file=sys.stderr)
                            if retries[key] <= 0:
                                failed[key] = str(e).splitlines()[0]
                                break
                            retries[key] -= 1
                            os.rename(work, work + f"-failed-{args.retries - retries[key]}")
                            continue
                        samples[key].append(r)
                        print(f"{names[v]} {size_name(m)} run {i + 1}: "
                              + ", ".join(f"{k}={r[k]:.1f}" for k, _, _ in COLUMNS),
                              file=sys.stderr)
                        if not args.keep:
                            shutil.rmtree(work, ignore_errors=True)
                        break
    finally:
        kill_all()
        if not args.keep and not failed:
            shutil.rmtree(top, ignore_errors=True)

    res = {k: ({c: statistics.median(r[c] for r in x) for c, _, _ in COLUMNS} if x else None)
           for k, x in samples.items()}
    where = "nested: tools/kvmbox box" if os.environ.get("KVMBOX_INSIDE") else "host /dev/kvm"
    print(f"\nSnapshot and restore, counter guest, 1 vCPU, median of {runs} "
          f"round{'s' if runs > 1 else ''} ({where}); snapshots in {args.dir}\n")
    print("| VMM | guest RAM | " + " | ".join(t for _, t, _ in COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for m in sizes:
        for v in vmms:
            r = res[(v, m)]
            cells = [f.format(r[c]) if r else "-" for c, _, f in COLUMNS]
            print(f"| {names[v]} | {size_name(m)} | " + " | ".join(cells) + " |")
    if "phyllo" in vmms and "qemu" in vmms:
        print("\nRatios QEMU / phyllo-vmm (every figure is lower-is-better: above 1 means "
              "phyllo-vmm is better)\n")
        print("| guest RAM | " + " | ".join(t.rsplit(" (", 1)[0] for _, t, _ in COLUMNS) + " |")
        print("|---|" + "---|" * len(COLUMNS))
        for m in sizes:
            a, b = res[("qemu", m)], res[("phyllo", m)]
            cells = [f"x{a[c] / b[c]:.2f}" if a and b and b[c] else "-" for c, _, _ in COLUMNS]
            print(f"| {size_name(m)} | " + " | ".join(cells) + " |")
    if failed:
        print("\nfailed: " + "; ".join(f"{names[v]} {size_name(m)}: {e}"
                                        for (v, m), e in failed.items())
              + f" (work directory kept: {top})")
        sys.exit(1)


if __name__ == "__main__":
    main()
