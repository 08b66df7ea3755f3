#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A guest that triple-faults ends the VMM with one clear message (the exit
# reason, the vCPU and RIP) and a non-zero status. The guest is a tiny PVH
# ELF whose first instruction is ud2 with no usable IDT.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
elf=$PHYLLO_TMP/triple.elf
python3 - "$elf" <<'PY'
import struct, sys
entry = 0x100000
code = b"\x0f\x0b" + b"\xf4" * 14           # ud2, then hlt padding
note = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", entry)
ehsize, phsize = 64, 56
note_off = ehsize + 2 * phsize
code_off = 0x1000
eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, ehsize, 0, 0, ehsize, phsize, 2, 0, 0, 0)
ph_load = struct.pack("<IIQQQQQQ", 1, 5, code_off, entry, entry, len(code), len(code), 0x1000)
ph_note = struct.pack("<IIQQQQQQ", 4, 4, note_off, 0, 0, len(note), len(note), 4)
img = bytearray(code_off + len(code))
img[0:len(eh)] = eh
img[ehsize:ehsize + phsize] = ph_load
img[ehsize + phsize:note_off] = ph_note
img[note_off:note_off + len(note)] = note
img[code_off:] = code
open(sys.argv[1], "wb").write(img)
PY
log=$(test_log triple)
timeout 60 "$PHYLLO_VMM" --kernel "$elf" --memory size=64M </dev/null >"$log" 2>&1
status=$?
[ "$status" -eq 1 ] || fail "exit status $status, expected 1"
expect_line "$log" 'vCPU 0: triple fault \(KVM_EXIT_SHUTDOWN\) at RIP 0x'
[ "$(grep -c . "$log")" -eq 1 ] || fail "expected exactly one line, got: $(cat "$log")"
