#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The first end-to-end test: /dev/kvm works where the suite runs (inside the
# kvmbox, or directly on a host with a usable KVM). kvm-selftest runs a tiny
# real-mode guest and checks KVM's CPUID baseline; every later test needs
# both.
# shellcheck source-path=SCRIPTDIR
# timeout: 60
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set -euo pipefail

bin=$PHYLLO_BUILD/tests/e2e/kvm-selftest
[[ -x "$bin" ]] || fail "no $bin: build first"
[[ -c /dev/kvm ]] || fail "no /dev/kvm here"
out=$("$bin" 2>&1) || fail "kvm-selftest failed: $out"
echo "$out"
