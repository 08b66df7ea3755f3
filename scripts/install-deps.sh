#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Installs the Debian packages Phyllome needs to build and test, and nothing
# else. Idempotent and quiet: when everything is there it only runs dpkg -s.
# Called by `make`; safe to run by hand (as root, or with sudo available).
set -euo pipefail

PKGS=(
	# build
	build-essential meson ninja-build pkg-config clang llvm
	# unit tests, sanitizers, fuzzing, leak checks
	libcmocka-dev libclang-rt-14-dev valgrind
	# test guests and the KVM box
	qemu-system-x86 qemu-utils busybox-static cpio kmod xz-utils zstd file
	# the test guest's KMS drawing tool (only the kernel uapi headers libdrm-dev carries)
	libdrm-dev
	# ACPI table checks (iasl)
	acpica-tools
	# scripts
	python3 curl procps strace e2fsprogs zlib1g-dev liburing-dev
	# user-mode networking (slirp.pc requires glib-2.0, which libslirp-dev does not pull in)
	libslirp-dev libglib2.0-dev
	# the REST API's JSON (VmConfig and friends)
	libjansson-dev
	# screenshots (PNG), the VNC server, the EDID check (edid-decode)
	libpng-dev libvncserver-dev edid-decode python3-pil
	# the local window (--display sdl=on) and its test in a virtual X server
	libsdl2-dev xvfb xdotool
	# the web page's browser test (tests/ui/: Debian's Chromium, driven by npm's playwright-core)
	chromium
	# the manager (phyllod, phyllo): its state, its HTTP API, its client, image checksums
	libsqlite3-dev libmicrohttpd-dev libcurl4-gnutls-dev nettle-dev
	# benchmarks (bench/blk runs the host's fio inside its guest)
	fio
)

# The web page's noVNC comes from the npm registry (scripts/build-web.sh);
# Debian's npm only where no npm is installed (a machine may carry
# Node.js with its own npm, which Debian's package would conflict with).
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; then
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
