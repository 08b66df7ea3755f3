#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Builds a whole Debian 12 system, the way a user's VM image looks, for the
# end-to-end test that boots a real distribution (t-vmm-debian): systemd,
# udev, its own kernel and initramfs-tools initrd, root on virtio-blk.
#
#   tests/guest/build-debian.sh [OUTDIR]     (default: build/debian)
#
# How: mmdebstrap (minbase, plus systemd-sysv, udev, linux-image-amd64,
# iproute2, curl, procps) into a tarball; a few files added (below);
# `mkfs.ext4 -d` makes the root file system without mounting anything;
# `qemu-img convert -c` turns it into a compressed qcow2, as distributions
# ship their cloud images. Output in OUTDIR:
#
#   vmlinuz, initrd.img   the image's own kernel and initramfs
#   kernel-version        e.g. 6.1.0-50-amd64
#   rootfs.qcow2          ext4 (label "root"), 2 GiB virtual, compressed
#
# Added to the system: systemd-networkd with DHCP on every en*/eth* link,
# an empty root password, no getty on ttyS0 (the report's), and
# phyllo-check.service, which once the system
# is up prints "PHYLLO ..." report lines on the serial console (address,
# CPUs, failed units, an HTTP download from the host at 10.0.2.2 when the
# kernel command line has phyllo.url=URL, bytes from /dev/hwrng) and powers
# off. Keyed by apt's package lists and this script (OUTDIR/.stamp): with
# nothing changed a second run only checks and exits, and a new checkout
# copies the machine's cached build (~/.cache/phyllome/debian/KEY). It needs root (the
# chroot of mmdebstrap) and network access to deb.debian.org.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

OUT=${1:-$TOP/build/debian}
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
SUITE=bookworm
MIRROR=${PHYLLO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=systemd-sysv,udev,linux-image-amd64,iproute2,curl,procps

die() {
	echo "guest/build-debian.sh: $*" >&2
	exit 1
}

ensure_pkgs mmdebstrap e2fsprogs qemu-utils || die "cannot install the tools it needs"

exec 9>"$OUT.lock"
flock 9

sig=$({
	stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null || true
	echo "$SUITE $MIRROR $PACKAGES"
	cat "${BASH_SOURCE[0]}"
} | sha256sum | cut -d' ' -f1)
if [[ -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$sig" && -f "$OUT/rootfs.qcow2" ]]; then
	exit 0
fi
NEW=$OUT.new
rm -rf "$NEW"
trap 'rm -rf "$NEW"' EXIT
# publish: the finished $NEW becomes $OUT.
publish() {
	rm -rf "$OUT"
	mv "$NEW" "$OUT"
	trap - EXIT
}
# A build with the same key is kept per machine (PHYLLO_CACHE), so a new
# checkout (CI's clean clone) copies it instead of running mmdebstrap
# again; only the newest key is kept there.
CACHE=${PHYLLO_CACHE:-$HOME/.cache/phyllome}/debian
if [[ -f "$CACHE/$sig/.stamp" && -f "$CACHE/$sig/rootfs.qcow2" ]]; then
	cp -a "$CACHE/$sig" "$NEW"
	publish
	echo "guest: $OUT copied from $CACHE/$sig (built before with the same key)" >&2
	exit 0
fi
echo "guest: building $OUT (Debian $SUITE with systemd, mmdebstrap)" >&2
mkdir -p "$NEW"

mmdebstrap --quiet --variant=minbase --include="$PACKAGES" "$SUITE" "$NEW/rootfs.tar" "$MIRROR" ||
	die "mmdebstrap failed"
R=$NEW/root
mkdir -p "$R"
tar -C "$R" -xf "$NEW/rootfs.tar"
rm -f "$NEW/rootfs.tar"

ver=$(find "$R/boot" -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
[[ -n "$ver" && -f "$R/boot/initrd.img-$ver" ]] || die "no kernel and initrd in the system's /boot"
cp "$R/boot/vmlinuz-$ver" "$NEW/vmlinuz"
cp "$R/boot/initrd.img-$ver" "$NEW/initrd.img"
echo "$ver" >"$NEW/kernel-version"

echo phyllo-debian >"$R/etc/hostname"
printf 'LABEL=root / ext4 rw,errors=remount-ro 0 1\n' >"$R/etc/fstab"
sed -i 's/^root:[^:]*:/root::/' "$R/etc/shadow"
cat >"$R/etc/systemd/network/50-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=yes
EOF
cat >"$R/usr/local/sbin/phyllo-check" <<'EOF'
#!/bin/sh
# Reports on the serial console what the test checks, then powers off.
url=$(sed -n 's/.*phyllo\.url=\([^ ]*\).*/\1/p' /proc/cmdline)
for _ in $(seq 1 60); do
	ip -4 -o addr show scope global | grep -q inet && break
	sleep 1
done
echo "PHYLLO IP $(ip -4 -o addr show scope global | awk '{ print $4; exit }')"
echo "PHYLLO CPUS $(nproc)"
echo "PHYLLO KERNEL $(uname -r)"
echo "PHYLLO ROOT $(findmnt -n -o SOURCE /)"
systemctl --failed --no-legend --plain | sed 's/^/PHYLLO FAILED-UNIT /'
[ -n "$url" ] && echo "PHYLLO DOWNLOAD $(curl -sf -m 60 "$url" | md5sum | cut -d' ' -f1)"
echo "PHYLLO HWRNG $(head -c 8 /dev/hwrng | od -An -tx1 | tr -d ' \n')"
echo "PHYLLO CHECK-DONE"
systemctl poweroff
EOF
chmod 755 "$R/usr/local/sbin/phyllo-check"
cat >"$R/etc/systemd/system/phyllo-check.service" <<'EOF'
[Unit]
Description=Phyllome test report
After=multi-user.target
[Service]
Type=idle
ExecStart=/usr/local/sbin/phyllo-check
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/phyllo-check.service "$R/etc/systemd/system/multi-user.target.wants/"
ln -sf /lib/systemd/system/systemd-networkd.service "$R/etc/systemd/system/multi-user.target.wants/"
# No getty on ttyS0: agetty's vhangup() would cut the report's output off
# the tty it shares (seen: a run that printed none of its lines).
ln -sf /dev/null "$R/etc/systemd/system/serial-getty@ttyS0.service"

truncate -s 2G "$NEW/rootfs.raw"
mkfs.ext4 -q -F -L root -d "$R" "$NEW/rootfs.raw" || die "mkfs.ext4 -d failed"
rm -rf "$R"
qemu-img convert -c -O qcow2 "$NEW/rootfs.raw" "$NEW/rootfs.qcow2" || die "qemu-img convert failed"
rm -f "$NEW/rootfs.raw"
echo "$sig" >"$NEW/.stamp"
if mkdir -p "$CACHE" && rm -rf "$CACHE/$sig.new" && cp -a "$NEW" "$CACHE/$sig.new"; then
	find "$CACHE" -mindepth 1 -maxdepth 1 ! -name "$sig.new" -exec rm -rf {} +
	mv "$CACHE/$sig.new" "$CACHE/$sig"
else
	rm -rf "$CACHE/$sig.new"
	echo "guest: warning: could not keep a copy in $CACHE" >&2
fi
publish
