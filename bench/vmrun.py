# SPDX-License-Identifier: GPL-2.0-or-later
"""One benchmark boot, shared by bench/*/run.py: start a VMM whose guest
prints its results on the serial console (our stdout), read the console
until the guest says it is done, then kill the VMM's whole process group
(a session of its own) and keep the console in a log file.
"""
import os
import re
import select
import signal
import subprocess
import time


def boot_until(cmd, log_path, timeout, done, grace=None):
    """Boots CMD and reads its console until the regex DONE (bytes) matches,
    then, with GRACE = (regex, count, seconds), until REGEX has matched
    COUNT times or SECONDS passed (for what the guest prints after its
    results). Returns (console bytes, wall seconds). Raises RuntimeError if
    the VMM ended or TIMEOUT passed first; the log is written either way."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    buf = b""
    finished = False

    def read(wait):
        nonlocal buf
        r, _, _ = select.select([p.stdout], [], [], wait)
        if not r:
            return p.poll() is None
        chunk = os.read(p.stdout.fileno(), 65536)
        buf += chunk
        return bool(chunk)

    try:
        while time.monotonic() - t0 < timeout:
            if not read(1.0):
                break
            if re.search(done, buf):
                finished = True
                break
        if finished and grace:
            regex, count, seconds = grace
            end = time.monotonic() + seconds
            while (time.monotonic() < end and len(re.findall(regex, buf)) < count
                   and read(0.5)):
                pass
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        with open(log_path, "wb") as f:
            f.write(buf)
    wall = time.monotonic() - t0
    if not finished:
        why = "timed out" if wall >= timeout else f"exited {p.returncode}"
        raise RuntimeError(f"{why} before the guest finished; log: {log_path}\n"
                           + buf[-1500:].decode(errors="replace"))
    return buf, wall


def ratio_table(pairs, names, columns, results):
    """Prints a markdown table of ratios, one row per (a, b) in PAIRS:
    results[a][key] / results[b][key] for each (key, title) in COLUMNS
    ("-" where either is missing); NAMES gives the rows' VMM names."""
    print("| | " + " | ".join(title for _, title in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for a, b in pairs:
        cells = []
        for key, _ in columns:
            x, y = results[a][key], results[b][key]
            cells.append(f"x{x / y:.2f}" if x is not None and y else "-")
        print(f"| {names[a]} / {names[b]} | " + " | ".join(cells) + " |")
