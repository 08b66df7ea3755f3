#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# scripts/build-web.sh OUTDIR: assembles the page phyllo-vmm serves with
# --display web= into OUTDIR: web/index.vnc, phyllo-vnc.js and .css, and
# noVNC's client library (npm's @novnc/novnc at the version web/package-lock.json
# pins, installed with `npm ci`: checked against the lock file's hash).
# Idempotent: keyed by the lock file and the page's files (OUTDIR/.stamp),
# a second run with nothing changed only checks and exits. Needs npm
# (scripts/install-deps.sh installs it) and the npm registry.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/../web" && pwd)
OUT=${1:?usage: build-web.sh OUTDIR}
key=$(cd "$HERE" && cat package.json package-lock.json index.vnc phyllo-vnc.js phyllo-vnc.css |
	sha256sum | cut -d' ' -f1)
if [[ -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$key" && -f "$OUT/novnc/core/rfb.js" ]]; then
	exit 0
fi
command -v npm >/dev/null || { echo "build-web: npm is missing (scripts/install-deps.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$HERE/package.json" "$HERE/package-lock.json" "$tmp/"
if ! (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null); then
	echo "build-web: npm ci failed (is the npm registry reachable?)" >&2
	exit 1
fi
rm -rf "$OUT.new"
mkdir -p "$OUT.new/novnc"
cp -r "$tmp/node_modules/@novnc/novnc/core" "$tmp/node_modules/@novnc/novnc/vendor" \
	"$tmp/node_modules/@novnc/novnc/LICENSE.txt" "$OUT.new/novnc/"
cp "$HERE/index.vnc" "$HERE/phyllo-vnc.js" "$HERE/phyllo-vnc.css" "$OUT.new/"
echo "$key" >"$OUT.new/.stamp"
rm -rf "$OUT"
mv "$OUT.new" "$OUT"
echo "build-web: noVNC $(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$tmp/node_modules/@novnc/novnc/package.json" | head -1) ready in $OUT" >&2
