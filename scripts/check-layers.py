#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Refuse an include that points up the layers of src/ (docs/architecture.md).

    scripts/check-layers.py SRC_DIR [STAMP]
    scripts/check-layers.py --must-refuse DIR   (its own test: exit 0 only
                                                 if DIR has an upward include)

Each folder of SRC_DIR may include headers of the folders LAYERS lets it,
and of nothing above: a device (hw/, virtio/) that includes vmm/vm.h, or
base/ that includes anything else, fails the build (src/meson.build runs
this as a target built by default). Prints every offending line as
FILE:LINE and exits 1; with none, writes STAMP (if given) and exits 0.
"""
import os
import re
import sys

# folder: the folders its files may include ("*": any), lowest layer first.
LAYERS = {
    "base": {"base"},
    "snapshot": {"base", "snapshot"},
    "block": {"base", "block"},
    "net": {"base", "net"},
    "api": {"base", "api"},
    "dev": {"base", "snapshot", "dev"},
    "pci": {"base", "dev", "pci"},
    "hw": {"base", "snapshot", "dev", "hw"},
    "virtio": {"base", "snapshot", "dev", "pci", "block", "net", "display", "virtio"},
    "display": {"base", "snapshot", "dev", "pci", "display"},
    "arch": {"base", "snapshot", "dev", "pci", "hw", "arch"},
    "ui": {"base", "dev", "ui"},
    "remote": {"base", "api", "remote"},
    "vmm": {"*"},
    "manager": {"base", "block", "manager"},
    "cli": {"base", "manager", "cli"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z0-9_]+)/')


def check(src):
    bad = []
    for folder in sorted(os.listdir(src)):
        top = os.path.join(src, folder)
        if not os.path.isdir(top):
            continue
        allowed = LAYERS.get(folder)
        for root, _, files in os.walk(top):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        if allowed is None:
                            bad.append(f"{path}:{n}: folder '{folder}' has no place in the layers "
                                       "(add it to scripts/check-layers.py)")
                        elif "*" not in allowed and m.group(1) not in allowed:
                            bad.append(f"{path}:{n}: includes {m.group(1)}/, above {folder}/ "
                                       f"(it may include {', '.join(sorted(allowed))})")
    return bad


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--must-refuse":
        bad = check(sys.argv[2])
        for b in bad:
            print("refused as it should be:", b)
        return 0 if any("includes vmm/" in b for b in bad) else 1
    if len(sys.argv) not in (2, 3):
        print("usage: scripts/check-layers.py SRC_DIR [STAMP] | --must-refuse DIR", file=sys.stderr)
        return 2
    bad = check(sys.argv[1])
    for b in bad:
        print(b, file=sys.stderr)
    if bad:
        print(f"check-layers: {len(bad)} include(s) point up the layers", file=sys.stderr)
        return 1
    if len(sys.argv) == 3:
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
