#!/usr/bin/env bash
# Builds the cached Debian root tarball the host tests start from: a debootstrap minbase root
# with the given packages installed from Debian's mirror, services kept from starting
# (policy-rc.d), written atomically so a half-built image is never used.
# Usage: build-root.sh TARBALL SUITE MIRROR PACKAGE...
set -euo pipefail

tarball=$1 suite=$2 mirror=$3
shift 3
[[ -s $tarball ]] && exit 0

work=$(mktemp -d "${tarball%/*}/build.XXXXXX")
root=$work/root
cleanup() {
  local mount_point
  for mount_point in dev/pts dev sys proc; do
    if mountpoint -q "$root/$mount_point" 2>/dev/null; then umount -l "$root/$mount_point"; fi
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

debootstrap --variant=minbase "$suite" "$root" "$mirror"

# No init system runs in the test root: package scripts must not try to start daemons.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"

chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
chroot "$root" apt-get clean
: >"$root/etc/resolv.conf"

for mount_point in dev/pts dev sys proc; do umount "$root/$mount_point"; done
tar -C "$root" --numeric-owner --zstd -cf "$work/root.tar.zst" .
mv "$work/root.tar.zst" "$tarball"
