#!/usr/bin/env bash
# Buildroot post-image: assemble sdcard.img with genimage from the board's config, and leave what
# `python -m appliance.ota make-release --from BINARIES_DIR` needs beside it: release.json, and on
# the Pi 5 the slot-neutral boot image bootfs.vfat with its bundle hook (a Pi 4 keeps its kernel in
# the root, so its bundles carry the root only).
# Args: $1 = BINARIES_DIR, $2 = board (rpi4 | rpi5).
set -euo pipefail
BINARIES=$1
BOARD=$2
EXTERNAL=$(cd "$(dirname "$0")/../.." && pwd)
BOARD_DIR=$EXTERNAL/board/$BOARD
GENIMAGE_TMP=$BUILD_DIR/genimage.tmp

# An empty data filesystem, grown to the medium on first boot (smeshbox-firstboot.service).
rm -f "$BINARIES/data.ext4"
mkdir -p "$BINARIES/data-seed/var/log/journal" "$BINARIES/data-seed/var/lib/systemd" \
    "$BINARIES/data-seed/var/lib/smeshbox" "$BINARIES/data-seed/etc/smeshbox" "$BINARIES/data-seed/rauc"
mke2fs -q -t ext4 -b 4096 -m 0 -L data -d "$BINARIES/data-seed" "$BINARIES/data.ext4" 128M

if [ "$BOARD" = rpi4 ]; then
    cp "$BOARD_DIR/config.txt" "$BINARIES/rpi-firmware/config.txt"
else
    cp "$BOARD_DIR/autoboot.txt" "$BINARIES/autoboot.txt"
    for slot in A B; do
        sed "s/@SLOT@/$slot/g" "$BOARD_DIR/cmdline.txt" >"$BINARIES/cmdline-$slot.txt"
    done
    cp "$BOARD_DIR/cmdline.txt" "$BINARIES/cmdline-any.txt"
    install -m 0755 "$BOARD_DIR/bundle-hook.sh" "$BINARIES/bundle-hook.sh"
fi
# Version and compatible exactly as post-build recorded them in the root.
cp "$TARGET_DIR/usr/lib/smeshbox/release.json" "$BINARIES/release.json"

rm -rf "$GENIMAGE_TMP"
genimage --rootpath "$TARGET_DIR" --tmppath "$GENIMAGE_TMP" --inputpath "$BINARIES" \
    --outputpath "$BINARIES" --config "$BOARD_DIR/genimage.cfg"
