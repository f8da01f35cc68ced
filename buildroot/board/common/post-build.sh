#!/usr/bin/env bash
# Buildroot post-build: what image/build does for the Debian image, for a Pi target:
# RAUC config + keyring, release info and trusted OTA keys, the read-only root layout.
# Args: $1 = TARGET_DIR, $2 = board (rpi4 | rpi5). Keys come from $SMESHBOX_KEYS (default:
# <repo>/image/out/keys, as created by image/build).
set -euo pipefail
TARGET=$1
BOARD=$2
EXTERNAL=$(cd "$(dirname "$0")/../.." && pwd)
REPO=$(dirname "$EXTERNAL")
KEYS=${SMESHBOX_KEYS:-$REPO/image/out/keys}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/pyproject.toml")
COMPATIBLE=smeshbox-$BOARD-arm64

for f in ca.cert.pem release-1.key.pub release-2.key.pub; do
    [ -f "$KEYS/$f" ] || { echo "post-build: missing $KEYS/$f (run image/build or set SMESHBOX_KEYS)" >&2; exit 1; }
done
install -D -m 0644 "$EXTERNAL/board/$BOARD/rauc-system.conf" "$TARGET/etc/rauc/system.conf"
sed -i "s/@COMPATIBLE@/$COMPATIBLE/" "$TARGET/etc/rauc/system.conf"
install -D -m 0644 "$KEYS/ca.cert.pem" "$TARGET/etc/rauc/keyring.pem"
install -d "$TARGET/usr/lib/smeshbox/ota-keys"
for n in 1 2; do
    install -m 0644 "$KEYS/release-$n.key.pub" "$TARGET/usr/lib/smeshbox/ota-keys/release-$n.pub"
done
printf '{"version": "%s", "compatible": "%s"}\n' "$VERSION" "$COMPATIBLE" >"$TARGET/usr/lib/smeshbox/release.json"
# The Pi has no ESP: the boot partition holds the bootloader state instead.
sed -i '\|/boot/efi|d' "$TARGET/etc/fstab"
printf 'PARTLABEL=boot /boot vfat umask=0077,flush,nofail 0 0\n' >>"$TARGET/etc/fstab"
install -d "$TARGET/data" "$TARGET/boot" "$TARGET/var/lib/smeshbox" "$TARGET/etc/smeshbox"
# The shared overlay's units (the appliance, first boot, machine id, OTA gate): image/build enables
# the same ones in its chroot. Buildroot's own packages (avahi, networkd, ...) enable theirs.
SYSTEMCTL=${HOST_DIR:+$HOST_DIR/bin/}systemctl
[ -x "$(command -v "$SYSTEMCTL")" ] || SYSTEMCTL=systemctl
for unit in "$TARGET"/etc/systemd/system/smeshbox*.service; do
    "$SYSTEMCTL" --root="$TARGET" --quiet enable "$(basename "$unit")"
done
: >"$TARGET/etc/machine-id"
